"""The conversation analyzer's refreshes, each in a fork of its process: the worker's
`streams.refresh.Refresher`.

A refresh of a large window takes minutes. In a fork (a copy-on-write image of the analyzer as it
stood at the refresh's boundary) it runs on the other core while the analyzer takes the next
batches; the analyzer takes its result at the boundary that publishes it (`refresh_lag` of event
time later), and waits there only if the fork is not done.

The fork writes its result to a file of its own in `directory`, atomically (written aside,
then renamed), and `ForkFailedError`'s reason beside it when it fails. The analyzer's process
learns that the fork is done from its pipe (`agents.forking`); a fork of that process (a snapshot
or an idle view taken while the refresh runs, whose state holds it pending) cannot share that
pipe, and watches for the file instead. A result's file is deleted once the analyzer has taken
it and no such fork, which may still read it, runs.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from agents import forking
from streams.refresh import Compute, Refreshed, Result

# How often a fork waiting for a refresh's file looks for it: a snapshot's fork waits at most this
# long after the refresh is done.
POLL_SECONDS = 0.02
_PR_SET_PDEATHSIG = 1  # prctl(2)


class ForkedRefresher:
    """Starts each refresh in a fork; results as files in `directory` (see the module docstring).
    `busy` says whether a fork that may read a result (a snapshot's, a view's) runs.
    """

    def __init__(self, directory: Path, busy: Callable[[], bool]) -> None:
        """Results go to `directory`, which exists."""
        self._directory = directory
        self._busy = busy
        self._numbers = itertools.count()
        self._taken: list[Path] = []  # results the analyzer took, their files not yet deleted

    def __call__(self, compute: Compute) -> Result:
        """Fork now and compute the refresh there, detached; its result when asked."""
        path = self._directory / f"{next(self._numbers)}.json"
        parent = os.getpid()

        def work() -> bytes:
            _die_with(parent)
            try:
                data = orjson.dumps(compute(True).plain())  # noqa: FBT003 - the Compute signature
            except Exception as error:
                _write(_failed(path), repr(error).encode())
                raise
            _write(path, data)
            return b""

        pid, pipe = forking.start(work)
        return _Awaited(self, path, pid, pipe, os.getpid())

    def tidy(self) -> None:
        """Delete the files of the results taken, unless a fork that may still read one runs."""
        if self._busy():
            return
        for path in self._taken:
            path.unlink(missing_ok=True)
        self._taken.clear()

    def taken(self, path: Path) -> None:
        """The analyzer took the result in `path`: its file may go."""
        self._taken.append(path)
        self.tidy()


class _Awaited:
    """A refresh running in a fork, as a `streams.refresh.Result`: read once, then kept."""

    def __init__(self, refresher: ForkedRefresher, path: Path, pid: int, pipe: int, owner: int) -> None:
        self._refresher = refresher
        self._path = path
        self._pid = pid
        self._pipe = pipe
        self._owner = owner  # the process that forked it, the only one its pipe answers
        self._refreshed: Refreshed | None = None

    def __call__(self) -> Refreshed:
        """The refresh's result; waits for the fork when it is not done. Raises
        `forking.ForkFailedError` with the fork's reason when it failed.
        """
        if self._refreshed is None:
            self._refreshed = self._take() if os.getpid() == self._owner else self._watch()
        return self._refreshed

    def _take(self) -> Refreshed:
        """In the process that forked it: wait on its pipe, reap it, read its file."""
        os.set_blocking(self._pipe, True)
        got = bytearray()
        while chunk := os.read(self._pipe, forking.READ_BYTES):
            got += chunk
        os.close(self._pipe)
        answer = forking.answer(bytes(got), self._pid)
        if answer[:1] != forking.DONE:
            raise forking.ForkFailedError(f"the refresh failed: {answer[1:].decode(errors='replace')}")
        refreshed = Refreshed.of(orjson.loads(self._path.read_bytes()))
        self._refresher.taken(self._path)
        return refreshed

    def _watch(self) -> Refreshed:
        """In a later fork of that process: wait for the file."""
        failed = _failed(self._path)
        while True:
            if self._path.exists():
                return Refreshed.of(orjson.loads(self._path.read_bytes()))
            if failed.exists():
                raise forking.ForkFailedError(f"the refresh failed: {failed.read_text()}")
            time.sleep(POLL_SECONDS)


def _die_with(parent: int) -> None:
    """Have the kernel kill this fork when `parent` (the process that forked it) ends: a refresh
    nobody will take would otherwise run on for minutes.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the request took hold
        os._exit(0)


def _failed(path: Path) -> Path:
    """Where the reason goes when the refresh meant for `path` fails."""
    return path.with_suffix(".failed")


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: whoever sees the file sees all of it."""
    aside = path.with_suffix(".part")
    aside.write_bytes(data)
    aside.rename(path)
