"""The live dashboard and the Grafana dashboard against a real worker fed a replay: a real
Prometheus scrapes the worker and answers every panel's query, the worker's `/dashboard/` serves
what every worker published, and a headless Chromium shows it, markup payloads as text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from playwright.sync_api import Page, sync_playwright

from agents.dashboard.store import LIVE_MAX_BYTES, LIVE_VERSION
from agents.dashboard.web import CONTENT_SECURITY_POLICY
from models.records import Alert, AlertType, Severity, Trigger
from support import (
    ALERTING_SETTINGS,
    ALERTING_STREAM,
    REPO,
    Deployment,
    Prometheus,
    new_deployment,
    produce,
    running_prometheus,
    running_worker,
    wait_for,
)
from synth import write_stream

pytestmark = pytest.mark.kafka

DASHBOARD = REPO / "grafana" / "dashboards" / "resonance-overview.json"
ARTIFACTS = REPO / "artifacts" / "dashboard"  # screenshots of the page, kept by every run
SPEC = ALERTING_STREAM  # raises every kind of alert
SETTINGS = ALERTING_SETTINGS
# Markup and script in every string the stream controls that the page shows.
PAYLOAD_USER = "<script>window.__pwned = 1</script>"
PAYLOAD_TAG = "<img src=x onerror=window.__pwned=2>"
PAYLOAD_RETWEETS = 90  # the largest cascade of the stream: shown at the top of the cascades
STREAM_END = datetime(2024, 1, 1, 0, 9, 30, tzinfo=UTC)  # the generated stream ends just before
RENDER_MS = 200


def native(tweet_id: str, user_id: str, at: datetime, **fields: Any) -> bytes:
    """One tweet in the native schema."""
    created = at.isoformat().replace("+00:00", "Z")
    return orjson.dumps({"id": tweet_id, "user_id": user_id, "created_at": created, **fields})


def extras() -> list[bytes]:
    """After the generated stream: a cascade whose author and hashtag are markup payloads, an
    unreadable message (a dead letter) and a tweet older than the window (a late event).
    """
    root = "9000000000000000000"
    lines = [native(root, PAYLOAD_USER, STREAM_END, text="look", hashtags=[PAYLOAD_TAG], followers=5)]
    lines += [
        native(
            f"91000000000000{n:05d}",
            f"payload-fan-{n}",
            STREAM_END + timedelta(milliseconds=300 * (n + 1)),
            retweet_of=root,
            retweet_of_user=PAYLOAD_USER,
            hashtags=[PAYLOAD_TAG],
        )
        for n in range(PAYLOAD_RETWEETS)
    ]
    lines.append(b'{"id": "broken", ')
    lines.append(native("8000000000000000001", "late-user", datetime(2023, 12, 31, 22, 0, tzinfo=UTC)))
    return lines


@dataclass(frozen=True)
class Fed:
    """A worker that took the whole stream, and the Prometheus scraping it."""

    deployment: Deployment
    prometheus: Prometheus
    tweets: int

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of the worker's page at `path`."""
        url = f"http://127.0.0.1:{self.deployment.web_port}{path}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()

    def live(self) -> dict[str, Any]:
        """The worker's `/dashboard/live.json`."""
        return orjson.loads(self.get("/dashboard/live.json")[2])


@pytest.fixture(scope="module")
def fed(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fed]:
    """A worker, watched by Prometheus, that accepted a generated stream with rings and bursts and
    the payload cascade, with one dead letter and one late event.
    """
    tmp_path = tmp_path_factory.mktemp("dashboard")
    recording = tmp_path / "stream.jsonl"
    tweets = write_stream(SPEC, recording)
    added = extras()
    with recording.open("ab") as out:
        out.writelines(line + b"\n" for line in added)
    tweets += len(added) - 1  # the unreadable line is no tweet
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    with (
        running_worker(deployment, tmp_path / "worker.log", **SETTINGS),
        running_prometheus(f"127.0.0.1:{deployment.web_port}", tmp_path / "prometheus") as prometheus,
    ):
        assert deployment.run("replay", str(recording)).returncode == 0
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") == tweets,
            seconds=180,
            what="every tweet accepted",
        )
        yield Fed(deployment, prometheus, tweets)


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query of every panel of the Grafana dashboard."""
    top = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    panels = top + [child for panel in top for child in panel.get("panels", [])]
    return [(panel["title"], target["expr"]) for panel in panels for target in panel.get("targets", [])]


def test_promtool_accepts_the_live_workers_metrics(fed: Fed) -> None:
    """`promtool check metrics` finds nothing to flag in a busy worker's /metrics."""
    _, _, body = fed.get("/metrics")
    result = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr).decode()
    assert b"resonance_hashtag_window_tweets{" in body


@pytest.mark.parametrize(("title", "promql"), panel_queries(), ids=[title for title, _ in panel_queries()])
def test_every_grafana_panel_query_returns_data(fed: Fed, title: str, promql: str) -> None:
    """Each panel's PromQL, run by a real Prometheus scraping the worker, returns a non-empty result."""
    wait_for(lambda: fed.prometheus.query(promql), seconds=90, what=f"data for {title!r}: {promql}")


def test_live_json_is_versioned_bounded_and_holds_every_section(fed: Fed) -> None:
    """live.json carries its version, stays within 256 KB, and holds the leaderboard, hashtags,
    cascades (the payload's the largest, with its tree), layers, coordination clusters and alerts.
    """

    def complete() -> dict[str, Any] | None:
        live = fed.live()
        sections = ("hashtags", "cascades", "layers", "coordination", "alerts")
        ready = live["influence"]["leaderboard"] and all(live[name] for name in sections)
        return live if ready and live["cascades"][0]["root_user_id"] == PAYLOAD_USER else None

    live = wait_for(complete, seconds=120, what="every section of live.json filled")
    assert live["version"] == LIVE_VERSION
    assert len(orjson.dumps(live)) <= LIVE_MAX_BYTES
    assert {alert["type"] for alert in live["alerts"]} >= {"viral_cascade", "coordinated_amplification"}
    assert live["header"]["accepted_total"] == fed.tweets
    assert sum(live["header"]["dead_letters_by_reason"].values()) == 1
    assert sum(live["header"]["late_events"].values()) >= 1
    assert fed.deployment.input_topic in live["header"]["partitions"]
    payload_root = live["cascades"][0]["root_id"]
    wait_for(lambda: payload_root in fed.live()["trees"], seconds=60, what="the payload cascade's tree")
    payload_tree = fed.live()["trees"][payload_root]
    assert len(payload_tree["nodes"]) == PAYLOAD_RETWEETS + 1
    assert len(payload_tree["parents"]) == PAYLOAD_RETWEETS
    graph = live["user_graph"]
    assert graph["users"]
    assert any(camp is not None for _, _, _, camp in graph["users"])
    status, headers, _ = fed.get("/dashboard/")
    assert status == 200
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_store_shows_records_whichever_worker_published_them(fed: Fed) -> None:
    """An alert written to the alerts topic by another producer (as another worker would) shows."""
    alert = Alert(
        at=STREAM_END,
        window=timedelta(hours=1),
        lateness=timedelta(seconds=30),
        trigger=Trigger.BOUNDARY,
        type=AlertType.HASHTAG_BURST,
        severity=Severity.CRITICAL,
        subject="#from-another-worker",
        key="hashtag_burst:from-another-worker",
        evidence={"burst_z": 9.0},
    )
    produce(fed.deployment.bootstrap, f"{fed.deployment.app_id}.alerts", [alert.to_bytes()])
    wait_for(
        lambda: any(a["subject"] == "#from-another-worker" for a in fed.live()["alerts"]),
        seconds=30,
        what="the other worker's alert in live.json",
    )


@pytest.mark.parametrize(
    "table", ["influence", "hashtags", "cascades", "echo_chambers", "coordination", "alerts"]
)
def test_every_table_exports_as_csv(fed: Fed, table: str) -> None:
    """Each table of the page downloads as CSV with a header and at least one row."""

    def exported() -> list[str] | None:
        status, headers, body = fed.get(f"/dashboard/csv/{table}.csv")
        assert status == 200
        assert headers["Content-Type"].startswith("text/csv")
        lines = body.decode().splitlines()
        return lines if len(lines) >= 2 else None

    wait_for(exported, seconds=120, what=f"rows in the {table} CSV")


@pytest.fixture(scope="module")
def page(fed: Fed) -> Iterator[Page]:
    """Debian's Chromium, headless, driven by playwright, on the worker's dashboard."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (make install installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            problems: list[str] = []
            page.on(
                "console", lambda message: problems.append(message.text) if message.type == "error" else None
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"http://127.0.0.1:{fed.deployment.web_port}/dashboard/")
            page.wait_for_function("document.querySelectorAll('#leaderboard tbody tr').length > 0")
            yield page
            assert problems == [], problems  # no console errors for the whole visit
        finally:
            browser.close()


def test_the_page_shows_the_leaderboard_alerts_and_cascades(page: Page) -> None:
    """The page fills its tables, the user graph and the alert feed from a real worker, and says
    it is live.
    """
    page.wait_for_function("document.querySelectorAll('#alert-feed li.alert').length > 0")
    assert page.locator("#leaderboard tbody tr").count() > 0
    assert page.locator("#cascade-table tbody tr").count() > 0
    assert page.locator("#hashtag-table tbody tr").count() > 0
    assert page.locator("#layer-table tbody tr").count() > 0
    assert page.locator("#cluster-table tbody tr").count() > 0
    assert page.locator("#user-graph circle").count() > 0
    assert "Live" in page.locator("#status").inner_text() or "Stale" in page.locator("#status").inner_text()


def test_markup_from_the_stream_shows_as_text_and_runs_nothing(page: Page) -> None:
    """The payload author and hashtag appear as literal text; no script ran, no element was made;
    the payload cascade's tree is drawn, one circle per tweet.
    """
    page.wait_for_function(
        "(user) => document.querySelector('#cascade-table tbody tr td:nth-child(2)')?.textContent === user",
        arg=PAYLOAD_USER,
    )
    assert page.locator("#hashtag-table td", has_text=PAYLOAD_TAG).count() >= 1
    page.locator("#cascade-table tbody tr").first.click()
    assert PAYLOAD_USER in page.locator("#cascade-selected").inner_text()
    page.wait_for_function(
        "(n) => document.querySelectorAll('#cascade-shape circle').length === n", arg=PAYLOAD_RETWEETS + 1
    )
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.scripts.length") == 2  # uPlot and the page's own


def test_the_pages_numbers_change_during_a_replay_and_render_quickly(fed: Fed, page: Page) -> None:
    """Tweets replayed while the page is open raise its accepted total within seconds; every
    update renders within 200 ms.
    """
    before = page.locator("#kpi-accepted").inner_text()
    more = [
        native(f"7{n:018d}", f"late-comer-{n}", STREAM_END + timedelta(minutes=1, seconds=n), text="#extra")
        for n in range(20)
    ]
    produce(fed.deployment.bootstrap, fed.deployment.input_topic, more)
    page.wait_for_function(
        "(before) => document.querySelector('#kpi-accepted').textContent !== before",
        arg=before,
        timeout=60_000,
    )
    assert int(page.evaluate("document.body.dataset.renderMs")) < RENDER_MS


def test_screenshots_at_desktop_and_phone_widths(page: Page) -> None:
    """The page is photographed at 1440x900 and at a phone's 390x844, under artifacts/dashboard/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.wait_for_timeout(1_500)
    page.screenshot(path=str(ARTIFACTS / "desktop-1440x900.png"))
    page.screenshot(path=str(ARTIFACTS / "desktop-full.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(1_500)
    page.screenshot(path=str(ARTIFACTS / "phone-390x844.png"))
    page.screenshot(path=str(ARTIFACTS / "phone-full.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing spills sideways
