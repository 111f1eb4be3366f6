"""The Kafka transport the worker's Faust app uses: Faust's own aiokafka driver, with a fetch wait
fit for a pipeline of stages on one consumer.

aiokafka keeps one fetch request in flight per broker, for every assigned partition of every
stage that has nothing buffered, and the broker holds it until one of them has data or
`fetch_max_wait_ms` passes. Faust sets that wait to 1.5 s (not a setting). While such a request is
held, a partition that has just been drained cannot be fetched again: under load each stage's input
could wait the full 1.5 s, one stage after the next, so a retweet crossing four stages was seconds
late (benchmarks/README.md has the figures). `FETCH_MAX_WAIT_MS` bounds that wait; an idle worker
sends a few more empty fetches per second.
"""

from __future__ import annotations

from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 50


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Read when the consumer starts its fetcher, so setting it before then is enough.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # noqa: SLF001 - Faust passes no setting for it
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport whose worker consumer waits at most `FETCH_MAX_WAIT_MS` for a
    fetch. Set as `app.transport` before anything else uses the app's transport.
    """

    Consumer = _Consumer
