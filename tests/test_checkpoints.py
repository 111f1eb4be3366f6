"""Checkpoints are stored so that a restarted worker finds them (no broker needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import faust
import orjson
import pytest
from faust.types import TP
from prometheus_client import CollectorRegistry

from agents import checkpoints
from agents.checkpoints import (
    CHECKPOINT_FORMAT,
    HOLE_GIVE_UP_SECONDS,
    Checkpointed,
    Codec,
    SourcePositions,
    StagePartition,
    in_process,
)
from agents.instruments import Instruments


def _stage(
    app: faust.App,
    *,
    every_seconds: float = 1.0,
    instruments: Instruments | None = None,
    encode: Callable[[list[int], int, int], Awaitable[bytes]] | None = None,
) -> Checkpointed[Any]:
    """A stage whose state is a list, on partitions 0 and 1 of topic `in`."""
    return Checkpointed(
        app,
        "stage",
        topic="in",
        partitions=2,
        codec=Codec(create=lambda _: [], encode=encode or in_process(list), load=lambda _, data: list(data)),
        every_seconds=every_seconds,
        instruments=instruments or Instruments.create(CollectorRegistry(), top_n=5),
    )


def _captured_changelog(app: faust.App) -> list[bytes]:
    """The checkpoints the stage writes, captured instead of sent to Kafka, on a consumer that
    holds every partition.
    """
    stored: list[bytes] = []

    async def send_changelog(_partition: int, _key: bytes, value: bytes) -> None:
        stored.append(value)

    app.tables["stage-checkpoints"].send_changelog = send_changelog  # type: ignore[attr-defined]
    app.consumer = cast("Any", _Assigned())
    return stored


def test_checkpoint_changelog_is_raw_bytes_both_ways(tmp_path: Path) -> None:
    """The changelog a checkpoint is recovered from keeps its key and value as the raw bytes
    written: with json serializers, recovery read the key b"0" back as the int 0 and a restarted
    worker never found its checkpoint.
    """
    app = faust.App("checkpoint-test", store="memory://", autodiscover=False, datadir=str(tmp_path))
    _stage(app)
    changelog = app.tables["stage-checkpoints"].changelog_topic
    assert changelog.key_serializer == "raw"
    assert changelog.value_serializer == "raw"
    key, value = b"0", orjson.dumps({"state": {"a": 1}, "positions": [[0, 5, 1]]})
    assert changelog.prepare_key(key, None)[0] == key
    assert changelog.prepare_value(value, None)[0] == value


def test_source_positions_drop_what_was_seen_and_survive_a_snapshot() -> None:
    """A re-sent item (at or before the furthest position of its source partition) is
    recognised, also after a snapshot and restore.
    """
    positions = SourcePositions()
    assert positions.first_time((1, 10, 0))
    assert not positions.first_time((1, 10, 0))
    assert positions.first_time((1, 10, 1))
    restored = SourcePositions.restore(positions.snapshot())
    assert not restored.first_time((1, 9, 5))
    assert restored.first_time((0, 0, 0))


def test_a_partition_takes_its_input_strictly_in_offset_order() -> None:
    """Restored at next offset 5: a redelivery (3) is skipped but may be acked, an event beyond a
    hole (7) is neither processed nor acked, and the expected offset moves the state on.
    """
    partition = StagePartition(state=None, positions=SourcePositions(), next_offset=5)
    assert not partition.admit(3, now=0.0)
    assert partition.counted(3)
    assert not partition.admit(7, now=0.0)
    assert not partition.counted(7)
    assert partition.admit(5, now=0.0)
    assert partition.counted(5)
    assert partition.next_offset == 6
    assert not partition.counted(6)


def test_a_partition_without_a_checkpoint_starts_where_its_input_does() -> None:
    """With no checkpoint, the first event delivered sets where the partition's input begins."""
    partition = StagePartition(state=None, positions=SourcePositions())
    assert not partition.counted(40)
    assert partition.admit(40, now=0.0)
    assert partition.counted(40)
    assert not partition.admit(42, now=0.0)


def test_a_hole_that_never_fills_is_given_up_after_a_while() -> None:
    """Offsets that stay unobtainable (gone from the log) stop blocking the partition once the
    hole has been open `HOLE_GIVE_UP_SECONDS`.
    """
    partition = StagePartition(state=None, positions=SourcePositions(), next_offset=5)
    partition.hole_since = 100.0  # set by the first seek back
    assert not partition.admit(9, now=100.0 + HOLE_GIVE_UP_SECONDS / 2)
    assert partition.admit(9, now=100.0 + HOLE_GIVE_UP_SECONDS)
    assert partition.next_offset == 10
    assert partition.hole_since is None


def test_a_checkpoint_of_another_format_is_reported_and_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkpoint this version cannot read (another version wrote it) leaves the partition to
    start from empty state, with an error naming the partition and the way to recompute, instead
    of crashing the stage at every restart; one of this version's format is restored.
    """
    app = faust.App("checkpoint-format", store="memory://", autodiscover=False, datadir=str(tmp_path))
    stage = _stage(app)
    old = orjson.dumps({"state": {"a": 1}, "positions": [[0, 5, 1]]})
    assert stage.restore(1, old) is None
    assert "in[1]: its checkpoint cannot be read" in caplog.text
    assert "RESONANCE_APP_ID" in caplog.text
    current = orjson.dumps(
        {"format": CHECKPOINT_FORMAT, "state": [1], "positions": [[0, 5, 1]], "next_offset": 9, "slot": 0}
    )
    restored = stage.restore(1, current)
    assert restored is not None
    assert (restored.state, restored.next_offset, restored.slot) == ([1], 9, 0)
    assert not restored.positions.first_time((0, 5, 1))


@dataclass
class _Message:
    partition: int
    offset: int


@dataclass
class _Event:
    message: _Message
    headers: dict[str, bytes] = field(default_factory=dict)


@dataclass
class _Stream:
    acked: list[int] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def ack(self, event: _Event) -> None:
        self.acked.append(event.message.offset)
        self.changed.set()

    async def until_acked(self, count: int) -> None:
        while len(self.acked) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), timeout=5)


class _HeldProducer:
    """Faust's producer as a checkpoint uses it: a flush that returns when the test says."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def flush(self) -> None:
        await self.release.wait()


class _Assigned:
    """Faust's consumer as a checkpoint uses it: partition 0 of topic `in` is assigned here."""

    def assignment(self) -> set[TP]:
        return {TP("in", 0)}


def test_a_checkpoint_being_written_holds_up_no_event_and_acks_only_what_it_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """While the broker has yet to store a checkpoint, the stage goes on processing events (a
    retweet does not wait a second for a large state to be written); once it is stored, exactly
    the events its state holds are acked, and the ones processed meanwhile wait for the next. The
    state handed out for work elsewhere (an idle view) is the latest checkpoint when nothing was
    processed since: encoding a large state twice would hold the worker up twice. A producer slow
    to deliver is logged as an error, not left to pass for a quiet input.
    Kafka's part is held back by hand here, to pick the moment it answers; the restart, rebalance
    and kill -9 tests run the same code against the real broker.
    """
    monkeypatch.setattr(checkpoints, "STALLED_FLUSH_SECONDS", 0.01)
    monkeypatch.setattr(checkpoints, "COST_FACTOR", 0.0)  # every 0 s, however long the last took
    app = faust.App("checkpoint-async", store="memory://", autodiscover=False, datadir=str(tmp_path))
    registry = CollectorRegistry()
    instruments = Instruments.create(registry, top_n=5)
    stage = _stage(app, every_seconds=0.0, instruments=instruments)
    stored = _captured_changelog(app)

    async def scenario() -> None:
        producer, stream = _HeldProducer(), _Stream()
        app.producer = cast("Any", producer)

        async def process(offset: int) -> None:
            event = _Event(_Message(0, offset))
            assert stage.admit(event)
            stage.state(0).append(offset)
            await stage.processed(stream, event)

        await process(0)  # due at once (every 0 s): encoded now, written in the background
        await process(1)  # processed while that checkpoint waits on the broker
        await process(2)
        await asyncio.sleep(0.05)
        assert (stream.acked, stored) == ([], [])
        assert "in[0]: the producer has not delivered what this stage sent" in caplog.text
        producer.release.set()
        await stream.until_acked(1)
        assert stream.acked == [0]
        assert orjson.loads(stored[0])["state"] == [0]
        assert orjson.loads(stored[0])["next_offset"] == 1
        await process(3)  # the next checkpoint holds everything since
        await stream.until_acked(4)
        assert stream.acked == [0, 1, 2, 3]
        assert orjson.loads(stored[1])["state"] == [0, 1, 2, 3]
        for step in ("encode", "write"):
            labels = {"stage": "stage", "step": step}
            assert registry.get_sample_value("resonance_checkpoint_seconds_count", labels) == 2
        assert registry.get_sample_value("resonance_checkpoint_bytes", {"stage": "stage"}) == len(stored[1])

    asyncio.run(scenario())


def test_a_checkpoint_too_large_for_the_changelog_is_reported_not_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkpoint over the size a changelog message may hold is never handed to the producer
    (which would crash the worker): an error says so, nothing is acked, and the stage goes on; a
    later checkpoint that fits is written and acks everything since.
    """
    monkeypatch.setattr(checkpoints, "CHECKPOINT_MAX_VALUE", 120)
    app = faust.App("checkpoint-large", store="memory://", autodiscover=False, datadir=str(tmp_path))
    stage = _stage(app, every_seconds=0.0)
    stored = _captured_changelog(app)

    async def scenario() -> None:
        producer, stream = _HeldProducer(), _Stream()
        producer.release.set()
        app.producer = cast("Any", producer)
        event = _Event(_Message(0, 0))
        assert stage.admit(event)
        stage.state(0).extend(range(100))  # a state whose checkpoint is well over 120 bytes
        await stage.processed(stream, event)
        await asyncio.sleep(0.05)
        assert (stream.acked, stored) == ([], [])
        assert "in[0]: a checkpoint of 0 MB is larger than" in caplog.text
        stage.state(0).clear()  # small again: the next checkpoint fits
        stage._partitions[0].saved_at = 0.0  # noqa: SLF001 - due now, not after the cadence
        following = _Event(_Message(0, 1))
        assert stage.admit(following)
        await stage.processed(stream, following)
        await stream.until_acked(2)
        assert stream.acked == [0, 1]
        assert orjson.loads(stored[0])["state"] == []

    asyncio.run(scenario())


def test_a_state_encoded_elsewhere_is_checkpointed_as_it_stood_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state kept in another process is encoded there and answered later: the checkpoint holds
    the state, offset and pending events of the moment it was asked for, though the stage went on.
    Snapshots kept apart alternate between two slots, never the one the durable checkpoint names.
    """
    monkeypatch.setattr(checkpoints, "COST_FACTOR", 0.0)  # every 0 s, however long the last took
    app = faust.App("checkpoint-later", store="memory://", autodiscover=False, datadir=str(tmp_path))
    asked: list[tuple[list[int], int, asyncio.Future[bytes]]] = []

    def encode(state: list[int], _partition: int, slot: int) -> Awaitable[bytes]:
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        asked.append((list(state), slot, answer))
        return answer

    stage = _stage(app, every_seconds=0.0, encode=encode)
    stored = _captured_changelog(app)

    async def scenario() -> None:
        producer, stream = _HeldProducer(), _Stream()
        producer.release.set()
        app.producer = cast("Any", producer)
        for offset in (0, 1):
            event = _Event(_Message(0, offset))
            assert stage.admit(event)
            stage.state(0).append(offset)
            await stage.processed(stream, event)  # offset 0 asks for a checkpoint; 1 comes after
        [(state, slot, answer)] = asked
        answer.set_result(orjson.dumps(state))
        await stream.until_acked(1)
        assert stream.acked == [0]
        assert orjson.loads(stored[0]) == {
            "format": CHECKPOINT_FORMAT,
            "state": [0],
            "positions": [],
            "next_offset": 1,
            "slot": slot,
        }
        event = _Event(_Message(0, 2))
        assert stage.admit(event)
        await stage.processed(stream, event)  # the next checkpoint: the other slot
        assert [slot for _, slot, _ in asked] == [slot, 1 - slot]

    asyncio.run(scenario())


def test_a_checkpoint_that_took_long_makes_the_next_wait_ten_times_as_long() -> None:
    """The cadence is `every`, or `COST_FACTOR` times the latest checkpoint's duration when that
    is longer: a large state's checkpoints take a bounded share of the time.
    """
    entry = StagePartition[None](None, SourcePositions(), saved_at=100.0)
    assert entry.due(110.0, every=10.0)
    entry.cost = 2.0
    assert not entry.due(110.0, every=10.0)
    assert not entry.due(119.9, every=10.0)
    assert entry.due(100.0 + checkpoints.COST_FACTOR * 2.0, every=10.0)


def test_a_stage_holding_more_partitions_checkpoints_each_more_rarely() -> None:
    """With `sharing` partitions, each waits `sharing` times as long after a checkpoint that took
    long: together they take the share of the time one would.
    """
    entry = StagePartition[None](None, SourcePositions(), saved_at=100.0, cost=2.0)
    assert entry.due(100.0 + checkpoints.COST_FACTOR * 2.0, every=10.0, sharing=1)
    assert not entry.due(100.0 + checkpoints.COST_FACTOR * 2.0, every=10.0, sharing=4)
    assert entry.due(100.0 + checkpoints.COST_FACTOR * 2.0 * 4, every=10.0, sharing=4)
    entry.cost = 0.1  # cheap checkpoints: `every` rules, however many partitions
    assert entry.due(110.0, every=10.0, sharing=4)
