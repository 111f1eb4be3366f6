"""Engaged influence per user over a rolling event-time window: whose posts travel, not who is
followed (Cha et al. 2010, "The Million Follower Fallacy"; Bakshy et al. 2011).

Every event adds an item to a `SlidingWindow`, stamped with its event time; when the window's end
passes it the item's interactions are counted, and when it leaves (older than `end - span`) they
are reverted. Counters and the weighted retweet graph are thus kept incrementally; only PageRank,
percentiles and rank correlations are computed on demand, by `records`, at emission boundaries.

What an event credits (self-interactions are never credited):

========== =====================================================================================
retweet    `retweets_received` of the original author (Cha et al.'s "retweets"), and weight 1 on
           the edge retweeter -> attributed parent's user (the original author when the cascade
           reconstruction gave no parent). Its mentions are the original's text ("RT @a: ..."),
           so they credit nothing.
quote      `quotes_received` of the quoted user.
reply      `replies_received` of the replied-to user.
mention    `mentions_received` of each distinct mentioned user, except the replied-to user in a
           reply (clients prefix replies with "@user", which would count it twice).
like       `likes_received` of the liked post's author (Bluesky's likes; Twitter's formats carry
           none, so their scores are unchanged). Nothing else: a like is not a post.
========== =====================================================================================

The retweet graph holds the window's retweets whose attributed parent user is known and is not
the retweeter; its nodes are exactly those edges' ends. A user's `followers` is the latest known
count (by event time) among their live posts, None for users only seen as targets.

Cascades come from the cascade reconstruction through `observe_cascade`: the latest state of a
cascade, which belongs to the window by its root's time. Over the window, per user:
`cascades_started` counts roots of size >= 2, `mean_cascade_size` averages the size of all roots
(Bakshy et al.'s per-seed influence), `mean_structural_virality` averages over roots of size >= 2.

Score (in [0, 1), followers deliberately absent)::

    score = 0.35 * pct(retweets + quotes received)      amplification: posts that travel
          + 0.25 * pct(mean cascade size - 1)           reach per post, every generation counted
          + 0.25 * pct(pagerank)                        being relayed by accounts that are relayed
          + 0.15 * pct(replies + mentions + likes received)   engagement without spread

where `pct(v)` is v's mid-rank percentile among active users, `(average rank - 1/2) / n` on
(0, 1), and 0 when v is 0 (no evidence is not median evidence). See `SCORE_WEIGHTS` for why
these weights. PageRank runs on the retweet graph (damping `pagerank_alpha`), 0 for users
outside it. Rank 1 is the highest score, ties broken by user id.

Active users are those who posted or received anything in the window (a live cascade root counts
as a post). Among those with known followers, the top 1% and 10% by followers are the first
`ceil(share * n)` by followers descending, ties by user id. The summary reports Spearman's rho
(average ranks for ties) of followers vs retweets received over all of them and over each tier,
None when a tier has fewer than 3 users or a constant vector; `collective_share`, the fraction of
the window's retweet-graph weight (retweets) whose attributed parent user is outside the top 1%,
None without retweets; and how many users are micro-influencers: ranked within the top
`micro_top_rank_share` of active users (rounded up), with known followers at or below the
`micro_max_follower_percentile` quantile of active users' known followers.

Timeline (span 10; one retweet of `a` by `b` at 2, one reply by `c` to `a` at 9)::

    event time   0    2    4    6    8   10   12   14
    events            rt             re
    end = 10     [-------------------)                 a: 1 retweet, 1 reply; edge b -> a
    end = 13                [-------------------)      a: 1 reply; the edge is gone

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import networkx as nx
import numpy as np

from models.event import TweetEvent
from models.records import InfluenceRecord, InfluenceSummary, Trigger
from streams.chambers.communities import UserGraph
from streams.influence.pagerank import pagerank
from streams.window import Admission, SlidingWindow, bump

SNAPSHOT_VERSION = 1

_RETWEET, _EDGE, _QUOTE, _REPLY, _MENTION, _LIKE = "rt", "to", "qt", "re", "at", "lk"
_RECEIVED = (_RETWEET, _QUOTE, _REPLY, _MENTION, _LIKE)  # the counters kept per user
_CONVERSATION = frozenset((_REPLY, _MENTION))  # the conversation layer's interactions

Credit = tuple[str, str]
"""One interaction an event creates: (code, user credited); `to` is a retweet graph edge."""

Post = tuple[str, int | None, tuple[Credit, ...], datetime]
"""The window's event item: (author, author's followers if known, credits, event time)."""

Root = tuple[str, int, float | None]
"""A cascade's latest state: (root user, size, structural virality)."""

CascadeStats = tuple[int, float, float | None]
"""A user's live roots: (cascades started, mean cascade size, mean structural virality)."""

Floats = np.ndarray[Any, np.dtype[np.float64]]

_NO_CASCADES: tuple[int, None, None] = (0, None, None)  # the statistics of a user without live roots

# Stop PageRank's power iteration when the L1 change of the whole vector is below this: it sums
# to 1, so the result is then accurate to ~alpha/(1-alpha) times as much, whatever the graph's
# size. (networkx's `tol` is per node, so it is divided by the node count.)
PAGERANK_L1_TOL = 1e-10
PAGERANK_MAX_ITER = 1000

SCORE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"amplification": 0.35, "cascade_reach": 0.25, "pagerank": 0.25, "conversation": 0.15}
)
"""Weights of the score's percentile components; they sum to 1.

Amplification (retweets + quotes received) is the most direct evidence that a user's posts
travel: Cha et al.'s retweet influence, which among top accounts barely tracks followers
(rho ~ 0.1). Cascade reach (mean cascade size - 1, Bakshy et al.) counts every generation, not
only direct retweets, and is a mean so that volume alone is not rewarded. PageRank on the
retweet graph (credit flows from retweeter to the attributed parent) adds transitivity: being
relayed by accounts that are themselves relayed, and credits relays inside cascades. These two
complete the picture of travel at equal weight. Conversation (replies + mentions, Cha et al.'s
mention influence) is engagement, but not spread, and replies may be hostile: lowest weight.
Likes, where the network has them, join this term: engagement received that spreads nothing.
Travel thus carries 0.85 of the score, and followers none, so a small account whose posts spread
outranks a large one whose posts do not.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluenceConfig:
    """The window (`span`, and `lateness`, reported in records) and the metric's parameters.

    `top_share_1`/`top_share_10`: the shares of active users with known followers, by followers,
    that make the "top 1%" and "top 10%" (rounded up). `micro_top_rank_share`: the share of active
    users by rank (rounded up) within which a micro-influencer must rank, with followers at or
    below the `micro_max_follower_percentile` quantile (linear interpolation) of active users'
    known followers.
    """

    span: timedelta
    lateness: timedelta
    top_share_1: float = 0.01
    top_share_10: float = 0.10
    pagerank_alpha: float = 0.85
    micro_max_follower_percentile: float = 0.5
    micro_top_rank_share: float = 0.1

    def __post_init__(self) -> None:
        """Reject parameters outside their ranges."""
        if self.span <= timedelta(0):
            raise ValueError(f"span must be positive, got {self.span}")
        for name in ("top_share_1", "top_share_10", "micro_top_rank_share", "micro_max_follower_percentile"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if not 0 < self.pagerank_alpha < 1:
            raise ValueError(f"pagerank_alpha must be in (0, 1), got {self.pagerank_alpha}")


def interactions(event: TweetEvent, parent_user_id: str | None = None) -> tuple[Credit, ...]:
    """The interactions `event` creates (see the module docstring), self-interactions left out.

    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> rt = TweetEvent(id="2", user_id="b", at=t0, retweet_of="1", retweet_of_user="a")
    >>> interactions(rt, parent_user_id="c")
    (('rt', 'a'), ('to', 'c'))
    """
    author = event.user_id
    found: list[Credit] = []
    if event.like_of is not None:
        liked = event.like_of_user
        return ((_LIKE, liked),) if liked is not None and liked != author else ()
    if event.retweet_of is not None:
        if event.retweet_of_user is not None and event.retweet_of_user != author:
            found.append((_RETWEET, event.retweet_of_user))
        parent = parent_user_id or event.retweet_of_user
        if parent is not None and parent != author:
            found.append((_EDGE, parent))
        return tuple(found)
    if event.quote_of_user is not None and event.quote_of_user != author:
        found.append((_QUOTE, event.quote_of_user))
    if event.reply_to_user is not None and event.reply_to_user != author:
        found.append((_REPLY, event.reply_to_user))
    # A set, not a search of `found`: a message may name tens of thousands of users.
    passed = {author, event.reply_to_user}
    for user in event.mentions:
        if user not in passed:
            passed.add(user)
            found.append((_MENTION, user))
    return tuple(found)


def _top_count(share: float, n: int) -> int:
    # Rounded before `ceil` so that 0.1 * 30 = 3.0000000000000004 gives 3, not 4.
    return math.ceil(round(share * n, 9))


def spearman(x: list[int], y: list[int]) -> float | None:
    """Spearman's rank correlation (average ranks for ties), None when undefined or unreliable:
    fewer than 3 pairs, or a constant vector.

    >>> round(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 12)  # 1 - 6 * 4 / (5 * 24)
    0.8
    >>> spearman([1, 2, 3], [7, 7, 7]) is None
    True
    """
    # scipy would return nan, with a warning, for a constant vector.
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    from scipy import stats  # noqa: PLC0415 - see `_percentiles`

    return float(stats.spearmanr(x, y).statistic)


def _encode_post(post: Post) -> list[Any]:
    author, followers, found, at = post
    # ISO 8601 keeps microseconds (epoch milliseconds would not), which order a user's posts.
    return [author, followers, [list(c) for c in found], at.isoformat()]


def _decode_post(data: list[Any]) -> Post:
    author, followers, found, at = data
    return author, followers, tuple((code, user) for code, user in found), datetime.fromisoformat(at)


def _percentiles(values: Floats) -> Floats:
    # scipy.stats takes half a second to import, half of what every command and the analyzer
    # process spend starting: it is imported where used, at records and refreshes.
    from scipy import stats  # noqa: PLC0415

    ranks = np.asarray(stats.rankdata(values, method="average"), dtype=np.float64)
    return np.where(values > 0, (ranks - 0.5) / len(values), 0.0)


def _aligned(
    values: Mapping[str, float], position: Mapping[str, int], dtype: type[np.int64 | np.float64]
) -> np.ndarray[Any, Any]:
    """`values` as an array indexed by `position` (which holds every key), 0 elsewhere."""
    aligned = np.zeros(len(position), dtype=dtype)
    places = np.fromiter(map(position.__getitem__, values), np.intp, count=len(values))
    aligned[places] = np.fromiter(values.values(), dtype, count=len(values))
    return aligned


def _summarize_roots(roots: Mapping[str, tuple[int, float | None]]) -> CascadeStats:
    """One user's cascade statistics from their live roots, root id -> (size, virality)."""
    sizes = [size for size, _ in roots.values()]
    spread = [v for size, v in roots.values() if size >= 2 and v is not None]
    started = sum(size >= 2 for size in sizes)
    # fsum is exactly rounded: the means do not depend on the order roots came in.
    virality = math.fsum(spread) / len(spread) if spread else None
    return started, math.fsum(sizes) / len(sizes), virality


@dataclass(frozen=True, slots=True)
class _Ranking:
    """One on-demand computation over the active users, `users` sorted by id: `order`, their
    positions in `users` by rank, and what the records need: `rank` by user, `score`, `pagerank`
    and the `received` counts as plain lists aligned with `users`, `cascades` by user.
    """

    users: list[str]
    order: list[int]
    rank: dict[str, int]
    score: list[float]
    pagerank: list[float]
    received: dict[str, list[int]]  # interaction code -> counts
    cascades: dict[str, CascadeStats]  # users with live roots only

    def score_of(self, user: str) -> float:
        """The active `user`'s score."""
        return self.score[self.order[self.rank[user] - 1]]


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
    _ranked: _Ranking | None = None  # the last `_ranking`, until anything changes

    def __post_init__(self) -> None:
        """Start empty."""
        self._posts = SlidingWindow(self.config.span)
        self._roots = SlidingWindow(self.config.span)
        self._received = {code: {} for code in _RECEIVED}

    # -- input ------------------------------------------------------------------------------

    def observe(self, event: TweetEvent, *, parent_user_id: str | None = None) -> None:
        """Hold the interactions `event` creates until the window's end passes `event.at`.

        `parent_user_id`: for a retweet, the user of the tweet it came through, as the cascade
        reconstruction attributed it; the original author when None.
        """
        post: Post = (event.user_id, event.followers, interactions(event, parent_user_id), event.at)
        admission = self._posts.add(post, event.at)
        if admission is Admission.LATE:
            self.late_events += 1
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
        if admission is Admission.DROPPED:
            return
        self._root_state[root_id] = state
        if admission is Admission.LATE:
            self._enter_root(root_id)

    def advance(self, end: datetime) -> None:
        """Move the window's end to `end` (never backwards): count what entered, revert what left."""
        self._posts.advance(end).apply(self._enter_post, self._leave_post)
        self._roots.advance(end).apply(self._enter_root, self._leave_root)

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
            if code == _EDGE:
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
                if code in _CONVERSATION:
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
            if code == _EDGE:
                bump(self._edges, (author, user), -1)
                bump(self._in_weight, user, -1)
                self._pagerank_stale = True
                self._endorsements = None
            else:
                bump(self._received[code], user, -1)
                if code in _CONVERSATION:
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

    def _ranking(self) -> _Ranking:
        if self._ranked is None:
            self._ranked = self._rank()
        return self._ranked

    def _rank(self) -> _Ranking:
        # One sort by id: it breaks score ties, and fixes PageRank's node order (its float sums
        # follow it, so it must not depend on the order in which edges came and went: a restored
        # state has another history). Everything else indexes users by their place in it.
        users = sorted(self._presence)
        position = dict(zip(users, range(len(users)), strict=True))
        self._refresh_pagerank()
        pagerank = _aligned(self._pagerank, position, np.float64)
        received = {code: _aligned(self._received[code], position, np.int64) for code in _RECEIVED}
        cascades = {user: _summarize_roots(roots) for user, roots in self._user_roots.items()}
        reach = {user: mean_size - 1 for user, (_, mean_size, _) in cascades.items()}
        columns = {
            "amplification": received[_RETWEET] + received[_QUOTE],
            "cascade_reach": _aligned(reach, position, np.float64),
            "pagerank": pagerank,
            "conversation": received[_REPLY] + received[_MENTION] + received[_LIKE],
        }
        total = np.zeros(len(users))
        for name, weight in SCORE_WEIGHTS.items():
            total += weight * _percentiles(columns[name].astype(np.float64))
        # Highest score first; a stable sort leaves ties in `users`' order, by id.
        order: list[int] = np.argsort(-total, kind="stable").tolist()
        return _Ranking(
            users=users,
            order=order,
            rank=dict(zip(map(users.__getitem__, order), range(1, len(order) + 1), strict=True)),
            score=total.tolist(),
            pagerank=pagerank.tolist(),
            received={code: counts.tolist() for code, counts in received.items()},
            cascades=cascades,
        )

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
        known = self._known_followers()
        micro = self._micro(ranking, known)
        common: dict[str, Any] = {
            "at": at,
            "window": self.config.span,
            "lateness": self.config.lateness,
            "trigger": trigger,
        }
        retweets, quotes, replies, mentions, likes = (ranking.received[c] for c in _RECEIVED)
        records = []
        for rank, i in enumerate(ranking.order[:top], start=1):
            user = ranking.users[i]
            started, mean_size, mean_virality = ranking.cascades.get(user, _NO_CASCADES)
            followers = self._followers.get(user)
            records.append(
                InfluenceRecord(
                    **common,
                    user_id=user,
                    rank=rank,
                    score=ranking.score[i],
                    followers=None if followers is None else followers[0],
                    retweets_received=retweets[i],
                    quotes_received=quotes[i],
                    replies_received=replies[i],
                    mentions_received=mentions[i],
                    likes_received=likes[i],
                    cascades_started=started,
                    mean_cascade_size=mean_size,
                    mean_structural_virality=mean_virality,
                    pagerank=ranking.pagerank[i],
                    micro_influencer=user in micro,
                )
            )
        summary = self._summary(known, common, active_users=len(ranking.users), micro_count=len(micro))
        return records, summary

    def _known_followers(self) -> list[tuple[str, int]]:
        """Active users with known followers, most followed first (ties by user id)."""
        # All of them are active: the posts that told their followers are live.
        known = [(user, followers) for user, (followers, _) in self._followers.items()]
        known.sort(key=lambda pair: (-pair[1], pair[0]))
        return known

    def _micro(self, ranking: _Ranking, known: list[tuple[str, int]]) -> set[str]:
        if not known:
            return set()
        ceiling = float(np.quantile([f for _, f in known], self.config.micro_max_follower_percentile))
        best = _top_count(self.config.micro_top_rank_share, len(ranking.users))
        return {user for user, followers in known if ranking.rank[user] <= best and followers <= ceiling}

    def _summary(
        self, known: list[tuple[str, int]], common: dict[str, Any], *, active_users: int, micro_count: int
    ) -> InfluenceSummary:
        retweets = self._received[_RETWEET]

        def rho(share: float) -> float | None:
            top = known[: _top_count(share, len(known))]
            return spearman([f for _, f in top], [retweets.get(u, 0) for u, _ in top])

        total = sum(self._in_weight.values())
        top_1 = [u for u, _ in known[: _top_count(self.config.top_share_1, len(known))]]
        to_top = sum(self._in_weight.get(u, 0) for u in top_1)
        return InfluenceSummary(
            **common,
            spearman_followers_retweets=rho(1.0),
            spearman_followers_retweets_top10=rho(self.config.top_share_10),
            spearman_followers_retweets_top1=rho(self.config.top_share_1),
            collective_share=(total - to_top) / total if total else None,
            active_users=active_users,
            micro_influencers=micro_count,
        )

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
        """The window's retweet graph (a new one each call): edges retweeter -> attributed parent
        user, `weight` = retweets. Node attributes `followers` (when known), `retweets_received`,
        `pagerank`, `score`, `rank`: plain ints and floats, ready for `nx.write_graphml` /
        `nx.write_gexf`. Nodes come in id order.
        """
        ranking = self._ranking()
        graph: nx.DiGraph[str] = nx.DiGraph()
        users = sorted({user for edge in self._edges for user in edge})
        graph.add_nodes_from((user, self._node_attributes(user, ranking)) for user in users)
        graph.add_weighted_edges_from((a, b, w) for (a, b), w in self._edges.items())
        return graph

    def _node_attributes(self, user: str, ranking: _Ranking) -> dict[str, Any]:
        """A retweet graph user's attributes, as `retweet_graph` promises them."""
        known = self._followers.get(user)
        attrs: dict[str, Any] = {} if known is None else {"followers": known[0]}
        attrs["retweets_received"] = self._received[_RETWEET].get(user, 0)
        attrs["pagerank"] = self._pagerank[user]
        attrs["score"] = ranking.score_of(user)
        attrs["rank"] = ranking.rank[user]
        return attrs

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
