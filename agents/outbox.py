"""What a stage sends to the next one, batched: one Kafka message per destination partition.

Items are added as events are processed and sent when the stage flushes (`agents.stage`): when
its input has nothing more waiting, or a group is full. A message never exceeds `max_bytes`: a
group whose encoding is larger is cut in two, again while needed, so a few large tweets cannot
make a batch the broker refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from agents.publish import send
from models.wire.batch import Position

T = TypeVar("T")

MAX_ITEMS = 1_000  # items per group before the stage flushes
# Below the broker's default `message.max.bytes` (1 MiB plus the batch header), with room to spare.
MAX_BYTES = 900_000


@dataclass(slots=True)
class _Group(Generic[T]):
    key: bytes  # the first item's key: the group's partition is the one that owns it
    items: list[tuple[Position, T]] = field(default_factory=list)


class Outbox(Generic[T]):
    """Items bound for one topic, grouped by destination partition until `flush`."""

    def __init__(self, topic: Any, encode: Callable[[Sequence[tuple[Position, T]]], bytes]) -> None:
        """Send to `topic` (a Faust topic), each group as one message `encode` makes."""
        self._topic = topic
        self._encode = encode
        self._groups: dict[int, _Group[T]] = {}
        self.full = False  # a group holds MAX_ITEMS: the stage should flush

    def add(self, partition: int, key: str, source: Position, item: T) -> None:
        """Queue `item`, from `source`, for `partition` (the one that owns `key`)."""
        group = self._groups.get(partition)
        if group is None:
            group = self._groups[partition] = _Group(key.encode())
        group.items.append((source, item))
        if len(group.items) >= MAX_ITEMS:
            self.full = True

    async def flush(self) -> int:
        """Hand every queued item to the producer, in order per partition; the messages sent."""
        groups, self._groups, self.full = self._groups, {}, False
        sent = 0
        for partition, group in groups.items():
            for value in self._messages(group.items):
                await send(self._topic, key=group.key, value=value, partition=partition)
                sent += 1
        return sent

    def _messages(self, items: Sequence[tuple[Position, T]]) -> list[bytes]:
        """`items` encoded in as few messages as `MAX_BYTES` allows, in order."""
        value = self._encode(items)
        if len(value) <= MAX_BYTES or len(items) == 1:
            return [value]
        half = len(items) // 2
        return self._messages(items[:half]) + self._messages(items[half:])
