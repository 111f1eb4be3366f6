"""The worker end to end, through the real broker: accounting, hashtag counts, dead letters."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest

from models.wire import RejectReason
from support import (
    DATASETS,
    Deployment,
    consume,
    create_topics,
    new_deployment,
    produce,
    record_figures,
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


def _native(**fields: object) -> bytes:
    """A native event 7 by user u at 2024-01-01 with `fields` set, as JSON bytes."""
    return orjson.dumps({"id": "7", "user_id": "u", "created_at": "2024-01-01T00:00:00Z"} | fields)


def _raw_native(field: bytes) -> bytes:
    """A native event with one more `"key": value` written as is: what orjson cannot write."""
    return b'{"id": "7", "user_id": "u", "created_at": "2024-01-01T00:00:00Z", ' + field + b"}"


def _v1(**fields: object) -> dict[str, object]:
    """A v1.1 status 100 by user 1 on 2024-01-01 with `fields` set."""
    return {
        "id_str": "100",
        "created_at": "Mon Jan 01 00:00:00 +0000 2024",
        "user": {"id_str": "1", "screen_name": "alice"},
    } | fields


def _v2(**fields: object) -> dict[str, object]:
    """A v2 tweet 200 by user 2 on 2024-01-01 with `fields` set."""
    return {"id": "200", "author_id": "2", "created_at": "2024-01-01T00:00:00Z", "text": "hi"} | fields


TEN_MB = 10 * 1024 * 1024
# One message per reject reason: the test below checks the list covers every RejectReason.
BAD_MESSAGES: dict[str, bytes] = {
    "bad_json": b'{"id": "1", "user_id": "u", "created_at": "2024-01-01T00:00:00Z"',
    "wrong_type": _native(followers="many"),
    "missing_field": orjson.dumps({"user_id": "u", "created_at": "2024-01-01T00:00:00Z"}),
    "not_utf8": b'{"id": "3", "text": "\xff\xfe"}',
    "empty": b"",
    # Ten times the 1 MiB default of RESONANCE_MAX_MESSAGE_BYTES (the topics here allow 16 MiB).
    "too_large": _native(text="x" * TEN_MB),
    "timestamp_without_zone": orjson.dumps({"id": "5", "user_id": "u", "created_at": "2024-01-01T00:00:00"}),
    "timestamp_out_of_range": orjson.dumps({"id": "6", "user_id": "u", "created_at": 1704067200}),
    "bad_timestamp": orjson.dumps({"id": "7", "user_id": "u", "created_at": "yesterday"}),
    "not_an_object": b'["a batch item that is not an object"]',
    "unknown_format": orjson.dumps({"hello": "world"}),
    "unknown_field": _native(retweets=3),
    "empty_page": orjson.dumps({"data": [], "includes": {}}),
    # In range (2000-2100) but after the clock: accepted, it would drag the watermark past all.
    "timestamp_in_future": orjson.dumps({"id": "10", "user_id": "u", "created_at": "2099-01-01T00:00:00Z"}),
    # Their co-occurrence pairs grow with the square: 15,000 hashtags ran a worker out of memory.
    "too_many_hashtags": _native(hashtags=[f"t{i}" for i in range(10_000)]),
    "too_deep": b"[" * 10_000 + b"]" * 10_000,
    "not_finite": _raw_native(b'"followers": NaN'),
    "invalid_surrogate": _raw_native(b'"text": "\\ud800"'),
    "number_too_large": _raw_native(b'"followers": 18446744073709551616'),
    "negative_count": _native(followers=-1),
    "foreign_id": orjson.dumps(_v2(id="higgs-user:5")),
    "control_characters": orjson.dumps(_v1(user={"id_str": "1", "screen_name": "eve\x1b[2J"})),
    "timestamp_before_twitter": _native(created_at="2006-03-20T00:00:00Z"),
    "self_retweet": _native(retweet_of="7"),
    "self_parent": _native(retweet_of="9", parent_id="7"),
    "self_reference": _native(reply_to="7"),
    "reference_after_tweet": orjson.dumps(
        _v1(retweeted_status=_v1(id_str="99", created_at="Tue Jan 02 00:00:00 +0000 2024"))
    ),
    "too_many_mentions": _native(mentions=[str(i) for i in range(10_000)]),
    "text_too_long": _native(text="a" * 25_001),
    "page_too_large": orjson.dumps({"data": [_v2(id=str(i)) for i in range(1, 10_001)]}),
    "inconsistent_page": orjson.dumps({"data": [_v2()], "includes": {"tweets": [_v2(author_id="3")]}}),
    # Jetstream's documented identity event: a handle change, no post.
    "not_a_post": orjson.dumps(
        {"did": "did:plc:ufbl4k27gp6kzas5glhz7fim", "time_us": 1725516665234703, "kind": "identity"}
    ),
}


def _good(k: int) -> bytes:
    """The k-th good tweet sent between the bad ones. Among them, as a sampled stream gives them:
    a retweet cycle (g1 retweets g2, then g2 retweets g1) and retweets of tweets never seen; both
    are legitimate input, accepted and never dead-lettered.
    """
    retweet_of = {1: "g2", 2: "g1", 3: "never-seen", 4: "never-seen"}.get(k)
    return _native(id=f"g{k}", text=f"still #alive {k}", retweet_of=retweet_of)


def test_the_bad_messages_cover_every_reject_reason() -> None:
    """The dead-letter test below sends one message for each member of RejectReason."""
    assert set(BAD_MESSAGES) == {reason.value for reason in RejectReason}
    assert len(BAD_MESSAGES) >= 30


def test_malformed_messages_are_dead_lettered_with_their_reason(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Each kind of bad or hostile message, a good tweet after each, lands in the dead-letter topic
    with its reason, source position and original bytes, while the worker keeps running and
    accepts every good tweet.
    """
    # A 10 MB message needs topics that take one (Kafka's default limit is 1 MB); the dead-letter
    # topic must take what the input topic takes, since a dead letter carries the original bytes.
    create_topics(
        deployment.bootstrap,
        [deployment.input_topic, deployment.dead_letter_topic],
        partitions=2,
        config={"max.message.bytes": str(16 * 1024 * 1024)},
    )
    sent = [message for k, bad in enumerate(BAD_MESSAGES.values()) for message in (bad, _good(k))]
    with running_worker(deployment, tmp_path / "worker.log") as worker:
        produce(deployment.bootstrap, deployment.input_topic, sent)
        dead = consume(
            deployment.bootstrap,
            deployment.dead_letter_topic,
            until=lambda m: len(m) >= len(BAD_MESSAGES),
        )
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") == len(BAD_MESSAGES),
            seconds=60,
            what="every good tweet between the bad ones to be accepted",
        )
        assert worker.poll() is None
        for reason in BAD_MESSAGES:
            assert deployment.metric("resonance_rejected_total", reason=reason) == 1, reason
        # Among the good tweets (`_good`), in whichever order the two halves of the cycle reach
        # the conversation stage: the first starts a cascade at the other's id, which it has not
        # seen (unseen original 1), and the second, whose own id now roots that cascade, is
        # ignored (conflicting 1); g3 starts a cascade at "never-seen" (unseen original 2), and
        # g4 joins it.
        wait_for(
            lambda: (
                (
                    deployment.metric("resonance_cascade_conflicting_retweets_total"),
                    deployment.metric("resonance_cascade_unseen_originals_total"),
                )
                == (1, 2)
            ),
            seconds=30,
            what="the retweet cycle and the retweets of unseen tweets counted on /metrics",
        )
    by_reason = {dict(m.headers)["resonance.reason"].decode(): m for m in dead}
    assert set(by_reason) == set(BAD_MESSAGES)
    for reason, message in by_reason.items():
        headers = dict(message.headers)
        assert message.value == BAD_MESSAGES[reason]
        assert headers["resonance.source.topic"] == deployment.input_topic.encode()
        assert int(headers["resonance.source.offset"]) == 2 * list(BAD_MESSAGES).index(reason)
        assert headers["resonance.detail"]
    assert len(dead) == len(BAD_MESSAGES)
    record_figures(
        "hostile_input",
        kinds=len(BAD_MESSAGES),
        sent=len(sent),
        accepted=len(BAD_MESSAGES),  # one good tweet after each bad message, every one accepted
        duplicates=0,
        dead_letters=len(dead),
        lost=0,
    )
