"""`resonance record` and `resonance replay` through the real broker: lossless round trips, resuming
after an interruption, event-time ranges, unreadable lines and the research formats.
"""

from __future__ import annotations

import base64
import gzip
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from agents.kafka_admin import ensure_topics
from cli.batching import TweetBatches
from cli.recordings import read_messages
from cli.replay import PAGE_KEY, Pacer, replay_order
from models.event import TweetEvent
from models.wire import parse_line, parse_message, to_native
from support import DATASETS, RESONANCE, Deployment, consume, new_deployment, wait_for
from synth import StreamSpec, write_stream

pytestmark = pytest.mark.kafka

T0 = datetime(2024, 1, 1, tzinfo=UTC)
Message = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]


@pytest.fixture
def deployment(kafka_bootstrap: str, tmp_path: Path) -> Deployment:
    """A fresh deployment (app id, topics) on the session's broker."""
    return new_deployment(kafka_bootstrap, tmp_path)


def _run(deployment: Deployment, *args: str | Path) -> subprocess.CompletedProcess[str]:
    result = deployment.run(*map(str, args))
    assert result.returncode == 0, result.stderr
    return result


def _recorded(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def _raw(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def _messages(path: Path) -> Counter[Message]:
    """The (key, value, headers) of every message of a recording, as a multiset."""
    return Counter(
        (_raw(r["key"]), _raw(r["value"]), tuple((name, _raw(value)) for name, value in r["headers"]))
        for r in _recorded(path)
    )


def _in_topic(bootstrap: str, topic: str) -> int:
    """How many messages `topic` holds (0 before it exists)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, allow_auto_create_topics=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        consumer.close()


def _native_line(number: int, at: datetime) -> bytes:
    return orjson.dumps({"id": f"e{number}", "user_id": "u", "created_at": at.isoformat(), "text": "#x"})


def test_a_recording_replayed_into_a_fresh_topic_records_the_same_messages(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Generate -> replay into A -> record A -> replay the recording into B -> record B: both
    recordings hold the same values, keys and headers (odd bytes and null keys included), each in
    partition then offset order.
    """
    stream, first, second = tmp_path / "stream.jsonl.gz", tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    topic_a, topic_b = f"{deployment.app_id}.a", f"{deployment.app_id}.b"
    _run(deployment, "generate", "--out", stream, "--events", "500", "--seed", "11")
    _run(deployment, "replay", stream, "--topic", topic_a, "--one-per-message")
    producer = KafkaProducer(bootstrap_servers=deployment.bootstrap)
    extras = [  # what a generated stream lacks: headers, no key, bytes that are not UTF-8
        (b"k1", b"\xff\xfe not utf-8", [("resonance.reason", b"not_utf8"), ("empty", b"")]),
        (None, b'{"hello": "world"}', [("resonance.reason", b"unknown_format")]),
        (b"k3", b"", []),
    ]
    for key, value, headers in extras:
        producer.send(topic_a, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()
    _run(deployment, "record", topic_a, "--out", first, "--limit", "503", "--idle-timeout", "30")
    _run(deployment, "replay", first, "--topic", topic_b)
    _run(deployment, "record", topic_b, "--out", second, "--limit", "503", "--idle-timeout", "30")

    assert _messages(first) == _messages(second)
    assert sum(_messages(first).values()) == 503
    values = {value for _, value, _ in _messages(first)}
    assert set(gzip.decompress(stream.read_bytes()).splitlines()) <= values
    assert (b"k1", b"\xff\xfe not utf-8", (("resonance.reason", b"not_utf8"), ("empty", b""))) in _messages(
        first
    )
    for recording in (first, second):
        places = [(r["partition"], r["offset"]) for r in _recorded(recording)]
        assert places == sorted(places)
        assert {r["partition"] for r in _recorded(recording)} == {0, 1}


def test_an_interrupted_replay_resumed_sends_every_message_exactly_once(
    deployment: Deployment, tmp_path: Path
) -> None:
    """SIGTERM midway through a paced replay saves its progress; rerunning with the same state
    file sends the rest, so the topic holds every message once.
    """
    stream, state = tmp_path / "stream.jsonl", tmp_path / "replay.state"
    total = write_stream(StreamSpec(events=3_000, seed=5), stream)  # 150 s of event time
    topic = deployment.input_topic
    args = ("replay", str(stream), "--topic", topic, "--resume", str(state))
    log = tmp_path / "replay.log"
    with log.open("wb") as errors:
        first = subprocess.Popen([*RESONANCE, *args, "--speed", "50"], env=deployment.env(), stderr=errors)

    def started() -> bool:
        if first.poll() is not None:
            raise AssertionError(f"replay exited early with {first.returncode}: {log.read_text()}")
        return _in_topic(deployment.bootstrap, topic) > 0

    try:
        wait_for(started, seconds=60, what="the first messages")  # the whole replay takes about 3 s
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 130, log.read_text()
    finally:
        first.kill()
    assert "rerun with --resume" in log.read_text()
    done = orjson.loads(state.read_bytes())["done"]
    assert 0 < done < total

    resumed = _run(deployment, *args, "--max")  # the pace may change between runs

    assert f"sent {total - done} messages" in resumed.stderr
    assert f"{done} skipped" in resumed.stderr

    def tweets(values: list[bytes]) -> list[str]:  # replay sends them in batches
        return [
            event.id for value in values for event in parse_message(value) if isinstance(event, TweetEvent)
        ]

    messages = consume(
        deployment.bootstrap, topic, until=lambda m: len(tweets([x.value for x in m])) >= total
    )
    sent = tweets(stream.read_bytes().splitlines())
    assert sorted(tweets([m.value for m in messages])) == sorted(sent)
    assert len(set(sent)) == total
    assert _in_topic(deployment.bootstrap, topic) == len(messages)
    again = _run(deployment, *args)
    assert "sent 0 messages" in again.stderr


def test_from_and_to_select_events_and_unreadable_lines_still_go_out(
    deployment: Deployment, tmp_path: Path
) -> None:
    """--from +2m --to 00:05Z sends the events of [t0+2m, t0+5m) and the unreadable line, which is
    reported with its line number.
    """
    # line:  1    2    3    4    5    6    7    8    9    10   11
    # event: e0   e1   e2   bad  e3   e4   e5   e6   e7   e8   e9   (one a minute from t0)
    #                  [--from +2m         --to 00:05Z)
    lines = [_native_line(i, T0 + timedelta(minutes=i)) for i in range(10)]
    lines.insert(3, b'{"id": "broken"')
    recording = tmp_path / "minutes.jsonl"
    recording.write_bytes(b"\n".join(lines) + b"\n")

    result = _run(
        deployment, "replay", recording, "--from", "+2m", "--to", "2024-01-01T00:05:00Z", "--one-per-message"
    )

    assert f"{recording}:4: bad_json" in result.stderr
    assert "3 tweets, 1 unreadable" in result.stderr
    assert "7 outside --from/--to" in result.stderr
    messages = consume(deployment.bootstrap, deployment.input_topic, until=lambda m: len(m) >= 4)
    assert {m.value for m in messages} == {lines[2], lines[3], lines[4], lines[5]}
    assert {m.key for m in messages} == {b"e2", b"e3", b"e4", None}


def test_research_formats_go_out_as_native_events_keyed_by_cascade(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Conover and Higgs lines are sent as the native JSON of the events they stand for, each keyed
    by its cascade.
    """
    conover, higgs = tmp_path / "retweet.edgelist", tmp_path / "higgs-activity_time.txt"
    conover.write_bytes(
        b"12464\t7349\tretweet\t1\t1286901355\t#tcot\n1222\t6667\treply\t0\t1288418099\t#p2\n"
    )
    higgs.write_bytes(b"376989 50329 1341100972 RT\n223789 213163 1341100972 MT\n")

    _run(deployment, "replay", conover, higgs, "--one-per-message")

    expected = []
    for path in (conover, higgs):
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            (event,) = parse_line(line, number)
            assert isinstance(event, TweetEvent)
            expected.append((event.cascade_key.encode(), _canonical(to_native(event))))
    messages = consume(deployment.bootstrap, deployment.input_topic, until=lambda m: len(m) >= 4)
    assert sorted((m.key, _canonical(orjson.loads(m.value))) for m in messages) == sorted(expected)


def test_replay_batches_each_cascade_in_its_own_partition_in_file_order(
    deployment: Deployment, tmp_path: Path
) -> None:
    """By default tweets go out many to a message, each in the partition its cascade key picks
    (as it would alone), in file order, every tweet once; the worker reads the batches as tweets.
    """
    stream = tmp_path / "stream.jsonl"
    total = write_stream(StreamSpec(events=2_000, seed=3), stream)
    lines = stream.read_bytes().splitlines()

    _run(deployment, "replay", stream)

    def tweets(messages: list[Any]) -> list[tuple[int, TweetEvent]]:
        return [
            (m.partition, e) for m in messages for e in parse_message(m.value) if isinstance(e, TweetEvent)
        ]

    messages = consume(deployment.bootstrap, deployment.input_topic, until=lambda m: len(tweets(m)) >= total)
    assert len(messages) < total / 10
    sent = tweets(messages)
    batches = TweetBatches(range(2), span=timedelta(0))  # the test deployment's RESONANCE_PARTITIONS
    order = {
        event.id: number for number, event in enumerate(e for line in lines for e in parse_message(line))
    }
    assert sorted(order[event.id] for _, event in sent) == list(range(total))
    for partition, event in sent:
        assert partition == batches.partition_of(event.cascade_key.encode())
    for partition in {partition for partition, _ in sent}:
        positions = [order[event.id] for p, event in sent if p == partition]
        assert positions == sorted(positions)


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def test_replay_keys_each_message_by_its_cascade(tmp_path: Path) -> None:
    """A retweet goes out keyed by the tweet it retweets and anything else by its own id, so a
    cascade's tweets share a partition and keep the file's order; a page holding several cascades
    is keyed `page` (all such pages share a partition, in order); an unreadable line has no key.
    """
    original = {"id": "o1", "user_id": "a", "created_at": T0.isoformat(), "text": "hello"}
    retweet = {"id": "r1", "user_id": "b", "created_at": T0.isoformat(), "retweet_of": "o1"}
    pages = read_messages(DATASETS / "real_tweets" / "v2_twarc" / "twarc_network_tweets.jsonl")
    page = next(raw for _, raw in pages)
    recording = tmp_path / "mixed.jsonl"
    recording.write_bytes(b"\n".join([orjson.dumps(original), orjson.dumps(retweet), page, b"{"]) + b"\n")

    keys = [message.key for message in replay_order((recording,), damaged=[])]

    assert keys == [b"o1", b"o1", PAGE_KEY, None]
    assert len({tweet.cascade_key for tweet in parse_message(page) if isinstance(tweet, TweetEvent)}) > 1


def test_a_truncated_recording_is_sent_up_to_the_damage_and_named(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Every whole line before the cut goes out; replay then exits 2 saying where the file broke."""
    lines = [_native_line(i, T0 + timedelta(seconds=i)) for i in range(3_000)]
    packed = gzip.compress(b"\n".join(lines) + b"\n", mtime=0)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])

    result = deployment.run("replay", str(cut), "--one-per-message")

    assert result.returncode == 2
    assert f"{cut}: unreadable after line" in result.stderr
    sent = int(result.stderr.split(f"{cut}: unreadable after line ")[1].split()[0])
    assert 0 < sent < len(lines)
    messages = consume(deployment.bootstrap, deployment.input_topic, until=lambda m: len(m) >= sent)
    assert sorted(m.value for m in messages) == sorted(lines[:sent])


def test_pacing_counts_what_a_recording_out_of_time_order_sends_at_once() -> None:
    """A paced replay waits for each event's time from the first; an event dated before one already
    sent cannot wait, goes out at once, and is counted (replay then says the file is out of order).
    """
    pacer = Pacer(speed=1e9)  # waits of nanoseconds: only the accounting is under test
    for minutes in (2, 1, 3, 0, 3, 4):
        pacer.wait_for(T0 + timedelta(minutes=minutes))
    assert pacer.behind == 2  # 1 after 2, 0 after 3
    unpaced = Pacer(speed=None)
    for minutes in (2, 1):
        unpaced.wait_for(T0 + timedelta(minutes=minutes))
    assert unpaced.behind == 0


def _produce_at(bootstrap: str, topic: str, stamps_ms: list[int]) -> None:
    ensure_topics(bootstrap, [topic], partitions=2)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for index, stamp in enumerate(stamps_ms):
        producer.send(topic, key=f"k{index}".encode(), value=f"v{index}".encode(), timestamp_ms=stamp)
    producer.flush()
    producer.close()


def test_record_from_a_time_starts_at_the_first_message_stamped_then(
    deployment: Deployment, tmp_path: Path
) -> None:
    """--from TIME records, in every partition, only the messages whose Kafka timestamp is at or
    after TIME.
    """
    base_ms = (int(time.time()) - 60) * 1000  # recent: retention never removes them mid-test
    _produce_at(deployment.bootstrap, deployment.input_topic, [base_ms + i * 1000 for i in range(10)])
    since = datetime.fromtimestamp((base_ms + 6000) / 1000, tz=UTC).isoformat()
    out = tmp_path / "late.jsonl.gz"

    _run(deployment, "record", deployment.input_topic, "--out", out, "--from", since, "--limit", "4")

    assert sorted(r["timestamp"] - base_ms for r in _recorded(out)) == [6000, 7000, 8000, 9000]
    assert {r["timestamp_type"] for r in _recorded(out)} == {"CreateTime"}


def test_ctrl_c_ends_a_recording_with_a_complete_gzip_file(deployment: Deployment, tmp_path: Path) -> None:
    """SIGINT stops a recording that has no limit: exit 0, and a valid gzip file with every message
    received.
    """
    _produce_at(deployment.bootstrap, deployment.input_topic, [int(time.time() * 1000)] * 30)
    out, log = tmp_path / "live.jsonl.gz", tmp_path / "record.log"
    with log.open("wb") as errors:
        recorder = subprocess.Popen(
            [*RESONANCE, "record", deployment.input_topic, "--out", str(out)],
            env=deployment.env(),
            stderr=errors,
        )

    def recorded_all() -> bool:
        if recorder.poll() is not None:
            raise AssertionError(f"record exited early with {recorder.returncode}: {log.read_text()}")
        return b" 30msg " in log.read_bytes()

    try:
        wait_for(recorded_all, seconds=60, what="30 messages recorded")
        recorder.send_signal(signal.SIGINT)
        assert recorder.wait(timeout=30) == 0, log.read_text()
    finally:
        recorder.kill()
    assert "stopped by a signal: recorded 30 messages" in log.read_text()
    assert sorted(_raw(r["value"]) or b"" for r in _recorded(out)) == sorted(
        f"v{i}".encode() for i in range(30)
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".live")]
