"""Determinism end to end: a recording of a live run, replayed into a fresh deployment, gives the
same metric records as the live run did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support import Deployment, comparable, last_view, live_final, new_deployment, records, running_worker
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka

# As in test_replay_parity: the lateness covers the stream, so the disorder between the input's
# partitions (flat-out replay) is within it.
SETTINGS = {"RESONANCE_WINDOW": "2h", "RESONANCE_LATENESS": "10m", "RESONANCE_TOP_N": "20"}
KINDS = (
    "influence_summary",
    "influence",
    "cascade",
    "hashtag_graph",
    "communities",
    "hashtag_polarization",
    "coordination",
)


def _run_live(deployment: Deployment, recording: Path, tweets: int, log: Path) -> list[Any]:
    with running_worker(deployment, log, **SETTINGS):
        result = deployment.run("replay", str(recording))
        assert result.returncode == 0, result.stderr
        return live_final(deployment, tweets)


def _views(live: list[Any]) -> dict[str, list[dict[str, Any]]]:
    views = {kind: [comparable(r) for r in last_view(live, kind)] for kind in KINDS}
    # The latest count of each hashtag (a tag's records share a key, so they arrive in order).
    latest = {r["tag"]: [r["count"], r["users"]] for r in records(live) if r["kind"] == "hashtag"}
    views["hashtag"] = [{"tag": tag, "numbers": numbers} for tag, numbers in sorted(latest.items())]
    return views


def test_a_recorded_live_run_replayed_into_a_fresh_deployment_gives_the_same_records(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Live run A on a generated stream; `resonance record` of A's input; that recording replayed
    into a fresh deployment B: B's final records of every kind equal A's.
    """
    stream, recording = tmp_path / "stream.jsonl", tmp_path / "a-input.jsonl.gz"
    tweets = write_stream(StreamSpec(events=1_500, seed=8, rings=1), stream)
    first = new_deployment(kafka_bootstrap, tmp_path / "a")
    live_a = _run_live(first, stream, tweets, tmp_path / "a.log")
    result = first.run(
        "record", first.input_topic, "--out", str(recording), "--limit", str(tweets), "--idle-timeout", "30"
    )
    assert result.returncode == 0, result.stderr

    second = new_deployment(kafka_bootstrap, tmp_path / "b")
    live_b = _run_live(second, recording, tweets, tmp_path / "b.log")

    views_a, views_b = _views(live_a), _views(live_b)
    for kind in ("influence", "cascade", "communities", "hashtag"):
        assert views_a[kind], kind  # something to compare
    for kind, view in views_a.items():
        assert views_b[kind] == view, kind
