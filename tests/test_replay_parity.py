"""A recording gives the same final records live, through Kafka, as offline with `analyze`."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import comparable, last_view, live_final, new_deployment, records, running_worker
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka

# Determinism holds for arrival disorder within the allowed lateness. Flat-out replay into two
# partitions can deliver one partition's tweets well before the other's, so the lateness here
# covers the whole stream (about 75 s of event time). The generated retweets name their parents:
# inferred parents depend on arrival order (README, "Live and offline agree, with one exception").
SETTINGS = {"RESONANCE_WINDOW": "2h", "RESONANCE_LATENESS": "10m", "RESONANCE_TOP_N": "20"}


def test_live_and_offline_final_records_agree(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Cascades, influence, the hashtag graph and hashtag counts of a generated stream replayed
    through the live worker equal those `resonance analyze` writes for the same file.
    """
    recording = tmp_path / "stream.jsonl"
    tweets = write_stream(StreamSpec(events=1_500, seed=5, rings=1), recording)
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    with running_worker(deployment, tmp_path / "worker.log", **SETTINGS):
        assert deployment.run("replay", str(recording)).returncode == 0
        live = live_final(deployment, tweets)
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
        live_view = [comparable(r) for r in last_view(live, kind)]
        offline_view = [comparable(r) for r in offline if r["kind"] == kind]
        assert live_view == offline_view, kind
    live_tags = {r["tag"]: (r["count"], r["users"]) for r in records(live) if r["kind"] == "hashtag"}
    offline_tags = {r["tag"]: (r["count"], r["users"]) for r in offline if r["kind"] == "hashtag"}
    assert offline_tags
    assert {tag: live_tags.get(tag) for tag in offline_tags} == offline_tags
