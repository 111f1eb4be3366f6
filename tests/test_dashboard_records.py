"""The core's bounded snapshots for drawing: cascade trees and the retweet layer's top users."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.records import CascadeRecord, CascadeTree, Record, UserGraph
from streams.analyzer import GRAPH_EDGES, GRAPH_USERS, TREES, Analyzer, AnalyzerConfig
from streams.cascades.forest import TREE_MAX_NODES
from synth import StreamSpec, generate

SPEC = StreamSpec(events=6_000, seed=11, rings=1)


@pytest.fixture(scope="module")
def final() -> list[Record]:
    """The final records of a generated stream, with periodic views every minute."""
    config = AnalyzerConfig.build(
        window=timedelta(hours=2), lateness=timedelta(seconds=30), every=timedelta(minutes=1), top=20
    )
    analyzer = Analyzer(config)
    records: list[Record] = []
    for event in generate(SPEC):
        records.extend(analyzer.observe(event))
    return records + analyzer.flush()


def test_trees_are_published_for_the_largest_cascades_and_are_trees(final: list[Record]) -> None:
    """The final view holds the trees of the `TREES` largest cascades: root first, every parent
    before its child, each cascade's size and no more than the bound.
    """
    at = final[-1].at
    trees = [r for r in final if isinstance(r, CascadeTree) and r.at == at]
    cascades = sorted(
        (r for r in final if isinstance(r, CascadeRecord) and r.at == at), key=lambda r: (-r.size, r.root_id)
    )
    assert [t.root_id for t in trees] == [c.root_id for c in cascades[:TREES]]
    for tree, cascade in zip(trees, cascades, strict=False):
        assert tree.size == cascade.size
        assert len(tree.nodes) == min(cascade.size, TREE_MAX_NODES)
        assert tree.truncated == (cascade.size > TREE_MAX_NODES)
        assert tree.nodes[0] == tree.root_id
        assert len(tree.parents) == len(tree.nodes) - 1
        assert all(0 <= parent <= child for child, parent in enumerate(tree.parents))
        assert len(set(tree.nodes)) == len(tree.nodes)


def test_periodic_views_publish_trees_too(final: list[Record]) -> None:
    """Trees also come with the periodic (boundary) views, not only at the end."""
    assert any(isinstance(r, CascadeTree) and r.trigger == "boundary" for r in final)


def test_the_user_graph_is_bounded_and_its_edges_join_its_users(final: list[Record]) -> None:
    """The published user graph holds at most `GRAPH_USERS` users, by rank, and `GRAPH_EDGES`
    edges, each between two of them; refreshed users carry their community and camp.
    """
    graphs = [r for r in final if isinstance(r, UserGraph)]
    assert graphs
    graph = graphs[-1]
    users = [user for user, _, _, _ in graph.users]
    assert 0 < len(users) <= GRAPH_USERS
    assert len(graph.edges) <= GRAPH_EDGES
    assert graph.active_users >= len(users)
    assert all(a in users and b in users and weight > 0 for a, b, weight in graph.edges)
    assert [score for _, score, _, _ in graph.users] == sorted(
        (s for _, s, _, _ in graph.users), reverse=True
    )
    assert any(community is not None and camp is not None for _, _, community, camp in graph.users)
