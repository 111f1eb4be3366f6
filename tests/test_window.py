"""Event-time windows: the watermark, emission boundaries, sliding-window admission and expiry, restore."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.window import ENTERED, LATE, Admission, SlidingWindow, Watermark, WindowChange, boundaries

t0 = datetime(2024, 1, 1, tzinfo=UTC)  # a multiple of every cadence used here since the epoch
second = timedelta(seconds=1)

# Deterministic: the same examples on every run and machine, and no example database.
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=300)


def t(seconds: float) -> datetime:
    """The time `seconds` after t0."""
    return t0 + seconds * second


# --- Watermark -------------------------------------------------------------------------------


def test_watermark_is_none_before_the_first_event():
    """Before any event there is no watermark."""
    assert Watermark(lateness=5 * second).current is None


def test_watermark_lags_the_latest_event_by_the_lateness():
    """The watermark is the latest event time minus the allowed lateness."""
    watermark = Watermark(lateness=5 * second)
    watermark.observe(t(20))
    assert watermark.current == t(15)


def test_watermark_never_moves_back_for_an_older_event():
    """An event older than the latest leaves the latest event time and the watermark unchanged."""
    #   event time   0    5   10   15   20
    #   events                          x      then y at 3: still latest 20, watermark 15
    watermark = Watermark(lateness=5 * second)
    watermark.observe(t(20))
    watermark.observe(t(3))
    assert (watermark.latest, watermark.current) == (t(20), t(15))


# --- boundaries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "expected"),
    [(t(29), t(0)), (t(30), t(30)), (t(31), t(30)), (t(89.5), t(60))],
)
def test_first_boundaries_call_returns_only_the_last_boundary(until, expected):
    """With no previous boundary, only the last multiple of the cadence at or before `until` is returned."""
    assert boundaries(None, until, 30 * second) == [expected]


@pytest.mark.parametrize(
    ("after", "until", "expected"),
    [
        # every 30 s:  0        30        60        90       120
        #              |---------|---------|---------|---------|
        (t(0), t(29), []),  # no multiple in (0, 29]
        (t(0), t(30), [t(30)]),  # `until` on a multiple: included
        (t(30), t(30), []),  # `after` on a multiple: excluded
        (t(30), t(59), []),
        (t(0), t(95), [t(30), t(60), t(90)]),
        (t(10), t(120), [t(30), t(60), t(90), t(120)]),
        (t(90), t(60), []),  # `until` before `after`: nothing, never a negative range
    ],
)
def test_boundaries_are_the_multiples_in_the_half_open_range(after, until, expected):
    """Later calls return every multiple of the cadence in `(after, until]`, in order."""
    assert boundaries(after, until, 30 * second) == expected


# --- SlidingWindow: units --------------------------------------------------------------------


@pytest.fixture
def window() -> SlidingWindow[str]:
    """An empty window of span 10 s."""
    return SlidingWindow(10 * second)


def live(window: SlidingWindow[str]) -> list[str]:
    """The live items (those before the window's end), oldest first."""
    return [item for at, item in window.items() if window.end is not None and at < window.end]


def test_items_added_before_the_first_advance_are_pending(window):
    """Before the window has an end, every item is held pending and none is live."""
    assert window.add("a", t(2)) is Admission.PENDING
    assert (len(window), live(window)) == (1, [])


def test_item_enters_only_once_the_end_passes_it(window):
    """An item at `at` becomes live at the first advance to an end after `at` (the end is exclusive)."""
    #   event time   0    2    4    6    8   10   12   14
    #   items                             b@8          c@13
    #   end -> 8:    b not live (end exclusive); end -> 9: b enters; c still pending
    window.add("b", t(8))
    window.add("c", t(13))
    assert window.advance(t(8)) == WindowChange([], [])
    assert window.advance(t(9)) == WindowChange(["b"], [])
    assert live(window) == ["b"]


@pytest.mark.parametrize(("end", "still_live"), [(12, True), (13, False)])
def test_item_leaves_once_older_than_the_span(window, end, still_live):
    """A live item stays while `at >= end - span` and leaves after (the start is inclusive)."""
    #   event time   0    2    4    6    8   10   12   14
    #   items             a
    #   end 12:           [---------------------)         a live (2 >= 12 - 10)
    #   end 13:             [---------------------)       a left (2 < 13 - 10)
    window.add("a", t(2))
    window.advance(t(5))
    change = window.advance(t(end))
    assert change.left == ([] if still_live else ["a"])
    assert live(window) == (["a"] if still_live else [])


def test_item_passed_in_one_jump_is_reported_entered_and_left(window):
    """An item the end jumps past by more than the span is reported in both lists, so reverts balance."""
    #   event time   0    2    4   ...  30
    #   items             a    b
    #   end 0 -> 30:                    [30 - 10, 30): a and b enter and leave in one advance
    window.add("a", t(2))
    window.add("b", t(4))
    window.advance(t(0))
    assert window.advance(t(30)) == WindowChange(["a", "b"], ["a", "b"])
    assert len(window) == 0


@pytest.fixture
def window_ending_at_12(window) -> SlidingWindow[str]:
    """A window of span 10 s with end 12, live items a@2 and c@8."""
    #   event time   0    2    4    6    8   10   12
    #   live              a[--------------c------)
    window.add("a", t(2))
    window.add("c", t(8))
    window.advance(t(12))
    return window


@pytest.mark.parametrize("at", [2, 5, 11.999])
def test_late_item_inside_the_window_goes_live_at_once_in_time_order(window_ending_at_12, at):
    """An item older than the end but not than the start is LATE and live at once, in time order."""
    assert window_ending_at_12.add("b", t(at)) is Admission.LATE
    assert [at for at, _ in window_ending_at_12.items()] == sorted([t(2), t(8), t(at)])
    assert sorted(live(window_ending_at_12)) == ["a", "b", "c"]


def test_late_item_leaves_when_older_than_the_span(window_ending_at_12):
    """A late item leaves at the same end as an on-time item at its time would, in time order."""
    #   event time   0    2    4    6    8   10   12   14   16   18
    #   live              a       b@5     c     end
    #   end 13: a leaves (2 < 3); end 16: b leaves (5 < 6); end 19: c leaves (8 < 9)
    window_ending_at_12.add("b", t(5))
    left_at = {item: end for end in range(13, 20) for item in window_ending_at_12.advance(t(end)).left}
    assert left_at == {"a": 13, "b": 16, "c": 19}


@pytest.mark.parametrize("at", [-5, 1, 1.999])
def test_item_older_than_the_window_start_is_dropped(window_ending_at_12, at):
    """An item older than `end - span` is DROPPED and never held."""
    assert window_ending_at_12.add("z", t(at)) is Admission.DROPPED
    assert "z" not in [item for _, item in window_ending_at_12.items()]


def test_advance_never_moves_backwards(window_ending_at_12):
    """Advancing to an end at or before the current one changes nothing, not even the end."""
    window_ending_at_12.add("d", t(12))
    assert window_ending_at_12.advance(t(5)) == WindowChange([], [])
    assert window_ending_at_12.advance(t(12)) == WindowChange([], [])
    assert window_ending_at_12.end == t(12)
    assert window_ending_at_12.add("e", t(9)) is Admission.LATE  # still judged against end 12


# --- SlidingWindow: oracle and round trip -----------------------------------------------------

Op = tuple[str, int]
"""("add", at_s) adds the next item at t(at_s); ("advance", end_s) advances to t(end_s)."""

ops = st.lists(
    st.tuples(st.sampled_from(["add", "add", "advance"]), st.integers(-5, 60)), min_size=1, max_size=60
)
spans = st.integers(1, 20)


def apply(window: SlidingWindow[str], op: Op, name: str) -> Admission | WindowChange[str]:
    """Run one operation; an added item is called `name`."""
    kind, seconds = op
    return window.add(name, t(seconds)) if kind == "add" else window.advance(t(seconds))


@deterministic
@given(span_s=spans, steps=ops)
def test_live_items_equal_admitted_items_in_the_window_recomputed(span_s, steps):
    """After every operation, entered-or-late minus left is the admitted items in `[end - span, end)`."""
    window: SlidingWindow[str] = SlidingWindow(span_s * second)
    end: int | None = None
    admitted: dict[str, int] = {}
    reported: Counter[str] = Counter()
    for i, op in enumerate(steps):
        kind, seconds = op
        name = f"i{i}"
        result = apply(window, op, name)
        if kind == "add":
            if end is None or seconds >= end:
                expected = Admission.PENDING
            elif seconds >= end - span_s:
                expected = Admission.LATE
                reported[name] += 1  # live at once: callers count it as entered here
            else:
                expected = Admission.DROPPED
            assert result is expected
            if expected is not Admission.DROPPED:
                admitted[name] = seconds
        else:
            assert isinstance(result, WindowChange)
            end = seconds if end is None else max(end, seconds)
            reported.update(result.entered)
            reported.subtract(result.left)
        in_window = Counter(
            name for name, at_s in admitted.items() if end is not None and end - span_s <= at_s < end
        )
        assert +reported == in_window
        assert min(reported.values(), default=0) >= 0  # nothing left that had not entered
        assert window.end == (None if end is None else t(end))


@deterministic
@given(span_s=spans, steps=ops, data=st.data())
def test_restored_window_continues_as_if_never_stopped(span_s, steps, data):
    """Snapshot (via JSON) and restore anywhere, then continue: same results and state as never stopping."""
    split = data.draw(st.integers(0, len(steps)), label="split")
    never_stopped: SlidingWindow[str] = SlidingWindow(span_s * second)
    expected = [apply(never_stopped, op, f"i{i}") for i, op in enumerate(steps)]

    first: SlidingWindow[str] = SlidingWindow(span_s * second)
    for i, op in enumerate(steps[:split]):
        apply(first, op, f"i{i}")
    restored: SlidingWindow[str] = SlidingWindow.restore(json.loads(json.dumps(first.snapshot())))
    resumed = [apply(restored, op, f"i{i}") for i, op in enumerate(steps[split:], start=split)]

    assert resumed == expected[split:]
    assert restored.end == never_stopped.end
    assert live(restored) == live(never_stopped)
    assert restored.snapshot() == never_stopped.snapshot()


# --- SlidingWindow: work ahead ----------------------------------------------------------------

ahead_ops = st.lists(
    st.tuples(st.sampled_from(["add", "add", "add", "advance", "ahead"]), st.integers(-5, 60)),
    min_size=1,
    max_size=80,
)


def counted_at_advances(
    window: SlidingWindow[str], steps: list[Op], *, ahead: bool = True, split: int | None = None
):
    """Run `steps` as an aggregate would, counting entered-or-admitted minus left; ("ahead", n)
    works ahead by n % 4 moves until the next advance's end (when `ahead`). Return, per advance,
    the counted items, and per add, whether it counted as late. With `split`, snapshot (via
    JSON) and restore the window before that step.
    """
    counted: Counter[str] = Counter()
    at_advances: list[Counter[str]] = []
    late: list[bool] = []
    for i, (kind, seconds) in enumerate(steps):
        if i == split:
            window = SlidingWindow.restore(json.loads(json.dumps(window.snapshot())))
        if kind == "add":
            admission = window.add(f"i{i}", t(seconds))
            late.append(admission in LATE)
            if admission in ENTERED:
                counted[f"i{i}"] += 1
        elif kind == "advance":
            moves = window.end is None or t(seconds) > window.end
            change = window.advance(t(seconds))
            counted.update(change.entered)
            counted.subtract(change.left)
            if moves:  # where aggregates are read: an advance that does not move reads nothing new
                at_advances.append(+counted)
        elif ahead:
            later = [
                s for k, s in steps[i + 1 :] if k == "advance" and (window.end is None or t(s) > window.end)
            ]
            if later:  # the next advance that moves the end: work ahead no further
                change = window.work_ahead(t(later[0]), seconds % 4)
                assert len(change) <= seconds % 4
                counted.update(change.entered)
                counted.subtract(change.left)
    return at_advances, late


@deterministic
@given(span_s=spans, steps=ahead_ops, data=st.data())
def test_work_ahead_is_invisible_at_every_advance(span_s, steps, data):
    """Working ahead in slices, anywhere, and restoring in between, leaves exactly the same items
    counted after every advance, and the same adds counted late, as never working ahead.
    """
    expected, expected_late = counted_at_advances(SlidingWindow(span_s * second), steps, ahead=False)
    split = data.draw(st.integers(0, len(steps)), label="split")
    for restore_at in (None, split):
        got, late = counted_at_advances(SlidingWindow(span_s * second), steps, split=restore_at)
        assert got == expected
        assert late == expected_late


def test_item_earlier_than_items_entered_ahead_goes_live_at_once():
    """An on-time item earlier than one entered ahead goes live at once; a late one older than
    what left ahead is gone.

    Timeline (span 10, end 12, worked ahead until 14)::

        event time   2    3    4   12   12.5   13   14
        items        a    y    b         x     c    z    c entered, a left, ahead of time;
        live                   [-----------------)       x and z came after: x went live at
                                                         once (AHEAD), y was gone, z waits
    """
    window: SlidingWindow[str] = SlidingWindow(10 * second)
    for name, at in (("a", 2), ("b", 4), ("c", 13)):
        window.add(name, t(at))
    window.advance(t(12))
    assert window.work_ahead(t(14), 10) == WindowChange(["c"], ["a"])
    assert window.add("x", t(12.5)) is Admission.AHEAD
    assert window.add("y", t(3)) is Admission.GONE
    assert window.add("z", t(14)) is Admission.PENDING
    assert window.advance(t(14)) == WindowChange([], [])
    assert window.live() == ["b", "x", "c"]
