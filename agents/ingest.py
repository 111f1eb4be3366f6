"""Stage 1: decode every input message; tweets go on re-keyed by id, the rest to dead letters.

Dead letters keep the message's original bytes as their value; the reason, a detail, the source
topic, partition and offset (and, for one bad tweet inside a page, its index) travel as headers,
so nothing is lost and a fixed message can be replayed as it was.
"""

from __future__ import annotations

from typing import Any

import faust
import orjson

from agents.checkpoints import source_header
from agents.instruments import Instruments
from agents.topics import Topics
from models.wire import Rejection, parse_message, to_native


def dead_letter_headers(
    rejection: Rejection, topic: str, partition: int, offset: int
) -> list[tuple[str, bytes]]:
    """The headers that say why and where a message was dead-lettered."""
    headers = [
        ("resonance.reason", rejection.reason.value.encode()),
        ("resonance.detail", rejection.detail.encode()),
        ("resonance.source.topic", topic.encode()),
        ("resonance.source.partition", str(partition).encode()),
        ("resonance.source.offset", str(offset).encode()),
    ]
    if rejection.index is not None:
        headers.append(("resonance.source.index", str(rejection.index).encode()))
    return headers


def register(app: faust.App, *, topics: Topics, instruments: Instruments, max_message_bytes: int) -> Any:
    """Add the ingest agent to `app`."""

    @app.agent(topics.tweets, name="ingest")
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            raw: bytes = event.value or b""
            instruments.messages.inc()
            for index, result in enumerate(parse_message(raw, max_bytes=max_message_bytes)):
                if isinstance(result, Rejection):
                    instruments.rejected.labels(result.reason.value).inc()
                    await topics.dead_letters.send(
                        key=message.key,
                        value=raw,
                        headers=dead_letter_headers(result, message.topic, message.partition, message.offset),
                    )
                else:
                    await topics.events.send(
                        key=result.id.encode(),
                        value=orjson.dumps(to_native(result)),
                        headers=[source_header(message.partition, message.offset, index)],
                    )

    return ingest
