"""PageRank on integer-indexed arrays: networkx's result, without building a networkx graph.

The influence ranking needs PageRank over the window's retweet graph at every emission; building
a networkx graph of a few hundred thousand users for it cost more than the iteration itself.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse  # type: ignore[import-untyped, unused-ignore]

Floats = np.ndarray[Any, np.dtype[np.float64]]
Indices = np.ndarray[Any, np.dtype[np.intp]]


def pagerank(  # noqa: PLR0913 - the graph as three arrays and its size, then networkx's parameters
    sources: Indices,
    targets: Indices,
    weights: Floats,
    count: int,
    *,
    alpha: float,
    tol: float,
    max_iter: int,
) -> Floats:
    """PageRank of the digraph on nodes `0 .. count - 1` with the distinct edges
    `sources[k] -> targets[k]` of weight `weights[k] > 0`: power iteration from the uniform vector,
    teleporting uniformly, a dangling node's rank spread uniformly, until the L1 change is below
    `count * tol` (networkx's per-node `tol`).

    It is networkx's `pagerank(G, alpha, tol=tol, max_iter=max_iter)`, with G's nodes in index
    order, to the last bit: the same floating-point operations in the same order, without
    building G. Raises `nx.PowerIterationFailedConvergence` after `max_iter` iterations, as it does.

    >>> ring = np.array([0, 1, 2])
    >>> pagerank(ring, (ring + 1) % 3, np.ones(3), 3, alpha=0.85, tol=1e-12, max_iter=100).tolist()
    [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]
    """
    # Row-stochastic transitions: each weight divided by its source's out-weight, one product
    # per entry as networkx's product with the diagonal matrix of inverses computes it.
    transitions = sparse.csr_array((weights, (sources, targets)), shape=(count, count))
    out_weight = transitions.sum(axis=1)
    linked = out_weight != 0
    dangling = np.flatnonzero(~linked)
    inverse = np.zeros(count)
    inverse[linked] = 1.0 / out_weight[linked]
    transitions.data *= np.repeat(inverse, np.diff(transitions.indptr))
    uniform = np.repeat(1.0 / count, count)
    rank: Floats = uniform
    for _ in range(max_iter):
        previous = rank
        # `rank @ transitions` adds each node's inflow in source order, as networkx's does.
        spilled = _sum_left_to_right(rank[dangling])
        rank = alpha * (rank @ transitions + spilled * uniform) + (1 - alpha) * uniform
        if np.absolute(rank - previous).sum() < count * tol:
            return rank
    raise nx.PowerIterationFailedConvergence(max_iter)


def _sum_left_to_right(values: Floats) -> float:
    # networkx adds the dangling nodes' rank with Python's `sum`, one after another; numpy's
    # `sum` adds pairwise and could differ in the last bit. A cumulative sum adds in order.
    return float(np.cumsum(values)[-1]) if len(values) else 0.0
