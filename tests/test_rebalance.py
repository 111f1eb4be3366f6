"""Scale-out in the middle of a stream: a second worker joins the group (a consumer-group rebalance
moves partitions, and with them the stages' checkpointed state, from one worker to the other), or
leaves it again; the final records must be those of `resonance analyze`, nothing lost or doubled.

The recording spans 2.5 minutes of event time; replayed at `handover.SPEED` it flows for about
30 s of wall time, and the membership change comes while it flows:

    replay     |------------------------- ~30 s ------------------------|
    join:   A  |=================================================================|
            B             A took a quarter -> B starts |==== B owns some ========|
    leave:  B  |== owns the conversation =| took an eighth -> SIGTERM
            A  |== joined before the replay ==========| takes all B had ======|

A third case hands over a finished stream: the new owner has nothing new to read, and must still
publish the final view of the states it took over.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from handover import SETTINGS, Expected, assert_final_equals_offline, expect, replaying
from support import Deployment, new_deployment, record_figures, running_worker, uncommitted, wait_for

pytestmark = pytest.mark.kafka


@pytest.fixture
def deployment(kafka_bootstrap: str, tmp_path: Path) -> Deployment:
    """Worker A's deployment; worker B shares its app id and topics."""
    return new_deployment(kafka_bootstrap, tmp_path)


@pytest.fixture
def expected(deployment: Deployment, tmp_path: Path) -> Expected:
    """A synthetic stream, with the offline run's final influence summary and hashtag counts."""
    return expect(deployment, tmp_path)


def accepted(worker: Deployment) -> float:
    """How many tweets `worker` counted as new (each worker exports its own)."""
    return worker.metric("resonance_tweets_accepted_total")


def duplicates(worker: Deployment) -> float:
    """How many tweets `worker` counted as repeats."""
    return worker.metric("resonance_tweets_duplicate_total")


def received(worker: Deployment, topic: str) -> float:
    """How many messages of `topic` `worker` has consumed (Faust's own sensor)."""
    return worker.metric("faust_messages_received_per_topic_total", topic=topic)


def test_a_worker_joining_mid_stream_takes_over_partitions_without_losing_or_doubling(
    deployment: Deployment, expected: Expected, tmp_path: Path
) -> None:
    """Worker B joins the group while the stream flows through A: the final hashtag counts and
    influence summary equal those of `analyze` on the recording, and B did take partitions.
    """
    joiner = deployment.second_worker(tmp_path / "data-b")
    with (
        running_worker(deployment, tmp_path / "a.log", **SETTINGS),
        replaying(deployment, expected.recording, tmp_path / "replay.log"),
    ):
        wait_for(
            lambda: accepted(deployment) >= expected.total // 4,
            seconds=120,
            what="worker A to accept a quarter of the stream",
        )
        with running_worker(joiner, tmp_path / "b.log", **SETTINGS):
            assert_final_equals_offline(deployment, expected, tmp_path)
            assert accepted(joiner) > 0, "worker B accepted nothing: it was given no input partition"
            record_figures(
                "worker_joins",
                sent=expected.total,
                accepted_by_a=accepted(deployment),
                accepted_by_b=accepted(joiner),
                duplicates=duplicates(deployment) + duplicates(joiner),
                dead_letters=0,
                lost=0,  # the final records equal analyze's, checked above
            )


def test_a_worker_leaving_mid_stream_hands_its_partitions_back_without_losing_or_doubling(
    deployment: Deployment, expected: Expected, tmp_path: Path
) -> None:
    """Worker B, first in the group, owns the conversation stage; A joins; B is stopped (SIGTERM)
    while the stream flows and A takes every partition: the final records equal those of `analyze`.
    """
    leaver = deployment.second_worker(tmp_path / "data-b")
    with ExitStack() as worker_b:
        worker_b.enter_context(running_worker(leaver, tmp_path / "b.log", **SETTINGS))
        with (
            running_worker(deployment, tmp_path / "a.log", **SETTINGS),
            replaying(deployment, expected.recording, tmp_path / "replay.log"),
        ):
            wait_for(
                lambda: accepted(leaver) >= expected.total // 8,
                seconds=120,
                what="worker B to accept an eighth of the stream",
            )
            conversation = f"{deployment.app_id}-conversation"
            assert received(leaver, conversation) > 0, "worker B does not own the conversation stage"
            by_b = accepted(leaver), duplicates(leaver)
            worker_b.close()  # SIGTERM, and B has stopped; the replay goes on
            assert_final_equals_offline(deployment, expected, tmp_path)
            record_figures(
                "worker_leaves",
                sent=expected.total,
                accepted_by_b_before_leaving=by_b[0],
                accepted_by_a=accepted(deployment),
                duplicates=by_b[1] + duplicates(deployment),
                dead_letters=0,
                lost=0,  # the final records equal analyze's, checked above
            )


def test_a_worker_taking_over_finished_partitions_publishes_their_final_view(
    deployment: Deployment, expected: Expected, tmp_path: Path
) -> None:
    """Worker B takes the whole stream, checkpoints and commits all of it, and stops before any
    idle view (its idle flush is set beyond the test). A then holds every partition with nothing
    new to read: the views it publishes of the states it took over equal `analyze`'s records.
    """
    leaver = deployment.second_worker(tmp_path / "data-b")
    with running_worker(leaver, tmp_path / "b.log", **SETTINGS, RESONANCE_IDLE_FLUSH="1h"):
        assert deployment.run("replay", str(expected.recording)).returncode == 0
        wait_for(lambda: accepted(leaver) == expected.total, seconds=120, what="B to accept every tweet")
        wait_for(
            lambda: not any(uncommitted(deployment).values()),
            seconds=60,
            what="B to checkpoint and commit every stage's input",
        )
    with running_worker(deployment, tmp_path / "a.log", **SETTINGS):
        assert_final_equals_offline(deployment, expected, tmp_path, seconds=120)
