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
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from handover import SETTINGS, assert_final_equals_offline, expect, halves, replaying
from support import Deployment, new_deployment, running_worker, uncommitted, wait_for

pytestmark = pytest.mark.kafka


def test_a_killed_worker_resumes_without_losing_or_doubling(kafka_bootstrap: str, tmp_path: Path) -> None:
    """SIGKILL a worker a third of the way through a paced replay, start another: the final
    records of every kind and the hashtag counts equal those of `analyze` on the same recording.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    expected = expect(deployment, tmp_path)

    with (
        running_worker(deployment, tmp_path / "first.log", **SETTINGS) as first,
        replaying(deployment, expected.recording, tmp_path / "replay.log"),
    ):
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") >= expected.total // 3,
            seconds=120,
            what="a third of the stream accepted",
        )
        accepted_at_kill = deployment.metric("resonance_tweets_accepted_total")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert accepted_at_kill < expected.total, "the kill came after the whole stream was accepted"

    with running_worker(deployment, tmp_path / "second.log", **SETTINGS):
        assert_final_equals_offline(deployment, expected, tmp_path, seconds=400)


def commit_to_end(deployment: Deployment, topic: str) -> None:
    """Commit the worker group's offsets of `topic` to its end, as a commit that ran ahead of
    the checkpoints would (faust-streaming #606); the group must have no members.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=deployment.bootstrap, group_id=deployment.app_id, enable_auto_commit=False
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = consumer.end_offsets(partitions)
        consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
    finally:
        consumer.close()


def test_a_commit_ahead_of_the_checkpoints_is_caught(kafka_bootstrap: str, tmp_path: Path) -> None:
    """The worker takes the first half of a recording and stops; the second half arrives, and the
    group's committed input offsets are moved to its end, past the checkpoints. The restarted
    worker resumes from its checkpoints, not from the commit: the final records equal `analyze`'s
    on the whole recording.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    expected = expect(deployment, tmp_path)
    first, second = halves(expected.recording, tmp_path)

    with running_worker(deployment, tmp_path / "first.log", **SETTINGS):
        assert deployment.run("replay", str(first)).returncode == 0
        wait_for(
            lambda: (
                deployment.metric("resonance_tweets_accepted_total") > 0
                and not any(uncommitted(deployment).values())
            ),
            seconds=120,
            what="the first half checkpointed and committed",
        )
    assert deployment.run("replay", str(second)).returncode == 0
    commit_to_end(deployment, deployment.input_topic)
    assert uncommitted(deployment)[deployment.input_topic] == 0

    with running_worker(deployment, tmp_path / "second.log", **SETTINGS):
        assert_final_equals_offline(deployment, expected, tmp_path)
