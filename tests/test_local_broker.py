"""The local broker manager against a real Kafka: fetch, up, status, down, and real clients."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from cli.broker import (
    KAFKA_VERSION,
    BrokerError,
    LocalKafka,
    cache_root,
    fetch,
    free_ports,
    is_fetched,
    lib_dir,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.kafka

CLIENT_TIMEOUT_S = 30


def unique(prefix: str) -> str:
    """Return a topic or group name no other test (or earlier run) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def port_answers(port: int) -> bool:
    """Tell whether anything accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def produce(bootstrap: str, topic: str, value: bytes) -> None:
    """Send one record and wait for the broker's acknowledgement."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        producer.send(topic, value).get(timeout=CLIENT_TIMEOUT_S)
    finally:
        producer.close()


def consume_one(bootstrap: str, topic: str) -> bytes | None:
    """Read the first record of topic from the beginning, or None if none comes in time."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=unique("group"),
        auto_offset_reset="earliest",
        consumer_timeout_ms=CLIENT_TIMEOUT_S * 1000,
    )
    try:
        for record in consumer:
            return bytes(record.value)
        return None
    finally:
        consumer.close()


def java_only_path(tmp_path: Path) -> str:
    """Return a PATH holding java but no mvn."""
    bin_dir = tmp_path / "java-only-bin"
    bin_dir.mkdir()
    java = shutil.which("java")
    assert java is not None, "the broker tests need java on PATH"
    (bin_dir / "java").symlink_to(java)
    return str(bin_dir)


@pytest.fixture
def messages() -> list[str]:
    """Collect the manager's progress messages."""
    return []


@pytest.fixture
def broker(tmp_path: Path, messages: list[str]) -> Iterator[LocalKafka]:
    """Yield a private, not yet started broker on free ports in tmp_path; stop it afterwards."""
    port, controller_port = free_ports(2)
    instance = LocalKafka(tmp_path / "kafka", port, controller_port, progress=messages.append)
    yield instance
    instance.down()


def test_cache_root_honours_the_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """RESONANCE_CACHE_DIR wins over XDG_CACHE_HOME, which wins over ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RESONANCE_CACHE_DIR", raising=False)
    assert cache_root() == tmp_path / "xdg" / "resonance"
    monkeypatch.setenv("RESONANCE_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"
    assert lib_dir("9.9.9") == tmp_path / "mine" / "kafka" / "lib-9.9.9"


def test_fetch_is_reused_without_maven(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Once fetched, the classpath is reused as is: no Maven (and so no network) is needed."""
    first = fetch()
    assert is_fetched()
    assert (first / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file()
    monkeypatch.setenv("PATH", java_only_path(tmp_path))
    assert fetch() == first


def test_fetch_without_maven_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With an empty cache and no mvn, fetch says how to install Maven and leaves no cache."""
    monkeypatch.setenv("RESONANCE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", java_only_path(tmp_path))
    with pytest.raises(BrokerError, match=r"apt-get install maven"):
        fetch()
    assert not lib_dir().exists()


def test_status_of_an_unstarted_instance(tmp_path: Path) -> None:
    """An instance that was never started reports not running, with no pid."""
    status = LocalKafka(tmp_path / "kafka", *free_ports(2)).status()
    assert not status.running
    assert status.pid is None
    assert "not running" in status.summary()


def test_up_starts_a_broker_that_answers(broker: LocalKafka) -> None:
    """Up returns once the broker answers; status then says it runs, and a topic can be made."""
    status = broker.up()
    assert status.running
    assert status.pid is not None
    assert status.bootstrap == f"127.0.0.1:{broker.port}"
    assert broker.status() == status
    assert "running at" in str(status)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        topic = unique("made")
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        assert topic in admin.list_topics()
    finally:
        admin.close()


def test_up_again_is_idempotent(broker: LocalKafka, messages: list[str]) -> None:
    """A second up leaves the running broker alone, says so, and reports the same pid."""
    first = broker.up()
    second = broker.up()
    assert second.running
    assert second.pid == first.pid
    assert "already running" in messages[-1]


def test_down_stops_the_broker_and_is_idempotent(broker: LocalKafka) -> None:
    """Down stops the process and closes its port; a second down does nothing."""
    pid = broker.up().pid
    assert pid is not None
    assert broker.down() is True
    assert not port_answers(broker.port)
    status = broker.status()
    assert not status.running
    assert status.pid is None
    assert not broker.pid_file.exists()
    assert broker.down() is False


def test_restart_keeps_the_data(broker: LocalKafka, messages: list[str]) -> None:
    """A broker started again on the same home keeps its records; storage is formatted once."""
    broker.up()
    topic = unique("kept")
    produce(broker.bootstrap, topic, b"survives a restart")
    broker.down()
    broker.up()
    assert consume_one(broker.bootstrap, topic) == b"survives a restart"
    assert sum(message.startswith("Formatted") for message in messages) == 1


def test_auto_created_topics_get_the_configured_partitions(tmp_path: Path) -> None:
    """A topic created by its first use gets the instance's number of partitions."""
    instance = LocalKafka(tmp_path / "kafka", *free_ports(2), partitions=3)
    instance.up()
    try:
        topic = unique("auto")
        produce(instance.bootstrap, topic, b"x")
        consumer = KafkaConsumer(bootstrap_servers=instance.bootstrap)
        try:
            assert consumer.partitions_for_topic(topic) == {0, 1, 2}
        finally:
            consumer.close()
    finally:
        instance.down()


def test_a_broker_that_dies_raises_with_its_log(tmp_path: Path) -> None:
    """If the JVM exits during start-up, up raises an error quoting the end of its log."""
    instance = LocalKafka(tmp_path / "kafka", *free_ports(2), heap="1k")
    started = time.monotonic()
    with pytest.raises(BrokerError, match=r"exited") as caught:
        instance.up(wait_seconds=60)
    assert time.monotonic() - started < 60, "a dead broker must be noticed at once"
    assert "heap" in str(caught.value).lower()
    assert not instance.pid_file.exists()


def test_a_broker_that_does_not_answer_in_time_is_stopped(tmp_path: Path) -> None:
    """If the broker does not answer before the deadline, up stops it and raises with its log."""
    instance = LocalKafka(tmp_path / "kafka", *free_ports(2))
    with pytest.raises(BrokerError, match=r"did not answer .* within"):
        instance.up(wait_seconds=0.2)
    assert not instance.status().running
    assert not instance.pid_file.exists()


def test_up_refuses_a_port_in_use(tmp_path: Path) -> None:
    """Up refuses to start when another process listens on the broker's port."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = int(squatter.getsockname()[1])
        instance = LocalKafka(tmp_path / "kafka", port, free_ports(1)[0])
        with pytest.raises(BrokerError, match=rf"127\.0\.0\.1:{port} is already in use"):
            instance.up()


def test_kafka_python_round_trip(kafka_bootstrap: str) -> None:
    """The session broker takes a record from kafka-python's producer and gives it back."""
    topic = unique("kp")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        admin.close()
    produce(kafka_bootstrap, topic, b"hello kafka-python")
    assert consume_one(kafka_bootstrap, topic) == b"hello kafka-python"


def test_aiokafka_round_trip(kafka_bootstrap: str) -> None:
    """The session broker works with aiokafka (Faust's client): one record out and back."""

    async def round_trip() -> bytes:
        topic = unique("aio")
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"hello aiokafka")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=unique("group"),
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), CLIENT_TIMEOUT_S)
        finally:
            await consumer.stop()
        return bytes(record.value)

    assert asyncio.run(round_trip()) == b"hello aiokafka"
