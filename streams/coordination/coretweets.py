"""Coordinated amplification over a rolling event-time window: accounts that repeatedly retweet
the same tweets within seconds of each other (co-retweet networks, Pacheco et al. 2021; the time
window as in CooRTweet's `detect_groups`, 10 s by default).

Every retweet (self-retweets excepted) is an item of a `SlidingWindow`; when the window's end
passes it, it joins the live retweets of its original (`retweet_of`), kept sorted by
(event time, retweet id), and is paired with the retweets just before it there:

* a *co-retweet* is two live retweets of the same original, by different accounts, less than
  `time_window` apart, the later one having the earlier among its `max_partners` predecessors
  in that order (the cap bounds the cost of viral bursts; see `CoordinationConfig`);
* a pair of accounts accumulates its co-retweets, the distinct originals they were on, and
  their lags; all of it is reverted when a retweet leaves the window.

The pairs are thus a function of the live retweets alone: arrival order, lateness and restarts
do not change them, and `clusters` equals a from-scratch computation over the same retweets.

Chance (the null): the window's `W` co-retweets with their two ends reassigned at random, each
end to account `u` with probability `k_u / R` (`k_u`: u's live retweets, `R`: all live
retweets). A pair then expects ``2 * W * k_u * k_v / R**2`` co-retweets, and these sum to about
`W` over all pairs. This is the popularity null (expected shared tweets
``k_u * k_v * sum_t (n_t / R)**2``, `n_t` the live retweets of original t) times the chance
that two retweets of the same tweet fall within `time_window` (the window's measured share of
such pairs), summed over tweets; with ``n_t * (n_t - 1)`` for ``n_t**2`` the sum collapses to
`2 W / R**2`. Why this one:

* it charges only what the ring cannot hide: how much each account retweets, and how bunched
  the window's retweets are in general. A per-tweet timing null (how many of t's retweets fall
  within `time_window` of each other) would call a ring that only retweets its client's tweets
  "chance" (its targets' retweets are all within seconds, so their pairs' chance is near 1);
* unlike a configuration null on the co-retweet graph (`d_u * d_v / 2W`, `d` the co-retweet
  degree), the ring's own co-retweets barely raise its expectation (only through `W`): on the
  synthetic streams planted ring pairs sit at lift 400+ under this null, but only ~23 under that one;
* it is O(1) per update (`W`, `R` and each `k_u` are counters) and O(1) per pair to read.

It knows nothing of communities, so organic pairs inside a tight community sit above it too:
on the synthetic streams organic pairs with 2 shared tweets reach lift above 1,000 (their
expectation is tiny). `min_lift` therefore only rules out accounts that meet by sheer volume;
`min_shared` does the rest (see `CoordinationConfig`).

Clusters: the pairs with at least `min_shared` distinct shared tweets and lift >= `min_lift`
form a graph; its connected components of at least `min_cluster` accounts, whose own lift (over
every member pair) also reaches `min_lift`, are the clusters, each with its evidence (`Cluster`).

Timeline (span 60, time_window 10; accounts a, b, c retweet originals x, y, z)::

    event time   0  1  2    10 11 12    20 21 22   ...   60 61
    retweets     xa xb xc   ya yb yc    za zb zc
    end = 60     [--------------------------------------)          a-b, a-c, b-c: 3 tweets each
    end = 61        [--------------------------------------)       xa left: a-b, a-c on y, z only

At end 60 the three accounts form a cluster (with enough other traffic to make the lift); at
61 a-b and a-c fall below `min_shared`, b-c alone is below `min_cluster`: no cluster.

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.event import TweetEvent
from streams.window import ENTERED, LATE, Admission, SlidingWindow, bump, to_ms

SNAPSHOT_VERSION = 1

_MS = timedelta(milliseconds=1)

Retweet = tuple[str, int, str, str]
"""The window's item: (original id, event time in ms since the epoch, retweet id, account)."""

_Entry = tuple[int, str, str]
"""A live retweet in its original's sorted list: (time in ms, retweet id, account)."""

_Pair = tuple[str, str]
"""Two accounts, sorted."""

_CoRetweet = tuple[str, str, int]
"""One co-retweet on a known original: (later account, earlier account, lag in ms)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinationConfig:
    """The window (`span`) and what counts as coordination.

    `time_window`: two retweets of the same original closer than this co-occur (CooRTweet's
    default, 10 s). `min_shared`: a pair must co-retweet at least this many distinct originals.
    CooRTweet's `min_participation` is 2; here 3, because on organic synthetic traffic (50k
    events, 2,500 accounts, no rings) about 70 pairs co-retweet 2 originals by chance and none
    co-retweet 3, while planted rings co-retweet every target (12 by default). `min_lift`: a pair
    (and a cluster) must have at least this many times the co-retweets chance would give. 10 is
    an order of magnitude, which with `min_shared` = 3 leaves a Poisson expectation of at most
    0.3, a chance of at most ~0.4 % per pair: it rules out hyperactive accounts that meet by
    volume, while planted rings sit far above it (see the module on the null). `min_cluster`:
    the smallest cluster reported, in accounts. `max_partners`: a retweet is paired with at most
    this many of the retweets just before it (of the same original, within `time_window`).
    Without the cap a viral burst of n retweets in 10 s costs O(n^2); with it O(n *
    max_partners). Co-retweets on such a burst are weak evidence anyway (everyone retweets it),
    and rings of up to `max_partners + 1` accounts striking together are still paired in full
    (larger ones still chain into one component).

    Denser traffic needs a higher `min_shared`: chance co-retweets grow with the square of each
    account's activity. With 600 accounts for 50k events (about 50 retweets each in 40 minutes)
    some 50 organic pairs reach 3 shared tweets at lifts of about 20 to 75, and form false clusters;
    4 cleared them there.
    """

    span: timedelta
    time_window: timedelta = timedelta(seconds=10)
    min_shared: int = 3
    min_lift: float = 10.0
    min_cluster: int = 3
    max_partners: int = 50

    def __post_init__(self) -> None:
        """Reject parameters that make no sense."""
        if self.span <= timedelta(0) or self.time_window <= timedelta(0):
            raise ValueError("span and time_window must be positive")
        if self.min_shared < 1 or self.min_cluster < 2 or self.max_partners < 1 or self.min_lift < 0:
            raise ValueError("need min_shared >= 1, min_cluster >= 2, max_partners >= 1, min_lift >= 0")


@dataclass(frozen=True, slots=True)
class Cluster:
    """A group of accounts that co-retweet more than chance, with the evidence.

    `accounts`: sorted. `shared_tweets`: the originals (sorted ids) on which at least two members
    co-retweeted. `co_retweets`: the members' co-retweets, summed over every member pair (edges
    of the cluster or not). `median_lag_seconds`: the median time between the two retweets of
    those co-retweets. `expected`: what the null gives for the same member pairs (see the
    module), and `lift` = `co_retweets / expected`.
    """

    accounts: tuple[str, ...]
    shared_tweets: tuple[str, ...]
    co_retweets: int
    median_lag_seconds: float
    expected: float
    lift: float


@dataclass(slots=True)
class _Evidence:
    """A pair's co-retweets: how many, on which originals, with which lags (both as counts)."""

    count: int = 0
    tweets: dict[str, int] = field(default_factory=dict)
    lags_ms: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class CoRetweets:
    """The co-retweet pairs of the live retweets, kept incrementally, and their clusters.

    `observe` every accepted event; `advance(end)` to move the window (live: `at` in
    `[end - span, end)`). A retweet older than the window's end is late: it joins at once when
    still inside the window (`late_events`), and is dropped when older (`dropped_events`).
    Cost per retweet entering or leaving, with n live retweets of its original: O(max_partners +
    log n) in the common case (it is the latest, or the oldest, of them; plus a list shift when
    the oldest leaves), O(max_partners^2 + n) when it lands in the middle (late or tied in time).
    """

    config: CoordinationConfig
    late_events: int = 0
    dropped_events: int = 0
    _window: SlidingWindow[Retweet] = field(init=False, repr=False)
    _by_tweet: dict[str, list[_Entry]] = field(default_factory=dict, repr=False)
    _activity: dict[str, int] = field(default_factory=dict, repr=False)  # k_u: live retweets
    _retweets: int = 0  # R
    _co_retweets: int = 0  # W
    _pairs: dict[_Pair, _Evidence] = field(default_factory=dict, repr=False)
    _candidates: set[_Pair] = field(default_factory=set, repr=False)  # >= min_shared tweets

    def __post_init__(self) -> None:
        """Start empty."""
        self._window = SlidingWindow(self.config.span)

    # -- input ----------------------------------------------------------------------------------

    def observe(self, event: TweetEvent) -> None:
        """Hold a retweet until the window's end passes `event.at`; anything else is ignored.

        Self-retweets are ignored too: re-sharing one's own tweet coordinates with nobody.
        """
        if event.retweet_of is None or event.retweet_of_user == event.user_id:
            return
        at_ms = to_ms(event.at)
        item: Retweet = (event.retweet_of, at_ms, event.id, event.user_id)
        admission = self._window.add(item, event.at)
        if admission in LATE:
            self.late_events += 1
        if admission in ENTERED:
            self._enter(item)
        elif admission is Admission.DROPPED:
            self.dropped_events += 1

    def advance(self, end: datetime) -> None:
        """Move the window's end to `end` (never backwards): pair what entered, revert what left."""
        self._window.advance(end).apply(self._enter, self._leave)

    def work_ahead(self, until: datetime, limit: int) -> int:
        """Do at most `limit` moves of what `advance(until)` will do, now; return how many were
        done. The pairs are a function of the live retweets, so this is invisible to `clusters`
        after that advance (`SlidingWindow.work_ahead`).
        """
        change = self._window.work_ahead(until, limit)
        change.apply(self._enter, self._leave)
        return len(change)

    # -- incremental state ----------------------------------------------------------------------

    def _enter(self, item: Retweet) -> None:
        tweet, at_ms, retweet_id, account = item
        entry: _Entry = (at_ms, retweet_id, account)
        entries = self._by_tweet.get(tweet)
        if entries is None:  # the first live retweet of its original: nobody to pair with
            self._by_tweet[tweet] = [entry]
        elif (i := bisect.bisect(entries, entry)) == len(entries):
            # The common case: the latest retweet of its original.
            entries.append(entry)
            self._apply(tweet, self._owned(entries, i), 1)
        else:
            # Landing in the middle changes the predecessors of the next `max_partners` entries.
            reach = self.config.max_partners
            for j in range(i, min(len(entries), i + reach)):
                self._apply(tweet, self._owned(entries, j), -1)
            entries.insert(i, entry)
            for j in range(i, min(len(entries), i + reach + 1)):
                self._apply(tweet, self._owned(entries, j), 1)
        self._activity[account] = self._activity.get(account, 0) + 1
        self._retweets += 1

    def _leave(self, item: Retweet) -> None:
        tweet, at_ms, retweet_id, account = item
        entries = self._by_tweet[tweet]
        entry: _Entry = (at_ms, retweet_id, account)
        i = bisect.bisect_left(entries, entry)
        reach = self.config.max_partners
        if i == 0:  # the common case, the oldest: it is nobody's successor, so only its pairs go
            window_ms = self.config.time_window // _MS
            for j in range(1, min(len(entries), reach + 1)):
                later_ms, _, later = entries[j]
                if later_ms - at_ms >= window_ms:
                    break
                if later != account:
                    self._bump(tweet, later, account, later_ms - at_ms, -1)
            del entries[0]
        else:
            for j in range(i, min(len(entries), i + reach + 1)):
                self._apply(tweet, self._owned(entries, j), -1)
            del entries[i]
            for j in range(i, min(len(entries), i + reach)):
                self._apply(tweet, self._owned(entries, j), 1)
        if not entries:
            del self._by_tweet[tweet]
        bump(self._activity, account, -1)
        self._retweets -= 1

    def _owned(self, entries: list[_Entry], j: int) -> list[_CoRetweet]:
        """The co-retweets of entry `j` with its predecessors (at most `max_partners` back)."""
        at_ms, _, account = entries[j]
        window_ms = self.config.time_window // _MS
        found = []
        for p in range(j - 1, max(-1, j - 1 - self.config.max_partners), -1):
            earlier_ms, _, earlier = entries[p]
            if at_ms - earlier_ms >= window_ms:
                break
            if earlier != account:
                found.append((account, earlier, at_ms - earlier_ms))
        return found

    def _apply(self, tweet: str, co_retweets: list[_CoRetweet], sign: int) -> None:
        for later, earlier, lag_ms in co_retweets:
            self._bump(tweet, later, earlier, lag_ms, sign)

    def _bump(self, tweet: str, u: str, v: str, lag_ms: int, sign: int) -> None:
        pair = (u, v) if u < v else (v, u)
        evidence = self._pairs.get(pair)
        if evidence is None:
            evidence = self._pairs[pair] = _Evidence()
        evidence.count += sign
        bump(evidence.tweets, tweet, sign)
        bump(evidence.lags_ms, lag_ms, sign)
        self._co_retweets += sign
        if len(evidence.tweets) >= self.config.min_shared:
            self._candidates.add(pair)
        else:
            self._candidates.discard(pair)
        if not evidence.count:
            del self._pairs[pair]

    # -- on demand ------------------------------------------------------------------------------

    def expected(self, u: str, v: str) -> float:
        """The co-retweets chance gives accounts `u` and `v`: ``2 W k_u k_v / R**2`` (see the module)."""
        if not self._retweets:
            return 0.0
        k = self._activity
        return 2 * self._co_retweets * k.get(u, 0) * k.get(v, 0) / self._retweets**2

    def clusters(self) -> list[Cluster]:
        """The current clusters, largest first, ties by first account.

        Cost: O(candidate pairs + co-retweet pairs), plus sorting each cluster's lags.
        """
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = x = parent[parent[x]]
            return x

        for u, v in sorted(self._candidates):
            if self._pairs[u, v].count >= self.config.min_lift * self.expected(u, v):
                ru, rv = find(u), find(v)
                if ru != rv:
                    parent[max(ru, rv)] = min(ru, rv)
        groups: dict[str, list[str]] = {}
        for account in parent:
            groups.setdefault(find(account), []).append(account)
        members = {root: group for root, group in groups.items() if len(group) >= self.config.min_cluster}
        evidence: dict[str, list[_Evidence]] = {root: [] for root in members}
        for (u, v), pair in self._pairs.items():
            if u in parent and v in parent and (root := find(u)) == find(v) and root in members:
                evidence[root].append(pair)
        found = [self._cluster(members[root], evidence[root]) for root in members]
        found = [c for c in found if c.lift >= self.config.min_lift]
        found.sort(key=lambda c: (-len(c.accounts), c.accounts[0]))
        return found

    def _cluster(self, accounts: list[str], pairs: list[_Evidence]) -> Cluster:
        k = [self._activity[a] for a in accounts]
        total = sum(k)
        # Integer sums: the expectation (over every member pair) is exact before one division.
        weight = self._co_retweets * (total * total - sum(x * x for x in k))
        expected = weight / self._retweets**2
        co_retweets = sum(p.count for p in pairs)
        lags: dict[int, int] = {}
        for p in pairs:
            for lag, count in p.lags_ms.items():
                lags[lag] = lags.get(lag, 0) + count
        return Cluster(
            accounts=tuple(sorted(accounts)),
            shared_tweets=tuple(sorted({t for p in pairs for t in p.tweets})),
            co_retweets=co_retweets,
            median_lag_seconds=_median(lags) / 1000,
            expected=expected,
            lift=co_retweets / expected,
        )

    # -- persistence ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-able plain data from which `restore` rebuilds this state exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "window": self._window.snapshot(list),
            "late_events": self.late_events,
            "dropped_events": self.dropped_events,
        }

    @classmethod
    def restore(cls, config: CoordinationConfig, data: dict[str, Any]) -> CoRetweets:
        """Rebuild the state `snapshot` described; it continues exactly as the original would."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"unknown coordination snapshot version {data['version']}")
        state = cls(config, late_events=data["late_events"], dropped_events=data["dropped_events"])
        state._window = SlidingWindow.restore(data["window"], _decode)
        # The pairs are a function of the live retweets, whatever order they are replayed in.
        for item in state._window.live():
            state._enter(item)
        return state


def _decode(data: Any) -> Retweet:
    tweet, at_ms, retweet_id, account = data
    return (tweet, at_ms, retweet_id, account)


def _median(counts: dict[int, int]) -> float:
    """The median of a multiset given as value -> count (mean of the middle two when even)."""
    values = sorted(counts)
    size = sum(counts.values())
    low, high = (size - 1) // 2, size // 2
    seen, found = 0, list[int]()
    for value in values:
        seen += counts[value]
        while len(found) < 2 and seen > (low, high)[len(found)]:
            found.append(value)
    return (found[0] + found[1]) / 2
