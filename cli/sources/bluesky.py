"""`resonance source bluesky`: Bluesky's Jetstream into the input topic.

Jetstream streams every repository change of the network as JSON over a WebSocket
(`models.wire.bluesky` says what becomes an event). Each event carries `time_us`, the relay's
time, which is also the cursor to resume from: `?cursor=T` replays every event from `T` on. The
source keeps the `time_us` of the last event whose tweet events Kafka has acknowledged in its
state file, with the ids it sent in the `rewind` before it; after a disconnect or a restart it
reconnects from that cursor minus `rewind` (Jetstream's own advice: a few seconds before, for a
gapless stream) and drops the events it had sent already. So nothing is lost and nothing doubled.

With `profiles` (`--profiles`), each event waits, at most `ProfileOptions.wait_seconds`, for its
author's follower count (`cli.sources.profiles`); events leave in the order they came, and the
cursor saved stays before the oldest event still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import zstandard

from agents.settings import Settings
from cli.base import UsageError, say
from cli.sources.profiles import FollowerCounts, ProfileOptions
from cli.sources.sink import Backoff, Counts, Sink, StateFile, cancelled, tick
from models.event import TweetEvent
from models.wire import Invalid, Rejection, RejectReason, decode, parse_object
from models.wire.bluesky import identity_handle

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
DEFAULT_COLLECTIONS = ("app.bsky.feed.post", "app.bsky.feed.repost", "app.bsky.feed.like")
HANDLES = 100_000  # DIDs whose latest handle is kept (an LRU): the memory bound of the names
_MICROSECONDS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class JetstreamOptions:
    """What to subscribe to, and how."""

    url: str = DEFAULT_URL
    collections: tuple[str, ...] = DEFAULT_COLLECTIONS
    dids: tuple[str, ...] = ()
    zstd_dictionary: Path | None = None  # Jetstream's dictionary file: compressed frames then
    rewind_seconds: float = 5.0
    report_seconds: float = 10.0
    max_backoff_seconds: float = 60.0

    def subscribe_url(self, cursor: int | None) -> str:
        """The WebSocket URL with the filters, the cursor (when resuming) and compression.

        >>> JetstreamOptions(url="ws://h/subscribe", dids=("did:plc:a",)).subscribe_url(17)
        'ws://h/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost&wantedCollections=app.bsky.feed.like&wantedDids=did%3Aplc%3Aa&cursor=17'
        """
        query = [("wantedCollections", c) for c in self.collections] + [("wantedDids", d) for d in self.dids]
        if cursor is not None:
            query.append(("cursor", str(cursor)))
        if self.zstd_dictionary is not None:
            query.append(("compress", "true"))
        return f"{self.url}?{urlencode(query)}"

    def describe(self) -> dict[str, object]:
        """The stream, for the state file: a cursor belongs to one URL and one set of filters."""
        return {
            "network": "bluesky",
            "url": self.url,
            "collections": list(self.collections),
            "dids": list(self.dids),
        }


def _what(obj: object, rejection: Rejection) -> str:
    """What a rejected event was, for the counts: `identity`, `delete`, ... or its reason."""
    if rejection.reason is not RejectReason.NOT_A_POST or not isinstance(obj, dict):
        return f"rejected ({rejection.reason})"
    commit = obj.get("commit")
    if obj.get("kind") != "commit" or not isinstance(commit, dict):
        return str(obj.get("kind"))
    operation = commit.get("operation")
    return "other records" if operation == "create" else f"{operation}s"


class _Handles:
    """DID -> latest handle, at most `HANDLES` (least recently announced forgotten first)."""

    def __init__(self) -> None:
        self._names: OrderedDict[str, str] = OrderedDict()

    def learn(self, did: str, handle: str) -> None:
        self._names[did] = handle
        self._names.move_to_end(did)
        if len(self._names) > HANDLES:
            self._names.popitem(last=False)

    def name(self, event: TweetEvent) -> TweetEvent:
        handle = self._names.get(event.user_id)
        return (
            event
            if handle is None or event.user_name is not None
            else dataclasses.replace(event, user_name=handle)
        )


class JetstreamSource:
    """One run of the source: read, send, checkpoint, reconnect, until `stop` is set."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        options: JetstreamOptions,
        state: Path,
        *,
        profiles: ProfileOptions | None = None,
    ) -> None:
        """Load the state (a cursor and the ids sent before it) and connect to Kafka; with
        `profiles`, look the authors' follower counts up.
        """
        self.options = options
        self._state = StateFile(state, options.describe())
        cursor, recent = self._state.load()
        self.cursor: int | None = cursor if isinstance(cursor, int) else None
        self._sink = Sink(settings, topic, recent=recent)
        self._sent: deque[tuple[int, str]] = deque()  # (time_us, id) sent within the rewind
        self._handles = _Handles()
        self._profiles = None if profiles is None else FollowerCounts(profiles)
        # Events waiting for their author's count: (monotonic time read, time_us, event), in order.
        self._waiting: deque[tuple[float, int | None, TweetEvent]] = deque()
        self._decompressor = None
        if options.zstd_dictionary is not None:
            dictionary = zstandard.ZstdCompressionDict(options.zstd_dictionary.read_bytes())
            self._decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)

    @property
    def counts(self) -> Counts:
        """What was read, sent and counted so far."""
        return self._sink.counts

    def _message(self, raw: bytes) -> None:
        counts = self._sink.counts
        counts.received += 1
        try:
            obj = decode(raw)
        except Invalid as invalid:
            counts.count(f"rejected ({invalid.reason})")
            return
        announced = identity_handle(obj) if isinstance(obj, dict) else None
        if announced is not None:
            self._handles.learn(*announced)
        for result in parse_object(obj):
            if isinstance(result, Rejection):
                counts.count(_what(obj, result))
                continue
            time_us = obj.get("time_us") if isinstance(obj, dict) else None
            self._queue(time_us if isinstance(time_us, int) else None, self._handles.name(result))
        time_us = obj.get("time_us") if isinstance(obj, dict) else None
        if isinstance(time_us, int) and (self.cursor is None or time_us > self.cursor):
            self.cursor = time_us

    def _queue(self, time_us: int | None, event: TweetEvent) -> None:
        """Send `event` now, or, with profiles, once its author's count is settled."""
        if self._profiles is None:
            self._send(time_us, event)
            return
        self._profiles.want(event.user_id)
        self._waiting.append((time.monotonic(), time_us, event))
        self._release()

    def _send(self, time_us: int | None, event: TweetEvent) -> None:
        if self._sink.add(event) and time_us is not None:
            self._sent.append((time_us, event.id))

    def _release(self, *, everything: bool = False) -> None:
        """Send the waiting events, oldest first, up to the first one still worth waiting for."""
        if self._profiles is None:
            return
        now = time.monotonic()
        while self._waiting:
            since, time_us, event = self._waiting[0]
            if not (
                everything
                or self._profiles.settled(event.user_id)
                or now - since >= self._profiles.options.wait_seconds
            ):
                break
            self._waiting.popleft()
            self._send(time_us, self._profiles.enrich(event))

    async def _release_waiting(self) -> None:
        """Until cancelled: release events as lookups settle, and those that waited long enough."""
        assert self._profiles is not None  # noqa: S101 - started only with profiles
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._profiles.progress.wait(), 0.05)
            self._profiles.progress.clear()
            self._release()

    def _decompress(self, data: bytes) -> bytes:
        if self._decompressor is None:
            raise UsageError("Jetstream sent a compressed frame, but no --zstd-dictionary was given")
        return self._decompressor.decompressobj().decompress(data)

    async def checkpoint(self) -> None:
        """Have Kafka acknowledge every event read so far, then save the cursor with them."""
        cursor = self.cursor
        waiting = [time_us for _, time_us, _ in self._waiting if time_us is not None]
        if cursor is not None and waiting:  # not sent yet: a resumed stream must repeat them
            cursor = min(cursor, min(waiting) - 1)
        await self._sink.settle()
        if cursor is None:
            return
        keep_from = cursor - int(self.options.rewind_seconds * _MICROSECONDS) * 2
        while self._sent and self._sent[0][0] < keep_from:
            self._sent.popleft()
        self._state.save(cursor, [event_id for _, event_id in self._sent])

    async def _tick(self, ws: aiohttp.ClientWebSocketResponse, stop: asyncio.Event) -> None:
        """Checkpoint when a batch is due and report the rate (`tick`); close the socket once stopped."""
        await tick(
            stop,
            sink=self._sink,
            checkpoint=self.checkpoint,
            report=self._report,
            report_seconds=self.options.report_seconds,
        )
        await ws.close()

    async def run(self, stop: asyncio.Event) -> Counts:
        """Read until `stop` is set, reconnecting with backoff; checkpoint and close at the end."""
        backoff = Backoff(max_seconds=self.options.max_backoff_seconds)
        rewind_us = int(self.options.rewind_seconds * _MICROSECONDS)
        try:
            async with aiohttp.ClientSession() as session, _profile_tasks(self, session):
                while not stop.is_set():
                    cursor = None if self.cursor is None else self.cursor - rewind_us
                    try:
                        async with session.ws_connect(self.options.subscribe_url(cursor), heartbeat=30) as ws:
                            say(
                                f"bluesky: connected to {self.options.url}"
                                + (f" from cursor {cursor}" if cursor else "")
                            )
                            ticker = asyncio.create_task(self._tick(ws, stop))
                            try:
                                async for message in ws:
                                    if message.type is aiohttp.WSMsgType.TEXT:
                                        self._message(message.data.encode())
                                    elif message.type is aiohttp.WSMsgType.BINARY:
                                        self._message(self._decompress(message.data))
                                    backoff.reset()
                            finally:
                                await cancelled(ticker)
                    except (aiohttp.ClientError, OSError, TimeoutError) as error:
                        say(f"bluesky: connection failed: {error}")
                    if stop.is_set():
                        break
                    await self.checkpoint()
                    await backoff.pause("bluesky", stop, self.counts)
        finally:
            self._release(everything=True)  # stopping: what still waits goes without a count
            await self.checkpoint()
            self._sink.close()
        self._report()
        return self.counts

    def _report(self) -> None:
        self._sink.report("bluesky")
        if self._profiles is not None:
            say(f"bluesky: {self._profiles.counts.line()}")


@contextlib.asynccontextmanager
async def _profile_tasks(source: JetstreamSource, session: aiohttp.ClientSession) -> AsyncIterator[None]:
    """With profiles, the lookups and the releases of waiting events run beside the reading."""
    if source._profiles is None:  # noqa: SLF001 - the source's own helper
        yield
        return
    tasks = [
        asyncio.create_task(source._profiles.run(session)),  # noqa: SLF001
        asyncio.create_task(source._release_waiting()),  # noqa: SLF001
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
