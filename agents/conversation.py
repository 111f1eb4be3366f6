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

import asyncio
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import faust

from agents import gc_policy, stage
from agents.checkpoints import Checkpointed
from agents.input_warnings import LateEvents, warn_disorder
from agents.instruments import Instruments
from agents.publish import send_records
from agents.topics import Topics
from models.records import Record, Trigger
from models.wire.batch import decode_events
from models.wire.native import parse_native
from streams.analyzer import Analyzer, AnalyzerConfig

VIEW_SWITCH_INTERVAL_S = 0.0005  # how often the idle view's thread lets the event loop run


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
        instruments=instruments,
    )
    quiet = Quiet()
    late_events = LateEvents("conversation", "influence", config.hashtags.window.lateness, instruments.late)

    async def publish(records: Iterable[Record]) -> None:
        await send_records(topics, instruments, records)

    async def observe(event: Any) -> None:
        partition = event.message.partition
        analyzer = analyzers.state(partition)
        late, dropped = analyzer.late_events, analyzer.dropped_events
        disordered = analyzer.disordered_retweets
        fresh = analyzers.fresh(partition, decode_events(event.value))
        await publish([record for native in fresh for record in analyzer.observe(parse_native(native))])
        late_events.add(analyzer.late_events - late, analyzer.dropped_events - dropped)
        instruments.disordered.inc(analyzer.disordered_retweets - disordered)
        warn_disorder(disordered, analyzer.disordered_retweets)
        quiet.since = time.monotonic()

    @app.agent(topics.conversation, name="conversation")
    async def conversation(stream: Any) -> None:
        await stage.run(stream, checkpoints=analyzers, outboxes=[], process=observe)

    async def flush_idle() -> None:
        if analyzers.adopted() and quiet.since is None:  # taken over: the last owner's view may be missing
            quiet.since = time.monotonic()
        if quiet.since is not None and time.monotonic() - quiet.since >= idle_seconds:
            quiet.since = None
            for partition in analyzers.states():
                records = await _idle_view(analyzers, partition, config, instruments)
                if records is not None and quiet.since is None:  # else out of date: see _idle_view
                    await publish(records)

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)
    return conversation


async def _idle_view(
    analyzers: Checkpointed[Analyzer], partition: int, config: AnalyzerConfig, instruments: Instruments
) -> list[Record] | None:
    """The partition's view of a quiet input; None when the partition is no longer held here.

    The state is encoded at once, as a checkpoint (or the latest checkpoint is taken as it is,
    when nothing was processed since); rebuilding and flushing a copy of it, the bulk of the work
    (a second on a large state), runs in a thread, so an event arriving meanwhile is not held up.
    The view is then out of date: the caller drops it, and the next quiet spell gives a current one.
    """
    started = time.monotonic()
    state = analyzers.encoded(partition)
    if state is None:
        return None
    encoded = time.monotonic()
    # While the thread computes, the event loop gets the interpreter only when the thread lets
    # it go: every 5 ms by default, at every one of the many hand-overs an event needs. Measured
    # (live benchmark, retweets after quiet): median 0.12 s at 5 ms, 0.06 s at 0.5 ms.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(VIEW_SWITCH_INTERVAL_S)
    try:
        records = await asyncio.to_thread(_view_of, config, state)
    finally:
        sys.setswitchinterval(interval)
    instruments.idle_view_seconds.labels("encode").observe(encoded - started)
    instruments.idle_view_seconds.labels("compute").observe(time.monotonic() - encoded)
    return records


def _view_of(config: AnalyzerConfig, checkpoint: bytes) -> list[Record]:
    """The idle view of the analyzer that encoded `checkpoint` holds."""
    with gc_policy.paused():
        return Analyzer.view_of(config, Checkpointed.state_of(checkpoint), Trigger.IDLE)
