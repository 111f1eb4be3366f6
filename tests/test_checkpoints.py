"""Checkpoints are stored so that a restarted worker finds them (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import faust
import orjson

from agents.checkpoints import (
    HOLE_GIVE_UP_SECONDS,
    Checkpointed,
    SourcePositions,
    StagePartition,
    read_source,
    source_header,
)


def test_checkpoint_changelog_is_raw_bytes_both_ways(tmp_path: Path) -> None:
    """The changelog a checkpoint is recovered from keeps its key and value as the raw bytes
    written: with json serializers, recovery read the key b"0" back as the int 0 and a restarted
    worker never found its checkpoint.
    """
    app = faust.App("checkpoint-test", store="memory://", autodiscover=False, datadir=str(tmp_path))
    Checkpointed(app, "stage", topic="in", partitions=2, create=dict, dump=dict, load=dict, every_seconds=1.0)
    changelog = app.tables["stage-checkpoints"].changelog_topic
    assert changelog.key_serializer == "raw"
    assert changelog.value_serializer == "raw"
    key, value = b"0", orjson.dumps({"state": {"a": 1}, "positions": [[0, 5, 1]]})
    assert changelog.prepare_key(key, None)[0] == key
    assert changelog.prepare_value(value, None)[0] == value


def test_source_positions_drop_what_was_seen_and_survive_a_snapshot() -> None:
    """A redelivered or re-sent message (at or before the furthest position of its source
    partition) is recognised, also after a snapshot and restore.
    """
    positions = SourcePositions()
    header = dict([source_header(1, 10, 0)])
    assert positions.first_time(read_source(header))
    assert not positions.first_time((1, 10, 0))
    assert positions.first_time((1, 10, 1))
    restored = SourcePositions.restore(positions.snapshot())
    assert not restored.first_time((1, 9, 5))
    assert restored.first_time((0, 0, 0))
    assert positions.first_time(None)  # sent by hand: no position, always new


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
