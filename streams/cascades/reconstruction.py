"""Choosing each retweet's parent: which earlier tweet of its cascade it came through.

Platform data usually attributes every retweet to the original, which turns every cascade into a
star and hides who actually spread it (DeVerna et al. 2024, arXiv:2410.21554, find the node
strength of the naive star and of the reconstructed tree correlate at only 0.19-0.33 on
Twitter). The rules, first match wins:

1. **Explicit data.** The event's `parent_id` when it is already in the cascade; else the tweet
   the retweet names (`retweet_of`) when that is itself a retweet in the cascade (some sources
   point retweets of retweets at the intermediate tweet).
2. **Explicit text chain.** A retweet whose text starts ``RT @a: RT @b: ...`` retweeted a's
   tweet, itself a retweet of b's: the parent is the latest participant named ``a``
   (case-insensitive) no later than the retweet. A single ``RT @a:`` is no evidence: a native
   retweet's text always names the original's author, however it travelled.
3. **Inference**, by `ReconstructionConfig.method`:

   - ``root``: the original (the naive star, what the platform reports).
   - ``time``: with a follower graph, the latest earlier participant the retweeter follows,
     else the original (time-inferred diffusion, Goel et al. 2016, as used by Vosoughi et al.
     2018). Without one, the latest earlier participant: every cascade then becomes a chain,
     whose depth makes each `Cascade.add` O(size) (measured on the 15,563-tweet seismic cascade:
     4.8 s, ten times ``deverna``'s 0.5 s). Without a follower graph, prefer ``deverna``.
   - ``deverna``: DeVerna et al. 2024's reconstruction without a follower graph (code:
     osome-iu/cascade_reconstruction): earlier participant ``j`` is the parent with probability

         P(j) = gamma * f_j / sum_k f_k + (1 - gamma) * PL(t - t_j) / sum_k PL(t - t_k)
         PL(z) = ((alpha - 1) / x_min) * (x_min / max(z, x_min)) ** alpha

     with ``f`` follower counts (unknown counts as 0; when all are 0 the follower term is
     uniform) and ``z`` in seconds. Their code evaluates PL on a tiny band around ``z + 0.1 s``;
     here it is clamped at ``x_min`` instead, so retweets within ``x_min`` of each other weigh
     the same. The parent is drawn with a `random.Random` seeded from (seed, root id, retweet
     id) through BLAKE2b, so the same input always gives the same tree, on any machine (the
     numpy path, from 64 candidates on, matches the Python one up to rounding, which only
     matters for a draw within about 1e-16 of an interval's edge).

Candidates are bounded: the original, always, plus the `max_candidates` (default 1000) latest
retweets of the cascade by event time. Older retweets can no longer be chosen, whatever the rule,
so per retweet ``root`` costs O(1), ``time`` O(log N) (a bisection; insertion is O(1) when
events arrive in time order), ``time`` with a follower graph and ``deverna`` O(N), and the
bookkeeping per cascade is O(N) memory. The cap
changes ``deverna`` only in cascades with more than N earlier retweets, and there only through
the oldest ones, whose time term is the smallest.
"""

from __future__ import annotations

import hashlib
import random
import re
from array import array
from bisect import bisect_right
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, TypedDict, get_args

import numpy as np
import numpy.typing as npt

from models.event import TweetEvent
from streams.window import to_ms

Method = Literal["root", "time", "deverna"]

DEFAULT_MAX_CANDIDATES = 1000

SNAPSHOT_VERSION = 1

# From this many candidates on, `deverna_pick` computes with numpy: below it, numpy's per-call
# overhead costs more than the Python loop (measured: 20 candidates 2.8 us in Python against
# 6.6 us in numpy; 1000 candidates 114 us against 13 us).
_VECTORISE_FROM = 64

_MS_PER_SECOND = 1000.0

# One "RT @name:" prefix; the colon is optional because hand-made retweets often omit it.
_RT_PREFIX = re.compile(r"\s*RT\s*@(\w{1,15})(?::\s*|\s+)", re.IGNORECASE | re.ASCII)
# Two of them: the retweet came through the first name's tweet (one match per retweet).
_RT_CHAIN = re.compile(r"\s*RT\s*@(\w{1,15})(?::\s*|\s+)RT\s*@\w", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True, slots=True)
class ReconstructionConfig:
    """How retweets are attributed when the data does not say (see the module docstring).

    Parameters
    ----------
    method
        ``root``, ``time`` or ``deverna``.
    follower_graph
        User id -> the user ids they follow; only ``time`` uses it.
    gamma, alpha, x_min_seconds
        DeVerna's weight of the follower term, power-law exponent (> 1) and its lower cutoff.
    seed
        Varies ``deverna``'s draws; the same seed and input give the same tree.
    max_candidates
        Most recent retweets per cascade that can still be parents (the original always can).

    """

    method: Method = "time"
    follower_graph: Mapping[str, frozenset[str]] | None = field(default=None, repr=False, hash=False)
    gamma: float = 0.5
    alpha: float = 2.0
    x_min_seconds: float = 1.0
    seed: int = 0
    max_candidates: int = DEFAULT_MAX_CANDIDATES

    def __post_init__(self) -> None:
        """Reject parameters outside their domain, and a follower graph no method would read."""
        if self.method not in get_args(Method):
            raise ValueError(f"unknown reconstruction method {self.method!r}")
        if self.follower_graph is not None and self.method != "time":
            raise ValueError(f"method {self.method!r} does not use a follower graph; only 'time' does")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        if not self.alpha > 1.0:
            # PL's constant (alpha - 1) / x_min is 0 at alpha = 1: no power law to normalise.
            raise ValueError(f"alpha must exceed 1, got {self.alpha}")
        if not self.x_min_seconds > 0.0:
            raise ValueError(f"x_min_seconds must be positive, got {self.x_min_seconds}")
        if self.max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, got {self.max_candidates}")

    def describe(self) -> str:
        """Name the method and the parameters that shape its trees, for a record's `reconstruction`.

        Defaults of secondary parameters are left out.

        >>> ReconstructionConfig(method="deverna").describe()
        'deverna(gamma=0.5,alpha=2.0)'
        >>> ReconstructionConfig(method="time", follower_graph={}).describe()
        'time+followers'
        """
        if self.method == "root":
            return "root"
        if self.method == "time":
            return "time" if self.follower_graph is None else "time+followers"
        parameters = [f"gamma={self.gamma}", f"alpha={self.alpha}"]
        if self.x_min_seconds != 1.0:
            parameters.append(f"x_min={self.x_min_seconds}s")
        if self.seed != 0:
            parameters.append(f"seed={self.seed}")
        if self.max_candidates != DEFAULT_MAX_CANDIDATES:
            parameters.append(f"candidates={self.max_candidates}")
        return f"deverna({','.join(parameters)})"


def retweeted_names(text: str) -> tuple[str, ...]:
    """The case-folded screen names of the leading ``RT @name:`` chain, outermost first.

    >>> retweeted_names("RT @Alice: RT @bob: hello")
    ('alice', 'bob')
    >>> retweeted_names("hello RT @alice: x")
    ()
    """
    names: list[str] = []
    position = 0
    while (match := _RT_PREFIX.match(text, position)) is not None:
        names.append(match.group(1).casefold())
        position = match.end()
    return tuple(names)


def chain_source(text: str) -> str | None:
    """The case-folded name `a` of a text starting ``RT @a: RT @b:``, the tweet it came through.

    >>> chain_source("RT @Alice: RT @bob: hello"), chain_source("RT @alice: hello")
    ('alice', None)
    """
    match = _RT_CHAIN.match(text)
    return None if match is None else match.group(1).casefold()


def deverna_probabilities(
    gaps_seconds: Sequence[float],
    followers: Sequence[int | None],
    *,
    gamma: float,
    alpha: float,
    x_min_seconds: float,
) -> list[float]:
    """DeVerna et al. 2024's parent probabilities, one per candidate (pure Python, the reference).

    `gaps_seconds[j]` is the time from candidate j to the retweet (>= 0), `followers[j]` its
    author's follower count (None counts as 0). PL's constant (alpha - 1) / x_min cancels in
    the normalisation, and every weight is divided by the largest one, so none underflows.

    >>> deverna_probabilities([1.0, 2.0], [300, 100], gamma=0.5, alpha=2.0, x_min_seconds=1.0)
    [0.775, 0.225]
    """
    n = len(gaps_seconds)
    if n == 0 or len(followers) != n:
        raise ValueError("one follower count is needed per candidate, and at least one candidate")
    counts = [count or 0 for count in followers]
    total_followers = sum(counts)
    follower_term = [count / total_followers for count in counts] if total_followers else [1 / n] * n
    clamped = [max(gap, x_min_seconds) for gap in gaps_seconds]
    nearest = min(clamped)
    weights = [(nearest / gap) ** alpha for gap in clamped]
    total_weight = sum(weights)
    return [
        gamma * by_followers + (1.0 - gamma) * weight / total_weight
        for by_followers, weight in zip(follower_term, weights, strict=True)
    ]


def deverna_pick(  # noqa: PLR0913 - the formula's parameters, keyword-only and named as in the paper
    gaps_seconds: Sequence[float] | npt.NDArray[np.float64],
    followers: Sequence[int] | npt.NDArray[np.float64],
    u: float,
    *,
    gamma: float,
    alpha: float,
    x_min_seconds: float,
) -> int:
    """The candidate whose cumulative-probability interval holds `u` in [0, 1).

    The probabilities are `deverna_probabilities`'; from `_VECTORISE_FROM` candidates on they are
    computed with numpy, equal up to rounding. A candidate of probability 0 is never picked.
    """
    n = len(gaps_seconds)
    if n < _VECTORISE_FROM:
        probabilities = deverna_probabilities(
            list(gaps_seconds),
            list(followers),
            gamma=gamma,
            alpha=alpha,
            x_min_seconds=x_min_seconds,
        )
        cumulative = 0.0
        for index, probability in enumerate(probabilities):
            cumulative += probability
            if u < cumulative:
                return index
        return max(index for index, probability in enumerate(probabilities) if probability > 0)
    counts = np.asarray(followers, dtype=np.float64)
    total_followers = counts.sum()
    follower_term = counts / total_followers if total_followers else np.full(n, 1.0 / n)
    clamped = np.maximum(np.asarray(gaps_seconds, dtype=np.float64), x_min_seconds)
    weights = (clamped.min() / clamped) ** alpha
    probabilities_array = gamma * follower_term + (1.0 - gamma) * (weights / weights.sum())
    index = int(np.searchsorted(np.cumsum(probabilities_array), u, side="right"))
    if index < n:
        return index
    # Rounding left the total just under u: take the last candidate that can be picked.
    return int(np.flatnonzero(probabilities_array > 0)[-1])


def draw(seed: int, root_id: str, node_id: str) -> float:
    """A uniform draw on [0, 1) fixed by (seed, root id, retweet id), the same on every run.

    BLAKE2b rather than `hash()`, whose value for a string changes with each process.
    """
    key = f"{seed}\x1f{root_id}\x1f{node_id}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return random.Random(int.from_bytes(digest)).random()  # noqa: S311 - reproducible, not a secret


_new_tuple = tuple.__new__  # builds a named tuple without calling its Python-level __new__


class Participant(NamedTuple):
    """One tweet of a cascade as a candidate parent: the original or a retweet.

    A named tuple rather than a frozen dataclass: one is made per retweet, and a tuple is
    built several times faster.
    """

    node_id: str
    user_id: str
    at: datetime
    at_ms: int  # `at` in epoch milliseconds, the candidates' sort key
    name: str | None = None  # the author's screen name, case-folded
    followers: int = 0  # unknown counts as 0, as in DeVerna's follower term

    @classmethod
    def of(cls, event: TweetEvent) -> Participant:
        """The participant `event` makes."""
        # tuple.__new__ directly: a named tuple's own __new__ is a Python function, and one
        # participant is made per tweet.
        return _new_tuple(
            cls,
            (
                event.id,
                event.user_id,
                event.at,
                to_ms(event.at),
                None if event.user_name is None else event.user_name.casefold(),
                event.followers or 0,
            ),
        )

    @classmethod
    def of_unseen(cls, node_id: str, user_id: str, at: datetime, name: str | None = None) -> Participant:
        """An original known only from its retweets: author's followers unknown (0)."""
        return cls(node_id, user_id, at, to_ms(at), name)

    def to_json(self) -> list[str | int | None]:
        """`[node_id, user_id, at (ISO 8601), name, followers]`."""
        return [self.node_id, self.user_id, self.at.isoformat(), self.name, self.followers]

    @classmethod
    def from_json(cls, data: list[str | int | None]) -> Participant:
        """Inverse of `to_json`."""
        node_id, user_id, at, name, followers = data
        if not (isinstance(node_id, str) and isinstance(user_id, str) and isinstance(at, str)):
            raise TypeError(f"participant snapshot: bad ids or time in {data!r}")
        if not (name is None or isinstance(name, str)) or not isinstance(followers, int):
            raise TypeError(f"participant snapshot: bad name or followers in {data!r}")
        when = datetime.fromisoformat(at)
        return cls(node_id, user_id, when, to_ms(when), name, followers)


class CandidatesSnapshot(TypedDict):
    """The plain, JSON-serialisable state of `Candidates`."""

    version: int
    root: list[str | int | None]
    members: list[list[str | int | None]]  # in event-time order


class Candidates:
    """The tweets of one cascade that a new retweet may have come through.

    The original always, and the `limit` latest retweets by event time (ties in arrival order),
    kept sorted so "earlier than t" is a prefix found by bisection.
    """

    __slots__ = ("_followers", "_members", "_times_ms", "limit", "root")

    def __init__(self, root: Participant, limit: int = DEFAULT_MAX_CANDIDATES) -> None:
        """Start with the original alone."""
        self.root = root
        self.limit = limit
        # Typed arrays: compact, and numpy reads a slice of them without converting each item.
        self._times_ms = array("q")
        self._followers = array("q")
        self._members: list[Participant] = []

    def add(self, participant: Participant) -> None:
        """Hold a new retweet; past `limit`, forget the oldest. O(1) amortised in time order."""
        at_ms = participant.at_ms
        position = bisect_right(self._times_ms, at_ms)
        if position == len(self._members):
            self._times_ms.append(at_ms)
            self._followers.append(participant.followers)
            self._members.append(participant)
        else:  # a late arrival, rare: an O(N) shift
            self._times_ms.insert(position, at_ms)
            self._followers.insert(position, participant.followers)
            self._members.insert(position, participant)
        if len(self._members) > self.limit:
            del self._times_ms[0], self._followers[0], self._members[0]

    def update_root(self, root: Participant) -> None:
        """Replace the original's facts (once the original itself turns up)."""
        self.root = root

    def earlier(self, at: datetime) -> int:
        """How many held retweets are no later than `at`: they are `members()[:count]`."""
        return bisect_right(self._times_ms, to_ms(at))

    def times_and_followers(self, count: int) -> tuple[array[int], array[int]]:
        """Copies of the first `count` held retweets' times (epoch ms) and follower counts."""
        return self._times_ms[:count], self._followers[:count]

    def members(self) -> Sequence[Participant]:
        """The held retweets, in event-time order (read-only)."""
        return self._members

    def __len__(self) -> int:
        """Held retweets, the original not counted."""
        return len(self._members)

    def snapshot(self) -> CandidatesSnapshot:
        """Plain data from which `restore` rebuilds these candidates exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "root": self.root.to_json(),
            "members": [member.to_json() for member in self._members],
        }

    @classmethod
    def restore(cls, data: CandidatesSnapshot, limit: int = DEFAULT_MAX_CANDIDATES) -> Candidates:
        """The candidates `snapshot` described (trimmed to `limit` if it is smaller now)."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"candidates snapshot version {data['version']!r} is not supported")
        candidates = cls(Participant.from_json(data["root"]), limit)
        for member in data["members"]:
            # In time order, so each lands at the end, ties keeping their order.
            candidates.add(Participant.from_json(member))
        return candidates

    def __eq__(self, other: object) -> bool:
        """Equal when the original, the limit and the held retweets, in order, are equal."""
        if not isinstance(other, Candidates):
            return NotImplemented
        return (self.root, self.limit, self._members) == (other.root, other.limit, other._members)

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __repr__(self) -> str:
        """Summarise."""
        return f"Candidates(root={self.root.node_id!r}, held={len(self._members)}, limit={self.limit})"


class ParentChoice(NamedTuple):
    """A retweet's parent and whether the data named it (True) or the method inferred it."""

    parent_id: str
    explicit: bool


class Reconstructor:
    """Chooses each retweet's parent under one `ReconstructionConfig` (rules in the module docstring).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> candidates = Candidates(Participant.of_unseen("r", "alice", t0))
    >>> candidates.add(Participant.of_unseen("a", "bob", t0 + timedelta(minutes=1)))
    >>> retweet = TweetEvent(id="b", user_id="carol", at=t0 + timedelta(minutes=2), retweet_of="r")
    >>> Reconstructor(ReconstructionConfig(method="time")).choose(candidates, retweet, members={"r", "a"})
    ParentChoice(parent_id='a', explicit=False)
    >>> Reconstructor(ReconstructionConfig(method="root")).choose(candidates, retweet, members={"r", "a"})
    ParentChoice(parent_id='r', explicit=False)

    """

    __slots__ = ("config",)

    def __init__(self, config: ReconstructionConfig) -> None:
        """Use `config`."""
        self.config = config

    def choose(
        self,
        candidates: Candidates,
        event: TweetEvent,
        *,
        members: Container[str],
        through: str | None = None,
    ) -> ParentChoice:
        """The parent of retweet `event` among its cascade's tweets.

        `members` answers whether a tweet id is in the cascade (the `Cascade` itself will do);
        `through` is the tweet the retweet names (default `event.retweet_of`), the original
        or, in some sources, an earlier retweet.
        """
        # Choices are built by `_new_tuple` (see `Participant.of`): one is made per retweet.
        root_id = candidates.root.node_id
        through = event.retweet_of if through is None else through
        if event.parent_id is not None and event.parent_id in members:
            return _new_tuple(ParentChoice, (event.parent_id, True))
        if through is not None and through != root_id and through in members:
            return _new_tuple(ParentChoice, (through, True))
        earlier = candidates.earlier(event.at)
        source = chain_source(event.text)
        if source is not None:
            named = _latest_named(candidates, source, earlier)
            if named is not None:
                return _new_tuple(ParentChoice, (named, True))
        method = self.config.method
        if method == "root" or earlier == 0:
            return _new_tuple(ParentChoice, (root_id, False))
        if method == "time":
            return _new_tuple(ParentChoice, (self._time(candidates, event, earlier), False))
        return _new_tuple(ParentChoice, (self._deverna(candidates, event, earlier), False))

    def _time(self, candidates: Candidates, event: TweetEvent, earlier: int) -> str:
        members = candidates.members()
        graph = self.config.follower_graph
        if graph is None:
            return members[earlier - 1].node_id
        followees = graph.get(event.user_id)
        if followees:
            for index in range(earlier - 1, -1, -1):
                if members[index].user_id in followees:
                    return members[index].node_id
        return candidates.root.node_id

    def _deverna(self, candidates: Candidates, event: TweetEvent, earlier: int) -> str:
        config = self.config
        root = candidates.root
        at_ms = to_ms(event.at)
        root_gap = max(at_ms - root.at_ms, 0) / _MS_PER_SECOND
        times_ms, followers = candidates.times_and_followers(earlier)
        gaps: Sequence[float] | npt.NDArray[np.float64]
        counts: Sequence[int] | npt.NDArray[np.float64]
        if earlier + 1 < _VECTORISE_FROM:
            gaps = [root_gap, *((at_ms - t) / _MS_PER_SECOND for t in times_ms)]
            counts = [root.followers, *followers]
        else:
            member_gaps = (at_ms - np.frombuffer(times_ms, dtype=np.int64)) / _MS_PER_SECOND
            gaps = np.concatenate(([root_gap], member_gaps))
            counts = np.concatenate(([root.followers], np.frombuffer(followers, dtype=np.int64)))
        u = draw(config.seed, root.node_id, event.id)
        index = deverna_pick(
            gaps,
            counts,
            u,
            gamma=config.gamma,
            alpha=config.alpha,
            x_min_seconds=config.x_min_seconds,
        )
        return root.node_id if index == 0 else candidates.members()[index - 1].node_id


def _latest_named(candidates: Candidates, name: str, earlier: int) -> str | None:
    """The latest of the first `earlier` held retweets by `name`, else the original if it is
    `name`'s, else None.
    """
    members = candidates.members()
    for index in range(earlier - 1, -1, -1):
        if members[index].name == name:
            return members[index].node_id
    return candidates.root.node_id if candidates.root.name == name else None
