"""Stage snapshots in Kafka: compressed, cut into chunks, in a compacted topic per stage.

A stage's state grows with its window (a window of the Higgs file snapshots to 150 MB of JSON,
the accept stage's ids of a million tweets to tens of MB), beyond what one changelog message may
hold, and too much for the worker's event loop to encode, copy, checksum and send. So a fork
encodes the snapshot and writes it here (`agents.forking`; for the conversation stage, a fork of
its analyzer's process), and the stage's checkpoint, in its changelog, holds only the small
`Manifest` that says where the chunks are.

Two slots per stage partition. A snapshot is written to the slot its partition's durable
checkpoint does not name (`agents.checkpoints` picks it), and each chunk's key is
`partition/slot/index`, so compaction removes a chunk only once the same slot is written again,
which happens only after a checkpoint naming the other slot was durable. A crash between the
chunks and the checkpoint leaves the durable checkpoint and its slot intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import zstandard
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from agents.kafka_admin import ensure_topics
from agents.kafka_security import kafka_python_options
from agents.settings import Settings

CHUNK_BYTES = 900 * 1024  # under the broker's default limit on one message (1 MiB with framing)
COMPRESSION_LEVEL = 3  # zstd: JSON of the window's arrays shrinks about tenfold at 300+ MB/s
WAIT_SECONDS = 120.0  # the longest a write or a read waits for the broker
TOPIC_CONFIGS = {
    "cleanup.policy": "compact",
    # Compaction only cleans closed segments: roll them often enough that a slot written again
    # frees the previous snapshot's bytes within minutes, not after a gigabyte.
    "segment.ms": str(10 * 60 * 1000),
    "min.compaction.lag.ms": "0",
}


class SnapshotError(RuntimeError):
    """A snapshot could not be written or read back; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """Where one snapshot is: its chunks' offsets in partition `partition` of `topic`, under slot
    `slot`; `size` bytes of JSON once decompressed, `stored` bytes in Kafka.
    """

    topic: str
    partition: int
    slot: int
    offsets: tuple[int, ...]
    size: int
    stored: int

    def plain(self) -> dict[str, Any]:
        """Plain data, as a checkpoint holds it."""
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Manifest:
        """The manifest `plain` gave; KeyError or TypeError when `data` is not one."""
        return cls(**{**data, "offsets": tuple(data["offsets"])})


@dataclass(frozen=True, slots=True)
class Store:
    """The snapshots of one stage (`stage`, as its checkpoint table is named) of the deployment
    `settings` describe, in the topic `<app id>-<stage>-snapshots`.
    """

    settings: Settings
    stage: str

    @property
    def topic(self) -> str:
        """The stage's snapshot topic."""
        return f"{self.settings.app_id}-{self.stage}-snapshots"

    def create(self, partitions: int) -> None:
        """Create the snapshot topic, compacted, with one partition per stage partition, when it
        does not exist yet.
        """
        ensure_topics(
            self.settings.bootstrap_servers,
            [self.topic],
            partitions=partitions,
            security=kafka_python_options(self.settings),
            configs=TOPIC_CONFIGS,
        )

    def write(
        self, partition: int, slot: int, data: bytes, abandoned: Callable[[], bool] = lambda: False
    ) -> Manifest:
        """Store `data` (a snapshot's JSON) for stage partition `partition` in `slot`, and say
        where; SnapshotError when the broker does not take it within `WAIT_SECONDS`, or when
        `abandoned()` turns true before the last chunk is sent: a process that gave the partition
        up must not write chunks over those of the slot its next owner is writing.
        """
        packed = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL).compress(data)
        try:
            producer = KafkaProducer(
                bootstrap_servers=self.settings.bootstrap_servers,
                client_id="resonance-snapshots",
                acks="all",
                max_request_size=CHUNK_BYTES + 64 * 1024,
                **kafka_python_options(self.settings),
            )
        except KafkaError as error:
            raise SnapshotError(f"cannot reach Kafka to write a snapshot: {error!r}") from None
        try:
            sent = []
            for index, start in enumerate(range(0, max(len(packed), 1), CHUNK_BYTES)):
                if abandoned():
                    raise SnapshotError("the snapshot was abandoned: the process that asked for it is gone")
                chunk = packed[start : start + CHUNK_BYTES]
                key = _key(partition, slot, index)
                sent.append(producer.send(self.topic, key=key, value=chunk, partition=partition))
            offsets = tuple(future.get(timeout=WAIT_SECONDS).offset for future in sent)
        except KafkaError as error:
            raise SnapshotError(f"a snapshot could not be written to {self.topic}: {error!r}") from None
        finally:
            producer.close(timeout=WAIT_SECONDS)
        return Manifest(self.topic, partition, slot, offsets, len(data), len(packed))

    def read(self, manifest: Manifest) -> bytes:
        """The snapshot's JSON that `manifest` names; SnapshotError when a chunk is missing
        (removed by compaction, or never written) or the broker does not answer within
        `WAIT_SECONDS`.
        """
        where = TopicPartition(manifest.topic, manifest.partition)
        wanted = {
            offset: _key(manifest.partition, manifest.slot, index)
            for index, offset in enumerate(manifest.offsets)
        }
        chunks: dict[int, bytes] = {}
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.settings.bootstrap_servers,
                client_id="resonance-snapshots",
                enable_auto_commit=False,
                **kafka_python_options(self.settings),
            )
        except KafkaError as error:
            raise SnapshotError(f"cannot reach Kafka to read a snapshot: {error!r}") from None
        try:
            consumer.assign([where])
            end = consumer.end_offsets([where])[where]
            position = manifest.offsets[0]
            consumer.seek(where, position)
            while position <= manifest.offsets[-1] and position < end:
                got = consumer.poll(timeout_ms=int(WAIT_SECONDS * 1000), max_records=64).get(where, [])
                if not got:
                    raise SnapshotError(
                        f"{manifest.topic}[{manifest.partition}] gave nothing from offset {position} "
                        f"within {WAIT_SECONDS:.0f} s"
                    )
                for message in got:
                    if wanted.get(message.offset) == message.key:
                        chunks[message.offset] = message.value
                    position = message.offset + 1
        finally:
            consumer.close()
        missing = [offset for offset in manifest.offsets if offset not in chunks]
        if missing:
            raise SnapshotError(
                f"{len(missing)} of the snapshot's {len(manifest.offsets)} chunks are gone from "
                f"{manifest.topic}[{manifest.partition}] (first at offset {missing[0]})"
            )
        packed = b"".join(chunks[offset] for offset in manifest.offsets)
        return zstandard.ZstdDecompressor().decompress(packed, max_output_size=manifest.size)


def _key(partition: int, slot: int, index: int) -> bytes:
    return f"{partition}/{slot}/{index}".encode()
