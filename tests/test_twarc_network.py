"""Our parsed events rebuild twarc-network's graphs of a real recording, to the numbers its own
test suite expects (see ../shared/datasets/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import networkx as nx
import pytest

from models.event import TweetEvent
from models.wire import parse_message
from support import DATASETS

RECORDING = DATASETS / "real_tweets" / "v2_twarc" / "twarc_network_tweets.jsonl"


@pytest.fixture(scope="module")
def events_and_included() -> tuple[list[TweetEvent], set[str]]:
    """The recording's tweets as our parser reads them, and the ids of the referenced tweets its
    pages include (twarc-network skips a reference whose tweet is not included).
    """
    events: list[TweetEvent] = []
    included: set[str] = set()
    with RECORDING.open("rb") as lines:
        for line in lines:
            included |= {t["id"] for t in json.loads(line).get("includes", {}).get("tweets", [])}
            events += [e for e in parse_message(line.rstrip()) if isinstance(e, TweetEvent)]
    assert len(events) == 500
    return events, included


def _references(event: TweetEvent, included: set[str]) -> Iterator[tuple[str, str | None]]:
    for tweet_id, user_id in (
        (event.retweet_of, event.retweet_of_user),
        (event.reply_to, event.reply_to_user),
        (event.quote_of, event.quote_of_user),
    ):
        if tweet_id is not None and tweet_id in included:
            yield tweet_id, user_id


def _users_graph(events: list[TweetEvent], included: set[str], *, mentions: bool) -> nx.DiGraph[str]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    for event in events:
        for _, user_id in _references(event, included):
            graph.add_edge(event.user_id, user_id)
        if mentions:
            # A retweet's first mention is its "RT @author:" prefix, which twarc-network skips.
            skip = 1 if event.retweet_of is not None else 0
            for mentioned in event.mentions[skip:]:
                graph.add_edge(event.user_id, mentioned)
    return graph


def test_users_graph_with_every_edge_type_has_the_reference_size(events_and_included) -> None:
    """Retweet, reply, quote and mention edges give 656 users and 618 edges."""
    graph = _users_graph(*events_and_included, mentions=True)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (656, 618)


def test_users_graph_of_retweets_replies_and_quotes_has_the_reference_size(events_and_included) -> None:
    """Without mentions, the users graph has 484 users and 391 edges."""
    graph = _users_graph(*events_and_included, mentions=False)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (484, 391)


def test_users_graph_components_have_the_reference_sizes(events_and_included) -> None:
    """Weak components of at least 4 users hold 469 users; of at most 15 users, 355."""
    components = [
        len(c) for c in nx.weakly_connected_components(_users_graph(*events_and_included, mentions=True))
    ]
    assert sum(n for n in components if n >= 4) == 469
    assert sum(n for n in components if n <= 15) == 355


def test_tweets_graph_has_the_reference_size(events_and_included) -> None:
    """Edges from each tweet to each tweet it references give 613 tweets."""
    events, included = events_and_included
    graph: nx.DiGraph[str] = nx.DiGraph()
    for event in events:
        for tweet_id, _ in _references(event, included):
            graph.add_edge(event.id, tweet_id)
    assert graph.number_of_nodes() == 613
