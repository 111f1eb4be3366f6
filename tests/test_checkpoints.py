"""Checkpoints are stored so that a restarted worker finds them (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import faust
import orjson
import pytest

from agents.checkpoints import (
    CHECKPOINT_FORMAT,
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


def test_a_checkpoint_of_another_format_is_reported_and_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkpoint this version cannot read (another version wrote it) leaves the partition to
    start from empty state, with an error naming the partition and the way to recompute, instead
    of crashing the stage at every restart; one of this version's format is restored.
    """
    app = faust.App("checkpoint-format", store="memory://", autodiscover=False, datadir=str(tmp_path))
    stage = Checkpointed(
        app, "stage", topic="in", partitions=2, create=dict, dump=dict, load=dict, every_seconds=1.0
    )
    old = orjson.dumps({"state": {"a": 1}, "positions": [[0, 5, 1]]})
    assert stage.restore(1, old) is None
    assert "in[1]: its checkpoint cannot be read" in caplog.text
    assert "RESONANCE_APP_ID" in caplog.text
    current = orjson.dumps(
        {"format": CHECKPOINT_FORMAT, "state": {"a": 1}, "positions": [[0, 5, 1]], "next_offset": 9}
    )
    restored = stage.restore(1, current)
    assert restored is not None
    assert (restored.state, restored.next_offset) == ({"a": 1}, 9)
    assert not restored.positions.first_time((0, 5, 1))
