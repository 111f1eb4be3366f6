"""The event loop's holds: measured, exported, and logged with what held the loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time

import pytest
from prometheus_client import CollectorRegistry

from agents import gc_policy, loop_lag


def hold_the_loop_sleeping(seconds: float) -> None:
    """Hold the calling thread's event loop, giving up the interpreter's lock meanwhile."""
    time.sleep(seconds)


def hold_the_loop_collecting(rounds: int) -> None:
    """Hold the calling thread's event loop with full collections."""
    for _ in range(rounds):
        gc.collect()


async def watched(registry: CollectorRegistry, **watching: float) -> None:
    """Run the watcher on `registry` for 0.6 s, around whatever the loop was given to run."""
    task = asyncio.create_task(loop_lag.watcher(registry, **watching)())
    await asyncio.sleep(0.6)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_hold_is_exported_and_logged_with_its_stack(caplog: pytest.LogCaptureFixture) -> None:
    """A 300 ms hold: the longest lag says so, and one warning names the function that held."""
    registry = CollectorRegistry()

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.2, hold_the_loop_sleeping, 0.3)
        await watched(registry)

    with caplog.at_level(logging.WARNING, logger=loop_lag.__name__):
        asyncio.run(main())

    longest = registry.get_sample_value("resonance_event_loop_lag_max_seconds")
    assert longest is not None
    assert 0.25 <= longest < 1.0
    holds = [record.getMessage() for record in caplog.records]
    assert len(holds) == 1, holds
    assert holds[0].startswith("event loop held")
    assert "hold_the_loop_sleeping" in holds[0]
    assert "no collection meanwhile" in holds[0]


def spin(seconds: float) -> None:
    """Work in Python for `seconds`."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        pass


def test_another_thread_at_work_during_a_hold_is_named(caplog: pytest.LogCaptureFixture) -> None:
    """A thread of the process that works while the loop is held is sampled too, by its name."""
    registry = CollectorRegistry()
    spinner = threading.Thread(target=spin, args=(0.6,), name="spinner")

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.1, spinner.start)
        asyncio.get_running_loop().call_later(0.2, hold_the_loop_sleeping, 0.3)
        await watched(registry)

    with caplog.at_level(logging.WARNING, logger=loop_lag.__name__):
        asyncio.run(main())
    spinner.join()
    holds = [record.getMessage() for record in caplog.records]
    assert any("[thread spinner]" in hold and " spin" in hold for hold in holds), holds


def test_a_collection_inside_a_hold_is_named(caplog: pytest.LogCaptureFixture) -> None:
    """Collections timed by `gc_policy` that end during a hold are listed with their generation."""
    registry = CollectorRegistry()
    gc_policy.export_pauses(registry)
    garbage = [[[] for _ in range(50)] for _ in range(20_000)]  # a full collection has work

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.2, hold_the_loop_collecting, 10)
        await watched(registry, report_after=0.01)

    try:
        with caplog.at_level(logging.WARNING, logger=loop_lag.__name__):
            asyncio.run(main())
    finally:
        del garbage
    holds = [record.getMessage() for record in caplog.records]
    assert any("generation 2" in hold for hold in holds), holds


def test_short_waits_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """An idle loop logs nothing, and its longest lag stays under the report's threshold."""
    registry = CollectorRegistry()
    with caplog.at_level(logging.WARNING, logger=loop_lag.__name__):
        asyncio.run(watched(registry))
    assert caplog.records == []
    longest = registry.get_sample_value("resonance_event_loop_lag_max_seconds")
    assert longest is not None
    assert longest < loop_lag.HOLD_REPORT_SECONDS
