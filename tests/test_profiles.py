"""Follower counts from a local stand-in of the AppView's `getProfiles`: batched (25 accounts a
request at most), cached, rate-limited, and failures that cost events their counts, not the source.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

import aiohttp
import pytest
from aiohttp import web
from social_servers import AppView, serving

from cli.sources.profiles import FollowerCounts, ProfileOptions, TtlCache
from models.event import TweetEvent

T = TypeVar("T")
DIDS = [f"did:plc:{n:024d}" for n in range(60)]


@pytest.fixture
def appview() -> AppView:
    """Every one of `DIDS` but the last has 100 + its number of followers."""
    return AppView(followers={did: 100 + n for n, did in enumerate(DIDS[:-1])})


@pytest.fixture
def url(appview: AppView) -> Iterator[str]:
    """The stand-in, served on loopback."""
    with serving([web.get("/xrpc/app.bsky.actor.getProfiles", appview.get_profiles)]) as port:
        yield f"http://127.0.0.1:{port}"


def _with_lookups(options: ProfileOptions, body: Callable[[FollowerCounts], Awaitable[T]]) -> T:
    """Run `body` with a `FollowerCounts` whose requests are made meanwhile."""

    async def main() -> T:
        counts = FollowerCounts(options)
        async with aiohttp.ClientSession() as session:
            task = asyncio.create_task(counts.run(session))
            try:
                return await body(counts)
            finally:
                task.cancel()

    return asyncio.run(main())


def test_sixty_accounts_take_three_requests_of_at_most_twenty_five(url: str, appview: AppView) -> None:
    """60 DIDs asked at once go out as 25 + 25 + 10; each known one gets its count, the unknown
    account none.
    """

    async def body(counts: FollowerCounts) -> dict[str, int | None]:
        return await counts.lookup(DIDS, timeout_seconds=10)

    found = _with_lookups(ProfileOptions(url=url, rate_per_second=100), body)
    assert [len(actors) for actors in appview.requests] == [25, 25, 10]
    assert sorted(did for actors in appview.requests for did in actors) == sorted(DIDS)
    assert found == {did: (100 + n if n < len(DIDS) - 1 else None) for n, did in enumerate(DIDS)}


def test_an_account_looked_up_again_is_answered_from_the_cache(url: str, appview: AppView) -> None:
    """The second lookup of the same accounts (the unknown one included) makes no request."""

    async def body(counts: FollowerCounts) -> tuple[dict[str, int | None], dict[str, int | None]]:
        first = await counts.lookup(DIDS[-3:], timeout_seconds=10)
        return first, await counts.lookup(DIDS[-3:], timeout_seconds=10)

    first, second = _with_lookups(ProfileOptions(url=url, rate_per_second=100), body)
    assert first == second == {DIDS[-3]: 157, DIDS[-2]: 158, DIDS[-1]: None}
    assert len(appview.requests) == 1


def test_requests_are_spaced_by_the_rate(url: str, appview: AppView) -> None:
    """At 4 requests a second, 5 requests (125 accounts) take a second at least."""

    async def body(counts: FollowerCounts) -> float:
        start = time.monotonic()
        for n in range(5):
            await counts.lookup([f"did:plc:rate{n}x{k}" for k in range(25)], timeout_seconds=10)
        return time.monotonic() - start

    elapsed = _with_lookups(ProfileOptions(url=url, rate_per_second=4), body)
    assert len(appview.requests) == 5
    assert elapsed >= 0.95  # 4 gaps of 0.25 s (the first token is there at once)


def test_a_failed_request_leaves_counts_unknown_and_a_later_lookup_asks_again(
    url: str, appview: AppView, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 500 settles its accounts without counts, is counted and said once; the next lookup of the
    same accounts asks again and gets them. An event is given its author's count once known.
    """
    appview.fail = {1, 2}
    event = TweetEvent(id="e1", user_id=DIDS[0], at=datetime(2024, 9, 9, tzinfo=UTC), text="hi")

    async def body(counts: FollowerCounts) -> tuple[object, ...]:
        failed = await counts.lookup(DIDS[:2], timeout_seconds=10)
        unenriched = counts.enrich(event)
        failed_again = await counts.lookup(DIDS[:2], timeout_seconds=10)
        found = await counts.lookup(DIDS[:2], timeout_seconds=10)
        return failed, unenriched, failed_again, found, counts.enrich(event), counts.counts

    failed, unenriched, failed_again, found, enriched, totals = _with_lookups(
        ProfileOptions(url=url, rate_per_second=100), body
    )
    assert failed == failed_again == {DIDS[0]: None, DIDS[1]: None}
    assert found == {DIDS[0]: 100, DIDS[1]: 101}
    assert unenriched == event
    assert enriched == TweetEvent(
        id="e1", user_id=DIDS[0], at=datetime(2024, 9, 9, tzinfo=UTC), text="hi", followers=100
    )
    assert (totals.requests, totals.failures, totals.filled) == (3, 2, 1)  # type: ignore[attr-defined]
    assert capsys.readouterr().err.count("profile lookup failed") == 1  # once a minute at most


def test_an_unreachable_appview_settles_the_lookup_without_counts() -> None:
    """Nothing listening (a refused connection) is a failure, not an exception."""

    async def body(counts: FollowerCounts) -> dict[str, int | None]:
        return await counts.lookup(DIDS[:1], timeout_seconds=10)

    found = _with_lookups(ProfileOptions(url="http://127.0.0.1:9", rate_per_second=100), body)
    assert found == {DIDS[0]: None}


def test_a_slow_appview_times_out_and_the_lookup_returns_without_counts() -> None:
    """A request that outlasts its timeout fails; the lookup returns without the count."""

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"profiles": []})

    async def body(counts: FollowerCounts) -> tuple[dict[str, int | None], int]:
        return await counts.lookup(DIDS[:1], timeout_seconds=10), counts.counts.failures

    with serving([web.get("/xrpc/app.bsky.actor.getProfiles", slow)]) as port:
        start = time.monotonic()
        found, failures = _with_lookups(
            ProfileOptions(url=f"http://127.0.0.1:{port}", timeout_seconds=0.3), body
        )
    assert found == {DIDS[0]: None}
    assert failures == 1
    assert time.monotonic() - start < 3


def test_the_cache_forgets_the_least_recently_used_and_the_expired() -> None:
    """At most `entries` kept; a value older than the TTL is gone.

    0 ─ put a, b, c (entries=2: a forgotten) ─ 5: b read ─ 10: ttl over for all
    """
    now = [0.0]
    cache = TtlCache[int](entries=2, ttl_seconds=10, clock=lambda: now[0])
    for n, key in enumerate("abc"):
        cache.put(key, n)
    assert cache.get("a") == (False, None)
    now[0] = 5.0
    assert cache.get("b") == (True, 1)
    now[0] = 10.0
    assert (cache.get("b"), cache.get("c"), len(cache)) == ((False, None), (False, None), 0)
