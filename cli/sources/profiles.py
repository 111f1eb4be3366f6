"""Follower counts of Bluesky accounts, from the public AppView, for `source bluesky --profiles`.

Jetstream's events carry no follower counts; `app.bsky.actor.getProfiles` gives them, for up to
`BATCH_ACTORS` accounts a request. `FollowerCounts` collects the DIDs it is asked about, looks
them up in batches at most `rate_per_second` requests a second (a token bucket), and keeps the
answers in an LRU of at most `cache_entries` DIDs for `cache_ttl_seconds` (an account the AppView
does not know is remembered too, as `None`). A failed request (an HTTP error, a timeout, a body
that is not a profile list) settles its DIDs without a count: the events go out without one, the
failure is counted and said at most once a minute, and a later event of the account asks again.
The queue of DIDs waiting for a request is bounded too (`QUEUED_DIDS`): beyond it, accounts are
skipped until a later event of theirs finds room.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import aiohttp
import orjson

from cli.base import say
from models.event import TweetEvent

DEFAULT_PROFILES_URL = "https://public.api.bsky.app"
BATCH_ACTORS = 25  # the lexicon's maxLength of `actors`
CACHE_ENTRIES = 100_000
CACHE_TTL_SECONDS = 6 * 3600.0
RATE_PER_SECOND = 5.0
QUEUED_DIDS = 2_500  # 20 s of requests at the default rate: more would be stale when answered
FAILURE_LOG_SECONDS = 60.0

Clock = Callable[[], float]
V = TypeVar("V")


class TtlCache(Generic[V]):
    """At most `entries` values, each for `ttl_seconds`; the least recently used forgotten first.

    >>> now = [0.0]
    >>> cache = TtlCache[int](entries=2, ttl_seconds=10, clock=lambda: now[0])
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
    (True, 1)
    >>> cache.get("b"), cache.get("c")
    ((False, None), (True, 3))
    >>> now[0] = 10.0
    >>> cache.get("c")
    (False, None)
    """

    def __init__(self, *, entries: int, ttl_seconds: float, clock: Clock = time.monotonic) -> None:
        """An empty cache."""
        self._entries = entries
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._values: OrderedDict[str, tuple[float, V]] = OrderedDict()  # key -> (expires at, value)

    def __len__(self) -> int:
        """How many values are kept (expired ones included until they are asked for)."""
        return len(self._values)

    def get(self, key: str) -> tuple[bool, V | None]:
        """(True, value) when `key` is kept and fresh, else (False, None)."""
        kept = self._values.get(key)
        if kept is None:
            return False, None
        if kept[0] <= self._clock():
            del self._values[key]
            return False, None
        self._values.move_to_end(key)
        return True, kept[1]

    def put(self, key: str, value: V) -> None:
        """Keep `value` for `key`, fresh for `ttl_seconds` from now."""
        self._values[key] = (self._clock() + self._ttl_seconds, value)
        self._values.move_to_end(key)
        while len(self._values) > self._entries:
            self._values.popitem(last=False)


class TokenBucket:
    """`rate_per_second` tokens a second, at most `capacity` saved up; `take` waits for one.

    >>> now = [0.0]
    >>> bucket = TokenBucket(rate_per_second=2, capacity=1, clock=lambda: now[0])
    >>> bucket.reserve(), bucket.reserve(), bucket.reserve()  # seconds to wait before each
    (0.0, 0.5, 1.0)
    """

    def __init__(
        self, *, rate_per_second: float, capacity: float = 1.0, clock: Clock = time.monotonic
    ) -> None:
        """A full bucket."""
        self._rate = rate_per_second
        self._capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._at = clock()

    def reserve(self) -> float:
        """Take a token, perhaps one not there yet; the seconds until it is there."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        self._at = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    async def take(self) -> None:
        """Wait until a token is there, and take it."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileOptions:
    """Where to look profiles up, how fast, and how much to remember."""

    url: str = DEFAULT_PROFILES_URL
    rate_per_second: float = RATE_PER_SECOND
    cache_entries: int = CACHE_ENTRIES
    cache_ttl_seconds: float = CACHE_TTL_SECONDS
    wait_seconds: float = 1.0  # how long an event may wait for its author's count
    timeout_seconds: float = 5.0  # of one request


@dataclass(slots=True)
class ProfileCounts:
    """What the lookups did, for the source's rate line."""

    requests: int = 0
    profiles: int = 0  # counts learnt
    failures: int = 0  # requests that failed
    skipped: int = 0  # DIDs not queued: the queue was full
    filled: int = 0  # events sent with a count

    def line(self) -> str:
        """One line of totals."""
        return (
            f"{self.requests} profile requests ({self.failures} failed), {self.profiles} counts learnt, "
            f"{self.filled} events given followers, {self.skipped} lookups skipped (queue full)"
        )


class InvalidProfilesError(ValueError):
    """The AppView answered something other than a list of profiles."""


def parse_profiles(body: bytes) -> dict[str, int | None]:
    """DID -> follower count, from a `getProfiles` response (`None`: the profile has none).

    >>> parse_profiles(b'{"profiles": [{"did": "did:plc:a", "handle": "a", "followersCount": 7}]}')
    {'did:plc:a': 7}
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidProfilesError(f"not JSON: {error}") from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, list):
        raise InvalidProfilesError("no `profiles` list")
    counts: dict[str, int | None] = {}
    for profile in profiles:
        did = profile.get("did") if isinstance(profile, dict) else None
        if isinstance(did, str):
            count = profile.get("followersCount")
            counts[did] = count if isinstance(count, int) and not isinstance(count, bool) else None
    return counts


class FollowerCounts:
    """Follower counts by DID: cached, looked up in batches by `run`, rate-limited."""

    def __init__(self, options: ProfileOptions, *, clock: Clock = time.monotonic) -> None:
        """Nothing known yet; `run` makes the requests."""
        self.options = options
        self.counts = ProfileCounts()
        self._clock = clock
        self._cache = TtlCache[int | None](
            entries=options.cache_entries, ttl_seconds=options.cache_ttl_seconds, clock=clock
        )
        self._bucket = TokenBucket(rate_per_second=options.rate_per_second, clock=clock)
        self._queued: OrderedDict[str, None] = OrderedDict()
        self._in_flight: set[str] = set()
        self._wanted = asyncio.Event()
        self.progress = asyncio.Event()  # set after every request: some DIDs were settled
        self._failure_said: float | None = None

    def want(self, did: str) -> None:
        """Queue `did` for a lookup unless its count is known or asked for already."""
        if did in self._queued or did in self._in_flight or self._cache.get(did)[0]:
            return
        if len(self._queued) >= QUEUED_DIDS:
            self.counts.skipped += 1
            return
        self._queued[did] = None
        self._wanted.set()

    def settled(self, did: str) -> bool:
        """Whether no lookup of `did` is waiting or under way (so waiting longer gains nothing)."""
        return did not in self._queued and did not in self._in_flight

    def followers(self, did: str) -> int | None:
        """The count of `did`, when known."""
        return self._cache.get(did)[1]

    def enrich(self, event: TweetEvent) -> TweetEvent:
        """`event` with its author's follower count, when known and not there already."""
        if event.followers is not None:
            return event
        count = self.followers(event.user_id)
        if count is None:
            return event
        self.counts.filled += 1
        return dataclasses.replace(event, followers=count)

    async def lookup(self, dids: Iterable[str], *, timeout_seconds: float) -> dict[str, int | None]:
        """Want every one of `dids`, wait (at most `timeout_seconds`) until they are settled, and
        return what is known of them (for tests and tools; `run` must be running).
        """
        wanted = list(dids)
        for did in wanted:
            self.want(did)
        deadline = time.monotonic() + timeout_seconds
        while not all(self.settled(did) for did in wanted) and time.monotonic() < deadline:
            self.progress.clear()
            try:
                await asyncio.wait_for(self.progress.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        return {did: self.followers(did) for did in wanted}

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Look the queued DIDs up, `BATCH_ACTORS` a request, until cancelled."""
        while True:
            await self._wanted.wait()
            batch: list[str] = []
            while self._queued and len(batch) < BATCH_ACTORS:
                batch.append(self._queued.popitem(last=False)[0])
            if not self._queued:
                self._wanted.clear()
            self._in_flight.update(batch)
            try:
                await self._bucket.take()
                answers = await self._request(session, batch)
            except (aiohttp.ClientError, TimeoutError, InvalidProfilesError) as error:
                self._failed(error)
            else:
                for did in batch:  # an account the AppView does not know: remembered as None
                    self._cache.put(did, answers.get(did))
                self.counts.profiles += sum(1 for count in answers.values() if count is not None)
            finally:
                self._in_flight.difference_update(batch)
                self.progress.set()

    async def _request(self, session: aiohttp.ClientSession, batch: list[str]) -> dict[str, int | None]:
        self.counts.requests += 1
        async with session.get(
            f"{self.options.url.rstrip('/')}/xrpc/app.bsky.actor.getProfiles",
            params=[("actors", did) for did in batch],
            timeout=aiohttp.ClientTimeout(total=self.options.timeout_seconds),
        ) as response:
            response.raise_for_status()
            return parse_profiles(await response.read())

    def _failed(self, error: Exception) -> None:
        self.counts.failures += 1
        now = self._clock()
        if self._failure_said is None or now - self._failure_said >= FAILURE_LOG_SECONDS:
            self._failure_said = now
            say(
                f"bluesky: profile lookup failed ({type(error).__name__}: {error}); events go out "
                f"without follower counts meanwhile ({self.counts.failures} failures so far)"
            )
