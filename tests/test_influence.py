"""Engaged influence: incremental counters, retweet graph and PageRank against from-scratch oracles,
rank correlations against scipy, the million-follower thesis on a planted example, round trips.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from models.event import Kind, TweetEvent
from models.records import InfluenceRecord, Trigger
from streams.cascades.tree import Cascade
from streams.influence.pagerank import pagerank
from streams.influence.tracker import PAGERANK_L1_TOL, PAGERANK_MAX_ITER, Influence, InfluenceConfig

t0 = datetime(2024, 1, 1, tzinfo=UTC)

# Deterministic: the same examples on every run and machine, and no example database.
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=150)

USERS = ("a", "b", "c", "d", "e", "f")


def config(span_s: int = 3600) -> InfluenceConfig:
    """A config with the default parameters and a span of `span_s` seconds."""
    return InfluenceConfig(span=timedelta(seconds=span_s), lateness=timedelta(seconds=5))


@dataclass
class Feed:
    """Feeds tweets to an `Influence` as the analyzer would: the event with its attributed parent's
    user, then, for originals and retweets, the cascade's new state (kept in real `Cascade`s).
    """

    influence: Influence
    fed: list[tuple[TweetEvent, str | None]] = field(default_factory=list)
    authors: dict[str, str] = field(default_factory=dict)
    cascades: dict[str, Cascade] = field(default_factory=dict)

    def tweet(self, event: TweetEvent, *, parent_id: str | None = None) -> None:
        """Observe `event`; a retweet hangs under `parent_id`, or under its root when None."""
        parent_user = None if parent_id is None else self.authors[parent_id]
        self.influence.observe(event, parent_user_id=parent_user)
        self.fed.append((event, parent_user))
        self.authors[event.id] = event.user_id
        if event.kind is Kind.ORIGINAL:
            cascade = self.cascades[event.id] = Cascade(event.id, event.user_id, event.at)
        elif event.kind is Kind.RETWEET and event.retweet_of in self.cascades:
            cascade = self.cascades[event.retweet_of]
            cascade.add(event.id, parent_id or cascade.root_id, event.at)
        else:
            return
        self.influence.observe_cascade(
            cascade.root_id, cascade.root_user_id, cascade.root_at, cascade.size, cascade.structural_virality
        )

    def play(self, ops: list[Op]) -> Iterator[datetime]:
        """Apply `ops` in order, yielding each advance's end once the window has moved there."""
        for op, value, parent_id in ops:
            if op == "tweet":
                self.tweet(value, parent_id=parent_id)
            else:
                self.influence.advance(value)
                yield value

    def retweet(
        self, tid: str, user: str, of: str, at: datetime, *, via: str | None = None, **kw: Any
    ) -> None:
        """Observe `user` retweeting tweet `of` (an original) through tweet `via`."""
        event = TweetEvent(id=tid, user_id=user, at=at, retweet_of=of, retweet_of_user=self.authors[of], **kw)
        self.tweet(event, parent_id=via)


Op = tuple[str, Any, Any]
"""("tweet", event, parent tweet id or None) or ("advance", end, None)."""


@st.composite
def streams(draw: st.DrawFn) -> list[Op]:
    """Draw tweets in event-time order, with window advances interleaved.

    Users and follower counts come from small sets, so interactions, self-interactions and ties
    repeat. The window's end moves forward by random steps: usually behind the latest tweet, but
    sometimes past tweets not yet seen, which then come late (admitted, or dropped when too old).
    """
    ops: list[Op] = []
    now = end = 0  # seconds after t0
    now_us = 0  # microseconds after `now`: ties within a millisecond, still in time order
    tweets: list[tuple[str, str, str | None]] = []  # (id, author, root id for originals/retweets)
    for i in range(draw(st.integers(1, 40))):
        step = draw(st.integers(0, 4))
        now, now_us = now + step, (0 if step else now_us) + draw(st.integers(0, 2))
        at = t0 + timedelta(seconds=now, microseconds=now_us)
        base: dict[str, Any] = {
            "id": f"t{i}",
            "user_id": draw(st.sampled_from(USERS)),
            "at": at,
            "followers": draw(st.none() | st.integers(0, 5)),
            "mentions": tuple(draw(st.lists(st.sampled_from(USERS), max_size=3))),
        }
        kind = draw(st.sampled_from(Kind)) if tweets else Kind.ORIGINAL
        parent_id = None
        if kind is Kind.ORIGINAL:
            root = base["id"]
        else:
            target_id, target_user, target_root = draw(st.sampled_from(tweets))
            if kind is Kind.RETWEET and target_root is not None:
                candidates = [t for t, _, r in tweets if r == target_root]
                parent_id = draw(st.none() | st.sampled_from(candidates))
                base |= {
                    "retweet_of": target_root,
                    "retweet_of_user": {t: u for t, u, _ in tweets}[target_root],
                }
                root = target_root
            elif kind is Kind.QUOTE:
                base |= {"quote_of": target_id, "quote_of_user": target_user}
                root = None
            else:
                base |= {"reply_to": target_id, "reply_to_user": target_user}
                root = None
        tweets.append((base["id"], base["user_id"], root))
        ops.append(("tweet", TweetEvent(**base), parent_id))
        if draw(st.booleans()):
            end = max(end, now + draw(st.integers(-6, 3)))
            ops.append(("advance", t0 + timedelta(seconds=end), None))
    ops.append(("advance", t0 + timedelta(seconds=now + 100), None))  # past everything: empties it
    return ops


@dataclass
class Expected:
    """Everything `Influence` should report at one window end, computed from scratch."""

    users: dict[str, dict[str, Any]]
    graph: nx.DiGraph[str]


def scratch_interactions(
    feed: Feed, start: datetime, end: datetime
) -> tuple[dict[str, Counter[str]], set[str], dict[str, int], nx.DiGraph[str]]:
    """Count, from scratch, what the fed tweets with `at` in `[start, end)` credit: counts by
    interaction, users seen, latest known followers, and the weighted retweet graph.
    """
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("rt", "qt", "re", "at")}
    active: set[str] = set()
    followers: dict[str, int] = {}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for event, parent_user in feed.fed:  # in event-time order, so later followers overwrite
        if not start <= event.at < end:
            continue
        author = event.user_id
        active.add(author)
        if event.followers is not None:
            followers[author] = event.followers
        targets: list[tuple[str, str | None]] = []
        if event.retweet_of is not None:
            targets.append(("rt", event.retweet_of_user))
            parent = parent_user or event.retweet_of_user
            if parent is not None and parent != author:
                active.add(parent)
                weight = graph[author][parent]["weight"] + 1 if graph.has_edge(author, parent) else 1
                graph.add_edge(author, parent, weight=weight)
        else:
            targets += [("qt", event.quote_of_user), ("re", event.reply_to_user)]
            targets += [("at", m) for m in set(event.mentions) if m != event.reply_to_user]
        for code, user in targets:
            if user is not None and user != author:
                counts[code][user] += 1
                active.add(user)
    return counts, active, followers, graph


def scratch(feed: Feed, start: datetime, end: datetime) -> Expected:
    """Count the fed tweets with `at` in `[start, end)` and the cascades rooted there, from scratch."""
    counts, active, followers, graph = scratch_interactions(feed, start, end)
    roots: dict[str, list[Cascade]] = {}
    for cascade in feed.cascades.values():
        if start <= cascade.root_at < end:
            roots.setdefault(cascade.root_user_id, []).append(cascade)
            active.add(cascade.root_user_id)
    users = {}
    for user in active:
        mine = roots.get(user, [])
        spread = [c.structural_virality for c in mine if c.size >= 2]
        users[user] = {
            "followers": followers.get(user),
            "retweets_received": counts["rt"][user],
            "quotes_received": counts["qt"][user],
            "replies_received": counts["re"][user],
            "mentions_received": counts["at"][user],
            "cascades_started": sum(c.size >= 2 for c in mine),
            "mean_cascade_size": sum(c.size for c in mine) / len(mine) if mine else None,
            "mean_structural_virality": sum(spread) / len(spread) if spread else None,  # type: ignore[arg-type]
        }
    return Expected(users, graph)


_COUNTER_FIELDS = (
    "followers",
    "retweets_received",
    "quotes_received",
    "replies_received",
    "mentions_received",
    "cascades_started",
    "mean_cascade_size",
    "mean_structural_virality",
)


def reported(record: InfluenceRecord) -> dict[str, Any]:
    """The record's counters, in the shape of `Expected.users`."""
    return {name: getattr(record, name) for name in _COUNTER_FIELDS}


def run(ops: list[Op], span_s: int, influence: Influence | None = None) -> tuple[Feed, list[Any]]:
    """Apply `ops`; return the feed and, after every advance, the records and summary."""
    feed = Feed(influence or Influence(config(span_s)))
    return feed, [feed.influence.records(end, Trigger.BOUNDARY) for end in feed.play(ops)]


@deterministic
@given(ops=streams(), span_s=st.integers(1, 20))
def test_counters_graph_and_pagerank_match_a_from_scratch_count_after_every_advance(
    ops: list[Op], span_s: int
) -> None:
    """After every advance, each active user's counters, the retweet graph and PageRank equal a
    from-scratch computation over the tweets in `[end - span, end)`.
    """
    influence = Influence(config(span_s))
    feed = Feed(influence)
    for value in feed.play(ops):
        expected = scratch(feed, value - timedelta(seconds=span_s), value)
        records, summary = influence.records(value, Trigger.BOUNDARY)
        assert summary.active_users == len(expected.users)
        assert {r.user_id: reported(r) for r in records} == {
            user: {k: pytest.approx(v) if isinstance(v, float) else v for k, v in row.items()}
            for user, row in expected.users.items()
        }
        graph = influence.retweet_graph()
        assert sorted(graph.nodes) == sorted(expected.graph.nodes)
        assert sorted(graph.edges(data="weight")) == sorted(expected.graph.edges(data="weight"))
        truth = nx.pagerank(expected.graph, tol=1e-14, max_iter=10_000) if len(expected.graph) else {}
        for record in records:
            assert record.pagerank == pytest.approx(truth.get(record.user_id, 0.0), rel=1e-6, abs=1e-12)
        assert [r.rank for r in records] == list(range(1, len(records) + 1))
        assert [(-r.score, r.user_id) for r in records] == sorted((-r.score, r.user_id) for r in records)
    assert influence.records(t0, Trigger.END)[1].active_users == 0


@deterministic
@given(ops=streams(), span_s=st.integers(1, 20))
def test_pagerank_in_records_is_networkx_pagerank_of_the_retweet_graph_to_the_last_bit(
    ops: list[Op], span_s: int
) -> None:
    """After every advance, each record's PageRank is exactly the float networkx's `pagerank` gives
    on the exported retweet graph with the module's parameters (0 off the graph).
    """
    influence = Influence(config(span_s))
    feed = Feed(influence)
    for value in feed.play(ops):
        records, _ = influence.records(value, Trigger.BOUNDARY)
        graph = influence.retweet_graph()
        tol = PAGERANK_L1_TOL / max(len(graph), 1)
        truth = nx.pagerank(graph, alpha=0.85, tol=tol, max_iter=PAGERANK_MAX_ITER) if len(graph) else {}
        assert [r.pagerank for r in records] == [truth.get(r.user_id, 0.0) for r in records]
        assert dict(graph.nodes(data="pagerank")) == truth


@st.composite
def weighted_digraphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, int]]]:
    """Draw a node count and distinct weighted edges between nodes `0 .. count - 1`: isolated and
    dangling nodes, self-loops, cycles and sinks all occur.
    """
    count = draw(st.integers(1, 12))
    node = st.integers(0, count - 1)
    pairs = draw(st.lists(st.tuples(node, node), unique=True, max_size=40))
    return count, [(a, b, draw(st.integers(1, 5))) for a, b in pairs]


def index_arrays(edges: list[tuple[int, int, int]]) -> tuple[Any, Any, Any]:
    """The sources, targets and float weights of `edges` as numpy arrays."""
    sources = np.array([a for a, _, _ in edges], dtype=np.intp)
    targets = np.array([b for _, b, _ in edges], dtype=np.intp)
    return sources, targets, np.array([w for _, _, w in edges], dtype=np.float64)


@deterministic
@given(graph=weighted_digraphs(), alpha=st.sampled_from([0.5, 0.85, 0.9]))
def test_pagerank_equals_networkx_to_the_last_bit(
    graph: tuple[int, list[tuple[int, int, int]]], alpha: float
) -> None:
    """On any weighted digraph, `pagerank` gives exactly networkx's floats, nodes in index order."""
    count, edges = graph
    oracle: nx.DiGraph[int] = nx.DiGraph()
    oracle.add_nodes_from(range(count))
    oracle.add_weighted_edges_from(edges)
    tol = 1e-10 / count
    ours = pagerank(*index_arrays(edges), count, alpha=alpha, tol=tol, max_iter=1000)
    assert dict(enumerate(ours.tolist())) == nx.pagerank(oracle, alpha=alpha, tol=tol, max_iter=1000)


def test_pagerank_raises_as_networkx_does_when_it_does_not_converge() -> None:
    """Out of iterations before the change is small enough, it raises networkx's exception."""
    edges = [(0, 1, 1)]  # one step from the uniform vector moves rank to the sink
    with pytest.raises(nx.PowerIterationFailedConvergence):
        pagerank(*index_arrays(edges), 2, alpha=0.85, tol=1e-10, max_iter=1)
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(nx.DiGraph([(0, 1)]), alpha=0.85, tol=1e-10, max_iter=1)


def test_a_late_retweet_inside_the_window_counts_at_once_and_an_older_one_is_dropped() -> None:
    """With the window's end at 10 (span 10), a retweet dated 5 is late but inside: counted at
    once (`late_events`); one dated -1 is older than the window: dropped (`dropped_events`).
    """
    feed = Feed(Influence(config(10)))
    feed.tweet(TweetEvent(id="1", user_id="a", at=t0 - timedelta(seconds=20)))
    feed.influence.advance(t0 + timedelta(seconds=10))
    feed.retweet("2", "b", "1", t0 + timedelta(seconds=5))
    feed.retweet("3", "c", "1", t0 - timedelta(seconds=1))
    assert (feed.influence.late_events, feed.influence.dropped_events) == (1, 1)
    by_user = {r.user_id: r for r in feed.influence.records(t0, Trigger.BOUNDARY)[0]}
    assert by_user["a"].retweets_received == 1
    restored = Influence.restore(config(10), json.loads(json.dumps(feed.influence.snapshot())))
    assert (restored.late_events, restored.dropped_events) == (1, 1)


def test_the_docstring_timeline_counts_and_then_reverts_a_retweet() -> None:
    """A retweet counts while its time is in the window and is reverted, edge included, once it leaves."""
    # span 10; b retweets a at 2, c replies to a at 9
    #   event time   0    2    4    6    8   10   12   14
    #   events            rt             re
    #   end = 10     [-------------------)            a: 1 retweet, 1 reply; edge b -> a
    #   end = 13                [-------------------) a: 1 reply; the edge is gone
    feed = Feed(Influence(config(10)))
    feed.tweet(TweetEvent(id="1", user_id="a", at=t0 - timedelta(seconds=5)))
    feed.retweet("2", "b", "1", t0 + timedelta(seconds=2))
    feed.tweet(TweetEvent(id="3", user_id="c", at=t0 + timedelta(seconds=9), reply_to="1", reply_to_user="a"))
    feed.influence.advance(t0 + timedelta(seconds=10))
    by_user = {r.user_id: r for r in feed.influence.records(t0, Trigger.BOUNDARY)[0]}
    assert (by_user["a"].retweets_received, by_user["a"].replies_received) == (1, 1)
    assert list(feed.influence.retweet_graph().edges(data="weight")) == [("b", "a", 1)]
    feed.influence.advance(t0 + timedelta(seconds=13))
    by_user = {r.user_id: r for r in feed.influence.records(t0, Trigger.BOUNDARY)[0]}
    assert (by_user["a"].retweets_received, by_user["a"].replies_received) == (0, 1)
    assert sorted(by_user) == ["a", "c"]
    assert feed.influence.retweet_graph().number_of_edges() == 0


@pytest.mark.parametrize(
    ("followers", "retweets", "rho"),
    [
        ([10, 20, 30, 40, 50], [2, 1, 4, 3, 5], 0.8),  # no ties: 1 - 6 * 4 / (5 * (25 - 1))
        ([10, 20, 30, 40], [1, 1, 2, 3], 0.9486832980505138),  # tie: Pearson on ranks 1.5 1.5 3 4
        ([10, 20, 30], [0, 0, 0], None),  # constant retweets: undefined
        ([10, 20], [1, 2], None),  # fewer than 3 users
    ],
)
def test_spearman_over_all_users_on_hand_examples(
    followers: list[int], retweets: list[int], rho: float | None
) -> None:
    """The all-users rho of followers vs retweets received is the known value, None when undefined."""
    feed = Feed(Influence(config()))
    for i, (count, received) in enumerate(zip(followers, retweets, strict=True)):
        feed.tweet(TweetEvent(id=f"p{i}", user_id=f"u{i}", at=t0, followers=count))
        for j in range(received):
            feed.retweet(f"p{i}-{j}", f"fan{i}-{j}", f"p{i}", t0 + timedelta(seconds=1))
    feed.influence.advance(t0 + timedelta(minutes=1))
    summary = feed.influence.records(t0, Trigger.BOUNDARY)[1]
    if rho is None:
        assert summary.spearman_followers_retweets is None
    else:
        assert summary.spearman_followers_retweets == pytest.approx(rho, rel=1e-12)


@deterministic
@given(
    rows=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 6)), min_size=1, max_size=60),
)
def test_spearman_at_every_follower_tier_equals_scipy_on_the_same_vectors(
    rows: list[tuple[int, int]],
) -> None:
    """Rho over all users, the top 10% and the top 1% by followers equals scipy's on those users."""
    feed = Feed(Influence(config()))
    for i, (count, received) in enumerate(rows):
        user = f"u{i:02d}"
        feed.tweet(TweetEvent(id=f"p{i}", user_id=user, at=t0, followers=count))
        for j in range(received):  # fans have unknown followers, so they are left out
            feed.retweet(f"p{i}-{j}", f"fan{j}", f"p{i}", t0 + timedelta(seconds=1))
    feed.influence.advance(t0 + timedelta(minutes=1))
    summary = feed.influence.records(t0, Trigger.BOUNDARY)[1]
    by_followers = sorted(((-f, f"u{i:02d}", r) for i, (f, r) in enumerate(rows)))

    def expected(share: float) -> float | None:
        top = by_followers[: math.ceil(round(share * len(rows), 9))]
        x, y = [-f for f, _, _ in top], [r for _, _, r in top]
        if len(top) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
            return None
        return float(stats.spearmanr(x, y).statistic)

    assert summary.spearman_followers_retweets == pytest.approx(expected(1.0))
    assert summary.spearman_followers_retweets_top10 == pytest.approx(expected(0.1))
    assert summary.spearman_followers_retweets_top1 == pytest.approx(expected(0.01))


def planted() -> Feed:
    """A 10-follower account whose post spreads over three generations of retweets (12 in all),
    a 1,000,000-follower account whose post gets one retweet, and five users chatting.

    The retweeters' own followers are unknown except for the first generation; `ghost`, retweeted
    once, never posts (followers unknown).
    """
    feed = Feed(Influence(config()))
    minute = timedelta(minutes=1)
    feed.tweet(TweetEvent(id="s", user_id="small", at=t0, followers=10))
    feed.tweet(TweetEvent(id="b", user_id="big", at=t0, followers=1_000_000))
    parents = ["s"]
    for generation in range(3):
        children = []
        for k in range(4):
            tid = f"s{generation}{k}"
            follows = {"followers": 100 * (k + 1)} if generation == 0 else {}
            via = parents[k % len(parents)]
            feed.retweet(tid, f"r{generation}{k}", "s", t0 + (generation + 1) * minute, via=via, **follows)
            children.append(tid)
        parents = children
    feed.retweet("b1", "fan", "b", t0 + minute, followers=50)
    feed.tweet(TweetEvent(id="g", user_id="ghost", at=t0 - timedelta(days=1)))  # before the window
    feed.retweet("g1", "fan", "g", t0 + 2 * minute, followers=50)
    chat = ["u1", "u2", "u3", "u4", "u5"]
    for i, user in enumerate(chat):
        other = chat[(i + 1) % len(chat)]
        feed.tweet(
            TweetEvent(
                id=f"c{i}",
                user_id=user,
                at=t0 + 5 * minute,
                followers=1000 * (i + 1),
                reply_to=f"c{i - 1}" if i else None,
                reply_to_user=chat[i - 1] if i else None,
                mentions=(other,),
            )
        )
    feed.influence.advance(t0 + 30 * minute)
    return feed


def test_a_small_account_whose_posts_travel_outranks_a_huge_account_whose_posts_do_not() -> None:
    """The 10-follower account with a deep 12-retweet cascade ranks first, above the
    1,000,000-follower account with one retweet, and is flagged a micro-influencer.
    """
    records, summary = planted().influence.records(t0 + timedelta(minutes=30), Trigger.BOUNDARY)
    by_user = {r.user_id: r for r in records}
    small, big = by_user["small"], by_user["big"]
    assert small.rank == 1
    assert small.rank < big.rank
    assert (small.retweets_received, small.cascades_started, small.mean_cascade_size) == (12, 1, 13.0)
    assert small.mean_structural_virality is not None
    assert small.mean_structural_virality > by_user["big"].mean_structural_virality  # type: ignore[operator]
    assert small.pagerank == max(r.pagerank for r in records)
    assert small.micro_influencer
    assert not big.micro_influencer
    assert summary.micro_influencers == sum(r.micro_influencer for r in records)
    assert summary.active_users == len(records) == 21  # ghost counts: retweeted in the window
    assert records[0].window == timedelta(hours=1)
    assert records[0].lateness == timedelta(seconds=5)
    assert records[0].trigger is Trigger.BOUNDARY


def test_top_limits_the_records_but_not_the_summary() -> None:
    """`top` keeps the first records by rank; the summary still covers every active user."""
    influence = planted().influence
    everyone, summary = influence.records(t0, Trigger.BOUNDARY)
    first, same = influence.records(t0, Trigger.BOUNDARY, top=3)
    assert first == everyone[:3]
    assert same == summary


def test_collective_share_counts_retweets_attributed_outside_the_top_percent() -> None:
    """Of 4 retweets, 2 are attributed to the one top-1% account, so the collective share is 1/2."""
    # Six users with known followers: the top 1% (rounded up) is `celeb` alone.
    feed = Feed(Influence(config()))
    second = timedelta(seconds=1)
    feed.tweet(TweetEvent(id="c", user_id="celeb", at=t0, followers=1_000_000))
    feed.tweet(TweetEvent(id="a", user_id="ann", at=t0, followers=100))
    feed.retweet("x1", "x", "c", t0 + second, followers=10)  # parent: celeb
    feed.retweet("y1", "y", "c", t0 + 2 * second, via="x1", followers=20)  # parent: x
    feed.retweet("z1", "z", "a", t0 + 3 * second, followers=30)  # parent: ann
    feed.tweet(  # unattributed: falls back to the original author, celeb
        TweetEvent(id="w1", user_id="w", at=t0 + 4 * second, retweet_of="c", retweet_of_user="celeb"),
    )
    feed.influence.advance(t0 + timedelta(minutes=1))
    assert feed.influence.records(t0, Trigger.BOUNDARY)[1].collective_share == 0.5
    assert Influence(config()).records(t0, Trigger.BOUNDARY)[1].collective_share is None


@pytest.mark.parametrize("write", [nx.write_graphml, nx.write_gexf])
def test_the_retweet_graph_exports_to_graphml_and_gexf(write: Any, tmp_path: Path) -> None:
    """The exported graph, with a node of unknown followers, writes without error and keeps its attributes."""
    graph = planted().influence.retweet_graph()
    assert "followers" not in graph.nodes["ghost"]
    assert graph.nodes["small"]["followers"] == 10
    graph.nodes["small"]["community"] = 3  # the caller's graph is its own
    assert "community" not in planted().influence.retweet_graph().nodes["small"]
    path = tmp_path / "retweets.xml"
    write(graph, path)
    if write is nx.write_graphml:
        back = nx.read_graphml(path)
        assert back.nodes["small"]["rank"] == 1
        assert back["r00"]["small"]["weight"] == 1


@deterministic
@given(ops=streams(), span_s=st.integers(1, 20), cut=st.integers(0, 100))
def test_restored_then_continued_equals_never_stopped(ops: list[Op], span_s: int, cut: int) -> None:
    """A state snapshotted to JSON anywhere in the stream, restored and fed the rest reports exactly
    what the uninterrupted state reports.
    """
    cut = min(cut, len(ops))
    straight, expected = run(ops, span_s)
    first, before = run(ops[:cut], span_s)
    data = json.loads(json.dumps(first.influence.snapshot()))
    restored = Influence.restore(config(span_s), data)
    second = Feed(restored, list(first.fed), first.authors, first.cascades)
    after = [restored.records(end, Trigger.BOUNDARY) for end in second.play(ops[cut:])]
    assert before + after == expected
    assert restored.snapshot() == straight.influence.snapshot()
