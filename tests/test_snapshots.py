"""Snapshots too large for one message go to the real broker in chunks and come back whole."""

from __future__ import annotations

import random

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from agents import snapshots
from agents.settings import Settings


@pytest.fixture
def settings(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Settings:
    """A deployment of its own on the session's broker, its snapshot topic created (2 partitions)."""
    made = Settings(bootstrap_servers=kafka_bootstrap, app_id=f"snapshots-{request.node.name[:60]}")
    snapshots.create_topic(made, 2)
    return made


def _snapshot_like(size: int, seed: int) -> bytes:
    """JSON-ish bytes, half of them random: compression leaves several chunks' worth."""
    rng = random.Random(seed)
    noise = rng.randbytes(size // 2).hex()[: size // 2]
    return (b'{"edges": [' + b"1, 2, 3, " * (size // 18) + noise.encode() + b"]}")[:size]


def test_a_snapshot_of_many_chunks_comes_back_byte_for_byte(settings: Settings) -> None:
    """Written to one stage partition's slot, read back from the manifest alone; the other slot
    and the other partition, written after it, change nothing.
    """
    data = _snapshot_like(4_000_000, seed=1)
    manifest = snapshots.write(settings, 1, 0, data)
    other_slot = snapshots.write(settings, 1, 1, _snapshot_like(500_000, seed=2))
    other_partition = snapshots.write(settings, 0, 0, b"{}")

    assert len(manifest.offsets) > 1
    assert (manifest.size, manifest.partition, manifest.slot) == (len(data), 1, 0)
    assert manifest.stored < manifest.size
    restored = snapshots.Manifest.of(manifest.plain())
    assert snapshots.read(settings, restored) == data
    assert snapshots.read(settings, other_slot) == _snapshot_like(500_000, seed=2)
    assert snapshots.read(settings, other_partition) == b"{}"


def test_a_manifest_whose_chunks_are_gone_says_so(settings: Settings) -> None:
    """Chunks the partition never held (or compaction removed) are named, not waited for."""
    written = snapshots.write(settings, 0, 0, b'{"a": 1}')
    gone = snapshots.Manifest(written.topic, 0, 0, (written.offsets[0] + 5,), 8, 8)
    with pytest.raises(snapshots.SnapshotError, match="1 of the snapshot's 1 chunks are gone"):
        snapshots.read(settings, gone)


def test_the_snapshot_topic_is_compacted(settings: Settings) -> None:
    """Each slot's chunks replace that slot's previous ones: the topic does not grow for ever."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, snapshots.topic_name(settings))]
        )
    finally:
        admin.close()
    (configs,) = (by_name for by_type in described.values() for by_name in by_type.values())
    assert "compact" in str(configs["cleanup.policy"])
