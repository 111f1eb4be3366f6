"""Checkpoints: a stage's per-partition state in a changelogged Faust table, so a restarted
worker resumes exactly where it was, and re-sent messages are recognised downstream.

How it stays exact. A stage's stream runs without automatic acks. At a checkpoint, the state is
encoded, the producer is flushed (what the events sent is durable), then the state is written to
the table and its changelog, and only once the broker has the changelog message are the events
the state holds acked, so the committed offset never runs ahead of the saved state. The stage goes
on processing while a checkpoint is written. After a stop or a crash the partition
restarts from its checkpoint, and events are delivered again: those after the checkpoint, and
possibly some before it (when the checkpoint was saved but the commit not yet made). Every
item a stage sends, inside a batch message (`models.wire.batch`), carries its source position
(partition, offset, index), and each stage keeps the furthest position seen per source partition
(`SourcePositions`, checkpointed with its state) and drops any item at or before it: one an
upstream stage sent again while catching up, whatever batch it now came in.

Each partition is processed strictly in offset order. The checkpoint also holds the next input
offset, and the stage compares every delivered offset with it: one before it is a redelivery
(skipped), one after it means offsets were skipped in between. Faust's fetch loop can do that:
when an offset jumps past the last one it read, it records the difference as a gap that it counts
as acknowledged, and it drops any message below the last offset read, so messages fetched at an
old position around a rebalance or a seek can hide the ones fetched again behind them (see
faust-streaming issues #221, prefetched events after a rebalance, and #606, commits over gaps).
Such a partition is sought back to the expected offset, and nothing after the hole is processed
or acked until the hole is filled. A partition taken over is sought to its checkpoint's offset,
so a committed offset that ran ahead of the checkpoint changes nothing.

Checkpoints are due every `every_seconds` of wall time, or, when that is longer, ten times as long
as the latest took times the partitions of the stage this worker holds (`COST_FACTOR`: a state of
millions of edges is checkpointed more rarely, and a stage's partitions together take the same
share of the time as one), as events arrive and, when the input goes quiet, from a timer, so
that nothing processed stays unacked. What a restart does again is bounded by that cadence: the
input since the latest checkpoint, which Kafka keeps, replayed through the deterministic core.
An event whose partition was revoked while it was in flight is neither counted nor acked here,
and a stopping worker writes no checkpoint: the partition's next owner does that work again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import faust
import orjson
from aiokafka.errors import KafkaError
from faust.types import TP

from agents import forking, gc_policy
from agents.instruments import Instruments
from agents.snapshots import Manifest, Store
from models.wire.batch import Position
from streams.state import Core, Snapshotting

S = TypeVar("S")
T = TypeVar("T")
C = TypeVar("C")
K = TypeVar("K", bound=Snapshotting)

CHECKPOINT_MAX_BYTES = 64 * 1024 * 1024
# The largest checkpoint value written: a produce request also carries the key and the batch's
# framing, and one over the producer's limit would stop the worker (Faust's producer crashes).
CHECKPOINT_MAX_VALUE = CHECKPOINT_MAX_BYTES - 64 * 1024
# Bump when a checkpoint's envelope or any stage's state snapshot changes shape: an older
# checkpoint is then reported and set aside instead of being misread.
CHECKPOINT_FORMAT = 4
REWIND_RETRY_SECONDS = 1.0
STALLED_FLUSH_SECONDS = 30.0  # a producer flush that long is an error worth a line in the log
HOLE_GIVE_UP_SECONDS = 60.0  # offsets that long unobtainable are gone from the log (retention)
# A checkpoint that took t seconds is followed by the next of its partition no sooner than
# COST_FACTOR * t * n later, n the stage's partitions held here: a stage's checkpoints then take at
# most about a tenth of the time, and a restart re-processes at most max(every, COST_FACTOR * t * n)
# + t seconds of input.
COST_FACTOR = 10.0
# Events acked between two turns of the event loop once their checkpoint is durable. Faust's ack
# costs tens of microseconds per event; with one tweet per message a checkpoint covers tens of
# thousands, and acked in one go they held the loop for half a second.
ACK_SLICE = 256

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SourcePositions:
    """The furthest position seen from each source partition of one input partition."""

    furthest: dict[int, tuple[int, int]] = field(default_factory=dict)

    def first_time(self, source: Position) -> bool:
        """True unless `source` is at or before what was already seen from its partition."""
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


def _checkpoint_data(saved: bytes) -> dict[str, Any]:
    """A checkpoint's fields; ValueError when it is not of this version's format."""
    data = orjson.loads(saved)
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise ValueError(f"format {found!r}, this version reads {CHECKPOINT_FORMAT}")
    return data


@dataclass(frozen=True, slots=True)
class Taken:
    """Where a partition stood when its checkpoint was taken; its state is being encoded."""

    events: int  # the partition's first pending events, which the checkpoint holds
    next_offset: int | None  # the input offset after the last event its state holds
    positions: list[list[int]]  # `SourcePositions.snapshot` then
    taken_at: float  # monotonic seconds
    slot: int  # the snapshot slot written (`agents.snapshots`): not the durable checkpoint's


def in_process(dump: Callable[[S], Any]) -> Callable[[S, int, int], Awaitable[bytes]]:
    """The `encode` of a small state, whose `dump` gives plain data: encoded at once, in the
    checkpoint itself, as JSON.
    """

    def encode(state: S, _partition: int, _slot: int) -> Awaitable[bytes]:
        done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        done.set_result(orjson.dumps(dump(state)))
        return done

    return encode


@dataclass(frozen=True, slots=True)
class Codec(Generic[S]):
    """How a stage's state is made, saved and read back.

    `create` makes an empty state for an input partition; `encode` gives the JSON bytes the
    partition's checkpoint holds for the state (what `load` reads back for the partition,
    decoded): it takes the state as it is when called, and may finish later. A state kept apart
    (`agents.snapshots`; `stored`) is written to the slot `encode` is given, and encoded as the
    `Manifest` that says where. `close` releases a state this worker no longer holds.
    """

    create: Callable[[int], S]
    encode: Callable[[S, int, int], Awaitable[bytes]]  # (state, partition, snapshot slot)
    load: Callable[[int, Any], S]
    close: Callable[[S], Awaitable[None]] | None = None
    stored: bool = False  # `encode` gives a `snapshots.Manifest`

    @staticmethod
    def forked(kind: Core[C, K], config: C, store: Store) -> Codec[K]:
        """A stateful core kept in this process (`streams.state.Core`), under `config`,
        snapshotted by a fork of this process into `store` (`agents.forking`: the event loop is
        held for the fork only, whatever the state's size), and read back from it, here, when a
        partition is taken over.
        """
        return Codec(
            create=lambda _: kind(config),
            encode=lambda state, partition, slot: forking.in_fork(
                lambda: _written(state, store, partition, slot)
            ),
            load=lambda _, manifest: kind.restore(config, orjson.loads(store.read(Manifest.of(manifest)))),
            stored=True,
        )

    @staticmethod
    def stateless() -> Codec[None]:
        """No state: the checkpoint holds the input's offsets and source positions only."""
        return Codec(create=lambda _: None, encode=in_process(lambda _: None), load=lambda _, __: None)


def _written(state: Snapshotting, store: Store, partition: int, slot: int) -> bytes:
    """In a fork: `state`'s snapshot written to `store`; its manifest, as JSON."""
    worker = os.getppid()
    data = orjson.dumps(state.snapshot())
    manifest = store.write(partition, slot, data, abandoned=lambda: os.getppid() != worker)
    return orjson.dumps(manifest.plain())


@dataclass(slots=True)
class StagePartition(Generic[S]):
    """One input partition of a stage: its state, where its input stands, what awaits a checkpoint."""

    state: S
    positions: SourcePositions
    stream: Any = None  # the agent's stream, which acks this partition's events
    pending: list[Any] = field(default_factory=list)  # processed, not yet in a saved checkpoint
    saved_at: float = field(default_factory=time.monotonic)
    busy: bool = False  # an event is between `admit` and `processed`
    writing: asyncio.Future[None] | None = None  # a checkpoint of this partition being written
    next_offset: int | None = None  # the input offset after the last one processed
    rewound_at: float | None = None  # when the partition was last sought back to `next_offset`
    hole_since: float | None = None  # when an offset beyond `next_offset` first arrived
    cost: float = 0.0  # seconds the latest checkpoint took, from taking the state to durable
    slot: int | None = None  # the snapshot slot the durable checkpoint names, never written over

    def due(self, now: float, every: float, *, sharing: int = 1) -> bool:
        """Whether a checkpoint is due: `every` seconds after the latest, or `COST_FACTOR` times
        what that one took times `sharing` (the partitions whose checkpoints share the stage's
        time) when longer, so that a stage's checkpoints stay a small share of the time however
        large its state grows and however many partitions it holds.
        """
        return now - self.saved_at >= max(every, COST_FACTOR * self.cost * sharing)

    def admit(self, offset: int, now: float) -> bool:
        """True when the event at input `offset` is the next to process (or the first one seen),
        and it is now counted; False for a redelivery (before it) or an event beyond a hole,
        unless the hole has stayed open `HOLE_GIVE_UP_SECONDS`: its offsets are gone from the log.
        """
        expected = self.next_offset
        if expected is not None and offset != expected:
            if offset < expected or self.hole_since is None:
                return False
            if now - self.hole_since < HOLE_GIVE_UP_SECONDS:
                return False
        self.next_offset, self.rewound_at, self.hole_since = offset + 1, None, None
        return True

    def counted(self, offset: int) -> bool:
        """True when the event at input `offset` is accounted for in this state (processed, or
        skipped as a redelivery), so a checkpoint written now may ack it.
        """
        return self.next_offset is not None and offset < self.next_offset


class Checkpointed(Generic[S]):
    """One stage's state per input partition, restored from and saved to a Faust table."""

    def __init__(  # noqa: PLR0913 - each says where the input is, what the state is, or when to save
        self,
        app: faust.App,
        name: str,
        *,
        topic: str,
        partitions: int,
        codec: Codec[S],
        every_seconds: float,
        instruments: Instruments,
    ) -> None:
        """Declare the stage's checkpoint table on `app`, for the state `codec` makes and saves;
        `instruments` time the checkpoints.
        """
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
        self._codec = codec
        self._every = every_seconds
        self._encode_seconds = instruments.checkpoint_seconds.labels(name, "encode")
        self._write_seconds = instruments.checkpoint_seconds.labels(name, "write")
        self._bytes = instruments.checkpoint_bytes.labels(name)
        # The stage's loop (`agents.stage`) observes how old each input message is when taken.
        self.input_delay = instruments.stage_delay.labels(name)
        self._snapshot_bytes = {
            form: instruments.snapshot_bytes.labels(name, form) for form in ("json", "stored")
        }
        self._app = app
        self._topic = topic
        self._partitions: dict[int, StagePartition[S]] = {}
        self._adopted: set[int] = set()  # restored from a checkpoint, not yet reported by `adopted`

        async def on_revoked(_sender: Any, *args: Any, **_: Any) -> None:
            # Another worker takes these partitions over from their checkpoints; unacked events
            # will be delivered to it again. (The signal passes the revoked set positionally.)
            for tp in args[0] if args else ():
                if tp.topic == self._topic:
                    await self.forget(tp.partition)

        # mode types receivers as a union of callables that mypy will not match to a coroutine.
        app.on_partitions_revoked.connect(cast("Any", on_revoked))

        async def save_quiet() -> None:
            # Checkpoints are otherwise written only as events arrive: when the input stops, the
            # last events would stay unacked (consumer lag never reaching 0, and a restart doing
            # them again) until the next event, however long that takes.
            # And a partition sought back to fill a hole may get nothing more to trigger a retry.
            await self._take_over_held()
            now = time.monotonic()
            for partition, entry in list(self._partitions.items()):
                if entry.rewound_at is not None:
                    await self._rewind(partition, entry, "nothing arrived since the seek")
                if (
                    entry.pending
                    and not entry.busy
                    and entry.due(now, self._every, sharing=len(self._partitions))
                ):
                    self._save(partition, entry)

        app.timer(interval=every_seconds)(save_quiet)

    def _entry(self, partition: int) -> StagePartition[S] | None:
        """The partition's entry: in memory, else restored from its checkpoint, else new; None
        when this worker no longer holds the partition (revoked while its event was in flight:
        Faust does not wait for those, and the new owner does it again from its checkpoint).
        """
        entry = self._partitions.get(partition)
        if entry is None:
            if TP(self._topic, partition) not in self._app.consumer.assignment():
                return None
            saved = self._table.get(str(partition).encode())
            restored = None if saved is None else self.restore(partition, saved)
            entry = restored or StagePartition(self._codec.create(partition), SourcePositions())
            if restored is not None:
                self._adopted.add(partition)
            self._partitions[partition] = entry
        return entry

    def restore(self, partition: int, saved: bytes) -> StagePartition[S] | None:
        """The partition as its checkpoint describes it; None, logged as an error, when the
        checkpoint cannot be read (another version of Resonance wrote it): the partition then
        starts from empty state at the committed offset, rather than crash-looping the worker.
        """
        try:
            data = _checkpoint_data(saved)
            return StagePartition(
                self._codec.load(partition, data["state"]),
                SourcePositions.restore(data["positions"]),
                next_offset=data["next_offset"],
                slot=data["slot"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.error(  # noqa: TRY400 - an expected condition, said in one line without a traceback
                "%s[%d]: its checkpoint cannot be read (%r); this partition starts from empty state "
                "at the committed offset. To analyse the input again from its start, run with a new "
                "RESONANCE_APP_ID and replay it.",
                self._topic,
                partition,
                error,
            )
            return None

    def state(self, partition: int) -> S:
        """The partition's state: in memory, else restored from its checkpoint, else new."""
        entry = self._entry(partition)
        if entry is None:
            raise LookupError(f"partition {partition} of {self._topic} is no longer assigned here")
        return entry.state

    def admit(self, event: Any) -> bool:
        """False when `event` was delivered again since the checkpoint that holds it, when it
        comes after a hole in its partition's offsets, or when its partition is no longer
        assigned here; else the caller processes it (each item it holds checked with `fresh`).
        Either way the caller then calls `processed`.
        """
        entry = self._entry(event.message.partition)
        if entry is None:
            return False
        entry.busy = True
        offset, expected = event.message.offset, entry.next_offset
        if not entry.admit(offset, time.monotonic()):
            return False
        if expected is not None and offset > expected:
            log.error(
                "%s[%d]: offsets %d to %d never arrived (gone from the log?); going on from %d",
                self._topic,
                event.message.partition,
                expected,
                offset - 1,
                offset,
            )
        return True

    def fresh(self, partition: int, items: Iterable[tuple[Position, T]]) -> Iterator[T]:
        """The items, of a message of input `partition` that `admit` let in, not yet processed:
        those at or before a position already seen were sent again by an upstream stage.
        """
        positions = self._partitions[partition].positions
        return (item for source, item in items if positions.first_time(source))

    async def forget(self, partition: int) -> None:
        """Drop the partition's state (its process failed, say): it is restored from its latest
        checkpoint, and its input sought back to it, as if taken over from another worker.
        """
        gone = self._partitions.pop(partition, None)
        if gone is not None and gone.writing is not None:
            gone.writing.cancel()  # a fork writing its snapshot is stopped: the next owner writes its own
        if gone is not None and self._codec.close is not None:
            await self._codec.close(gone.state)

    def adopted(self) -> set[int]:
        """The partitions whose state was restored from a checkpoint since the last call. A stage
        publishes a view of them: their previous owner may have stopped before publishing its own,
        and the input may hold nothing new to prompt one.
        """
        adopted, self._adopted = self._adopted, set()
        return adopted

    async def _take_over_held(self) -> None:
        """Restore every assigned partition that has a checkpoint and no state in memory, and seek
        it to the offset its checkpoint expects next: with nothing new to read no event restores
        it, and a committed offset that ran ahead of the checkpoint would go unnoticed. Not while
        a rebalance is under way (Faust ends it once table recovery is complete): the table may
        not hold the latest checkpoints yet.
        """
        if self._app.rebalancing:
            return
        held = {tp.partition for tp in self._app.consumer.assignment() if tp.topic == self._topic}
        for partition in sorted(held - self._partitions.keys()):
            if self._table.get(str(partition).encode()) is None:
                continue
            entry = self._entry(partition)
            if entry is not None and entry.next_offset is not None:
                await self._seek(partition, entry.next_offset)

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
        if not entry.counted(event.message.offset):
            await self._rewind(partition, entry, f"offset {event.message.offset} arrived")
            return
        entry.stream = stream
        entry.pending.append(event)
        if entry.due(time.monotonic(), self._every, sharing=len(self._partitions)):
            self._save(partition, entry)

    async def _rewind(self, partition: int, entry: StagePartition[S], why: str) -> None:
        """Seek the partition back to the offset its state expects next (`why` says what showed
        the hole). Messages already fetched keep arriving for a while (and are skipped); the seek
        is repeated every `REWIND_RETRY_SECONDS` until the expected offset arrives.
        """
        now = time.monotonic()
        if entry.next_offset is None or (
            entry.rewound_at is not None and now - entry.rewound_at < REWIND_RETRY_SECONDS
        ):
            return
        log.warning(
            "%s[%d]: expected offset %d, but %s; seeking back to it",
            self._topic,
            partition,
            entry.next_offset,
            why,
        )
        entry.rewound_at = now
        if entry.hole_since is None:
            entry.hole_since = now
        await self._seek(partition, entry.next_offset)

    async def _seek(self, partition: int, offset: int) -> None:
        """Move the consumer to `offset` of the partition. Faust's `seek_wait` does it in the
        consumer's own thread (its plain `seek` would call the client from this one) and sets the
        read offset its fetch loop filters by.
        """
        try:
            await self._app.consumer.seek_wait({TP(self._topic, partition): offset})
        except (TimeoutError, KafkaError) as error:
            # Revoked meanwhile, or the broker slow to answer: a hole found later seeks again.
            log.warning("%s[%d]: could not seek to offset %d: %r", self._topic, partition, offset, error)

    def _save(self, partition: int, entry: StagePartition[S]) -> None:
        """Checkpoint the partition's state as it is now, and ack its pending events once the
        checkpoint is durable. The state's encoding starts here, at once; the rest runs as a task
        of its own, so the stage goes on processing events meanwhile (a retweet waiting on the
        broker to store a 15 MB checkpoint was up to 2 s late).
        Nothing happens while another write of the partition is under way (the next event or timer
        tick tries again), or when the worker is stopping.
        """
        # A worker that is stopping writes no checkpoint: its producer is being flushed and closed
        # around the agents, so outputs could be claimed durable and lost. The partition's next
        # owner does the events since the last checkpoint again instead.
        if entry.writing is not None or self._app.should_stop:
            return
        slot = 0 if entry.slot == 1 else 1
        taken = Taken(
            len(entry.pending), entry.next_offset, entry.positions.snapshot(), time.monotonic(), slot
        )
        with gc_policy.paused():
            state = self._codec.encode(entry.state, partition, slot)
        # Tracked by the app, which cancels it when the worker stops (the events then stay unacked).
        entry.writing = self._app.add_future(self._write(partition, entry, taken, state))

    async def _flushed(self, partition: int) -> None:
        """Wait until the producer has delivered every message handed to it, logging an error every
        `STALLED_FLUSH_SECONDS` it keeps the partition's checkpoint waiting: a producer that stopped
        delivering holds the stage up, and must not pass for a quiet input.
        """
        flush = asyncio.ensure_future(self._app.producer.flush())
        started = time.monotonic()
        try:
            while not (await asyncio.wait({flush}, timeout=STALLED_FLUSH_SECONDS))[0]:
                log.error(
                    "%s[%d]: the producer has not delivered what this stage sent for %.0fs; its "
                    "checkpoint and the stage wait (is the broker reachable? see its log)",
                    self._topic,
                    partition,
                    time.monotonic() - started,
                )
            flush.result()
        finally:
            flush.cancel()  # the write was cancelled (the worker stops): stop waiting too

    async def _write(
        self, partition: int, entry: StagePartition[S], taken: Taken, state: Awaitable[bytes]
    ) -> None:
        """Store the checkpoint, then ack the pending events it holds."""
        try:
            encoded = await state
            value = orjson.dumps(
                {
                    "format": CHECKPOINT_FORMAT,
                    "state": orjson.Fragment(encoded),
                    "positions": taken.positions,
                    "next_offset": taken.next_offset,
                    "slot": taken.slot,
                }
            )
            encoded_at = time.monotonic()
            self._encode_seconds.observe(encoded_at - taken.taken_at)
            self._bytes.set(len(value))
            if self._codec.stored:
                sizes = orjson.loads(encoded)
                self._snapshot_bytes["json"].set(sizes["size"])
                self._snapshot_bytes["stored"].set(sizes["stored"])
            if len(value) > CHECKPOINT_MAX_VALUE:
                # Not written, and nothing acked: the stage goes on, and its next owner would
                # start again from the last checkpoint that fitted (or from the input's start).
                entry.saved_at = taken.taken_at  # tried again at the usual cadence, not at once
                log.error(
                    "%s[%d]: a checkpoint of %.0f MB is larger than the %.0f MB a changelog message "
                    "may hold and was not written: this stage's input stays unacked, so a restart "
                    "processes it again from the last checkpoint written; a shorter RESONANCE_WINDOW "
                    "keeps checkpoints smaller",
                    self._topic,
                    partition,
                    len(value) / 1e6,
                    CHECKPOINT_MAX_VALUE / 1e6,
                )
                return
            # What these events sent must be durable before a checkpoint says they were processed:
            # a state restored ahead of its outputs would never send them again. They were all
            # handed to the producer before the state was taken, so this flush covers them.
            await self._flushed(partition)
            if self._app.should_stop or self._partitions.get(partition) is not entry:
                return
            key = str(partition).encode()
            # Not `self._table[key] = value`: that queues the changelog write in Faust's producer
            # buffer, which Faust's commit does not reliably wait for (its flush gives up after
            # 0.1 s, and misses a message being handed to the client), so the offsets of the events
            # acked below could be committed before their checkpoint is. Store it, send it to the
            # changelog partition that the owner of this input partition recovers, and wait for
            # the broker.
            self._table.data[key] = value
            await self._table.send_changelog(partition, key, value)
            if self._partitions.get(partition) is not entry:
                return  # revoked meanwhile: its next owner acks, from this checkpoint or an older one
            entry.slot = taken.slot
            count = taken.events
            done, entry.pending[:count] = entry.pending[:count], []
            for start in range(0, len(done), ACK_SLICE):
                if start:
                    await asyncio.sleep(0)  # let the loop run between slices
                    if self._partitions.get(partition) is not entry:
                        return  # revoked meanwhile, as above
                for event in done[start : start + ACK_SLICE]:
                    await entry.stream.ack(event)
            entry.saved_at = taken.taken_at
            durable_at = time.monotonic()
            entry.cost = durable_at - taken.taken_at
            self._write_seconds.observe(durable_at - encoded_at)
        except (KafkaError, TimeoutError, RuntimeError) as error:
            # The events stay unacked: the next checkpoint, or the partition's next owner, covers them.
            log.warning("%s[%d]: a checkpoint could not be written: %r", self._topic, partition, error)
        finally:
            entry.writing = None
