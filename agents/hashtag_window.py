"""Stage 3: rolling per-hashtag counts, published on the metrics topic and to Prometheus.

Each partition of the hashtag-use topic has its own `HashtagCounts` (tags are disjoint across
partitions, so workers split the work). Boundary records are final and deterministic; when a
partition goes quiet for `idle_flush` of wall time, a provisional view of everything received is
published too, so a finished replay shows its last numbers without waiting for more events.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import faust

from agents.instruments import Instruments
from agents.topics import Topics
from models.records import HashtagCount, HashtagUse, Trigger
from streams.hashtag_metrics import HashtagMetrics, HashtagMetricsConfig


@dataclass(slots=True)
class PartitionState:
    """One partition's counts and when (wall clock) it last changed without a published view."""

    counts: HashtagMetrics
    quiet_since: float | None = None


@dataclass(slots=True)
class HashtagWindows:
    """The counts of every partition this worker holds."""

    config: HashtagMetricsConfig
    partitions: dict[int, PartitionState] = field(default_factory=dict)

    def state(self, partition: int) -> PartitionState:
        """The partition's state, created empty on first use."""
        if partition not in self.partitions:
            self.partitions[partition] = PartitionState(HashtagMetrics(self.config))
        return self.partitions[partition]

    def idle_views(self, now: float, idle_seconds: float) -> list[HashtagCount]:
        """Provisional views of partitions quiet for `idle_seconds` since their last change."""
        views: list[HashtagCount] = []
        for state in self.partitions.values():
            if state.quiet_since is not None and now - state.quiet_since >= idle_seconds:
                views.extend(state.counts.view(Trigger.IDLE))
                state.quiet_since = None
        return views


def register(
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    config: HashtagMetricsConfig,
    idle_seconds: float,
) -> Any:
    """Add the hashtag-window agent and its idle-flush timer to `app`."""
    windows = HashtagWindows(config)

    async def publish(records: Iterable[HashtagCount]) -> None:
        for record in records:
            instruments.hashtags.update(record)
            instruments.records.labels(record.kind).inc()
            await topics.metrics.send(key=record.tag.encode(), value=record.to_bytes())

    @app.agent(topics.hashtag_uses, name="hashtag-window")
    async def hashtag_window(stream: Any) -> None:
        async for event in stream.events():
            use = HashtagUse.from_bytes(event.value)
            state = windows.state(event.message.partition)
            counts = state.counts.counts
            late, dropped = counts.late_events, counts.dropped_events
            records = state.counts.observe((use.tag,), use.user_id, use.at)
            instruments.late.labels("hashtag", "admitted").inc(counts.late_events - late)
            instruments.late.labels("hashtag", "dropped").inc(counts.dropped_events - dropped)
            state.quiet_since = time.monotonic()
            await publish(records)

    async def flush_idle() -> None:
        await publish(windows.idle_views(time.monotonic(), idle_seconds))

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)

    return hashtag_window
