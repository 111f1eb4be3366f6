"""igraph's random choices depend on the seed of the block alone, and the default comes back after."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import igraph  # type: ignore[import-untyped, unused-ignore]

from streams.chambers.igraph_random import seeded


def _random_graph(seed: int) -> list[tuple[int, int]]:
    with seeded(seed):
        return list(igraph.Graph.Erdos_Renyi(n=40, m=60).get_edgelist())


def test_a_seed_gives_the_same_choices_from_any_thread_and_the_default_generator_comes_back() -> None:
    """The same seed draws the same graph, also from threads drawing at once; outside a block igraph
    draws from Python's `random` module again.
    """
    serial = [_random_graph(seed) for seed in range(20)]
    assert serial[0] == _random_graph(0)
    assert serial[0] != serial[1]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(_random_graph, range(20))) == serial
    random.seed(11)
    outside = igraph.Graph.Erdos_Renyi(n=40, m=60).get_edgelist()
    random.seed(11)
    assert igraph.Graph.Erdos_Renyi(n=40, m=60).get_edgelist() == outside
