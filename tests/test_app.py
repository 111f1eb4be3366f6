"""The composition root hands the settings Faust reads itself to the Faust app."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from agents.app import create_app
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
