# ruff: noqa: N806 - `G` is the graph, as in networkx
"""The array paths of the echo-chamber refresh against networkx and plain-dictionary oracles: the
layer graph, the group scores, the RWC graph's largest component, and every field of a refresh.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import networkx as nx
import numpy as np
import pytest

from models.records import Trigger
from streams.alerts.rules import Stamp
from streams.chambers.communities import UserGraph
from streams.chambers.echo import ChamberConfig, EchoChambers
from streams.chambers.polarization import (
    Adjacency,
    ei_index_of,
    label_assortativity_of,
    largest_component,
    rwc_graph,
    segregation,
    segregation_of,
)
from streams.user_activity import UserActivity

T0 = datetime(2024, 1, 1, tzinfo=UTC)
Edges = dict[tuple[str, str], int]


def _random_edges(seed: int, *, users: int = 40, edges: int = 120) -> Edges:
    """Directed counts between `users` users named so that id order differs from number order."""
    rng = random.Random(seed)
    names = [f"u{rng.randrange(10**6)}" for _ in range(users)]
    drawn: Edges = {}
    for _ in range(edges):
        source, target = rng.sample(names, 2)
        drawn[source, target] = drawn.get((source, target), 0) + rng.randint(1, 3)
    return drawn


def _undirected(edges: Edges) -> nx.Graph:
    """The oracle's graph: both directions summed as `weight`."""
    G = nx.Graph()
    for (u, v), count in edges.items():
        if u != v and count > 0:
            G.add_edge(u, v, weight=G.get_edge_data(u, v, {"weight": 0})["weight"] + count)
    return G


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_user_graph_sums_both_directions_on_users_sorted_by_id(seed: int) -> None:
    """UserGraph holds the users sorted, the directed counts as given, and each pair once with
    both directions summed, exactly as a networkx graph of the same edges.
    """
    edges = _random_edges(seed)
    graph = UserGraph.of(edges)
    assert graph.users == sorted({user for pair in edges for user in pair})
    assert all(graph.users[graph.index[user]] == user for user in graph.users)
    directed = {
        (graph.users[s], graph.users[t]): c
        for s, t, c in zip(graph.sources.tolist(), graph.targets.tolist(), graph.counts.tolist(), strict=True)
    }
    assert directed == edges
    pairs = {
        (graph.users[u], graph.users[v]): w
        for (u, v), w in zip(graph.ends.tolist(), graph.weights.tolist(), strict=True)
    }
    assert pairs == {tuple(sorted((u, v))): w for u, v, w in _undirected(edges).edges(data="weight")}
    assert graph.ends.tolist() == sorted(graph.ends.tolist())


def test_user_graph_drops_self_loops_and_spent_counts_with_their_users() -> None:
    """A self-loop or a count of 0 is no interaction: users seen only there are not in the graph."""
    graph = UserGraph.of({("a", "b"): 2, ("b", "a"): 1, ("c", "c"): 4, ("a", "d"): 0})
    assert graph.users == ["a", "b"]
    assert graph.ends.tolist() == [[0, 1]]
    assert graph.weights.tolist() == [3.0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_array_group_scores_equal_networkx_and_a_loop(seed: int) -> None:
    """On a graph with self-loops, the array E-I index equals a loop over the edges and the array
    assortativity equals networkx's attribute_assortativity_coefficient.
    """
    rng = random.Random(seed)
    G = nx.gnm_random_graph(50, 150, seed=seed)
    G.add_edges_from((n, n) for n in rng.sample(range(50), 5))
    for u, v in G.edges:
        G.edges[u, v]["weight"] = rng.randint(1, 4)
    labels = np.array([rng.randrange(3) for _ in range(50)], dtype=np.int64)
    nx.set_node_attributes(G, dict(enumerate(labels.tolist())), "camp")
    ends = np.array(list(G.edges), dtype=np.int64)
    weights = np.array([w for _, _, w in G.edges(data="weight")], dtype=np.float64)
    inside = sum(w for u, v, w in G.edges(data="weight") if labels[u] == labels[v])
    outside = sum(w for u, v, w in G.edges(data="weight") if labels[u] != labels[v])
    assert ei_index_of(ends, weights, labels) == (outside - inside) / (outside + inside)
    assert label_assortativity_of(ends, labels) == pytest.approx(
        nx.attribute_assortativity_coefficient(G, "camp"), abs=1e-12
    )


def test_array_group_scores_are_none_without_edges_or_with_one_label() -> None:
    """No edges, or every edge end in one label, leaves the scores undefined (None)."""
    none = np.zeros((0, 2), dtype=np.int64)
    assert ei_index_of(none, np.zeros(0), np.array([0, 1])) is None
    assert label_assortativity_of(none, np.array([0, 1])) is None
    assert label_assortativity_of(np.array([[0, 1]]), np.array([4, 4])) is None


@pytest.mark.parametrize("seed", range(6))
def test_largest_component_equals_networkx(seed: int) -> None:
    """largest_component keeps networkx's largest connected component (ties: the one holding the
    smallest node; isolated nodes never count), renumbered in node order, neighbours sorted.
    """
    rng = random.Random(seed)
    # Several small components of equal sizes make ties likely.
    G = nx.disjoint_union_all([nx.path_graph(rng.choice([2, 3, 3])) for _ in range(6)])
    G = nx.relabel_nodes(G, dict(enumerate(rng.sample(range(len(G)), len(G)))))
    G.add_nodes_from(range(len(G), len(G) + 3))  # isolated
    ends = np.array(list(G.edges), dtype=np.int64)
    nodes, graph = largest_component(len(G), ends)
    expected = min((c for c in nx.connected_components(G) if len(c) > 1), key=lambda c: (-len(c), min(c)))
    assert nodes.tolist() == sorted(expected)
    renumbered = nx.relabel_nodes(G.subgraph(expected), {n: i for i, n in enumerate(sorted(expected))})
    assert sorted(map(tuple, graph.ends().tolist())) == sorted(tuple(sorted(e)) for e in renumbered.edges)
    for node in range(graph.n):
        row = graph.indices[graph.indptr[node] : graph.indptr[node + 1]].tolist()
        assert row == sorted(renumbered[node])


def test_largest_component_of_no_edges_is_empty() -> None:
    """Without an edge there is no component worth keeping."""
    nodes, graph = largest_component(5, np.zeros((0, 2), dtype=np.int64))
    assert nodes.size == 0
    assert graph.n == 0


def _planted_edges(seed: int) -> Edges:
    """Two camps of 200 users, retweeting inside mostly; most pairs reach tau = 2."""
    rng = random.Random(seed)
    camps = [[f"a{i:03d}" for i in range(200)], [f"b{i:03d}" for i in range(200)]]
    edges: Edges = {}
    for _ in range(3000):
        members = camps[rng.randrange(2)] if rng.random() < 0.97 else [*camps[0], *camps[1]]
        source, target = rng.sample(members, 2)
        edges[source, target] = edges.get((source, target), 0) + rng.randint(1, 3)
    return edges


def test_segregation_of_arrays_equals_segregation_of_rwc_graph() -> None:
    """The array path (UserGraph, pairs reaching tau, largest component) scores exactly what
    segregation(rwc_graph(edges)) scores on networkx graphs.
    """
    edges = _planted_edges(5)
    graph = UserGraph.of(edges)
    _, adjacency = largest_component(len(graph.users), graph.ends[graph.weights >= 2])
    assert isinstance(adjacency, Adjacency)
    assert segregation_of(adjacency, samples=5) == segregation(rwc_graph(edges), samples=5)


class _Influence:
    """The part of `streams.influence.tracker.Influence` a refresh reads."""

    def __init__(self, retweets: Edges, talk: Edges, ranks: dict[str, int]) -> None:
        self._retweets, self._talk, self._ranks = retweets, talk, ranks

    def ranks(self) -> MappingProxyType[str, int]:
        return MappingProxyType(self._ranks)

    def endorsement_graph(self) -> UserGraph:
        return UserGraph.of(self._retweets)

    def conversation_edges(self) -> MappingProxyType[tuple[str, str], int]:
        return MappingProxyType(self._talk)


CONFIG = ChamberConfig(samples=3, min_users=50, top_groups=4, top_members=3, hashtag_min_users=15)


@pytest.fixture(scope="module")
def refreshed():
    """One refresh of planted layers, with ranks for some users and camp-leaning hashtags."""
    retweets, talk = _planted_edges(1), _planted_edges(2)
    rng = random.Random(3)
    users = sorted({user for pair in [*retweets, *talk] for user in pair})
    ranked = rng.sample(users, 150)
    ranks = {user: rank for rank, user in enumerate(ranked, start=1)}
    activity = UserActivity(timedelta(days=1))
    for i, user in enumerate(users):
        tags = ("left",) if user.startswith("a") else ("right",)
        activity.observe(user, (*tags, "news") if i % 3 == 0 else tags, None, T0)
    activity.observe("nobody", ("left",), None, T0)  # a user outside both layers
    activity.advance(T0 + timedelta(seconds=1))
    stamp = Stamp(at=T0, window=timedelta(days=1), lateness=timedelta(0), trigger=Trigger.BOUNDARY)
    found = EchoChambers(CONFIG).refresh(stamp, _Influence(retweets, talk, ranks), activity)
    return found, {"retweet": retweets, "conversation": talk}, ranks, activity


def _described(membership, edges: Edges, ranks: dict[str, int], activity: UserActivity) -> list[dict]:
    """The group descriptions, computed with dictionaries from the partition's mapping."""
    members: dict[int, list[str]] = {}
    for user, group in membership.items():
        members.setdefault(group, []).append(user)
    largest = sorted(members.items(), key=lambda item: (-len(item[1]), item[0]))[: CONFIG.top_groups]
    described = []
    for group, users in largest:
        out = sum(c for (s, _), c in edges.items() if membership[s] == group)
        stay = sum(c for (s, t), c in edges.items() if membership[s] == group and membership[t] == group)
        tags = Counter(tag for user in users for tag in activity.tags_of(user))
        described.append(
            {
                "id": group,
                "size": len(users),
                "top_users": sorted(users, key=lambda u: (ranks.get(u, len(ranks) + 1), u))[
                    : CONFIG.top_members
                ],
                "top_hashtags": sorted(tags, key=lambda t: (-tags[t], t))[: CONFIG.top_hashtags],
                "insularity": stay / out if out else None,
            }
        )
    return described


@pytest.mark.parametrize("layer", ["retweet", "conversation"])
def test_layer_record_equals_the_dictionary_and_networkx_oracles(refreshed, layer: str) -> None:
    """Every field of a layer's record equals its from-scratch computation on dictionaries and
    networkx graphs of the same edges and partition.
    """
    found, edges, ranks, activity = refreshed
    record = next(r for r in found.communities if r.layer == layer)
    partition = found.partitions[layer]
    G = _undirected(edges[layer])
    camps = dict(partition.camps)
    nx.set_node_attributes(G, camps, "camp")
    inside = sum(w for u, v, w in G.edges(data="weight") if camps[u] == camps[v])
    total = G.size(weight="weight")
    score = segregation(
        rwc_graph(edges[layer], tau=CONFIG.tau), samples=CONFIG.samples, min_nodes=CONFIG.min_users
    )
    assert record.suppressed is None  # judged: the RWC fields are numbers
    assert (record.users, record.edges) == (G.number_of_nodes(), G.number_of_edges())
    assert record.count == len(set(partition.communities.values()))
    assert record.ei_index == (total - 2 * inside) / total
    assert record.assortativity == pytest.approx(nx.attribute_assortativity_coefficient(G, "camp"), abs=1e-12)
    assert (record.rwc, record.rwc_null_mean, record.segregation, record.rwc_z) == (
        score.rwc,
        score.null_mean,
        score.segregation,
        score.z,
    )
    assert (record.rwc_users, record.suppressed) == (score.nodes, score.suppressed)
    for groups, membership in ((record.communities, partition.communities), (record.camps, partition.camps)):
        expected = _described(membership, edges[layer], ranks, activity)
        assert [
            {
                "id": g.id,
                "size": g.size,
                "top_users": list(g.top_users),
                "top_hashtags": list(g.top_hashtags),
                "insularity": g.insularity,
            }
            for g in groups
        ] == expected


def test_hashtag_records_equal_their_own_rwc_graph_scores(refreshed) -> None:
    """Each hashtag's camp shares and segregation equal those computed from its users' own
    retweet edges with rwc_graph and segregation.
    """
    found, edges, _, activity = refreshed
    camps = found.partitions["retweet"].camps
    assert {r.tag for r in found.hashtags} == {"left", "right", "news"}
    for record in found.hashtags:
        users = {user for user in activity.users_of(record.tag) if user in camps}
        own = {(u, v): c for (u, v), c in edges["retweet"].items() if u in users and v in users}
        score = segregation(
            rwc_graph(own, tau=CONFIG.tau), samples=CONFIG.samples, min_nodes=CONFIG.min_users
        )
        shares = Counter(camps[user] for user in users)
        assert record.suppressed is None
        assert record.users == len(users)
        assert dict(record.camp_shares) == {camp: n / len(users) for camp, n in shares.items()}
        assert (record.segregation, record.rwc_z, record.suppressed) == (
            score.segregation,
            score.z,
            score.suppressed,
        )
        assert math.isfinite(record.leaning_entropy)
