"""Where records go: alerts to the alerts topic (keyed by their stable key), every other record
to the metrics topic (keyed by what it is about), each accounted for in the instruments; and how
every message the worker sends is handed to the producer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from agents.instruments import Instruments
from agents.topics import Topics
from models.records import Alert, Record

YIELD_EVERY = 256  # records published between two turns of the event loop (a few milliseconds of work)


def record_key(record: Record) -> bytes:
    """The topic key of a record: an alert's stable key, or what the record is about."""
    subject = (
        getattr(record, "key", None)
        or getattr(record, "root_id", None)
        or getattr(record, "user_id", None)
        or getattr(record, "tag", None)
        or getattr(record, "layer", None)
    )
    return (subject or record.kind).encode()


async def send(
    topic: Any,
    *,
    key: bytes | None,
    value: bytes,
    partition: int | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Hand one message for `topic` (a Faust topic) to the app's producer. Faust's own
    `Topic.send` wraps each message in futures, callbacks and sensor calls that cost about as
    much as the send itself (profiled: a cascade record per retweet made it a tenth of the
    worker's time), and the worker uses none of them: a checkpoint waits for the producer's flush.
    """
    await topic.app.producer.send(topic.get_topic_name(), key, value, partition, None, headers)


async def send_records(topics: Topics, instruments: Instruments, records: Iterable[Record]) -> None:
    """Publish `records` in order, letting the event loop run other work every `YIELD_EVERY`
    records: the producer's `send` returns without yielding while its buffer has room, and an
    idle view or a boundary of a large window publishes thousands of records at once.
    """
    for count, record in enumerate(records, 1):
        instruments.published(record)
        topic = topics.alerts if isinstance(record, Alert) else topics.metrics
        await send(topic, key=record_key(record), value=record.to_bytes())
        if count % YIELD_EVERY == 0:
            await asyncio.sleep(0)
