"""Everything per hashtag: rolling counts (`streams.hashtags.counts`) with burst z-scores
(`streams.hashtags.bursts`) attached, one object per stream or per partition of hashtags.

Burst buckets close as the same watermark passes them, so a record's `burst_z` is the score of
the latest bucket closed before the record's time: deterministic, like the counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.records import HashtagCount, Trigger
from streams.hashtags.bursts import BurstTracker
from streams.hashtags.counts import HashtagCounts, HashtagWindowConfig
from streams.window import boundaries


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagMetricsConfig:
    """The window, and the burst buckets: `burst_bucket` long, scored against `burst_history` of them."""

    window: HashtagWindowConfig = field(default_factory=HashtagWindowConfig)
    burst_bucket: timedelta = timedelta(minutes=5)
    burst_history: int = 12


@dataclass(slots=True)
class HashtagMetrics:
    """Per-hashtag counts, distinct users and burst z-scores over a rolling event-time window."""

    config: HashtagMetricsConfig
    counts: HashtagCounts = field(init=False)
    bursts: BurstTracker = field(init=False)
    _latest_z: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Start empty."""
        self.counts = HashtagCounts(self.config.window)
        self.bursts = BurstTracker(self.config.burst_bucket, self.config.burst_history)

    def observe(self, tags: Iterable[str], user_id: str, at: datetime) -> list[HashtagCount]:
        """Add one tweet's hashtags; return the records of every boundary the watermark passed."""
        tags = tuple(tags)
        for tag in tags:
            self.bursts.observe(tag, at)
        records = self.counts.observe(tags, user_id, at)
        scored: list[HashtagCount] = []
        for record in records:  # grouped by boundary, oldest first
            self._close_bursts(record.at)
            scored.append(self._with_z(record))
        return scored

    def work_ahead(self, limit: int) -> int:
        """Do at most `limit` moves of the next boundary's window work now; return how many were
        done (`HashtagCounts.work_ahead`).
        """
        return self.counts.work_ahead(limit)

    def _close_bursts(self, until: datetime) -> None:
        """Close the burst buckets that ended by `until`: a record sees only its past."""
        due = boundaries(self.bursts.closed_until, until, self.config.burst_bucket)
        if not due:
            return
        scored = dict(self.bursts.close_until(due[-1]))
        # Only the bucket that just closed speaks for "now"; a tag unused in it has no z.
        self._latest_z = scored.get(due[-1], {})

    def _with_z(self, record: HashtagCount) -> HashtagCount:
        return dataclasses.replace(record, burst_z=self._latest_z.get(record.tag))

    def view(self, trigger: Trigger = Trigger.IDLE) -> list[HashtagCount]:
        """Every hashtag over everything received so far (see `HashtagCounts.view`)."""
        return [self._with_z(record) for record in self.counts.view(trigger)]

    def top(self, n: int) -> list[tuple[str, int, int]]:
        """The `n` most used hashtags at the window's end."""
        return self.counts.top(n)

    def snapshot(self) -> dict[str, Any]:
        """Plain data from which `restore` rebuilds this state exactly."""
        return {
            "counts": self.counts.snapshot(),
            "bursts": self.bursts.snapshot(),
            "latest_z": self._latest_z,
        }

    @classmethod
    def restore(cls, config: HashtagMetricsConfig, data: dict[str, Any]) -> HashtagMetrics:
        """The state `snapshot` described."""
        state = cls(config)
        state.counts = HashtagCounts.restore(config.window, data["counts"])
        state.bursts = BurstTracker.restore(data["bursts"])
        state._latest_z = dict(data["latest_z"])
        return state
