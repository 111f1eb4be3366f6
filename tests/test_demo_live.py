"""`resonance demo` end to end, as the README's first command runs it (on the test broker)."""

from __future__ import annotations

import re
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support import RESONANCE, Prometheus, consume, new_deployment, records, wait_for, worker_warnings

DEMO_EVENTS = 2_000
DEMO_SPEED = "600"  # event-time seconds per second: the small stream replays in a few seconds


def test_the_demo_analyses_its_whole_stream_live_and_stops_everything_at_ctrl_c(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The demo generates its stream, starts a worker, replays the stream into it and follows the
    worker until it has accounted for every tweet; the worker accepts each tweet once and publishes
    cascade records on demo.metrics; the page it prints first shows the live numbers, and the
    Prometheus it starts beside the worker has scraped it; Ctrl-C then stops the demo (exit 130)
    and its worker. A worker stalled by its producer fails here, not at a
    user's desk.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    env = deployment.env(RESONANCE_CACHE_DIR=str(tmp_path / "cache"))
    err = tmp_path / "demo.err"
    with err.open("wb") as out:
        demo = subprocess.Popen(
            [*RESONANCE, "demo", "--events", str(DEMO_EVENTS), "--speed", DEMO_SPEED],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:

        def sent() -> int | None:
            assert demo.poll() is None, f"the demo exited ({demo.returncode}): {err.read_text()[-2000:]}"
            found = re.search(r"demo stream sent \((\d+) tweets\)", err.read_text())
            return int(found.group(1)) if found else None

        tweets = wait_for(sent, seconds=180, what=f"the demo to send its stream ({err})", interval=0.5)
        try:
            wait_for(
                lambda: "the worker has analysed the whole stream" in err.read_text(),
                seconds=120,
                what=f"the demo to see the worker account for all {tweets} tweets",
                interval=0.5,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}; the worker said:\n{worker_warnings(tmp_path)}") from None
        cascades = consume(
            kafka_bootstrap,
            "demo.metrics",
            until=lambda messages: any(r["kind"] == "cascade" for r in records(messages)),
        )
        assert any(r["reconstruction"] for r in records(cascades) if r["kind"] == "cascade")
        assert deployment.metric("resonance_tweets_accepted_total") == tweets  # none lost, none doubled
        dashboard = f"http://127.0.0.1:{deployment.web_port}/dashboard/"
        assert re.search(rf"Live now:\n  Dashboard +{re.escape(dashboard)}\n", err.read_text())

        def live_numbers() -> dict[str, Any] | None:
            with urllib.request.urlopen(dashboard + "live.json", timeout=5) as response:  # noqa: S310
                live = orjson.loads(response.read())
            shown = live["header"]["accepted_total"] == tweets and live["cascades"] and live["hashtags"]
            return live if shown else None

        wait_for(live_numbers, seconds=60, what="the demo's page to show its live numbers")
        found = re.search(r"Prometheus \(PromQL\)  (http://127\.0\.0\.1:\d+)\n", err.read_text())
        assert found, err.read_text()
        prometheus = Prometheus(found.group(1))
        wait_for(
            lambda: prometheus.query("resonance_tweets_accepted_total"),
            seconds=60,
            what="the demo's Prometheus to have scraped the worker",
        )
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=90)
    assert code == 130, err.read_text()[-2000:]
    assert "stopping the worker" in err.read_text()
    with pytest.raises(urllib.error.URLError):  # the worker is gone: nothing serves its metrics
        deployment.metrics()
