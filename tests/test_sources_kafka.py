"""The live sources against local servers on loopback: every event reaches the topic once, through
a dropped connection and a restart; and Bluesky recordings through `analyze`, `replay` and the worker.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import social
from aiohttp import web
from social_servers import AppView, Jetstream, Mastodon, serving

from models.event import TweetEvent
from models.wire import parse_message
from support import RESONANCE, Deployment, consume, new_deployment, running_worker, wait_for

pytestmark = pytest.mark.kafka


def _expected_ids(payloads: list[dict[str, Any]]) -> list[str]:
    return [e.id for p in payloads for e in parse_message(orjson.dumps(p)) if isinstance(e, TweetEvent)]


def _topic_tweets(deployment: Deployment, count: int) -> list[dict[str, Any]]:
    """The tweets in the input topic's batches, once at least `count` are there."""

    def tweets(messages: list[Any]) -> list[dict[str, Any]]:
        return [t for m in messages for t in orjson.loads(m.value)]

    messages = consume(
        deployment.bootstrap, deployment.input_topic, until=lambda ms: len(tweets(ms)) >= count
    )
    return tweets(messages)


def _start(deployment: Deployment, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*RESONANCE, "source", *args, "--report-every", "1"], env=deployment.env(), stdout=out, stderr=out
        )


def _interrupt(source: subprocess.Popen[bytes], log: Path) -> str:
    """Ctrl-C the source; it must stop cleanly (exit 0) and say what it did."""
    source.send_signal(signal.SIGINT)
    assert source.wait(timeout=30) == 0, log.read_text()
    return log.read_text()


def test_bluesky_source_sends_every_event_once_through_a_drop_and_a_restart(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Jetstream drops the first connection after 6 events; the source reconnects from its cursor
    minus the rewind (repeats dropped). Stopped by Ctrl-C and restarted from its state file with
    the zstd stream, it sends the events that came meanwhile. The topic holds every post, repost
    and like once, with handles from identity events; deletes and identities are not sent.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    first = social.bluesky_conversation() + social.via_cascade(
        "c1", social.BASE_US + 10_000_000, [None, 0, 1, 0, 3]
    )
    later = social.via_cascade("c2", social.BASE_US + 30_000_000, [None, 0, 0, 2])
    server = Jetstream(
        events=list(first), drop_after=6, dictionary=b"app.bsky.feed.repost did:plc: at://" * 50
    )
    dictionary = tmp_path / "zstd_dictionary"
    dictionary.write_bytes(server.dictionary or b"")
    state, log = tmp_path / "bluesky.json", tmp_path / "source.log"
    with serving([web.get("/subscribe", server.subscribe)]) as port:
        url = f"ws://127.0.0.1:{port}/subscribe"
        source = _start(deployment, log, "bluesky", "--url", url, "--state", str(state))
        expected = _expected_ids(first)
        _topic_tweets(deployment, len(expected))
        output = _interrupt(source, log)
        assert "1 reconnects" in output
        assert server.cursors[1] is not None
        assert server.cursors[1] <= first[5]["time_us"] - 5_000_000 + 1_000_000  # rewound 5 s
        server.events.extend(later)
        source = _start(
            deployment,
            log,
            "bluesky",
            "--url",
            url,
            "--state",
            str(state),
            "--zstd-dictionary",
            str(dictionary),
        )
        expected += _expected_ids(later)
        tweets = _topic_tweets(deployment, len(expected))
        _interrupt(source, log)
    assert Counter(t["id"] for t in tweets) == Counter(expected)  # each once, none lost
    carol = [t for t in tweets if t["user_id"] == social.CAROL]
    assert {t.get("user_name") for t in carol} == {"yohenrique.bsky.social"}
    assert any("like_of" in t for t in tweets)
    assert sum(1 for t in tweets if "parent_id" in t) == 1 + 4 + 3  # the reposts that named a via


def test_bluesky_source_with_profiles_gives_events_their_authors_follower_counts(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """With --profiles, every event of an author the AppView knows reaches the topic with its
    follower count, an unknown author's without; the AppView got at most 25 accounts a request and
    each account once (the cache answers the rest).
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    payloads = social.bluesky_conversation()
    authors = sorted(
        {e.user_id for p in payloads for e in parse_message(orjson.dumps(p)) if isinstance(e, TweetEvent)}
    )
    unknown = authors[0]
    appview = AppView(followers={did: 1000 + n for n, did in enumerate(authors) if did != unknown})
    server = Jetstream(events=list(payloads))
    routes = [
        web.get("/subscribe", server.subscribe),
        web.get("/xrpc/app.bsky.actor.getProfiles", appview.get_profiles),
    ]
    log = tmp_path / "source.log"
    with serving(routes) as port:
        source = _start(
            deployment,
            log,
            "bluesky",
            "--url",
            f"ws://127.0.0.1:{port}/subscribe",
            "--state",
            str(tmp_path / "bluesky.json"),
            "--profiles",
            "--profiles-url",
            f"http://127.0.0.1:{port}",
            "--profiles-rate",
            "100",
        )
        expected = _expected_ids(payloads)
        tweets = _topic_tweets(deployment, len(expected))
        output = _interrupt(source, log)
    assert Counter(t["id"] for t in tweets) == Counter(expected)
    assert {(t["user_id"], t.get("followers")) for t in tweets} == {
        (did, appview.followers.get(did)) for did in authors
    }  # every event of an author alike: none went out before its author's count came
    assert all(1 <= len(actors) <= 25 for actors in appview.requests)
    assert sorted(did for actors in appview.requests for did in actors) == authors
    assert "profile requests (0 failed)" in output


def test_mastodon_source_catches_up_from_the_timeline_after_a_drop(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The stream drops after 8 statuses, and 4 are posted before the source is back: it reads
    them from the timeline (from its last id), then streams the rest. Every status reaches the
    topic once; the edit and the delete are counted, not sent.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    statuses = [
        social.mastodon_status(
            f"1032701158260{i:05d}",
            f"user{i % 5}",
            f"2019-12-08T03:{i:02d}:00Z",
            f"<p>#Python {i}</p>",
            tags=("python",),
            account_id=str(i % 5),
        )
        for i in range(20)
    ]
    server = Mastodon(
        statuses,
        plan=[8, 8],
        gap=4,
        token="s3cret",  # noqa: S106 - the local server's made-up token
        extra_events=[("status.update", orjson.dumps(statuses[0]).decode()), ("delete", statuses[1]["id"])],
    )
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    log = tmp_path / "source.log"
    with serving(
        [
            web.get("/api/v1/streaming/hashtag", server.stream),
            web.get("/api/v1/timelines/tag/python", server.timeline),
        ]
    ) as port:
        args = ["mastodon", "--instance", f"http://127.0.0.1:{port}", "--stream", "hashtag:python"]
        refused = deployment.run("source", *args, "--state", str(tmp_path / "refused.json"), timeout=60)
        assert refused.returncode == 2
        assert "--token-file" in refused.stderr.strip().splitlines()[-1]
        source = _start(
            deployment, log, *args, "--token-file", str(token), "--state", str(tmp_path / "m.json")
        )
        tweets = _topic_tweets(deployment, 20)
        wait_for(lambda: "1 deletes, 1 edits" in log.read_text() or None, seconds=30, what="the counts")
        _interrupt(source, log)
    host = f"127.0.0.1:{port}"
    assert Counter(t["id"] for t in tweets) == Counter(
        f"https://{host}/api/v1/statuses/{s['id']}" for s in statuses
    )
    assert server.connections == 2


def test_bluesky_recording_through_analyze_replay_and_the_worker_gives_the_via_trees(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """A Jetstream recording (raw events, one per line) analysed offline and replayed to a live
    worker: the cascade whose every repost names its `via` is drawn exactly as named, and said
    `observed`; a Mastodon recording analyses too.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    shape = [None, 0, 1, 1, 0, 4]
    cascade = social.via_cascade("tree", social.BASE_US, shape)
    original = social.at_uri(social.user(0), "app.bsky.feed.post", "tree")
    cascade[1]["commit"]["record"]["via"] = {"uri": original, "cid": "bafy"}
    recording = tmp_path / "bluesky.jsonl"
    recording.write_bytes(
        b"\n".join(orjson.dumps(p) for p in [*cascade, *social.bluesky_conversation()[1:]]) + b"\n"
    )
    named = {
        f"treer{i}": ("tree" if through is None else f"treer{through}") for i, through in enumerate(shape)
    }

    def tree_parents(record: dict[str, Any]) -> dict[str, str]:
        names = [node.rsplit("/", 1)[1] for node in record["nodes"]]
        return {names[i + 1]: names[p] for i, p in enumerate(record["parents"])}

    offline = deployment.analyze(recording, tmp_path / "out.jsonl")
    [final] = [
        r for r in offline if r["kind"] == "cascade" and r["trigger"] == "end" and r["root_id"] == original
    ]
    assert (final["reconstruction"], final["size"]) == ("observed", len(shape) + 1)
    [tree] = [
        r
        for r in offline
        if r["kind"] == "cascade_tree" and r["trigger"] == "end" and r["root_id"] == original
    ]
    assert tree_parents(tree) == named
    mastodon = tmp_path / "mastodon.jsonl"
    mastodon.write_bytes(
        b"\n".join(orjson.dumps(social.streaming_update(s)) for s in social.mastodon_conversation())
    )
    assert any(r["kind"] == "cascade" for r in deployment.analyze(mastodon, tmp_path / "m.jsonl"))

    replayed = deployment.run("replay", str(recording))
    assert replayed.returncode == 0, replayed.stderr
    with running_worker(deployment, tmp_path / "worker.log"):

        def live_tree(messages: list[Any]) -> bool:
            return any(
                r["kind"] == "cascade_tree" and r["root_id"] == original and r["size"] == len(shape) + 1
                for r in (orjson.loads(m.value) for m in messages)
            )

        messages = consume(deployment.bootstrap, deployment.metrics_topic, until=live_tree, seconds=90)
    live = [orjson.loads(m.value) for m in messages]
    [*_, latest] = [r for r in live if r["kind"] == "cascade_tree" and r["root_id"] == original]
    assert tree_parents(latest) == named
    assert {r["reconstruction"] for r in live if r["kind"] == "cascade" and r["root_id"] == original} == {
        "observed"
    }
