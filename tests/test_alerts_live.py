"""Alerts through the real broker: a replayed stream with planted surges raises exactly one alert
per condition on the alerts topic, and replaying it again raises none.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from support import (
    ALERTING_SETTINGS,
    ALERTING_STREAM,
    Deployment,
    consume,
    new_deployment,
    running_worker,
    wait_for,
)
from synth import write_stream
from synth.truth import ground_truth

pytestmark = pytest.mark.kafka

SPEC = ALERTING_STREAM
SETTINGS = ALERTING_SETTINGS


def _alerts_settled(deployment: Deployment, seconds: float) -> list[dict[str, Any]]:
    """Every alert on the deployment's alerts topic, once none has come for `seconds`."""
    progress = {"count": -1, "since": time.monotonic()}

    def settled(messages: list[Any]) -> bool:
        if len(messages) != progress["count"]:
            progress.update(count=len(messages), since=time.monotonic())
        return bool(messages) and time.monotonic() - progress["since"] > seconds

    messages = consume(deployment.bootstrap, f"{deployment.app_id}.alerts", until=settled, seconds=240)
    return [orjson.loads(m.value) for m in messages]


def test_a_replayed_surge_raises_one_alert_per_condition(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Each planted ring gives one coordinated_amplification alert naming its accounts, the
    planted burst one hashtag_burst alert; no key repeats, and a second replay adds nothing.
    """
    recording = tmp_path / "surge.jsonl"
    tweets = write_stream(SPEC, recording)
    truth = ground_truth(SPEC)
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    with running_worker(deployment, tmp_path / "worker.log", **SETTINGS):
        assert deployment.run("replay", str(recording)).returncode == 0
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") == tweets,
            seconds=180,
            what="every tweet accepted",
        )
        alerts = _alerts_settled(deployment, seconds=8)
        keys = [alert["key"] for alert in alerts]
        assert len(keys) == len(set(keys)), keys

        coordinated = [a for a in alerts if a["type"] == "coordinated_amplification"]
        assert len(coordinated) == len(truth["rings"])
        for ring in truth["rings"]:
            matching = [
                a for a in coordinated if len(set(a["evidence"]["accounts"]) & set(ring)) >= len(ring) - 1
            ]
            assert len(matching) == 1, (ring, coordinated)

        bursts = [a["subject"] for a in alerts if a["type"] == "hashtag_burst"]
        for burst in truth["bursts"]:
            assert bursts.count(f"#{burst['hashtag']}") == 1, bursts
        assert deployment.metric_sum("resonance_alerts_total") == len(alerts)

        # The same tweets again are duplicates: no condition is new, so no alert either.
        assert deployment.run("replay", str(recording)).returncode == 0
        wait_for(
            lambda: deployment.metric("resonance_tweets_duplicate_total") == tweets,
            seconds=180,
            what="every replayed tweet counted as a duplicate",
        )
        assert len(_alerts_settled(deployment, seconds=5)) == len(alerts)
