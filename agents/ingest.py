"""Stage 1: decode every input message; tweets go on in batches to the partition that owns their
cascade (`TweetEvent.cascade_key`), the rest to dead letters.

Dead letters keep the message's original bytes as their value; the reason, a detail, the source
topic, partition and offset (and, for one bad tweet inside a page or batch, its index) travel as
headers, so nothing is lost and a fixed message can be replayed as it was.

The stage keeps no state of its own, but it is checkpointed like the others (`agents.checkpoints`):
its input is then read strictly in offset order and acked only once what it sent is durable, so a
message Faust skips across a rebalance is fetched again rather than lost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from agents import stage
from agents.checkpoints import Checkpointed, Codec
from agents.instruments import Instruments
from agents.outbox import Outbox
from agents.publish import send
from agents.topics import Topics
from models.wire import Rejection, parse_message, to_native
from models.wire.batch import encode_events, partition_for


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


def register(  # noqa: PLR0913 - keyword-only wiring, one parameter per collaborator
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    max_message_bytes: int,
    clock_skew: timedelta,
    checkpoint_seconds: float,
) -> Any:
    """Add the ingest agent to `app`."""
    offsets: Checkpointed[None] = Checkpointed(
        app,
        "ingest",
        topic=topics.tweets.get_topic_name(),
        partitions=topics.tweets.partitions,
        codec=Codec.stateless(),
        every_seconds=checkpoint_seconds,
        instruments=instruments,
    )
    events: Outbox[dict[str, Any]] = Outbox(topics.events, encode_events)
    partitions = topics.events.partitions

    async def ingest_one(event: Any) -> None:
        message = event.message
        raw: bytes = event.value or b""
        instruments.messages.inc()
        not_after = datetime.now(UTC) + clock_skew
        for index, result in enumerate(parse_message(raw, max_bytes=max_message_bytes, not_after=not_after)):
            if isinstance(result, Rejection):
                instruments.rejected.labels(result.reason.value).inc()
                await send(
                    topics.dead_letters,
                    key=message.key,
                    value=raw,
                    headers=dead_letter_headers(result, message.topic, message.partition, message.offset),
                )
            else:
                key = result.cascade_key
                source = (message.partition, message.offset, index)
                events.add(partition_for(key, partitions), key, source, to_native(result))

    @app.agent(topics.tweets, name="ingest")
    async def ingest(stream: Any) -> None:
        await stage.run(stream, checkpoints=offsets, outboxes=[events], process=ingest_one)

    return ingest
