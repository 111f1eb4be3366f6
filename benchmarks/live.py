# ruff: noqa: INP001 - a helper of the benchmarks/run.py script, not a package module
"""The live measurements: a private Kafka broker, bare consumers, and a real `resonance worker`.

Everything here talks to a real broker over the network and to the worker over its /metrics
endpoint, the way `tests/support.py` does. All live times are wall-clock `time.time()` seconds,
so they compare with the CreateTime timestamps of the records the worker publishes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition as AioTopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from agents.instruments import ACCOUNTED
from cli.batching import TweetBatches
from cli.broker import LocalKafka, free_ports
from models.wire import to_native
from synth import StreamSpec, generate

T = TypeVar("T")
POLL_SECONDS = 0.25
WORKER_START_SECONDS = 120.0
DRAIN_SECONDS = 900.0
LATENCY_DEADLINE_SECONDS = 30.0
STOP_SECONDS = 30.0
LATENCY_FETCH_WAIT_MS = 20  # kafka-python's default (500) would add up to half a second per record
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def wait_for(check: Callable[[], T | None], *, seconds: float, what: str, interval: float = 0.2) -> T:
    """Poll `check` until it returns something truthy; raise with `what` at the deadline."""
    deadline = time.monotonic() + seconds
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {seconds:.0f}s waiting for {what} (last: {last!r})")


@contextmanager
def private_broker(home: Path, partitions: int, say: Callable[[str], None]) -> Iterator[str]:
    """A LocalKafka on free ports in `home` for the block; yields its bootstrap address."""
    port, controller_port = free_ports(2)
    broker = LocalKafka(home, port, controller_port, partitions=partitions, progress=say)
    try:
        broker.up(wait_seconds=120)
        yield broker.bootstrap
    finally:
        broker.down()


@dataclass(frozen=True, slots=True)
class Deployment:
    """One isolated deployment on the broker: its own app id, topics, web port and data dir."""

    bootstrap: str
    app_id: str
    web_port: int
    data_dir: Path
    partitions: int
    idle_flush: str
    lateness: str
    settings: tuple[tuple[str, str], ...] = ()  # more of the worker's environment

    @classmethod
    def new(cls, bootstrap: str, home: Path, partitions: int, idle_flush: str, lateness: str) -> Deployment:
        """A deployment with unique names."""
        app_id = f"bench{uuid.uuid4().hex[:10]}"
        return cls(bootstrap, app_id, free_ports(1)[0], home / app_id, partitions, idle_flush, lateness)

    def another_worker(self, data_dir: Path) -> Deployment:
        """A second worker of the same group: its own web port and local state."""
        return dataclasses.replace(self, web_port=free_ports(1)[0], data_dir=data_dir)

    def with_settings(self, settings: dict[str, str]) -> Deployment:
        """The same deployment, its worker run with `settings` (environment variables) too."""
        return dataclasses.replace(self, settings=tuple(settings.items()))

    @property
    def input_topic(self) -> str:
        """Where tweets go."""
        return f"{self.app_id}.tweets"

    @property
    def metrics_topic(self) -> str:
        """Where the worker publishes its records."""
        return f"{self.app_id}.metrics"

    def env(self) -> dict[str, str]:
        """The worker's environment (as `tests/support.py` builds it), numeric libs on one thread."""
        return (
            os.environ
            | {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "RESONANCE_APP_ID": self.app_id,
                "RESONANCE_INPUT_TOPIC": self.input_topic,
                "RESONANCE_DEAD_LETTER_TOPIC": f"{self.app_id}.tweets.dlq",
                "RESONANCE_METRICS_TOPIC": self.metrics_topic,
                "RESONANCE_ALERTS_TOPIC": f"{self.app_id}.alerts",
                "RESONANCE_WEB_PORT": str(self.web_port),
                "RESONANCE_DATA_DIR": str(self.data_dir),
                "RESONANCE_IDLE_FLUSH": self.idle_flush,
                "RESONANCE_LATENESS": self.lateness,
                "RESONANCE_PARTITIONS": str(self.partitions),
                "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1",
            }
            | dict(self.settings)
        )

    def metrics(self) -> dict[str, float] | None:
        """The worker's Prometheus samples summed over labels, or None while it does not answer."""
        samples = self.samples()
        if samples is None:
            return None
        sums: dict[str, float] = {}
        for sample in samples:
            sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
        return sums

    def samples(self) -> list[Sample] | None:
        """The worker's Prometheus samples, or None while it does not answer."""
        url = f"http://127.0.0.1:{self.web_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return None
        return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def accounted(samples: dict[str, float]) -> float:
    """Tweets the accept stage has decided on: accepted + duplicates + dead-lettered."""
    return sum(samples.get(name, 0.0) for name in ACCOUNTED)


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """Create `topic` with the worker's partition count (so it matches what the worker expects)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        with suppress(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()


@dataclass(frozen=True, slots=True)
class Stream:
    """The generated messages to produce (native JSON keyed by cascade, as `resonance replay` keys
    them) and the sentinel cascade.
    """

    messages: list[tuple[bytes, bytes]]
    times: list[datetime]  # each message's event time
    generated: int
    root_id: str
    root_user: str
    next_ms: int

    @classmethod
    def build(cls, events: int, seed: int, tag: str) -> Stream:
        """`events` generated tweets, then an original and one retweet of it one second later."""
        messages: list[tuple[bytes, bytes]] = []
        times: list[datetime] = []
        latest_ms = 0
        for event in generate(StreamSpec(events=events, seed=seed)):
            messages.append((event.cascade_key.encode(), orjson.dumps(to_native(event))))
            times.append(event.at)
            latest_ms = max(latest_ms, int(event.at.timestamp() * 1000))
        root_id, root_user = f"{tag}-root", f"{tag}-author"
        original = {"id": root_id, "user_id": root_user, "created_at": latest_ms + 1000, "text": "bench"}
        messages.append((root_id.encode(), orjson.dumps(original)))
        messages.append(retweet_message(root_id, root_user, f"{tag}-rt-0", latest_ms + 2000))
        times += [datetime.fromtimestamp((latest_ms + later) / 1000, tz=UTC) for later in (1000, 2000)]
        return cls(messages, times, events, root_id, root_user, latest_ms + 3000)

    @property
    def tweets(self) -> int:
        """Tweets in the stream, the sentinel's included."""
        return len(self.messages)

    def one_per_message(self) -> list[Outgoing]:
        """Every tweet in a message of its own, keyed by cascade (Kafka picks the partition)."""
        return [(None, key, value) for key, value in self.messages]

    def batched(self, partitions: int, lateness: timedelta) -> list[Outgoing]:
        """The tweets in batches, as `resonance replay` sends them to a worker with `lateness`
        (`cli.batching`).
        """
        batches = TweetBatches(range(partitions), span=lateness / 2)
        out: list[Outgoing] = []
        for (key, value), at in zip(self.messages, self.times, strict=True):
            out += batches.add(key, value, at)
        return out + batches.flush()

    def write_jsonl(self, path: Path) -> Path:
        """The stream as a JSON-lines recording, for `analyze`."""
        path.write_bytes(b"".join(value + b"\n" for _, value in self.messages))
        return path


def retweet_message(root_id: str, root_user: str, tweet_id: str, at_ms: int) -> tuple[bytes, bytes]:
    """A native retweet of `root_id`, straight from the root."""
    value = {
        "id": tweet_id,
        "user_id": f"{tweet_id}-user",
        "created_at": at_ms,
        "retweet_of": root_id,
        "retweet_of_user": root_user,
        "parent_id": root_id,
    }
    return root_id.encode(), orjson.dumps(value)  # its cascade key


Outgoing = tuple[int | None, bytes, bytes]
"""A message to produce: (partition, or None for the key's; key; value)."""


def produce(bootstrap: str, topic: str, messages: Sequence[Outgoing]) -> dict[str, float]:
    """Send every message and wait for the broker to have them; return time and rate."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, batch_size=262_144, max_request_size=2_097_152
    )
    started = time.time()
    for partition, key, value in messages:
        producer.send(topic, key=key, value=value, partition=partition)
    producer.flush()
    elapsed = time.time() - started
    producer.close()
    return {"messages": len(messages), "wall_s": elapsed, "per_s": len(messages) / elapsed}


def topic_messages(bootstrap: str, topic: str) -> int:
    """How many messages `topic` holds (the sum of its partitions' end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def bare_kafka_python(bootstrap: str, topic: str, partitions_count: int, total: int) -> dict[str, float]:
    """A kafka-python consumer reading the topic from the beginning until it has `total` messages."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in range(partitions_count)]
        count = 0
        started_cpu, started = time.process_time(), time.time()
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = started + DRAIN_SECONDS
        while count < total and time.time() < deadline:
            for batch in consumer.poll(timeout_ms=500, max_records=10_000).values():
                count += len(batch)
        elapsed, cpu = time.time() - started, time.process_time() - started_cpu
    finally:
        consumer.close()
    return {"messages": count, "wall_s": elapsed, "cpu_s": cpu, "per_s": count / elapsed}


def bare_aiokafka(bootstrap: str, topic: str, partitions_count: int, total: int) -> dict[str, float]:
    """An aiokafka consumer (the client faust runs on) reading the topic until it has `total`."""

    async def read() -> dict[str, float]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [AioTopicPartition(topic, p) for p in range(partitions_count)]
            count = 0
            started_cpu, started = time.process_time(), time.time()
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            deadline = started + DRAIN_SECONDS
            while count < total and time.time() < deadline:
                batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
                count += sum(len(batch) for batch in batches.values())
            elapsed, cpu = time.time() - started, time.process_time() - started_cpu
        finally:
            await consumer.stop()
        return {"messages": count, "wall_s": elapsed, "cpu_s": cpu, "per_s": count / elapsed}

    return asyncio.run(read())


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process `pid` has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15


def process_peak_rss_kib(pid: int) -> int:
    """The peak resident set (VmHWM) of process `pid`, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@dataclass(slots=True)
class Stop:
    """How the worker stopped at the end of `running_worker`: seconds from SIGTERM to exit, and
    whether it had to be killed after STOP_SECONDS.
    """

    seconds: float | None = None
    killed: bool = False


@contextmanager
def running_worker(deployment: Deployment, log: Path, stop: Stop) -> Iterator[subprocess.Popen[bytes]]:
    """A `resonance worker` subprocess for the block; stopped at the end (SIGTERM, then SIGKILL
    after STOP_SECONDS), with how it went noted in `stop`.
    """
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "cli", "worker", "-l", "info"],
            env=deployment.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        asked = time.monotonic()
        worker.terminate()
        try:
            worker.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
            stop.killed = True
        stop.seconds = time.monotonic() - asked


def check_alive(worker: subprocess.Popen[bytes], log: Path) -> None:
    """Raise, with the end of its log, if the worker has exited."""
    if worker.poll() is not None:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the worker exited with {worker.returncode}; the end of {log}:\n{tail}")


@dataclass(slots=True)
class Progress:
    """The worker's counters polled every POLL_SECONDS: when each stage started and finished, and
    the worker's CPU seconds (from /proc) at those polls.
    """

    messages: int
    tweets: int
    polls: int = 0
    idle_until: float | None = None  # the last poll before any input was consumed
    idle_cpu_s: float = 0.0
    ingested_at: float | None = None
    accepted_at: float | None = None
    accepted_cpu_s: float = 0.0

    def observe(self, at: float, samples: dict[str, float] | None, cpu_s: float) -> None:
        """Take one poll (`samples` None: the worker does not answer yet)."""
        self.polls += 1
        ingested = 0.0 if samples is None else samples.get("resonance_input_messages_total", 0.0)
        decided = 0.0 if samples is None else accounted(samples)
        if ingested == 0:
            self.idle_until, self.idle_cpu_s = at, cpu_s
        if self.ingested_at is None and ingested >= self.messages:
            self.ingested_at = at
        if self.accepted_at is None and decided >= self.tweets:
            self.accepted_at, self.accepted_cpu_s = at, cpu_s


def watch_worker(
    deployment: Deployment, worker: subprocess.Popen[bytes], log: Path, messages: int, tweets: int
) -> Progress:
    """Poll /metrics from the worker's launch until its ingest stage has read `messages` and its
    accept stage has decided `tweets` tweets.
    """
    progress = Progress(messages, tweets)
    deadline = time.time() + WORKER_START_SECONDS + DRAIN_SECONDS
    while progress.accepted_at is None:
        check_alive(worker, log)
        if time.time() > deadline:
            raise TimeoutError(f"the worker did not accept {tweets} tweets in time (log {log})")
        at, cpu_s = time.time(), process_cpu_seconds(worker.pid)
        progress.observe(at, deployment.metrics(), cpu_s)
        time.sleep(POLL_SECONDS)
    return progress


def _cascade_change(message: Any, root_id: str) -> dict[str, Any] | None:
    record = orjson.loads(message.value)
    wanted = record.get("kind") == "cascade" and record.get("trigger") == "change"
    return record if wanted and record.get("root_id") == root_id else None


def find_cascade_change(bootstrap: str, topic: str, root_id: str, *, min_size: int) -> Any:
    """Read the metrics topic from the beginning until a change record of `root_id` of at least
    `min_size` nodes; return that message (its timestamp is when the worker published it).
    """

    def wanted(message: Any) -> bool:
        record = _cascade_change(message, root_id)
        return record is not None and record["size"] >= min_size

    return _find_record(bootstrap, topic, wanted, what=f"the cascade record of {root_id}")


def find_idle_summary(bootstrap: str, topic: str, *, after: float) -> Any:
    """Read the metrics topic from the beginning until an influence summary of an idle view
    published at or after `after` (epoch seconds): the conversation stage's view of a quiet input,
    which takes it a second or more on a large state, is then out.
    """

    def wanted(message: Any) -> bool:
        if message.timestamp < after * 1000:
            return False
        record = orjson.loads(message.value)
        return bool(record.get("kind") == "influence_summary" and record.get("trigger") == "idle")

    return _find_record(bootstrap, topic, wanted, what="the idle view's influence summary")


def _find_record(bootstrap: str, topic: str, wanted: Callable[[Any], bool], *, what: str) -> Any:
    """The first message of `topic`, read from its beginning, that is `wanted`."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:

        def partitions() -> list[TopicPartition] | None:
            found = consumer.partitions_for_topic(topic)
            return [TopicPartition(topic, p) for p in sorted(found)] if found else None

        assigned = wait_for(partitions, seconds=60, what=f"topic {topic}")
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)

        def found() -> Any:
            for batch in consumer.poll(timeout_ms=500).values():
                for message in batch:
                    if wanted(message):
                        return message
            return None

        return wait_for(found, seconds=DRAIN_SECONDS, what=what, interval=0)
    finally:
        consumer.close()


def measure_latency(  # noqa: PLR0913 - each is one independent parameter of the measurement
    deployment: Deployment,
    stream: Stream,
    pauses: Sequence[float],
    *,
    first: int,
    start_size: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Send retweets of the stream's root one at a time, each after its pause in `pauses`
    (seconds), numbered from `first` (retweet k makes the cascade `start_size + k` nodes); for
    each, the wall time from just before the send to the arrival of its cascade change record at
    a kafka-python consumer, and to that record's CreateTime (when the worker produced it).
    """
    consumer = _metrics_from_now(deployment)
    producer = KafkaProducer(bootstrap_servers=deployment.bootstrap, linger_ms=0)
    arrival: list[float] = []
    published: list[float] = []
    timeouts = 0
    try:
        for k, pause in enumerate(pauses, start=first):
            time.sleep(pause)
            key, value = retweet_message(
                stream.root_id, stream.root_user, f"{deployment.app_id}-rt-{k}", stream.next_ms + k * 1000
            )
            sent = time.time()
            producer.send(deployment.input_topic, key=key, value=value)
            producer.flush()
            message = _await_change(consumer, stream.root_id, start_size + k)
            if message is None:
                timeouts += 1
                say(f"  retweet {k}: no cascade record within {LATENCY_DEADLINE_SECONDS:.0f}s")
                continue
            arrival.append(time.time() - sent)
            published.append(message.timestamp / 1000 - sent)
    finally:
        producer.close()
        consumer.close()
    return {"sent": len(pauses), "timeouts": timeouts, "arrival_s": arrival, "published_s": published}


def _metrics_from_now(deployment: Deployment) -> KafkaConsumer:
    """A consumer of the metrics topic positioned at its end now, before anything is sent."""
    consumer = KafkaConsumer(
        bootstrap_servers=deployment.bootstrap,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=LATENCY_FETCH_WAIT_MS,
    )
    found = consumer.partitions_for_topic(deployment.metrics_topic) or set()
    assigned = [TopicPartition(deployment.metrics_topic, p) for p in sorted(found)]
    consumer.assign(assigned)
    consumer.seek_to_end(*assigned)
    for partition in assigned:
        consumer.position(partition)  # resolve "end" now
    return consumer


def _await_change(consumer: KafkaConsumer, root_id: str, size: int) -> Any:
    deadline = time.time() + LATENCY_DEADLINE_SECONDS
    while time.time() < deadline:
        for batch in consumer.poll(timeout_ms=100).values():
            for message in batch:
                record = _cascade_change(message, root_id)
                if record is not None and record["size"] >= size:
                    return message
    return None


def quantiles(values: list[float]) -> dict[str, float] | None:
    """min, median, p95 (nearest rank), max; None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(0.95 * len(ordered)) - 1
    return {"min": ordered[0], "median": statistics.median(ordered), "p95": ordered[rank], "max": ordered[-1]}


_TWEET_REFERENCES = ("id", "retweet_of", "parent_id", "reply_to", "quote_of")


def renewed(pool: list[dict[str, Any]], sent: int, at_ms: int) -> dict[str, Any]:
    """The pool's native tweet number `sent` (round robin), its ids made new for each round (so
    none is a duplicate) and dated `at_ms`.
    """
    value = dict(pool[sent % len(pool)])
    round_tag = f"-L{sent // len(pool)}"
    for name in _TWEET_REFERENCES:
        if name in value:
            value[name] += round_tag
    value["created_at"] = at_ms
    return value


@dataclass(slots=True)
class Load:
    """Tweets offered to the input topic at `rate` per second, in batches every tenth of a second,
    from a background thread: the generated stream's tweets over and over, each round's ids made
    new (so none is a duplicate) and every tweet dated when it is sent (so event time follows the
    clock, as in a live stream).
    """

    bootstrap: str
    topic: str
    partitions: int
    rate: int
    pool: list[dict[str, Any]]
    sent: int = 0
    behind_s: float = 0.0  # how far the sender fell behind its schedule, at worst
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin offering."""
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop offering; wait for what was sent to be acknowledged."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5, max_request_size=2_097_152)
        batches = TweetBatches(range(self.partitions), span=timedelta(seconds=1))  # flushed every 0.1 s
        per_tick, started, tick = self.rate // 10, time.monotonic(), 0
        try:
            while not self._stop.is_set():
                now_ms = int(time.time() * 1000)
                for _ in range(per_tick):
                    value = renewed(self.pool, self.sent, now_ms)
                    key = value.get("retweet_of", value["id"]).encode()
                    at = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
                    for partition, batch_key, batch in batches.add(key, orjson.dumps(value), at):
                        producer.send(self.topic, key=batch_key, value=batch, partition=partition)
                    self.sent += 1
                for partition, batch_key, batch in batches.flush():
                    producer.send(self.topic, key=batch_key, value=batch, partition=partition)
                tick += 1
                delay = started + tick / 10 - time.monotonic()
                self.behind_s = max(self.behind_s, -delay)
                if delay > 0:
                    self._stop.wait(delay)
            producer.flush()
        finally:
            producer.close()


def latency_under_load(  # noqa: PLR0913 - each is one independent parameter of the measurement
    deployment: Deployment,
    stream: Stream,
    *,
    rate: int,
    seconds: float,
    probe_every: float,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Offer `rate` tweets/s for `seconds` and, meanwhile, a retweet of a fresh original every
    `probe_every` seconds; for each, the wall time from just before its send to the arrival of its
    cascade change record. With the worker's accounting before and after.
    """
    pool = [orjson.loads(value) for _, value in stream.messages[:-2]]  # the sentinel's are not reused
    load = Load(deployment.bootstrap, deployment.input_topic, deployment.partitions, rate, pool)
    consumer = _metrics_from_now(deployment)
    producer = KafkaProducer(bootstrap_servers=deployment.bootstrap, linger_ms=0)
    root_id, root_user = f"{deployment.app_id}-load-root", f"{deployment.app_id}-load-author"
    arrival: list[float] = []
    timeouts = 0
    before = accounted(deployment.metrics() or {})
    samples_before = deployment.samples() or []
    try:
        original = {
            "id": root_id,
            "user_id": root_user,
            "created_at": int(time.time() * 1000),
            "text": "load",
        }
        producer.send(deployment.input_topic, key=root_id.encode(), value=orjson.dumps(original))
        load.start()
        started = time.monotonic()
        k = 0
        while time.monotonic() - started < seconds:
            k += 1
            time.sleep(probe_every)
            key, value = retweet_message(root_id, root_user, f"{root_id}-rt-{k}", int(time.time() * 1000))
            sent = time.time()
            producer.send(deployment.input_topic, key=key, value=value)
            producer.flush()
            message = _await_change(consumer, root_id, k + 1)
            if message is None:
                timeouts += 1
                say(f"  load retweet {k}: no cascade record within {LATENCY_DEADLINE_SECONDS:.0f}s")
                continue
            arrival.append(time.time() - sent)
        elapsed = time.monotonic() - started
    finally:
        load.stop()
        producer.close()
        consumer.close()
    answered = deployment.metrics()  # None: the worker's /metrics did not answer within 5 s
    samples_after = deployment.samples() or []
    return {
        "offered": load.sent,
        "offered_per_s": load.sent / elapsed,
        "sender_behind_s": load.behind_s,
        "accounted_during": None if answered is None else accounted(answered) - before,
        "seconds": elapsed,
        "sent": k,
        "timeouts": timeouts,
        "arrival_s": arrival,
        "stage_delays": stage_delays(samples_before, samples_after),
        "loop_lag": histogram_change(samples_before, samples_after, "resonance_event_loop_lag_seconds"),
        "analyzer_batches": histogram_change(
            samples_before, samples_after, "resonance_analyzer_batch_seconds"
        ),
    }


def stage_delays(before: list[Sample], after: list[Sample]) -> dict[str, dict[str, float]]:
    """Per stage, from the worker's `resonance_stage_delay_seconds` histogram sampled `before` and
    `after` a phase: the messages it took meanwhile, and the bucket bounds (seconds) within which
    their median and 99th percentile fell.
    """
    stages = {s.labels["stage"] for s in after if s.name == "resonance_stage_delay_seconds_bucket"}
    figures = {
        stage: histogram_change(before, after, "resonance_stage_delay_seconds", stage=stage)
        for stage in sorted(stages)
    }
    return {stage: figure for stage, figure in figures.items() if figure is not None}


def histogram_change(
    before: list[Sample], after: list[Sample], name: str, **labels: str
) -> dict[str, float] | None:
    """What a Prometheus histogram `name` (the series with `labels`) counted between two samplings:
    how many observations, and the bucket bounds within which their median, 99th percentile and
    largest fell; None when it counted none.
    """

    def buckets(samples: list[Sample]) -> dict[float, float]:
        return {
            float(s.labels["le"]): s.value
            for s in samples
            if s.name == f"{name}_bucket" and labels.items() <= s.labels.items()
        }

    earlier = buckets(before)
    counts = sorted((le, value - earlier.get(le, 0.0)) for le, value in buckets(after).items())
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return None
    return {
        "count": total,
        "p50_within_s": next(le for le, count in counts if count >= 0.5 * total),
        "p99_within_s": next(le for le, count in counts if count >= 0.99 * total),
        "max_within_s": next(le for le, count in counts if count >= total),
    }


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


_GARBAGE_AT = "2024-01-01T00:00:00Z"


def _native(k: int, **fields: object) -> bytes:
    """A native tweet `g<k>` with `fields` set, as JSON."""
    return orjson.dumps({"id": f"g{k}", "user_id": "garbage", "created_at": _GARBAGE_AT} | fields)


def _raw(k: int, field: bytes) -> bytes:
    """A native tweet `g<k>` with one more `"key": value` written as is (what orjson cannot write)."""
    return _native(k)[:-1] + b", " + field + b"}"


# A mix of hostile kinds (README: "Bad input loses nothing"), each dead-lettered with its own
# reason: cheap refusals (not JSON, not UTF-8, a wrong field) beside costly ones (10,000 levels of
# nesting, 10,000 hashtags or mentions, a 25,001-character text). Each takes `k`, put in its id
# where it has one.
HOSTILE: tuple[Callable[[int], bytes], ...] = (
    lambda k: b'{"id": "' + str(k).encode() + b'", "user_id": "u"',  # bad_json
    lambda k: b'{"id": "' + str(k).encode() + b'", "text": "\xff\xfe"}',  # not_utf8
    lambda _: b"",  # empty
    lambda k: _native(k, followers="many"),  # wrong_type
    lambda k: orjson.dumps({"user_id": f"u{k}", "created_at": _GARBAGE_AT}),  # missing_field
    lambda k: _native(k, retweets=3),  # unknown_field
    lambda _: b"[" * 10_000 + b"]" * 10_000,  # too_deep
    lambda k: _raw(k, b'"followers": NaN'),  # not_finite
    lambda k: _raw(k, b'"text": "\\ud800"'),  # invalid_surrogate
    lambda k: _raw(k, b'"followers": 18446744073709551616'),  # number_too_large
    lambda k: _native(k, followers=-1),  # negative_count
    lambda k: _native(k, created_at="2099-01-01T00:00:00Z"),  # timestamp_in_future
    lambda k: _native(k, retweet_of=f"g{k}"),  # self_retweet
    lambda k: _native(k, hashtags=[f"t{i}" for i in range(10_000)]),  # too_many_hashtags
    lambda k: _native(k, mentions=[str(i) for i in range(10_000)]),  # too_many_mentions
    lambda k: _native(k, text="a" * 25_001),  # text_too_long
    lambda k: orjson.dumps({"hello": "world", "k": k}),  # unknown_format
    lambda _: b'["not an object"]',  # not_an_object
    lambda k: _native(k, created_at="2006-03-20T00:00:00Z"),  # timestamp_before_twitter
    lambda k: orjson.dumps({"data": [], "includes": {}, "k": k}),  # empty_page
)


def with_garbage(clean: Sequence[Outgoing], every: int) -> tuple[list[Outgoing], int]:
    """`clean` with a hostile message (`HOSTILE`, in turn) after every `every - 1` of its messages, so
    that one message in `every` is garbage (1 in 10: 10% garbage); and how many were added. The
    garbage goes to the partition its key picks, as another producer's would.
    """
    mixed: list[Outgoing] = []
    added = 0
    for k, message in enumerate(clean, start=1):
        mixed.append(message)
        if k % (every - 1) == 0:
            mixed.append((None, f"garbage-{added}".encode(), HOSTILE[added % len(HOSTILE)](added)))
            added += 1
    return mixed, added
