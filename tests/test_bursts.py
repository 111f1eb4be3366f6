"""Per-hashtag burst z-scores: steady and jumping rates, new tags, a brute-force oracle, restore."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.hashtags.bursts import BurstTracker

t0 = datetime(2024, 1, 1, tzinfo=UTC)
minute = timedelta(minutes=1)

# Deterministic: the same examples on every run and machine, and no example database.
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=150)

Step = tuple[str, str, int]
"""("use", tag, offset_s after t0) or ("close", "", k): close the buckets ending by minute k."""


@st.composite
def steps(draw: st.DrawFn) -> list[Step]:
    """Draw uses roughly in time order, a few swapped, with closes driven by the latest use.

    A close after a use at minute m closes through minute m + 1 - lag; closes that are not
    ahead of the last one are skipped by the callers, and swapped uses can land in closed buckets.
    """
    offsets = sorted(draw(st.lists(st.integers(0, 20 * 60 - 1), min_size=1, max_size=80)))
    count = len(offsets)
    tags = draw(st.lists(st.sampled_from("abc"), min_size=count, max_size=count))
    for i, j in draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=10)):
        offsets[i], offsets[j] = offsets[j], offsets[i]
    close_after = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    lag = draw(st.integers(0, 2))
    ops: list[Step] = []
    latest = 0
    for k, (tag, offset_s) in enumerate(zip(tags, offsets, strict=True)):
        ops.append(("use", tag, offset_s))
        latest = max(latest, offset_s)
        if close_after[k]:
            ops.append(("close", "", latest // 60 + 1 - lag))
    return ops


def feed(tracker: BurstTracker, counts_per_minute: dict[str, list[int]]) -> list[dict[str, float]]:
    """Use each tag counts[i] times in minute i after t0, closing each minute; return the scores."""
    scores = []
    for i in range(max(len(counts) for counts in counts_per_minute.values())):
        for tag, counts in counts_per_minute.items():
            for _ in range(counts[i] if i < len(counts) else 0):
                assert tracker.observe(tag, t0 + i * minute + timedelta(seconds=30))
        scores.append(tracker.close_bucket(t0 + (i + 1) * minute))
    return scores


@pytest.mark.parametrize("pattern", [[5], [1], [4, 6], [20, 18, 22, 20]])
def test_steady_rate_scores_near_zero(pattern):
    """A tag used at a steady rate (constant, or with small swings) keeps |z| <= 1 after warm-up."""
    # bucket 1 min, history 12; the pattern repeats for 24 minutes:
    #
    #   minute   0   1   2   3  ...  23
    #   #a       5   5   5   5  ...   5     z = (5 - 5) / max(0, sqrt(5), 1) = 0
    tracker = BurstTracker(bucket=minute, history=12)
    scores = feed(tracker, {"a": (pattern * 24)[:24]})
    assert scores[0] == {}  # the first bucket has no history to compare with
    assert all(abs(z["a"]) <= 1 for z in scores[1:])


@pytest.mark.parametrize("rate", [1, 3, 10, 100])
def test_tenfold_jump_in_one_bucket_scores_above_three(rate):
    """A tag whose rate jumps tenfold in one bucket scores z > 3, as the Poisson floor gives."""
    # bucket 1 min, history 12:
    #
    #   minute   0  ...  12   13
    #   #a       r  ...   r   10r      z = (10r - r) / max(0, sqrt(r), 1) = 9 sqrt(r) >= 9
    tracker = BurstTracker(bucket=minute, history=12)
    scores = feed(tracker, {"a": [rate] * 13 + [10 * rate]})
    assert scores[-1]["a"] > 3
    assert scores[-1]["a"] == pytest.approx(9 * rate / max(math.sqrt(rate), 1))


@pytest.mark.parametrize("count", [1, 2, 50])
def test_brand_new_tag_scores_its_count_finitely(count):
    """A tag never seen before gets z = its count (mean 0, floor 1): finite, never inf or nan."""
    # bucket 1 min, history 12:
    #
    #   minute   0   1   2   3
    #   #a       5   5   5   5
    #   #new                 n      z = (n - 0) / max(0, sqrt(0), 1) = n
    tracker = BurstTracker(bucket=minute, history=12)
    scores = feed(tracker, {"a": [5, 5, 5, 5], "new": [0, 0, 0, count]})
    assert math.isfinite(scores[-1]["new"])
    assert scores[-1]["new"] == count


def test_tag_is_forgotten_after_its_history_passes():
    """A tag absent for `history` buckets leaves no state, and on its return it scores as new."""
    # bucket 1 min, history 3:
    #
    #   minute   0   1   2   3   4   5   6
    #   #a       4                       4     history of minute 6 is 3..5: all 0, so z = 4
    #   #b       1   1   1   1   1   1   1
    tracker = BurstTracker(bucket=minute, history=3)
    scores = feed(tracker, {"a": [4, 0, 0, 0, 0, 0], "b": [1] * 6})
    assert all(tag == "b" for _, tag, _ in tracker.snapshot()["recent"])
    assert scores[-1] == {"b": 0.0}
    assert feed_more(tracker, 6, {"a": 4, "b": 1}) == {"a": 4.0, "b": 0.0}


def test_quiet_stream_keeps_no_history():
    """Closing `history` empty buckets after the last use leaves no counts in the state."""
    # bucket 1 min, history 3: after closing through minute 4, minutes 1..3 hold nothing.
    tracker = BurstTracker(bucket=minute, history=3)
    feed(tracker, {"a": [2, 2]})
    assert [(tag, count) for _, tag, count in tracker.snapshot()["recent"]] == [("a", 2), ("a", 2)]
    assert tracker.close_until(t0 + 5 * minute) == []
    assert tracker.snapshot()["recent"] == []


def feed_more(tracker: BurstTracker, i: int, counts: dict[str, int]) -> dict[str, float]:
    """Use each tag its count in minute i after t0, close that minute, and return its scores."""
    for tag, count in counts.items():
        for _ in range(count):
            tracker.observe(tag, t0 + i * minute)
    return tracker.close_bucket(t0 + (i + 1) * minute)


def test_use_in_a_closed_bucket_is_late():
    """A use stamped before the last close is refused and counted in late_uses."""
    tracker = BurstTracker(bucket=minute)
    tracker.observe("a", t0)
    tracker.close_until(t0 + 2 * minute)
    assert tracker.closed_until == t0 + 2 * minute
    assert not tracker.observe("a", t0 + minute)
    assert tracker.late_uses == 1
    assert tracker.observe("a", t0 + 2 * minute)


def test_close_must_be_a_new_bucket_boundary():
    """Closing at a time that is not a bucket boundary, or not after the last close, is an error."""
    tracker = BurstTracker(bucket=minute)
    with pytest.raises(ValueError, match="not a multiple"):
        tracker.close_until(t0 + timedelta(seconds=90))
    tracker.close_until(t0 + minute)
    with pytest.raises(ValueError, match="already closed"):
        tracker.close_until(t0 + minute)


@pytest.mark.parametrize(("bucket", "history"), [(timedelta(0), 12), (minute, 0)])
def test_parameters_are_checked(bucket, history):
    """A bucket that is not positive or a history shorter than one bucket is rejected."""
    with pytest.raises(ValueError, match="must be"):
        BurstTracker(bucket=bucket, history=history)


def run(tracker: BurstTracker, ops: list[Step]) -> list[object]:
    """Apply each step to `tracker`, returning what each gave (closes not ahead are skipped)."""
    out: list[object] = []
    for op, tag, value in ops:
        if op == "use":
            out.append(tracker.observe(tag, t0 + timedelta(seconds=value)))
        elif tracker.closed_until is None or t0 + value * minute > tracker.closed_until:
            out.append(tracker.close_until(t0 + value * minute))
    return out


@deterministic
@given(steps(), st.integers(1, 5))
def test_scores_equal_a_brute_force_over_every_closed_bucket(ops, history):
    """Each bucket's z-scores equal mean and pstdev recomputed from every accepted use."""
    tracker = BurstTracker(bucket=minute, history=history)
    uses: Counter[tuple[str, int]] = Counter()  # (tag, minute) -> accepted uses
    closed = None
    for op, tag, value in ops:
        if op == "use":
            index = value // 60
            accepted = tracker.observe(tag, t0 + timedelta(seconds=value))
            assert accepted is (closed is None or index >= closed)
            uses[tag, index] += accepted
            continue
        if closed is not None and value <= closed:
            continue
        first = min((i for (_, i), n in uses.items() if n), default=None)
        expected = []
        for index in sorted({i for (_, i), n in uses.items() if n and i < value}):
            if (closed is not None and index < closed) or first is None or index == first:
                continue
            n = min(history, index - first)
            scores = {}
            for t in sorted({t for (t, i), c in uses.items() if i == index and c}):
                past = [uses[t, j] for j in range(index - n, index)]
                mean, std = statistics.fmean(past), statistics.pstdev(past)
                scores[t] = (uses[t, index] - mean) / max(std, math.sqrt(mean), 1)
            expected.append((t0 + (index + 1) * minute, pytest.approx(scores)))
        assert tracker.close_until(t0 + value * minute) == expected
        closed = value
        # Only the counts a future bucket can look back on are kept.
        assert all(i >= closed - history for i, _, _ in tracker.snapshot()["recent"])


@deterministic
@given(steps(), st.integers(0, 100), st.integers(1, 5))
def test_restored_tracker_continues_as_if_never_stopped(ops, split, history):
    """Snapshot (through JSON), restore and continue gives the same scores as one run."""
    never_stopped = BurstTracker(bucket=minute, history=history)
    expected = run(never_stopped, ops)
    before = BurstTracker(bucket=minute, history=history)
    outputs = run(before, ops[:split])
    restored = BurstTracker.restore(json.loads(json.dumps(before.snapshot())))
    assert restored.snapshot() == before.snapshot()
    outputs += run(restored, ops[split:])
    assert outputs == expected
    assert restored.snapshot() == never_stopped.snapshot()
