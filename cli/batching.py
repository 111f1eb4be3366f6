"""Many tweets per message: how Resonance's own producers (`replay`, `demo`) send tweets.

The worker pays Faust's per-message cost once per input message, so a message carrying a batch
(a JSON array of tweets, `models.wire.parse_object`) costs it a few hundredths of one carrying a
single tweet. Each tweet goes in the batch of the partition its cascade key would have picked on
its own (Kafka's murmur2 partitioning, as for a keyed message), so a cascade's tweets keep their
order whether they are sent alone or in batches, by us or by anyone else.

Batches go out in rounds: every partition's at once, when one is full or when the tweets queued
span more than `span` of event time. The worker reads a partition's batch whole before the next
partition's, so the tweets of one round arrive up to its span out of event-time order: keep it
within the worker's lateness (replay uses half of `RESONANCE_LATENESS`).

>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
>>> batches = TweetBatches(partitions=[0, 1], span=timedelta(minutes=1))
>>> batches.add(b"a", b'{"id":"a"}', t0), batches.add(b"d", b'{"id":"d"}', t0)
([], [])
>>> batches.add(b"a", b'{"id":"e"}', t0 + timedelta(seconds=30))
[]
>>> batches.add(b"a", b'{"id":"f"}', t0 + timedelta(minutes=2))  # past the span: the round goes
[(0, b'a', b'[{"id":"a"},{"id":"e"}]'), (1, b'd', b'[{"id":"d"}]')]
>>> batches.flush()
[(0, b'a', b'[{"id":"f"}]')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
    """Tweets queued per partition of one topic, given out as messages in rounds (see above)."""

    def __init__(self, partitions: Sequence[int], *, span: timedelta) -> None:
        """Batch for a topic with these `partitions`; a round spans at most `span` of event time."""
        self._partitions = sorted(partitions)
        self._span = span
        self._batches: dict[int, _Batch] = {}
        self._round: tuple[datetime, datetime] | None = None  # the event times queued: (earliest, latest)

    def partition_of(self, key: bytes) -> int:
        """The partition Kafka's default partitioner picks for a message keyed `key`."""
        hashed: int = murmur2(key)
        return self._partitions[(hashed & 0x7FFFFFFF) % len(self._partitions)]

    def add(self, key: bytes, value: bytes, at: datetime) -> list[Message]:
        """Queue one tweet's JSON `value`, posted `at`, under its cascade `key`; the round this
        ended, if any: before the tweet, when it would take the round past its span; with it, when
        it filled a batch.
        """
        ended = []
        if self._round is not None:
            earliest, latest = min(self._round[0], at), max(self._round[1], at)
            if latest - earliest > self._span:
                ended, earliest, latest = self.flush(), at, at
            self._round = earliest, latest
        else:
            self._round = at, at
        partition = self.partition_of(key)
        batch = self._batches.get(partition)
        if batch is None:
            batch = self._batches[partition] = _Batch(key)
        batch.values.append(value)
        batch.size += len(value) + 1
        if len(batch.values) >= BATCH_TWEETS or batch.size >= BATCH_BYTES:
            return ended + self.flush()
        return ended

    def flush(self) -> list[Message]:
        """Every queued batch, as messages; none is left queued, and the next tweet starts a round."""
        batches, self._batches, self._round = self._batches, {}, None
        return [_message(partition, batch) for partition, batch in sorted(batches.items())]


def _message(partition: int, batch: _Batch) -> Message:
    return partition, batch.key, b"[" + b",".join(batch.values) + b"]"
