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

import pytest
from handover import SETTINGS, assert_final_equals_offline, expect

from support import new_deployment, running_worker, wait_for

pytestmark = pytest.mark.kafka


def test_a_killed_worker_resumes_without_losing_or_doubling(kafka_bootstrap: str, tmp_path: Path) -> None:
    """SIGKILL a worker halfway through a replay, start another: the final hashtag counts and
    influence summary equal those of `analyze` on the same recording.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    expected = expect(deployment, tmp_path)

    with running_worker(deployment, tmp_path / "first.log", **SETTINGS) as first:
        assert deployment.run("replay", str(expected.recording)).returncode == 0
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") >= expected.total // 3,
            seconds=120,
            what="a third of the stream accepted",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

    with running_worker(deployment, tmp_path / "second.log", **SETTINGS):
        assert_final_equals_offline(deployment, expected, tmp_path, seconds=400)
