"""Work done in a fork sees the state as it stood when asked, answers without holding the loop,
says why it failed, and is killed when no longer wanted.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agents import forking


def test_the_fork_answers_with_the_state_as_it_stood_when_asked() -> None:
    """The parent changes the state right after forking; the answer is the state before."""

    async def scenario() -> bytes:
        state = [1, 2, 3]
        answer = forking.in_fork(lambda: repr(state).encode())
        state.append(4)
        return await answer

    assert asyncio.run(scenario()) == b"[1, 2, 3]"


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
