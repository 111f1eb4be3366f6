"""Where records go: alerts to the alerts topic (keyed by their stable key), every other record
to the metrics topic (keyed by what it is about), each accounted for in the instruments.
"""

from __future__ import annotations

from collections.abc import Iterable

from agents.instruments import Instruments
from agents.topics import Topics
from models.records import Alert, Record


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


async def send_records(topics: Topics, instruments: Instruments, records: Iterable[Record]) -> None:
    """Publish `records` in order."""
    for record in records:
        instruments.published(record)
        topic = topics.alerts if isinstance(record, Alert) else topics.metrics
        await topic.send(key=record_key(record), value=record.to_bytes())
