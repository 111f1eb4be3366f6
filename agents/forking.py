"""Work done in a fork: a copy-on-write image of this process as it stands, so that a large state
is encoded and written while this process goes on changing it, and its event loop is held only
for the fork itself (milliseconds, plus the pages the two then write).

The fork runs one function, writes its answer to a pipe (`DONE` and the bytes it returned, or
`FAILED` and the reason), and exits at once without running this process's exit handlers or
touching anything it shares with it (sockets, the event loop, the producer). It runs at a lower
CPU priority than the live processes (`BACKGROUND_NICENESS`): its work is background work. The worker's
stages use `in_fork`; the conversation analyzer's process, which has no event loop, reads the
pipe from its own selector (`start`, `answer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

from agents import gc_policy

DONE, FAILED = b"+", b"!"  # an answer's first byte
READ_BYTES = 1 << 20
# A fork's priority below its parent's (`nice`; 10 gives it about a tenth of a contended core).
# On a machine of two cores, a fork encoding a snapshot or computing a refresh at the parent's
# priority took the core the worker's event loop was about to run on: the loop, runnable, waited
# 100 to 250 ms after each checkpoint's fork. At a lower priority the fork gets what the live
# processes leave, which is all of a core when they are idle.
BACKGROUND_NICENESS = 10
# A fork that has not answered within this long is stuck (say, on a lock another thread of this
# process held when it forked), and is killed: its work is reported failed, and the caller tries
# again later. The largest snapshot measured, of a million retweet edges, took about 15 s.
DEADLINE_SECONDS = 600.0


class ForkFailedError(RuntimeError):
    """The work in the fork failed, or the fork ended without an answer; the message says why."""


def start(work: Callable[[], bytes]) -> tuple[int, int]:
    """Fork, and run `work` in the fork; the fork's pid, and the read end of the pipe its answer
    comes on (non-blocking: read it until end of file, then pass what was read to `answer`).
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fork: never return into the caller's code
        try:
            os.close(read)
            os.nice(BACKGROUND_NICENESS)
            _detach_signals()
            try:
                with gc_policy.paused():
                    result = DONE + work()
            except Exception as error:  # noqa: BLE001 - every failure is answered
                result = FAILED + repr(error).encode()
            with os.fdopen(write, "wb") as pipe:
                pipe.write(result)
        finally:
            os._exit(0)
    os.close(write)
    os.set_blocking(read, False)
    return pid, read


def overdue(deadline_seconds: float) -> bytes:
    """The answer for a fork killed at its deadline."""
    return FAILED + f"the fork did not answer within {deadline_seconds:g} s, and was killed".encode()


def answer(got: bytes, pid: int) -> bytes:
    """The fork's whole answer, once its pipe has closed: `got`, or a failure saying how it ended
    when it wrote nothing. Reaps the fork.
    """
    _, status = os.waitpid(pid, 0)  # it closed the pipe: it has exited, or is about to
    if got:
        return got
    return FAILED + f"the fork ended without an answer (wait status {status})".encode()


def in_fork(
    work: Callable[[], bytes], *, deadline_seconds: float = DEADLINE_SECONDS
) -> asyncio.Future[bytes]:
    """Fork now, run `work` in the fork, and resolve with what it returned (read without holding
    the running event loop); ForkFailedError with the fork's reason when it failed, or when it
    did not answer within `deadline_seconds`. Cancelling the future, or the deadline, kills the
    fork.
    """
    loop = asyncio.get_running_loop()
    result: asyncio.Future[bytes] = loop.create_future()
    pid, pipe = start(work)
    got = bytearray()
    answered = False  # the pipe closed: the fork is done, and its pid is soon reaped (not ours to kill)

    def readable() -> None:
        nonlocal answered
        chunk = os.read(pipe, READ_BYTES)
        if chunk:
            got.extend(chunk)
            return
        answered = True
        loop.remove_reader(pipe)
        os.close(pipe)
        # The fork exits right after closing its end; reaping it may still wait a moment.
        reaped = loop.run_in_executor(None, answer, bytes(got), pid)
        reaped.add_done_callback(settle)

    def settle(reaped: asyncio.Future[bytes]) -> None:
        if result.done():  # cancelled, or past its deadline
            return
        whole = reaped.result()
        if whole[:1] == DONE:
            result.set_result(whole[1:])
        else:
            result.set_exception(ForkFailedError(whole[1:].decode(errors="replace")))

    def stuck() -> None:
        if not result.done():
            result.set_exception(ForkFailedError(overdue(deadline_seconds)[1:].decode()))

    def killed(_: asyncio.Future[bytes]) -> None:
        deadline.cancel()
        if not answered:  # cancelled or stuck: the pipe then closes, and `readable` reaps it
            os.kill(pid, signal.SIGKILL)

    loop.add_reader(pipe, readable)
    deadline = loop.call_later(deadline_seconds, stuck)
    result.add_done_callback(killed)
    return result


def _detach_signals() -> None:
    """In the fork: take back the signal handling this process set up. Its event loop's wakeup
    descriptor is shared with this process, so a signal the fork received would be taken by the
    loop there for one of its own.
    """
    with contextlib.suppress(ValueError):  # not the main thread: no wakeup descriptor was set here
        signal.set_wakeup_fd(-1)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
