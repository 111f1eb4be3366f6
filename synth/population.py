"""Everything a synthetic stream decides up front from its seed: the cast and the schedule.

The cast (`Population`) is every user with a stable name, follower count, community and role;
the schedule (`Plan`) is when each hashtag burst happens and when each coordinated ring strikes.
Both cost O(users + rings x targets) and are computed before the first tweet, so the ground
truth is known without generating the stream.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate, pairwise
from typing import TYPE_CHECKING

from models.event import Profile

if TYPE_CHECKING:
    from synth.generator import StreamSpec

_THEMES = (
    "climate",
    "football",
    "crypto",
    "music",
    "gaming",
    "science",
    "cooking",
    "travel",
    "fashion",
    "politics",
    "movies",
    "fitness",
)
_SUFFIXES = ("news", "talk", "life", "fans", "daily", "world", "hub", "now")
_SHARED = ("breaking", "trending", "mood", "viral", "thread", "monday", "weekend", "tbt")
_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ren",
    "ta",
    "zu",
    "bel",
    "no",
    "ri",
    "sa",
    "vek",
    "do",
    "lia",
    "mor",
    "phi",
    "qua",
    "sel",
    "tor",
    "umi",
    "xan",
    "yor",
    "zen",
    "bri",
    "cas",
)

# Follower counts: Pareto with shape 1.16 (the "80/20" tail) times a scale of 20 followers.
_FOLLOWER_SCALE = 20
_FOLLOWER_SHAPE = 1.16
_FOLLOWER_CAP = 5_000_000
# Celebrities sit above everyone, and at least at a million.
_CELEBRITY_FLOOR = 1_000_000

# Hashtags on a non-retweet: how many slots (0, 1 or 2) and, per slot, the chance that it takes
# one of the author's community hashtags rather than a shared one.
HASHTAG_SLOTS = (0.1, 0.6, 0.3)
COMMUNITY_TAG_SHARE = 0.8

# A ring strikes at planned times inside this share of the expected stream duration, so that
# every planned target is posted before the stream ends (Poisson noise is far smaller).
_PLAN_FROM, _PLAN_TO = 0.05, 0.85
# A burst lasts a tenth of the stream, within [2 minutes, 1 hour] (but at most 40 % of a short
# stream): long enough that most of the retweets it sets off land inside it.
_BURST_SHARE_OF_DURATION = 0.1
_MIN_BURST_SECONDS = 120.0
_MAX_BURST_SECONDS = 3600.0
_MAX_BURST_SHARE = 0.4  # however short the stream, a burst leaves time around it
# Above this mean a Poisson draw is taken as normal (Knuth's method would cost `mean` uniforms).
_NORMAL_POISSON_ABOVE = 30.0


def community_hashtags(community: int, count: int) -> tuple[str, ...]:
    """Return the hashtags owned by one community.

    >>> community_hashtags(1, 2)
    ('footballnews', 'footballtalk')
    """
    cycle, index = divmod(community, len(_THEMES))
    theme = _THEMES[index] + (str(cycle) if cycle else "")
    return tuple(_numbered(theme + _SUFFIXES[j % len(_SUFFIXES)], j // len(_SUFFIXES)) for j in range(count))


def shared_hashtags(count: int) -> tuple[str, ...]:
    """Return the hashtags every community uses.

    >>> shared_hashtags(2)
    ('breaking', 'trending')
    """
    return tuple(_numbered(_SHARED[j % len(_SHARED)], j // len(_SHARED)) for j in range(count))


def _numbered(word: str, cycle: int) -> str:
    return word + (str(cycle + 1) if cycle else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Population:
    """The users of a synthetic stream, by index; a user's id is ``u<index>``.

    `members[c]` lists community c's users; `ordinary[c]` those of them with no role (neither
    influencer nor celebrity), who post the bulk of originals, weighted by `activity`.
    """

    ids: tuple[str, ...]
    names: tuple[str, ...]
    followers: tuple[int, ...]
    community: tuple[int, ...]
    members: tuple[tuple[int, ...], ...]
    ordinary: tuple[tuple[int, ...], ...]
    community_tags: tuple[tuple[str, ...], ...]
    shared_tags: tuple[str, ...]
    influencers: tuple[int, ...]
    celebrities: tuple[int, ...]
    rings: tuple[tuple[int, ...], ...]
    ring_clients: tuple[int, ...]
    # Ordinary authors of originals, by activity: `bisect(activity_cum, u * total)`.
    activity_users: tuple[int, ...]
    activity_cum: tuple[float, ...]
    marks: dict[str, str]  # hashtag -> "#hashtag", as written in text
    profiles: tuple[Profile, ...]  # each user's account, as embedded in their tweets

    @property
    def size(self) -> int:
        """The number of users."""
        return len(self.names)

    def active_author(self, rng: random.Random) -> int:
        """Draw an ordinary user in proportion to activity (heavy-tailed: a few post a lot)."""
        total = self.activity_cum[-1]
        return self.activity_users[
            bisect.bisect_right(self.activity_cum, rng.random() * total) if total else 0
        ]

    def activity_share(self, community: int) -> float:
        """Return the share of ordinary originals posted by `community`'s members."""
        weights = [b - a for a, b in pairwise((0.0, *self.activity_cum))]
        total = sum(weights)
        own = sum(
            w
            for user, w in zip(self.activity_users, weights, strict=True)
            if self.community[user] == community
        )
        return own / total if total else 0.0


def user_id(index: int) -> str:
    """Return the stable id of user `index`."""
    return f"u{index}"


def build_population(spec: StreamSpec) -> Population:
    """Draw the cast of `spec` from its seed: communities, names, followers and roles."""
    rng = random.Random(f"{spec.seed}/population")  # noqa: S311 - a simulation, not crypto
    n, k = spec.users, spec.communities
    # Round-robin labels, shuffled: communities of equal size (within one), members at random.
    labels = [u % k for u in range(n)]
    rng.shuffle(labels)
    community = tuple(labels)
    grouped: list[list[int]] = [[] for _ in range(k)]
    for u, c in enumerate(community):
        grouped[c].append(u)
    members = tuple(map(tuple, grouped))
    names = tuple(
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))) + f"_{u}" for u in range(n)
    )
    influencers = tuple(u for c in range(k) for u in rng.sample(members[c], spec.influencers_per_community))
    taken = set(influencers)
    celebrities = tuple(rng.sample([u for u in range(n) if u not in taken], spec.celebrities))
    taken.update(celebrities)  # from here on `taken` is exactly the users with a role
    picked = rng.sample([u for u in range(n) if u not in taken], spec.rings * (spec.ring_size + 1))
    rings = tuple(tuple(picked[r * spec.ring_size : (r + 1) * spec.ring_size]) for r in range(spec.rings))
    ring_clients = tuple(picked[spec.rings * spec.ring_size :])
    followers = _followers(rng, n, influencers, celebrities)
    ordinary = tuple(tuple(u for u in members[c] if u not in taken) for c in range(k))
    activity_users = tuple(u for u in range(n) if u not in taken)
    activity = [rng.lognormvariate(0.0, 1.0) for _ in activity_users]
    community_tags = tuple(community_hashtags(c, spec.community_hashtags) for c in range(k))
    shared_tags = shared_hashtags(spec.shared_hashtags)
    return Population(
        ids=tuple(user_id(u) for u in range(n)),
        names=names,
        followers=followers,
        community=community,
        members=members,
        ordinary=ordinary,
        community_tags=community_tags,
        shared_tags=shared_tags,
        influencers=influencers,
        celebrities=celebrities,
        rings=rings,
        ring_clients=ring_clients,
        activity_users=activity_users,
        activity_cum=tuple(accumulate(activity)),
        marks={tag: f"#{tag}" for tag in (*shared_tags, *(t for ts in community_tags for t in ts))},
        profiles=_profiles(spec, n, rings=rings, celebrities=celebrities),
    )


def _profiles(
    spec: StreamSpec, n: int, *, rings: tuple[tuple[int, ...], ...], celebrities: tuple[int, ...]
) -> tuple[Profile, ...]:
    """Accounts as their tweets describe them. Ring members look automated by the BotRuler rules
    (`streams.coordination.botness`): weeks old, following thousands, tweeting a hundred times a day, default
    theme; everyone else looks like a person (years old, hundreds followed, a few tweets a day).
    Drawn from a random stream of their own, so the rest of the stream is as without profiles.
    """
    rng = random.Random(f"{spec.seed}/profiles")  # noqa: S311 - a simulation, not crypto
    amplifiers = {u for ring in rings for u in ring}
    famous = set(celebrities)
    profiles = []
    for u in range(n):
        if u in amplifiers:
            age_days = rng.uniform(10, 60)
            profiles.append(
                Profile(
                    friends=rng.randint(2_000, 5_000),
                    statuses=int(age_days * rng.uniform(80, 200)),
                    created_at=spec.start - timedelta(days=age_days),
                    verified=False,
                    default_profile=True,
                    default_profile_image=rng.random() < 0.5,
                    background_image=False,
                )
            )
        else:
            age_days = rng.uniform(365, 10 * 365)
            profiles.append(
                Profile(
                    friends=int(rng.lognormvariate(5.5, 1.0)),  # median about 245
                    statuses=int(age_days * rng.uniform(0.5, 15)),
                    created_at=spec.start - timedelta(days=age_days),
                    verified=u in famous,
                    default_profile=rng.random() < 0.1,
                    default_profile_image=rng.random() < 0.03,
                    background_image=rng.random() < 0.8,
                )
            )
    return tuple(profiles)


def _followers(
    rng: random.Random,
    n: int,
    influencers: tuple[int, ...],
    celebrities: tuple[int, ...],
) -> tuple[int, ...]:
    """Heavy-tailed counts; celebrities on top, influencers below the median."""
    counts = [min(_FOLLOWER_CAP, int(_FOLLOWER_SCALE * rng.paretovariate(_FOLLOWER_SHAPE))) for _ in range(n)]
    special = {*influencers, *celebrities}
    ordinary = sorted(c for u, c in enumerate(counts) if u not in special)
    median = ordinary[len(ordinary) // 2]
    top = max(ordinary[-1], _CELEBRITY_FLOOR)
    for u in celebrities:
        counts[u] = int(top * rng.uniform(1.5, 3.0))
    for u in influencers:
        # Strictly below the median of everyone else: popularity is not influence.
        counts[u] = rng.randint(1, max(1, median // 2))
    return tuple(counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Burst:
    """A hashtag whose rate jumps `factor`-fold during `[start_ms, end_ms)` (offsets from start).

    `extra_per_second` is the rate of the added originals carrying it.
    """

    hashtag: str
    community: int
    start_ms: int
    end_ms: int
    extra_per_second: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """When things happen, as millisecond offsets from the stream's start.

    `strikes` are (at_ms, ring): the ring's client posts an original then, and the ring's members
    retweet it within seconds. Sorted by time.
    """

    bursts: tuple[Burst, ...]
    strikes: tuple[tuple[int, int], ...]


def expected_seconds(spec: StreamSpec, extra_events: float = 0.0) -> float:
    """Return the stream's expected span in seconds, given `extra_events` beyond the rate."""
    return max(1.0, (spec.events - extra_events) / spec.rate_per_second)


def hashtag_share(population: Population, community: int) -> float:
    """Return the chance that a tweet by a member of `community` carries a given own tag."""
    miss = 1.0 - COMMUNITY_TAG_SHARE / len(population.community_tags[community])
    return 1.0 - sum(p * miss**slots for slots, p in enumerate(HASHTAG_SLOTS))


def build_plan(
    spec: StreamSpec,
    population: Population,
    *,
    retweets_per_original: float,
    retweet_delay_seconds: float,
) -> Plan:
    """Draw burst intervals and ring strike times from the seed.

    A burst adds originals carrying its hashtag, each drawing `retweets_per_original` retweets
    (which carry it too) after `retweet_delay_seconds` on average; their rate is set so that,
    counting the retweets that land inside the interval, the tag's usual rate is multiplied by
    `spec.burst_factor` there.
    """
    rng = random.Random(f"{spec.seed}/plan")  # noqa: S311 - a simulation, not crypto
    rough = expected_seconds(spec)
    length = min(
        _MAX_BURST_SECONDS,
        max(_MIN_BURST_SECONDS, _BURST_SHARE_OF_DURATION * rough),
        _MAX_BURST_SHARE * rough,
    )
    ratio = retweet_delay_seconds / length
    inside = 1.0 - ratio * (1.0 - math.exp(-1.0 / ratio))  # retweets landing inside, uniform starts
    tags = [(c, tag) for c in range(spec.communities) for tag in population.community_tags[c]]
    chosen = rng.sample(tags, spec.bursts)
    extras = []
    for c, _ in chosen:
        usual = spec.rate_per_second * population.activity_share(c) * hashtag_share(population, c)
        extras.append((spec.burst_factor - 1.0) * usual / (1.0 + retweets_per_original * inside))
    ring_events = spec.rings * spec.ring_targets * (spec.ring_size + 1)
    burst_events = sum(extras) * length * (1.0 + retweets_per_original)
    duration_ms = 1000.0 * expected_seconds(spec, ring_events + burst_events)
    lo, hi = int(_PLAN_FROM * duration_ms), int(_PLAN_TO * duration_ms)
    length_ms = int(1000 * length)
    bursts = []
    for (c, tag), extra in zip(chosen, extras, strict=True):
        start_ms = rng.randint(lo, max(lo, hi - length_ms))
        bursts.append(
            Burst(
                hashtag=tag,
                community=c,
                start_ms=start_ms,
                end_ms=start_ms + length_ms,
                extra_per_second=extra,
            )
        )
    strikes = sorted(
        (at_ms, ring)
        for ring in range(spec.rings)
        for at_ms in rng.sample(range(lo, max(hi, lo + spec.ring_targets)), spec.ring_targets)
    )
    return Plan(bursts=tuple(bursts), strikes=tuple(strikes))


def poisson(rng: random.Random, mean: float) -> int:
    """Draw from Poisson(`mean`) by Knuth's product of uniforms (means here are small)."""
    if mean <= 0.0:
        return 0
    if mean > _NORMAL_POISSON_ABOVE:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
