"""The worker end to end, through the real broker: accounting, hashtag counts, dead letters."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest

from support import (
    DATASETS,
    Deployment,
    consume,
    new_deployment,
    produce,
    records,
    running_worker,
    wait_for,
)

REAL_TWEETS = sorted((DATASETS / "real_tweets").glob("*/*"))

pytestmark = pytest.mark.kafka


def _independent_ids(path: Path) -> tuple[list[str], int]:
    """Tweet ids in a recording, read with the standard json module (not our parser), and the
    number of lines that are not JSON at all.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as stream:
        text = stream.read()
    if text.lstrip().startswith("["):
        return [s["id_str"] for s in json.loads(text)], 0
    ids: list[str] = []
    broken = 0
    for line in filter(str.strip, text.splitlines()):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            broken += 1
            continue
        data = obj.get("data", obj)
        tweets = data if isinstance(data, list) else [data]
        ids.extend(str(t.get("id_str") or t["id"]) for t in tweets)
    return ids, broken


@pytest.fixture
def deployment(kafka_bootstrap: str, tmp_path: Path) -> Deployment:
    """A fresh deployment (app id, topics, web port) on the session's broker."""
    return new_deployment(kafka_bootstrap, tmp_path)


def _accounted(deployment: Deployment) -> float:
    return (
        deployment.metric("resonance_tweets_accepted_total")
        + deployment.metric("resonance_tweets_duplicate_total")
        + deployment.metric_sum("resonance_rejected_total")
    )


def test_every_real_tweet_is_accepted_dead_lettered_or_a_duplicate(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Replaying all real v1.1 and v2 recordings accounts for every tweet: accepted (each distinct
    id once) + duplicates + dead letters equals what was sent.
    """
    per_file = [_independent_ids(path) for path in REAL_TWEETS]
    ids = [i for file_ids, _ in per_file for i in file_ids]
    broken = sum(b for _, b in per_file)
    assert len(ids) > 3000  # the datasets README: 1,783 + 14 v1.1 statuses, about 1,900 v2 tweets
    with running_worker(deployment, tmp_path / "worker.log"):
        replay = deployment.run("replay", *map(str, REAL_TWEETS))
        assert replay.returncode == 0, replay.stderr
        assert f"{len(ids)} tweets, {broken} unreadable" in replay.stderr
        wait_for(
            lambda: _accounted(deployment) >= len(ids) + broken,
            seconds=90,
            what="every replayed tweet to be accounted for",
        )
        assert deployment.metric("resonance_tweets_accepted_total") == len(set(ids))
        assert deployment.metric("resonance_tweets_duplicate_total") == len(ids) - len(set(ids))
        assert deployment.metric("resonance_rejected_total", reason="bad_json") == broken == 1
        dead = consume(deployment.bootstrap, deployment.dead_letter_topic, until=lambda m: len(m) >= 1)
        assert dict(dead[0].headers)["resonance.reason"] == b"bad_json"


def test_hashtag_counts_of_a_real_recording_match_the_reference(
    deployment: Deployment, tmp_path: Path
) -> None:
    """twarc_hashtags_tweets1.jsonl gives the hashtag counts that twarc-hashtags' own tests expect,
    on the metrics topic and on /metrics.
    """
    expected = {
        "naacpimageawards": 2,
        "usa": 1,
        "trafficking": 1,
        "refugees": 1,
        "obama": 1,
        "isis": 1,
        "illegals": 1,
        "cartel": 1,
        "biden": 1,
    }
    recording = DATASETS / "real_tweets" / "v2_twarc" / "twarc_hashtags_tweets1.jsonl"
    with running_worker(deployment, tmp_path / "worker.log"):
        assert deployment.run("replay", str(recording)).returncode == 0

        def final_counts(messages: list) -> dict[str, int] | None:
            latest = {r["tag"]: r["count"] for r in records(messages) if r["kind"] == "hashtag"}
            return latest if set(latest) == set(expected) else None

        messages = consume(
            deployment.bootstrap,
            deployment.metrics_topic,
            until=lambda m: final_counts(m) == expected,
        )
        record = next(r for r in reversed(records(messages)) if r["kind"] == "hashtag")
        assert record["window"] == "15m"
        assert record["lateness"] == "10s"
        wait_for(
            lambda: deployment.metric("resonance_hashtag_window_tweets", tag="naacpimageawards") == 2,
            seconds=30,
            what="the gauge of #naacpimageawards",
        )


BAD_MESSAGES: dict[str, bytes] = {
    "bad_json": b'{"id": "1", "user_id": "u", "created_at": "2024-01-01T00:00:00Z"',
    "wrong_type": orjson.dumps(
        {"id": "2", "user_id": "u", "created_at": "2024-01-01T00:00:00Z", "followers": "many"}
    ),
    "missing_field": orjson.dumps({"user_id": "u", "created_at": "2024-01-01T00:00:00Z"}),
    "not_utf8": b'{"id": "3", "text": "\xff\xfe"}',
    "empty": b"",
    "too_large": orjson.dumps(
        {"id": "4", "user_id": "u", "created_at": "2024-01-01T00:00:00Z", "text": "x" * 5000}
    ),
    "timestamp_without_zone": orjson.dumps({"id": "5", "user_id": "u", "created_at": "2024-01-01T00:00:00"}),
    "timestamp_out_of_range": orjson.dumps({"id": "6", "user_id": "u", "created_at": 1704067200}),
    "bad_timestamp": orjson.dumps({"id": "7", "user_id": "u", "created_at": "yesterday"}),
    "not_an_object": b'["a batch item that is not an object"]',
    "unknown_format": orjson.dumps({"hello": "world"}),
    "unknown_field": orjson.dumps(
        {"id": "9", "user_id": "u", "created_at": "2024-01-01T00:00:00Z", "retweets": 3}
    ),
    "empty_page": orjson.dumps({"data": [], "includes": {}}),
    # In range (2000-2100) but after the clock: accepted, it would drag the watermark past all.
    "timestamp_in_future": orjson.dumps({"id": "10", "user_id": "u", "created_at": "2099-01-01T00:00:00Z"}),
    # Their co-occurrence pairs grow with the square: 15,000 hashtags ran a worker out of memory.
    "too_many_hashtags": orjson.dumps(
        {
            "id": "11",
            "user_id": "u",
            "created_at": "2024-01-01T00:00:00Z",
            "hashtags": [f"t{i}" for i in range(101)],
        }
    ),
}


def test_malformed_messages_are_dead_lettered_with_their_reason(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Each kind of bad message lands in the dead-letter topic with its reason, source position
    and original bytes, and the worker keeps accepting good tweets after them.
    """
    good = orjson.dumps(
        {"id": "good", "user_id": "u", "created_at": "2024-01-01T00:00:00Z", "text": "still #alive"}
    )
    with running_worker(deployment, tmp_path / "worker.log", RESONANCE_MAX_MESSAGE_BYTES="4096") as worker:
        produce(deployment.bootstrap, deployment.input_topic, [*BAD_MESSAGES.values(), good])
        dead = consume(
            deployment.bootstrap,
            deployment.dead_letter_topic,
            until=lambda m: len(m) >= len(BAD_MESSAGES),
        )
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") == 1,
            seconds=60,
            what="the good tweet after the bad ones to be accepted",
        )
        assert worker.poll() is None
    by_reason = {dict(m.headers)["resonance.reason"].decode(): m for m in dead}
    assert set(by_reason) == set(BAD_MESSAGES)
    for reason, message in by_reason.items():
        headers = dict(message.headers)
        assert message.value == BAD_MESSAGES[reason]
        assert headers["resonance.source.topic"] == deployment.input_topic.encode()
        assert int(headers["resonance.source.offset"]) == list(BAD_MESSAGES).index(reason)
        assert headers["resonance.detail"]
    assert len(dead) == len(BAD_MESSAGES)
