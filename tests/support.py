"""Helpers for tests that run the real worker against the real broker."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from prometheus_client.parser import text_string_to_metric_families

from agents.settings import Settings
from cli.broker import free_ports
from models.duration import format_duration
from synth import StreamSpec

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
RESONANCE = [sys.executable, "-m", "cli"]
ARTIFACTS = REPO / "artifacts" / "reliability"

T = TypeVar("T")

# A generated stream that raises every kind of alert, and the settings it needs: it lasts about
# ten minutes of event time; bursts are scored in one-minute buckets after a three-minute
# warm-up, and structure is refreshed every two minutes.
ALERTING_STREAM = StreamSpec(events=12_000, seed=21, rings=2, ring_size=6)
ALERTING_SETTINGS = {
    "RESONANCE_WINDOW": "1h",
    "RESONANCE_LATENESS": "30s",
    "RESONANCE_BURST_BUCKET": "1m",
    "RESONANCE_ALERT_BURST_WARMUP": "3m",
    "RESONANCE_REFRESH_EVERY": "2m",
}


def record_figures(name: str, **figures: float) -> None:
    """Write what a reliability test counted to `artifacts/reliability/NAME.json` (the README's
    reliability table quotes the last run's) and print it (seen with `pytest -s`).
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    print(f"{name}: {figures}")  # noqa: T201 - the figures are the point


def wait_for(check: Callable[[], T | None], *, seconds: float, what: str, interval: float = 0.2) -> T:
    """Poll `check` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + seconds
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {seconds}s waiting for {what} (last: {last!r})")


@dataclass(frozen=True)
class Deployment:
    """One isolated deployment: its own app id, topics and web port on the shared broker."""

    bootstrap: str
    app_id: str
    web_port: int
    data_dir: Path

    @property
    def input_topic(self) -> str:
        """The topic tweets are sent to."""
        return f"{self.app_id}.tweets"

    @property
    def dead_letter_topic(self) -> str:
        """The dead-letter topic."""
        return f"{self.app_id}.tweets.dlq"

    @property
    def metrics_topic(self) -> str:
        """The metric records topic."""
        return f"{self.app_id}.metrics"

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment that points the CLI and worker at this deployment."""
        return (
            os.environ
            | {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "RESONANCE_APP_ID": self.app_id,
                "RESONANCE_INPUT_TOPIC": self.input_topic,
                "RESONANCE_DEAD_LETTER_TOPIC": self.dead_letter_topic,
                "RESONANCE_METRICS_TOPIC": self.metrics_topic,
                "RESONANCE_ALERTS_TOPIC": f"{self.app_id}.alerts",
                "RESONANCE_WEB_PORT": str(self.web_port),
                "RESONANCE_DATA_DIR": str(self.data_dir),
                "RESONANCE_IDLE_FLUSH": "1s",
                "RESONANCE_PARTITIONS": "2",
            }
            | overrides
        )

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a `resonance` command to completion."""
        return subprocess.run(
            [*RESONANCE, *args],
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def second_worker(self, data_dir: Path) -> Deployment:
        """The same deployment (app id, consumer group, topics) as seen by another worker process:
        its own web port and local data directory.
        """
        return dataclasses.replace(self, web_port=free_ports(1)[0], data_dir=data_dir)

    def analyze(self, recording: Path, out: Path, *args: str, **env: str) -> list[dict[str, Any]]:
        """Run `resonance analyze` on `recording` with `args`; its records, in file order."""
        result = self.run("analyze", str(recording), "--out", str(out), *args, **env)
        assert result.returncode == 0, result.stderr
        return [orjson.loads(line) for line in out.read_bytes().splitlines()]

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """The worker's Prometheus samples, keyed by (name, sorted labels)."""
        url = f"http://127.0.0.1:{self.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def metric(self, name: str, **labels: str) -> float:
        """One sample's value, 0 when absent."""
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def metric_sum(self, name: str) -> float:
        """The sum of a sample over all its label values."""
        return sum(v for (n, _), v in self.metrics().items() if n == name)


def new_deployment(bootstrap: str, tmp_path: Path) -> Deployment:
    """A deployment with unique names, so tests never see each other's records."""
    return Deployment(bootstrap, f"t{uuid.uuid4().hex[:10]}", free_ports(1)[0], tmp_path / "data")


@contextmanager
def running_worker(deployment: Deployment, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run `resonance worker` until the block ends; it must be serving /metrics when the block starts."""
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [*RESONANCE, "worker", "-l", "info"],
            env=deployment.env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: _serving(deployment, worker, log), seconds=90, what=f"the worker (log {log})")
        yield worker
    finally:
        stop(worker)


def stop(process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Terminate `process` and wait for it; kill it if it is still there after `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def uncommitted(deployment: Deployment) -> dict[str, int]:
    """Per stage input topic, the messages past the worker group's committed offsets."""
    # A consumer that never subscribes does not join the group: it only reads its offsets.
    consumer = KafkaConsumer(
        bootstrap_servers=deployment.bootstrap, group_id=deployment.app_id, enable_auto_commit=False
    )
    try:
        behind = {}
        stages = ("events", "hashtag-uses", "conversation")
        for topic in (deployment.input_topic, *(f"{deployment.app_id}-{stage}" for stage in stages)):
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            ends = consumer.end_offsets(partitions)
            behind[topic] = sum(ends[tp] - (consumer.committed(tp) or 0) for tp in partitions)
        return behind
    finally:
        consumer.close()


def worker_warnings(directory: Path, last: int = 40) -> str:
    """The last WARNING and ERROR lines of the `*.log` files under `directory`, each named, so a
    failing test says what its workers saw.
    """
    lines = [
        f"{log.name}: {line}"
        for log in sorted(directory.glob("**/*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if "[WARNING]" in line or "[ERROR]" in line
    ]
    return "\n".join(lines[-last:])


def _serving(deployment: Deployment, worker: subprocess.Popen[bytes], log: Path) -> bool:
    if worker.poll() is not None:
        raise AssertionError(f"worker exited with {worker.returncode}:\n{log.read_text()[-3000:]}")
    try:
        return deployment.metrics() is not None and b"Worker ready" in log.read_bytes()
    except OSError:
        return False


def create_topics(bootstrap: str, names: list[str], *, partitions: int, config: dict[str, str]) -> None:
    """Create topics with a topic-level `config` (Kafka's names, e.g. `max.message.bytes`)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1, topic_configs=config) for name in names])
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Send raw messages, in order, to partition 0 (so offsets follow the list), and wait until
    the broker has them. A message may be up to 16 MiB, where the topic allows it.
    """
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=16 * 1024 * 1024)
    for value in values:
        producer.send(topic, value=value, partition=0)
    producer.flush()
    producer.close()


def consume(
    bootstrap: str, topic: str, *, until: Callable[[list[Any]], bool], seconds: float = 60
) -> list[Any]:
    """Read `topic` from the beginning until `until(messages)` holds; fail at the deadline."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    messages: list[Any] = []
    try:

        def partitions() -> list[TopicPartition] | None:
            found = consumer.partitions_for_topic(topic)
            return [TopicPartition(topic, p) for p in sorted(found)] if found else None

        assigned = wait_for(partitions, seconds=seconds, what=f"topic {topic}")
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)

        def enough() -> bool:
            for batch in consumer.poll(timeout_ms=500).values():
                messages.extend(batch)
            return until(messages)

        wait_for(enough, seconds=seconds, what=f"records on {topic}", interval=0)
    finally:
        consumer.close()
    return messages


def wait_for_group(deployment: Deployment, members: int, seconds: float = 120) -> None:
    """Wait until the worker group has `members` members and has settled (state Stable: each has
    its partitions), so that work sent now is split among all of them.
    """
    admin = KafkaAdminClient(bootstrap_servers=deployment.bootstrap)
    try:

        def settled() -> bool:
            group = admin.describe_groups([deployment.app_id]).get(deployment.app_id) or {}
            return group.get("group_state") == "Stable" and len(group.get("members") or ()) == members

        wait_for(settled, seconds=seconds, what=f"a stable group of {members} workers")
    finally:
        admin.close()


def records(messages: list[Any]) -> list[dict[str, Any]]:
    """The JSON values of consumed messages."""
    return [orjson.loads(m.value) for m in messages]


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what says when or why it was emitted."""
    return {k: v for k, v in record.items() if k != "trigger"}


def analyze_options(settings: dict[str, str]) -> tuple[str, ...]:
    """The `analyze` options that match a worker run with `settings` (its environment, which sets
    the window and lateness): the same top N, and the worker's cadence of records and refreshes,
    which the final communities depend on (each refresh warm-starts from the last).
    """
    defaults = Settings()
    return (
        *("--window", settings["RESONANCE_WINDOW"], "--lateness", settings["RESONANCE_LATENESS"]),
        *("--top", settings.get("RESONANCE_TOP_N", str(defaults.top_n))),
        *("--every", settings.get("RESONANCE_EMIT_EVERY", format_duration(defaults.emit_every))),
        *("--refresh", settings.get("RESONANCE_REFRESH_EVERY", format_duration(defaults.refresh_every))),
    )


EVERY_KIND = (
    "influence_summary",
    "influence",
    "cascade",
    "hashtag_graph",
    "communities",
    "hashtag_polarization",
    "coordination",
    "cascade_tree",
    "user_graph",
)
"""Every kind of record the conversation stage's final view holds (hashtag counts come apart)."""


@dataclass(frozen=True)
class Final:
    """What `analyze` makes of a recording: its final records of every kind, and hashtag counts."""

    views: dict[str, list[dict[str, Any]]]
    tags: dict[str, tuple[int, int]]

    @classmethod
    def of(cls, offline: list[dict[str, Any]]) -> Final:
        """The final records (trigger `end`) of an `analyze` output."""
        final = [r for r in offline if r.get("trigger") == "end"]
        assert {r["kind"] for r in final} >= {"cascade", "influence", "communities"}
        return cls(
            views={
                kind: in_view_order(kind, [comparable(r) for r in final if r["kind"] == kind])
                for kind in EVERY_KIND
            },
            tags={r["tag"]: (r["count"], r["users"]) for r in final if r["kind"] == "hashtag"},
        )

    def differences(self, messages: list[Any]) -> dict[str, Any]:
        """What the metrics topic's latest idle view (every kind) and latest hashtag counts still
        differ in from these; empty when nothing does.
        """
        published = records(messages)
        tags = {r["tag"]: (r["count"], r["users"]) for r in published if r["kind"] == "hashtag"}
        differ: dict[str, Any] = {t: (tags.get(t), n) for t, n in self.tags.items() if tags.get(t) != n}
        if not any(r["kind"] == "influence_summary" and r["trigger"] == "idle" for r in published):
            return differ | {"influence_summary": "no idle view yet"}
        for kind, expected in self.views.items():
            view = [comparable(r) for r in last_view(messages, kind)]
            if view != expected:
                differ[kind] = view[:1]
        return differ


def assert_final(deployment: Deployment, final: Final, *, seconds: float, logs: Path) -> list[Any]:
    """Wait until the metrics topic's latest idle view and hashtag counts equal `final`; fail with
    what still differs and what the workers logged in `logs`. The messages read.
    """
    last: dict[str, Any] = {}

    def caught_up(messages: list[Any]) -> bool:
        last["differences"] = final.differences(messages)
        return not last["differences"]

    try:
        return consume(deployment.bootstrap, deployment.metrics_topic, until=caught_up, seconds=seconds)
    except AssertionError:
        raise AssertionError(
            f"live differs from offline in {last}\nworker warnings:\n{worker_warnings(logs)}"
        ) from None


def last_view(live: list[Any], kind: str) -> list[dict[str, Any]]:
    """The records of `kind` in the conversation stage's last idle view, in the offline order.

    The metrics topic has several partitions, so records arrive in order per key only; a view is
    told apart by its event time (every record of one view describes the latest event) and by when
    it was published: all at once, at least the idle delay after the previous one. Communities and
    coordination come after the influence summary, once their refresh is computed.
    """
    idle = [(m.timestamp, orjson.loads(m.value)) for m in live]
    idle = [(ts, r) for ts, r in idle if r["trigger"] == "idle"]
    last, at = max((ts, r["at"]) for ts, r in idle if r["kind"] == "influence_summary")
    view = [r for ts, r in idle if r["kind"] == kind and r["at"] == at and last - 900 <= ts <= last + 60_000]
    return in_view_order(kind, view)


def in_view_order(kind: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`records` of `kind` in one order, whatever order they were published or written in."""
    order: dict[str, Callable[[dict[str, Any]], Any]] = {
        "influence": lambda r: r["rank"],
        "cascade": lambda r: (-r["size"], r["root_id"]),
        "communities": lambda r: r["layer"],
        "hashtag_polarization": lambda r: r["tag"],
        "coordination": lambda r: r["key"],
        "cascade_tree": lambda r: (-r["size"], r["root_id"]),
        "user_graph": lambda r: r["layer"],
    }
    return sorted(records, key=order.get(kind, lambda _: 0))


@dataclass(frozen=True)
class Prometheus:
    """A real Prometheus server on loopback, scraping a worker (see `running_prometheus`)."""

    url: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar) `promql` gives now; fails on a query Prometheus refuses."""
        address = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310 - our own server
            answer = orjson.loads(response.read())
        assert answer["status"] == "success", answer
        data = answer["data"]
        return data["result"] if data["resultType"] in ("vector", "matrix") else [data]


def prometheus_config(target: str, scrape_ms: int = 1000) -> str:
    """A Prometheus configuration scraping the worker at `target` ("host:port") every `scrape_ms`."""
    return (
        "global:\n"
        f"  scrape_interval: {scrape_ms}ms\n"
        f"  evaluation_interval: {scrape_ms}ms\n"
        "scrape_configs:\n"
        "  - job_name: resonance\n"
        "    static_configs:\n"
        f"      - targets: [{target!r}]\n"
    )


@contextmanager
def running_prometheus(target: str, directory: Path) -> Iterator[Prometheus]:
    """Run Debian's `prometheus` on a free loopback port with its data in `directory`, scraping
    `target` every second, until the block ends; it is ready when the block starts.
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    config.write_text(prometheus_config(target), encoding="utf-8")
    check = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_ports(1)[0]
    log = directory / "prometheus.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"prometheus exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(ready, seconds=60, what=f"prometheus (log {log})")
        yield Prometheus(url)
    finally:
        stop(server)
