"""The composition root hands the settings Faust reads itself to the Faust app."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from prometheus_client import CollectorRegistry

from agents.app import FETCH_PARTITION_BYTES, create_app
from agents.checkpoints import CHECKPOINT_MAX_BYTES
from agents.settings import Settings
from agents.transport import FETCH_MAX_WAIT_MS


@pytest.mark.parametrize(
    ("failover", "heartbeat"), [(timedelta(seconds=10), 3.0), (timedelta(seconds=6), 2.0)]
)
def test_failover_is_the_consumer_groups_session_timeout(
    tmp_path: Path, failover: timedelta, heartbeat: float
) -> None:
    """RESONANCE_FAILOVER becomes Kafka's session timeout, with at least three heartbeats in it."""
    app = create_app(Settings(failover=failover, data_dir=str(tmp_path)), CollectorRegistry())
    assert app.conf.broker_session_timeout == failover.total_seconds()
    assert app.conf.broker_heartbeat_interval == heartbeat


def test_the_workers_consumer_waits_briefly_for_a_fetch(tmp_path: Path) -> None:
    """The aiokafka consumer the app's Faust consumer thread creates waits for a fetch at most
    `FETCH_MAX_WAIT_MS` (Faust's own driver fixes 1.5 s), the group's other settings as Faust sets
    them.
    """
    settings = Settings(failover=timedelta(seconds=6), data_dir=str(tmp_path))
    app = create_app(settings, CollectorRegistry())
    thread = app.consumer._thread  # noqa: SLF001 - the consumer's own thread makes the aiokafka consumer

    async def create() -> Any:
        consumer = thread._create_worker_consumer(app.transport)  # noqa: SLF001 - not started: no broker needed
        await consumer.stop()
        return consumer

    consumer = asyncio.run(create())
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS  # noqa: SLF001 - what its fetcher is built with
    assert consumer._group_id == settings.app_id  # noqa: SLF001 - Faust's own wiring is kept
    assert consumer._session_timeout_ms == 6_000  # noqa: SLF001 - as above


def test_a_checkpoint_larger_than_a_fetch_comes_whole(kafka_bootstrap: str, tmp_path: Path) -> None:
    """The worker's consumer fetches at most `FETCH_PARTITION_BYTES` per partition, yet reads a
    message several times as large (a checkpoint may be up to `CHECKPOINT_MAX_BYTES`) whole and in
    order, from a real broker: Kafka returns the first batch of a fetch whatever its size.
    """
    topic = f"big-checkpoint-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        configs = {"max.message.bytes": str(CHECKPOINT_MAX_BYTES)}
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1, topic_configs=configs)])
    finally:
        admin.close()
    sizes = [100, 4 * FETCH_PARTITION_BYTES, 100]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=CHECKPOINT_MAX_BYTES)
    for number, size in enumerate(sizes):
        producer.send(topic, bytes([number]) * size)
    producer.flush()
    producer.close()

    settings = Settings(bootstrap_servers=kafka_bootstrap, data_dir=str(tmp_path))
    app = create_app(settings, CollectorRegistry())
    thread = app.consumer._thread  # noqa: SLF001 - the consumer's own thread makes the aiokafka consumer

    async def read() -> list[bytes]:
        consumer = thread._create_worker_consumer(app.transport)  # noqa: SLF001 - the app's settings
        await consumer.start()
        try:
            partition = TopicPartition(topic, 0)
            consumer.assign([partition])
            await consumer.seek_to_beginning(partition)
            values: list[bytes] = []
            for _ in range(20):
                batches = await consumer.getmany(timeout_ms=1000)
                values += [record.value for records in batches.values() for record in records]
                if len(values) >= len(sizes):
                    break
            return values
        finally:
            await consumer.stop()

    assert app.conf.consumer_max_fetch_size == FETCH_PARTITION_BYTES
    values = asyncio.run(read())
    assert [len(value) for value in values] == sizes
    assert [value[0] for value in values] == [0, 1, 2]
