"""Stage 4: the conversation as a whole: cascades, influence and the hashtag co-occurrence graph.

These metrics are global (PageRank, rank correlations, a cascade spans many users), so this
stage reads one single-partition topic of accepted tweets and runs `streams.analyzer.Analyzer`,
the same core `resonance analyze` runs, checkpointed (`agents.checkpoints`) so a restarted worker
resumes it. A cascade record goes out on every retweet; influence
and graph records at each emission boundary; when the input goes quiet, a provisional view of
everything received, also after taking the state over from a checkpoint (its last owner may have
stopped before publishing its own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import faust
import orjson

from agents.checkpoints import Checkpointed
from agents.instruments import Instruments
from agents.publish import send_records
from agents.topics import Topics
from models.records import Record, Trigger
from models.wire.native import parse_native
from streams.analyzer import Analyzer, AnalyzerConfig

log = logging.getLogger(__name__)


def warn_disorder(before: int, now: int) -> None:
    """Log when the count of retweets out of their cascade's order reaches 1, 10, 100, ...: the
    input is not keyed by cascade (or not in time order), and inferred trees may differ from
    `analyze`'s. A log line per power of ten says so without flooding the log.
    """
    if now > before and (before == 0 or len(str(now)) > len(str(before))):
        log.warning(
            "retweets out of their cascade's order so far: %d (each arrived after a later tweet of "
            "its cascade, so its parent was inferred without it). Key input tweets by cascade (a "
            "retweet by the id of the tweet it retweets, anything else by its own id; `resonance "
            "replay` does) and send them in time order (README: Live and offline agree)",
            now,
        )


@dataclass(slots=True)
class Quiet:
    """When (wall clock) the stage last changed without a published view."""

    since: float | None = None


def register(  # noqa: PLR0913 - keyword-only wiring, one parameter per collaborator
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    config: AnalyzerConfig,
    idle_seconds: float,
    checkpoint_seconds: float,
) -> Any:
    """Add the conversation agent and its idle-flush timer to `app`."""
    analyzers: Checkpointed[Analyzer] = Checkpointed(
        app,
        "conversation",
        topic=topics.conversation.get_topic_name(),
        partitions=topics.conversation.partitions,
        create=lambda: Analyzer(config),
        dump=Analyzer.snapshot,
        load=lambda data: Analyzer.restore(config, data),
        every_seconds=checkpoint_seconds,
    )
    quiet = Quiet()

    async def publish(records: Iterable[Record]) -> None:
        await send_records(topics, instruments, records)

    @app.agent(topics.conversation, name="conversation")
    async def conversation(stream: Any) -> None:
        async for event in stream.noack().events():
            if analyzers.first_time(event):
                analyzer = analyzers.state(event.message.partition)
                dropped, disordered = analyzer.dropped_events, analyzer.disordered_retweets
                records = analyzer.observe(parse_native(orjson.loads(event.value)))
                instruments.late.labels("influence", "dropped").inc(analyzer.dropped_events - dropped)
                instruments.disordered.inc(analyzer.disordered_retweets - disordered)
                warn_disorder(disordered, analyzer.disordered_retweets)
                quiet.since = time.monotonic()
                await publish(records)
            await analyzers.processed(stream, event)

    async def flush_idle() -> None:
        if analyzers.adopted() and quiet.since is None:  # taken over: the last owner's view may be missing
            quiet.since = time.monotonic()
        if quiet.since is not None and time.monotonic() - quiet.since >= idle_seconds:
            quiet.since = None
            for analyzer in analyzers.states().values():
                await publish(analyzer.view(Trigger.IDLE))

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)
    return conversation
