"""Snapshots too large for one message go to the real broker in chunks and come back whole, also
when a fork of this process writes them for a stage's checkpoint.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from agents.checkpoints import Codec
from agents.settings import Settings
from agents.snapshots import Manifest, SnapshotError, Store
from streams.dedup import SeenIds


@pytest.fixture
def store(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Store:
    """A stage's store in a deployment of its own on the session's broker, its topic created
    (2 partitions).
    """
    settings = Settings(bootstrap_servers=kafka_bootstrap, app_id=f"snapshots-{request.node.name[:60]}")
    made = Store(settings, "stage")
    made.create(2)
    return made


def _snapshot_like(size: int, seed: int) -> bytes:
    """JSON-ish bytes, half of them random: compression leaves several chunks' worth."""
    rng = random.Random(seed)
    noise = rng.randbytes(size // 2).hex()[: size // 2]
    return (b'{"edges": [' + b"1, 2, 3, " * (size // 18) + noise.encode() + b"]}")[:size]


def test_a_snapshot_of_many_chunks_comes_back_byte_for_byte(store: Store) -> None:
    """Written to one stage partition's slot, read back from the manifest alone; the other slot
    and the other partition, written after it, change nothing.
    """
    data = _snapshot_like(4_000_000, seed=1)
    manifest = store.write(1, 0, data)
    other_slot = store.write(1, 1, _snapshot_like(500_000, seed=2))
    other_partition = store.write(0, 0, b"{}")

    assert len(manifest.offsets) > 1
    assert (manifest.size, manifest.partition, manifest.slot) == (len(data), 1, 0)
    assert manifest.stored < manifest.size
    assert store.read(Manifest.of(manifest.plain())) == data
    assert store.read(other_slot) == _snapshot_like(500_000, seed=2)
    assert store.read(other_partition) == b"{}"


def test_a_manifest_whose_chunks_are_gone_says_so(store: Store) -> None:
    """Chunks the partition never held (or compaction removed) are named, not waited for."""
    written = store.write(0, 0, b'{"a": 1}')
    gone = Manifest(written.topic, 0, 0, (written.offsets[0] + 5,), 8, 8)
    with pytest.raises(SnapshotError, match="1 of the snapshot's 1 chunks are gone"):
        store.read(gone)


def test_the_snapshot_topic_is_compacted(store: Store) -> None:
    """Each slot's chunks replace that slot's previous ones: the topic does not grow for ever."""
    admin = KafkaAdminClient(bootstrap_servers=store.settings.bootstrap_servers)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, store.topic)])
    finally:
        admin.close()
    (configs,) = (by_name for by_type in described.values() for by_name in by_type.values())
    assert "compact" in str(configs["cleanup.policy"])


def test_a_core_snapshotted_by_a_fork_is_restored_as_it_stood_when_asked(store: Store) -> None:
    """`Codec.forked`: a fork writes the state to the store as it was when the checkpoint was
    asked for (the stage changing it meanwhile), and the manifest alone restores it.
    """
    codec = Codec.forked(SeenIds, timedelta(minutes=5), store)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = codec.create(1)
    for n in range(20_000):
        ids.first_time(f"tweet-{n}", start + timedelta(milliseconds=n))
    expected = orjson.loads(orjson.dumps(ids.snapshot()))

    async def checkpoint() -> bytes:
        written = codec.encode(ids, 1, 0)
        ids.first_time("after-the-ask", start + timedelta(seconds=30))
        return await written

    manifest = orjson.loads(asyncio.run(checkpoint()))
    assert (manifest["partition"], manifest["slot"], manifest["topic"]) == (1, 0, store.topic)
    restored = codec.load(1, manifest)
    assert orjson.loads(orjson.dumps(restored.snapshot())) == expected
    assert not restored.first_time("tweet-7", start)  # a repeat it remembers
    assert restored.first_time("after-the-ask", start + timedelta(seconds=30))
