"""A deterministic synthetic tweet stream with planted, known structure.

`generate(StreamSpec(events=..., seed=...))` yields `TweetEvent`s in event-time order. The same
spec always yields the same sequence: all randomness comes from `random.Random` seeded from
`spec.seed`, and nothing reads a clock. Memory is flat in the number of events: the cast is
O(users), and the only stream state is a heap of scheduled retweets (at most `MAX_SCHEDULED`),
at most `MAX_OPEN_CASCADES` cascades that can still grow, and a fixed-size buffer of recent
tweets that replies and quotes point at.

What is planted (and reported by `synth.truth.ground_truth`):

Communities
    Every user belongs to one of `communities` (equal sizes, members at random). Each community
    owns `community_hashtags` hashtags; `shared_hashtags` are everyone's. A non-retweet carries
    0, 1 or 2 hashtag slots (10/60/30 %), each filled from its author's community with
    probability 0.8, else from the shared ones. Tags appear in the text as ``#tag`` words.
Popularity is not influence
    Follower counts are Pareto (shape 1.16). Celebrities get the top counts (at least a million)
    but their originals draw Poisson(0.3) retweets and no retweets of retweets. Influencers get
    counts below the median, yet their originals start near-critical branching cascades: the
    original draws Poisson(3) retweets and every retweet Poisson(0.9) more, hanging under it
    (`parent_id` = that retweet), so depth >= 4 is common. Each influencer posts 0.2 % and
    each celebrity 0.5 % of the originals; ordinary users post the rest, in proportion to a
    lognormal activity (a few post a lot). Ordinary originals draw a Poisson
    number of direct retweets calibrated so retweets make up `retweet_share` of the stream, and
    each retweet Poisson(0.1) more: shallow, star-like trees.
Retweets
    `retweet_of` is the original, `retweet_of_user` its author, `parent_id` the tweet it came
    through (the original or an earlier retweet of it). The retweeter is from the original
    author's community with probability `in_community_retweet_share`, else from another, and
    never retweets the same original twice. Text is ``RT @<author_name>: <original text>``,
    hashtags and mentions are the original's. Delays are exponential (30 s mean, 45 s per
    generation for influencers), cut at ten means.
Replies and quotes
    `reply_share` and `quote_share` of the stream point at a recent non-retweet, by a user of its
    author's community with the same probability as retweets. A reply starts with
    ``@<name>`` and mentions the author; about a tenth of other tweets mention a community peer.
Coordinated rings
    Each of `rings` rings is `ring_size` ordinary accounts (any community) plus one client. At
    `ring_targets` planned times the client posts an original and every ring member retweets it
    within 0.5-5 s. Targets get organic retweets too, amid the organic traffic. Ring members'
    tweets embed automated-looking profiles (weeks old, following thousands, a hundred tweets a
    day, default theme), everyone else's a person's (`synth.population`).
Bursts
    Each of `bursts` community hashtags gets, during a planned interval (a tenth of the
    stream, from 2 minutes to an hour), extra originals carrying it (and sometimes a shared
    tag) by ordinary members of its community, so that inside the interval the tag runs at
    about `burst_factor` times its usual rate, counting the retweets they set off (which carry
    it too). Some of those land just after the interval, so against the tag's rate over the
    rest of the stream the jump measures a little less (6-9x for a factor of 10).

Ids are snowflake-like: (milliseconds since the Twitter epoch) << 22 | slot. Slots below 4096
are reserved for the planted ring targets (slot = ring index), so their ids are known up front;
organic tweets use slots from 4096 on, one per tweet within the same millisecond.
"""

from __future__ import annotations

import bisect
import heapq
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING

from models.event import TweetEvent
from synth.population import (
    COMMUNITY_TAG_SHARE,
    HASHTAG_SLOTS,
    Plan,
    Population,
    build_plan,
    build_population,
    poisson,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)

# Bounds that keep memory flat however long the stream: cascades that can still receive
# retweets (the oldest is closed when one more opens), retweets scheduled but not yet posted,
# retweets per cascade, and the recent tweets that replies and quotes pick from.
MAX_OPEN_CASCADES = 5_000
MAX_SCHEDULED = 100_000
MAX_CASCADE_RETWEETS = 1_000
RECENT_TWEETS = 2_048

_TWITTER_EPOCH = datetime(2010, 11, 4, 1, 42, 54, 657_000, tzinfo=UTC)  # snowflake ids count from here
_MS = timedelta(milliseconds=1)
_SLOT_BITS = 22
ORGANIC_SLOT0 = 4096  # slots below are planted ring targets, one per ring
# Far below the ~4 million organic slots of one millisecond, so ids never collide.
_MAX_RATE = 1e6
_MAX_RINGS = ORGANIC_SLOT0

_MENTION_SHARE = 0.1
_BURST_SHARED_TAG_SHARE = 0.3
_RETWEETER_TRIES = 4  # draws before a retweet is dropped because everyone drawn already did
_DELAY_CUT = 10.0  # delays are cut at this many means, which bounds the scheduled heap
_RING_DELAY_SECONDS = (0.5, 5.0)
# As a literal, the formatter would put each word on its own line.
_WORDS = tuple(
    (  # noqa: SIM905
        "just saw this today really great thread what do you think about new the latest update cannot"
        " believe so good bad take look at here we go again best ever worst idea love hate news big"
        " small game change read more now why how everyone talking wow finally"
    ).split()
)
_WORD_COUNT = (3, 8)
_SLOT_CUTS = tuple(accumulate(HASHTAG_SLOTS))


@dataclass(frozen=True, slots=True)
class CascadeShape:
    """How an original's retweet tree grows.

    Poisson means of the retweets under the original and under each retweet, and the mean delay
    of a retweet after the tweet it came through.
    """

    root_mean: float
    child_mean: float
    delay_seconds: float

    @property
    def expected_retweets(self) -> float:
        """The expected number of retweets of one original (a Galton-Watson total)."""
        return self.root_mean / (1.0 - self.child_mean)


INFLUENCER_SHAPE = CascadeShape(root_mean=3.0, child_mean=0.9, delay_seconds=45.0)
CELEBRITY_SHAPE = CascadeShape(root_mean=0.3, child_mean=0.0, delay_seconds=30.0)
_ORDINARY_CHILD_MEAN = 0.1
_ORDINARY_DELAY_SECONDS = 30.0
# The share of originals posted by each influencer and each celebrity.
_INFLUENCER_ORIGINAL_SHARE = 0.002
_CELEBRITY_ORIGINAL_SHARE = 0.005


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSpec:
    """What to generate. Shares are of all events; `users=0` means max(200, events // 20).

    The stream lasts about `events / rate_per_second` seconds of event time from `start`.
    """

    events: int
    seed: int
    start: datetime = DEFAULT_START
    rate_per_second: float = 20.0
    users: int = 0
    communities: int = 4
    community_hashtags: int = 3
    shared_hashtags: int = 3
    influencers_per_community: int = 2
    celebrities: int = 3
    rings: int = 0
    ring_size: int = 8
    ring_targets: int = 12
    bursts: int = 1
    burst_factor: float = 10.0
    retweet_share: float = 0.6
    reply_share: float = 0.1
    quote_share: float = 0.05
    in_community_retweet_share: float = 0.9

    def __post_init__(self) -> None:
        """Fill in the default user count and reject specs that cannot be honoured."""
        if self.users == 0:
            object.__setattr__(self, "users", max(200, self.events // 20))
        aware = self.start.utcoffset() == timedelta(0)
        problems = [
            text
            for failed, text in (
                (self.events < 0, "events must be >= 0"),
                (not aware, "start must be aware UTC"),
                (
                    aware and self.start < _TWITTER_EPOCH,
                    "start must be after 2010-11-04 (snowflake ids)",
                ),
                (
                    not 0 < self.rate_per_second <= _MAX_RATE,
                    f"rate_per_second must be in (0, {_MAX_RATE:g}]",
                ),
                (self.communities < 1, "communities must be >= 1"),
                (self.community_hashtags < 1, "community_hashtags must be >= 1"),
                (
                    min(
                        self.shared_hashtags,
                        self.influencers_per_community,
                        self.celebrities,
                        self.rings,
                        self.bursts,
                    )
                    < 0,
                    "counts must be >= 0",
                ),
                (
                    self.ring_size < 2 or self.ring_targets < 1,
                    "rings need >= 2 members and >= 1 target",
                ),
                (self.rings >= _MAX_RINGS, f"rings must be < {_MAX_RINGS}"),
                (
                    self.bursts > self.communities * self.community_hashtags,
                    "bursts must be <= communities * community_hashtags (one tag each)",
                ),
                (self.burst_factor < 1, "burst_factor must be >= 1"),
                (
                    min(self.retweet_share, self.reply_share, self.quote_share) < 0,
                    "shares must be >= 0",
                ),
                (self.original_share <= 0, "retweet, reply and quote shares must sum below 1"),
                (
                    not 0 <= self.in_community_retweet_share <= 1,
                    "in_community_retweet_share must be in [0, 1]",
                ),
                (self.users < self.min_users, f"users must be >= {self.min_users} for these roles"),
            )
            if failed
        ]
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def original_share(self) -> float:
        """The share of events that are originals."""
        return 1.0 - self.retweet_share - self.reply_share - self.quote_share

    @property
    def min_users(self) -> int:
        """Enough users for every role, leaving at least ten ordinary users per community.

        Celebrities and rings land in any community, so each community gets room for all of them.
        """
        per_community = self.influencers_per_community + self.celebrities + 10
        return self.communities * per_community + self.rings * (self.ring_size + 1)


def ordinary_shape(spec: StreamSpec, population: Population) -> CascadeShape:
    """Return the shape of ordinary cascades that brings retweets to `spec.retweet_share`.

    Influencers' and celebrities' cascades count first; ordinary originals make up the rest
    (never below no retweets at all).
    """
    f_inf, f_cel = original_shares(population)
    wanted = spec.retweet_share / spec.original_share
    rest = wanted - f_inf * INFLUENCER_SHAPE.expected_retweets - f_cel * CELEBRITY_SHAPE.expected_retweets
    root_mean = max(0.0, rest / (1.0 - f_inf - f_cel)) * (1.0 - _ORDINARY_CHILD_MEAN)
    return CascadeShape(root_mean, _ORDINARY_CHILD_MEAN, _ORDINARY_DELAY_SECONDS)


def original_shares(population: Population) -> tuple[float, float]:
    """Return the shares of originals posted by influencers and by celebrities."""
    f_inf = min(0.25, _INFLUENCER_ORIGINAL_SHARE * len(population.influencers))
    f_cel = min(0.1, _CELEBRITY_ORIGINAL_SHARE * len(population.celebrities))
    return f_inf, f_cel


def stream_plan(spec: StreamSpec, population: Population) -> Plan:
    """Return the burst intervals and ring strikes of `spec` (see `build_plan`)."""
    shape = ordinary_shape(spec, population)
    return build_plan(
        spec,
        population,
        retweets_per_original=shape.expected_retweets,
        retweet_delay_seconds=shape.delay_seconds,
    )


def generate(spec: StreamSpec) -> Iterator[TweetEvent]:
    """Yield `spec.events` tweets in event-time order, deterministically from `spec.seed`."""
    population = build_population(spec)
    return _Stream(spec, population, stream_plan(spec, population)).run()


class _Cascade:
    """An original that can still receive retweets; private mutable state of `_Stream`."""

    __slots__ = (
        "author",
        "closed",
        "community",
        "hashtags",
        "mentions",
        "participants",
        "pending",
        "root_id",
        "shape",
        "size",
        "text",
    )

    def __init__(self, event: TweetEvent, author: int, community: int, shape: CascadeShape) -> None:
        self.root_id = event.id
        self.author = author
        self.text = event.text
        self.hashtags = event.hashtags
        self.mentions = event.mentions
        self.community = community
        self.shape = shape
        self.participants = {author}
        self.size = 0
        self.pending = 0
        self.closed = False


# What a scheduled heap entry does.
_BASE, _RETWEET, _RING_RETWEET, _BURST, _STRIKE = range(5)
# (seconds from start, tie-breaking sequence, what, cascade, parent id, index)
_Entry = tuple[float, int, int, "_Cascade | None", str, int]


class _Stream:
    """The event loop: a heap of scheduled happenings, popped in time order."""

    def __init__(self, spec: StreamSpec, population: Population, plan: Plan) -> None:
        self.spec = spec
        self.pop = population
        self.plan = plan
        self.rng = random.Random(f"{spec.seed}/stream")  # noqa: S311 - a simulation, not crypto
        self.ordinary_shape = ordinary_shape(spec, population)
        self.f_inf, self.f_cel = original_shares(population)
        base_share = 1.0 - spec.retweet_share
        self.base_rate = spec.rate_per_second * base_share
        self.reply_cut = spec.reply_share / base_share
        self.quote_cut = self.reply_cut + spec.quote_share / base_share
        self.heap: list[_Entry] = []
        self.sequence = 0
        self.open: dict[_Cascade, None] = {}  # insertion-ordered: the oldest first
        self.recent: list[tuple[str, int]] = []
        self.recent_next = 0
        self.start_ms = (spec.start - _TWITTER_EPOCH) // _MS
        self.last_ms = -1
        self.slot = ORGANIC_SLOT0

    # -- scheduling ----------------------------------------------------------------------

    def push(
        self,
        at: float,
        what: int,
        cascade: _Cascade | None = None,
        parent: str = "",
        index: int = 0,
    ) -> None:
        """Schedule a happening at `at` seconds from the start."""
        self.sequence += 1
        heapq.heappush(self.heap, (at, self.sequence, what, cascade, parent, index))

    def schedule_retweets(self, cascade: _Cascade, parent: str, at: float, mean: float) -> None:
        """Schedule Poisson(`mean`) retweets through `parent`, within the memory bounds."""
        rng, delay = self.rng, cascade.shape.delay_seconds
        for _ in range(poisson(rng, mean)):
            if len(self.heap) >= MAX_SCHEDULED or cascade.size + cascade.pending >= MAX_CASCADE_RETWEETS:
                break
            cascade.pending += 1
            self.push(
                at + min(rng.expovariate(1.0 / delay), _DELAY_CUT * delay),
                _RETWEET,
                cascade,
                parent,
            )

    def open_cascade(self, cascade: _Cascade) -> None:
        """Track a cascade with scheduled retweets, closing the oldest beyond the bound."""
        self.open[cascade] = None
        if len(self.open) > MAX_OPEN_CASCADES:
            oldest = next(iter(self.open))
            oldest.closed = True
            del self.open[oldest]

    def settle(self, cascade: _Cascade) -> None:
        """Forget a cascade once nothing more is scheduled in it."""
        if cascade.pending == 0 and not cascade.closed:
            cascade.closed = True
            del self.open[cascade]

    # -- the loop ------------------------------------------------------------------------

    def run(self) -> Iterator[TweetEvent]:
        """Pop happenings in time order until `spec.events` tweets are out."""
        rng, spec = self.rng, self.spec
        self.push(rng.expovariate(self.base_rate), _BASE)
        for index, burst in enumerate(self.plan.bursts):
            if burst.extra_per_second > 0:
                self.push(
                    burst.start_ms / 1000 + rng.expovariate(burst.extra_per_second),
                    _BURST,
                    index=index,
                )
        if self.plan.strikes:  # one at a time, in order: each schedules the next
            self.push(self.plan.strikes[0][0] / 1000, _STRIKE, index=0)
        emitted = 0
        while emitted < spec.events:
            at, _, what, cascade, parent, index = heapq.heappop(self.heap)
            event: TweetEvent | None
            if what == _BASE:
                self.push(at + rng.expovariate(self.base_rate), _BASE)
                event = self.base(at)
            elif what == _RETWEET:
                assert cascade is not None  # noqa: S101 - the heap entry's shape
                event = self.retweet(at, cascade, parent)
            elif what == _RING_RETWEET:
                assert cascade is not None  # noqa: S101 - the heap entry's shape
                event = self.ring_retweet(at, cascade, index)
            elif what == _BURST:
                event = self.burst(at, index)
            else:
                event = self.strike(at, index)
            if event is not None:
                emitted += 1
                yield event

    # -- happenings ----------------------------------------------------------------------

    def base(self, at: float) -> TweetEvent:
        """Post an organic non-retweet: a reply, a quote or (mostly) an original."""
        u = self.rng.random()
        if self.recent and u < self.reply_cut:
            return self.reply(at)
        if self.recent and u < self.quote_cut:
            return self.quote(at)
        return self.original(at)

    def original(self, at: float) -> TweetEvent:
        """Post an original by an influencer, a celebrity or (mostly) an ordinary user."""
        pop, rng = self.pop, self.rng
        u = rng.random()
        if u < self.f_inf:
            author, shape = rng.choice(pop.influencers), INFLUENCER_SHAPE
        elif u < self.f_inf + self.f_cel:
            author, shape = rng.choice(pop.celebrities), CELEBRITY_SHAPE
        else:
            author, shape = pop.active_author(rng), self.ordinary_shape
        return self.post_original(at, author, shape, self.tags(pop.community[author]))[0]

    def burst(self, at: float, index: int) -> TweetEvent:
        """Post an extra original with a bursting hashtag, by an ordinary community member."""
        burst, rng = self.plan.bursts[index], self.rng
        following = at + rng.expovariate(burst.extra_per_second)
        if following < burst.end_ms / 1000:
            self.push(following, _BURST, index=index)
        # The bursting tag, sometimes with a shared one: never another community tag, which
        # would then rise with it.
        shared = self.pop.shared_tags
        tags: tuple[str, ...] = (burst.hashtag,)
        if shared and rng.random() < _BURST_SHARED_TAG_SHARE:
            tags = (burst.hashtag, rng.choice(shared))
        author = rng.choice(self.pop.ordinary[burst.community])
        return self.post_original(at, author, self.ordinary_shape, tags)[0]

    def strike(self, at: float, index: int) -> TweetEvent:
        """Post a ring client's planted original and schedule every member's retweet of it."""
        at_ms, ring = self.plan.strikes[index]
        if index + 1 < len(self.plan.strikes):
            self.push(self.plan.strikes[index + 1][0] / 1000, _STRIKE, index=index + 1)
        client = self.pop.ring_clients[ring]
        event, cascade = self.post_original(
            at,
            client,
            self.ordinary_shape,
            self.tags(self.pop.community[client]),
            slot=ring,
            at_ms=at_ms,
        )
        # Reserved now, so organic retweets drawn later never take a ring member's place.
        cascade.participants.update(self.pop.rings[ring])
        low, high = _RING_DELAY_SECONDS
        for member in self.pop.rings[ring]:
            self.push(at + self.rng.uniform(low, high), _RING_RETWEET, cascade, index=member)
        return event

    def post_original(  # noqa: PLR0913 - slot and at_ms pin a planted tweet's id and time
        self,
        at: float,
        author: int,
        shape: CascadeShape,
        tags: tuple[str, ...],
        *,
        slot: int | None = None,
        at_ms: int | None = None,
    ) -> tuple[TweetEvent, _Cascade]:
        """Post an original and schedule its first retweets."""
        text, mentions = self.words(author, tags)
        event = self.event(at, author, text=text, hashtags=tags, mentions=mentions, slot=slot, at_ms=at_ms)
        self.remember(event.id, author)
        cascade = _Cascade(event, author, self.pop.community[author], shape)
        self.schedule_retweets(cascade, event.id, at, shape.root_mean)
        if cascade.pending:
            self.open_cascade(cascade)
        return event, cascade

    def retweet(self, at: float, cascade: _Cascade, parent: str) -> TweetEvent | None:
        """Post a retweet through `parent`; None if its cascade closed or nobody new came."""
        cascade.pending -= 1
        if cascade.closed:
            return None
        retweeter = self.retweeter(cascade)
        if retweeter is None:
            self.settle(cascade)
            return None
        event = self.retweet_event(at, cascade, retweeter, parent)
        self.schedule_retweets(cascade, event.id, at, cascade.shape.child_mean)
        self.settle(cascade)
        return event

    def ring_retweet(self, at: float, cascade: _Cascade, member: int) -> TweetEvent:
        """Post a ring member's retweet of its client's planted original."""
        return self.retweet_event(at, cascade, member, cascade.root_id)

    def retweet_event(self, at: float, cascade: _Cascade, user: int, parent: str) -> TweetEvent:
        """Build the retweet record itself."""
        cascade.size += 1
        cascade.participants.add(user)
        return self.event(
            at,
            user,
            text=f"RT @{self.pop.names[cascade.author]}: {cascade.text}",
            hashtags=cascade.hashtags,
            mentions=cascade.mentions,
            retweet_of=cascade.root_id,
            retweet_of_user=self.pop.ids[cascade.author],
            parent_id=parent,
        )

    def reply(self, at: float) -> TweetEvent:
        """Post a reply to a recent tweet, opening with ``@name`` and mentioning its author."""
        target, target_author = self.recent[self.rng.randrange(len(self.recent))]
        user = self.responder(target_author)
        tags = self.tags(self.pop.community[user])
        words = " ".join(self.rng.choices(_WORDS, k=self.rng.randint(*_WORD_COUNT)))
        marks = self.pop.marks
        text = " ".join((f"@{self.pop.names[target_author]}", words, *[marks[t] for t in tags]))
        author_id = self.pop.ids[target_author]
        event = self.event(
            at,
            user,
            text=text,
            hashtags=tags,
            mentions=(author_id,),
            reply_to=target,
            reply_to_user=author_id,
        )
        self.remember(event.id, user)
        return event

    def quote(self, at: float) -> TweetEvent:
        """Post a quote of a recent tweet, with the quoter's own words and hashtags."""
        target, target_author = self.recent[self.rng.randrange(len(self.recent))]
        user = self.responder(target_author)
        tags = self.tags(self.pop.community[user])
        text, mentions = self.words(user, tags)
        event = self.event(
            at,
            user,
            text=text,
            hashtags=tags,
            mentions=mentions,
            quote_of=target,
            quote_of_user=self.pop.ids[target_author],
        )
        self.remember(event.id, user)
        return event

    # -- drawing people and words --------------------------------------------------------

    def peer(self, community: int) -> int:
        """Draw a user of `community` with the in-community share, else one of another."""
        rng, members = self.rng, self.pop.members
        if len(members) > 1 and rng.random() >= self.spec.in_community_retweet_share:
            other = rng.randrange(len(members) - 1)
            community = other + (other >= community)
        return rng.choice(members[community])

    def retweeter(self, cascade: _Cascade) -> int | None:
        """Draw someone who has not retweeted this original (nor wrote it), or None."""
        for _ in range(_RETWEETER_TRIES):
            user = self.peer(cascade.community)
            if user not in cascade.participants:
                return user
        return None

    def responder(self, author: int) -> int:
        """Draw someone other than `author` to reply to or quote them."""
        user = self.peer(self.pop.community[author])
        while user == author:  # every community has at least ten members (StreamSpec.min_users)
            user = self.rng.choice(self.pop.members[self.pop.community[author]])
        return user

    def tags(self, community: int) -> tuple[str, ...]:
        """Draw hashtags for a non-retweet by a member of `community` (see the module)."""
        slots = min(bisect.bisect_right(_SLOT_CUTS, self.rng.random()), len(HASHTAG_SLOTS) - 1)
        if slots == 0:
            return ()
        own = self.pop.community_tags[community]
        first = self.tag(own)
        if slots == 1:  # the common case, kept cheap
            return (first,)
        return tuple(dict.fromkeys([first, *(self.tag(own) for _ in range(slots - 1))]))

    def tag(self, own: tuple[str, ...]) -> str:
        """Draw one hashtag: one of `own` with the community share, else a shared one."""
        rng, shared = self.rng, self.pop.shared_tags
        return rng.choice(own if not shared or rng.random() < COMMUNITY_TAG_SHARE else shared)

    def words(self, author: int, tags: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """Write text with `tags` as ``#tag`` words, sometimes mentioning a community peer."""
        rng, pop = self.rng, self.pop
        parts = rng.choices(_WORDS, k=rng.randint(*_WORD_COUNT))
        mentions: tuple[str, ...] = ()
        if rng.random() < _MENTION_SHARE:
            peer = rng.choice(pop.members[pop.community[author]])
            if peer != author:
                parts.append(f"@{pop.names[peer]}")
                mentions = (pop.ids[peer],)
        marks = pop.marks
        parts.extend([marks[t] for t in tags])
        return " ".join(parts), mentions

    def remember(self, tweet_id: str, author: int) -> None:
        """Keep a non-retweet among the recent ones that replies and quotes point at."""
        if len(self.recent) < RECENT_TWEETS:
            self.recent.append((tweet_id, author))
        else:
            self.recent[self.recent_next] = (tweet_id, author)
            self.recent_next = (self.recent_next + 1) % RECENT_TWEETS

    def event(  # noqa: PLR0913 - one keyword per optional field of TweetEvent
        self,
        at: float,
        user: int,
        *,
        text: str,
        hashtags: tuple[str, ...],
        mentions: tuple[str, ...],
        retweet_of: str | None = None,
        retweet_of_user: str | None = None,
        parent_id: str | None = None,
        reply_to: str | None = None,
        reply_to_user: str | None = None,
        quote_of: str | None = None,
        quote_of_user: str | None = None,
        slot: int | None = None,
        at_ms: int | None = None,
    ) -> TweetEvent:
        """Build a tweet by `user` at `at` seconds, with a snowflake-like id (see the module)."""
        offset_ms = round(at * 1000) if at_ms is None else at_ms
        if slot is None:
            if offset_ms != self.last_ms:
                self.last_ms, self.slot = offset_ms, ORGANIC_SLOT0
            slot, self.slot = self.slot, self.slot + 1
        pop = self.pop
        return TweetEvent(
            id=str(((self.start_ms + offset_ms) << _SLOT_BITS) | slot),
            user_id=pop.ids[user],
            at=self.spec.start + offset_ms * _MS,
            user_name=pop.names[user],
            followers=pop.followers[user],
            text=text,
            hashtags=hashtags,
            mentions=mentions,
            retweet_of=retweet_of,
            retweet_of_user=retweet_of_user,
            parent_id=parent_id,
            reply_to=reply_to,
            reply_to_user=reply_to_user,
            quote_of=quote_of,
            quote_of_user=quote_of_user,
            profile=pop.profiles[user],
        )


def planted_id(spec: StreamSpec, at_ms: int, ring: int) -> str:
    """Return the id of the original a ring's client posts at `at_ms` after the start."""
    return str((((spec.start - _TWITTER_EPOCH) // _MS + at_ms) << _SLOT_BITS) | ring)
