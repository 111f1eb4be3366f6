"""kill -9 in the middle of a stream, restart: the final records must be those of an
uninterrupted run, nothing lost or doubled.

It once passed only on an idle machine: checkpoints were written to a changelog whose serializers
were json, so a restarted worker never found them and started from empty state; on an idle machine
no offset had been committed yet when the kill came, so everything was read again and the answer
was right by luck. Under load it was not (see `tests/test_checkpoints.py`).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from support import Deployment, consume, new_deployment, records, running_worker, wait_for
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka

SETTINGS = {
    "RESONANCE_WINDOW": "2h",
    "RESONANCE_LATENESS": "10m",  # arrival disorder across partitions stays within it
    "RESONANCE_CHECKPOINT_EVERY": "1s",
}


def _offline(deployment: Deployment, recording: Path, out: Path) -> list[dict[str, Any]]:
    return deployment.analyze(
        recording, out, "--window", "2h", "--lateness", "10m", "--top", "20", **SETTINGS
    )


def _without_trigger(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "trigger"}


def test_a_killed_worker_resumes_without_losing_or_doubling(kafka_bootstrap: str, tmp_path: Path) -> None:
    """SIGKILL a worker halfway through a replay, start another: the final hashtag counts and
    influence summary equal those of `analyze` on the same recording.
    """
    recording = tmp_path / "stream.jsonl"
    total = write_stream(StreamSpec(events=4_000, seed=9), recording)
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    offline = _offline(deployment, recording, tmp_path / "offline.jsonl")
    expected_summary = _without_trigger(next(r for r in offline if r["kind"] == "influence_summary"))
    expected_tags = {r["tag"]: (r["count"], r["users"]) for r in offline if r["kind"] == "hashtag"}

    with running_worker(deployment, tmp_path / "first.log", **SETTINGS) as first:
        assert deployment.run("replay", str(recording)).returncode == 0
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") >= total // 3,
            seconds=120,
            what="a third of the stream accepted",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

    with running_worker(deployment, tmp_path / "second.log", **SETTINGS):

        def caught_up(messages: list[Any]) -> bool:
            # Final once the conversation's summary and every hashtag's count match the offline run.
            published = records(messages)
            summaries = [r for r in published if r["kind"] == "influence_summary"]
            tags = {r["tag"]: (r["count"], r["users"]) for r in published if r["kind"] == "hashtag"}
            last["summary"] = _without_trigger(summaries[-1]) if summaries else None
            last["tags"] = {t: (tags.get(t), n) for t, n in expected_tags.items() if tags.get(t) != n}
            return last["summary"] == expected_summary and not last["tags"]

        last: dict[str, Any] = {}

        try:
            consume(deployment.bootstrap, deployment.metrics_topic, until=caught_up, seconds=400)
        except AssertionError:
            raise AssertionError(f"live {last} vs offline summary {expected_summary}") from None
