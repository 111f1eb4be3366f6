"""Determinism end to end: a recording of a live run, replayed into a fresh deployment, gives the
same metric records as the live run did.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import Deployment, Final, analyze_options, assert_final, new_deployment, running_worker
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka

# As in test_replay_parity: the lateness covers the stream, so the disorder between the input's
# partitions (flat-out replay) is within it.
SETTINGS = {"RESONANCE_WINDOW": "2h", "RESONANCE_LATENESS": "10m", "RESONANCE_TOP_N": "20"}


def _run_live(deployment: Deployment, recording: Path, final: Final, logs: Path) -> None:
    logs.mkdir(parents=True, exist_ok=True)
    with running_worker(deployment, logs / "worker.log", **SETTINGS):
        result = deployment.run("replay", str(recording))
        assert result.returncode == 0, result.stderr
        assert_final(deployment, final, seconds=240, logs=logs)


def test_a_recorded_live_run_replayed_into_a_fresh_deployment_gives_the_same_records(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Live run A on a generated stream; `resonance record` of A's input; that recording replayed
    into a fresh deployment B: the final records of every kind of A and of B equal `analyze`'s.
    """
    stream, recording = tmp_path / "stream.jsonl", tmp_path / "a-input.jsonl.gz"
    write_stream(StreamSpec(events=1_500, seed=8, rings=1), stream)
    first = new_deployment(kafka_bootstrap, tmp_path / "a")
    final = Final.of(
        first.analyze(stream, tmp_path / "offline.jsonl", *analyze_options(SETTINGS), **SETTINGS)
    )
    _run_live(first, stream, final, tmp_path / "a")
    result = first.run("record", first.input_topic, "--out", str(recording), "--idle-timeout", "10")
    assert result.returncode == 0, result.stderr

    second = new_deployment(kafka_bootstrap, tmp_path / "b")
    _run_live(second, recording, final, tmp_path / "b")
