"""How long the worker's event loop is held, and by what.

A timer that should wake every `interval` measures how late it woke. Every stage, the web server
and the consumer's heartbeat bookkeeping share that loop, so anything that holds it (a long
computation, a large checkpoint encoded in one go, a full garbage collection) shows here, in
Prometheus, as it happens. A hold of `HOLD_REPORT_SECONDS` or more is also logged with what held
it: a thread samples the loop's stack while the timer is overdue, and the collections that ended
meanwhile are named with their generation and length.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram

from agents import gc_policy
from agents.instruments import PAUSE_BUCKETS

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.05
# Issue 16 (goal 4): nothing may hold the loop longer than this.
HOLD_REPORT_SECONDS = 0.1
# How often the sampler looks at an overdue loop, and how many of its innermost frames it keeps.
SAMPLE_SECONDS = 0.02
FRAMES_KEPT = 6
# Innermost Python calls in which another thread waits rather than works (their samples are not
# kept): a wait in C (a queue's get, `os.waitpid`) shows as the Python function that called it.
WAITING = frozenset(
    {"select", "poll", "wait", "acquire", "sleep", "_wait_for_tstate_lock", "get", "_worker", "_do_waitpid"}
)


def watcher(
    registry: CollectorRegistry,
    interval: float = INTERVAL_SECONDS,
    report_after: float = HOLD_REPORT_SECONDS,
) -> Callable[[], Coroutine[Any, Any, None]]:
    """A coroutine function that measures the loop's lag for ever, exported on `registry`, and
    logs every hold of `report_after` seconds or more with what the loop was running meanwhile.
    """
    lag = Histogram(
        "resonance_event_loop_lag_seconds",
        f"How late a timer due every {interval * 1000:.0f} ms woke: how long the worker's event loop "
        "was held by work that does not let it go",
        buckets=PAUSE_BUCKETS,
        registry=registry,
    )
    longest = Gauge(
        "resonance_event_loop_lag_max_seconds",
        "The longest the worker's event loop has been held since it started",
        registry=registry,
    )

    async def watch() -> None:
        loop = asyncio.get_running_loop()
        sampler = HoldSampler(threading.get_ident(), overdue_after=report_after)
        sampler.start()
        worst = 0.0
        try:
            while True:
                sampler.due = due = loop.time() + interval
                thread_before, process_before = time.thread_time(), time.process_time()
                await asyncio.sleep(interval)
                late = max(0.0, loop.time() - due)
                held_by = sampler.take()
                lag.observe(late)
                if late > worst:
                    worst = late
                    longest.set(late)
                if late >= report_after:
                    thread_ran = time.thread_time() - thread_before
                    process_ran = time.process_time() - process_before
                    hold = Hold(late, interval + late, thread_ran, process_ran, held_by)
                    log.warning("%s", hold.describe(gc_policy.collections_since(due)))
        finally:
            sampler.stop()

    return watch


class HoldSampler(threading.Thread):
    """Samples one thread's stack every `SAMPLE_SECONDS` while `time.monotonic()` is
    `overdue_after` seconds or more past `due` (which that thread moves on each time it is free),
    and the stacks of the process's other threads that are not waiting (labelled with the
    thread's name): one of them may have the interpreter's lock the held thread waits for.

    A sample is taken when this thread gets the interpreter's lock: Python code gives it up every
    few milliseconds, so long Python work is caught in the act; a garbage collection or a long
    call into C keeps it, so its samples show what ran just after (collections are reported from
    `gc_policy` instead).
    """

    def __init__(self, thread_id: int, *, overdue_after: float) -> None:
        """Sample thread `thread_id` once `start`ed; `due` starts now."""
        super().__init__(name="loop-hold-sampler", daemon=True)
        self.thread_id = thread_id
        self.overdue_after = overdue_after
        self.due = time.monotonic()
        self._samples: Counter[str] = Counter()
        self._stopped = threading.Event()

    def run(self) -> None:
        """Sample until `stop`."""
        while not self._stopped.wait(SAMPLE_SECONDS):
            if time.monotonic() - self.due < self.overdue_after:
                continue
            # The one way to read another thread's stack from Python (faulthandler's prints it).
            frames = sys._current_frames()  # noqa: SLF001
            names = {thread.ident: thread.name for thread in threading.enumerate()}
            for ident, frame in frames.items():
                if ident == self.thread_id:
                    self._samples[innermost(frame)] += 1
                elif ident != self.ident and frame.f_code.co_name not in WAITING:
                    self._samples[f"[thread {names.get(ident, ident)}] {innermost(frame)}"] += 1

    def take(self) -> Counter[str]:
        """The stacks sampled since the last call, each with how many times it was seen."""
        taken, self._samples = self._samples, Counter()
        return taken

    def stop(self) -> None:
        """End the sampling (within `SAMPLE_SECONDS`)."""
        self._stopped.set()


def innermost(frame: FrameType, frames: int = FRAMES_KEPT) -> str:
    """`frame`'s innermost `frames` calls, innermost first: "file.py:12 name < caller.py:34 name".

    >>> def caller():
    ...     return innermost(sys._getframe(), frames=2)
    >>> caller().split(" < ")[0].endswith(" caller")
    True
    """
    calls = traceback.extract_stack(frame)[-frames:]
    return " < ".join(f"{Path(call.filename).name}:{call.lineno} {call.name}" for call in reversed(calls))


@dataclass(frozen=True, slots=True)
class Hold:
    """One hold of the loop: `seconds` late, out of `elapsed` since the timer was set, of which
    the loop's thread was on a CPU `thread_ran` and the whole process (every thread, on every
    core) `process_ran`; and the `stacks` sampled meanwhile, with their counts.

    The CPU figures say what kind of hold it was: a thread that ran all along did work; one that
    ran little while the process ran a lot waited for another of its threads (the interpreter's
    lock); one that ran little in a process that ran little waited for a core (other processes
    had them).
    """

    seconds: float
    elapsed: float
    thread_ran: float
    process_ran: float
    stacks: Counter[str]

    def describe(self, collections: list[tuple[int, float]]) -> str:
        """One log line: the hold, the collections that ended meanwhile (generation, seconds),
        and the stacks sampled, most seen first.

        >>> stacks = Counter({"a.py:1 f": 3})
        >>> for part in Hold(0.25, 0.3, 0.29, 0.31, stacks).describe([(2, 0.18)]).split("; "):
        ...     print(part)
        event loop held 250 ms
        of the 300 ms since its timer was set, its thread ran 290, the process 310
        collections meanwhile: generation 2 180 ms
        sampled 3x: a.py:1 f
        >>> for part in Hold(0.12, 0.17, 0.01, 0.02, Counter()).describe([]).split("; "):
        ...     print(part)
        event loop held 120 ms
        of the 170 ms since its timer was set, its thread ran 10, the process 20
        no collection meanwhile
        not sampled (the lock was not given up)
        """
        parts = [
            f"event loop held {self.seconds * 1000:.0f} ms",
            (
                f"of the {self.elapsed * 1000:.0f} ms since its timer was set, its thread ran "
                f"{self.thread_ran * 1000:.0f}, the process {self.process_ran * 1000:.0f}"
            ),
        ]
        if collections:
            timed = ", ".join(
                f"generation {generation} {spent * 1000:.0f} ms" for generation, spent in collections
            )
            parts.append(f"collections meanwhile: {timed}")
        else:
            parts.append("no collection meanwhile")
        if self.stacks:
            parts.extend(f"sampled {count}x: {stack}" for stack, count in self.stacks.most_common(4))
        else:
            parts.append("not sampled (the lock was not given up)")
        return "; ".join(parts)
