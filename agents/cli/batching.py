"""Many tweets per message: how Resonance's own producers (`replay`, `demo`) send tweets.

The worker pays Faust's per-message cost once per input message, so a message carrying a batch
(a JSON array of tweets, `models.wire.parse_object`) costs it a few hundredths of one carrying a
single tweet. Each tweet goes in the batch of the partition its cascade key would have picked on
its own (Kafka's murmur2 partitioning, as for a keyed message), so a cascade's tweets keep their
order whether they are sent alone or in batches, by us or by anyone else.

>>> batches = TweetBatches(partitions=[0, 1])
>>> batches.add(b"a", b'{"id":"a"}'), batches.add(b"d", b'{"id":"d"}'), batches.add(b"a", b'{"id":"e"}')
([], [], [])
>>> batches.flush()
[(0, b'a', b'[{"id":"a"},{"id":"e"}]'), (1, b'd', b'[{"id":"d"}]')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kafka.partitioner.default import murmur2

BATCH_TWEETS = 500  # tweets per message at most ...
BATCH_BYTES = 512 * 1024  # ... and bytes, well inside the broker's 1 MiB default

Message = tuple[int, bytes, bytes]
"""A batch to send: (partition, key, value)."""


@dataclass(slots=True)
class _Batch:
    key: bytes  # the first tweet's cascade key, which picked the partition
    values: list[bytes] = field(default_factory=list)
    size: int = 0


class TweetBatches:
    """Tweets queued per partition of one topic, given out as messages when full or on `flush`."""

    def __init__(self, partitions: Sequence[int]) -> None:
        """Batch for a topic with these `partitions`."""
        self._partitions = sorted(partitions)
        self._batches: dict[int, _Batch] = {}

    def partition_of(self, key: bytes) -> int:
        """The partition Kafka's default partitioner picks for a message keyed `key`."""
        hashed: int = murmur2(key)
        return self._partitions[(hashed & 0x7FFFFFFF) % len(self._partitions)]

    def add(self, key: bytes, value: bytes) -> list[Message]:
        """Queue one tweet's JSON `value` under its cascade `key`; the batch this filled, if any."""
        partition = self.partition_of(key)
        batch = self._batches.get(partition)
        if batch is None:
            batch = self._batches[partition] = _Batch(key)
        batch.values.append(value)
        batch.size += len(value) + 1
        if len(batch.values) >= BATCH_TWEETS or batch.size >= BATCH_BYTES:
            return [_message(partition, self._batches.pop(partition))]
        return []

    def flush(self) -> list[Message]:
        """Every queued batch, as messages; none is left queued."""
        batches, self._batches = self._batches, {}
        return [_message(partition, batch) for partition, batch in sorted(batches.items())]


def _message(partition: int, batch: _Batch) -> Message:
    return partition, batch.key, b"[" + b",".join(batch.values) + b"]"
