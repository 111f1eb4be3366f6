"""`resonance demo`: the whole analyzer live on this machine, in one command.

Starts the local Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS names a cluster), generates the
bundled demo stream once (deterministic, cached), starts a worker, replays the stream paced by
event time, prints where to look, and runs until Ctrl-C, then stops everything it started.

The demo runs as its own app with its own topics (`DEMO_NAMES`), so it never touches a
deployment's, and it deletes them first: every demo starts from a clean slate. Otherwise the
second run would restore the first run's state and count the whole replayed stream as
duplicates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import faust
from faust.cli import option
from prometheus_client.parser import text_string_to_metric_families
from tqdm import tqdm

from agents.instruments import ACCOUNTED
from agents.kafka_admin import delete_topics, ensure_topics
from agents.kafka_security import kafka_python_options
from agents.settings import Settings, as_variables
from cli.base import PlainCommand, UsageError, say
from cli.broker import BrokerError, cache_root
from cli.kafka import local_broker
from cli.local_prometheus import local_prometheus
from cli.replay import Pacer, send_files
from models.duration import format_duration
from synth.generator import StreamSpec
from synth.truth import write_stream

WORKER_START_SECONDS = 120.0
WORKER_STOP_SECONDS = 30.0
STALLED_SECONDS = 60.0  # the worker accounting for nothing new that long is worth a word
# The settings that name the demo's app and topics, set apart from any deployment's.
DEMO_FIELDS = ("app_id", "input_topic", "dead_letter_topic", "metrics_topic", "alerts_topic")
DEMO_APP_PREFIX = "resonance-demo-"
# How far (wall time) the worker's stages may drift apart across partitions, as the demo's
# lateness allows for it: times the replay's speed, it is the lateness in event time. With the
# default 10s at 30x, the worker counted late events within seconds; with 1m (2 s x 30), none
# over the whole 20,000-tweet stream.
REPLAY_DRIFT = timedelta(seconds=2)


def demo_settings(settings: Settings, run: str, speed: float) -> Settings:
    """`settings` with the demo's own topics, an app id of its own for this `run`, and a lateness
    that covers the drift between partitions at the replay's `speed` (`REPLAY_DRIFT`).
    """
    drift = timedelta(seconds=math.ceil(REPLAY_DRIFT.total_seconds() * speed))
    return dataclasses.replace(
        settings,
        app_id=f"{DEMO_APP_PREFIX}{run}",
        lateness=max(settings.lateness, drift),
        input_topic="demo.tweets",
        dead_letter_topic="demo.tweets.dlq",
        metrics_topic="demo.metrics",
        alerts_topic="demo.alerts",
    )


def demo_env(settings: Settings) -> dict[str, str]:
    """The environment of the demo's worker: this one, with every setting of `settings` (the
    demo's app id, topics and lateness included).
    """
    return os.environ | dict(assignment.split("=", 1) for assignment in as_variables(settings, reveal=True))


def is_demo_topic(settings: Settings, name: str) -> bool:
    """True for the demo's own topics, the internal ones of every demo run included."""
    own = {getattr(settings, name) for name in DEMO_FIELDS if name != "app_id"}
    return name in own or name.startswith(DEMO_APP_PREFIX)


def demo_stream(events: int, seed: int) -> Path:
    """The demo recording for (events, seed), generated once into the cache."""
    folder = cache_root() / "demo"
    path = folder / f"demo-{events}-{seed}-rings2.jsonl.gz"  # the spec is in the name: caches never go stale
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"partial-{path.name}")
    spec = StreamSpec(events=events, seed=seed, rings=2)  # two rings: coordination alerts to see
    with tqdm(total=events, unit="event", desc="generate demo stream") as bar:
        write_stream(
            spec,
            partial,
            path.with_name(path.name.replace(".jsonl.gz", ".truth.json")),
            progress=lambda n: bar.update(n - bar.n),
        )
    partial.rename(path)
    return path


def _wait_for_worker(url: str, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise UsageError(f"the worker exited with code {worker.returncode}; see {log}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - our own loopback URL
            return
        time.sleep(0.5)
    raise UsageError(f"the worker did not serve {url} within {WORKER_START_SECONDS:.0f}s; see {log}")


def _accounted(url: str) -> float | None:
    """The messages the worker at `url` has accounted for (accepted, duplicate or rejected); None
    when it does not answer.
    """
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
            text = response.read().decode()
    except OSError:
        return None
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in ACCOUNTED
    )


def _follow(url: str, expected: int, worker: subprocess.Popen[bytes], log: Path) -> None:
    """Show the worker catching up with the `expected` messages sent, until it has accounted for
    them all or exits; say so, once, when it makes no progress for `STALLED_SECONDS`.
    """
    with tqdm(total=expected, unit="tweet", desc="worker accounted for") as bar:
        moved_at, warned = time.monotonic(), False
        while worker.poll() is None and bar.n < expected:
            done = _accounted(url)
            if done is not None and done > bar.n:
                bar.update(int(done) - bar.n)
                moved_at = time.monotonic()
            elif not warned and time.monotonic() - moved_at > STALLED_SECONDS:
                bar.write(f"the worker has made no progress for {STALLED_SECONDS:.0f}s; see {log}")
                warned = True
            time.sleep(1)
    if bar.n >= expected:
        say("the worker has analysed the whole stream and keeps serving. Ctrl-C to stop.")


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker: SIGTERM, then SIGKILL after `WORKER_STOP_SECONDS` or at another Ctrl-C
    (an impatient user must not be left with a worker and a broker running).
    """
    worker.terminate()
    try:
        worker.wait(timeout=WORKER_STOP_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        say("killing the worker")
        worker.kill()
        worker.wait()


def register(app: faust.App, base_settings: Settings) -> None:
    """Add the `demo` command to `app`."""

    @app.command(
        option("--events", type=int, default=20_000, help="Size of the generated demo stream."),
        option("--seed", type=int, default=7, help="Seed of the generated demo stream."),
        option("--speed", type=float, default=30.0, help="Replay pace: event-time seconds per second."),
        base=PlainCommand,
        name="demo",
    )
    async def demo(self: Any, events: int, seed: int, speed: float) -> None:
        """Run everything live: Kafka, a worker and a generated demo stream, until Ctrl-C. The demo
        has its own topics (demo.tweets, demo.metrics, demo.alerts, ...), reset at every start.
        """
        if events <= 0 or speed <= 0:
            raise UsageError("--events and --speed must be positive, e.g. --events 20000 --speed 30")
        settings = demo_settings(base_settings, run=time.strftime("%Y%m%d%H%M%S"), speed=speed)
        broker = None if settings.broker_is_external else local_broker(settings)
        started_broker = broker is not None and not broker.status().running
        if broker is not None:
            try:
                say(str(broker.up()))
            except BrokerError as error:  # ports taken, no Java, ...: one line naming the fix
                raise UsageError(str(error)) from None
        recording = demo_stream(events, seed)
        log = Path(settings.data_dir) / "demo-worker.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        security = kafka_python_options(settings)
        cleared = delete_topics(
            settings.bootstrap_servers, lambda name: is_demo_topic(settings, name), security=security
        )
        if cleared:
            say(f"clean slate: deleted the {len(cleared)} topics of earlier demos")
        ensure_topics(
            settings.bootstrap_servers,
            [settings.input_topic],
            partitions=settings.partitions,
            security=security,
        )
        metrics_url = f"http://{settings.web_host}:{settings.web_port}/metrics"
        dashboard_url = f"http://{settings.web_host}:{settings.web_port}/dashboard/"
        with log.open("wb") as out:  # a clean slate: this demo's log only, not earlier ones' errors
            worker = subprocess.Popen(
                [sys.executable, "-m", "cli", "worker", "-l", "info"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=demo_env(settings),
            )
        beside = contextlib.ExitStack()  # what runs beside the worker: Prometheus
        try:
            say(f"worker starting (log {log})")
            _wait_for_worker(metrics_url, worker, log)
            prometheus = beside.enter_context(
                local_prometheus(
                    f"{settings.web_host}:{settings.web_port}", Path(settings.data_dir) / "prometheus"
                )
            )
            history = (
                prometheus or "not running (install it: apt-get install --no-install-recommends prometheus)"
            )
            say(
                f"\nLive now:\n  Dashboard            {dashboard_url}\n"
                f"  Prometheus (PromQL)  {history}\n"
                f"  Prometheus metrics   {metrics_url}\n"
                f"  metric records       resonance subscribe {settings.metrics_topic}\n"
                f"  alerts               resonance subscribe {settings.alerts_topic}\n"
                f"  dead letters         resonance subscribe {settings.dead_letter_topic}\n"
                f"  worker log           {log}\n"
                f"Replaying {recording.name} at {speed:g}x event time (lateness "
                f"{format_duration(settings.lateness)} to match); Ctrl-C stops everything.\n"
            )
            tally = send_files(settings, (recording,), settings.input_topic, Pacer(speed))
            say(f"demo stream sent ({tally.tweets} tweets)")
            _follow(metrics_url, tally.tweets + tally.unreadable, worker, log)
            while worker.poll() is None:
                time.sleep(1)
            raise UsageError(f"the worker exited with code {worker.returncode}; see {log}")
        finally:
            beside.close()
            say(f"stopping the worker (up to {WORKER_STOP_SECONDS:.0f}s; Ctrl-C again kills it)")
            _stop(worker)
            if started_broker and broker is not None:
                say("stopping Kafka")
                broker.down()
