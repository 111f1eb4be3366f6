# ruff: noqa: INP001 - a module of the benchmark scripts, not of the shipped packages
"""Section 2d: the same batched backlog through 1, 2 and 3 workers of one group.

Each count gets a fresh deployment (app id, topics) on one private broker. The keyed stages
(ingest, accept, hashtag window) split their partitions over the workers; the conversation stage
runs on whichever worker owns its single partition. On a 2-core machine more workers add
processes, not cores: the figures say what the group costs and that nothing is lost, not what
more machines would give (benchmarks/README.md, "Scale-out, on paper").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import live
from report import Section

WORKER_COUNTS = (1, 2, 3)
POLL_SECONDS = 0.25
START_SECONDS = 120  # for every worker of the group to answer and one of them to consume


def bench_scale(  # noqa: PLR0913 - one parameter per input of the run
    tmp: Path,
    *,
    events: int,
    partitions: int,
    lateness: str,
    idle_flush: str,
    say: Callable[[str], None],
) -> Section:
    """Throughput of 1, 2 and 3 workers on the same batched backlog of `events` generated tweets."""
    section = Section("scale", f"2d. one, two and three workers on one backlog ({events:,} tweets)")
    section.method = [
        f"input: the live section's generated stream ({events:,} tweets and the sentinel), batched as",
        f"  `resonance replay` sends it, to a fresh topic of {partitions} partitions per worker count.",
        "workers: N `resonance worker` subprocesses of one group, each its own web port and data dir.",
        "start = the last poll (every 0.25 s) at which no worker had consumed anything, once every",
        "  worker answered /metrics; end = the sentinel's cascade record (CreateTime).",
        "accepted = the sum of the workers' resonance_tweets_accepted_total at the end.",
    ]
    rows: dict[int, dict[str, float]] = {}
    with live.private_broker(tmp / "kafka-scale", partitions, say) as bootstrap:
        for count in WORKER_COUNTS:
            deployment = live.Deployment.new(bootstrap, tmp, partitions, idle_flush, lateness)
            stream = live.Stream.build(events, 7, deployment.app_id)
            live.create_topic(bootstrap, deployment.input_topic, partitions)
            live.produce(bootstrap, deployment.input_topic, stream.batched(partitions, timedelta(minutes=10)))
            say(f"scale: {count} worker(s) on {stream.tweets:,} tweets")
            rows[count] = _run_group(tmp, deployment, stream, count)
    base = rows[1]["per_s"]
    for count, row in rows.items():
        section.add(
            f"{count} worker(s)",
            f"{row['per_s']:,.0f} tweets/s end to end ({row['seconds']:.1f} s), "
            f"{row['per_s'] / base:.2f} x one worker; accepted {row['accepted']:,.0f} "
            f"of {events + 2:,}; workers that accepted tweets: {row['busy']:.0f}",
        )
    section.data = {str(count): row for count, row in rows.items()}
    return section.finish()


def _run_group(tmp: Path, deployment: live.Deployment, stream: live.Stream, count: int) -> dict[str, float]:
    """Run `count` workers on `deployment`'s backlog until the sentinel's record is out."""
    others = [deployment.another_worker(tmp / f"{deployment.app_id}-{n}") for n in range(1, count)]
    group = [deployment, *others]
    with ExitStack() as running:
        workers = [
            running.enter_context(
                live.running_worker(member, tmp / f"scale-{deployment.app_id}-{n}.log", live.Stop())
            )
            for n, member in enumerate(group)
        ]
        started = _consumption_start(group, workers, tmp)
        done = live.find_cascade_change(
            deployment.bootstrap, deployment.metrics_topic, stream.root_id, min_size=2
        )
        seconds = done.timestamp / 1000 - started
        accepted = [(member.metrics() or {}).get("resonance_tweets_accepted_total", 0.0) for member in group]
    return {
        "seconds": seconds,
        "per_s": stream.tweets / seconds,
        "accepted": sum(accepted),
        "busy": sum(1 for n in accepted if n > 0),
    }


def _consumption_start(group: list[live.Deployment], workers: list[object], tmp: Path) -> float:
    """The last poll at which every worker answered and none had consumed anything."""
    deadline = time.time() + START_SECONDS
    idle_until: float | None = None
    while time.time() < deadline:
        at = time.time()
        samples = [member.metrics() for member in group]
        if all(sample is not None for sample in samples):
            consumed = sum((sample or {}).get("resonance_input_messages_total", 0.0) for sample in samples)
            if consumed > 0:
                return idle_until if idle_until is not None else at
            idle_until = at
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"the group of {len(workers)} did not start consuming (logs in {tmp})")
