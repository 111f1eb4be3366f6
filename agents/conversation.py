"""Stage 4: the conversation as a whole: cascades, influence and the hashtag co-occurrence graph.

These metrics are global (PageRank, rank correlations, a cascade spans many users), so this
stage reads one single-partition topic of accepted tweets and runs `streams.analyzer.Analyzer`,
the same core `resonance analyze` runs. A cascade record goes out on every retweet; influence
and graph records at each emission boundary; when the input goes quiet, a provisional view of
everything received.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import faust
import orjson

from agents.instruments import Instruments
from agents.topics import Topics
from models.records import Record, Trigger
from models.wire.native import parse_native
from streams.analyzer import Analyzer, AnalyzerConfig


def record_key(record: Record) -> bytes:
    """The metrics-topic key of a record: what it is about."""
    subject = (
        getattr(record, "root_id", None) or getattr(record, "user_id", None) or getattr(record, "tag", None)
    )
    return (subject or record.kind).encode()


@dataclass(slots=True)
class Quiet:
    """When (wall clock) the stage last changed without a published view."""

    since: float | None = None


def register(
    app: faust.App, *, topics: Topics, instruments: Instruments, config: AnalyzerConfig, idle_seconds: float
) -> Any:
    """Add the conversation agent and its idle-flush timer to `app`."""
    analyzer = Analyzer(config)
    quiet = Quiet()

    async def publish(records: Iterable[Record]) -> None:
        for record in records:
            instruments.conversation.update(record)
            instruments.records.labels(record.kind).inc()
            await topics.metrics.send(key=record_key(record), value=record.to_bytes())

    @app.agent(topics.conversation, name="conversation")
    async def conversation(stream: Any) -> None:
        async for value in stream:
            records = analyzer.observe(parse_native(orjson.loads(value)))
            quiet.since = time.monotonic()
            await publish(records)

    async def flush_idle() -> None:
        if quiet.since is not None and time.monotonic() - quiet.since >= idle_seconds:
            quiet.since = None
            await publish(analyzer.flush(Trigger.IDLE))

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)
    return conversation
