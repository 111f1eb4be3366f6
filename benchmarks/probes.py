# ruff: noqa: INP001 - a script run by benchmarks/run.py in a child process, not a package module
"""The measurements that run in a child process, one per call, so each has its own peak RSS.

`python benchmarks/probes.py PROBE [options]` runs one probe and prints one JSON object on its
last line of stdout. The parent (`benchmarks/run.py`) starts it with the progress bars off
(`TQDM_DISABLE=1`) and numeric libraries on one thread; `--cpu N` pins the process to core N.

Probes:

``parse``
    the baseline: `cli.recordings.read_messages` + `models.wire.parse_line` over a file,
    counting what comes out, nothing else.
``analyze``
    `cli.analyze.run_analysis` exactly as `resonance analyze` calls it (a progress-bar
    line count first, dedup, the analyzer, the final flush), records written to /dev/null.
``stages``
    the same work split into stages run one after another (count lines; read + parse into a
    list; dedup + observe; flush; serialise the final records), each timed, with RSS after each.
    RSS here includes the parsed events held in the list.
``generate``
    `synth.write_stream` to a file, with RSS and time at every tenth of the events.
``communities``
    `CommunityTracker.refresh` on a planted-partition graph, cold then warm (5% of the edges
    replaced), through `benchmarks/communities.py`'s `refresh_seconds`.
``louvain``
    the baseline of ``communities``: networkx's pure-Python `louvain_communities(G, seed=0)` on a
    smaller graph from the same generator, and a cold `CommunityTracker.refresh` on that graph.
``polarization``
    `benchmarks/polarization.py`'s `garimella_table`: segregation and the tracker's two-camp
    share on the Garimella et al. topics (all, or those named by --topics).
``boundary``
    the conversation analyzer alone (the worker's configuration) on the latency-under-load
    phase's stream (--rate tweets per second of event time for --seconds, in batches every
    tenth of a second, `live.renewed`): each batch's time, with every boundary's window work
    done at the boundary, then with it done ahead between batches (`Analyzer.work_ahead` until
    none is left, as the analyzer's process does while its input is quiet).
``paced-refresh``
    the same analyzer on the same stream fed in real time (a batch every tenth of a second, work
    ahead between batches), from 30 s before a refresh boundary, its refreshes in forks as the
    worker runs them (`--in-place`: in place, as before they were): its slowest batches, how far
    it fell behind the clock, and each refresh's wait when its result was taken.
``faust-floor``
    the cheapest Faust agent: one agent on a topic (--bootstrap, --topic), `async for value in
    stream`, `orjson.loads`, count, until --total messages; timed from the first message to the
    last. Faust's per-message cost, whatever an agent does, against which the worker is judged.
``worker-gc``
    the state the worker's own process keeps (accept's `SeenIds`, the hashtag window's
    `HashtagUses`) built from --input at --window-hours and a day of lateness, the collector tuned
    as the worker tunes it: the collections while building, what stays tracked, its largest
    containers, and one collection of each generation over it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from agents.gc_policy import building_long_lived_state, tune_for_long_lived_state

KIB = 1024


def memory_kib() -> dict[str, int]:
    """The resident set of this process now (`VmRSS`) and its peak so far (`VmHWM`), in KiB."""
    wanted = {"VmRSS": "rss_kib", "VmHWM": "hwm_kib"}
    found: dict[str, int] = {}
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in wanted:
                found[wanted[key]] = int(rest.split()[0])
    return found


@dataclass(slots=True)
class Clock:
    """Wall and process-CPU time since the last lap, with memory at each lap."""

    laps: list[dict[str, Any]] = field(default_factory=list)
    _wall: float = field(default_factory=time.perf_counter)
    _cpu: float = field(default_factory=time.process_time)

    def lap(self, name: str, **extra: Any) -> dict[str, Any]:
        """Close the current stage as `name`; return (and keep) its figures."""
        wall, cpu = time.perf_counter(), time.process_time()
        figures = {"stage": name, "wall_s": wall - self._wall, "cpu_s": cpu - self._cpu, **memory_kib()}
        figures.update(extra)
        self.laps.append(figures)
        self._wall, self._cpu = wall, cpu
        return figures


def _analysis_config(window: timedelta) -> Any:
    """The analyzer `resonance analyze --window WINDOW` builds with the default settings."""
    from agents.settings import Settings, analyzer_config  # noqa: PLC0415 - imported inside the probe

    return analyzer_config(Settings(window=window), every=None, top=None, live=False)


def probe_parse(path: Path) -> dict[str, Any]:
    """Read and parse every line of `path`; count the events and rejections."""
    from cli.recordings import read_messages  # noqa: PLC0415 - the import is not measured
    from models.wire import Rejection, parse_line  # noqa: PLC0415 - as above

    imported = memory_kib()
    clock = Clock()
    events = rejected = 0
    for number, raw in read_messages(path):
        for result in parse_line(raw, number):
            if isinstance(result, Rejection):
                rejected += 1
            else:
                events += 1
    total = clock.lap("read+parse")
    return {"events": events, "rejected": rejected, "after_import": imported, **total}


def probe_analyze(path: Path, window: timedelta) -> dict[str, Any]:
    """`run_analysis` on `path` with a `window` span, writing the records to /dev/null."""
    from agents.settings import Settings  # noqa: PLC0415 - as above
    from cli.analyze import run_analysis  # noqa: PLC0415 - the import is not measured
    from streams.analyzer import Analyzer  # noqa: PLC0415 - as above

    config = _analysis_config(window)
    imported = memory_kib()
    clock = Clock()
    with Path(os.devnull).open("wb") as sink:
        tally = run_analysis(
            (path,),
            sink,
            Analyzer(config),
            horizon=window + config.hashtags.window.lateness,
            not_after=datetime.now(UTC) + Settings().clock_skew,  # the command checks times too
        )
    total = clock.lap("run_analysis")
    return {
        "events": tally.tweets,
        "duplicates": tally.duplicates,
        "rejected": sum(tally.rejected.values()),
        "written": dict(tally.written),
        "after_import": imported,
        **total,
    }


def probe_stages(path: Path, window: timedelta) -> dict[str, Any]:
    """The work of `run_analysis`, one stage after another, each timed."""
    from cli.recordings import count_messages  # noqa: PLC0415 - import not measured
    from streams.analyzer import Analyzer  # noqa: PLC0415 - as above
    from streams.dedup import SeenIds  # noqa: PLC0415 - as above

    config = _analysis_config(window)
    analyzer = Analyzer(config)
    seen = SeenIds(window + config.hashtags.window.lateness)
    imported = memory_kib()
    clock = Clock()
    lines = count_messages(path)
    clock.lap("count lines (progress bar)", items=lines)
    with building_long_lived_state():  # as run_analysis runs the stages
        return _timed_stages(path, clock, analyzer, seen, imported)


def _timed_stages(
    path: Path, clock: Clock, analyzer: Any, seen: Any, imported: dict[str, int]
) -> dict[str, Any]:
    """`probe_stages` after the line count: read + parse, dedup + observe, flush, serialise."""
    from cli.recordings import read_messages  # noqa: PLC0415 - import not measured
    from models.wire import Rejection, parse_line  # noqa: PLC0415 - as above

    events = [
        result
        for number, raw in read_messages(path)
        for result in parse_line(raw, number)
        if not isinstance(result, Rejection)
    ]
    clock.lap("read+parse (held in a list)", items=len(events))
    records = 0
    with Path(os.devnull).open("wb") as sink:
        for event in events:
            if seen.first_time(event.id, event.at):
                for record in analyzer.observe(event):
                    sink.write(record.to_bytes() + b"\n")
                    records += 1
        clock.lap("dedup+observe", items=len(events), records=records)
        final = analyzer.flush()
        clock.lap("flush", items=len(final))
        for record in final:
            sink.write(record.to_bytes() + b"\n")
        clock.lap("serialise final records", items=len(final))
    return {"events": len(events), "after_import": imported, "stages": clock.laps}


def probe_generate(out: Path, events: int, seed: int) -> dict[str, Any]:
    """`write_stream` of `events` events to `out`, sampling time and memory every tenth."""
    from synth import StreamSpec, write_stream  # noqa: PLC0415 - the import is not measured

    spec = StreamSpec(events=events, seed=seed)
    imported = memory_kib()
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    checkpoints: list[dict[str, Any]] = []

    def progress(count: int) -> None:
        checkpoints.append(
            {
                "events": count,
                "wall_s": time.perf_counter() - started_wall,
                "cpu_s": time.process_time() - started_cpu,
                **memory_kib(),
            }
        )

    written = write_stream(spec, out, progress=progress, progress_every=max(1, events // 10))
    return {
        "events": written,
        "users": spec.users,
        "file_bytes": out.stat().st_size,
        "after_import": imported,
        "checkpoints": checkpoints,
    }


def probe_communities(edges: int, seed: int) -> dict[str, Any]:
    """A cold and a warm `CommunityTracker.refresh` on about `edges` planted edges."""
    from communities import refresh_seconds  # noqa: PLC0415 - benchmarks/communities.py, not measured

    imported = memory_kib()
    figures = refresh_seconds(edges, seed)
    return {"after_import": imported, "after": memory_kib(), **figures}


def probe_louvain(edges: int, seed: int) -> dict[str, Any]:
    """The baseline: networkx Louvain, then a cold refresh, on one planted graph of about `edges` edges."""
    import networkx as nx  # noqa: PLC0415 - the import is not measured
    from communities import planted_edges  # noqa: PLC0415 - as above

    from streams.chambers.communities import CommunityConfig, CommunityTracker  # noqa: PLC0415 - as above

    imported = memory_kib()
    mapping, _ = planted_edges(edges, seed)
    graph: nx.Graph[str] = nx.Graph()
    for (source, target), count in mapping.items():  # undirected, counts summed: the tracker's graph
        previous = graph[source][target]["weight"] if graph.has_edge(source, target) else 0
        graph.add_edge(source, target, weight=previous + count)
    started, started_cpu = time.perf_counter(), time.process_time()
    found = nx.community.louvain_communities(graph, seed=0)
    louvain = {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - started_cpu}
    started, started_cpu = time.perf_counter(), time.process_time()
    partition = CommunityTracker(CommunityConfig(seed=seed)).refresh(mapping)
    refresh = {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - started_cpu}
    return {
        "edges": len(mapping),
        "undirected_edges": graph.number_of_edges(),
        "users": graph.number_of_nodes(),
        "after_import": imported,
        "louvain": louvain | {"communities": len(found), "modularity": nx.community.modularity(graph, found)},
        "refresh": refresh
        | {"communities": len(partition.community_sizes), "modularity": partition.modularity},
    }


def probe_polarization(datasets: Path, topics: str | None) -> dict[str, Any]:
    """The Garimella table, for all topics or the comma-separated `topics`."""
    from polarization import garimella_table  # noqa: PLC0415 - benchmarks/polarization.py, not measured

    chosen = None if topics is None else set(topics.split(","))
    started, started_cpu = time.perf_counter(), time.process_time()
    rows = garimella_table(datasets, chosen)
    return {
        "rows": rows,
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - started_cpu,
    }


def probe_boundary(rate: int, seconds: int, seed: int) -> dict[str, Any]:
    """The slowest batches of the conversation analyzer on a load of `rate` tweets/s for
    `seconds`, without and with work ahead between batches.
    """
    from live import renewed  # noqa: PLC0415 - this probe only

    from agents.settings import Settings, conversation_config  # noqa: PLC0415 - this probe only
    from models.wire.native import parse_native, to_native  # noqa: PLC0415 - this probe only
    from streams.analyzer import Analyzer  # noqa: PLC0415 - this probe only
    from synth import StreamSpec, generate  # noqa: PLC0415 - this probe only

    pool = [to_native(event) for event in generate(StreamSpec(events=100_000, seed=seed))]
    start_ms = int(datetime(2026, 1, 1, 0, 0, 17, tzinfo=UTC).timestamp() * 1000)  # between boundaries
    per_batch = rate // 10
    batches = [
        [parse_native(renewed(pool, k * per_batch + i, start_ms + k * 100)) for i in range(per_batch)]
        for k in range(seconds * 10)
    ]
    figures: dict[str, Any] = {"rate": rate, "seconds": seconds, "tweets": per_batch * len(batches)}
    for mode in ("at_boundary", "ahead"):
        analyzer = Analyzer(conversation_config(Settings()))
        times, ahead_s, moves = [], 0.0, 0
        for batch in batches:
            started = time.perf_counter()
            for event in batch:
                analyzer.observe(event)
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            while mode == "ahead" and (moved := analyzer.work_ahead(2_000)):
                moves += moved
            ahead_s += time.perf_counter() - started
        times.sort()
        figures[mode] = {
            "slowest_s": times[-5:][::-1],
            "p99_s": times[int(0.99 * (len(times) - 1))],
            "observe_s": sum(times),
            "ahead_s": ahead_s,
            "moves": moves,
        }
    return figures


def probe_paced_refresh(rate: int, seconds: int, seed: int, *, forked: bool) -> dict[str, Any]:
    """The conversation analyzer on a load of `rate` tweets/s fed in real time (a batch every
    0.1 s of the clock and of event time) for `seconds`, as the worker's analyzer process runs it
    (work ahead between batches), with its refreshes in place or in forks (`forked`). The stream
    starts 30 s before a refresh boundary (the default cadence, 5 minutes), so that one starts
    at once; with forks, it is published a cadence later, and the run must last past that.
    """
    from live import renewed  # noqa: PLC0415 - this probe only

    from agents.refresh_fork import ForkedRefresher  # noqa: PLC0415 - this probe only
    from agents.settings import Settings, conversation_config  # noqa: PLC0415 - this probe only
    from models.wire.native import parse_native, to_native  # noqa: PLC0415 - this probe only
    from streams.analyzer import Analyzer  # noqa: PLC0415 - this probe only
    from streams.refresh import Compute, Result, inline  # noqa: PLC0415 - this probe only
    from synth import StreamSpec, generate  # noqa: PLC0415 - this probe only

    pool = [to_native(event) for event in generate(StreamSpec(events=100_000, seed=seed))]
    config = conversation_config(Settings())
    start_ms = int(datetime(2026, 1, 1, 0, 4, 30, tzinfo=UTC).timestamp() * 1000)  # 30 s before one
    per_batch = rate // 10
    taken: list[dict[str, float]] = []  # each refresh's result: when asked for, and how long it waited

    with tempfile.TemporaryDirectory(prefix="resonance-refreshes-") as directory:
        started_refresh = ForkedRefresher(Path(directory), busy=lambda: False) if forked else inline

        def timed(compute: Compute) -> Result:
            begun = time.perf_counter()
            result = started_refresh(compute)
            started_s = time.perf_counter() - begun

            def take() -> Any:
                asked = time.perf_counter()
                refreshed = result()
                taken.append(
                    {"at_s": asked - clock, "start_s": started_s, "wait_s": time.perf_counter() - asked}
                )
                return refreshed

            return take

        analyzer = Analyzer(config, timed)
        times, behind = [], 0.0
        clock = time.perf_counter()
        for k in range(seconds * 10):
            batch = [
                parse_native(renewed(pool, k * per_batch + i, start_ms + k * 100)) for i in range(per_batch)
            ]
            behind = max(behind, time.perf_counter() - (clock + k / 10))
            began = time.perf_counter()
            for event in batch:
                analyzer.observe(event)
            times.append(time.perf_counter() - began)
            while time.perf_counter() < clock + (k + 1) / 10 and analyzer.work_ahead(2_000):
                pass
            time.sleep(max(0.0, clock + (k + 1) / 10 - time.perf_counter()))
    times.sort()
    return {
        "rate": rate,
        "seconds": seconds,
        "forked": forked,
        "slowest_s": times[-5:][::-1],
        "p99_s": times[int(0.99 * (len(times) - 1))],
        "behind_max_s": behind,
        "refreshes": taken,
    }


def probe_worker_gc(path: Path, window: timedelta) -> dict[str, Any]:
    """The state the worker's own process keeps (the accept stage's `SeenIds`, the hashtag
    window's `HashtagUses`) built from `path` at a `window` span and a day of lateness (the replay
    section's; the other settings at their defaults), with the collector
    tuned as the worker tunes it: the collections made while building (count, seconds, longest, by
    generation), then what stays tracked and how long each generation's collection takes over it.
    """
    import gc  # noqa: PLC0415 - only this probe needs it
    from collections import Counter  # noqa: PLC0415 - as above

    from agents.settings import Settings, hashtag_config  # noqa: PLC0415 - as above
    from cli.recordings import read_messages  # noqa: PLC0415 - as above
    from models.records import HashtagUse  # noqa: PLC0415 - as above
    from models.wire import Rejection, parse_line  # noqa: PLC0415 - as above
    from streams.dedup import SeenIds  # noqa: PLC0415 - as above
    from streams.hashtags.uses import HashtagUses, HashtagUsesConfig  # noqa: PLC0415 - as above

    settings = Settings(window=window, lateness=timedelta(days=1))
    seen = SeenIds(settings.window + settings.lateness)
    uses = HashtagUses(HashtagUsesConfig(hashtag_config(settings), settings.alerts()))
    made: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            made[info["generation"]].append(time.perf_counter() - started[0])

    gc.callbacks.append(timed)
    tweets = 0
    for number, raw in read_messages(path):
        for tweet in parse_line(raw, number):
            if not isinstance(tweet, Rejection) and seen.first_time(tweet.id, tweet.at):
                tweets += 1
                uses.observe(
                    [HashtagUse(tag=tag, user_id=tweet.user_id, at=tweet.at) for tag in tweet.hashtags]
                )
    gc.callbacks.remove(timed)
    tracked = gc.get_objects()
    largest = sorted((len(o), type(o).__name__) for o in tracked if isinstance(o, list | dict | tuple))[-3:]
    tracked_count, by_type = len(tracked), Counter(type(o).__name__ for o in tracked).most_common(5)
    del tracked  # a list of every tracked object, which the collections below would walk too
    collect_s = {}
    for generation in (0, 1, 2):
        clock = time.perf_counter()
        gc.collect(generation)
        collect_s[str(generation)] = time.perf_counter() - clock
    return {
        "tweets": tweets,
        "collections_while_building": {
            str(generation): {
                "count": len(times),
                "seconds": sum(times),
                "longest_s": max(times, default=0.0),
            }
            for generation, times in made.items()
        },
        "tracked_objects": tracked_count,
        "tracked_by_type": by_type,
        "largest_tracked_containers": largest[::-1],
        "collect_s": collect_s,
    }


def probe_faust_floor(bootstrap: str, topic: str, total: int) -> None:
    """Run a one-agent Faust worker until it has read `total` messages of `topic`; print the
    figures and leave at once (a Faust worker has no "stop after N" of its own).
    """
    import faust  # noqa: PLC0415 - only this probe needs it

    # Faust makes its data directory even for a memory store; keep it out of the caller's cwd.
    datadir = tempfile.mkdtemp(prefix="resonance-floor-")
    app = faust.App(
        f"floor-{os.getpid()}",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=datadir,
        web_enabled=False,
        autodiscover=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(topic, value_type=bytes, value_serializer="raw", key_type=bytes, key_serializer="raw")

    @app.agent(source)
    async def count(stream: Any) -> None:
        seen, started, started_cpu = 0, 0.0, 0.0
        async for value in stream:
            orjson.loads(value)
            if seen == 0:
                started, started_cpu = time.perf_counter(), time.process_time()
            seen += 1
            if seen >= total:
                wall = time.perf_counter() - started
                figures = {
                    "messages": seen,
                    "wall_s": wall,
                    "cpu_s": time.process_time() - started_cpu,
                    "per_s": (seen - 1) / wall,
                    "peak_kib": memory_kib()["hwm_kib"],
                }
                # On a line of its own: Faust writes terminal control codes to stdout.
                sys.stdout.write("\n" + orjson.dumps(figures).decode() + "\n")
                sys.stdout.flush()
                shutil.rmtree(datadir, ignore_errors=True)
                os._exit(0)

    faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "probe",
        choices=[
            "parse",
            "analyze",
            "stages",
            "generate",
            "communities",
            "louvain",
            "polarization",
            "boundary",
            "paced-refresh",
            "faust-floor",
            "worker-gc",
        ],
    )
    parser.add_argument("--bootstrap", help="the Kafka broker (faust-floor)")
    parser.add_argument("--topic", help="the topic to read (faust-floor)")
    parser.add_argument("--total", type=int, default=0, help="messages to read (faust-floor)")
    parser.add_argument(
        "--input", type=Path, help="the recording to read (parse, analyze, stages, worker-gc)"
    )
    parser.add_argument("--window-hours", type=float, default=192.0, help="analyzer window span")
    parser.add_argument("--out", type=Path, help="where generate writes")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--seed", type=int, default=7, help="generator seed")
    parser.add_argument("--edges", type=int, default=1_000_000, help="planted edges (communities, louvain)")
    parser.add_argument("--datasets", type=Path, help="the shared datasets directory (polarization)")
    parser.add_argument("--topics", default=None, help="comma-separated Garimella topics (default: all)")
    parser.add_argument("--rate", type=int, default=5_000, help="tweets per second of event time (boundary)")
    parser.add_argument("--seconds", type=int, default=120, help="seconds of event time (boundary)")
    parser.add_argument(
        "--in-place", action="store_true", help="refreshes in place, not in forks (paced-refresh)"
    )
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    """Run one probe and print its figures as one JSON line."""
    args = _arguments(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    tune_for_long_lived_state()  # as the `resonance` command does, for every probe
    window = timedelta(hours=args.window_hours)
    if args.probe == "faust-floor":
        probe_faust_floor(args.bootstrap, args.topic, args.total)  # prints its figures and exits
    run: dict[str, Callable[[], dict[str, Any]]] = {
        "parse": lambda: probe_parse(args.input),
        "analyze": lambda: probe_analyze(args.input, window),
        "stages": lambda: probe_stages(args.input, window),
        "communities": lambda: probe_communities(args.edges, args.seed),
        "louvain": lambda: probe_louvain(args.edges, args.seed),
        "polarization": lambda: probe_polarization(args.datasets, args.topics),
        "boundary": lambda: probe_boundary(args.rate, args.seconds, args.seed),
        "paced-refresh": lambda: probe_paced_refresh(
            args.rate, args.seconds, args.seed, forked=not args.in_place
        ),
        "generate": lambda: probe_generate(args.out, args.events, args.seed),
        "worker-gc": lambda: probe_worker_gc(args.input, window),
    }
    figures = run[args.probe]()
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a probe's would
    # be at least the benchmark runner's own peak at the fork.
    figures["peak_kib"] = memory_kib()["hwm_kib"]
    figures["cpus"] = sorted(os.sched_getaffinity(0))
    sys.stdout.write(orjson.dumps(figures).decode() + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
