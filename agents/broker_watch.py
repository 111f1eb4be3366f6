"""Whether the Kafka brokers answer: a probe every few seconds, a gauge, and a line in the log.

When every broker goes away, Faust and aiokafka retry for ever: the worker neither exits nor says
anything a person would read as "the broker is gone" (aiokafka logs a connection error per retry,
among thousands of others). Here a probe asks the cluster for its metadata, through a client of
its own with the worker's settings (security included), and:

- `/metrics` shows `resonance_broker_reachable` (1 or 0) and `resonance_broker_silence_seconds`
  (since the brokers last answered, read at scrape time);
- the log says WARNING at the first unanswered probe, ERROR every `REPORT_EVERY_SECONDS` while it
  lasts, and INFO once the brokers answer again (the worker then goes on by itself).

The decisions are in `BrokerContact`, a small state machine fed the probe's outcomes and the time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiokafka.client import AIOKafkaClient
from prometheus_client import CollectorRegistry, Gauge

from agents.kafka_security import kafka_python_options
from agents.settings import Settings

log = logging.getLogger(__name__)

PROBE_EVERY_SECONDS = 2.0
PROBE_TIMEOUT_SECONDS = 5.0
REPORT_EVERY_SECONDS = 30.0


@dataclass(slots=True)
class BrokerContact:
    """What the worker knows of its brokers, from probes made at the (monotonic) times given.

    `answered` and `unanswered` record one probe's outcome and return the line to log, if any,
    with its level: the first unanswered probe warns; while none answers, an error every
    `report_every_seconds`; the first answer after that says how long the brokers were away.

    >>> contact = BrokerContact(report_every_seconds=30.0, last_answer=0.0)
    >>> contact.unanswered(2.0, "refused")[0] == logging.WARNING
    True
    >>> contact.unanswered(4.0, "refused") is None
    True
    >>> contact.unanswered(32.0, "refused")[0] == logging.ERROR
    True
    >>> contact.answered(40.0)[1]
    'the Kafka brokers answer again, after 40 s without an answer'
    """

    report_every_seconds: float
    last_answer: float
    down_since: float | None = None
    _reported_at: float = 0.0

    @property
    def reachable(self) -> bool:
        """Whether the latest probe was answered."""
        return self.down_since is None

    def silence_seconds(self, now: float) -> float:
        """Seconds since the brokers last answered."""
        return max(0.0, now - self.last_answer)

    def answered(self, now: float) -> tuple[int, str] | None:
        """A probe was answered at `now`."""
        away, self.down_since = self.down_since, None
        silence = self.silence_seconds(now)
        self.last_answer = now
        if away is None:
            return None
        return logging.INFO, f"the Kafka brokers answer again, after {silence:.0f} s without an answer"

    def unanswered(self, now: float, error: str) -> tuple[int, str] | None:
        """A probe went unanswered at `now`, failing with `error`."""
        if self.down_since is None:
            self.down_since = self._reported_at = now
            return (
                logging.WARNING,
                (
                    f"the Kafka brokers do not answer ({error}); the worker waits for them and goes "
                    "on by itself when they are back"
                ),
            )
        if now - self._reported_at < self.report_every_seconds:
            return None
        self._reported_at = now
        return (
            logging.ERROR,
            (
                f"the Kafka brokers have not answered for {self.silence_seconds(now):.0f} s "
                f"({error}): nothing is consumed or published until they do"
            ),
        )


def metadata_probe(settings: Settings) -> Callable[[], Coroutine[Any, Any, None]]:
    """A probe that asks the cluster for its metadata through one client of its own (reconnecting
    as needed); it raises when no broker answers.
    """
    client: AIOKafkaClient | None = None

    async def probe() -> None:
        nonlocal client
        if client is None:
            fresh = AIOKafkaClient(
                bootstrap_servers=settings.bootstrap_servers,
                client_id=f"{settings.app_id}-broker-watch",
                request_timeout_ms=int(PROBE_TIMEOUT_SECONDS * 1000),
                **kafka_python_options(settings),  # aiokafka takes kafka-python's names for these
            )
            try:
                await fresh.bootstrap()
            except BaseException:
                await fresh.close()
                raise
            client = fresh
            return
        await client.fetch_all_metadata()

    return probe


def watcher(
    registry: CollectorRegistry,
    probe: Callable[[], Awaitable[None]],
    *,
    bootstrap: str,
    every_seconds: float = PROBE_EVERY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[], Coroutine[Any, Any, None]]:
    """A coroutine function that probes the brokers for ever, exported on `registry` and logged."""
    contact = BrokerContact(report_every_seconds=REPORT_EVERY_SECONDS, last_answer=clock())
    reachable = Gauge(
        "resonance_broker_reachable",
        "1 when the Kafka brokers answered the worker's latest probe (every few seconds), else 0",
        registry=registry,
    )
    silence = Gauge(
        "resonance_broker_silence_seconds",
        "Seconds since the Kafka brokers last answered the worker's probe (at most the probe's "
        "period while they answer)",
        registry=registry,
    )
    reachable.set(1)
    silence.set_function(lambda: contact.silence_seconds(clock()))

    async def watch() -> None:
        while True:
            try:
                await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_SECONDS)
            except Exception as error:  # noqa: BLE001 - any failure to answer is the news itself
                said = contact.unanswered(clock(), str(error) or type(error).__name__)
            else:
                said = contact.answered(clock())
            reachable.set(1 if contact.reachable else 0)
            if said is not None:
                level, message = said
                log.log(level, "%s (%s)", message, bootstrap)
            await asyncio.sleep(every_seconds)

    return watch
