"""`resonance source mastodon`: one Mastodon server's public, hashtag or list stream into the
input topic.

The streaming API sends server-sent events (`event: update`, `data: <Status JSON>`) but keeps no
history: a client that was away misses what was posted meanwhile. So at every (re)connection the
source opens the stream first, then reads the matching REST timeline from the last status it sent
(`min_id`), oldest first, and only then reads the stream: every status posted while it was away
comes from the timeline, every later one from the stream, and those both give are sent once
(`Recent`). The last status id sent, acknowledged by Kafka, is kept in the state file across
restarts, with the ids sent last.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from agents.settings import Settings
from cli.base import UsageError, say
from cli.sources.sink import Backoff, Counts, Sink, StateFile, cancelled, tick
from models.wire import Rejection, parse_object

TOKEN_VARIABLE = "RESONANCE_MASTODON_TOKEN"  # noqa: S105 - the variable's name, not a token
PAGE = 40  # statuses per timeline page: the API's largest
MAX_BACKFILL_PAGES = 250  # 10,000 statuses at most per reconnection: memory and time stay bounded
RECENT_SAVED = 2_000  # ids saved with the state: more than a timeline page overlaps a stream


@dataclass(frozen=True, slots=True)
class Stream:
    """Which stream: `public`, `public:local`, `hashtag:TAG` or `list:ID`."""

    kind: str
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Stream:
        """Read `--stream`; raise UsageError naming the forms accepted.

        >>> Stream.parse("hashtag:#Python")
        Stream(kind='hashtag', value='Python')
        """
        kind, _, value = text.partition(":")
        value = value.lstrip("#")
        if text in ("public", "public:local"):
            return cls("public", "local" if value else "")
        if kind in ("hashtag", "list") and value and value.replace("_", "").isalnum():
            return cls(kind, value)
        raise UsageError(
            f"--stream {text!r}: use public, public:local, hashtag:TAG (letters, digits, _) or list:ID"
        )

    def streaming(self) -> tuple[str, dict[str, str]]:
        """The streaming API's path and query."""
        if self.kind == "public":
            return ("/api/v1/streaming/public/local" if self.value else "/api/v1/streaming/public"), {}
        if self.kind == "hashtag":
            return "/api/v1/streaming/hashtag", {"tag": self.value}
        return "/api/v1/streaming/list", {"list": self.value}

    def timeline(self) -> tuple[str, dict[str, str]]:
        """The REST timeline holding the same statuses, and its query."""
        if self.kind == "public":
            return "/api/v1/timelines/public", ({"local": "true"} if self.value else {})
        if self.kind == "hashtag":
            return f"/api/v1/timelines/tag/{self.value}", {}
        return f"/api/v1/timelines/list/{self.value}", {}

    def name(self) -> str:
        """The stream's name as the API writes it in events."""
        return f"{self.kind}:{self.value}" if self.value else self.kind


def base_url(instance: str) -> tuple[str, str]:
    """(base URL, host) of `--instance`: a host name (https) or a URL (http for a local test server).

    >>> base_url("mastodon.social")
    ('https://mastodon.social', 'mastodon.social')
    """
    url = instance if "://" in instance else f"https://{instance}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise UsageError(
            f"--instance {instance!r}: give the server's host name, e.g. --instance mastodon.social"
        )
    return f"{parts.scheme}://{parts.netloc}", parts.netloc.lower()


def read_token(token_file: Path | None, environ: dict[str, str]) -> str | None:
    """The access token: the first line of `token_file`, else `RESONANCE_MASTODON_TOKEN`, else None."""
    if token_file is not None:
        try:
            lines = token_file.read_text().splitlines()
        except OSError as error:
            raise UsageError(
                f"--token-file {token_file}: {error.strerror}; give a file holding the token"
            ) from None
        if not lines or not lines[0].strip():
            raise UsageError(f"--token-file {token_file} is empty; put the access token on its first line")
        return lines[0].strip()
    return environ.get(TOKEN_VARIABLE) or None


def _id_key(status_id: str) -> tuple[int, str]:
    """Order of Mastodon ids: numbers as strings, so the longer is the later."""
    return len(status_id), status_id


class MastodonSource:
    """One run of the source: backfill, stream, checkpoint, reconnect, until `stop` is set."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        *,
        instance: str,
        stream: Stream,
        token: str | None,
        state: Path,
        report_seconds: float = 10.0,
        max_backoff_seconds: float = 60.0,
    ) -> None:
        """Load the state (the last status id sent, and the ids before it); connect to Kafka."""
        self._base, self._host = base_url(instance)
        self._stream = stream
        self._headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._state = StateFile(
            state, {"network": "mastodon", "instance": self._host, "stream": stream.name()}
        )
        last_id, recent = self._state.load()
        self.last_id: str | None = last_id if isinstance(last_id, str) else None
        self._sink = Sink(settings, topic, recent=recent)
        self._report_seconds = report_seconds
        self._max_backoff = max_backoff_seconds

    @property
    def counts(self) -> Counts:
        """What was read, sent and counted so far."""
        return self._sink.counts

    def _event(self, name: str, payload: Any) -> None:
        """One streaming event (or a timeline status, as an `update`)."""
        counts = self._sink.counts
        counts.received += 1
        framed = {"stream": [self._stream.name()], "event": name, "payload": payload, "instance": self._host}
        for result in parse_object(framed):
            if isinstance(result, Rejection):
                counts.count(
                    {"status.update": "edits", "delete": "deletes"}.get(name, f"rejected ({result.reason})")
                )
                continue
            self._sink.add(result)
            local = result.id.rsplit("/", 1)[1]
            if self.last_id is None or _id_key(local) > _id_key(self.last_id):
                self.last_id = local

    async def checkpoint(self) -> None:
        """Have Kafka acknowledge every status read so far, then save the last id with them."""
        last_id = self.last_id
        await self._sink.settle()
        if last_id is not None:
            self._state.save(last_id, self._sink.recent.latest(RECENT_SAVED))

    def _check(self, response: aiohttp.ClientResponse, what: str) -> None:
        if response.status in (401, 403):
            raise UsageError(
                f"{self._host} refused the {what} ({response.status}): it wants an access token with "
                f"read:statuses; create one under Preferences > Development and pass --token-file FILE "
                f"(or set {TOKEN_VARIABLE})"
            )
        if response.status == 404:  # HTTP's Not Found
            raise UsageError(
                f"{self._host} has no {what} at {response.url.path}: check --instance and --stream"
            )
        response.raise_for_status()

    async def _backfill(self, session: aiohttp.ClientSession) -> None:
        """The statuses posted since `last_id`, from the timeline, oldest first."""
        if self.last_id is None:
            return  # a first start begins with the stream: there is nothing to catch up with
        path, query = self._stream.timeline()
        for _ in range(MAX_BACKFILL_PAGES):
            params = {**query, "min_id": self.last_id, "limit": str(PAGE)}
            async with session.get(self._base + path, params=params, headers=self._headers) as response:
                self._check(response, "timeline")
                page = orjson.loads(await response.read())
            if not isinstance(page, list) or not page:
                return
            for status in sorted(page, key=lambda s: _id_key(str(s.get("id", "")))):
                self._event("update", status)

    async def _read_stream(self, response: aiohttp.ClientResponse) -> None:
        """Server-sent events: `event:` and `data:` lines, a blank line ends one; `:` comments
        (the server's heartbeats) are skipped.
        """
        name, data = "message", list[str]()
        async for raw in response.content:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if data:
                    self._event(name, "\n".join(data))
                name, data = "message", list[str]()
            elif line.startswith(":"):
                continue
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))

    async def _tick(self, response: aiohttp.ClientResponse, stop: asyncio.Event) -> None:
        """Checkpoint when a batch is due and report the rate (`tick`); close the stream once stopped."""
        await tick(
            stop,
            sink=self._sink,
            checkpoint=self.checkpoint,
            report=lambda: self._sink.report("mastodon"),
            report_seconds=self._report_seconds,
        )
        response.close()

    async def run(self, stop: asyncio.Event) -> Counts:
        """Read until `stop` is set, reconnecting with backoff; checkpoint and close at the end."""
        backoff = Backoff(max_seconds=self._max_backoff)
        path, query = self._stream.streaming()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)  # heartbeats every ~15 s
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                while not stop.is_set():
                    try:
                        async with session.get(
                            self._base + path, params=query, headers=self._headers
                        ) as response:
                            self._check(response, "stream")
                            say(f"mastodon: streaming {self._stream.name()} from {self._host}")
                            ticker = asyncio.create_task(self._tick(response, stop))
                            try:
                                await self._backfill(session)
                                await self._read_stream(response)
                                backoff.reset()
                            finally:
                                await cancelled(ticker)
                    except (aiohttp.ClientError, OSError, TimeoutError) as error:
                        if not stop.is_set():
                            say(f"mastodon: connection failed: {error}")
                    if stop.is_set():
                        break
                    await self.checkpoint()
                    await backoff.pause("mastodon", stop, self.counts)
        finally:
            await self.checkpoint()
            self._sink.close()
        self._sink.report("mastodon")
        return self.counts
