"""When the input stops, everything processed is checkpointed and committed anyway.

Checkpoints used to be written only as events arrived, so the last events before a pause stayed
unacked until the next one: consumer lag never reached 0 after a stream ended, and a restart
did those events again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import new_deployment, running_worker, uncommitted, wait_for
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka


def test_a_quiet_input_leaves_nothing_uncommitted(kafka_bootstrap: str, tmp_path: Path) -> None:
    """After a replay, with no further input, the group's committed offsets reach the end of
    every stage's input topic.
    """
    recording = tmp_path / "stream.jsonl"
    total = write_stream(StreamSpec(events=1_500, seed=4), recording)
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    with running_worker(deployment, tmp_path / "worker.log", RESONANCE_CHECKPOINT_EVERY="1s"):
        assert deployment.run("replay", str(recording)).returncode == 0
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") == total,
            seconds=120,
            what="every tweet accepted",
        )
        last: dict[str, int] = {}

        def caught_up() -> bool:
            last.update(uncommitted(deployment))
            return not any(last.values())

        try:
            wait_for(caught_up, seconds=45, what="every stage to commit its input", interval=1.0)
        except AssertionError:
            raise AssertionError(f"still uncommitted per topic: {last}") from None
