"""Per-hashtag counts over a rolling event-time window.

For each hashtag: `count`, the tweets that used it, and `users`, the distinct users who did, over
`[end - span, end)`. The window's end follows the watermark (latest event time minus the allowed
lateness) and stops at each multiple of the emission cadence, where the hashtags whose numbers
changed are emitted. Because the end only passes a time once every event before it has arrived
(within the lateness), boundary records do not depend on arrival order: a replay gives the same
numbers as the live run.

Late events (older than the window's end) are counted in `late_events`; those still inside the
window join it at once and show in the next records, those older than the window are dropped
(`dropped_events`). Either way the final view of a stream does not depend on arrival order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.records import HashtagCount, Trigger
from streams.window import (
    ENTERED,
    LATE,
    Admission,
    SlidingWindow,
    Watermark,
    boundaries,
    bump,
    from_ms,
    to_ms,
)

Use = str
"""One use of a hashtag: the tag, NUL, the user id (no tag holds NUL: `models.hashtags`).

A string, not a pair: the garbage collector stops tracking a window entry only once it has found
everything inside it untracked, and it reaches the entry before the pair, so an entry holding a
pair stayed tracked into the middle generation, and a million of them were walked there again.
"""

_SEPARATOR = "\0"


def _split(use: Use) -> tuple[str, str]:
    """(tag, user id) of a use."""
    tag, _, user = use.partition(_SEPARATOR)
    return tag, user


_EPSILON = timedelta(milliseconds=1)  # `view`'s window ends just after the latest event


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagWindowConfig:
    """The window's parameters: `span` of the window, allowed `lateness`, emission cadence `every`."""

    span: timedelta = timedelta(minutes=15)
    lateness: timedelta = timedelta(seconds=10)
    every: timedelta = timedelta(seconds=30)


@dataclass(slots=True)
class HashtagCounts:
    """The rolling hashtag counts of one stream (or one partition of it)."""

    config: HashtagWindowConfig
    late_events: int = 0
    dropped_events: int = 0
    _window: SlidingWindow[Use] = field(init=False)
    _watermark: Watermark = field(init=False)
    _counts: Counter[str] = field(default_factory=Counter)
    # Plain dicts of str to int, which the garbage collector does not track (a Counter it would
    # walk, entry by entry): together they hold every distinct (tag, user) in the window.
    _users: dict[str, dict[str, int]] = field(default_factory=dict)
    # Tags touched since the last boundary, with the numbers they had then (what was last emitted):
    # a boundary emits only those whose numbers differ, so one use leaving as another enters is silent.
    _changed: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Start empty."""
        self._window = SlidingWindow(self.config.span)
        self._watermark = Watermark(self.config.lateness)

    def observe(self, tags: Iterable[str], user_id: str, at: datetime) -> list[HashtagCount]:
        """Add one tweet's hashtags; return the records of every boundary the watermark passed."""
        tags = tuple(tags)
        if not tags:  # most tweets: only the watermark moves
            self._watermark.observe(at)
            return self._emit_due()
        # A tweet counts once per tag however often it names it (`dict.fromkeys` keeps the order).
        uses = dict.fromkeys(f"{tag}{_SEPARATOR}{user_id}" for tag in tags)
        admissions = {use: self._window.add(use, at) for use in uses}
        for use, admission in admissions.items():
            if admission in ENTERED:
                self._add(use)
        if any(admission in LATE for admission in admissions.values()):
            self.late_events += 1
        elif Admission.DROPPED in admissions.values():
            self.dropped_events += 1
        self._watermark.observe(at)
        return self._emit_due()

    def _emit_due(self) -> list[HashtagCount]:
        watermark = self._watermark.current
        if watermark is None:
            return []
        end = self._window.end
        if end is not None and watermark < end + self.config.every:
            return []  # the common case, per event: no boundary passed (as `boundaries` would say)
        records: list[HashtagCount] = []
        # Across a gap, skip only boundaries where nothing can change: events still pending are up
        # to `every + lateness` past the end, so they enter and leave within that much more than
        # `span` (the span alone loses the record of a pending tag leaving the window).
        reach = self.config.span + self.config.lateness + self.config.every
        for end in boundaries(self._window.end, watermark, self.config.every, span=reach):
            self._window.advance(end).apply(self._add, self._remove)
            changed = sorted(tag for tag, before in self._changed.items() if self._numbers(tag) != before)
            records.extend(self._records(changed, end, Trigger.BOUNDARY))
            self._changed.clear()
        return records

    def work_ahead(self, limit: int) -> int:
        """Do at most `limit` moves (a use entering or leaving the window) of the next boundary's
        work now; return how many were done. Invisible to the records: the counts depend only on
        which uses are live, and are read at boundaries (`SlidingWindow.work_ahead`). The window
        moves no further than the next boundary, nor than the latest event.
        """
        end, latest = self._window.end, self._watermark.latest
        if end is None or latest is None:
            return 0
        change = self._window.work_ahead(min(end + self.config.every, latest + _EPSILON), limit)
        change.apply(self._add, self._remove)
        return len(change)

    def _numbers(self, tag: str) -> tuple[int, int]:
        return self._counts[tag], len(self._users.get(tag, ()))

    def _add(self, use: Use) -> None:
        tag, user = _split(use)
        self._changed.setdefault(tag, self._numbers(tag))
        self._counts[tag] += 1
        bump(self._users.setdefault(tag, {}), user, 1)

    def _remove(self, use: Use) -> None:
        tag, user = _split(use)
        self._changed.setdefault(tag, self._numbers(tag))
        self._counts[tag] -= 1
        bump(self._users[tag], user, -1)
        if not self._counts[tag]:
            del self._counts[tag], self._users[tag]

    def _records(self, tags: Iterable[str], end: datetime, trigger: Trigger) -> list[HashtagCount]:
        return [
            self._record(tag, self._counts[tag], len(self._users.get(tag, ())), end, trigger) for tag in tags
        ]

    def _record(self, tag: str, count: int, users: int, end: datetime, trigger: Trigger) -> HashtagCount:
        return HashtagCount(
            at=end,
            window=self.config.span,
            lateness=self.config.lateness,
            trigger=trigger,
            tag=tag,
            count=count,
            users=users,
        )

    def top(self, n: int) -> list[tuple[str, int, int]]:
        """The `n` most used hashtags at the window's end: (tag, count, users), ties by tag."""
        ranked = sorted(self._counts.items(), key=lambda item: (-item[1], item[0]))[:n]
        return [(tag, count, len(self._users[tag])) for tag, count in ranked]

    def view(self, trigger: Trigger = Trigger.IDLE) -> list[HashtagCount]:
        """Everything received so far: the window ending just after the latest event, pending
        events included, every hashtag in it, most used first. Changes nothing.
        """
        latest = self._watermark.latest
        if latest is None:
            return []
        start = latest - self.config.span
        counts: Counter[str] = Counter()
        users: dict[str, set[str]] = {}
        for at, use in self._window.items():
            if at > start:
                tag, user = _split(use)
                counts[tag] += 1
                users.setdefault(tag, set()).add(user)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [self._record(tag, count, len(users[tag]), latest, trigger) for tag, count in ranked]

    @property
    def watermark(self) -> datetime | None:
        """The current watermark, None before the first event."""
        return self._watermark.current

    def snapshot(self) -> dict[str, Any]:
        """Plain data from which `restore` rebuilds this state exactly."""
        latest = self._watermark.latest
        return {
            "window": self._window.snapshot(lambda use: list(_split(use))),
            "latest_ms": None if latest is None else to_ms(latest),
            "late_events": self.late_events,
            "dropped_events": self.dropped_events,
            "changed": {tag: list(numbers) for tag, numbers in self._changed.items()},
        }

    @classmethod
    def restore(cls, config: HashtagWindowConfig, data: dict[str, Any]) -> HashtagCounts:
        """The state `snapshot` described; it continues exactly as the original would have."""
        state = cls(config, late_events=data["late_events"], dropped_events=data["dropped_events"])
        state._window = SlidingWindow.restore(data["window"], _SEPARATOR.join)
        if data["latest_ms"] is not None:
            state._watermark.observe(from_ms(data["latest_ms"]))
        for use in state._window.live():
            state._add(use)
        # Late events admitted since the last boundary are already counted, but their tags are
        # still due at the next one. (Snapshots from before "changed" was kept lose that.)
        state._changed = {tag: (count, users) for tag, (count, users) in data.get("changed", {}).items()}
        return state
