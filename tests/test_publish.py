"""Publishing many records at once lets the worker's other work run in between, in order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from prometheus_client import CollectorRegistry

from agents import publish
from agents.instruments import Instruments
from agents.topics import Topics
from models.records import HashtagCount, Trigger

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class _Producer:
    """Keeps what is sent, and notes when another task ran in between."""

    sent: list[bytes] = field(default_factory=list)
    others_ran_after: list[int] = field(default_factory=list)

    async def send(self, _topic: str, key: bytes, *_: Any) -> None:
        self.sent.append(key)


@dataclass
class _Topic:
    app: Any
    name: str

    def get_topic_name(self) -> str:
        return self.name


def test_a_large_batch_of_records_is_sent_in_order_without_holding_the_loop() -> None:
    """A thousand records go out in order, and a task waiting on the loop runs before the last."""
    producer = _Producer()
    app = type("App", (), {"producer": producer})()
    topics = cast(
        "Topics", type("T", (), {"metrics": _Topic(app, "metrics"), "alerts": _Topic(app, "alerts")})()
    )
    instruments = Instruments.create(CollectorRegistry(), top_n=5)
    records = [
        HashtagCount(
            at=T0,
            window=timedelta(minutes=15),
            lateness=timedelta(0),
            trigger=Trigger.BOUNDARY,
            tag=f"t{n}",
            count=1,
            users=1,
        )
        for n in range(1_000)
    ]

    async def scenario() -> None:
        async def other() -> None:
            producer.others_ran_after.append(len(producer.sent))

        waiting = asyncio.ensure_future(other())
        await publish.send_records(topics, instruments, records)
        await waiting

    asyncio.run(scenario())
    assert producer.sent == [f"t{n}".encode() for n in range(1_000)]
    [ran_after] = producer.others_ran_after
    assert ran_after == publish.YIELD_EVERY  # at the first turn of the loop, not after the last record
