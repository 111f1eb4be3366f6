"""The store's input: every partition of the metrics and alerts topics, whichever worker wrote it.

Each worker computes only the partitions it holds, and publishes what it computed; reading the
topics (rather than this worker's own sends) gives every worker's page the whole picture. The
consumer joins no group: it assigns itself all partitions, so it takes nothing from the workers'
group and commits nothing. It starts `BACKLOG` records before each partition's end, so a page
opened on a worker started late still shows the latest views, at a bounded cost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from agents.dashboard.store import Store
from agents.kafka_admin import partition_counts

logger = logging.getLogger(__name__)

BACKLOG = 20_000  # records read back per partition at start
TOPIC_WAIT_SECONDS = 1.0  # between looks for topics not created yet
FETCH_TIMEOUT_MS = 500
RETRY_SECONDS = 5.0


async def _partitions(bootstrap_servers: str, topics: tuple[str, ...]) -> list[TopicPartition]:
    """Every partition of `topics`, once they all exist (the worker creates them as it starts)."""
    while True:
        counts = await asyncio.to_thread(partition_counts, bootstrap_servers, list(topics)) or {}
        if all(topic in counts for topic in topics):
            return [TopicPartition(topic, p) for topic in topics for p in range(counts[topic])]
        await asyncio.sleep(TOPIC_WAIT_SECONDS)


async def feed_store(
    store: Store,
    *,
    bootstrap_servers: str,
    topics: tuple[str, ...],
    clock: Callable[[], float] = time.time,
) -> None:
    """Read `topics` into `store` until cancelled; a failure (the broker gone) is logged and the
    reading starts again: the dashboard never stops the worker.
    """
    while True:
        try:
            await _read(store, bootstrap_servers=bootstrap_servers, topics=topics, clock=clock)
        except Exception:
            logger.exception("dashboard: reading %s failed; trying again in %.0f s", topics, RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)


async def _read(
    store: Store,
    *,
    bootstrap_servers: str,
    topics: tuple[str, ...],
    clock: Callable[[], float] = time.time,
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        client_id="resonance-dashboard",
    )
    await consumer.start()
    try:
        assigned = await _partitions(bootstrap_servers, topics)
        consumer.assign(assigned)
        ends = await consumer.end_offsets(assigned)
        starts = await consumer.beginning_offsets(assigned)
        for partition in assigned:
            consumer.seek(partition, max(starts[partition], ends[partition] - BACKLOG))
        while True:
            batches = await consumer.getmany(timeout_ms=FETCH_TIMEOUT_MS)
            now = clock()
            for messages in batches.values():
                for message in messages:
                    try:
                        record = orjson.loads(message.value or b"")
                    except orjson.JSONDecodeError:
                        logger.warning("dashboard: not a record at %s:%s", message.topic, message.offset)
                        continue
                    if isinstance(record, dict):
                        store.add(record, now)
    finally:
        await consumer.stop()
