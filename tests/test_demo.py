"""The demo's worker settings: its own app and topics, and a lateness that matches its pace."""

from __future__ import annotations

from datetime import timedelta

from agents.settings import Settings
from cli.demo import demo_env, demo_settings


def test_the_demo_lateness_covers_the_drift_at_its_speed_and_reaches_the_worker() -> None:
    """At 30x, 2 s of drift between partitions is 1m of event time: the worker gets
    RESONANCE_LATENESS=1m; a slower replay keeps the default 10s; a user's wider lateness stands.
    """
    fast = demo_settings(Settings(), run="1", speed=30)
    assert fast.lateness == timedelta(minutes=1)
    assert demo_env(fast)["RESONANCE_LATENESS"] == "1m"
    assert demo_env(fast)["RESONANCE_APP_ID"] == "resonance-demo-1"
    assert Settings.from_env(demo_env(fast)).lateness == timedelta(minutes=1)
    assert demo_settings(Settings(), run="1", speed=2).lateness == timedelta(seconds=10)
    wide = Settings(lateness=timedelta(minutes=10))
    assert demo_settings(wide, run="1", speed=30).lateness == timedelta(minutes=10)
