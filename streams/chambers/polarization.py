# ruff: noqa: N803, N806 - `G` is the graph, as in networkx and STYLE.md's metric signature
"""Polarization of an interaction graph: how far its users split into groups that barely interact.

Group-level scores of a given partition (`membership`, node id -> community label):

* `ei_index`, Krackhardt & Stern's (E - I) / (E + I) over tie weights, on [-1, 1];
* `label_assortativity`, Newman's categorical assortativity of the labels.

(Modularity comes with the partition, from `streams.chambers.communities`.)

Each metric takes a networkx graph, as in networkx, and has a twin ending in `_of` on index
arrays (edges as node index pairs, labels as an array, the RWC graph as a CSR `Adjacency`): the
first converts once and calls the second, and `streams.chambers.echo` calls the second with arrays it
builds once per refresh (on 300k users, networkx graphs cost more than every metric together).

The headline number, `segregation`, follows the protocol fixed in the research notes ("Our own
experiment: can a calibrated score separate controversy?"): on the window's retweet graph
(`rwc_graph`: tau = 2 retweets, unweighted, largest component) split in two by METIS (`bisect`),
the exact Random Walk Controversy of Garimella et al. 2018 (`rwc`) minus its mean over
degree-preserving rewirings, each re-split and re-scored the same way. It measures segregation
beyond chance, not controversy: on the Garimella benchmark it ranks #ff next to #nemtsov.

RWC (``P_AB = Pr[walk started in A | it ended in B]``)::

    RWC = P_XX * P_YY - P_XY * P_YX

A walk starts at a uniform node of side X or of side Y (prior 1/2 each), steps to a uniform
neighbour, and stops at the first absorber it *steps onto*, so a walk starting at an absorber
moves first. The absorbers are the `absorbers` highest-degree nodes of each side. The absorption
probabilities come from one sparse LU solve, not from simulated walks, so RWC is exact and
deterministic.

Every graph here is undirected, node ids are strings and nodes are ordered by id wherever order
matters (METIS input, degree ties). Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import igraph as ig  # type: ignore[import-untyped, unused-ignore]
import networkx as nx
import numpy as np
import numpy.typing as npt
import pymetis  # type: ignore[import-untyped, unused-ignore]
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]
from scipy.sparse import csgraph  # type: ignore[import-untyped, unused-ignore]
from scipy.sparse import linalg as sparse_linalg  # type: ignore[import-untyped, unused-ignore]

from streams.chambers.igraph_random import seeded

__all__ = [
    "Adjacency",
    "Segregation",
    "bisect",
    "ei_index",
    "ei_index_of",
    "label_assortativity",
    "label_assortativity_of",
    "largest_component",
    "leaning_entropy",
    "rwc",
    "rwc_graph",
    "segregation",
    "segregation_of",
]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Rewiring trials per edge, as igraph's default and the research notes: enough to forget the
# original wiring (the null RWC no longer moves with more trials on the Garimella graphs).
REWIRE_TRIALS_PER_EDGE = 10


def _check_membership(G: nx.Graph[str], membership: Mapping[str, int]) -> None:
    missing = sum(1 for node in G if node not in membership)
    if missing:
        raise ValueError(f"membership lacks {missing} of the graph's {G.number_of_nodes()} nodes")


def _edge_arrays(
    G: nx.Graph[str], membership: Mapping[str, int], weight: str | None
) -> tuple[Ints, Floats, Ints]:
    """`G`'s edges as node index pairs, their weights (1 without `weight`) and each node's label."""
    _check_membership(G, membership)
    index = {node: i for i, node in enumerate(G)}
    ends = np.array([(index[u], index[v]) for u, v in G.edges()], dtype=np.int64).reshape(-1, 2)
    ties = (1.0 if weight is None else float(data.get(weight, 1)) for _, _, data in G.edges(data=True))
    weights = np.fromiter(ties, dtype=np.float64, count=len(ends))
    labels = np.fromiter((membership[node] for node in G), dtype=np.int64, count=len(index))
    return ends, weights, labels


@nx.utils.not_implemented_for("directed")
def ei_index(
    G: nx.Graph[str], membership: Mapping[str, int], *, weight: str | None = "weight"
) -> float | None:
    """Krackhardt & Stern's E-I index: (external - internal) / total tie weight, on [-1, 1].

    -1 means every tie stays inside a group, +1 that every tie crosses groups.

    Parameters
    ----------
    G : networkx.Graph
        Undirected graph; not modified.
    membership : Mapping[str, int]
        Group label of every node of `G`.
    weight : str or None
        Edge attribute holding the tie weight (1 when absent); None counts every edge once.

    Returns
    -------
    float or None
        The index, or None when `G` has no tie weight at all.

    Examples
    --------
    >>> G = nx.Graph([("a", "b"), ("c", "d"), ("b", "c")])
    >>> ei_index(G, {"a": 0, "b": 0, "c": 1, "d": 1}, weight=None)
    -0.3333333333333333

    """
    return ei_index_of(*_edge_arrays(G, membership, weight))


def ei_index_of(ends: Ints, weights: Floats, labels: Ints) -> float | None:
    """`ei_index` of the undirected graph with edges `ends` (shape (m, 2), node indices), tie
    `weights`, and node i in group `labels[i]`.

    Examples
    --------
    >>> ei_index_of(np.array([[0, 1], [2, 3], [1, 2]]), np.ones(3), np.array([0, 0, 1, 1]))
    -0.3333333333333333

    """
    same = labels[ends[:, 0]] == labels[ends[:, 1]]
    # Integral weights (interaction counts) sum exactly in any order, so this equals a loop's sum.
    internal, external = float(weights[same].sum()), float(weights[~same].sum())
    total = external + internal
    return None if total == 0 else (external - internal) / total


@nx.utils.not_implemented_for("directed")
def label_assortativity(G: nx.Graph[str], membership: Mapping[str, int]) -> float | None:
    """Newman's categorical assortativity of the group labels along the (unweighted) edges.

    ``r = (sum_i e_ii - sum_i a_i b_i) / (1 - sum_i a_i b_i)``, where ``e_ij`` is the fraction of
    edge ends joining label i to label j (each edge counted in both directions, a self-loop once,
    as `networkx.attribute_assortativity_coefficient` does).

    Parameters
    ----------
    G : networkx.Graph
        Undirected graph; not modified. Edge weights are ignored.
    membership : Mapping[str, int]
        Group label of every node of `G`.

    Returns
    -------
    float or None
        r on [-1, 1], or None when undefined: no edges, or every edge inside one single group.

    Examples
    --------
    >>> G = nx.Graph([("a", "b"), ("c", "d"), ("b", "c")])
    >>> round(label_assortativity(G, {"a": 0, "b": 0, "c": 1, "d": 1}), 6)
    0.333333

    """
    ends, _, labels = _edge_arrays(G, membership, None)
    return label_assortativity_of(ends, labels)


def label_assortativity_of(ends: Ints, labels: Ints) -> float | None:
    """`label_assortativity` of the undirected graph with edges `ends` (shape (m, 2), node
    indices) and node i labelled `labels[i]`.

    Examples
    --------
    >>> round(label_assortativity_of(np.array([[0, 1], [2, 3], [1, 2]]), np.array([0, 0, 1, 1])), 6)
    0.333333

    """
    distinct, compact = np.unique(labels, return_inverse=True)
    left, right = compact[ends[:, 0]], compact[ends[:, 1]]
    loop = ends[:, 0] == ends[:, 1]
    # The mixing matrix counts an edge from both ends and a loop once; it is symmetric, so each
    # label's row and column sums are equal: its edge ends. Python ints from here, so the
    # divisions round as the counting loop's did.
    loops = int(loop.sum())
    total = 2 * len(ends) - loops
    if total == 0:
        return None
    inside = 2 * int(np.sum(left == right)) - loops
    k = distinct.size
    label_ends = np.bincount(left, minlength=k) + np.bincount(right[~loop], minlength=k)
    trace = inside / total
    chance = int(np.dot(label_ends, label_ends)) / total**2
    # 1 - chance is 0 exactly when one label holds every edge end: r is 0/0 there.
    return None if math.isclose(chance, 1.0) else (trace - chance) / (1.0 - chance)


def leaning_entropy(shares: Sequence[float]) -> float:
    """Shannon entropy, in bits, of a distribution over camps (e.g. a hashtag's users per camp).

    `shares` are counts or fractions; they are normalised. 0 means one camp only, 1 an even split
    between two camps, log2(k) an even split between k. 0.0 when there is no mass at all.

    Examples
    --------
    >>> leaning_entropy([30, 30])
    1.0
    >>> leaning_entropy([5, 0])
    0.0

    """
    if any(share < 0 for share in shares):
        raise ValueError("shares must not be negative")
    total = math.fsum(shares)
    if total == 0:
        return 0.0
    # `+ 0.0` turns the -0.0 of a single camp into 0.0.
    return -math.fsum(p * math.log2(p) for p in (share / total for share in shares) if p > 0) + 0.0


@dataclass(frozen=True, slots=True)
class Adjacency:
    """A simple undirected graph on nodes 0 .. n-1 in CSR form, each node's neighbours sorted
    (METIS's answer depends on their order).
    """

    indptr: Ints
    indices: Ints

    @classmethod
    def of(cls, n: int, ends: Ints) -> Adjacency:
        """The simple graph on n nodes with the edges `ends` (shape (m, 2)); loops and repeats dropped."""
        keep = ends[:, 0] != ends[:, 1]
        rows = np.concatenate([ends[keep, 0], ends[keep, 1]])
        cols = np.concatenate([ends[keep, 1], ends[keep, 0]])
        matrix = sparse.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
        matrix.sum_duplicates()  # also sorts each row's neighbours
        return cls(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64))

    @property
    def n(self) -> int:
        """The number of nodes."""
        return self.indptr.size - 1

    @property
    def degrees(self) -> Ints:
        """Each node's number of neighbours."""
        return np.diff(self.indptr)

    def ends(self) -> Ints:
        """Each edge once, (lower node, higher node), in CSR order."""
        rows = np.repeat(np.arange(self.n, dtype=np.int64), self.degrees)
        upper = rows < self.indices
        return np.column_stack([rows[upper], self.indices[upper]])

    def matrix(self) -> sparse.csr_matrix:
        """The adjacency matrix, ones as floats."""
        return sparse.csr_matrix(
            (np.ones(self.indices.size), self.indices, self.indptr), shape=(self.n, self.n)
        )

    def components(self) -> Ints:
        """Each node's connected component, numbered in order of each component's first node."""
        _, component = csgraph.connected_components(self.matrix(), directed=False)
        return np.asarray(component, dtype=np.int64)

    def subgraph(self, nodes: Ints) -> Adjacency:
        """The graph induced by `nodes` (ascending), renumbered 0 .. k-1 in their order."""
        sub = self.matrix()[nodes][:, nodes].tocsr()
        sub.sort_indices()
        return Adjacency(sub.indptr.astype(np.int64), sub.indices.astype(np.int64))


def _largest(graph: Adjacency) -> Ints:
    """The nodes, ascending, of `graph`'s largest component; ties to the one holding the smallest node."""
    component = graph.components()
    # Components are numbered in order of their first node, and argmax takes the first maximum.
    return np.flatnonzero(component == np.argmax(np.bincount(component)))


def largest_component(n: int, ends: Ints) -> tuple[Ints, Adjacency]:
    """The largest connected component of the graph on n nodes with the edges `ends` (shape (m, 2)),
    among equally large ones the one holding the smallest node; isolated nodes never count.

    Returns its nodes, ascending, and its `Adjacency` on them renumbered 0 .. k-1 in that order;
    both empty when there is no edge.
    """
    graph = Adjacency.of(n, ends)
    if graph.indices.size == 0:
        # Every component is one node: no largest one with an edge.
        return np.zeros(0, dtype=np.int64), Adjacency.of(0, np.zeros((0, 2), dtype=np.int64))
    nodes = _largest(graph)
    return nodes, graph.subgraph(nodes)


def rwc_graph(edges: Mapping[tuple[str, str], int], *, tau: int = 2) -> nx.Graph[str]:
    """The window's retweet graph for RWC, as the research notes fix it (Garimella et al.'s).

    Undirected and unweighted: users u and v are joined when their retweets of each other (both
    directions summed) number at least `tau`. Only the largest connected component is kept; among
    equally large ones, the one holding the smallest node id. Self-retweets are dropped.
    (`largest_component` of the pairs reaching `tau` is the same on index arrays.)

    Parameters
    ----------
    edges : Mapping[tuple[str, str], int]
        Retweet counts per (retweeter, retweeted) pair, or per unordered pair.
    tau : int
        Minimum retweets for an edge.

    Returns
    -------
    networkx.Graph
        A new graph, nodes added in id order; empty when no pair reaches `tau`.

    Examples
    --------
    >>> sorted(rwc_graph({("a", "b"): 1, ("b", "a"): 1, ("c", "d"): 1, ("x", "y"): 5}).edges)
    [('a', 'b')]

    """
    users = sorted({user for pair in edges for user in pair})
    index = {user: i for i, user in enumerate(users)}
    pairs: Counter[tuple[int, int]] = Counter()
    for (u, v), count in edges.items():
        if u != v:
            pairs[min(index[u], index[v]), max(index[u], index[v])] += count
    strong = np.array([pair for pair, count in pairs.items() if count >= tau], dtype=np.int64).reshape(-1, 2)
    nodes, graph = largest_component(len(users), strong)
    names = [users[i] for i in nodes.tolist()]
    G: nx.Graph[str] = nx.Graph()
    G.add_nodes_from(names)
    G.add_edges_from((names[u], names[v]) for u, v in graph.ends().tolist())
    return G


def _indexed(G: nx.Graph[str]) -> tuple[tuple[str, ...], Adjacency]:
    """`G`'s nodes as strings in id order, and its simple adjacency on them in that order."""
    named = nx.relabel_nodes(G, str) if any(not isinstance(node, str) for node in G) else G
    nodes = tuple(sorted(named))
    index = {node: i for i, node in enumerate(nodes)}
    ends = np.array([(index[u], index[v]) for u, v in named.edges()], dtype=np.int64).reshape(-1, 2)
    return nodes, Adjacency.of(len(nodes), ends)


def _bisect(graph: Adjacency, seed: int) -> Ints:
    if graph.n < 2 or graph.indices.size == 0:
        # METIS rejects graphs without edges; there is nothing to cut anyway.
        return np.zeros(graph.n, dtype=np.int64)
    # The notes' `part_graph(2, xadj=..., adjncy=..., ...)` spelled the way pymetis 2025.2 asks
    # (xadj/adjncy keywords are deprecated); it gives the same split.
    _, parts = pymetis.part_graph(
        2, adjacency=pymetis.CSRAdjacency(graph.indptr, graph.indices), options=pymetis.Options(seed=seed)
    )
    return np.asarray(parts, dtype=np.int64)


@nx.utils.not_implemented_for("directed")
def bisect(G: nx.Graph[str], *, seed: int = 0) -> dict[str, int]:
    """A balanced two-way METIS split of `G` (Garimella et al.'s partition for RWC).

    Calls ``pymetis.part_graph(2, <CSR adjacency>, options=pymetis.Options(seed=seed))`` on
    `G`, unweighted and without self-loops, nodes in id order, each node's neighbours in id order,
    so the same graph and seed always give the same split.

    Parameters
    ----------
    G : networkx.Graph
        Undirected graph; not modified.
    seed : int
        METIS's random seed.

    Returns
    -------
    dict[str, int]
        Side 0 or 1 of every node (all 0 when `G` has no edges).

    Examples
    --------
    >>> halves = bisect(nx.barbell_graph(5, 0))
    >>> len({halves[i] for i in range(5)}), len({halves[i] for i in range(5, 10)}), len(set(halves.values()))
    (1, 1, 2)

    """
    nodes, graph = _indexed(G)
    by_id = dict(zip(nodes, _bisect(graph, seed).tolist(), strict=True))
    return {node: by_id[str(node)] for node in G}


def _rwc(graph: Adjacency, side: Ints, absorbers: int) -> float:
    n = graph.n
    degrees = graph.degrees
    if n < 2 or np.any(degrees == 0):
        raise ValueError("RWC needs a connected graph of at least 2 nodes")
    if graph.components().max() != 0:
        raise ValueError("RWC needs a connected graph: keep its largest component (rwc_graph does)")
    if absorbers < 1:
        raise ValueError("RWC needs at least one absorber per side")
    # Absorbers of each side: highest degree first, ties by node index (= id order).
    absorber_side = np.full(n, -1, dtype=np.int64)
    members = []
    for label in (0, 1):
        nodes = np.flatnonzero(side == label)
        if nodes.size == 0:
            raise ValueError("RWC needs two non-empty sides")
        members.append(nodes)
        top = nodes[np.lexsort((nodes, -degrees[nodes]))[:absorbers]]
        absorber_side[top] = label
    # One step of the walk: P = D^-1 A.
    rows = np.repeat(np.arange(n), degrees)
    step = sparse.csr_matrix((1.0 / degrees[rows], graph.indices, graph.indptr), shape=(n, n))
    absorbed_in = sparse.csr_matrix(
        (
            np.ones(int(np.sum(absorber_side >= 0))),
            (np.flatnonzero(absorber_side >= 0), absorber_side[absorber_side >= 0]),
        ),
        shape=(n, 2),
    )
    transient = np.flatnonzero(absorber_side < 0)
    # ends[v, b]: probability that a walk standing on v (before checking it) ends in side b.
    ends = absorbed_in.toarray()
    if transient.size:
        # (I - Q) H = R multiplied through by the transient degrees: (D - A) H = A_absorbers, the
        # grounded Laplacian, symmetric and diagonally dominant. So it needs no pivoting, and a
        # minimum-degree ordering of A + A^T keeps the LU small: on a rewired #ukraine (5.5k
        # nodes) 77k non-zeros and 15 ms, against 915k and 64 ms with splu's default COLAMD.
        adjacency = graph.matrix()
        grounded = sparse.diags(degrees[transient].astype(np.float64)) - adjacency[transient][:, transient]
        into = (adjacency[transient] @ absorbed_in).toarray()
        lu = sparse_linalg.splu(
            grounded.tocsc(),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
        ends[transient] = lu.solve(into)
    # A walk moves before it checks, so a start on v ends as one step from v does.
    after_first = step @ ends
    # joint[a, b] = Pr[start in side a, end in side b]; start uniform in a side, each side 1/2.
    joint = np.array([0.5 * after_first[nodes].mean(axis=0) for nodes in members])
    given_end = joint / joint.sum(axis=0)
    return float(given_end[0, 0] * given_end[1, 1] - given_end[0, 1] * given_end[1, 0])


@nx.utils.not_implemented_for("directed")
def rwc(G: nx.Graph[str], side: Mapping[str, int], *, absorbers: int = 10) -> float:
    """Garimella et al.'s Random Walk Controversy of a two-way split, computed exactly.

    ``RWC = P_XX * P_YY - P_XY * P_YX`` with ``P_AB = Pr[start in A | end in B]``: a walk starts
    at a uniform node of side X or Y (prior 1/2 each), steps to uniform neighbours (edges
    unweighted, self-loops ignored) and stops on the first of the `absorbers` highest-degree nodes
    of either side it steps onto (ties by node id); it always moves first, even from an absorber.
    The absorption probabilities solve ``(I - Q) H = R`` (Q: transient to transient steps, R: one
    column per side of steps into its absorbers) with one sparse LU factorisation.

    Parameters
    ----------
    G : networkx.Graph
        Connected undirected graph with at least 2 nodes; not modified.
    side : Mapping[str, int]
        Side 0 or 1 of every node; both sides non-empty.
    absorbers : int
        Absorbers per side (all of a side's nodes when it has fewer).

    Returns
    -------
    float
        RWC on [-1, 1]: near 1 when walks rarely cross sides, near 0 when the split means nothing.

    Raises
    ------
    ValueError
        If `G` is not connected, a side is empty or a label is not 0/1.

    Examples
    --------
    >>> G = nx.barbell_graph(5, 0)
    >>> round(rwc(G, {i: int(i >= 5) for i in G}, absorbers=1), 4)
    0.92

    """
    _check_membership(G, side)
    if any(side[node] not in {0, 1} for node in G):
        raise ValueError("sides must be labelled 0 and 1")
    named = {str(node): node for node in G}
    nodes, graph = _indexed(G)
    labels = np.array([side[named[node]] for node in nodes], dtype=np.int64)
    return _rwc(graph, labels, absorbers)


def _null_rwc(n: int, rewired: Ints, seed: int, absorbers: int) -> float:
    """RWC of one rewired graph's largest component, re-split by METIS with `seed`."""
    graph = Adjacency.of(n, rewired)
    sub = graph.subgraph(_largest(graph))
    return _rwc(sub, _bisect(sub, seed), absorbers)


def _rewire(graph: ig.Graph, seed: int) -> Ints:
    """The edges of igraph's degree-preserving simple rewiring of a copy of `graph` (10 trials per
    edge), drawn from `seed`.
    """
    g = graph.copy()  # a C-level copy: cheaper than rebuilding the graph from its edges
    with seeded(seed):
        g.rewire(n=REWIRE_TRIALS_PER_EDGE * g.ecount(), allowed_edge_types="simple")
    # Flattened by chain: a quarter of the time np.array takes on the list of tuples.
    flat = itertools.chain.from_iterable(g.get_edgelist())
    return np.fromiter(flat, dtype=np.int64, count=2 * g.ecount()).reshape(-1, 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Segregation:
    """RWC of the METIS split against its degree-preserving null: segregation beyond chance.

    All scores are None when the graph was not judged (`suppressed` says why).
    """

    rwc: float | None
    """Observed RWC of `bisect(G, seed=seed)`."""
    null_mean: float | None
    """Mean RWC over the rewired nulls."""
    null_sd: float | None
    """Sample standard deviation (ddof=1) of the null RWCs; None with fewer than 2 samples."""
    segregation: float | None
    """The headline: rwc - null_mean, "echo-chamber strength beyond chance"."""
    z: float | None
    """(rwc - null_mean) / null_sd: significance only (it grows with the graph); None if sd is 0."""
    nodes: int
    edges: int
    suppressed: str | None
    """Why the graph was not judged, or None."""
    samples: int
    """Null samples scored (0 when suppressed)."""


@nx.utils.not_implemented_for("directed")
def segregation(  # noqa: PLR0913 - the protocol's knobs, all keyword-only
    G: nx.Graph[str],
    *,
    seed: int = 0,
    samples: int = 20,
    absorbers: int = 10,
    min_nodes: int = 300,
    max_hub_share: float = 0.5,
) -> Segregation:
    """Null-calibrated RWC of `G`, the window's `rwc_graph`: RWC minus its mean under rewiring.

    Observed: ``rwc(G, bisect(G, seed=seed))``. Null sample i (i = 0 .. samples-1): igraph's
    degree-preserving simple rewiring of `G` with 10 trials per edge, drawn from
    ``random.Random(seed + i)``; its largest component, split by ``bisect(seed=seed + i)`` and
    scored by `rwc`. The same graph and seed always give the same result. Self-loops are ignored
    (as `rwc_graph` never makes any), in the counts too. `segregation_of` is the same on an
    `Adjacency`.

    Not judged (scores None, reason in `suppressed`) when `G` has fewer than `min_nodes` nodes, or
    when its highest-degree node touches more than `max_hub_share` of the nodes (a star: balanced
    METIS halves of a star mean nothing).

    Parameters
    ----------
    G : networkx.Graph
        Connected, undirected; used unweighted; not modified.
    seed : int
        Seed of the observed split; null i uses seed + i.
    samples : int
        Rewired null graphs.
    absorbers : int
        RWC absorbers per side.
    min_nodes : int
        Smallest graph judged.
    max_hub_share : float
        Largest share of nodes one node may touch.

    Returns
    -------
    Segregation

    Examples
    --------
    >>> segregation(nx.path_graph(["a", "b", "c"])).suppressed
    'largest component has 3 users, fewer than 300'

    """
    _, graph = _indexed(G)
    return segregation_of(
        graph,
        seed=seed,
        samples=samples,
        absorbers=absorbers,
        min_nodes=min_nodes,
        max_hub_share=max_hub_share,
    )


def segregation_of(  # noqa: PLR0913 - the protocol's knobs, all keyword-only
    graph: Adjacency,
    *,
    seed: int = 0,
    samples: int = 20,
    absorbers: int = 10,
    min_nodes: int = 300,
    max_hub_share: float = 0.5,
) -> Segregation:
    """`segregation` of the graph in CSR form (`largest_component` gives the window's).

    Examples
    --------
    >>> segregation_of(Adjacency.of(3, np.array([[0, 1], [1, 2]]))).suppressed
    'largest component has 3 users, fewer than 300'

    """
    nodes, edges = graph.n, graph.indices.size // 2

    def suppress(reason: str) -> Segregation:
        return Segregation(
            rwc=None,
            null_mean=None,
            null_sd=None,
            segregation=None,
            z=None,
            nodes=nodes,
            edges=edges,
            suppressed=reason,
            samples=0,
        )

    # Below 2 users there is no split at all, whatever `min_nodes` says.
    if nodes < max(min_nodes, 2):
        return suppress(f"largest component has {nodes} users, fewer than {max(min_nodes, 2)}")
    hub_share = int(graph.degrees.max()) / nodes
    if hub_share > max_hub_share:
        return suppress(f"one hub touches {hub_share:.0%} of users")
    if graph.components().max() != 0:
        raise ValueError("segregation needs a connected graph: keep its largest component (rwc_graph does)")

    observed = _rwc(graph, _bisect(graph, seed), absorbers)
    base = ig.Graph(n=nodes)
    base.add_edges(graph.ends())  # built once, copied for each null
    # Serial on purpose: a 2-thread pool scoring each null while this thread rewired the next
    # (results identical) did not pay on the 2-core machine. Medians, serial -> 2 threads, quiet
    # machine (4 runs): #beefban 0.17 -> 0.20 s, #ukraine 1.01 -> 1.03 s, #gunsense 1.41 -> 1.48 s;
    # under load from other jobs (6 runs): #gunsense 2.74 -> 2.52 s, #netanyahu 3.54 -> 3.35 s.
    # About two thirds of the time is igraph's rewiring, which calls back into Python's `random`
    # for every draw and so holds the GIL; the METIS splits and LU solves are too short to hide it.
    nulls = [_null_rwc(nodes, _rewire(base, seed + i), seed + i, absorbers) for i in range(samples)]

    null_mean = float(np.mean(nulls)) if nulls else None
    null_sd = float(np.std(nulls, ddof=1)) if len(nulls) >= 2 else None
    beyond = None if null_mean is None else observed - null_mean
    z = None if beyond is None or not null_sd else beyond / null_sd
    return Segregation(
        rwc=observed,
        null_mean=null_mean,
        null_sd=null_sd,
        segregation=beyond,
        z=z,
        nodes=nodes,
        edges=edges,
        suppressed=None,
        samples=len(nulls),
    )
