"""A recording gives the same final records live, through Kafka, as offline with `analyze`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from support import Deployment, consume, new_deployment, records, running_worker, wait_for
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka

# Determinism holds for arrival disorder within the allowed lateness. Flat-out replay into two
# partitions can deliver one partition's tweets well before the other's, so the lateness here
# covers the whole stream (about 75 s of event time).
SETTINGS = {"RESONANCE_WINDOW": "2h", "RESONANCE_LATENESS": "10m", "RESONANCE_TOP_N": "20"}


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what says when or why it was emitted."""
    return {k: v for k, v in record.items() if k != "trigger"}


def _live_final(deployment: Deployment, expected_tweets: int) -> list[Any]:
    """The last provisional view the worker published after taking every tweet."""
    wait_for(
        lambda: deployment.metric("resonance_tweets_accepted_total") == expected_tweets,
        seconds=120,
        what="every tweet accepted",
    )
    progress = {"count": -1, "since": time.monotonic()}

    def settled(messages: list[Any]) -> bool:
        # Final once an idle influence summary is out and nothing new came for a few seconds.
        if len(messages) != progress["count"]:
            progress.update(count=len(messages), since=time.monotonic())
            return False
        summaries = (orjson.loads(m.value) for m in messages if b"influence_summary" in m.value)
        idle = any(r["kind"] == "influence_summary" and r["trigger"] == "idle" for r in summaries)
        return idle and time.monotonic() - progress["since"] > 3

    return consume(deployment.bootstrap, deployment.metrics_topic, until=settled, seconds=180)


def _last_view(live: list[Any], kind: str) -> list[dict[str, Any]]:
    """The records of `kind` in the conversation stage's last idle view, in the offline order.

    The metrics topic has several partitions, so records arrive in order per key only; a view is
    told apart by when it was published: all at once, at least the idle delay after the last one.
    """
    idle = [(m.timestamp, orjson.loads(m.value)) for m in live]
    idle = [(ts, r) for ts, r in idle if r["trigger"] == "idle"]
    last = max(ts for ts, r in idle if r["kind"] == "influence_summary")
    view = [r for ts, r in idle if r["kind"] == kind and last - 900 <= ts <= last]
    order = {"influence": lambda r: r["rank"], "cascade": lambda r: (-r["size"], r["root_id"])}
    return sorted(view, key=order.get(kind, lambda _: 0))


def test_live_and_offline_final_records_agree(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Cascades, influence, the hashtag graph and hashtag counts of a generated stream replayed
    through the live worker equal those `resonance analyze` writes for the same file.
    """
    recording = tmp_path / "stream.jsonl"
    tweets = write_stream(StreamSpec(events=1_500, seed=5, rings=1), recording)
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    with running_worker(deployment, tmp_path / "worker.log", **SETTINGS):
        assert deployment.run("replay", str(recording)).returncode == 0
        live = _live_final(deployment, tweets)
    offline = deployment.analyze(
        recording,
        tmp_path / "offline.jsonl",
        "--window",
        "2h",
        "--lateness",
        "10m",
        "--top",
        "20",
        **SETTINGS,
    )

    for kind in ("influence_summary", "influence", "cascade", "hashtag_graph"):
        live_view = [_comparable(r) for r in _last_view(live, kind)]
        offline_view = [_comparable(r) for r in offline if r["kind"] == kind]
        assert live_view == offline_view, kind
    live_tags = {r["tag"]: (r["count"], r["users"]) for r in records(live) if r["kind"] == "hashtag"}
    offline_tags = {r["tag"]: (r["count"], r["users"]) for r in offline if r["kind"] == "hashtag"}
    assert offline_tags
    assert {tag: live_tags.get(tag) for tag in offline_tags} == offline_tags
