"""Stage 4: the conversation as a whole: cascades, influence and the hashtag co-occurrence graph.

These metrics are global (PageRank, rank correlations, a cascade spans many users), so this
stage reads one single-partition topic of accepted tweets and runs `streams.analyzer.Analyzer`,
the same core `resonance analyze` runs, in a process of its own (`agents.analyzer_process`: its
refreshes and snapshots never hold the worker's event loop), checkpointed (`agents.checkpoints`)
so a restarted worker resumes it. A cascade record goes out on every retweet; influence
and graph records at each emission boundary; when the input goes quiet, a provisional view of
everything received, also after taking the state over from a checkpoint (its last owner may have
stopped before publishing its own).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import faust

from agents import stage
from agents.analyzer_process import AnalyzerProcess
from agents.checkpoints import Checkpointed
from agents.input_warnings import LateEvents, warn_disorder
from agents.instruments import Instruments
from agents.publish import send_records
from agents.settings import Settings
from agents.topics import Topics
from models.records import Record
from models.wire.batch import decode_events, encode_events


@dataclass(slots=True)
class Quiet:
    """When (wall clock) the stage last changed without a published view."""

    since: float | None = None


def register(  # noqa: PLR0913 - keyword-only wiring, one parameter per collaborator
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    settings: Settings,
    idle_seconds: float,
    checkpoint_seconds: float,
) -> Any:
    """Add the conversation agent and its idle-flush timer to `app`; its analyzer runs as
    `settings` say (`agents.settings.conversation_config`).
    """
    analyzers: Checkpointed[AnalyzerProcess] = Checkpointed(
        app,
        "conversation",
        topic=topics.conversation.get_topic_name(),
        partitions=topics.conversation.partitions,
        create=lambda: AnalyzerProcess(settings),
        encode=AnalyzerProcess.snapshot,
        load=lambda data: AnalyzerProcess(settings, data),
        close=AnalyzerProcess.close,
        every_seconds=checkpoint_seconds,
        instruments=instruments,
    )
    quiet = Quiet()
    late_events = LateEvents("conversation", "influence", settings.lateness, instruments.late)

    async def publish(records: Iterable[Record]) -> None:
        await send_records(topics, instruments, records)

    async def observe(event: Any) -> None:
        partition = event.message.partition
        analyzer = analyzers.state(partition)
        items = decode_events(event.value)
        fresh = list(analyzers.fresh(partition, items))
        if not fresh:
            return
        # Sent on as it came when every item is new (the usual case): no need to encode it again.
        # The analyzer reads the items only, not their positions.
        batch = event.value if len(fresh) == len(items) else encode_events([((0, 0, 0), n) for n in fresh])
        observed = await analyzer.observe(batch)
        await publish(observed.records)
        late_events.add(observed.late, observed.dropped)
        before, after = observed.disordered
        instruments.disordered.inc(after - before)
        warn_disorder(before, after)
        quiet.since = time.monotonic()

    @app.agent(topics.conversation, name="conversation")
    async def conversation(stream: Any) -> None:
        await stage.run(stream, checkpoints=analyzers, outboxes=[], process=observe)

    async def flush_idle() -> None:
        if analyzers.adopted() and quiet.since is None:  # taken over: the last owner's view may be missing
            quiet.since = time.monotonic()
        if quiet.since is not None and time.monotonic() - quiet.since >= idle_seconds:
            quiet.since = None
            for analyzer in analyzers.states().values():
                started = time.monotonic()
                records = await analyzer.view()
                instruments.idle_view_seconds.labels("compute").observe(time.monotonic() - started)
                if (
                    quiet.since is None
                ):  # else events came meanwhile: the next quiet spell gives a current view
                    await publish(records)

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)
    return conversation
