"""The conversation stage's analyzer in a process of its own, so that it never holds the worker's
event loop and runs on another core.

The analyzer's work is global and heavy at times: a community and polarization refresh of a
large window takes seconds, a snapshot of its state tens of megabytes. In the worker's own process
that work held the event loop, and with it every other stage, the web server and the consumer's
bookkeeping. Here the worker sends it batches through a pipe and awaits the records they cause,
while its loop goes on with everything else; the analyzer is the same `streams.analyzer.Analyzer`
`resonance analyze` runs, so the records are the same.

The child (`python -m agents.analyzer_process`) reads requests from stdin and answers each on
stdout, in order; it exits when stdin closes (the worker stopped or died). Frames are an opcode
byte and a 4-byte big-endian length, then the payload; answers are a length and a payload.
"""

from __future__ import annotations

import asyncio
import pickle
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from agents import gc_policy
from agents.followers import read_follower_graph
from agents.settings import Settings, conversation_config
from models.records import Record, Trigger
from models.wire.batch import decode_events
from models.wire.native import parse_native
from streams.analyzer import Analyzer

_LENGTH = struct.Struct(">I")
_START, _OBSERVE, _SNAPSHOT, _VIEW = b"C", b"O", b"S", b"V"
_FAILED = b"!"  # an answer's first byte when the child could not do what was asked
STREAM_LIMIT = 1 << 30  # the largest answer the pipe reader takes (a snapshot of a huge window)


@dataclass(frozen=True, slots=True)
class Observed:
    """What a batch caused: its records, the late and dropped events among it, and the
    analyzer's count of disordered retweets before and after it.
    """

    records: list[Record]
    late: int
    dropped: int
    disordered: tuple[int, int]


class AnalyzerFailedError(RuntimeError):
    """The child process could not do what was asked, or is gone."""


class AnalyzerProcess:
    """An `Analyzer` in a child process, started on first use, configured as `settings` say
    (`agents.settings.conversation_config`, the follower graph read from its file there), and
    continuing from snapshot data when given.

    Requests are queued the moment they are made, and answered in that order: a snapshot asked
    for between two batches holds the first and not the second, whenever it is awaited.
    """

    def __init__(self, settings: Settings, restore: dict[str, Any] | None = None) -> None:
        """Nothing starts until the first request."""
        self._start_request = pickle.dumps((settings, restore))
        self._requests: asyncio.Queue[tuple[bytes, bytes, asyncio.Future[bytes]]] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._child: asyncio.subprocess.Process | None = None

    async def observe(self, batch: bytes) -> Observed:
        """Have the analyzer observe every event of `batch` (`models.wire.batch.encode_events`)."""
        answer = await self._request(_OBSERVE, batch)
        records, late, dropped, disordered = pickle.loads(answer)  # noqa: S301 - from our child
        return Observed(records, late, dropped, tuple(disordered))

    def snapshot(self) -> asyncio.Future[bytes]:
        """The analyzer's snapshot data as JSON bytes (`Analyzer.restore` reads them back), as it
        stands after every request made so far.
        """
        return self._request(_SNAPSHOT, b"")

    async def view(self) -> list[Record]:
        """The analyzer's view of everything received (`Analyzer.view`: no alerts)."""
        records: list[Record] = pickle.loads(await self._request(_VIEW, b""))  # noqa: S301 - from our child
        return records

    async def close(self) -> None:
        """Stop the child: closing its input ends it."""
        if self._pump is not None:
            self._pump.cancel()
        child, self._child = self._child, None
        if child is not None and child.returncode is None:
            assert child.stdin is not None  # noqa: S101 - created with a pipe
            child.stdin.close()
            try:
                await asyncio.wait_for(child.wait(), timeout=5)
            except TimeoutError:
                child.kill()

    def _request(self, op: bytes, payload: bytes) -> asyncio.Future[bytes]:
        if self._requests is None:
            self._requests = asyncio.Queue()
            self._pump = asyncio.ensure_future(self._serve(self._requests))
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._requests.put_nowait((op, payload, answer))
        return answer

    async def _serve(self, requests: asyncio.Queue[tuple[bytes, bytes, asyncio.Future[bytes]]]) -> None:
        """Start the child, then pass it the requests one by one."""
        failure: AnalyzerFailedError | None = None
        try:
            self._child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "agents.analyzer_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=STREAM_LIMIT,
            )
            await self._exchange(_START, self._start_request)
        except (OSError, AnalyzerFailedError) as error:
            failure = AnalyzerFailedError(f"the analyzer process did not start: {error}")
        while True:
            op, payload, answer = await requests.get()
            if failure is not None:
                answer.set_exception(failure)
                continue
            try:
                answer.set_result(await self._exchange(op, payload))
            except AnalyzerFailedError as error:
                answer.set_exception(error)

    async def _exchange(self, op: bytes, payload: bytes) -> bytes:
        child = self._child
        assert child is not None  # noqa: S101 - started by _serve
        assert child.stdin is not None  # noqa: S101 - created with pipes
        assert child.stdout is not None  # noqa: S101 - as above
        try:
            child.stdin.write(op + _LENGTH.pack(len(payload)) + payload)
            await child.stdin.drain()
            (length,) = _LENGTH.unpack(await child.stdout.readexactly(_LENGTH.size))
            answer = await child.stdout.readexactly(length)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            raise AnalyzerFailedError(
                f"the analyzer process is gone ({error!r}); see the worker's log"
            ) from None
        if answer[:1] == _FAILED:
            raise AnalyzerFailedError(answer[1:].decode(errors="replace"))
        return answer[1:]


def _follower_graph(settings: Settings) -> Mapping[str, frozenset[str]] | None:
    """The follower graph `RESONANCE_FOLLOWERS` names (the worker's preflight read it already)."""
    return read_follower_graph(Path(settings.followers)) if settings.followers else None


def _answer(out: BinaryIO, payload: bytes) -> None:
    out.write(_LENGTH.pack(len(payload)) + payload)
    out.flush()


def _serve(analyzer: Analyzer, op: bytes, payload: bytes) -> bytes:
    """The answer to one request."""
    if op == _OBSERVE:
        late, dropped, disordered = (
            analyzer.late_events,
            analyzer.dropped_events,
            analyzer.disordered_retweets,
        )
        records = []
        for _, native in decode_events(payload):
            records += analyzer.observe(parse_native(native))
        # A tuple, not an `Observed`: this module runs as __main__ here, and pickle names classes
        # by their module.
        return pickle.dumps(
            (
                records,
                analyzer.late_events - late,
                analyzer.dropped_events - dropped,
                (disordered, analyzer.disordered_retweets),
            )
        )
    if op == _SNAPSHOT:
        with gc_policy.paused():
            return orjson.dumps(analyzer.snapshot())
    if op == _VIEW:
        with gc_policy.paused():
            return pickle.dumps(analyzer.view(Trigger.IDLE))
    raise ValueError(f"unknown request {op!r}")


def main(source: BinaryIO, out: BinaryIO) -> None:
    """Serve requests from `source` until it closes."""
    gc_policy.tune_for_long_lived_state()
    analyzer: Analyzer | None = None
    while header := source.read(1 + _LENGTH.size):
        op, (length,) = header[:1], _LENGTH.unpack(header[1:])
        payload = source.read(length)
        try:
            if op == _START:
                settings, restore = pickle.loads(payload)  # noqa: S301 - from our parent
                config = conversation_config(settings, _follower_graph(settings))
                analyzer = Analyzer(config) if restore is None else Analyzer.restore(config, restore)
                answer = b""
            elif analyzer is None:
                raise ValueError("a request before the analyzer was started")  # noqa: TRY301 - answered below
            else:
                answer = _serve(analyzer, op, payload)
        except Exception as error:  # noqa: BLE001 - every failure is answered, the parent raises it
            _answer(out, _FAILED + repr(error).encode())
        else:
            _answer(out, b"+" + answer)


if __name__ == "__main__":
    main(sys.stdin.buffer, sys.stdout.buffer)
