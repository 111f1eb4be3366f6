"""Checkpoints: a stage's per-partition state in a changelogged Faust table, so a restarted
worker resumes exactly where it was, and re-sent messages are recognised downstream.

How it stays exact. A stage's stream runs without automatic acks. At a checkpoint, the producer
is flushed first (what the events sent is durable), then the state is written to the table and
its changelog, and only once the broker has the changelog message are the events acked, so the
committed offset never runs ahead of the saved state. After a stop or a crash the partition
restarts from its checkpoint, and events are delivered again: those after the checkpoint, and
possibly some before it (when the checkpoint was saved but the commit not yet made). Every
message a stage sends carries its source position (partition, offset, index), and each stage
keeps the furthest position seen per source partition (`SourcePositions`, checkpointed with its
state) and drops anything at or before it: a redelivery, or a message an upstream stage sent
again while catching up.

Checkpoints are due every `every_seconds` of wall time, as events arrive and, when the input goes
quiet, from a timer, so that nothing processed stays unacked. An event whose partition was
revoked while it was in flight is neither counted nor acked here, and a stopping worker writes no
checkpoint: the partition's next owner does that work again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import faust
import orjson
from faust.types import TP

S = TypeVar("S")

SOURCE_HEADER = "resonance.source"
CHECKPOINT_MAX_BYTES = 64 * 1024 * 1024

Position = tuple[int, int, int]
"""Where a message came from: (partition, offset, index among the messages it caused)."""


def source_header(partition: int, offset: int, index: int) -> tuple[str, bytes]:
    """The header stamping a sent message with the position of the message that caused it."""
    return SOURCE_HEADER, f"{partition}:{offset}:{index}".encode()


def read_source(headers: Iterable[tuple[str, bytes]] | dict[str, bytes] | None) -> Position | None:
    """The source position a message carries, None when it carries none (sent by hand)."""
    items = headers.items() if isinstance(headers, dict) else (headers or ())
    for name, value in items:
        if name == SOURCE_HEADER:
            partition, offset, index = (int(part) for part in value.decode().split(":"))
            return partition, offset, index
    return None


@dataclass(slots=True)
class SourcePositions:
    """The furthest position seen from each source partition of one input partition."""

    furthest: dict[int, tuple[int, int]] = field(default_factory=dict)

    def first_time(self, source: Position | None) -> bool:
        """True unless `source` is at or before what was already seen from its partition."""
        if source is None:
            return True
        partition, offset, index = source
        if (offset, index) <= self.furthest.get(partition, (-1, -1)):
            return False
        self.furthest[partition] = (offset, index)
        return True

    def snapshot(self) -> list[list[int]]:
        """Plain data."""
        return [[p, o, i] for p, (o, i) in sorted(self.furthest.items())]

    @classmethod
    def restore(cls, data: list[list[int]]) -> SourcePositions:
        """The positions `snapshot` described."""
        return cls({p: (o, i) for p, o, i in data})


@dataclass(slots=True)
class _Partition(Generic[S]):
    state: S
    positions: SourcePositions
    stream: Any = None  # the agent's stream, which acks this partition's events
    pending: list[Any] = field(default_factory=list)  # processed, not yet in a saved checkpoint
    saved_at: float = field(default_factory=time.monotonic)
    busy: bool = False  # an event is between `first_time` and `processed`
    saving: bool = False  # a checkpoint of this partition is being written


class Checkpointed(Generic[S]):
    """One stage's state per input partition, restored from and saved to a Faust table."""

    def __init__(  # noqa: PLR0913 - each says how to build, dump or load the state, or when to save
        self,
        app: faust.App,
        name: str,
        *,
        topic: str,
        partitions: int,
        create: Callable[[], S],
        dump: Callable[[S], Any],
        load: Callable[[Any], S],
        every_seconds: float,
    ) -> None:
        """Declare the stage's checkpoint table on `app`."""
        self._table = app.Table(
            f"{name}-checkpoints",
            default=None,
            # Faust derives the changelog serializers from `key_type` and `value_type` alone (a
            # `schema` does not count: it falls back to json), and recovery decodes with them. Raw
            # bytes both ways, or a restarted worker finds its checkpoint under a different key.
            key_type=bytes,
            value_type=bytes,
            partitions=partitions,
            # A checkpoint is one message: let it be as large as the producer may send.
            extra_topic_configs={"max.message.bytes": str(CHECKPOINT_MAX_BYTES)},
        )
        self._create, self._dump, self._load = create, dump, load
        self._every = every_seconds
        self._app = app
        self._topic = topic
        self._partitions: dict[int, _Partition[S]] = {}

        async def on_revoked(_sender: Any, *args: Any, **_: Any) -> None:
            # Another worker takes these partitions over from their checkpoints; unacked events
            # will be delivered to it again. (The signal passes the revoked set positionally.)
            for tp in args[0] if args else ():
                if tp.topic == self._topic:
                    self._partitions.pop(tp.partition, None)

        # mode types receivers as a union of callables that mypy will not match to a coroutine.
        app.on_partitions_revoked.connect(cast("Any", on_revoked))

        async def save_quiet() -> None:
            # Checkpoints are otherwise written only as events arrive: when the input stops, the
            # last events would stay unacked (consumer lag never reaching 0, and a restart doing
            # them again) until the next event, however long that takes.
            now = time.monotonic()
            for partition, entry in list(self._partitions.items()):
                if entry.pending and not entry.busy and now - entry.saved_at >= self._every:
                    await self._save(partition, entry)

        app.timer(interval=every_seconds)(save_quiet)

    def _entry(self, partition: int) -> _Partition[S] | None:
        """The partition's entry: in memory, else restored from its checkpoint, else new; None
        when this worker no longer holds the partition (revoked while its event was in flight:
        Faust does not wait for those, and the new owner does it again from its checkpoint).
        """
        entry = self._partitions.get(partition)
        if entry is None:
            if TP(self._topic, partition) not in self._app.consumer.assignment():
                return None
            saved = self._table.get(str(partition).encode())
            if saved is None:
                entry = _Partition(self._create(), SourcePositions())
            else:
                data = orjson.loads(saved)
                entry = _Partition(self._load(data["state"]), SourcePositions.restore(data["positions"]))
            self._partitions[partition] = entry
        return entry

    def state(self, partition: int) -> S:
        """The partition's state: in memory, else restored from its checkpoint, else new."""
        entry = self._entry(partition)
        if entry is None:
            raise LookupError(f"partition {partition} of {self._topic} is no longer assigned here")
        return entry.state

    def first_time(self, event: Any) -> bool:
        """False when `event` was delivered or sent again since the checkpoint that holds it, or
        when its partition is no longer assigned here; else the caller processes it, then calls
        `processed`.
        """
        entry = self._entry(event.message.partition)
        if entry is None:
            return False
        entry.busy = True
        return entry.positions.first_time(read_source(event.headers))

    def states(self) -> dict[int, S]:
        """Every partition's state held in memory."""
        return {partition: entry.state for partition, entry in self._partitions.items()}

    async def processed(self, stream: Any, event: Any) -> None:
        """Account for a processed event: ack it once a checkpoint that includes it is saved."""
        partition = event.message.partition
        entry = self._partitions.get(partition)
        if entry is None:
            return  # revoked meanwhile: not ours to ack, the new owner does it again
        entry.busy = False
        entry.stream = stream
        entry.pending.append(event)
        if time.monotonic() - entry.saved_at >= self._every:
            await self._save(partition, entry)

    async def _save(self, partition: int, entry: _Partition[S]) -> None:
        """Checkpoint the partition and ack its pending events; give up (the next event or timer
        tick tries again) if another save is under way, an event ran while the producer was
        flushed (its outputs may not be durable yet), or the partition was revoked.
        """
        # A worker that is stopping writes no checkpoint: its producer is being flushed and closed
        # around the agents, so outputs could be claimed durable and lost. The partition's next
        # owner does the events since the last checkpoint again instead.
        if entry.saving or self._app.should_stop:
            return
        entry.saving = True
        try:
            await self._checkpoint(partition, entry)
        finally:
            entry.saving = False

    async def _checkpoint(self, partition: int, entry: _Partition[S]) -> None:
        started, count = time.monotonic(), len(entry.pending)
        # What these events sent must be durable before a checkpoint says they were processed:
        # a state restored ahead of its outputs would never send them again.
        await self._app.producer.flush()
        if entry.busy or len(entry.pending) != count or self._partitions.get(partition) is not entry:
            return
        key = str(partition).encode()
        value = orjson.dumps({"state": self._dump(entry.state), "positions": entry.positions.snapshot()})
        # Not `self._table[key] = value`: that queues the changelog write in Faust's producer
        # buffer, which Faust's commit does not reliably wait for (its flush gives up after 0.1 s,
        # and misses a message being handed to the client), so the offsets of the events acked
        # below could be committed before their checkpoint is. Store it, send it to the changelog
        # partition that the owner of this input partition recovers, and wait for the broker.
        self._table.data[key] = value
        await self._table.send_changelog(partition, key, value)
        done, entry.pending[:count] = entry.pending[:count], []
        for event in done:
            await entry.stream.ack(event)
        entry.saved_at = started
