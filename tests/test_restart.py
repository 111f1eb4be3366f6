"""kill -9 in the middle of a stream, restart: the final records must be those of an
uninterrupted run, nothing lost or doubled.

It once passed only on an idle machine: checkpoints were written to a changelog whose serializers
were json, so a restarted worker never found them and started from empty state; on an idle machine
no offset had been committed yet when the kill came, so everything was read again and the answer
was right by luck. Under load it was not (see `tests/test_checkpoints.py`).
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from handover import SETTINGS, assert_final_equals_offline, expect, halves, replaying
from support import Deployment, consume, new_deployment, record_figures, running_worker, uncommitted, wait_for

pytestmark = pytest.mark.kafka


# `make stress` kills five times; `make test` twice.
KILLS = int(os.environ.get("RESONANCE_TEST_KILLS", "2"))
# Each worker's life (start, the group's rebalance once the killed member's 10 s session ends,
# catching up) takes 20 to 30 s: the stream's 2.5 minutes of event time flow for about 37 s per
# kill, so every kill comes while it flows.
KILL_SPEED = 4 / max(KILLS, 1)


def kill_points(total: int, kills: int, seed: int = 18) -> list[int]:
    """`kills` points of a stream of `total` tweets, drawn with a seeded generator: one in each of
    as many equal stretches of it (the last stretch is left to the final worker).
    """
    rng = random.Random(seed)
    stretch = total / (kills + 1)
    return [round(stretch * (k + rng.uniform(0.5, 1.5))) for k in range(kills)]


def test_repeated_kills_lose_nothing_double_nothing_and_raise_no_alert_twice(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """SIGKILL a worker at `KILLS` seeded random points of one paced replay, each time starting
    another: the final records of every kind and the hashtag counts equal those of `analyze`, and
    the alerts topic holds each alert key once, each one `analyze` raises: not necessarily every
    one, as a boundary's alerts judge the cascades as they stand when it passes, which depends on
    the order partitions deliver in (README, "Live and offline agree").
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    expected = expect(deployment, tmp_path)
    points = kill_points(expected.total, KILLS)
    before_kills: list[float] = []  # each killed worker's accepted count, scraped just before
    with replaying(deployment, expected.recording, tmp_path / "replay.log", speed=KILL_SPEED) as replay:
        for life, point in enumerate(points):
            with running_worker(deployment, tmp_path / f"worker-{life}.log", **SETTINGS) as worker:
                wait_for(
                    lambda point=point: (  # type: ignore[misc]
                        sum(before_kills) + deployment.metric("resonance_tweets_accepted_total") >= point
                    ),
                    seconds=120,
                    what=f"kill point {life + 1} of {KILLS} ({point} tweets accepted in all)",
                )
                before_kills.append(deployment.metric("resonance_tweets_accepted_total"))
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=30)
                assert replay.poll() is None, f"kill {life + 1} came after the stream had been sent"

    with running_worker(deployment, tmp_path / "last.log", **SETTINGS):
        assert_final_equals_offline(deployment, expected, tmp_path, seconds=400)
        last = {
            name: deployment.metric_sum(name)
            for name in (
                "resonance_tweets_accepted_total",
                "resonance_tweets_duplicate_total",
                "resonance_rejected_total",
            )
        }
    assert any(a["trigger"] == "boundary" for a in expected.alerts), "analyze raises none: nothing to check"
    alerts = everything_on(deployment.bootstrap, f"{deployment.app_id}.alerts")
    keys = [orjson.loads(message.value)["key"] for message in alerts]
    assert keys, "no alert was raised live"
    assert len(keys) == len(set(keys)), f"an alert was raised twice: {sorted(keys)}"
    assert set(keys) <= {a["key"] for a in expected.alerts}, "an alert analyze does not raise"
    record_figures(
        f"kill9_x{KILLS}",
        sent=expected.total,
        kills=KILLS,
        kill_points=points,
        accepted_before_each_kill=before_kills,
        accepted_by_the_last_worker=last["resonance_tweets_accepted_total"],
        duplicates_by_the_last_worker=last["resonance_tweets_duplicate_total"],
        dead_letters=last["resonance_rejected_total"],
        alerts=len(keys),
        lost=0,  # the final records equal analyze's, checked above
    )


def everything_on(bootstrap: str, topic: str) -> list[Any]:
    """Every message `topic` holds now (the worker is done: nothing more comes)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        total = sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()
    return consume(bootstrap, topic, until=lambda messages: len(messages) >= total)


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
