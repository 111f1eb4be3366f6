"""The incremental retweet cascade against closed forms and networkx, from scratch."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.cascades.tree import Cascade

t0 = datetime(2024, 1, 1, tzinfo=UTC)

# Deterministic: the same examples on every run and machine, and no example database.
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=150)

# A retweet as (back, offset_us): its parent is the `back`-th newest node, modulo the tree's
# size, so 0 always picks the newest node (deep chains) and larger values land anywhere
# (bushy trees); it is stamped `offset_us` microseconds after t0, in any order.
retweets = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 10**10)),
    max_size=40,
)


def events(draws: list[tuple[int, int]]) -> list[tuple[str, str, datetime]]:
    """Turn drawn retweets into (node_id, parent_id, at) events under root "n0"."""
    out = []
    for k, (back, offset_us) in enumerate(draws, start=1):
        parent = (k - 1) - back % k
        out.append((f"n{k}", f"n{parent}", t0 + timedelta(microseconds=offset_us)))
    return out


def grow(cascade: Cascade, evts: list[tuple[str, str, datetime]]) -> Cascade:
    """Add every event to `cascade`, in order, and return it."""
    for node_id, parent_id, at in evts:
        cascade.add(node_id, parent_id, at)
    return cascade


def star(n: int) -> Cascade:
    """Build a root with n - 1 direct retweets."""
    return grow(Cascade("n0", "u0", t0), [(f"n{k}", "n0", t0) for k in range(1, n)])


def path(n: int) -> Cascade:
    """Build a chain of n nodes, each retweeting the previous one."""
    return grow(Cascade("n0", "u0", t0), [(f"n{k}", f"n{k - 1}", t0) for k in range(1, n)])


def test_lone_root_has_size_one_and_no_pairwise_metrics():
    """A root alone has size 1, depth 0, breadth 1, no virality or broadcast share, rate 0."""
    cascade = Cascade("n0", "u0", t0)
    assert (cascade.size, cascade.depth, cascade.max_breadth) == (1, 0, 1)
    assert cascade.structural_virality is None
    assert cascade.broadcast_share is None
    assert cascade.growth_rate_per_hour == 0.0
    assert cascade.last_at == t0


@pytest.mark.parametrize("n", [2, 3, 4, 7, 10, 100, 1000])
def test_star_virality_is_two_n_minus_one_over_n(n):
    """A star of n nodes has structural virality 2(n - 1)/n (Goel et al. 2016)."""
    assert math.isclose(star(n).structural_virality or 0.0, 2 * (n - 1) / n)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 10, 100, 1000])
def test_path_virality_is_n_plus_one_over_three(n):
    """A chain of n nodes has structural virality (n + 1)/3 (Goel et al. 2016)."""
    assert math.isclose(path(n).structural_virality or 0.0, (n + 1) / 3)


@pytest.mark.parametrize("n", [2, 5, 100])
def test_star_is_one_broadcast_one_level_deep(n):
    """A star has depth 1, all retweets on one level, and broadcast share 1."""
    cascade = star(n)
    assert (cascade.depth, cascade.max_breadth, cascade.broadcast_share) == (1, n - 1, 1.0)


@pytest.mark.parametrize("n", [2, 5, 100])
def test_path_is_deep_and_narrow(n):
    """A chain of n nodes has depth n - 1, breadth 1 and broadcast share 1/(n - 1)."""
    cascade = path(n)
    assert (cascade.depth, cascade.max_breadth) == (n - 1, 1)
    assert math.isclose(cascade.broadcast_share or 0.0, 1 / (n - 1))


@deterministic
@given(retweets)
def test_metrics_equal_networkx_from_scratch_after_every_prefix(draws):
    """After every retweet, every shape metric equals networkx's computation on the same tree."""
    cascade = Cascade("n0", "u0", t0)
    tree = nx.DiGraph()
    tree.add_node("n0")
    for node_id, parent_id, at in events(draws):
        cascade.add(node_id, parent_id, at)
        tree.add_edge(parent_id, node_id)

        n = tree.number_of_nodes()
        hops = nx.single_source_shortest_path_length(tree, "n0")
        assert cascade.size == n
        assert cascade.depth == max(hops.values())
        assert cascade.max_breadth == max(Counter(hops.values()).values())
        expected_virality = nx.wiener_index(tree.to_undirected()) / math.comb(n, 2)
        assert math.isclose(cascade.structural_virality or 0.0, expected_virality)
        max_out_degree = max(degree for _, degree in tree.out_degree())
        assert math.isclose(cascade.broadcast_share or 0.0, max_out_degree / (n - 1))


@deterministic
@given(retweets, st.data())
def test_restored_cascade_continues_as_if_never_stopped(draws, data):
    """Snapshot to JSON, restore and continue: the cascade equals one that never stopped."""
    evts = events(draws)
    split = data.draw(st.integers(0, len(evts)), label="split")
    never_stopped = grow(Cascade("n0", "u0", t0), evts)

    before = grow(Cascade("n0", "u0", t0), evts[:split])
    restored = Cascade.restore(json.loads(json.dumps(before.snapshot())))
    assert restored == before
    grow(restored, evts[split:])

    assert restored == never_stopped
    assert restored.snapshot() == never_stopped.snapshot()
    assert restored.structural_virality == never_stopped.structural_virality
    assert restored.last_at == never_stopped.last_at


def test_add_rejects_unknown_parent_and_leaves_the_tree_unchanged():
    """Attaching under a node not in the tree raises ValueError and changes nothing."""
    cascade = grow(Cascade("n0", "u0", t0), [("n1", "n0", t0)])
    before = cascade.snapshot()
    with pytest.raises(ValueError, match="unknown parent 'nope'"):
        cascade.add("n2", "nope", t0 + timedelta(hours=1))
    assert cascade.snapshot() == before


@pytest.mark.parametrize("node_id", ["n0", "n1"])
def test_add_rejects_a_node_already_in_the_tree(node_id):
    """Adding the root or a retweet a second time raises ValueError and changes nothing."""
    cascade = grow(Cascade("n0", "u0", t0), [("n1", "n0", t0)])
    before = cascade.snapshot()
    with pytest.raises(ValueError, match="already in the tree"):
        cascade.add(node_id, "n0", t0 + timedelta(hours=1))
    assert cascade.snapshot() == before


def test_naive_root_time_is_rejected():
    """A root time without a timezone raises ValueError."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Cascade("n0", "u0", datetime(2024, 1, 1))  # noqa: DTZ001 - the naive time under test


def test_restore_rejects_a_parent_that_comes_after_its_child():
    """A snapshot whose parent index is not an earlier node raises ValueError."""
    data = path(3).snapshot()
    data["parent_indices"] = [0, 2]
    with pytest.raises(ValueError, match="parent index"):
        Cascade.restore(data)


def test_growth_rate_is_retweets_per_hour_of_life():
    """The growth rate is retweets divided by the hours from the root to the latest node."""
    # t0        +10 min   +30 min
    # root ---- n1 ------ n2        2 retweets over 0.5 h -> 4 per hour
    cascade = grow(
        Cascade("n0", "u0", t0),
        [("n1", "n0", t0 + timedelta(minutes=10)), ("n2", "n1", t0 + timedelta(minutes=30))],
    )
    assert cascade.growth_rate_per_hour == 4.0


def test_growth_rate_floors_the_age_at_one_minute():
    """A cascade younger than a minute is rated as a minute old, not near-infinitely fast."""
    # t0  +5 s
    # root n1      1 retweet over max(5 s, 1 min) -> 60 per hour
    cascade = grow(Cascade("n0", "u0", t0), [("n1", "n0", t0 + timedelta(seconds=5))])
    assert cascade.growth_rate_per_hour == 60.0


def test_last_at_keeps_the_latest_time_when_events_arrive_out_of_order():
    """A late-arriving older retweet does not move last_at back."""
    # arrival order: n1 (+30 min), then n2 (+10 min)
    cascade = grow(
        Cascade("n0", "u0", t0),
        [("n1", "n0", t0 + timedelta(minutes=30)), ("n2", "n0", t0 + timedelta(minutes=10))],
    )
    assert cascade.last_at == t0 + timedelta(minutes=30)


def test_membership_reports_nodes_in_the_tree():
    """`in` is true for the root and added retweets, false for anything else."""
    cascade = grow(Cascade("n0", "u0", t0), [("n1", "n0", t0)])
    assert "n0" in cascade
    assert "n1" in cascade
    assert "n2" not in cascade
