"""Stage 4: the conversation as a whole: cascades, influence and the hashtag co-occurrence graph.

These metrics are global (PageRank, rank correlations, a cascade spans many users), so this
stage reads one single-partition topic of accepted tweets and runs `streams.analyzer.Analyzer`,
the same core `resonance analyze` runs, in a process of its own (`agents.analyzer_process`: its
refreshes and snapshots never hold the worker's event loop), checkpointed (`agents.checkpoints`)
so a restarted worker resumes it: the snapshot itself in a topic of its own (`agents.snapshots`),
the checkpoint naming it. A cascade record goes out on every retweet; influence
and graph records at each emission boundary; when the input goes quiet, a provisional view of
everything received, also after taking the state over from a checkpoint (its last owner may have
stopped before publishing its own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import faust

from agents import stage
from agents.analyzer_process import AnalyzerFailedError, AnalyzerProcess, Observed
from agents.checkpoints import Checkpointed, Codec
from agents.input_warnings import LateEvents, warn_disorder
from agents.instruments import Instruments
from agents.publish import send_records
from agents.snapshots import Store
from agents.topics import Topics
from models.records import Record
from models.wire.batch import decode_events, encode_events

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Quiet:
    """When (wall clock) the stage last changed without a published view."""

    since: float | None = None

    def due(self, idle_seconds: float, *, adopted: bool) -> bool:
        """Whether a view is due now: `idle_seconds` after the last change, or after a state was
        `adopted`; once due, it is not due again until the next change.
        """
        now = time.monotonic()
        if adopted and self.since is None:
            self.since = now
        if self.since is None or now - self.since < idle_seconds:
            return False
        self.since = None
        return True


def register(  # noqa: PLR0913 - keyword-only wiring, one parameter per collaborator
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    store: Store,
    idle_seconds: float,
    checkpoint_seconds: float,
) -> Any:
    """Add the conversation agent and its idle-flush timer to `app`; its analyzer runs as
    `store.settings` say (`agents.settings.conversation_config`), its snapshots kept in `store`.
    """
    settings = store.settings
    analyzers: Checkpointed[AnalyzerProcess] = Checkpointed(
        app,
        store.stage,
        topic=topics.conversation.get_topic_name(),
        partitions=topics.conversation.partitions,
        codec=Codec(
            create=lambda partition: AnalyzerProcess(store, partition),
            encode=lambda analyzer, _, slot: analyzer.snapshot(slot),
            load=lambda partition, manifest: AnalyzerProcess(store, partition, manifest),
            close=AnalyzerProcess.close,
            stored=True,
        ),
        every_seconds=checkpoint_seconds,
        instruments=instruments,
    )
    quiet = Quiet()
    late_events = LateEvents("conversation", "influence", settings.lateness, instruments.late)

    async def publish(records: Iterable[Record]) -> None:
        await send_records(topics, instruments, records)

    async def published(observed: Observed) -> None:
        await publish(observed.records)
        late_events.add(observed.late, observed.dropped)
        before, after = observed.disordered
        instruments.disordered.inc(after - before)
        instruments.cascade_counts(observed.conflicting_retweets, observed.unseen_originals)
        instruments.analyzer_batch_seconds.observe(observed.seconds)
        warn_disorder(before, after)

    async def observe(event: Any) -> None:
        partition = event.message.partition
        batch = _fresh_batch(analyzers, partition, event.value)
        quiet.since = time.monotonic()
        if batch is not None:
            await _observe(analyzers, partition, batch, then=published)

    @app.agent(topics.conversation, name="conversation")
    async def conversation(stream: Any) -> None:
        await stage.run(stream, checkpoints=analyzers, outboxes=[], process=observe)

    async def flush_idle() -> None:
        # A partition taken over: its last owner's view may be missing.
        if quiet.due(idle_seconds, adopted=bool(analyzers.adopted())):
            for analyzer in list(analyzers.states().values()):
                records = await _view(analyzer, instruments)
                # Events came meanwhile: the view is out of date, the next quiet spell gives one.
                if records is not None and quiet.since is None:
                    await publish(records)

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)
    return conversation


async def _observe(
    analyzers: Checkpointed[AnalyzerProcess],
    partition: int,
    batch: bytes,
    *,
    then: Callable[[Observed], Awaitable[None]],
) -> None:
    """Send `batch` to the partition's analyzer; when its process has failed, say so, and start
    the partition again from its latest checkpoint.
    """
    try:
        await analyzers.state(partition).observe(batch, then=then)
    except AnalyzerFailedError as error:
        log.error(  # noqa: TRY400 - said in one line: the child's own reason is in the message
            "conversation[%d]: %s; the partition starts again from its latest checkpoint", partition, error
        )
        await analyzers.forget(partition)


def _fresh_batch(analyzers: Checkpointed[AnalyzerProcess], partition: int, value: bytes) -> bytes | None:
    """The batch of the items of `value` not yet processed; None when there is none. Sent on as
    it came when every item is new (the usual case): no need to encode it again. The analyzer
    reads the items only, not their positions.
    """
    items = decode_events(value)
    fresh = list(analyzers.fresh(partition, items))
    if not fresh:
        return None
    return value if len(fresh) == len(items) else encode_events([((0, 0, 0), native) for native in fresh])


async def _view(analyzer: AnalyzerProcess, instruments: Instruments) -> list[Record] | None:
    """The analyzer's view of a quiet input; None when its process failed (the next batch says
    so, and starts the partition again from its checkpoint).
    """
    started = time.monotonic()
    try:
        records = await analyzer.view()
    except AnalyzerFailedError:
        return None
    instruments.idle_view_seconds.labels("compute").observe(time.monotonic() - started)
    return records
