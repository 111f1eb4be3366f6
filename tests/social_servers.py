"""Local stand-ins for Jetstream (WebSocket) and a Mastodon server (server-sent events and its REST
timeline), on 127.0.0.1, each in a thread of its own, playing recorded events to a source and
dropping the connection where a test asks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import zstandard
from aiohttp import web


@dataclass
class Jetstream:
    """Plays `events` (in time_us order) from the cursor asked for; the first connection is
    dropped after `drop_after` events. Compressed with `dictionary` when asked (`compress=true`).
    """

    events: list[dict[str, Any]]
    drop_after: int | None = None
    dictionary: bytes | None = None
    cursors: list[int | None] = field(default_factory=list)  # the cursor of each connection

    async def subscribe(self, request: web.Request) -> web.WebSocketResponse:
        """`/subscribe`: the events from `cursor` on, then the live tail."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        cursor = request.query.get("cursor")
        self.cursors.append(None if cursor is None else int(cursor))
        compressor = None
        if request.query.get("compress") == "true":
            assert self.dictionary is not None
            compressor = zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(self.dictionary))
        first = len(self.cursors) == 1
        sent = 0
        index = 0
        while not ws.closed:
            if index < len(self.events):
                event = self.events[index]
                index += 1
                if cursor is not None and event["time_us"] < int(cursor):
                    continue
                if first and self.drop_after is not None and sent == self.drop_after:
                    await ws.close()  # the drop, mid-stream
                    break
                raw = orjson.dumps(event)
                try:
                    await (
                        ws.send_bytes(compressor.compress(raw)) if compressor else ws.send_str(raw.decode())
                    )
                except ConnectionError:  # the source went away (stopped): nothing to play to
                    break
                sent += 1
            else:
                await asyncio.sleep(0.05)  # live tail: wait for more (tests extend `events`)
        return ws


@dataclass
class Mastodon:
    """A server with one hashtag stream and timeline, requiring `token`.

    `statuses` are posted in order; `plan[i]` is how many more of them connection i streams
    (after which, until the last, it posts `gap` more without streaming them and drops).
    """

    statuses: list[dict[str, Any]]
    plan: list[int]
    gap: int
    token: str
    extra_events: list[tuple[str, str]] = field(default_factory=list)  # streamed at the end
    posted: int = 0
    connections: int = 0

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def timeline(self, request: web.Request) -> web.Response:
        """`/api/v1/timelines/tag/...`: the page of statuses posted just after `min_id`."""
        if not self._authorized(request):
            return web.Response(status=401)
        min_id = request.query["min_id"]
        limit = int(request.query.get("limit", "20"))
        key = lambda s: (len(s["id"]), s["id"])  # noqa: E731 - Mastodon's id order
        newer = [s for s in self.statuses[: self.posted] if key(s) > (len(min_id), min_id)]
        page = sorted(newer, key=key)[:limit]  # immediately after min_id ...
        return web.Response(
            body=orjson.dumps(page[::-1]), content_type="application/json"
        )  # ... newest first

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """`/api/v1/streaming/hashtag`: this connection's share of the statuses, as SSE."""
        if not self._authorized(request):
            return web.Response(status=401)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        plan = self.plan[self.connections] if self.connections < len(self.plan) else 0
        last = self.connections >= len(self.plan) - 1
        self.connections += 1
        await response.write(b":)\n\n")
        for _ in range(plan):
            status = self.statuses[self.posted]
            self.posted += 1
            await response.write(b"event: update\ndata: " + orjson.dumps(status) + b"\n\n")
            await response.write(b":thump\n\n")
        if not last:
            self.posted += self.gap  # posted while the source is away: only the timeline has them
            return response  # the drop
        for name, data in self.extra_events:
            await response.write(f"event: {name}\ndata: {data}\n\n".encode())
        while True:
            await asyncio.sleep(0.5)
            await response.write(b":thump\n\n")


@dataclass
class AppView:
    """`app.bsky.actor.getProfiles` with `followers` (DID -> count; other DIDs are unknown
    accounts); the requests numbered in `fail` (1 is the first) are answered 500.
    """

    followers: dict[str, int]
    fail: set[int] = field(default_factory=set)
    requests: list[list[str]] = field(default_factory=list)  # the actors of each request

    async def get_profiles(self, request: web.Request) -> web.Response:
        """`/xrpc/app.bsky.actor.getProfiles?actors=...`: the profiles known, as the AppView does."""
        actors = request.query.getall("actors", [])
        self.requests.append(actors)
        if not 1 <= len(actors) <= 25:  # the lexicon's bound
            return web.json_response({"error": "InvalidRequest"}, status=400)
        if len(self.requests) in self.fail:
            return web.json_response({"error": "InternalServerError"}, status=500)
        profiles = [
            {"did": did, "handle": f"{did[-6:]}.bsky.social", "followersCount": self.followers[did]}
            for did in actors
            if did in self.followers
        ]
        return web.json_response({"profiles": profiles})


@contextmanager
def serving(routes: list[web.RouteDef]) -> Iterator[int]:
    """Serve `routes` on 127.0.0.1 in a thread of its own; yield the port."""
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001 - the port 0 chose
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
