# ruff: noqa: INP001, T201 - a script (`python benchmarks/polarization.py`) that prints its report
"""Segregation and two-camp share on the 14 Garimella et al. retweet graphs, with their timings.

Usage: .venv/bin/python benchmarks/polarization.py [--datasets DIR]

Each topic's graph (`retweet_graph_<topic>_threshold_largest_CC.txt`: `user_a,user_b,weight`,
undirected, weight >= 2, already its largest component) goes through the product's code as a
window's retweet graph would: `streams.chambers.polarization.segregation` (METIS split, exact RWC, 20
rewired nulls) on the unweighted graph, and the two-camp share of the camps that
`streams.chambers.communities.CommunityTracker` finds (default `CommunityConfig`, a cold refresh) on the
weighted edges, i.e. what the worker publishes. Controversial and non-controversial topics are
printed in two groups. The clock is read here, around the calls, never inside `streams/`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Collection
from pathlib import Path

import networkx as nx

from streams.chambers.communities import CommunityConfig, CommunityTracker
from streams.chambers.polarization import segregation

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
NETWORKS = Path("polarization") / "garimella_controversy" / "retweet_networks"
CONTROVERSIAL = (
    "beefban", "russia_march", "indiana", "indiasdaughter", "baltimore",
    "ukraine", "nemtsov", "gunsense", "netanyahu",
)  # fmt: skip
NON_CONTROVERSIAL = ("nationalkissingday", "ff", "ultralive", "sxsw", "wcw")
LABELS = ("controversial", "non-controversial")


def topic_path(datasets: Path, topic: str) -> Path:
    """Where a topic's retweet graph lies under the shared datasets directory."""
    return datasets / NETWORKS / f"retweet_graph_{topic}_threshold_largest_CC.txt"


def load_topic(datasets: Path, topic: str) -> dict[tuple[str, str], int]:
    """A topic's edges as the tracker takes them: (user a, user b) -> retweet count (the file's weight)."""
    edges: dict[tuple[str, str], int] = {}
    with topic_path(datasets, topic).open(encoding="utf-8") as lines:
        for line in lines:
            user_a, user_b, weight = line.rstrip("\n").split(",")
            edges[user_a, user_b] = edges.get((user_a, user_b), 0) + round(float(weight))
    return edges


def smallest_topics(datasets: Path, per_label: tuple[int, int]) -> list[str]:
    """The topics with the fewest edges: `per_label` = (controversial, non-controversial) counts."""

    def lines(topic: str) -> int:
        with topic_path(datasets, topic).open("rb") as file:
            return sum(1 for _ in file)

    chosen: list[str] = []
    for topics, count in zip((CONTROVERSIAL, NON_CONTROVERSIAL), per_label, strict=True):
        chosen += sorted(topics, key=lines)[:count]
    return chosen


def garimella_table(datasets: Path, topics: Collection[str] | None = None) -> list[dict[str, object]]:
    """One row per topic (all, or those in `topics`), controversial ones first.

    Sizes, RWC, null mean, segregation, z, two-camp share. `seconds` is the wall time of
    `segregation` (20 nulls), `camp_seconds` that of the tracker's refresh (communities and
    camps); loading the file and building the graph are not timed.
    """
    rows: list[dict[str, object]] = []
    for label, group in zip(LABELS, (CONTROVERSIAL, NON_CONTROVERSIAL), strict=True):
        for topic in group:
            if topics is not None and topic not in topics:
                continue
            edges = load_topic(datasets, topic)
            graph: nx.Graph[str] = nx.Graph(list(edges))  # unweighted, as segregation takes it
            started = time.perf_counter()
            result = segregation(graph)
            scored = time.perf_counter()
            partition = CommunityTracker(CommunityConfig()).refresh(edges)
            camped = time.perf_counter()
            rows.append(
                {
                    "topic": topic,
                    "label": label,
                    "nodes": result.nodes,
                    "edges": result.edges,
                    "rwc": result.rwc,
                    "null_mean": result.null_mean,
                    "null_sd": result.null_sd,
                    "segregation": result.segregation,
                    "z": result.z,
                    "suppressed": result.suppressed,
                    "two_camp_share": partition.two_camp_share,
                    "camps": len(partition.camp_sizes),
                    "seconds": scored - started,
                    "camp_seconds": camped - scored,
                }
            )
    return rows


def _number(value: object, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(rows: list[dict[str, object]]) -> str:
    """The rows as a fixed-width text table, one block per label with its mean segregation."""
    header = (
        f"{'topic':<19}{'nodes':>7}{'edges':>7}{'rwc':>8}{'null':>8}{'segr.':>8}{'z':>8}"
        f"{'2-camp':>8}{'seg s':>8}{'camp s':>8}  suppressed"
    )
    lines = [header]
    for label in LABELS:
        block = [row for row in rows if row["label"] == label]
        lines.append(f"-- {label} ({len(block)})")
        lines.extend(
            f"{row['topic']!s:<19}{row['nodes']!s:>7}{row['edges']!s:>7}{_number(row['rwc']):>8}"
            f"{_number(row['null_mean']):>8}{_number(row['segregation']):>8}{_number(row['z'], 1):>8}"
            f"{_number(row['two_camp_share']):>8}{_number(row['seconds'], 2):>8}"
            f"{_number(row['camp_seconds'], 2):>8}  {row['suppressed'] or ''}"
            for row in block
        )
        judged = [row["segregation"] for row in block if isinstance(row["segregation"], float)]
        if judged:
            lines.append(f"   mean segregation {statistics.mean(judged):.3f} over {len(judged)} judged")
    return "\n".join(lines)


def main() -> None:
    """Print the Garimella table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="the shared datasets directory")
    arguments = parser.parse_args()
    print(format_table(garimella_table(arguments.datasets)))


if __name__ == "__main__":
    main()
