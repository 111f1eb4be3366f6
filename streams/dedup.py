"""Counting each tweet once: Kafka delivers at least once, and recordings repeat tweets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from streams.sorted_runs import SortedRuns
from streams.window import Watermark, from_ms, to_ms


@dataclass(slots=True)
class SeenIds:
    """Tweet ids seen within `horizon` of event time before the latest event.

    An id older than the horizon is forgotten: a repeat of it would be older than any window that
    could still count it (choose horizon >= span + lateness). The newest `keep_at_least` ids are
    kept whatever their age, so a recording replayed out of time order (old tweets after new ones)
    still has its repeats recognised.

    The memory bound, by window and by count: the ids held are the distinct ids seen in the last
    `horizon` of event time, or the newest `keep_at_least` when those are fewer, and never more
    than `keep_at_most`, whatever the input. Repeats cost nothing: a million copies of 1,000 tweets
    hold 1,000 ids. Past `keep_at_most` the oldest id goes although it is inside the horizon (a
    repeat of it would be counted again): that takes more than `keep_at_most` distinct tweets within
    one horizon, 1,000,000 in the default 15 minutes and 10 seconds, over 1,000 a second sustained.
    An id held costs about 250 bytes (`tests/test_dedup.py` measures it), so the default bound is
    about 250 MB.
    """

    horizon: timedelta
    keep_at_least: int = 100_000
    keep_at_most: int = 1_000_000
    _seen: dict[str, datetime] = field(default_factory=dict)
    # Expiry order, in sorted runs: a million entries the garbage collector need not walk.
    _by_time: SortedRuns[tuple[datetime, str]] = field(default_factory=SortedRuns)
    _clock: Watermark = field(init=False)

    def __post_init__(self) -> None:
        """Start empty, with a watermark lagging the latest event by the horizon."""
        if not 0 < self.keep_at_least <= self.keep_at_most:
            raise ValueError(
                f"need 0 < keep_at_least <= keep_at_most, got {self.keep_at_least}, {self.keep_at_most}"
            )
        self._clock = Watermark(self.horizon)

    def first_time(self, tweet_id: str, at: datetime) -> bool:
        """True the first time `tweet_id` is seen (within the horizon), False for a repeat."""
        if tweet_id in self._seen:
            return False
        self._seen[tweet_id] = at
        self._by_time.push((at, tweet_id))
        self._clock.observe(at)
        if len(self._seen) > self.keep_at_least:
            self._forget_older_than(self._clock.current)
        return True

    def _forget_older_than(self, cutoff: datetime | None) -> None:
        seen, by_time = self._seen, self._by_time
        while len(seen) > self.keep_at_most or (
            cutoff is not None and len(seen) > self.keep_at_least and by_time.first()[0] < cutoff
        ):
            _, old = by_time.pop()
            del seen[old]

    def __len__(self) -> int:
        """Ids currently remembered."""
        return len(self._seen)

    def snapshot(self) -> dict[str, Any]:
        """Plain data from which `restore` rebuilds this state."""
        return {"seen": [[tweet_id, to_ms(at)] for at, tweet_id in self._by_time]}

    @classmethod
    def restore(
        cls,
        horizon: timedelta,
        data: dict[str, Any],
        keep_at_least: int = 100_000,
        keep_at_most: int = 1_000_000,
    ) -> SeenIds:
        """The state `snapshot` described."""
        seen = cls(horizon, keep_at_least, keep_at_most)
        for tweet_id, ms in data["seen"]:
            seen.first_time(tweet_id, from_ms(ms))
        return seen
