# ruff: noqa: N803, N806 - `G`, `A`, `P`: the graph and matrices named as in networkx and the papers
"""Polarization metrics: oracles against networkx, exact RWC against simulation and dense algebra."""

from __future__ import annotations

import math
import random
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from streams.chambers.polarization import (
    Segregation,
    bisect,
    ei_index,
    label_assortativity,
    leaning_entropy,
    rwc,
    rwc_graph,
    segregation,
)

GARIMELLA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "datasets"
    / "polarization"
    / "garimella_controversy"
    / "retweet_networks"
)


def _str_graph(G: nx.Graph) -> nx.Graph:
    return nx.relabel_nodes(G, lambda node: f"n{node:04d}")


@pytest.fixture(scope="module")
def karate():
    """Zachary's karate club with string ids and its `club` split as sides 0/1."""
    G = _str_graph(nx.karate_club_graph())
    side = {node: int(club == "Officer") for node, club in G.nodes(data="club")}
    return G, side


@pytest.fixture(scope="module")
def planted():
    """Two dense random camps of 400 users joined by 5 bridges (an echo chamber by construction)."""
    rng = random.Random(11)
    left = nx.gnm_random_graph(400, 2400, seed=1)
    right = nx.relabel_nodes(nx.gnm_random_graph(400, 2400, seed=2), lambda node: node + 400)
    G = nx.union(left, right)
    G.add_edges_from((rng.randrange(400), 400 + rng.randrange(400)) for _ in range(5))
    G = _str_graph(G)
    return G.subgraph(max(nx.connected_components(G), key=len)).copy()


def _weighted_random_graph(seed: int) -> tuple[nx.Graph, dict[str, int]]:
    rng = random.Random(seed)
    G = _str_graph(nx.gnm_random_graph(60, 200, seed=seed))
    for u, v in G.edges:
        G.edges[u, v]["weight"] = rng.randint(1, 5)
    return G, {node: rng.randrange(3) for node in G}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_label_assortativity_equals_networkx(seed):
    """Label assortativity equals networkx's attribute_assortativity_coefficient on an unweighted graph."""
    G, membership = _weighted_random_graph(seed)
    plain = nx.Graph(G.edges)
    nx.set_node_attributes(plain, membership, "camp")
    assert label_assortativity(plain, membership) == pytest.approx(
        nx.attribute_assortativity_coefficient(plain, "camp"), abs=1e-12
    )


def test_ei_index_closed_form():
    """E-I index is (E - I) / (E + I): one bridge and two internal ties give -1/3, weights counted."""
    G = nx.Graph([("a", "b"), ("c", "d"), ("b", "c")])
    membership = {"a": 0, "b": 0, "c": 1, "d": 1}
    assert ei_index(G, membership, weight=None) == pytest.approx(-1 / 3)
    G.edges["b", "c"]["weight"] = 4
    assert ei_index(G, membership) == pytest.approx((4 - 2) / 6)


def test_group_scores_are_none_without_edges():
    """Without edges the E-I index and assortativity are undefined (None)."""
    G = nx.Graph()
    G.add_nodes_from(["a", "b"])
    membership = {"a": 0, "b": 1}
    assert ei_index(G, membership) is None
    assert label_assortativity(G, membership) is None


def test_group_scores_reject_unlabelled_nodes():
    """A membership that misses a node is an error, not a silent skip."""
    with pytest.raises(ValueError, match="lacks 1"):
        ei_index(nx.Graph([("a", "b")]), {"a": 0})


def test_leaning_entropy():
    """Leaning entropy is 0 for one camp, 1 bit for an even pair, 2 for four even camps."""
    assert leaning_entropy([]) == 0.0
    assert leaning_entropy([0.0, 7.0]) == 0.0
    assert leaning_entropy([0.5, 0.5]) == pytest.approx(1.0)
    assert leaning_entropy([1, 1, 1, 1]) == pytest.approx(2.0)


def test_rwc_graph_thresholds_summed_directions_and_keeps_largest_component():
    """rwc_graph sums both directions against tau, drops self-retweets and keeps the largest component."""
    edges = {
        ("a", "b"): 1,
        ("b", "a"): 1,  # 2 together: kept
        ("b", "c"): 2,
        ("c", "c"): 9,  # a self-retweet
        ("x", "y"): 1,  # below tau
        ("p", "q"): 3,
        ("q", "r"): 3,  # a tie with {a, b, c}: the smaller id "a" wins
    }
    G = rwc_graph(edges)
    assert sorted(G.nodes) == ["a", "b", "c"]
    assert sorted(G.edges) == [("a", "b"), ("b", "c")]
    assert all(not data for _, _, data in G.edges(data=True))
    assert rwc_graph({("a", "b"): 1}).number_of_nodes() == 0


def test_bisect_is_balanced_and_seeded(planted):
    """The METIS bisection is balanced, repeats for the same seed, and finds the planted camps."""
    halves = bisect(planted, seed=3)
    assert halves == bisect(planted, seed=3)
    assert set(halves.values()) == {0, 1}
    assert abs(sum(halves.values()) - len(halves) / 2) <= 0.05 * len(halves)
    camp_of_first = {halves[n] for n in planted if int(n[1:]) < 400}
    assert len(camp_of_first) == 1


def _simulated_rwc(G: nx.Graph, side: dict[str, int], absorbers: int, walks: int, seed: int) -> float:
    """Monte Carlo of the same walk: prior 1/2 per side, uniform start, step first, stop on an absorber."""
    rng = random.Random(seed)
    nodes = sorted(G)
    neighbours = {node: sorted(G[node]) for node in nodes}
    members = [[n for n in nodes if side[n] == label] for label in (0, 1)]
    absorbing = set()
    for group in members:
        absorbing.update(sorted(group, key=lambda n: (-G.degree(n), n))[:absorbers])
    counts = np.zeros((2, 2))
    for _ in range(walks):
        start = rng.randrange(2)
        at = rng.choice(members[start])
        while True:
            at = rng.choice(neighbours[at])
            if at in absorbing:
                break
        counts[start, side[at]] += 1
    given_end = counts / counts.sum(axis=0)
    return float(given_end[0, 0] * given_end[1, 1] - given_end[0, 1] * given_end[1, 0])


def _dense_rwc(G: nx.Graph, side: dict[str, int], absorbers: int) -> float:
    """The same RWC by dense linear algebra: the absorbing chain's fundamental matrix, then one step."""
    nodes = sorted(G)
    A = nx.to_numpy_array(G, nodelist=nodes, weight=None)
    P = A / A.sum(axis=1, keepdims=True)
    absorbing = set()
    for label in (0, 1):
        group = [n for n in nodes if side[n] == label]
        absorbing.update(sorted(group, key=lambda n: (-G.degree(n), n))[:absorbers])
    a = [i for i, n in enumerate(nodes) if n in absorbing]
    t = [i for i, n in enumerate(nodes) if n not in absorbing]
    sides = np.array([[side[nodes[i]] == b for b in (0, 1)] for i in a], dtype=float)
    ends = np.zeros((len(nodes), 2))
    ends[a] = sides
    ends[t] = np.linalg.solve(np.eye(len(t)) - P[np.ix_(t, t)], P[np.ix_(t, a)] @ sides)
    start_end = P @ ends
    joint = np.array(
        [0.5 * start_end[[i for i, n in enumerate(nodes) if side[n] == s]].mean(axis=0) for s in (0, 1)]
    )
    given_end = joint / joint.sum(axis=0)
    return float(given_end[0, 0] * given_end[1, 1] - given_end[0, 1] * given_end[1, 0])


def test_rwc_matches_simulated_walks_on_karate(karate):
    """Exact RWC on the karate club's club split agrees with 20k simulated walks within 0.02."""
    G, side = karate
    exact = rwc(G, side, absorbers=3)
    assert exact == pytest.approx(_simulated_rwc(G, side, absorbers=3, walks=20_000, seed=5), abs=0.02)


@pytest.mark.parametrize("absorbers", [1, 3, 10, 40])
def test_rwc_matches_dense_linear_algebra(karate, absorbers):
    """Exact RWC equals a dense numpy.linalg.solve of the same chain to 1e-9 (40 absorbers: whole sides)."""
    G, side = karate
    assert rwc(G, side, absorbers=absorbers) == pytest.approx(_dense_rwc(G, side, absorbers), abs=1e-9)


def test_rwc_matches_dense_linear_algebra_on_metis_split(planted):
    """On a larger graph with its METIS split the sparse solve still equals the dense one to 1e-9."""
    G = planted.subgraph(sorted(planted)[:300])
    G = G.subgraph(max(nx.connected_components(G), key=len)).copy()
    side = bisect(G)
    assert rwc(G, side) == pytest.approx(_dense_rwc(G, side, 10), abs=1e-9)


def test_rwc_does_not_mutate_and_rejects_disconnected_graphs(karate):
    """RWC leaves G untouched and refuses a disconnected graph or a one-sided split."""
    G, side = karate
    before = nx.to_dict_of_dicts(G)
    rwc(G, side)
    assert nx.to_dict_of_dicts(G) == before
    disconnected = nx.Graph([("a", "b"), ("c", "d")])
    with pytest.raises(ValueError, match="connected"):
        rwc(disconnected, {"a": 0, "b": 0, "c": 1, "d": 1})
    with pytest.raises(ValueError, match="two non-empty sides"):
        rwc(G, dict.fromkeys(G, 0))


@pytest.fixture(scope="module")
def planted_segregation(planted):
    """The planted graph's segregation, computed once for the tests that read it."""
    return segregation(planted)


def test_planted_camps_score_high_segregation(planted_segregation):
    """Two camps joined by a few bridges score segregation above 0.5 with z >= 3."""
    result = planted_segregation
    assert result.suppressed is None
    assert result.samples == 20
    assert result.segregation is not None
    assert result.segregation > 0.5
    assert result.z is not None
    assert result.z >= 3


def test_degree_matched_random_graph_scores_about_zero(planted):
    """A configuration-model graph with the planted degrees (simple, largest component) scores |seg| < 0.1."""
    degrees = [d for _, d in sorted(planted.degree())]
    random_graph = nx.Graph(nx.configuration_model(degrees, seed=4))
    random_graph.remove_edges_from(nx.selfloop_edges(random_graph))
    random_graph = _str_graph(random_graph.subgraph(max(nx.connected_components(random_graph), key=len)))
    result = segregation(random_graph)
    assert result.segregation is not None
    assert abs(result.segregation) < 0.1


def test_small_graph_and_star_are_suppressed():
    """Fewer than 300 users, or one hub touching over half of them, suppress the score with the reason."""
    small = segregation(_str_graph(nx.cycle_graph(120)))
    assert small.suppressed == "largest component has 120 users, fewer than 300"
    assert (small.rwc, small.segregation, small.z, small.samples) == (None, None, None, 0)
    star = segregation(_str_graph(nx.star_graph(400)))
    assert star.suppressed == "one hub touches 100% of users"
    assert star.nodes == 401
    assert star.segregation is None


def test_segregation_is_deterministic(planted, planted_segregation):
    """The same graph and seed give identical results, field for field."""
    again = segregation(planted)
    assert again == planted_segregation
    assert isinstance(again, Segregation)


def _garimella(topic: str) -> nx.Graph:
    G = nx.Graph()
    with (GARIMELLA / f"retweet_graph_{topic}_threshold_largest_CC.txt").open() as lines:
        for line in lines:
            a, b, _ = line.rstrip("\n").split(",")
            G.add_edge(a, b)
    return G


def test_garimella_beefban_pipeline_gives_finite_numbers():
    """On #beefban (1,610 users) the whole pipeline runs and every number is finite, RWC in [-1, 1]."""
    G = _garimella("beefban")
    assert G.number_of_nodes() == 1610
    result = segregation(G)
    assert result.suppressed is None
    numbers = [result.rwc, result.null_mean, result.null_sd, result.segregation, result.z]
    assert all(x is not None and math.isfinite(x) for x in numbers)
    assert result.rwc is not None
    assert -1.0 <= result.rwc <= 1.0


def test_docstring_examples_hold():
    """Every example in the module's docstrings gives the output it shows."""
    import doctest  # noqa: PLC0415 - only this test needs it

    import streams.chambers.polarization as module  # noqa: PLC0415 - the module under doctest

    failed, attempted = doctest.testmod(module, extraglobs={"nx": nx})
    assert attempted > 0
    assert failed == 0
