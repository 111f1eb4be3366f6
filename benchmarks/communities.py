# ruff: noqa: INP001 - a script (`python benchmarks/communities.py`), not a module of the shipped packages
"""Time `CommunityTracker.refresh` on a planted-partition graph: cold, then warm after 5% of edges change.

Usage: .venv/bin/python benchmarks/communities.py [--edges N] [--seed S]. Prints a short report.
`refresh_seconds(edges, seed)` returns the same measurements for benchmarks/run.py.

The graph: users in communities of 500 (fewer for tiny graphs), split into two camps of equal
numbers of communities; 10 edges per user, so a million edges make 100,000 users in 2 x 100
communities. Each directed edge starts at a random user and ends, with probability 0.80, in the
same community, 0.17 in a random community of the same camp, 0.03 anywhere. Repeated pairs add to
the count. The warm refresh replaces a random 5% of the edges with new ones drawn the same way, as
the next window would. Timings exclude building the edges mapping, which the caller holds already.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from streams.chambers.communities import CommunityConfig, CommunityTracker

CAMPS = 2
COMMUNITY_SIZE = 500
EDGES_PER_USER = 10  # a million edges over 100,000 users
CHANGED_SHARE = 0.05


def _draw(rng: np.random.Generator, count: int, users: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` directed (source, target) index pairs with the planted structure; self-loops dropped."""
    community_size = min(COMMUNITY_SIZE, users // (2 * CAMPS))
    per_camp = users // community_size // CAMPS
    sources = rng.integers(0, CAMPS * per_camp * community_size, count)
    community = sources // community_size
    same_camp = community // per_camp * per_camp + rng.integers(0, per_camp, count)
    anywhere = rng.integers(0, CAMPS * per_camp, count)
    kind = rng.random(count)
    target_community = np.where(kind < 0.80, community, np.where(kind < 0.97, same_camp, anywhere))
    targets = target_community * community_size + rng.integers(0, community_size, count)
    keep = sources != targets
    return sources[keep], targets[keep]


def _mapping(sources: np.ndarray, targets: np.ndarray, names: list[str]) -> dict[tuple[str, str], int]:
    """The edges mapping the tracker takes: (source id, target id) -> count."""
    pairs, counts = np.unique(np.column_stack((sources, targets)), axis=0, return_counts=True)
    return {(names[s], names[t]): c for (s, t), c in zip(pairs.tolist(), counts.tolist(), strict=True)}


def planted_edges(edges: int, seed: int) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """About `edges` distinct directed pairs with planted communities, and the same with 5% replaced."""
    rng = np.random.default_rng(seed)
    users = max(edges // EDGES_PER_USER, 4 * CAMPS)
    names = [f"user{i}" for i in range(users)]
    # Draw a little more than needed: repeated pairs merge into one counted edge.
    sources, targets = _draw(rng, int(edges * 1.01), users)
    first = _mapping(sources, targets, names)
    kept = rng.random(len(sources)) >= CHANGED_SHARE
    new_sources, new_targets = _draw(rng, int((~kept).sum()), users)
    second = _mapping(
        np.concatenate((sources[kept], new_sources)), np.concatenate((targets[kept], new_targets)), names
    )
    return first, second


def refresh_seconds(edges: int, seed: int) -> dict[str, float]:
    """Seconds (wall and CPU) of a cold refresh and a warm one (5% of edges changed), and what they found."""
    first, second = planted_edges(edges, seed)
    tracker = CommunityTracker(CommunityConfig(seed=seed))
    started, started_cpu = time.perf_counter(), time.process_time()
    cold = tracker.refresh(first)
    cold_seconds, cold_cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    started, started_cpu = time.perf_counter(), time.process_time()
    warm = tracker.refresh(second)
    warm_seconds, warm_cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    kept = sum(1 for user, community in warm.communities.items() if cold.communities.get(user) == community)
    return {
        "edges": float(len(first)),
        "warm_edges": float(len(second)),
        "users": float(len(cold.communities)),
        "cold_seconds": cold_seconds,
        "warm_seconds": warm_seconds,
        # CPU seconds of this process: on a busy shared machine, closer to what an idle one takes.
        "cold_cpu_seconds": cold_cpu_seconds,
        "warm_cpu_seconds": warm_cpu_seconds,
        "communities": float(len(cold.community_sizes)),
        "camps": float(len(cold.camp_sizes)),
        "modularity": cold.modularity,
        "warm_modularity": warm.modularity,
        "two_camp_share": cold.two_camp_share,
        "kept_community_share": kept / len(warm.communities),
    }


def main() -> None:
    """Print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = refresh_seconds(args.edges, args.seed)
    print(  # noqa: T201 - the report is the output
        "CommunityTracker.refresh on a planted-partition graph (two camps of communities)\n"
        f"  cold: {result['edges']:,.0f} edges, {result['users']:,.0f} users: {result['cold_seconds']:.2f} s"
        f" ({result['cold_cpu_seconds']:.2f} s CPU)"
        f" ({result['communities']:.0f} communities, {result['camps']:.0f} camps,"
        f" modularity {result['modularity']:.4f}, two-camp share {result['two_camp_share']:.3f})\n"
        f"  warm: {result['warm_edges']:,.0f} edges (5% replaced): {result['warm_seconds']:.2f} s"
        f" ({result['warm_cpu_seconds']:.2f} s CPU)"
        f" (modularity {result['warm_modularity']:.4f},"
        f" {result['kept_community_share']:.1%} of users kept their community id)"
    )


if __name__ == "__main__":
    main()
