"""A recording gives the same final records live, through Kafka, as offline with `analyze`."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import pytest

from cli.recordings import read_messages
from models.event import TweetEvent
from models.wire import parse_message, to_native
from support import (
    DATASETS,
    Final,
    analyze_options,
    assert_final,
    new_deployment,
    running_worker,
    wait_for_group,
)
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka

# Determinism holds for arrival disorder within the allowed lateness. Flat-out replay into several
# partitions can deliver one partition's tweets well before the other's, so the lateness here
# covers the whole stream (about 75 s of event time). Each cascade's tweets share a partition,
# so they keep their order, which inferred parents depend on (README, "Live and offline agree").
SETTINGS = {"RESONANCE_WINDOW": "2h", "RESONANCE_LATENESS": "10m", "RESONANCE_TOP_N": "20"}
NETWORK_TWEETS = DATASETS / "real_tweets" / "v2_twarc" / "twarc_network_tweets.jsonl"


def _live_agrees_with_offline(
    kafka_bootstrap: str,
    tmp_path: Path,
    recording: Path,
    settings: dict[str, str],
    *,
    workers: int = 1,
) -> list[dict[str, Any]]:
    """Replay `recording` through `workers` workers of one group: their final view of every kind
    and their hashtag counts must equal `analyze`'s records of it, under the same settings (which
    are returned); no worker may have met a retweet out of its cascade's order, and each must
    have accepted some tweets (the group split the partitions).
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    offline = deployment.analyze(
        recording, tmp_path / "offline.jsonl", *analyze_options(settings), **settings
    )
    group = [deployment] + [deployment.second_worker(tmp_path / f"data-{n}") for n in range(1, workers)]
    with ExitStack() as running:
        for n, worker in enumerate(group):
            running.enter_context(running_worker(worker, tmp_path / f"worker-{n}.log", **settings))
        wait_for_group(deployment, workers)
        assert deployment.run("replay", str(recording), **settings).returncode == 0
        assert_final(deployment, Final.of(offline), seconds=240, logs=tmp_path)
        for worker in group:
            assert worker.metric("resonance_retweets_disordered_total") == 0
            assert worker.metric("resonance_tweets_accepted_total") > 0
    return offline


def _network_recording(directory: Path) -> Path:
    """The real tweets of `twarc_network_tweets.jsonl` (which name no parent), one per line in
    time order, in `directory`.
    """
    tweets = [
        t for _, raw in read_messages(NETWORK_TWEETS) for t in parse_message(raw) if isinstance(t, TweetEvent)
    ]
    recording = directory / "network-in-time-order.jsonl"
    in_order = sorted(tweets, key=lambda t: (t.at, t.id))
    recording.write_bytes(b"\n".join(orjson.dumps(to_native(t)) for t in in_order) + b"\n")
    return recording


# The real tweets span 34 minutes: a lateness that covers them, as for the generated stream. Sent
# flat out, the whole recording is one round of batches, and with two workers one may run minutes
# of event time ahead of the other while a rebalance holds the other up.
INFERRED = SETTINGS | {
    "RESONANCE_LATENESS": "1h",
    "RESONANCE_PARTITIONS": "4",
    "RESONANCE_RECONSTRUCTION": "deverna",
}


def test_live_and_offline_final_records_agree(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Every kind of final record of a generated stream replayed through the live worker
    (cascades, influence, the hashtag graph, communities, hashtag polarization, coordination) and
    hashtag counts equal those `resonance analyze` writes for the same file.
    """
    recording = tmp_path / "stream.jsonl"
    write_stream(StreamSpec(events=1_500, seed=5, rings=1), recording)
    _live_agrees_with_offline(kafka_bootstrap, tmp_path, recording, SETTINGS)


def test_inferred_parents_agree_through_several_partitions(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Real tweets name no parent: every retweet's parent is inferred (deverna), among the
    participants of its cascade that came before. Replay and every stage key tweets by cascade,
    so through four partitions each cascade still reaches the conversation stage in the file's
    order, as `analyze` reads it, and trees and influence agree.
    """
    # twarc's pages list the newest first, and a retweet's candidates are the earlier tweets that
    # have arrived: in that order every tree is a star. In time order, a cascade with 2+ retweets
    # can be deeper: the raw JSON, read without our parser, has 56 tweets retweeted twice or more,
    # and the records (the top 20 cascades, by `--top`) are the 20 largest of them.
    retweets = Counter(
        reference["id"]
        for line in NETWORK_TWEETS.read_text(encoding="utf-8").splitlines()
        for tweet in json.loads(line)["data"]
        for reference in tweet.get("referenced_tweets", [])
        if reference["type"] == "retweeted"
    )
    twice_or_more = {tweet_id for tweet_id, count in retweets.items() if count >= 2}
    assert len(twice_or_more) == 56
    recording = _network_recording(tmp_path)
    offline = _live_agrees_with_offline(kafka_bootstrap, tmp_path, recording, INFERRED)
    cascades = [r for r in offline if r["kind"] == "cascade" and r["trigger"] == "end"]
    top = int(INFERRED["RESONANCE_TOP_N"])
    assert (
        sorted((r["size"] for r in cascades), reverse=True)
        == sorted((count + 1 for count in retweets.values()), reverse=True)[:top]
    )
    assert {r["root_id"] for r in cascades} <= twice_or_more
    # Not all stars: some parent was inferred below the root.
    assert any(r["depth"] >= 2 for r in cascades)


@pytest.mark.parametrize("workers", [2, 3])
def test_more_workers_give_the_records_of_one_analyze(
    kafka_bootstrap: str, tmp_path: Path, workers: int
) -> None:
    """Scale-out: two or three workers of one group split the four partitions of every keyed
    stage, and the final records of every kind and the hashtag counts they publish equal
    `analyze`'s, as one worker's do (the test above, same recording and settings), since each
    cascade's tweets share a partition whichever worker owns it.
    """
    recording = _network_recording(tmp_path)
    # Two partitions per worker: Faust's assignor gives each worker at most its share, rounded up,
    # of a topic's partitions, so with four partitions a third worker would get none (README).
    settings = INFERRED | {"RESONANCE_PARTITIONS": str(2 * workers)}
    _live_agrees_with_offline(kafka_bootstrap, tmp_path, recording, settings, workers=workers)
