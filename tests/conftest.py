"""Shared fixtures: one real Kafka broker for the whole test session."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from cli.broker import BrokerError, BrokerSecurity, LocalKafka, free_ports
from cli.native import stale_warning

if TYPE_CHECKING:
    from collections.abc import Iterator


def pytest_sessionstart(session: pytest.Session) -> None:  # noqa: ARG001 - pytest's hook signature
    """Refuse to test compiled code older than its source (`make test` compiles it first)."""
    stale = stale_warning()
    if stale:
        pytest.exit(stale, returncode=2)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield "host:port" of a real Kafka: $KAFKA_BOOTSTRAP_SERVERS, else a private session broker.

    The private broker runs on free ports in a temporary directory and is stopped at the end of
    the session. If it cannot start, every test that needs it fails with the reason and the end
    of the broker's log: a missing broker is an error, never a skip.
    """
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    port, controller_port = free_ports(2)
    broker = LocalKafka(tmp_path_factory.mktemp("kafka"), port, controller_port)
    _start_or_fail(broker, "the test session's Kafka broker")
    try:
        yield broker.bootstrap
    finally:
        broker.down()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    """Yield a private broker for one test, which the test may stop and start again (the
    session's broker serves every other test, and must not go away). Its data stays in
    `tmp_path`, so a restart keeps every topic. A broker that cannot start fails the test.
    """
    port, controller_port = free_ports(2)
    broker = LocalKafka(tmp_path / "kafka", port, controller_port, partitions=2)
    _start_or_fail(broker, "the test's own Kafka broker")
    try:
        _wait_until_it_creates_topics(broker.bootstrap)
        yield broker
    finally:
        broker.down()


def _wait_until_it_creates_topics(bootstrap: str, seconds: float = 60) -> None:
    """Wait until a freshly started broker creates a topic: on a loaded machine it answered
    metadata while still fenced, and a worker started then crashed creating its topics ("All
    brokers are currently fenced").
    """
    deadline = time.monotonic() + seconds
    while True:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            admin.create_topics([NewTopic("ready", 1, 1)])
        except TopicAlreadyExistsError:  # an earlier attempt did create it
            return
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        else:
            return
        finally:
            admin.close()


def _start_or_fail(broker: LocalKafka, what: str) -> None:
    """Start `broker`; if it cannot start, fail the test (never skip) with the reason."""
    try:
        broker.up(wait_seconds=120)
    except BrokerError as exc:
        broker.down()
        raise pytest.fail.Exception(f"{what} did not start: {exc}", pytrace=False) from None


def _certificates(directory: Path, password: str) -> tuple[Path, Path]:
    """Make a CA and a broker certificate for 127.0.0.1 signed by it, with openssl; return the
    broker's PKCS12 keystore and the CA's PEM file.
    """

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=resonance-test-ca")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
            "-subj", "/CN=127.0.0.1")  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "broker.pem", "-days", "2", "-extfile", "san.ext")  # fmt: skip
    openssl("pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key", "-out", "broker.p12",
            "-passout", f"pass:{password}")  # fmt: skip
    return directory / "broker.p12", directory / "ca.pem"


@pytest.fixture(scope="session")
def secured_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """Yield a second private broker whose only client listener is SASL_SSL (SCRAM-SHA-512), with
    certificates made here by openssl, ACLs enforced, and three users: `broker` (its own, a super
    user), `resonance` and `outsider` (no ACLs until a test grants them).

    As for `kafka_bootstrap`, a broker that cannot start fails the tests that need it.
    """
    home = tmp_path_factory.mktemp("secured-kafka")
    keystore, ca_file = _certificates(tmp_path_factory.mktemp("certificates"), "keystore-secret")
    security = BrokerSecurity(
        keystore=keystore,
        keystore_password="keystore-secret",  # noqa: S106 - a throwaway test keystore
        ca_file=ca_file,
        users={"broker": "broker-secret", "resonance": "resonance-secret", "outsider": "outsider-secret"},
        broker_user="broker",
    )
    port, controller_port = free_ports(2)
    broker = LocalKafka(home, port, controller_port, security=security, partitions=2)
    _start_or_fail(broker, "the secured Kafka broker")
    try:
        yield broker
    finally:
        broker.down()
