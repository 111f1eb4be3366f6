"""Engaged influence per user over a rolling event-time window: whose posts travel, not who is
followed (Cha et al. 2010, "The Million Follower Fallacy"; Bakshy et al. 2011).

Every event adds an item to a `SlidingWindow`, stamped with its event time; when the window's end
passes it the item's interactions (`streams.influence.credits`) are counted, and when it leaves
(older than `end - span`) they are reverted. Counters and the weighted retweet graph are thus kept
incrementally; only PageRank, the score's percentiles and rank correlations are computed on
demand (`streams.influence.scoring`), by `records` (`streams.influence.reports`), at emission
boundaries.

The retweet graph holds the window's retweets whose attributed parent user is known and is not
the retweeter; its nodes are exactly those edges' ends. A user's `followers` is the latest known
count (by event time) among their live posts, None for users only seen as targets.

Cascades come from the cascade reconstruction through `observe_cascade`: the latest state of a
cascade, which belongs to the window by its root's time.

Timeline (span 10; one retweet of `a` by `b` at 2, one reply by `c` to `a` at 9)::

    event time   0    2    4    6    8   10   12   14
    events            rt             re
    end = 10     [-------------------)                 a: 1 retweet, 1 reply; edge b -> a
    end = 13                [-------------------)      a: 1 reply; the edge is gone

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import networkx as nx

from models.event import TweetEvent
from models.records import InfluenceRecord, InfluenceSummary, Trigger
from streams.chambers.communities import UserGraph
from streams.influence import export, reports, scoring
from streams.influence.config import InfluenceConfig
from streams.influence.credits import CONVERSATION, EDGE, RECEIVED, RETWEET, Credit, interactions
from streams.influence.pagerank import pagerank
from streams.influence.scoring import Ranking
from streams.window import ENTERED, LATE, Admission, SlidingWindow, bump

__all__ = ["Influence", "InfluenceConfig"]

SNAPSHOT_VERSION = 1

Post = tuple[str, int | None, tuple[Credit, ...], datetime]
"""The window's event item: (author, author's followers if known, credits, event time)."""

Root = tuple[str, int, float | None]
"""A cascade's latest state: (root user, size, structural virality)."""

# Stop PageRank's power iteration when the L1 change of the whole vector is below this: it sums
# to 1, so the result is then accurate to ~alpha/(1-alpha) times as much, whatever the graph's
# size. (networkx's `tol` is per node, so it is divided by the node count.)
PAGERANK_L1_TOL = 1e-10
PAGERANK_MAX_ITER = 1000


def _encode_post(post: Post) -> list[Any]:
    author, followers, found, at = post
    # ISO 8601 keeps microseconds (epoch milliseconds would not), which order a user's posts.
    return [author, followers, [list(c) for c in found], at.isoformat()]


def _decode_post(data: list[Any]) -> Post:
    author, followers, found, at = data
    return author, followers, tuple((code, user) for code, user in found), datetime.fromisoformat(at)


@dataclass(slots=True)
class Influence:
    """The rolling per-user influence of one stream, fed in event-time order.

    The caller drives the window with `advance(end)`; live are the events with `at` in
    `[end - span, end)`. Events observed before the end passes them are pending; an event older
    than the end (the caller's order broke) is admitted at once when still inside the window
    (counted in `late_events`), and otherwise dropped and counted in `dropped_events`.
    """

    config: InfluenceConfig
    late_events: int = 0
    dropped_events: int = 0
    _posts: SlidingWindow[Post] = field(init=False)
    _roots: SlidingWindow[str] = field(init=False)
    _root_state: dict[str, Root] = field(default_factory=dict)  # pending and live roots
    _user_roots: dict[str, dict[str, tuple[int, float | None]]] = field(default_factory=dict)  # live
    _presence: dict[str, int] = field(default_factory=dict)  # live items each user appears in
    _followers: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    _followers_posts: dict[str, int] = field(default_factory=dict)  # live posts with known followers
    _received: dict[str, dict[str, int]] = field(default_factory=dict)  # code -> user -> count
    _edges: dict[tuple[str, str], int] = field(default_factory=dict)
    _talk: dict[tuple[str, str], int] = field(default_factory=dict)  # author -> replied/mentioned user
    _in_weight: dict[str, int] = field(default_factory=dict)
    _pagerank: dict[str, float] = field(default_factory=dict)
    _pagerank_stale: bool = False
    # The retweet graph as index arrays, built on demand and kept until an edge changes: PageRank
    # and the retweet layer of `streams.chambers.echo` read the same one.
    _endorsements: UserGraph | None = None
    _ranked: Ranking | None = None  # the last `_ranking`, until anything changes

    def __post_init__(self) -> None:
        """Start empty."""
        self._posts = SlidingWindow(self.config.span)
        self._roots = SlidingWindow(self.config.span)
        self._received = {code: {} for code in RECEIVED}

    # -- input ------------------------------------------------------------------------------

    def observe(self, event: TweetEvent, *, parent_user_id: str | None = None) -> None:
        """Hold the interactions `event` creates until the window's end passes `event.at`.

        `parent_user_id`: for a retweet, the user of the tweet it came through, as the cascade
        reconstruction attributed it; the original author when None.
        """
        post: Post = (event.user_id, event.followers, interactions(event, parent_user_id), event.at)
        admission = self._posts.add(post, event.at)
        if admission in LATE:
            self.late_events += 1
        if admission in ENTERED:
            self._enter_post(post)
        elif admission is Admission.DROPPED:
            self.dropped_events += 1

    def observe_cascade(
        self, root_id: str, root_user_id: str, at: datetime, size: int, structural_virality: float | None
    ) -> None:
        """Take the latest state of the cascade rooted at `root_id`, posted by `root_user_id` at `at`.

        Call after every change; the root's time `at` decides when the cascade leaves the window.
        Updates for roots already out of the window are ignored.
        """
        state: Root = (root_user_id, size, structural_virality)
        if root_id in self._root_state:
            self._root_state[root_id] = state
            live = self._user_roots.get(root_user_id)
            if live is not None and root_id in live:
                live[root_id] = (size, structural_virality)
                self._ranked = None
            return
        admission = self._roots.add(root_id, at)
        if admission is Admission.DROPPED or admission is Admission.GONE:
            return
        self._root_state[root_id] = state
        if admission in ENTERED:
            self._enter_root(root_id)

    def advance(self, end: datetime) -> None:
        """Move the window's end to `end` (never backwards): count what entered, revert what left."""
        self._posts.advance(end).apply(self._enter_post, self._leave_post)
        self._roots.advance(end).apply(self._enter_root, self._leave_root)

    def work_ahead(self, until: datetime, limit: int) -> int:
        """Do at most `limit` moves of what `advance(until)` will do, now; return how many were
        done. Invisible to every figure read after that advance (`SlidingWindow.work_ahead`).
        """
        posts = self._posts.work_ahead(until, limit)
        posts.apply(self._enter_post, self._leave_post)
        # Roots only enter ahead: `observe_cascade` knows a root by its state until it leaves.
        roots = self._roots.work_ahead(until, limit - len(posts), leaving=False)
        roots.apply(self._enter_root, self._leave_root)
        return len(posts) + len(roots)

    # -- incremental state --------------------------------------------------------------------

    def _enter_post(self, post: Post) -> None:
        # Once per event, on the largest dicts of the core: each is looked up once into a local.
        author, followers, found, at = post
        presence = self._presence
        presence[author] = presence.get(author, 0) + 1
        if followers is not None:
            followers_posts = self._followers_posts
            followers_posts[author] = followers_posts.get(author, 0) + 1
            latest = self._followers.get(author)
            # Posts enter in time order; only a late one can be older than the latest known.
            if latest is None or at >= latest[1]:
                self._followers[author] = (followers, at)
        for code, user in found:
            presence[user] = presence.get(user, 0) + 1
            if code == EDGE:
                edge = (author, user)
                edges = self._edges
                edges[edge] = edges.get(edge, 0) + 1
                in_weight = self._in_weight
                in_weight[user] = in_weight.get(user, 0) + 1
                self._pagerank_stale = True
                self._endorsements = None
            else:
                counter = self._received[code]
                counter[user] = counter.get(user, 0) + 1
                if code in CONVERSATION:
                    talk = (author, user)
                    self._talk[talk] = self._talk.get(talk, 0) + 1
        self._ranked = None

    def _leave_post(self, post: Post) -> None:
        author, followers, found, _ = post
        bump(self._presence, author, -1)
        if followers is not None:
            # Posts leave oldest first, so the one that set `_followers` leaves last.
            bump(self._followers_posts, author, -1)
            if author not in self._followers_posts:
                del self._followers[author]
        for code, user in found:
            bump(self._presence, user, -1)
            if code == EDGE:
                bump(self._edges, (author, user), -1)
                bump(self._in_weight, user, -1)
                self._pagerank_stale = True
                self._endorsements = None
            else:
                bump(self._received[code], user, -1)
                if code in CONVERSATION:
                    bump(self._talk, (author, user), -1)
        self._ranked = None

    def _enter_root(self, root_id: str) -> None:
        user, size, virality = self._root_state[root_id]
        self._user_roots.setdefault(user, {})[root_id] = (size, virality)
        bump(self._presence, user, 1)
        self._ranked = None

    def _leave_root(self, root_id: str) -> None:
        user, _, _ = self._root_state.pop(root_id)
        roots = self._user_roots[user]
        del roots[root_id]
        if not roots:
            del self._user_roots[user]
        bump(self._presence, user, -1)
        self._ranked = None

    # -- on demand ------------------------------------------------------------------------------

    def _ranking(self) -> Ranking:
        if self._ranked is None:
            self._ranked = self._rank()
        return self._ranked

    def _rank(self) -> Ranking:
        self._refresh_pagerank()
        return scoring.rank(self._presence, self._pagerank, self._received, self._user_roots)

    def _refresh_pagerank(self) -> None:
        """Recompute `_pagerank`, user -> PageRank for the retweet graph's users in id order, if
        the graph changed.
        """
        if not self._pagerank_stale:
            return
        # No warm start: it would make the last digits depend on when PageRank was last
        # computed (every boundary live, only at the end offline), and replays must give
        # the live run's numbers.
        self._pagerank = self._retweet_pagerank() if self._edges else {}
        self._pagerank_stale = False

    def _retweet_pagerank(self) -> dict[str, float]:
        """PageRank of the (non-empty) retweet graph, by user in id order: exactly networkx's on
        the graph `retweet_graph` exports, computed without building it.
        """
        # The graph's users are sorted by id, and its edges come in the order of `_edges`, each
        # with its count: networkx's results on the graph with sorted nodes.
        graph = self.endorsement_graph()
        count = len(graph.users)
        ranks = pagerank(
            graph.sources,
            graph.targets,
            graph.counts,
            count,
            alpha=self.config.pagerank_alpha,
            tol=PAGERANK_L1_TOL / count,
            max_iter=PAGERANK_MAX_ITER,
        )
        return dict(zip(graph.users, ranks.tolist(), strict=True))

    def records(
        self, at: datetime, trigger: Trigger, *, top: int | None = None
    ) -> tuple[list[InfluenceRecord], InfluenceSummary]:
        """Every active user's influence, by rank (the first `top` only, when given), and the summary.

        Active users: those who posted or received anything in the window. `at` is the window's
        end the records describe. Cost: PageRank on the retweet graph (from scratch, for
        determinism, and only when the graph changed) plus O(users log users + edges + live
        cascades), mostly in numpy, and building the records.
        """
        ranking = self._ranking()
        # All of them are active: the posts that told their followers are live.
        known = reports.known_followers(self._followers)
        micro = reports.micro_influencers(self.config, ranking, known)
        common: dict[str, Any] = {
            "at": at,
            "window": self.config.span,
            "lateness": self.config.lateness,
            "trigger": trigger,
        }
        records = reports.influence_records(ranking, self._followers, micro, common, top)
        summary = reports.summary(
            self.config,
            known,
            self._received[RETWEET],
            self._in_weight,
            common,
            active_users=len(ranking.users),
            micro_count=len(micro),
        )
        return records, summary

    def endorsement_edges(self) -> Mapping[tuple[str, str], int]:
        """The window's retweet edges, (retweeter, attributed parent user) -> retweets (read-only)."""
        return MappingProxyType(self._edges)

    def endorsement_graph(self) -> UserGraph:
        """`UserGraph.of(endorsement_edges())`, built once per state of the edges: the same
        object until one changes (treat it as read-only).
        """
        if self._endorsements is None:
            self._endorsements = UserGraph.of(self._edges)
        return self._endorsements

    def conversation_edges(self) -> Mapping[tuple[str, str], int]:
        """The window's conversation edges, (author, replied-to or mentioned user) -> count (read-only)."""
        return MappingProxyType(self._talk)

    def ranks(self) -> Mapping[str, int]:
        """Every active user's engaged-influence rank (1 is the highest), as `records` gives it."""
        return MappingProxyType(self._ranking().rank)

    def top_graph(self, users: int, edges: int) -> tuple[list[tuple[str, float]], list[tuple[str, str, int]]]:
        """The `users` best ranked active users with their scores, by rank, and the heaviest
        `edges` retweet edges among them (retweeter, retweeted, retweets; ties by ids): a
        bounded view of the retweet graph, for drawing.
        """
        ranking = self._ranking()
        top = [(ranking.users[i], ranking.score[i]) for i in ranking.order[:users]]
        kept = {user for user, _ in top}
        among = [(a, b, w) for (a, b), w in self._edges.items() if w > 0 and a in kept and b in kept]
        among.sort(key=lambda edge: (-edge[2], edge[0], edge[1]))
        return top, among[:edges]

    def active_edges(self) -> int:
        """Distinct retweet edges (retweeter, retweeted user) in the window."""
        return sum(1 for w in self._edges.values() if w > 0)

    def active_users(self) -> int:
        """Users active in the window (posted or received anything)."""
        return len(self._presence)

    def retweet_graph(self) -> nx.DiGraph[str]:
        """The window's retweet graph with each user's influence (`streams.influence.export`)."""
        ranking = self._ranking()
        return export.retweet_graph(
            self._edges, self._followers, self._received[RETWEET], self._pagerank, ranking
        )

    # -- persistence ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-able plain data from which `restore` rebuilds this state exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "posts": self._posts.snapshot(_encode_post),
            "roots": self._roots.snapshot(),
            "root_state": {root: list(state) for root, state in self._root_state.items()},
            "pagerank": self._pagerank,
            "pagerank_stale": self._pagerank_stale,
            "late_events": self.late_events,
            "dropped_events": self.dropped_events,
        }

    @classmethod
    def restore(cls, config: InfluenceConfig, data: dict[str, Any]) -> Influence:
        """Rebuild the state `snapshot` described; it continues exactly as the original would."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"unknown influence snapshot version {data['version']}")
        # `late_events` came after version 1's first checkpoints: those count from zero.
        state = cls(config, late_events=data.get("late_events", 0), dropped_events=data["dropped_events"])
        state._posts = SlidingWindow.restore(data["posts"], _decode_post)
        state._roots = SlidingWindow.restore(data["roots"])
        state._root_state = {root: (s[0], s[1], s[2]) for root, s in data["root_state"].items()}
        # Replaying the live items oldest first rebuilds every aggregate (and the latest
        # followers) exactly.
        for post in state._posts.live():
            state._enter_post(post)
        for root_id in state._roots.live():
            state._enter_root(root_id)
        state._pagerank = dict(data["pagerank"])
        state._pagerank_stale = data["pagerank_stale"]
        return state
