"""The conversation stage's analyzer in a process of its own, so that it never holds the worker's
event loop and runs on another core.

The analyzer's work is global and heavy at times: a community and polarization refresh of a
large window takes seconds, a snapshot of its state tens of megabytes. In the worker's own process
that work held the event loop, and with it every other stage, the web server and the consumer's
bookkeeping. Here the worker sends it batches through a pipe and awaits the records they cause,
while its loop goes on with everything else; the analyzer is the same `streams.analyzer.Analyzer`
`resonance analyze` runs, so the records are the same.

The child (`python -m agents.analyzer_process`) reads requests from stdin and answers each on
stdout; it exits when stdin closes (the worker stopped or died). A request is an opcode byte, a
4-byte big-endian request number and length, then the payload; an answer is the request's number,
a length and a payload. Batches are answered at once, in order. Between them, the child does the
work of the analyzer's next boundary ahead of time (`Analyzer.work_ahead`, invisible in the
records): a boundary at thousands of tweets a second moves every window by a hundred thousand
items, and done at once it held every retweet behind it for seconds. A snapshot or a view is computed
in a fork of the child (`os.fork`: a copy-on-write image of the analyzer as it stands between two
batches), so however large the window, the child takes the next batch while the fork encodes
(its cost to the child is the fork itself: milliseconds, plus the pages the two then write); it
is answered when the fork is done, possibly after later batches.

A refresh runs in a fork too (`agents.refresh_fork`), from its boundary to the boundary that
publishes it, while the child takes the batches between them.

A snapshot does not travel back through the pipe: the fork writes it to Kafka itself
(`agents.snapshots`, compressed, in chunks) and answers with the small manifest that says where it
is, which is what the stage's checkpoint holds; a child started from a manifest reads the snapshot
back from Kafka. However large the window, the worker's event loop handles a few hundred bytes.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import selectors
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from agents import forking, gc_policy
from agents.followers import read_follower_graph
from agents.refresh_fork import ForkedRefresher
from agents.settings import Settings, conversation_config
from agents.snapshots import Manifest, Store
from models.records import Record, Trigger
from models.wire.batch import decode_events
from models.wire.native import trusted
from streams.analyzer import Analyzer
from streams.refresh import Refresher

_HEADER = struct.Struct(">cII")  # a request: opcode, number, payload length
_ANSWER = struct.Struct(">II")  # an answer: the request's number, payload length
_START, _OBSERVE, _SNAPSHOT, _VIEW = b"C", b"O", b"S", b"V"
_FAILED = forking.FAILED  # an answer's first byte when the child could not do what was asked
# The analyzer's work ahead between batches goes in slices of this many moves (a few
# milliseconds): a batch that arrives meanwhile waits for one slice at most.
WORK_AHEAD_MOVES = 2_000
STREAM_LIMIT = 1 << 30  # the largest answer the pipe reader takes (a snapshot of a huge window)


@dataclass(frozen=True, slots=True)
class Observed:
    """What a batch caused: its records, the late and dropped events among it, and the
    analyzer's count of disordered retweets before and after it, the cascade forest's counts it
    raised (`CascadeForest.conflicting_retweets`, `unseen_originals`), and the time it took.
    """

    records: list[Record]
    late: int
    dropped: int
    disordered: tuple[int, int]
    conflicting_retweets: int = 0  # retweets the cascades ignored, among the batch's
    unseen_originals: int = 0  # cascades the batch started at a retweet of a tweet never seen
    seconds: float = 0.0  # the analyzer's time on the batch, in its process


class AnalyzerFailedError(RuntimeError):
    """The child process could not do what was asked, or is gone."""


@dataclass(slots=True)
class _Waiting:
    """A request sent to the child, awaiting its answer."""

    answer: asyncio.Future[bytes]
    then: Callable[[bytes], Awaitable[None]] | None = None  # run on the answer before the next one


class AnalyzerProcess:
    """The `Analyzer` of one input partition in a child process, started on first use,
    configured as `store.settings` say (`agents.settings.conversation_config`, the follower graph
    read from its file there), its snapshots kept in `store`, and continuing from the snapshot a
    manifest names when given.

    Requests go to the child the moment they are made: a snapshot asked for between two batches
    holds the first and not the second. Batches are pipelined (up to `MAX_IN_FLIGHT` unanswered),
    so the child always has the next one at hand, and answered in order; what each caused is
    handed on (`observe`'s `then`) before any later answer is read. A snapshot or view is answered
    when its fork is done, after the batches before it (so the records of every batch it holds
    have been handed on) and possibly after some sent later.
    """

    MAX_IN_FLIGHT = 8

    def __init__(self, store: Store, partition: int, restore: dict[str, Any] | None = None) -> None:
        """Nothing starts until the first request."""
        self._numbers = itertools.count()
        self._unsent: list[bytes] | None = [
            _frame(_START, next(self._numbers), pickle.dumps((store, partition, restore)))
        ]
        self._waiting: dict[int, _Waiting] = {}
        self._room = asyncio.Event()
        self._child: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.failure: AnalyzerFailedError | None = None

    async def observe(self, batch: bytes, then: Callable[[Observed], Awaitable[None]]) -> None:
        """Send `batch` (`models.wire.batch.encode_events`) to the analyzer; `then` gets what it
        caused, in order. Waits while `MAX_IN_FLIGHT` batches are unanswered; raises
        `AnalyzerFailedError` once the child has failed.
        """
        while len(self._waiting) >= self.MAX_IN_FLIGHT and self.failure is None:
            self._room.clear()
            await self._room.wait()

        async def observed(answer: bytes) -> None:
            records, late, dropped, disordered, cascades, seconds = pickle.loads(answer)  # noqa: S301 - from our child
            conflicting, unseen = cascades
            await then(Observed(records, late, dropped, tuple(disordered), conflicting, unseen, seconds))

        self._request(_OBSERVE, batch, observed)

    def snapshot(self, slot: int) -> asyncio.Future[bytes]:
        """The manifest (`agents.snapshots.Manifest`, as JSON) of the analyzer's snapshot, as it
        stands after every request made so far, written to the store's `slot`.
        """
        return self._request(_SNAPSHOT, bytes([slot]))

    async def view(self) -> list[Record]:
        """The analyzer's view of everything received (`Analyzer.view`: no alerts)."""
        records: list[Record] = pickle.loads(await self._request(_VIEW, b""))  # noqa: S301 - from our child
        return records

    async def close(self) -> None:
        """Stop the child: closing its input ends it."""
        for task in self._tasks:
            task.cancel()
        child, self._child = self._child, None
        if child is not None and child.returncode is None:
            assert child.stdin is not None  # noqa: S101 - created with a pipe
            child.stdin.close()
            try:
                await asyncio.wait_for(child.wait(), timeout=5)
            except TimeoutError:
                child.kill()

    def _request(
        self, op: bytes, payload: bytes, then: Callable[[bytes], Awaitable[None]] | None = None
    ) -> asyncio.Future[bytes]:
        loop = asyncio.get_running_loop()
        waiting = _Waiting(loop.create_future(), then)
        if self.failure is not None:
            waiting.answer.set_exception(self.failure)
            return waiting.answer
        if not self._tasks:  # the first request: the start's answer (number 0) comes first
            self._waiting[0] = _Waiting(loop.create_future())
            self._tasks.append(asyncio.ensure_future(self._start()))
        number = next(self._numbers)
        self._waiting[number] = waiting
        frame = _frame(op, number, payload)
        if self._unsent is None:
            assert self._child is not None  # noqa: S101 - started: nothing is left unsent
            assert self._child.stdin is not None  # noqa: S101 - created with a pipe
            self._child.stdin.write(frame)
        else:
            self._unsent.append(frame)
        return waiting.answer

    async def _start(self) -> None:
        try:
            self._child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "agents.analyzer_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=STREAM_LIMIT,
                # One BLAS thread: the child forks for snapshots and views, and a fork keeps only
                # the thread that made it.
                env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
            )
        except OSError as error:
            self._fail(AnalyzerFailedError(f"the analyzer process did not start: {error}"))
            return
        assert self._child.stdin is not None  # noqa: S101 - created with pipes
        assert self._child.stdout is not None  # noqa: S101 - as above
        unsent, self._unsent = self._unsent or [], None
        self._child.stdin.writelines(unsent)
        self._tasks.append(asyncio.ensure_future(self._read(self._child.stdout)))

    async def _read(self, answers: asyncio.StreamReader) -> None:
        """Take the child's answers in order, handing each to its request."""
        started = False
        while True:
            try:
                number, length = _ANSWER.unpack(await answers.readexactly(_ANSWER.size))
                answer = await answers.readexactly(length)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                self._fail(AnalyzerFailedError(f"the analyzer process is gone ({error!r})"))
                return
            waiting = self._waiting.pop(number)
            self._room.set()
            if answer[:1] == _FAILED:
                reason = answer[1:].decode(errors="replace")
                prefix = "" if started else "the analyzer process did not start: "
                failure = AnalyzerFailedError(prefix + reason)
                if not started or waiting.then is not None:  # the state is no longer what was sent
                    self._fail(failure)
                    return
                waiting.answer.set_exception(failure)
                continue
            started = True
            if waiting.then is not None:
                await waiting.then(answer[1:])
            waiting.answer.set_result(answer[1:])

    def _fail(self, failure: AnalyzerFailedError) -> None:
        """Fail every request waiting and every later one."""
        self.failure = failure
        self._room.set()
        waiting, self._waiting = self._waiting, {}
        for answer in (request.answer for request in waiting.values()):
            if not answer.done():
                answer.set_exception(failure)
                answer.exception()  # retrieved: a request nobody awaits (a batch) is not an error to log


def _frame(op: bytes, number: int, payload: bytes) -> bytes:
    return _HEADER.pack(op, number, len(payload)) + payload


def _follower_graph(settings: Settings) -> Mapping[str, frozenset[str]] | None:
    """The follower graph `RESONANCE_FOLLOWERS` names (the worker's preflight read it already)."""
    return read_follower_graph(Path(settings.followers)) if settings.followers else None


def _observed(analyzer: Analyzer, payload: bytes) -> bytes:
    """What a batch caused, pickled: its records, late and dropped counts, disordered before and
    after, conflicting retweets and unseen originals among it, and the seconds it took. A tuple,
    not an `Observed`: this module runs as __main__ here, and pickle names classes by their module.
    """
    started = time.perf_counter()
    late, dropped, disordered = (
        analyzer.late_events,
        analyzer.dropped_events,
        analyzer.disordered_retweets,
    )
    conflicting, unseen = analyzer.conflicting_retweets, analyzer.unseen_originals
    records = []
    for _, native in decode_events(payload):
        records += analyzer.observe(trusted(native))
    return pickle.dumps(
        (
            records,
            analyzer.late_events - late,
            analyzer.dropped_events - dropped,
            (disordered, analyzer.disordered_retweets),
            (analyzer.conflicting_retweets - conflicting, analyzer.unseen_originals - unseen),
            time.perf_counter() - started,
        )
    )


@dataclass(frozen=True, slots=True)
class _Started:
    """The child's analyzer, and where its snapshots go."""

    analyzer: Analyzer
    store: Store
    partition: int

    @classmethod
    def of(cls, payload: bytes, refresher: Refresher) -> _Started:
        """The analyzer a start request describes, its refreshes run by `refresher`: new, or
        restored from the snapshot its manifest names (read from Kafka here).
        """
        store, partition, restore = pickle.loads(payload)  # noqa: S301 - from our parent
        config = conversation_config(store.settings, _follower_graph(store.settings))
        if restore is None:
            return cls(Analyzer(config, refresher), store, partition)
        saved = store.read(Manifest.of(restore))
        return cls(Analyzer.restore(config, orjson.loads(saved), refresher), store, partition)

    def encoded(self, op: bytes, payload: bytes) -> bytes:
        """The work a fork does: a snapshot written to Kafka (answered by its manifest, as JSON),
        or a view (pickled records).
        """
        if op == _SNAPSHOT:
            data = orjson.dumps(self.analyzer.snapshot())
            child = os.getppid()  # this fork's parent: the child, which exits when the stage lets go
            manifest = self.store.write(
                self.partition, payload[0], data, abandoned=lambda: os.getppid() != child
            )
            return orjson.dumps(manifest.plain())
        return pickle.dumps(self.analyzer.view(Trigger.IDLE))


def _requests(buffer: bytearray) -> Iterator[tuple[bytes, int, bytes]]:
    """Take every whole request (opcode, number, payload) off the front of `buffer`."""
    while len(buffer) >= _HEADER.size:
        op, number, length = _HEADER.unpack_from(buffer)
        end = _HEADER.size + length
        if len(buffer) < end:
            return
        payload = bytes(buffer[_HEADER.size : end])
        del buffer[:end]
        yield op, number, payload


class Child:
    """The child's side: one analyzer, the requests on `source`, the answers on `out`, its
    refreshes' results in files of `refreshes` (a directory of its own).
    """

    def __init__(
        self,
        source: int,
        out: BinaryIO,
        refreshes: Path,
        *,
        fork_deadline_seconds: float = forking.DEADLINE_SECONDS,
    ) -> None:
        """Serve requests read from the file descriptor `source`; kill forks past the deadline."""
        self._refresher = ForkedRefresher(refreshes, busy=lambda: bool(self._forks))
        self._source = source
        self._out = out
        self._started: _Started | None = None
        self._selector = selectors.DefaultSelector()
        self._forks: dict[int, _Fork] = {}  # by the pipe its answer comes on
        self._fork_deadline_seconds = fork_deadline_seconds

    def serve(self) -> None:
        """Answer requests until the source closes; between them, do the analyzer's work ahead
        of its next boundary (`Analyzer.work_ahead`), in slices, until none is left.
        """
        buffer = bytearray()
        self._selector.register(self._source, selectors.EVENT_READ)
        ahead = False  # whether the analyzer may have work to do ahead
        while True:
            ready = self._selector.select(0 if ahead else self._until_a_deadline())
            self._kill_overdue()
            if not ready:
                ahead = self._work_ahead()
            for key, _ in ready:
                if key.fd != self._source:
                    self._read_fork(key.fd)
                    continue
                chunk = os.read(self._source, 1 << 20)
                if not chunk:
                    return
                buffer += chunk
                for op, number, payload in _requests(buffer):
                    self._handle(op, number, payload)
                ahead = True

    def _until_a_deadline(self) -> float | None:
        """Seconds until the first running fork's deadline (None: no fork runs)."""
        if not self._forks:
            return None
        return max(0.0, min(fork.deadline for fork in self._forks.values()) - time.monotonic())

    def _kill_overdue(self) -> None:
        """Kill every fork past its deadline; its pipe then closes, and it is answered failed."""
        now = time.monotonic()
        for fork in self._forks.values():
            if not fork.killed and fork.deadline <= now:
                os.kill(fork.pid, signal.SIGKILL)
                fork.killed = True

    def _work_ahead(self) -> bool:
        """One slice of the analyzer's work ahead; whether there may be more."""
        return self._started is not None and self._started.analyzer.work_ahead(WORK_AHEAD_MOVES) > 0

    def _answer(self, number: int, payload: bytes) -> None:
        self._out.write(_ANSWER.pack(number, len(payload)) + payload)
        self._out.flush()

    def _handle(self, op: bytes, number: int, payload: bytes) -> None:
        try:
            if op == _START:
                self._started = _Started.of(payload, self._refresher)
                answer = b""
            elif self._started is None:
                raise ValueError("a request before the analyzer was started")  # noqa: TRY301 - answered below
            elif op == _OBSERVE:
                answer = _observed(self._started.analyzer, payload)
            elif op in (_SNAPSHOT, _VIEW):
                started = self._started
                self.fork(lambda: started.encoded(op, payload), number)
                return
            else:
                raise ValueError(f"unknown request {op!r}")  # noqa: TRY301 - answered below
        except Exception as error:  # noqa: BLE001 - every failure is answered, the parent raises it
            self._answer(number, _FAILED + repr(error).encode())
        else:
            self._answer(number, b"+" + answer)

    def fork(self, work: Callable[[], bytes], number: int) -> None:
        """Run `work` (a snapshot written, a view computed) in a fork (`agents.forking`): request
        `number` is answered with what it returns once it is done, or failed past the deadline.
        """
        pid, pipe = forking.start(work)
        self._forks[pipe] = _Fork(pid, number, time.monotonic() + self._fork_deadline_seconds)
        self._selector.register(pipe, selectors.EVENT_READ)

    def _read_fork(self, pipe: int) -> None:
        """Take what a fork wrote; answer its request once it is done."""
        fork = self._forks[pipe]
        chunk = os.read(pipe, forking.READ_BYTES)
        if chunk:
            fork.got += chunk
            return
        self._selector.unregister(pipe)
        os.close(pipe)
        del self._forks[pipe]
        answer = forking.answer(bytes(fork.got), fork.pid)
        self._answer(fork.request, forking.overdue(self._fork_deadline_seconds) if fork.killed else answer)
        self._refresher.tidy()  # this fork may have held a refresh's file


@dataclass(slots=True)
class _Fork:
    """A fork at work for a request: its pid, the request's number, when it is overdue
    (monotonic seconds), what it wrote so far, and whether it was killed for being overdue.
    """

    pid: int
    request: int
    deadline: float
    got: bytearray = field(default_factory=bytearray)
    killed: bool = False


def main(source: int, out: BinaryIO) -> None:
    """Serve requests from the file descriptor `source` until it closes."""
    gc_policy.tune_for_long_lived_state()
    with tempfile.TemporaryDirectory(prefix="resonance-refreshes-") as refreshes:
        Child(source, out, Path(refreshes)).serve()


if __name__ == "__main__":
    main(sys.stdin.fileno(), sys.stdout.buffer)
