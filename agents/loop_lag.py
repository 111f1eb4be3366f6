"""How long the worker's event loop is held: a timer that should wake every `interval` measures
how late it woke. Every stage, the web server and the consumer's heartbeat bookkeeping share
that loop, so anything that holds it (a long computation, a large checkpoint encoded in one go)
shows here, in Prometheus, as it happens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram

from agents.instruments import PAUSE_BUCKETS

INTERVAL_SECONDS = 0.05


def watcher(
    registry: CollectorRegistry, interval: float = INTERVAL_SECONDS
) -> Callable[[], Coroutine[Any, Any, None]]:
    """A coroutine function that measures the loop's lag for ever, exported on `registry`."""
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
        worst = 0.0
        while True:
            due = loop.time() + interval
            await asyncio.sleep(interval)
            late = max(0.0, loop.time() - due)
            lag.observe(late)
            if late > worst:
                worst = late
                longest.set(late)

    return watch
