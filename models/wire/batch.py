"""The internal batch format: many items in one Kafka message between the worker's stages.

Faust pays about 125 µs of stream machinery per message whatever the message holds, so the
stages exchange batches: one message carries every item bound for one partition of the next
stage, each item stamped with its source position. A stage that restarts from a checkpoint sends
again what it had sent since, possibly cut into other batches; the next stage recognises every
item it already has by that position (`agents.checkpoints.SourcePositions`), not by the message.

A batch message is a JSON array of ``[partition, offset, index, item]``: the input partition
and offset the item came from, its index among the items that input message caused, and the
item itself (a native event object, or a hashtag use).

>>> from datetime import UTC, datetime
>>> use = HashtagUse(tag="ai", user_id="u1", at=datetime(2024, 1, 1, tzinfo=UTC))
>>> raw = encode_uses([((3, 17, 0), use)])
>>> raw
b'[[3,17,0,["ai","u1",1704067200000]]]'
>>> decode_uses(raw) == [((3, 17, 0), use)]
True
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from models.records import HashtagUse

Position = tuple[int, int, int]
"""Where an item came from: (input partition, input offset, index among the items it caused)."""


def partition_for(key: str, partitions: int) -> int:
    """The partition of the next stage that owns `key`: the same for every stage and process.

    >>> partition_for("1234", 4)
    3
    """
    return zlib.crc32(key.encode()) % partitions


def encode_events(items: Iterable[tuple[Position, dict[str, Any]]]) -> bytes:
    """A batch of native event objects (`to_native`), each with its source position."""
    return orjson.dumps([[p, o, i, native] for (p, o, i), native in items])


def decode_events(raw: bytes) -> list[tuple[Position, dict[str, Any]]]:
    """The (position, native object) items of an `encode_events` batch."""
    return [((p, o, i), native) for p, o, i, native in orjson.loads(raw)]


def encode_uses(items: Iterable[tuple[Position, HashtagUse]]) -> bytes:
    """A batch of hashtag uses, each ``[tag, user_id, epoch ms]``, with its source position."""
    return orjson.dumps(
        [[p, o, i, [use.tag, use.user_id, int(use.at.timestamp() * 1000)]] for (p, o, i), use in items]
    )


def decode_uses(raw: bytes) -> list[tuple[Position, HashtagUse]]:
    """The (position, use) items of an `encode_uses` batch."""
    return [
        ((p, o, i), HashtagUse(tag=tag, user_id=user, at=datetime.fromtimestamp(ms / 1000, tz=UTC)))
        for p, o, i, (tag, user, ms) in orjson.loads(raw)
    ]
