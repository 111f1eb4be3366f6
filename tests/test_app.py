"""The composition root hands the settings Faust reads itself to the Faust app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from agents.app import create_app
from agents.settings import Settings


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
