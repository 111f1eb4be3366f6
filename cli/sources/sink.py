"""What every live source shares: sending events to the input topic, once each, and the state it
resumes from.

A source parses each network event (`models.wire`), and queues the tweet events in `TweetBatches`
(many to a message, each in its cascade's partition, as `replay` sends them). A batch goes out
when it is full or `linger_seconds` after its first event. The source's position (Jetstream's
cursor, Mastodon's last status id) is saved only once every event before it is acknowledged by
Kafka (`Sink.settle`), so a crash or a disconnect loses nothing: the source resumes from the
saved position, a little before it, and `Recent` drops what was already sent. Memory stays
bounded: at most `BATCH_TWEETS` events per partition wait, and `Recent` keeps the ids of the last
`RECENT_IDS` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError

from agents.errors import kafka_unreachable
from agents.kafka_security import kafka_python_options
from agents.settings import Settings
from cli.base import UsageError, say
from cli.batching import TweetBatches
from models.event import TweetEvent
from models.wire import to_native

RECENT_IDS = 100_000
"""Ids of the latest events sent, to drop them when a resumed stream repeats them: far more than a
rewind of a few seconds repeats (Bluesky's whole network makes ~1,000 events a second)."""


class Recent:
    """The ids of the last `limit` events sent, oldest forgotten first.

    >>> recent = Recent(limit=2)
    >>> [recent.first("a"), recent.first("b"), recent.first("a"), recent.first("c"), recent.first("a")]
    [True, True, False, True, True]
    """

    def __init__(self, ids: list[str] | None = None, *, limit: int = RECENT_IDS) -> None:
        """Remember `ids` (oldest first), at most `limit` at a time."""
        self._limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()
        for event_id in ids or []:
            self.first(event_id)

    def first(self, event_id: str) -> bool:
        """True, and remember it, unless `event_id` was seen among the last `limit`."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._limit:
            self._ids.popitem(last=False)
        return True

    def latest(self, count: int) -> list[str]:
        """The `count` latest ids, oldest first."""
        return list(self._ids)[-count:] if count else []


@dataclass(slots=True)
class StateFile:
    """A source's position and the ids it sent last, kept across restarts in a JSON file.

    Written atomically (a temporary file, synced, renamed), so a crash leaves the old state or the
    new one, never half of one. `source` names the stream it belongs to: a state file of another
    stream is refused rather than resumed from.
    """

    path: Path
    source: dict[str, Any]

    def load(self) -> tuple[Any, list[str]]:
        """(position, recent ids) saved last, or (None, []) when the file does not exist yet."""
        if not self.path.exists():
            return None, []
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as error:
            raise UsageError(
                f"--state {self.path} is not a source's state ({error}); delete it to start afresh"
            ) from None
        if not isinstance(data, dict) or data.get("source") != self.source:
            owner = data.get("source") if isinstance(data, dict) else data
            raise UsageError(
                f"--state {self.path} belongs to another stream ({owner}); give another file, or delete it "
                "to start afresh"
            )
        return data.get("position"), list(data.get("recent", []))

    def save(self, position: Any, recent: list[str]) -> None:
        """Record the position and the ids sent just before it."""
        partial = self.path.with_name(f"{self.path.name}.tmp")
        with partial.open("wb") as out:
            out.write(orjson.dumps({"source": self.source, "position": position, "recent": recent}))
            out.flush()
            os.fsync(out.fileno())
        partial.replace(self.path)


@dataclass(slots=True)
class Counts:
    """What a source has done since it started, for its rate line and its summary."""

    received: int = 0  # network events read
    sent: int = 0  # tweet events sent (posts, reposts, likes)
    repeated: int = 0  # events dropped because they were sent already (a resumed stream repeats some)
    counted: dict[str, int] = field(default_factory=dict)  # not sent, by what they were: deletes, edits...
    reconnects: int = 0

    def count(self, what: str) -> None:
        """One more event of kind `what` counted, not sent."""
        self.counted[what] = self.counted.get(what, 0) + 1

    def line(self, elapsed_seconds: float) -> str:
        """One line: totals and the rate of events sent."""
        rate = self.sent / elapsed_seconds if elapsed_seconds > 0 else 0.0
        counted = ", ".join(f"{n} {what}" for what, n in sorted(self.counted.items())) or "none"
        return (
            f"{self.received} events read, {self.sent} sent ({rate:.1f}/s), {self.repeated} repeated "
            f"dropped, counted not sent: {counted}; {self.reconnects} reconnects"
        )


class Sink:
    """Tweet events to the input topic, batched by cascade partition, each sent once."""

    def __init__(
        self, settings: Settings, topic: str, *, recent: list[str], linger_seconds: float = 0.5
    ) -> None:
        """Connect a producer to `settings`' cluster; `recent`: ids sent before a restart."""
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=settings.bootstrap_servers,
                linger_ms=5,
                acks="all",
                **kafka_python_options(settings),
            )
            partitions = self._producer.partitions_for(topic) or {0}
        except KafkaError as error:
            raise kafka_unreachable(settings.bootstrap_servers, error) from None
        self._topic = topic
        # Batches go out on time, not by event-time span: a live stream is in time order already.
        self._batches = TweetBatches(sorted(partitions), span=timedelta(days=365))
        self._linger_seconds = linger_seconds
        self._oldest: float | None = None  # monotonic time the oldest queued event came
        self._futures: list[Any] = []
        self.recent = Recent(recent)
        self.counts = Counts()
        self.started = time.monotonic()

    def add(self, event: TweetEvent) -> bool:
        """Queue `event` unless it was sent already; whether it was queued."""
        if not self.recent.first(event.id):
            self.counts.repeated += 1
            return False
        value = orjson.dumps(to_native(event))
        self._send(self._batches.add(event.cascade_key.encode(), value, event.at))
        self.counts.sent += 1
        if self._oldest is None:
            self._oldest = time.monotonic()
        return True

    def due(self) -> bool:
        """Whether the oldest queued event has waited `linger_seconds`."""
        return self._oldest is not None and time.monotonic() - self._oldest >= self._linger_seconds

    def _send(self, messages: list[tuple[int, bytes, bytes]]) -> None:
        for partition, key, value in messages:
            self._futures.append(self._producer.send(self._topic, key=key, value=value, partition=partition))

    async def settle(self) -> None:
        """Send what is queued and wait until Kafka has acknowledged every message sent so far;
        raise `UsageError` if it refused one.
        """
        self._send(self._batches.flush())
        self._oldest = None
        futures, self._futures = self._futures, []
        if not futures:
            return
        await asyncio.to_thread(self._producer.flush)
        for future in futures:
            try:
                future.get(timeout=0)
            except KafkaError as error:
                raise UsageError(f"Kafka refused a batch for {self._topic!r}: {error}") from None

    def close(self) -> None:
        """Close the producer (call `settle` first: queued events are dropped)."""
        self._producer.close()

    def report(self, name: str) -> None:
        """Print the rate line."""
        say(f"{name}: {self.counts.line(time.monotonic() - self.started)}")


class Backoff:
    """Delays before reconnecting: doubling from `first_seconds` to `max_seconds`, reset by a
    connection that delivered something.

    >>> backoff = Backoff(first_seconds=1, max_seconds=5)
    >>> [backoff.next() for _ in range(5)]
    [1, 2, 4, 5, 5]
    """

    def __init__(self, *, first_seconds: float = 1.0, max_seconds: float = 60.0) -> None:
        """Start at `first_seconds`."""
        self._first = first_seconds
        self._max = max_seconds
        self._next = first_seconds

    def next(self) -> float:
        """The delay before the next attempt."""
        delay = self._next
        self._next = min(self._next * 2, self._max)
        return delay

    def reset(self) -> None:
        """A connection worked: the next failure waits `first_seconds` again."""
        self._next = self._first

    async def pause(self, name: str, stop: asyncio.Event, counts: Counts) -> None:
        """After a disconnect: count it, say when source `name` tries again, and wait until then
        (or until `stop` is set).
        """
        delay = self.next()
        counts.reconnects += 1
        say(f"{name}: disconnected; reconnecting in {delay:g} s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


TICK_SECONDS = 0.5


async def tick(
    stop: asyncio.Event,
    *,
    sink: Sink,
    checkpoint: Callable[[], Awaitable[None]],
    report: Callable[[], None],
    report_seconds: float,
) -> None:
    """Until `stop` is set, every `TICK_SECONDS`: `checkpoint` when `sink` has a batch due, and
    `report` the rate every `report_seconds`.
    """
    waited = 0.0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_SECONDS)
        if sink.due():
            await checkpoint()
        waited += TICK_SECONDS
        if waited >= report_seconds:
            report()
            waited = 0.0


async def cancelled(task: asyncio.Task[None]) -> None:
    """Cancel `task` and wait until it has stopped."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
