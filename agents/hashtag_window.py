"""Stage 3: rolling per-hashtag counts, published on the metrics topic and to Prometheus.

Each partition of the hashtag-use topic has its own `HashtagMetrics` (tags are disjoint across
partitions, so workers split the work), checkpointed so a restarted worker resumes it. Boundary
records are final and deterministic; when a partition goes quiet for `idle_flush` of wall time,
a provisional view of everything received is published too, so a finished replay shows its
last numbers without waiting for more events.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import faust

from agents.checkpoints import Checkpointed
from agents.instruments import Instruments
from agents.topics import Topics
from models.records import HashtagCount, HashtagUse, Trigger
from streams.hashtag_metrics import HashtagMetrics, HashtagMetricsConfig


def register(  # noqa: PLR0913 - keyword-only wiring, one parameter per collaborator
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    config: HashtagMetricsConfig,
    idle_seconds: float,
    checkpoint_seconds: float,
) -> Any:
    """Add the hashtag-window agent and its idle-flush timer to `app`."""
    windows: Checkpointed[HashtagMetrics] = Checkpointed(
        app,
        "hashtag-window",
        topic=topics.hashtag_uses.get_topic_name(),
        partitions=topics.hashtag_uses.partitions,
        create=lambda: HashtagMetrics(config),
        dump=HashtagMetrics.snapshot,
        load=lambda data: HashtagMetrics.restore(config, data),
        every_seconds=checkpoint_seconds,
    )
    quiet_since: dict[int, float] = {}  # partitions changed since their last published view

    async def publish(records: Iterable[HashtagCount]) -> None:
        for record in records:
            instruments.hashtags.update(record)
            instruments.records.labels(record.kind).inc()
            await topics.metrics.send(key=record.tag.encode(), value=record.to_bytes())

    @app.agent(topics.hashtag_uses, name="hashtag-window")
    async def hashtag_window(stream: Any) -> None:
        async for event in stream.noack().events():
            if windows.first_time(event):
                use = HashtagUse.from_bytes(event.value)
                metrics = windows.state(event.message.partition)
                counts = metrics.counts
                late, dropped = counts.late_events, counts.dropped_events
                records = metrics.observe((use.tag,), use.user_id, use.at)
                instruments.late.labels("hashtag", "admitted").inc(counts.late_events - late)
                instruments.late.labels("hashtag", "dropped").inc(counts.dropped_events - dropped)
                quiet_since[event.message.partition] = time.monotonic()
                await publish(records)
            await windows.processed(stream, event)

    async def flush_idle() -> None:
        """Publish a provisional view of each partition quiet for `idle_seconds`."""
        now = time.monotonic()
        for partition, since in list(quiet_since.items()):
            state = windows.states().get(partition)
            if now - since >= idle_seconds:
                del quiet_since[partition]
                if state is not None:
                    await publish(state.view(Trigger.IDLE))

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)

    return hashtag_window
