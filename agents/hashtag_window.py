"""Stage 3: rolling per-hashtag counts, published on the metrics topic and to Prometheus.

Each partition of the hashtag-use topic has its own core (`streams.hashtags.uses`; tags are
disjoint across partitions, so workers split the work), checkpointed so a restarted worker
resumes it. Boundary records are final and deterministic; when a partition goes quiet for
`idle_flush` of wall time, a provisional view of everything received is published too, so a
finished replay shows its last numbers without waiting for more events; so is one of every
partition taken over from a checkpoint, whose last owner may have stopped before publishing its
own. The view ranks every hashtag of the window, so it is computed in a fork (`agents.forking`):
the event loop is held for the fork alone.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Iterable
from typing import Any

import faust

from agents import forking, stage
from agents.checkpoints import Checkpointed, Codec
from agents.input_warnings import LateEvents
from agents.instruments import Instruments
from agents.publish import send_records
from agents.snapshots import Store
from agents.topics import Topics
from models.records import Record, Trigger
from models.wire.batch import decode_uses
from streams.alerts.rules import AlertConfig
from streams.hashtags.metrics import HashtagMetricsConfig
from streams.hashtags.uses import HashtagUses, HashtagUsesConfig

log = logging.getLogger(__name__)


def register(  # noqa: PLR0913 - keyword-only wiring, one parameter per collaborator
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    config: HashtagMetricsConfig,
    alerts: AlertConfig,
    store: Store,
    idle_seconds: float,
    checkpoint_seconds: float,
) -> Any:
    """Add the hashtag-window agent and its idle-flush timer to `app`; `store` keeps its
    windows' snapshots.
    """
    windows: Checkpointed[HashtagUses] = Checkpointed(
        app,
        store.stage,
        topic=topics.hashtag_uses.get_topic_name(),
        partitions=topics.hashtag_uses.partitions,
        codec=Codec.forked(HashtagUses, HashtagUsesConfig(config, alerts), store),
        every_seconds=checkpoint_seconds,
        instruments=instruments,
    )
    quiet_since: dict[int, float] = {}  # partitions changed since their last published view
    # Over every partition of this worker.
    late_events = LateEvents("hashtag window", "hashtag", config.window.lateness, instruments.late)

    async def publish(records: Iterable[Record]) -> None:
        await send_records(topics, instruments, records)

    async def observe(event: Any) -> None:
        partition = event.message.partition
        state = windows.state(partition)
        counts = state.metrics.counts
        late, dropped = counts.late_events, counts.dropped_events
        uses = list(windows.fresh(partition, decode_uses(event.value)))
        await publish(state.observe(uses))
        # Each use enters the window once and leaves it once: as many moves done ahead per batch
        # keep pace with the input, and a boundary no longer moves a window's worth at once,
        # holding the event loop (`HashtagCounts.work_ahead`: it changes no record).
        state.work_ahead(2 * len(uses))
        late_events.add(counts.late_events - late, counts.dropped_events - dropped)
        quiet_since[partition] = time.monotonic()

    @app.agent(topics.hashtag_uses, name="hashtag-window")
    async def hashtag_window(stream: Any) -> None:
        await stage.run(stream, checkpoints=windows, outboxes=[], process=observe)

    async def flush_idle() -> None:
        """Publish a provisional view of each partition quiet for `idle_seconds`."""
        now = time.monotonic()
        for partition in windows.adopted():  # taken over: the last owner's view may be missing
            quiet_since.setdefault(partition, now)
        for partition, since in list(quiet_since.items()):
            state = windows.states().get(partition)
            if now - since >= idle_seconds:
                del quiet_since[partition]
                records = None if state is None else await _view(state, partition)
                # Events came meanwhile: the view is out of date, the next quiet spell gives one.
                if records is not None and partition not in quiet_since:
                    await publish(records)

    app.timer(interval=max(0.5, idle_seconds / 2))(flush_idle)

    return hashtag_window


async def _view(state: HashtagUses, partition: int) -> list[Record] | None:
    """The partition's provisional view of everything received (`HashtagMetrics.view`), computed
    in a fork of this process from the state as it stands; None when the fork failed (logged).
    """
    try:
        answer = await forking.in_fork(lambda: pickle.dumps(state.metrics.view(Trigger.IDLE)))
    except forking.ForkFailedError as error:
        log.warning("hashtag-window[%d]: the idle view could not be computed: %s", partition, error)
        return None
    records: list[Record] = pickle.loads(answer)  # noqa: S301 - from our own fork
    return records
