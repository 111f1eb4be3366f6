"""The window's retweet graph as a networkx graph, with each user's influence, for Gephi."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import networkx as nx

from streams.influence.scoring import Ranking


def retweet_graph(
    edges: Mapping[tuple[str, str], int],
    followers: Mapping[str, tuple[int, datetime]],
    retweets_received: Mapping[str, int],
    pagerank: Mapping[str, float],
    ranking: Ranking,
) -> nx.DiGraph[str]:
    """A new graph: edges retweeter -> attributed parent user, `weight` = retweets. Node
    attributes `followers` (when known), `retweets_received`, `pagerank`, `score`, `rank`: plain
    ints and floats, ready for `nx.write_graphml` / `nx.write_gexf`. Nodes come in id order.
    """

    def attributes(user: str) -> dict[str, Any]:
        known = followers.get(user)
        attrs: dict[str, Any] = {} if known is None else {"followers": known[0]}
        attrs["retweets_received"] = retweets_received.get(user, 0)
        attrs["pagerank"] = pagerank[user]
        attrs["score"] = ranking.score_of(user)
        attrs["rank"] = ranking.rank[user]
        return attrs

    graph: nx.DiGraph[str] = nx.DiGraph()
    users = sorted({user for edge in edges for user in edge})
    graph.add_nodes_from((user, attributes(user)) for user in users)
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in edges.items())
    return graph
