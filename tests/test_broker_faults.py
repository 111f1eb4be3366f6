"""The broker goes away under a running worker: for 30 s in the middle of a stream, or for good.

Each test runs its own broker (`own_kafka`), since it stops it; the session's broker serves the
other tests. Timeline of the first test (wall time):

    replay     |= first half =|                              |= second half =|
    broker     |==============| down, >= 30 s without answer |== up again ============|
    worker     |== working ===|== waits, says so ============|== goes on by itself ===| final == analyze
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cli.broker import LocalKafka
from handover import SETTINGS, assert_final_equals_offline, expect, halves
from support import Deployment, new_deployment, record_figures, running_worker, wait_for

pytestmark = pytest.mark.kafka

OUTAGE_SECONDS = 30


def said(log: Path, level: str, words: str) -> bool:
    """Whether the worker's log holds a line at `level` (e.g. "WARNING") containing `words`."""
    return any(
        f"[{level}]" in line and words in line for line in log.read_text(errors="replace").splitlines()
    )


def reachable(deployment: Deployment) -> float:
    """The worker's `resonance_broker_reachable` gauge."""
    return deployment.metric("resonance_broker_reachable")


def test_a_worker_recovers_by_itself_from_a_broker_stopped_for_30_seconds(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """The broker stops while the worker takes the first half of a stream, and starts again once
    the worker has heard nothing from it for 30 s; meanwhile /metrics and the log say the broker
    is unreachable. With no help, the worker goes on, takes the second half, and its final records
    of every kind and hashtag counts equal `analyze`'s on the whole recording.
    """
    deployment = new_deployment(own_kafka.bootstrap, tmp_path)
    expected = expect(deployment, tmp_path)
    first, second = halves(expected.recording, tmp_path)
    log = tmp_path / "worker.log"
    with running_worker(deployment, log, **SETTINGS) as worker:
        assert deployment.run("replay", str(first)).returncode == 0
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") >= expected.total // 8,
            seconds=60,
            what="an eighth of the stream accepted",
        )
        own_kafka.down()
        wait_for(lambda: reachable(deployment) == 0, seconds=20, what="the gauge to say the broker is gone")
        assert said(log, "WARNING", "the Kafka brokers do not answer")
        # The outage lasts until the worker has heard nothing for 30 s, as its own gauge says,
        # and has said so again, as an error.
        wait_for(
            lambda: (
                deployment.metric("resonance_broker_silence_seconds") >= OUTAGE_SECONDS
                and said(log, "ERROR", "the Kafka brokers have not answered for 3")
            ),
            seconds=OUTAGE_SECONDS + 30,
            what=f"{OUTAGE_SECONDS} s without the broker, and the error saying so",
            interval=1,
        )
        assert worker.poll() is None, "the worker exited while the broker was away"
        own_kafka.up(wait_seconds=120)
        wait_for(lambda: reachable(deployment) == 1, seconds=30, what="the gauge to see the broker again")
        assert said(log, "INFO", "the Kafka brokers answer again")
        assert deployment.run("replay", str(second)).returncode == 0
        assert_final_equals_offline(deployment, expected, tmp_path, seconds=300)
        accepted = deployment.metric("resonance_tweets_accepted_total")
        duplicates = deployment.metric("resonance_tweets_duplicate_total")
        dead = deployment.metric_sum("resonance_rejected_total")
    # One worker all along: every tweet once, whatever the broker did.
    assert (accepted, duplicates, dead) == (expected.total, 0, 0)
    record_figures(
        "broker_stopped_30s",
        sent=expected.total,
        accepted=accepted,
        duplicates=duplicates,
        dead_letters=dead,
        lost=expected.total - accepted,
    )


def test_a_broker_that_never_comes_back_is_reported_not_waited_for_silently(
    own_kafka: LocalKafka, tmp_path: Path
) -> None:
    """The broker stops for good: the worker keeps running and serving /metrics, where
    `resonance_broker_reachable` stays 0 and the silence grows with the clock, and its log warns
    at once. The error it then repeats every 30 s is checked by the test above, which waits that
    long anyway, and in `tests/test_broker_watch.py`.
    """
    deployment = new_deployment(own_kafka.bootstrap, tmp_path)
    log = tmp_path / "worker.log"
    with running_worker(deployment, log) as worker:
        wait_for(lambda: reachable(deployment) == 1, seconds=30, what="the broker seen at first")
        own_kafka.down()
        gone = time.monotonic()
        wait_for(lambda: reachable(deployment) == 0, seconds=20, what="the gauge to say the broker is gone")
        assert said(log, "WARNING", "the Kafka brokers do not answer")
        reported_after = time.monotonic() - gone
        silence = deployment.metric("resonance_broker_silence_seconds")
        wait_for(
            lambda: deployment.metric("resonance_broker_silence_seconds") >= silence + 5,
            seconds=20,
            what="the silence to grow by 5 s",
            interval=1,
        )
        assert worker.poll() is None
        assert reachable(deployment) == 0
        record_figures("broker_gone", seconds_until_reported=round(reported_after, 1))
        # Faust's orderly stop waits for the broker too (30 s here, then the kill): not this
        # test's subject, so the worker is killed at once.
        worker.kill()
