"""Work done in a fork sees the state as it stood when asked, answers without holding the loop,
says why it failed, and is killed when no longer wanted.
"""

from __future__ import annotations

import asyncio
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agents import analyzer_process, forking


def test_the_fork_answers_with_the_state_as_it_stood_when_asked() -> None:
    """The parent changes the state right after forking; the answer is the state before."""

    async def scenario() -> bytes:
        state = [1, 2, 3]
        answer = forking.in_fork(lambda: repr(state).encode())
        state.append(4)
        return await answer

    assert asyncio.run(scenario()) == b"[1, 2, 3]"


def test_the_fork_runs_at_a_lower_priority_than_its_parent() -> None:
    """Background work yields the cores to the live processes: the fork is `nice`r."""
    parent = os.nice(0)

    async def niceness_in_the_fork() -> bytes:
        return await asyncio.wait_for(forking.in_fork(lambda: str(os.nice(0)).encode()), 10)

    answer = asyncio.run(niceness_in_the_fork())
    assert int(answer) == min(19, parent + forking.BACKGROUND_NICENESS)
    assert os.nice(0) == parent


def test_a_failure_in_the_fork_is_raised_with_its_reason() -> None:
    """An exception in the fork comes back as ForkFailedError naming it."""

    def fails() -> bytes:
        raise ValueError("no such state")

    async def scenario() -> bytes:
        return await forking.in_fork(fails)

    with pytest.raises(forking.ForkFailedError, match="no such state"):
        asyncio.run(scenario())


def test_cancelling_kills_the_fork(tmp_path: Path) -> None:
    """A fork no longer wanted (its partition revoked, the worker stopping) is killed and reaped."""
    pid_file = tmp_path / "pid"

    def lingers() -> bytes:
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)
        return b"too late"

    async def scenario() -> int:
        answer = forking.in_fork(lingers)
        await _until(lambda: pid_file.exists() and bool(pid_file.read_text()))
        answer.cancel()
        pid = int(pid_file.read_text())
        await _until(lambda: not _exists(pid))
        return pid

    pid = asyncio.run(scenario())
    assert not _exists(pid)


def test_a_fork_past_its_deadline_is_killed_and_reported(tmp_path: Path) -> None:
    """A fork that does not answer in time (stuck, say, on a lock) is killed, reaped, and its
    work reported failed, so that the caller can try again.
    """
    pid_file = tmp_path / "pid"

    def stuck() -> bytes:
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)
        return b"too late"

    async def scenario() -> tuple[str, float, int]:
        started = time.monotonic()
        try:
            await forking.in_fork(stuck, deadline_seconds=0.5)
        except forking.ForkFailedError as error:
            failed, reason = time.monotonic() - started, str(error)
        else:
            raise AssertionError("a stuck fork answered")
        pid = int(pid_file.read_text())
        await _until(lambda: not _exists(pid))  # the loop goes on, and reaps it
        return reason, failed, pid

    reason, failed_after, pid = asyncio.run(scenario())
    assert reason == "the fork did not answer within 0.5 s, and was killed"
    assert 0.5 <= failed_after < 10
    assert not _exists(pid)


def test_the_analyzer_process_answers_a_fork_past_its_deadline_failed(tmp_path: Path) -> None:
    """The conversation analyzer's process kills a snapshot fork past its deadline and answers
    its request failed, naming the deadline; it goes on serving.
    """
    pid_file = tmp_path / "pid"

    def stuck() -> bytes:
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)
        return b"too late"

    source, requests = os.pipe()
    answers, out = os.pipe()
    child = analyzer_process.Child(source, os.fdopen(out, "wb"), tmp_path, fork_deadline_seconds=0.5)
    serving = threading.Thread(target=child.serve)
    child.fork(stuck, 7)  # as a snapshot request would
    serving.start()
    try:
        header = _read_exactly(answers, 8)
        number, length = struct.unpack(">II", header)
        answer = _read_exactly(answers, length)
    finally:
        os.close(requests)  # the source closes: the child stops serving
        serving.join(10)
    assert number == 7
    assert answer.startswith(forking.FAILED)
    assert b"did not answer within 0.5 s, and was killed" in answer
    assert not serving.is_alive()
    assert not _exists(int(pid_file.read_text()))


def _read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes from `fd` (blocking)."""
    got = b""
    while len(got) < size:
        chunk = os.read(fd, size - len(got))
        assert chunk, "the pipe closed early"
        got += chunk
    return got


async def _until(check: Callable[[], bool], seconds: float = 10) -> None:
    """Return once `check()` holds, or after `seconds` (the caller asserts what it needs)."""
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)


def _exists(pid: int) -> bool:
    """Whether a process `pid` (not yet reaped) exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
