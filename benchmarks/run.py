# ruff: noqa: INP001 - a script (`make bench`), not a module of the shipped packages
"""Benchmark Resonance and print a report: ratios against baselines measured in the same run.

Usage: .venv/bin/python benchmarks/run.py [--quick | --full]
[--only analyze,live,latency,replay,million,scale,garbage,generate,communities,polarization] [--json FILE].
See benchmarks/README.md for what each section measures and how.

Nothing here fails on slow numbers: it measures and reports. Progress goes to stderr; the report
goes to stdout (and to --json FILE as JSON).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import live
import orjson
import polarization
import replay
import scale
from prometheus_client.samples import Sample
from report import REPO, Section, Table, footer_text, header_text, load_average, machine_facts, mib, rate

from agents.settings import Settings
from cli.batching import BATCH_TWEETS
from models.duration import format_duration, parse_duration

HERE = Path(__file__).resolve().parent
HIGGS = REPO.parent / "shared" / "datasets" / "higgs_twitter" / "higgs-activity_time.txt.gz"
HIGGS_WINDOW_HOURS = 8 * 24  # covers the whole week of the Higgs data
HIGGS_EVENTS = 563_069  # lines of the Higgs file (its README)
ANALYZE_TARGET_PER_S = 50_000  # issue 3
LATENCY_TARGET_S = 1.0  # issue 3
STEADY_PAUSE = 0.1  # seconds between retweets sent in succession
REFRESH_TARGET_S = 2.0  # the issue: a one-million-edge window refreshed in at most 2 s
SECTIONS = (
    "analyze",
    "live",
    "latency",
    "replay",
    "million",
    "scale",
    "garbage",
    "generate",
    "communities",
    "polarization",
)
SEED = 7
MILLION_SEED = 11  # section 2e's stream: the one the earlier million-edge runs used (benchmarks/README.md)
DEFAULTS = Settings()
IDLE_FLUSH = format_duration(DEFAULTS.idle_flush)  # the worker's default
# Pauses before the retweets sent after quiet, 0.5 s apart from the idle flush's quiet on: they
# span the moments the idle view may be computed (quiet checked every half of it, then about a
# second of work on this state).
QUIET_PAUSES = tuple(DEFAULTS.idle_flush.total_seconds() + 0.5 * step for step in range(8))
# The live stream is produced before the worker starts, so the worker reads it flat out: a
# lateness of minutes keeps the drift between partitions from making events late (README: A
# replay sent flat out needs a wider lateness). The report counts the late events all the same.
LIVE_LATENESS = "10m"
LIVE_TARGET_RATIO = 0.5  # issue 16: the worker at half the lower of analyze and the cheapest Faust agent ...
LIVE_TARGET_PER_S = 4_000  # ... and at this many tweets/s on one worker
LOAD_RATE = 5_000  # issue 16: cascade latency p99 <= 1 s while this many tweets/s are offered ...
LOAD_PROBE_EVERY_S = 0.5  # ... measured on a retweet sent this often
LATENESS = format_duration(DEFAULTS.lateness)
GARBAGE_EVERY = 10  # issue 18: one message in ten is garbage ...
GARBAGE_TARGET_RATIO = 0.8  # ... and good traffic keeps at least this share of its clean speed
DEFAULT_WINDOW = format_duration(DEFAULTS.window)
WHOLE_WEEK = format_duration(timedelta(hours=HIGGS_WINDOW_HOURS))


@dataclass(frozen=True, slots=True)
class Sizes:
    """The inputs of one mode."""

    analyze_lines: int | None  # None: the whole Higgs file
    generate_events: int
    live_events: int
    latency_retweets: int
    load_seconds: float  # how long the latency-under-load phase offers its tweets
    refresh_edges: int
    million_events: int  # generated tweets replayed in section 2e: 1,700,000 give a million retweet edges
    louvain_edges: int
    garimella_topics: tuple[int, int] | None  # None: all 14; else the smallest (controversial, non-)


QUICK = Sizes(
    analyze_lines=100_000,
    generate_events=100_000,
    live_events=20_000,
    latency_retweets=20,
    load_seconds=30,
    refresh_edges=250_000,
    million_events=200_000,
    louvain_edges=25_000,
    garimella_topics=(3, 2),
)
DEFAULT = Sizes(
    analyze_lines=None,
    generate_events=1_000_000,
    live_events=100_000,
    latency_retweets=50,
    load_seconds=120,
    refresh_edges=1_000_000,
    million_events=1_700_000,
    louvain_edges=50_000,
    garimella_topics=None,
)
FULL = Sizes(
    analyze_lines=None,
    generate_events=10_000_000,
    live_events=200_000,
    latency_retweets=50,
    load_seconds=120,
    refresh_edges=1_000_000,
    million_events=1_700_000,
    louvain_edges=50_000,
    garimella_topics=None,
)


_STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stderr, with the seconds since the benchmark started."""
    sys.stderr.write(f"[bench {time.monotonic() - _STARTED:6.1f}s] {message}\n")
    sys.stderr.flush()


def run_probe(*args: str, cpu: int | None) -> dict[str, Any]:
    """Run one probe of benchmarks/probes.py in a fresh interpreter; return its JSON figures."""
    env = os.environ | {
        "TQDM_DISABLE": "1",  # no progress bar inside a measurement
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    pin = [] if cpu is None else ["--cpu", str(cpu)]
    result = subprocess.run(  # noqa: S603 - our own probe script, fixed arguments
        [sys.executable, str(HERE / "probes.py"), *args, *pin],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"probe {args[0]} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    figures: dict[str, Any] = orjson.loads(result.stdout.strip().splitlines()[-1])
    return figures


def _higgs_input(tmp: Path, lines: int | None) -> Path:
    """The Higgs file itself, or (quick mode) its first `lines` lines in a gzip file of the same kind."""
    if lines is None:
        return HIGGS
    prefix = tmp / f"higgs-first-{lines}.txt.gz"
    with gzip.open(HIGGS, "rb") as source, gzip.open(prefix, "wb") as target:
        for number, line in enumerate(source):
            if number == lines:
                break
            target.write(line)
    return prefix


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def _vs_target(per_s: float) -> str:
    """`analyze`'s events/s as a fraction of issue 3's target, and whether it meets it."""
    verdict = "meets" if per_s >= ANALYZE_TARGET_PER_S else "below"
    return f"{per_s / ANALYZE_TARGET_PER_S:.2f} of target ({verdict})"


def bench_analyze(tmp: Path, sizes: Sizes, cpu: int, repeat: int) -> Section:
    """Section 1 (and 5): `run_analysis` on the Higgs file against a bare read + parse loop."""
    section = Section("analyze", "1. analyze throughput and memory on the Higgs activity file")
    if not HIGGS.is_file():
        section.add("skipped", f"{HIGGS} not found")
        return section.finish()
    path = _higgs_input(tmp, sizes.analyze_lines)
    which = "the whole file" if sizes.analyze_lines is None else f"its first {sizes.analyze_lines:,} lines"
    section.method = [
        f"input: ../shared/datasets/higgs_twitter/{HIGGS.name}, {which}",
        "  (gzip, SNAP activity lines), read as `resonance analyze` reads it. Each measurement runs",
        f"  in a fresh interpreter pinned to core {cpu} (sched_setaffinity), progress bars off,",
        "  numeric libraries on one thread, and the garbage collector tuned as the `resonance`",
        "  command tunes it (agents/gc_policy.py).",
        "baseline: a bare loop of cli.recordings.read_messages + models.wire.parse_line, counting",
        "  the events (no dedup, no analyzer).",
        "analyze: cli.analyze.run_analysis with --window 8d (192 h, covers the week),",
        f"  the default lateness ({LATENESS}) and reconstruction ({DEFAULTS.reconstruction}), no --every",
        "  or --top, records to /dev/null; it counts the lines once first (for its progress bar),",
        "  as the command does.",
        f"events/s = events / wall seconds (and / process CPU seconds, time.process_time); {repeat}",
        "  run(s) of each, baseline and analyze alternating; the median is shown.",
        "ratio = analyze wall time / baseline wall time (how many times slower than only parsing).",
        f"default window: the same run_analysis with the command's default --window ({DEFAULT_WINDOW}),",
        "  as a user runs it on the file: windows then expire as the week goes by, and the final",
        "  records cover the last window only.",
        "stages: the same work in a separate run, one stage after another (the parsed events are",
        "  held in a list, so RSS there includes them), collection paused as in run_analysis;",
        "  RSS = VmRSS after the stage, peak = VmHWM.",
    ]
    baselines, analyses, defaults = [], [], []
    default_hours = DEFAULTS.window / timedelta(hours=1)
    for run in range(repeat):
        say(f"analyze: baseline read+parse, run {run + 1}/{repeat}")
        baselines.append(run_probe("parse", "--input", str(path), cpu=cpu))
        say(f"analyze: run_analysis, run {run + 1}/{repeat}")
        analyses.append(
            run_probe("analyze", "--input", str(path), "--window-hours", str(HIGGS_WINDOW_HOURS), cpu=cpu)
        )
        say(f"analyze: run_analysis with the default window, run {run + 1}/{repeat}")
        defaults.append(
            run_probe("analyze", "--input", str(path), "--window-hours", str(default_hours), cpu=cpu)
        )
    say("analyze: stages")
    stages = run_probe("stages", "--input", str(path), "--window-hours", str(HIGGS_WINDOW_HOURS), cpu=cpu)
    events = analyses[0]["events"]
    base_wall, base_cpu = _median(baselines, "wall_s"), _median(baselines, "cpu_s")
    wall, cpu_s = _median(analyses, "wall_s"), _median(analyses, "cpu_s")
    per_s = events / wall
    section.add("events analyzed (accepted, each id once)", f"{events:,}")
    section.add(
        "baseline read+parse",
        f"{rate(events, base_wall)} events/s ({base_wall:.2f} s wall, {base_cpu:.2f} s CPU)",
    )
    section.add(
        f"run_analysis, window {WHOLE_WEEK}",
        f"{per_s:,.0f} events/s wall, {rate(events, cpu_s)} events/s CPU "
        f"({wall:.2f} s wall, {cpu_s:.2f} s CPU)",
    )
    section.add(
        "ratio analyze / baseline (wall time)",
        f"{wall / base_wall:.2f}x (analyze runs at {100 * base_wall / wall:.1f}% of parse-only speed)",
    )
    section.add(
        "CPU share of wall time (1.00: had the core)",
        f"baseline {base_cpu / base_wall:.2f}, analyze {cpu_s / wall:.2f}",
    )
    section.add(
        f"vs issue 3 target ({ANALYZE_TARGET_PER_S:,} events/s), window {WHOLE_WEEK}", _vs_target(per_s)
    )
    default_wall = _median(defaults, "wall_s")
    default_per_s = events / default_wall
    section.add(
        f"run_analysis, default window ({DEFAULT_WINDOW})",
        f"{default_per_s:,.0f} events/s wall ({default_wall:.2f} s wall, "
        f"{_median(defaults, 'cpu_s'):.2f} s CPU); {default_wall / base_wall:.2f}x the baseline",
    )
    section.add(f"vs issue 3 target, default window ({DEFAULT_WINDOW})", _vs_target(default_per_s))
    if repeat > 1:
        walls = [run["wall_s"] for run in analyses]
        section.add("run_analysis wall spread", f"{min(walls):.2f} .. {max(walls):.2f} s over {repeat} runs")
    imported = analyses[0]["after_import"]["rss_kib"]
    peak = max(run["peak_kib"] for run in analyses)
    section.add("memory: RSS after imports (analyze process)", mib(imported))
    section.add(
        "memory: peak RSS of run_analysis (VmHWM)",
        f"{mib(peak)} (+{mib(peak - imported)} over the imports)",
    )
    section.add("memory: peak RSS of the baseline", mib(max(run["peak_kib"] for run in baselines)))
    rows = [
        [
            stage["stage"],
            f"{stage['wall_s']:.2f}",
            f"{stage['cpu_s']:.2f}",
            rate(stage.get("items", 0), stage["wall_s"]) if stage.get("items") else "",
            mib(stage["rss_kib"]),
            mib(stage["hwm_kib"]),
        ]
        for stage in stages["stages"]
    ]
    total_wall = sum(stage["wall_s"] for stage in stages["stages"])
    rows.append(
        ["total", f"{total_wall:.2f}", f"{sum(s['cpu_s'] for s in stages['stages']):.2f}", "", "", ""]
    )
    by_stage = {stage["stage"]: stage["wall_s"] for stage in stages["stages"]}
    streaming = events / by_stage["dedup+observe"]
    report_s = by_stage["flush"] + by_stage["serialise final records"]
    section.add(
        "stages: the stream itself (dedup+observe) vs target",
        f"{streaming:,.0f} events/s, {streaming / ANALYZE_TARGET_PER_S:.2f} of target; the end-of-input "
        f"report (flush + serialise) takes {report_s:.2f} s more",
    )
    section.tables.append(
        (
            f"stages (separate run; RSS after imports {mib(stages['after_import']['rss_kib'])}):",
            Table(["stage", "wall s", "CPU s", "items/s", "RSS after", "peak RSS"], rows),
        )
    )
    section.data = {
        "input": str(path),
        "window_hours": HIGGS_WINDOW_HOURS,
        "pinned_core": cpu,
        "target_events_per_s": ANALYZE_TARGET_PER_S,
        "events_per_s": per_s,
        "default_window_events_per_s": default_per_s,
        "default_window_runs": defaults,
        "events_per_cpu_s": events / cpu_s,
        "ratio_analyze_over_baseline_wall": wall / base_wall,
        "baseline_runs": baselines,
        "analyze_runs": analyses,
        "stages": stages,
    }
    return section.finish()


def bench_generate(tmp: Path, sizes: Sizes, cpu: int) -> Section:
    """Section 4: `synth.write_stream` speed, and whether its memory stays flat."""
    events = sizes.generate_events
    section = Section("generate", f"4. generator speed and memory flatness ({events:,} events)")
    out = tmp / "generated.jsonl.gz"
    section.method = [
        f"synth.write_stream(StreamSpec(events={events}, seed={SEED}), a .jsonl.gz temp file) in a fresh",
        f"  interpreter pinned to core {cpu}; the default spec (users = events / 20, 4 communities).",
        "at every tenth of the events (the progress callback): elapsed wall and CPU seconds, VmRSS",
        "  (resident now) and VmHWM (peak so far) from /proc/self/status.",
        "flatness = peak RSS at 100% / peak RSS at 10% (1.00 = flat; the population of users is",
        "  built before the first event, so it is inside both).",
    ]
    say(f"generate: {events:,} events")
    figures = run_probe("generate", "--out", str(out), "--events", str(events), "--seed", str(SEED), cpu=cpu)
    out.unlink(missing_ok=True)
    points = figures["checkpoints"]
    first, last = points[0], points[-1]
    section.add("events written", f"{figures['events']:,} ({figures['users']:,} users)")
    section.add("file size (gzip)", mib(figures["file_bytes"] / 1024))
    section.add(
        "speed",
        f"{rate(last['events'], last['wall_s'])} events/s wall, "
        f"{rate(last['events'], last['cpu_s'])} events/s CPU ({last['wall_s']:.1f} s)",
    )
    section.add("CPU share of wall time (1.00: had the core)", f"{last['cpu_s'] / last['wall_s']:.2f}")
    section.add("RSS after imports", mib(figures["after_import"]["rss_kib"]))
    section.add(f"peak RSS at {first['events']:,} events (10%)", mib(first["hwm_kib"]))
    section.add(f"peak RSS at {last['events']:,} events (100%)", mib(last["hwm_kib"]))
    section.add("flatness: peak 100% / peak 10%", f"{last['hwm_kib'] / first['hwm_kib']:.3f}")
    rows = []
    previous = {"events": 0, "wall_s": 0.0}
    for point in points:
        rows.append(
            [
                f"{point['events']:,}",
                f"{point['wall_s']:.1f}",
                rate(point["events"] - previous["events"], point["wall_s"] - previous["wall_s"]),
                mib(point["rss_kib"]),
                mib(point["hwm_kib"]),
            ]
        )
        previous = point
    section.tables.append(
        ("checkpoints:", Table(["events", "wall s", "events/s (this tenth)", "RSS", "peak RSS"], rows))
    )
    section.data = {"events": events, "seed": SEED, "figures": figures}
    return section.finish()


def _seconds(wall: float, cpu: float) -> str:
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU"


def bench_communities(sizes: Sizes, cpu: int) -> Section:
    """Section 5: `CommunityTracker.refresh` on a planted million-edge window, against networkx Louvain."""
    edges, small = sizes.refresh_edges, sizes.louvain_edges
    section = Section("communities", f"5. community refresh on a planted graph ({edges:,} edges)")
    section.method = [
        "input: benchmarks/communities.py's planted graph (seed 7): 10 directed edges per user,",
        "  communities of 500 users in two camps; an edge stays in its community with p 0.80, its",
        "  camp 0.17, anywhere 0.03; repeated pairs add to the count. edges = distinct directed",
        "  pairs of the edges mapping (the window's graph as the tracker takes it).",
        "refresh: streams.chambers.communities.CommunityTracker(CommunityConfig(seed=7))",
        "  .refresh(edges), cold,",
        "  then warm on the same mapping with 5% of its edges replaced (the next window). Timed",
        "  around the call only (the mapping is built first), wall (perf_counter) and process CPU.",
        f"  Each probe runs in a fresh interpreter pinned to core {cpu}.",
        f"target (issue): a {1_000_000:,}-edge refresh in at most {REFRESH_TARGET_S:.0f} s (wall);",
        "  ratio = seconds / target.",
        "baseline: networkx's pure-Python nx.community.louvain_communities(G, seed=0) on a",
        f"  {small:,}-edge graph from the same generator (undirected, counts summed as weights, as",
        "  the tracker sums them), in its own interpreter; then a cold refresh on that same graph.",
        "  per-edge speed-up = (Louvain s / its edges) / (cold refresh s / its edges); Louvain grows",
        "  faster than linearly with the edges, so this understates the gap at the refresh's size.",
    ]
    if edges != 1_000_000:
        section.method.append(
            f"QUICK MODE: {edges:,} edges, not the target's 1,000,000; run the default mode for the target."
        )
    say(f"communities: baseline, networkx Louvain on {small:,} edges")
    base = run_probe("louvain", "--edges", str(small), "--seed", str(SEED), cpu=cpu)
    say(f"communities: CommunityTracker.refresh on {edges:,} edges, cold then warm")
    refresh = run_probe("communities", "--edges", str(edges), "--seed", str(SEED), cpu=cpu)
    louvain, same = base["louvain"], base["refresh"]
    louvain_per_m = louvain["wall_s"] / base["edges"] * 1e6
    cold_per_m = refresh["cold_seconds"] / refresh["edges"] * 1e6
    section.add(
        "graph",
        f"{refresh['edges']:,.0f} edges, {refresh['users']:,.0f} users "
        f"(warm: {refresh['warm_edges']:,.0f} edges, 5% replaced)",
    )
    for name in ("cold", "warm"):
        wall = refresh[f"{name}_seconds"]
        verdict = "meets" if wall <= REFRESH_TARGET_S else "over"
        section.add(
            f"refresh {name}",
            f"{_seconds(wall, refresh[f'{name}_cpu_seconds'])}; {wall / REFRESH_TARGET_S:.2f} of the "
            f"{REFRESH_TARGET_S:.0f} s target ({verdict})",
        )
    section.add(
        "found (cold)",
        f"{refresh['communities']:.0f} communities (modularity {refresh['modularity']:.4f}), "
        f"{refresh['camps']:.0f} camps (two-camp share {refresh['two_camp_share']:.3f})",
    )
    section.add("warm: users keeping their community id", f"{refresh['kept_community_share']:.1%}")
    section.add(
        f"baseline: networkx Louvain, {base['edges']:,} edges",
        f"{_seconds(louvain['wall_s'], louvain['cpu_s'])} = {louvain_per_m:.1f} s per million edges "
        f"({louvain['communities']} communities, modularity {louvain['modularity']:.4f})",
    )
    section.add(
        "cold refresh per million edges",
        f"{cold_per_m:.2f} s (at {refresh['edges']:,.0f} edges)",
    )
    section.add(
        "per-edge speed-up",
        f"Leiden refresh is {louvain_per_m / cold_per_m:.1f}x faster per edge than networkx Louvain",
    )
    section.add(
        f"same {base['edges']:,}-edge graph: cold refresh",
        f"{_seconds(same['wall_s'], same['cpu_s'])}; Louvain / refresh "
        f"{louvain['wall_s'] / same['wall_s']:.1f}x (modularity {same['modularity']:.4f})",
    )
    section.add(
        "memory: peak RSS of the refresh probe",
        f"{mib(refresh['peak_kib'])} (RSS after imports {mib(refresh['after_import']['rss_kib'])})",
    )
    section.data = {
        "target_s": REFRESH_TARGET_S,
        "seed": SEED,
        "pinned_core": cpu,
        "refresh": refresh,
        "baseline": base,
        "louvain_s_per_million_edges": louvain_per_m,
        "cold_refresh_s_per_million_edges": cold_per_m,
        "per_edge_speedup": louvain_per_m / cold_per_m,
    }
    return section.finish()


def _mean(values: list[float]) -> float | None:
    return statistics.mean(values) if values else None


def _cell(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _group_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    judged = [row for row in rows if row["segregation"] is not None]
    scores = [row["segregation"] for row in judged]
    return {
        "topics": len(rows),
        "judged": len(judged),
        "mean_segregation": _mean(scores),
        "min_segregation": min(scores, default=None),
        "max_segregation": max(scores, default=None),
        "mean_z": _mean([row["z"] for row in judged if row["z"] is not None]),
        "mean_two_camp_share": _mean([row["two_camp_share"] for row in rows]),
        "seconds": sum(row["seconds"] + row["camp_seconds"] for row in rows),
    }


def _separation(rows: list[dict[str, Any]]) -> str:
    """Whether one segregation threshold puts every judged debate above every judged fandom."""
    debates = [r for r in rows if r["label"] == "controversial" and r["segregation"] is not None]
    fandoms = [r for r in rows if r["label"] == "non-controversial" and r["segregation"] is not None]
    if not debates or not fandoms:
        return "cannot tell here: a group has no judged topic"
    top = max(fandoms, key=lambda row: row["segregation"])
    below = sum(1 for row in debates if row["segregation"] < top["segregation"])
    if below == 0:
        return (
            f"on these {len(debates) + len(fandoms)} judged topics every debate scores above every "
            "fandom here; it still measures how far a graph splits, not what it is about"
        )
    return (
        f"no: #{top['topic']} (non-controversial) scores {top['segregation']:.3f}, above {below} of the"
        f" {len(debates)} controversial topics"
    )


def bench_polarization(sizes: Sizes, cpu: int) -> Section:
    """Section 6: segregation and the product's two-camp share on the Garimella et al. topics."""
    datasets = REPO.parent / "shared" / "datasets"
    section = Section("polarization", "6. segregation and two-camp share on the Garimella et al. topics")
    if not polarization.topic_path(datasets, polarization.CONTROVERSIAL[0]).is_file():
        section.add("skipped", f"{datasets / polarization.NETWORKS} not found")
        return section.finish()
    if sizes.garimella_topics is None:
        topics = [*polarization.CONTROVERSIAL, *polarization.NON_CONTROVERSIAL]
        which = [f"  all {len(topics)} topics."]
    else:
        topics = polarization.smallest_topics(datasets, sizes.garimella_topics)
        few_debates, few_fandoms = sizes.garimella_topics
        which = [
            f"  QUICK MODE: {len(topics)} of the 14 topics, the {few_debates} smallest controversial and",
            f"  the {few_fandoms} smallest non-controversial (the 5 smallest are all controversial).",
        ]
    section.method = [
        f"input: ../shared/datasets/{polarization.NETWORKS}/",
        "  retweet_graph_<topic>_threshold_largest_CC.txt (largest component, retweet counts >= 2);",
        *which,
        "  Labels are Garimella et al.'s (2018): controversial = a debate, non-controversial =",
        "  fandoms, events, #ff.",
        "segregation: streams.chambers.polarization.segregation(G) on the unweighted graph: the exact RWC of",
        "  its METIS split, minus the mean RWC of 20 degree-preserving rewirings (null), z = that",
        "  difference / the null's sd; not judged (-) under 300 users or when one hub touches over",
        "  half the users. It is segregation beyond chance, not a controversy score: it does not",
        "  separate debates from fandoms (see the ranges below).",
        "two-camp share: streams.chambers.communities.CommunityTracker(CommunityConfig()).refresh(edges) on",
        "  the weighted edges (the file's retweet counts), cold: the share of users in the two",
        "  largest camps, as the worker publishes it.",
        "seg s / camp s: wall seconds of segregation / of the refresh, per topic (loading the file",
        f"  is not timed); all topics in one fresh interpreter pinned to core {cpu}.",
        "baseline: none for speed; the comparison here is between the two groups of topics.",
    ]
    say(f"polarization: the Garimella table, {len(topics)} topics")
    figures = run_probe("polarization", "--datasets", str(datasets), "--topics", ",".join(topics), cpu=cpu)
    rows: list[dict[str, Any]] = figures["rows"]
    groups = {label: [r for r in rows if r["label"] == label] for label in polarization.LABELS}
    summary = {label: _group_figures(block) for label, block in groups.items()}
    table: list[list[str]] = []
    for label, block in groups.items():
        table.append([f"{label} ({len(block)})", *[""] * 11])
        table.extend(
            [
                f"  {row['topic']}",
                f"{row['nodes']:,}",
                f"{row['edges']:,}",
                _cell(row["rwc"]),
                _cell(row["null_mean"]),
                _cell(row["segregation"]),
                _cell(row["z"], 1),
                _cell(row["two_camp_share"]),
                str(row["camps"]),
                _cell(row["seconds"], 2),
                _cell(row["camp_seconds"], 2),
                row["suppressed"] or "",
            ]
            for row in block
        )
        group = summary[label]
        table.append(
            [
                f"  mean ({group['judged']} judged)",
                "",
                "",
                "",
                "",
                _cell(group["mean_segregation"]),
                _cell(group["mean_z"], 1),
                _cell(group["mean_two_camp_share"]),
                "",
                "",
                "",
                "",
            ]
        )
    header = [
        "topic",
        "users",
        "edges",
        "RWC",
        "null",
        "segr.",
        "z",
        "2-camp",
        "camps",
        "seg s",
        "camp s",
        "",
    ]
    section.tables.append(("per topic:", Table(header, table)))
    debates, fandoms = summary["controversial"], summary["non-controversial"]

    def pair(key: str, digits: int = 3) -> list[str]:
        return [_cell(debates[key], digits), _cell(fandoms[key], digits)]

    side_by_side = [
        [
            "topics (judged)",
            f"{debates['topics']} ({debates['judged']})",
            f"{fandoms['topics']} ({fandoms['judged']})",
        ],
        ["mean segregation", *pair("mean_segregation")],
        ["segregation min", *pair("min_segregation")],
        ["segregation max", *pair("max_segregation")],
        ["mean z", *pair("mean_z", 1)],
        ["mean two-camp share", *pair("mean_two_camp_share")],
        ["seconds (seg + camp)", *pair("seconds", 2)],
    ]
    section.tables.append(("side by side:", Table(["", "controversial", "non-controversial"], side_by_side)))
    section.add("topics", f"{len(rows)} ({debates['topics']} controversial, {fandoms['topics']} non-)")
    section.add(
        "mean segregation",
        f"controversial {_cell(debates['mean_segregation'])}, "
        f"non-controversial {_cell(fandoms['mean_segregation'])}",
    )
    section.add("segregation separates debates from fandoms?", _separation(rows))
    section.add("whole table", f"{_seconds(figures['wall_s'], figures['cpu_s'])}")
    section.data = {"datasets": str(datasets), "pinned_core": cpu, "groups": summary, **figures}
    return section.finish()


def bench_live(tmp: Path, sizes: Sizes, chosen: set[str], partitions: int) -> list[Section]:
    """Sections 2 and 3: the worker's throughput against its baselines, then cascade latency."""
    events = sizes.live_events if "live" in chosen else 1_000  # latency alone: a short warm-up stream
    sections: list[Section] = []
    throughput = Section("live", f"2. live worker throughput against its baselines ({events:,} tweets)")
    with live.private_broker(tmp / "kafka", partitions, say) as bootstrap:
        single = live.Deployment.new(bootstrap, tmp, partitions, IDLE_FLUSH, LIVE_LATENESS)
        batched = live.Deployment.new(bootstrap, tmp, partitions, IDLE_FLUSH, LIVE_LATENESS)
        stream = live.Stream.build(events, SEED, single.app_id)
        inputs = {
            "single": stream.one_per_message(),
            "batched": stream.batched(partitions, parse_duration(LIVE_LATENESS)),
        }
        produced = {}
        for name, deployment in (("single", single), ("batched", batched)):
            say(f"live: producing {len(inputs[name]):,} messages ({name}) to {deployment.input_topic}")
            live.create_topic(bootstrap, deployment.input_topic, partitions)
            produced[name] = live.produce(bootstrap, deployment.input_topic, inputs[name])
        baselines = _live_baselines(tmp, bootstrap, single.input_topic, stream, partitions)
        runs = {}
        for name, deployment in (("single", single), ("batched", batched)):
            with _worker_run(tmp, deployment, stream, len(inputs[name]), name) as run:
                runs[name] = run
                if name == "batched" and "latency" in chosen:
                    # The stage's view of the quiet input after the drain must be out first: a
                    # retweet sent while it is computed waits for it (reported in the section).
                    idle = live.find_idle_summary(bootstrap, deployment.metrics_topic, after=run.done_at)
                    say(f"latency: {sizes.latency_retweets} retweets, one at a time")
                    sections.append(
                        _latency(
                            deployment,
                            stream,
                            sizes.latency_retweets,
                            events,
                            idle.timestamp / 1000 - run.done_at,
                        )
                    )
                    say(f"latency under load: {LOAD_RATE:,} tweets/s for {sizes.load_seconds:.0f} s")
                    sections.append(_latency_under_load(deployment, stream, sizes.load_seconds))
    _throughput_report(
        throughput, stream=stream, partitions=partitions, produced=produced, baselines=baselines, runs=runs
    )
    return [throughput.finish(), *sections] if "live" in chosen else sections


def bench_garbage(tmp: Path, sizes: Sizes, partitions: int) -> Section:
    """Section 3c: the worker's speed on good traffic, clean and with 10% garbage mixed in."""
    events = sizes.live_events
    section = Section("garbage", f"3c. good traffic with {100 // GARBAGE_EVERY}% garbage ({events:,} tweets)")
    with live.private_broker(tmp / "kafka-garbage", partitions, say) as bootstrap:
        clean = live.Deployment.new(bootstrap, tmp, partitions, IDLE_FLUSH, LIVE_LATENESS)
        dirty = live.Deployment.new(bootstrap, tmp, partitions, IDLE_FLUSH, LIVE_LATENESS)
        stream = live.Stream.build(events, SEED, clean.app_id)
        inputs = {"clean": stream.one_per_message()}
        inputs["garbage"], added = live.with_garbage(inputs["clean"], GARBAGE_EVERY)
        garbage_bytes = sum(len(value) for _, key, value in inputs["garbage"] if key.startswith(b"garbage-"))
        for name, deployment in (("clean", clean), ("garbage", dirty)):
            say(f"garbage: producing {len(inputs[name]):,} messages ({name}) to {deployment.input_topic}")
            live.create_topic(bootstrap, deployment.input_topic, partitions)
            live.produce(bootstrap, deployment.input_topic, inputs[name])
        runs: dict[str, WorkerRun] = {}
        counts: dict[str, dict[str, float]] = {}
        for name, deployment in (("clean", clean), ("garbage", dirty)):
            with _worker_run(tmp, deployment, stream, len(inputs[name]), f"garbage-{name}") as run:
                runs[name] = run
                counts[name] = deployment.metrics() or {}
    section.method = [
        f"input: the live section's stream (synth, seed {SEED}, plus its sentinel), one tweet per message,",
        "  produced before the worker starts, to two fresh deployments on a private broker:",
        f"  clean: {len(inputs['clean']):,} messages; garbage: the same with a hostile message after",
        f"  every {GARBAGE_EVERY - 1}th, so one message in {GARBAGE_EVERY} is garbage ({added:,} added,",
        f"  {mib(garbage_bytes // 1024)}), cycling through {len(live.HOSTILE)} kinds (benchmarks/live.py",
        "  HOSTILE: not JSON, not UTF-8, wrong fields, 10,000 levels of nesting, NaN, 2**64, 10,000",
        "  hashtags, 10,000 mentions, a 25,001 character text, a tweet dated 2099, ...), keyed apart,",
        "  as another producer's would be.",
        "worker: as in section 2, one run per input, clean first. good tweets/s = the stream's tweets /",
        "  (the CreateTime of the sentinel's cascade record - the last poll before any consumption).",
        f"target: garbage / clean >= {GARBAGE_TARGET_RATIO} (issue 18).",
    ]
    figures: dict[str, Any] = {"garbage_messages": added, "garbage_bytes": garbage_bytes}
    for name, run in runs.items():
        per_s = stream.tweets / (run.done_at - run.start)
        accepted = counts[name].get("resonance_tweets_accepted_total", 0.0)
        dead = counts[name].get("resonance_rejected_total", 0.0)
        figures[name] = {"tweets_per_s": per_s, "seconds": run.done_at - run.start, "accepted": accepted}
        figures[name]["dead_letters"] = dead
        section.add(
            f"{name}: good tweets end to end",
            f"{per_s:,.0f} tweets/s ({run.done_at - run.start:.2f} s); accepted {accepted:,.0f}, "
            f"dead letters {dead:,.0f}",
        )
    ratio = figures["garbage"]["tweets_per_s"] / figures["clean"]["tweets_per_s"]
    verdict = "meets" if ratio >= GARBAGE_TARGET_RATIO else "below"
    section.add("garbage / clean", f"{ratio:.2f} x; target >= {GARBAGE_TARGET_RATIO}: {verdict}")
    section.data = {"ratio": ratio, **figures}
    return section.finish()


def _live_baselines(
    tmp: Path, bootstrap: str, topic: str, stream: live.Stream, partitions: int
) -> dict[str, dict[str, Any]]:
    """What the worker is judged against, on the same stream: bare consumers and the cheapest
    Faust agent reading the one-tweet-per-message topic, and `analyze` on the stream as a file.
    """
    say("live: bare consumers")
    total = stream.tweets
    baselines = {
        "bare_kafka_python": live.bare_kafka_python(bootstrap, topic, partitions, total),
        "bare_aiokafka": live.bare_aiokafka(bootstrap, topic, partitions, total),
    }
    say("live: the cheapest Faust agent")
    baselines["faust_floor"] = run_probe(
        "faust-floor", "--bootstrap", bootstrap, "--topic", topic, "--total", str(total), cpu=None
    )
    say("live: analyze on the same stream")
    recording = stream.write_jsonl(tmp / "live-stream.jsonl")
    hours = str(DEFAULTS.window.total_seconds() / 3600)
    analyzed = run_probe("analyze", "--input", str(recording), "--window-hours", hours, cpu=None)
    analyzed["per_s"] = analyzed["events"] / analyzed["wall_s"]
    baselines["analyze"] = analyzed
    return baselines


@dataclass(frozen=True, slots=True)
class WorkerRun:
    """What one worker run on a backlog observed."""

    messages: int
    progress: live.Progress
    launched: float
    done_at: float  # CreateTime of the sentinel retweet's cascade record: the conversation stage is done
    late_events: float
    peak_rss_kib: int
    loop_lag_max_s: float
    # The worker process's garbage collections over the whole run, by generation (1, 2):
    # `live.histogram_change` figures of resonance_gc_pause_seconds, None for none.
    collections: dict[str, dict[str, float] | None]
    stop: live.Stop

    @property
    def start(self) -> float:
        """The last poll before the worker consumed anything (start-up excluded)."""
        return self.progress.idle_until if self.progress.idle_until is not None else self.launched


@contextmanager
def _worker_run(
    tmp: Path, deployment: live.Deployment, stream: live.Stream, messages: int, name: str
) -> Iterator[WorkerRun]:
    """Run a worker on the backlog in `deployment`'s input topic until it has published the
    sentinel's cascade record; yield what it took, with the worker still running.
    """
    log = tmp / f"worker-{name}.log"
    say(f"live: starting the worker on the {name} input (log {log})")
    launched = time.time()
    stop = live.Stop()
    with live.running_worker(deployment, log, stop) as worker:
        progress = live.watch_worker(deployment, worker, log, messages, stream.tweets)
        say("live: waiting for the conversation stage to publish the last cascade record")
        sentinel = live.find_cascade_change(
            deployment.bootstrap, deployment.metrics_topic, stream.root_id, min_size=2
        )
        samples = deployment.metrics() or {}
        every_sample = deployment.samples() or []
        yield WorkerRun(
            messages=messages,
            progress=progress,
            launched=launched,
            done_at=sentinel.timestamp / 1000,
            late_events=samples.get("resonance_events_late_total", 0.0),
            peak_rss_kib=live.process_peak_rss_kib(worker.pid),
            loop_lag_max_s=samples.get("resonance_event_loop_lag_max_seconds", float("nan")),
            collections={
                generation: live.histogram_change(
                    [], every_sample, "resonance_gc_pause_seconds", generation=generation
                )
                for generation in ("1", "2")  # strings: the keys of the report's JSON
            },
            stop=stop,
        )
        say(f"live: stopping the {name} worker (SIGTERM)")


def _throughput_report(  # noqa: PLR0913 - one parameter per measured part
    section: Section,
    *,
    stream: live.Stream,
    partitions: int,
    produced: dict[str, dict[str, float]],
    baselines: dict[str, dict[str, Any]],
    runs: dict[str, WorkerRun],
) -> None:
    total = stream.tweets
    floor, analyzed, aio = baselines["faust_floor"], baselines["analyze"], baselines["bare_aiokafka"]
    bound = min(floor["per_s"], analyzed["per_s"])
    section.method = [
        f"input: synth.generate(StreamSpec(events={stream.generated}, seed={SEED})) as native JSON,",
        "  plus one original and one retweet of it at the end (the sentinel), produced before any",
        f"  consumer starts, to topics of {partitions} partitions on a private single-node KRaft",
        "  broker, twice:",
        f"  single: {total:,} messages, one tweet each, keyed by cascade (as another producer would);",
        f"  batched: {runs['batched'].messages:,} messages of up to {BATCH_TWEETS} tweets, as `resonance",
        "  replay` sends them.",
        "baselines, on the single topic: bare kafka-python and aiokafka consumers (assign +",
        "  seek_to_beginning, count until all are read); the cheapest Faust agent (probes.py",
        "  faust-floor: one agent, orjson.loads, count; first message to last); and `analyze` on the",
        "  same stream as a JSON-lines file (probes.py analyze, the worker's window 15m, unpinned).",
        "  bound = the lower of the Faust agent and analyze: the issue's target is",
        f"  >= {LIVE_TARGET_RATIO} x bound and >= {LIVE_TARGET_PER_S:,} tweets/s.",
        f"worker: `resonance worker` subprocess (RESONANCE_PARTITIONS={partitions}, default window 15m,",
        f"  RESONANCE_LATENESS={LIVE_LATENESS} as the stream is read flat out,",
        f"  RESONANCE_IDLE_FLUSH={IDLE_FLUSH}), /metrics polled every {live.POLL_SECONDS} s from its launch;",
        "  a fresh deployment (app id, topics) per input. start = the last poll showing nothing",
        "  consumed yet (excludes start-up). ingest done: resonance_input_messages_total >= the",
        "  messages; accept done: accepted + duplicates + rejected >= the tweets; conversation done:",
        "  the CreateTime of the sentinel retweet's cascade record on the metrics topic (the end to",
        "  end figure: the single-partition stage has processed everything before it).",
        "tweets/s = tweets / (done - start).",
        "event loop lag = resonance_event_loop_lag_max_seconds: the longest a 50 ms timer of the",
        "  worker's loop was held past its time, over the run. garbage collections =",
        "  resonance_gc_pause_seconds of the worker's process (its event loop waits for each), the",
        "  bucket bound the longest fell within.",
    ]
    for name in ("single", "batched"):
        section.add(
            f"produce, {name} (kafka-python, for reference)",
            f"{produced[name]['per_s']:,.0f} msgs/s ({produced[name]['wall_s']:.2f} s)",
        )
    for name, label in (
        ("bare_kafka_python", "bare kafka-python consumer"),
        ("bare_aiokafka", "bare aiokafka consumer"),
        ("faust_floor", "the cheapest Faust agent"),
    ):
        figures = baselines[name]
        section.add(
            f"baseline: {label}",
            f"{figures['per_s']:,.0f} msgs/s ({figures['wall_s']:.2f} s, {figures['cpu_s']:.2f} s CPU)",
        )
    section.add(
        "baseline: analyze, same stream",
        f"{analyzed['per_s']:,.0f} tweets/s ({analyzed['wall_s']:.2f} s, {analyzed['cpu_s']:.2f} s CPU)",
    )
    figures: dict[str, Any] = {}
    for name, run in runs.items():
        figures[name] = _run_figures(section, name, run, total=total, bound=bound, aio_per_s=aio["per_s"])
    section.data = {
        "tweets": total,
        "partitions": partitions,
        "produced": produced,
        "baselines": baselines,
        "bound_per_s": bound,
        "worker": figures,
        "poll_seconds": live.POLL_SECONDS,
    }


def _run_figures(  # noqa: PLR0913 - one parameter per figure the rows compare
    section: Section, name: str, run: WorkerRun, *, total: int, bound: float, aio_per_s: float
) -> dict[str, Any]:
    """Add the rows of one worker run; its figures."""
    progress, start = run.progress, run.start
    assert progress.ingested_at is not None  # noqa: S101 - watch_worker returns once accepted, after ingest
    assert progress.accepted_at is not None  # noqa: S101 - as above
    section.add(f"{name}: worker start-up (launch to first consumption)", f"{start - run.launched:.1f} s")
    figures: dict[str, Any] = {"messages": run.messages}
    for stage, done in (
        ("ingest", progress.ingested_at),
        ("accept", progress.accepted_at),
        ("conversation (end to end)", run.done_at),
    ):
        per_s = total / (done - start)
        figures[stage] = {"seconds": done - start, "tweets_per_s": per_s}
        section.add(f"{name}: {stage} done", f"{per_s:,.0f} tweets/s ({done - start:.2f} s)")
    end_to_end = figures["conversation (end to end)"]["tweets_per_s"]
    verdict = (
        "meets" if end_to_end >= LIVE_TARGET_RATIO * bound and end_to_end >= LIVE_TARGET_PER_S else "below"
    )
    section.add(
        f"{name}: end to end against the baselines",
        f"{end_to_end / bound:.2f} x bound, {end_to_end / aio_per_s:.3f} x bare aiokafka; "
        f"target >= {LIVE_TARGET_RATIO} x bound and >= {LIVE_TARGET_PER_S:,}/s: {verdict}",
    )
    cpu = progress.accepted_cpu_s - progress.idle_cpu_s
    section.add(
        f"{name}: worker CPU until accept done", f"{cpu:.2f} s ({rate(total, cpu)} tweets per CPU-second)"
    )
    section.add(f"{name}: late events (resonance_events_late_total)", f"{run.late_events:,.0f}")
    section.add(f"{name}: worker peak RSS (VmHWM)", mib(run.peak_rss_kib))
    section.add(f"{name}: event loop lag, longest", f"{run.loop_lag_max_s * 1000:,.0f} ms")
    section.add(
        f"{name}: garbage collections, generation 1 / 2",
        " / ".join(
            "none"
            if figure is None
            else f"{figure['count']:,.0f}, the longest within {figure['max_within_s']:g} s"
            for figure in run.collections.values()
        ),
    )
    stopped = run.stop.seconds or 0.0
    how = f"killed (SIGKILL) after {stopped:.1f} s" if run.stop.killed else f"exited in {stopped:.1f} s"
    section.add(f"{name}: worker stop at the end (SIGTERM)", how)
    figures |= {
        "ratio_to_bound": end_to_end / bound,
        "ratio_to_bare_aiokafka": end_to_end / aio_per_s,
        "cpu_s": cpu,
        "late_events": run.late_events,
        "peak_rss_kib": run.peak_rss_kib,
        "loop_lag_max_s": run.loop_lag_max_s,
        "collections": run.collections,
        "stop": {"seconds": run.stop.seconds, "killed": run.stop.killed},
    }
    return figures


def _latency(
    deployment: live.Deployment, stream: live.Stream, count: int, events: int, idle_wait: float
) -> Section:
    """Section 3: send retweets one at a time, first in quick succession, then each after a quiet
    spell; time until each one's cascade record is out. `idle_wait`: seconds from the drain's last
    cascade record to the idle view's summary.
    """
    section = Section(
        "latency", f"3. live cascade latency ({count} + {len(QUIET_PAUSES)} retweets, one at a time)"
    )
    idle = DEFAULTS.idle_flush.total_seconds()
    section.method = [
        f"once the worker of section 2 has processed its {events:,} generated tweets, gone quiet, and",
        "  published its idle view (the conversation stage's provisional records of a quiet input),",
        "  send retweets of the sentinel original one at a time (native JSON, retweet_of =",
        "  parent_id = the original, event time 1 s apart after the stream's end) with a",
        "  kafka-python producer (linger 0, flushed per send):",
        f"  in succession: {count} retweets, {STEADY_PAUSE} s apart;",
        f"  after quiet: {len(QUIET_PAUSES)} retweets, each after a pause of {QUIET_PAUSES[0]:g} to",
        f"  {QUIET_PAUSES[-1]:g} s. After {IDLE_FLUSH} of quiet (checked every {idle / 2:g} s) the stage",
        "  computes an idle view, so these retweets arrive before, during and after one.",
        "latency = wall time from just before the send to the arrival, at a kafka-python consumer",
        "  already positioned at the end of the metrics topic, of the cascade record with trigger",
        "  'change' for that root and the new size.",
        f"  The consumer's fetch_max_wait_ms is {live.LATENCY_FETCH_WAIT_MS}: the default, 500, would",
        "  add up to half a second of its own.",
        "published = the same but to the record's CreateTime (when the worker produced it).",
        f"target (issue 3): a retweet changes its cascade record within {LATENCY_TARGET_S:.0f} s.",
    ]
    section.add(
        "idle view out after the drain's last record",
        f"{idle_wait:.2f} s (RESONANCE_IDLE_FLUSH={IDLE_FLUSH} of quiet, then the view is computed)",
    )
    section.data = {"target_s": LATENCY_TARGET_S, "idle_view_wait_s": idle_wait}
    phases = (
        ("in succession", "steady", [0.0] + [STEADY_PAUSE] * (count - 1)),
        ("after quiet", "after_quiet", list(QUIET_PAUSES)),
    )
    first = 1
    for label, key, pauses in phases:
        result = live.measure_latency(deployment, stream, pauses, first=first, start_size=2, say=say)
        first += len(pauses)
        section.data[key] = _latency_figures(section, label, result)
    section.data["pauses"] = _pause_figures(section, deployment.samples() or [])
    return section.finish()


def _latency_under_load(deployment: live.Deployment, stream: live.Stream, seconds: float) -> Section:
    """Section 3b: cascade latency while `LOAD_RATE` tweets/s are offered to the worker."""
    section = Section("load", f"3b. cascade latency under load ({LOAD_RATE:,} tweets/s for {seconds:.0f} s)")
    section.method = [
        "the batched run's worker, after section 3: a thread offers the generated stream's tweets again",
        f"  and again at {LOAD_RATE:,} per second, in batches every 0.1 s (as replay sends them), each",
        "  round's ids made new and every tweet dated when sent, so event time follows the clock;",
        f"  meanwhile a retweet of a fresh original every {LOAD_PROBE_EVERY_S} s, timed from just before",
        "  its send to the arrival of its cascade change record (as in section 3).",
        f"target (issue 16): p99 <= {LATENCY_TARGET_S:.0f} s. accounted = the worker's accepted + duplicates",
        "  + rejected over the phase, against what was offered: below 1, the worker fell behind.",
        "each stage's delay: the age of its input messages when it took them over the phase",
        "  (resonance_stage_delay_seconds: the worker's clock minus the message's Kafka timestamp),",
        "  as the histogram bucket bounds its median and 99th percentile fell within.",
    ]
    result = live.latency_under_load(
        deployment, stream, rate=LOAD_RATE, seconds=seconds, probe_every=LOAD_PROBE_EVERY_S, say=say
    )
    section.add(
        "offered",
        f"{result['offered']:,} tweets, {result['offered_per_s']:,.0f}/s "
        f"(the sender fell behind its schedule by {result['sender_behind_s']:.2f} s at worst)",
    )
    during = result["accounted_during"]
    section.add(
        "accounted by the worker during the phase",
        "unknown: its /metrics did not answer within 5 s at the end"
        if during is None
        else f"{during:,.0f} ({during / max(result['offered'], 1):.2f} of offered)",
    )
    arrival = result["arrival_s"]
    section.add(
        "probes sent / records received",
        f"{result['sent']} / {len(arrival)} ({result['timeouts']} timed out)",
    )
    if arrival:
        p99 = live.percentile(arrival, 0.99)
        section.add(
            "latency p50 / p95 / p99 / max",
            f"{live.percentile(arrival, 0.5):.3f} / {live.percentile(arrival, 0.95):.3f} / {p99:.3f} / "
            f"{max(arrival):.3f} s; target p99 <= {LATENCY_TARGET_S:.0f} s: "
            f"{'meets' if p99 <= LATENCY_TARGET_S and not result['timeouts'] else 'below'}",
        )
    for stage, delay in result["stage_delays"].items():
        section.add(
            f"  {stage}: messages' age when taken, p50 / p99 within",
            f"{delay['p50_within_s']:g} / {delay['p99_within_s']:g} s ({delay['count']:,.0f} messages)",
        )
    for label, key, unit in (
        ("event loop lag", "loop_lag", "wakes of a 50 ms timer"),
        ("conversation analyzer, per batch", "analyzer_batches", "batches"),
    ):
        figures = result[key]
        if figures is not None:
            section.add(
                f"{label} over the phase, p50 / p99 / max within",
                f"{figures['p50_within_s']:g} / {figures['p99_within_s']:g} / {figures['max_within_s']:g} s "
                f"({figures['count']:,.0f} {unit})",
            )
    boundary = _boundary_work(section, seconds)
    section.data = {"rate": LOAD_RATE, "target_s": LATENCY_TARGET_S, **result, "boundary": boundary}
    return section.finish()


def _boundary_work(section: Section, seconds: float) -> dict[str, Any]:
    """Rows on the conversation analyzer alone on this load's stream (probes.py boundary): its
    slowest batches with every boundary's window work done at the boundary, the baseline, and
    with it done ahead between batches, as its process does.
    """
    say("the analyzer alone on the load's stream, boundary work at the boundary and ahead")
    # At most the default phase's length: the probe runs flat out, twice, and a longer stream
    # would cross a refresh boundary, whose work (inline here) is not what it measures.
    seconds = min(seconds, DEFAULT.load_seconds)
    figures = run_probe("boundary", "--rate", str(LOAD_RATE), "--seconds", str(int(seconds)), cpu=None)
    base, ahead = figures["at_boundary"], figures["ahead"]
    section.add(
        "the analyzer alone on this load (probes.py boundary), slowest batch",
        f"{base['slowest_s'][0]:.3f} s with each boundary's window work at the boundary; "
        f"{ahead['slowest_s'][0]:.3f} s with it done ahead between batches "
        f"({ahead['slowest_s'][0] / base['slowest_s'][0]:.2f}x)",
    )
    section.add(
        "  per batch of 0.1 s of the load: p99 / all batches' time / work ahead",
        f"{base['p99_s']:.3f} / {base['observe_s']:.1f} / 0 s at the boundary; "
        f"{ahead['p99_s']:.3f} / {ahead['observe_s']:.1f} / {ahead['ahead_s']:.1f} s ahead "
        f"({ahead['moves']:,} moves, {figures['tweets']:,} tweets)",
    )
    return figures


def _pause_figures(section: Section, samples: list[Sample]) -> dict[str, Any]:
    """Add rows on the heavy work of the conversation stage, from the worker's /metrics over the
    whole run: its checkpoints and idle views (both in the analyzer's own process), and the
    longest the worker's event loop was held.
    """

    def timed(name: str, **labels: str) -> tuple[float, float]:
        found = {
            s.name: s.value for s in samples if s.name.startswith(name) and labels.items() <= s.labels.items()
        }
        count = found.get(f"{name}_count", 0.0)
        return count, (found.get(f"{name}_sum", 0.0) / count if count else 0.0)

    def gauge(name: str, **labels: str) -> float:
        found = (s.value for s in samples if s.name == name and labels.items() <= s.labels.items())
        return next(found, float("nan"))

    checkpoints, encode = timed("resonance_checkpoint_seconds", stage="conversation", step="encode")
    _, write = timed("resonance_checkpoint_seconds", stage="conversation", step="write")
    size = gauge("resonance_checkpoint_bytes", stage="conversation")
    views, view_compute = timed("resonance_idle_view_seconds", step="compute")
    lag = gauge("resonance_event_loop_lag_max_seconds")
    section.add(
        "conversation checkpoints (whole run)",
        f"{checkpoints:.0f}, the last {size / 2**20:.1f} MiB; mean encode {encode:.3f} s, mean write"
        f" {write:.3f} s (both beside the event loop: in the analyzer's process, in the background)",
    )
    section.add(
        "idle views (whole run)", f"{views:.0f}; mean {view_compute:.3f} s (in the analyzer's process)"
    )
    section.add("event loop held, longest (whole run)", f"{lag * 1000:,.0f} ms")
    return {
        "checkpoints": checkpoints,
        "checkpoint_bytes": size,
        "checkpoint_encode_mean_s": encode,
        "checkpoint_write_mean_s": write,
        "idle_views": views,
        "idle_view_compute_mean_s": view_compute,
        "loop_lag_max_s": lag,
    }


def _latency_figures(section: Section, phase: str, result: dict[str, Any]) -> dict[str, Any]:
    """Add one phase's rows to `section`; its figures, for the JSON report."""
    arrival, published = live.quantiles(result["arrival_s"]), live.quantiles(result["published_s"])
    sent, measured = result["sent"], len(result["arrival_s"])
    section.add(
        f"{phase}: retweets sent / records received", f"{sent} / {measured} ({result['timeouts']} timed out)"
    )
    for label, figures in (("arrival at consumer", arrival), ("published (CreateTime)", published)):
        if figures is None:
            section.add(f"{phase}: {label}", "no records")
            continue
        section.add(
            f"{phase}: {label}",
            "median {median:.3f} s, p95 {p95:.3f} s, min {min:.3f} s, max {max:.3f} s".format(**figures),
        )
    within = sum(1 for value in result["arrival_s"] if value <= LATENCY_TARGET_S)
    section.add(f"{phase}: within the {LATENCY_TARGET_S:.0f} s target", f"{within} of {sent}")
    return {"arrival": arrival, "published": published, "within_target": within, **result}


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Benchmark Resonance; prints a report (ratios against baselines from the same run).",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller inputs (a minute or two)")
    size.add_argument("--full", action="store_true", help="as the default, but generate 10M events")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON to FILE")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each analyze measurement (median)")
    parser.add_argument(
        "--cpu", type=int, default=None, help="core to pin the single-process probes to (all but live)"
    )
    parser.add_argument("--partitions", type=int, default=4, help="partitions of the live topics")
    parser.add_argument(
        "--load-seconds",
        type=int,
        default=None,
        help="how long section 3b offers its load (default: 120 s, 30 s with --quick); longer crosses "
        "more refresh boundaries (RESONANCE_REFRESH_EVERY, 5m by default, on multiples of the clock)",
    )
    parser.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="copy the workers' logs (holds of the event loop, with what held it, are warnings "
        "there) to DIR before the run's temporary directory is deleted",
    )
    args = parser.parse_args(argv)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown or not chosen:
        parser.error(f"--only takes names among {', '.join(SECTIONS)}; got {args.only!r}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.load_seconds is not None and args.load_seconds < 10:
        parser.error("--load-seconds must be at least 10")
    args.chosen = chosen
    return args


def _worker_sections(tmp: Path, sizes: Sizes, chosen: set[str], partitions: int) -> list[Section]:
    """The chosen sections that run `resonance worker` on a private broker (2, 2c, 2d, 3, 3c)."""
    sections: list[Section] = []
    if chosen & {"live", "latency"}:
        sections.extend(bench_live(tmp, sizes, chosen, partitions))
    if "replay" in chosen:
        higgs = _higgs_input(tmp, sizes.analyze_lines)
        events = sizes.analyze_lines or HIGGS_EVENTS
        sections.append(replay.bench_replay(tmp, higgs, events, say))
    if "million" in chosen:
        stream = tmp / "million.jsonl"
        say(f"million: generating {sizes.million_events:,} tweets (seed {MILLION_SEED})")
        generate_options = ("--events", str(sizes.million_events), "--seed", str(MILLION_SEED))
        subprocess.run(  # noqa: S603 - the project's own command line
            [sys.executable, "-m", "cli", "generate", "--out", str(stream), *generate_options],
            check=True,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        title = "2e. a window of a million retweet edges through the live worker"
        sections.append(
            replay.bench_replay(tmp, stream, sizes.million_events, say, key="million", title=title)
        )
    if "scale" in chosen:
        sections.append(
            scale.bench_scale(
                tmp,
                events=sizes.live_events,
                partitions=partitions,
                lateness=LIVE_LATENESS,
                idle_flush=IDLE_FLUSH,
                say=say,
            )
        )
    if "garbage" in chosen:
        sections.append(bench_garbage(tmp, sizes, partitions))
    return sections


def _keep_logs(tmp: Path, logs: Path) -> None:
    """Copy every worker log under `tmp` to `logs` (created if need be), and say where."""
    logs.mkdir(parents=True, exist_ok=True)
    for log in sorted(tmp.rglob("worker-*.log")):
        shutil.copy2(log, logs / log.name)
        say(f"kept {logs / log.name}")


def main(argv: list[str]) -> None:
    """Run the chosen sections; print the report; write the JSON when asked."""
    args = _arguments(argv)
    sizes, mode = (QUICK, "quick") if args.quick else (FULL, "full") if args.full else (DEFAULT, "default")
    if args.load_seconds is not None:
        sizes = dataclasses.replace(sizes, load_seconds=args.load_seconds)
    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    facts = machine_facts()
    started = time.monotonic()
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="resonance-bench-") as directory:
        tmp = Path(directory)
        try:
            if "analyze" in args.chosen:
                sections.append(bench_analyze(tmp, sizes, cpu, args.repeat))
            sections.extend(_worker_sections(tmp, sizes, args.chosen, args.partitions))
            if "generate" in args.chosen:
                sections.append(bench_generate(tmp, sizes, cpu))
            if "communities" in args.chosen:
                sections.append(bench_communities(sizes, cpu))
            if "polarization" in args.chosen:
                sections.append(bench_polarization(sizes, cpu))
        finally:
            if args.logs is not None:
                _keep_logs(tmp, args.logs)
    facts["load_average_end"] = load_average()
    facts["elapsed_s"] = time.monotonic() - started
    lines = header_text(facts, mode)
    for section in sections:
        lines += ["", *section.text()]
    lines += ["", *footer_text(facts)]
    sys.stdout.write("\n".join(lines) + "\n")
    if args.json is not None:
        report = {"mode": mode, "machine": facts, "sections": {s.key: s.as_json() for s in sections}}
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        say(f"wrote {args.json}")


if __name__ == "__main__":
    main(sys.argv[1:])
