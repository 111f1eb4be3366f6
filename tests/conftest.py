"""Shared fixtures: one real Kafka broker for the whole test session."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from agents.broker import BrokerError, LocalKafka, free_ports
from agents.native import stale_warning

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
    try:
        broker.up(wait_seconds=120)
    except BrokerError as exc:
        broker.down()
        reason = f"the test session's Kafka broker did not start: {exc}"
        raise pytest.fail.Exception(reason, pytrace=False) from None
    try:
        yield broker.bootstrap
    finally:
        broker.down()
