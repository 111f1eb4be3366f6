"""Event-time windows: a watermark derived from the events, and a sliding window that items
enter when the window's end passes them and leave when they are older than its span.

Timeline (span 10, window end moved to 12)::

    event time  0    2    4    6    8   10   12   14
    items       a         b              c         d
    live             [----------------------)          a left (at 0 < 12 - 10), b and c live
    pending                                       d    not live until the end passes 14

Nothing here reads a clock: time is whatever the events say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from streams.sorted_runs import SortedRuns

T = TypeVar("T")
K = TypeVar("K")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(at: datetime) -> int:
    """Milliseconds since the epoch: how times are stored in snapshots."""
    since = at - _EPOCH  # normalised: only `days` can be negative
    # The same as `since // timedelta(milliseconds=1)`, without building a timedelta per call.
    return since.days * 86_400_000 + since.seconds * 1000 + since.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """The inverse of `to_ms`, aware UTC."""
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass(slots=True)
class Watermark:
    """The event time before which the stream is taken as complete: latest event time minus `lateness`."""

    lateness: timedelta
    latest: datetime | None = None
    # The watermark, or None before the first event. Kept, not derived: every part of the core
    # reads it once per event.
    current: datetime | None = field(init=False)

    def __post_init__(self) -> None:
        """The watermark of `latest` (None before any event).

        Set here, not as the field's default: compiled by mypyc, such a default is never assigned.
        """
        self.current = None if self.latest is None else self.latest - self.lateness

    def observe(self, at: datetime) -> None:
        """Account for an event; the watermark never moves back."""
        if self.latest is None or at > self.latest:
            self.latest = at
            self.current = at - self.lateness


def boundaries(
    after: datetime | None, until: datetime, every: timedelta, *, span: timedelta | None = None
) -> list[datetime]:
    """Multiples of `every` since the epoch in `(after, until]`; only the last one when `after` is None.

    With `span`, a gap in event time longer than it does not step through every boundary in it:
    past the first `span / every + 1` boundaries nothing held before the gap can still change, so
    only the last boundary follows. (A stream spanning years, read minute by minute, would
    otherwise take millions of steps.) Pass the window's reach, not its bare length: an item
    still pending may lie `every + lateness` past the window's end, so callers pass
    `span + lateness + every`.

    >>> t = datetime(2024, 1, 1, 0, 2, 30, tzinfo=UTC)
    >>> [b.minute for b in boundaries(t - timedelta(minutes=2), t, timedelta(minutes=1))]
    [1, 2]
    >>> len(boundaries(t - timedelta(days=365), t, timedelta(minutes=1), span=timedelta(minutes=5)))
    7
    """
    if after is not None and until < after + every:
        return []  # the common case, per event: no boundary yet (and cheap to tell)
    last = _EPOCH + ((until - _EPOCH) // every) * every
    if after is None:
        return [last]
    first = _EPOCH + ((after - _EPOCH) // every + 1) * every
    count = max(0, (last - first) // every + 1)
    if span is not None and count > (keep := span // every + 2):
        return [*(first + i * every for i in range(keep - 1)), last]
    return [first + i * every for i in range(count)]


class Admission(Enum):
    """What `SlidingWindow.add` did with an item.

    PENDING: on time; it enters when the window's end passes it. LATE: older than the window's
    end but still inside the window, so it went live at once (records already emitted for past
    boundaries are not revised; later ones include it). DROPPED: older than the window's start.
    The window's work done ahead (`SlidingWindow.work_ahead`) adds two: AHEAD, on time but
    earlier than items already entered ahead, so it went live at once too; GONE, late and older
    than items already left ahead, so it entered and left at once (counted late, nothing to
    count in an aggregate).
    """

    PENDING = "pending"
    LATE = "late"
    DROPPED = "dropped"
    AHEAD = "ahead"
    GONE = "gone"


# The admissions after which the caller counts the item in its aggregates at once, and those it
# counts as late events.
ENTERED = frozenset({Admission.LATE, Admission.AHEAD})
LATE = frozenset({Admission.LATE, Admission.GONE})


def bump(counter: dict[K, int], key: K, by: int) -> None:
    """Add `by` to `counter[key]`, dropping the key at zero: aggregates that items entering and
    leaving a window update and revert end exactly empty, never holding zeros.
    """
    value = counter.get(key, 0) + by
    if value:
        counter[key] = value
    else:
        del counter[key]


class WindowChange(Generic[T]):
    """What one advance of a window did: items that became live and items that left, oldest first."""

    # A plain class, not a dataclass, like `SlidingWindow`: mypyc cannot compile a generic
    # dataclass (mypyc/mypyc#827).
    __slots__ = ("entered", "left")

    def __init__(self, entered: list[T], left: list[T]) -> None:
        """The items that entered and those that left."""
        self.entered = entered
        self.left = left

    def __eq__(self, other: object) -> bool:
        """Equal when the same items entered and left, in the same order."""
        if not isinstance(other, WindowChange):
            return NotImplemented
        return bool(self.entered == other.entered and self.left == other.left)

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __len__(self) -> int:
        """How many moves: items that entered plus items that left."""
        return len(self.entered) + len(self.left)

    def __repr__(self) -> str:
        """Both lists."""
        return f"WindowChange(entered={self.entered!r}, left={self.left!r})"

    def apply(self, enter: Callable[[T], None], leave: Callable[[T], None]) -> None:
        """Count each entered item with `enter`, then revert each left one with `leave`, oldest
        first: an item that entered and left in one advance is then counted and reverted.
        """
        for item in self.entered:
            enter(item)
        for item in self.left:
            leave(item)


class SlidingWindow(Generic[T]):
    """Items stamped with event time; live are those with `at` in `[end - span, end)`.

    Items are added in any order; `advance(end)` moves the window's end forward and reports what
    entered and left, so aggregates are updated and reverted incrementally, never recomputed.
    An item older than the current end is late; see `Admission` for the policy.

    `work_ahead(until, limit)` does part of the next advance's work early, in slices: the
    entering and leaving `advance(until)` would do. The aggregates then hold, between the two,
    items of both windows; for a caller whose aggregates are a function of the live items (not
    of the order they came in) and are read only after `advance`, that is invisible: what every
    advance leaves live, and which items count as late, are the same. It spreads the work of a
    boundary over the quiet time before it.

    Timeline (span 10, end 12, worked ahead until 14)::

        event time  0    2    4    6    8   10   12   14
        items       a         b              c    d    e
        live                  [----------------------)     a left and d entered ahead of time
        pending                                        e   not live until the end passes 14
    """

    # A plain class: mypyc cannot compile a generic dataclass (mypyc/mypyc#827).
    __slots__ = ("_gone", "_live", "_pending", "_seq", "end", "span")

    def __init__(self, span: timedelta, end: datetime | None = None) -> None:
        """An empty window of `span`, ending at `end` (None: before the first advance)."""
        self.span = span
        self.end = end
        # Both in sorted runs, out of the garbage collector's sight: a window holds millions.
        self._pending: SortedRuns[tuple[datetime, int, T]] = SortedRuns()
        self._live: SortedRuns[tuple[datetime, int, T]] = SortedRuns()
        self._seq = 0  # ties in time keep the order items came in
        # Every item earlier than this has left, ahead of the next advance (None: none early).
        self._gone: datetime | None = None

    def __repr__(self) -> str:
        """The span, the end and how many items are held."""
        return f"SlidingWindow(span={self.span!r}, end={self.end!r}, held={len(self)})"

    def add(self, item: T, at: datetime) -> Admission:
        """Hold `item` until the end passes `at`, or admit it live at once when it is late (or
        earlier than items entered ahead of time).
        """
        entry = (at, self._seq, item)
        live = self._live
        if self.end is None or at >= self.end:
            self._seq += 1
            if not live or at >= live.last()[0]:  # the common case: later than every live item
                self._pending.push(entry)
                return Admission.PENDING
            live.push(entry)
            return Admission.AHEAD
        if at < self.end - self.span:
            return Admission.DROPPED
        self._seq += 1
        if self._gone is not None and at < self._gone:
            return Admission.GONE
        live.push(entry)
        return Admission.LATE

    def work_ahead(self, until: datetime, limit: int, *, leaving: bool = True) -> WindowChange[T]:
        """Do at most `limit` moves (an item entering or leaving) of what `advance(until)` will
        do, and return them. Leaving waits for nothing on time: it stops at the current end.
        Without `leaving`, only items enter: for a caller that still looks items up until the
        advance makes them leave.

        Only when the caller's aggregates are a function of the live items, read only after
        `advance`, and `until` does not pass the next advance's end (see the class docstring).
        """
        entered: list[T] = []
        left: list[T] = []
        if self.end is None or until <= self.end:
            return WindowChange(entered, left)
        pending, live = self._pending, self._live
        while limit and pending and pending.first()[0] < until:
            entry = pending.pop()
            live.push(entry)
            entered.append(entry[2])
            limit -= 1
        if not leaving:
            return WindowChange(entered, left)
        start = min(until - self.span, self.end)  # items on time never leave before they enter
        while limit and live and live.first()[0] < start:
            left.append(live.pop()[2])
            limit -= 1
        gone = live.first()[0] if live and live.first()[0] < start else start
        if self._gone is None or gone > self._gone:
            self._gone = gone
        return WindowChange(entered, left)

    def advance(self, end: datetime) -> WindowChange[T]:
        """Move the end to `end` (never backwards) and return what entered and what left."""
        if self.end is not None and end <= self.end:
            return WindowChange([], [])
        self.end = end
        self._gone = None  # everything earlier than the new start has left
        pending, live = self._pending, self._live
        entered: list[T] = []
        while pending and pending.first()[0] < end:
            entry = pending.pop()
            live.push(entry)
            entered.append(entry[2])
        left: list[T] = []
        start = end - self.span
        while live and live.first()[0] < start:
            left.append(live.pop()[2])
        # An item can enter and leave in one advance when the end jumps past it by more than the
        # span; it is reported in both lists so that update-then-revert stays balanced.
        return WindowChange(entered, left)

    def live(self) -> list[T]:
        """The live items, oldest first: replayed in this order, they rebuild a restored state's
        aggregates exactly.
        """
        return [item for _, _, item in self._live]

    def items(self) -> Iterator[tuple[datetime, T]]:
        """Every held item with its time, live first, then pending, each oldest first."""
        for at, _, item in self._live:
            yield at, item
        for at, _, item in self._pending:
            yield at, item

    def __len__(self) -> int:
        """Held items, live and pending."""
        return len(self._live) + len(self._pending)

    def snapshot(self, encode: Callable[[T], Any] = lambda item: item) -> dict[str, Any]:
        """Plain data from which `restore` rebuilds an identical window."""
        return {
            "span_ms": self.span // timedelta(milliseconds=1),
            "end_ms": None if self.end is None else to_ms(self.end),
            "seq": self._seq,
            "gone_ms": None if self._gone is None else to_ms(self._gone),
            "live": [[to_ms(at), seq, encode(item)] for at, seq, item in self._live],
            "pending": [[to_ms(at), seq, encode(item)] for at, seq, item in self._pending],
        }

    @classmethod
    def restore(
        cls, data: dict[str, Any], decode: Callable[[Any], T] = lambda item: item
    ) -> SlidingWindow[T]:
        """The window `snapshot` described."""
        window: SlidingWindow[T] = cls(
            span=timedelta(milliseconds=data["span_ms"]),
            end=None if data["end_ms"] is None else from_ms(data["end_ms"]),
        )
        window._seq = data["seq"]
        gone_ms = data.get("gone_ms")  # absent from snapshots taken before work ahead existed
        window._gone = None if gone_ms is None else from_ms(gone_ms)
        for ms, seq, item in data["live"]:
            window._live.push((from_ms(ms), seq, decode(item)))
        for ms, seq, item in data["pending"]:
            window._pending.push((from_ms(ms), seq, decode(item)))
        return window
