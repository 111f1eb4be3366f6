"""How this process's garbage collector runs: tuned for long-lived analysis state.

A worker or `resonance analyze` holds millions of small objects (window entries, cascade nodes,
graph edges) for as long as the window lasts. With CPython's default thresholds (a young
collection every 700 net allocations) the collector keeps re-examining that state: on the Higgs
file it took about 45% of `analyze`'s time. Almost none of it is cyclic garbage, so collections
can be much rarer without letting memory grow: reference counting still frees everything else at
once.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from agents.instruments import PAUSE_BUCKETS

# A young collection every 20,000 net allocations (instead of 700: on the Higgs file, observe
# 21 s -> 12.8 s at 50,000), and a middle one every 3 of those (instead of 10). A collection holds
# the thread that triggers it, the worker's event loop included, for as long as it takes to walk
# the objects it examines: a middle collection examines what survived the young ones since the
# last, so the ratio bounds it (20 young collections of 50,000 let it walk a million survivors,
# 0.3 s). Every survivor is examined once per generation whatever the thresholds, so the total
# stays the same (benchmarks/README.md, "What the collector walks").
YOUNG_THRESHOLD = 20_000
MIDDLE_RATIO = 3
OLD_RATIO = 100


def tune_for_long_lived_state() -> None:
    """Freeze what exists now (modules, classes, settings: never garbage) out of every future
    collection, and collect the young generation every `YOUNG_THRESHOLD` allocations.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_RATIO, OLD_RATIO)


class _Pauses:
    """How many `paused` blocks are open, in any thread; whether collection was on before them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.was_enabled = False


_PAUSES = _Pauses()


@contextmanager
def paused() -> Iterator[None]:
    """No garbage collection while the block runs, in any thread, until the last open block ends.

    For work that allocates a great many short-lived containers and no cycles: encoding or
    copying a stage's state. Its allocations would trigger young collections, and in time a full
    one over the whole live state, holding up the worker's event loop for a third of a second
    more (measured: a 50,000-tweet snapshot took 0.33 s without collections, 0.37 to 0.68 s with).
    Reference counting frees the containers as usual; cyclic garbage waits for the block's end.
    """
    with _PAUSES.lock:
        if not _PAUSES.open:
            _PAUSES.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSES.open += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.open -= 1
            if not _PAUSES.open and _PAUSES.was_enabled:
                gc.enable()


@contextmanager
def building_long_lived_state() -> Iterator[None]:
    """`paused` for a block that builds state meant to live on (an offline analysis), whose
    survivors are then frozen out of every future collection, as the startup objects are.

    Without the freeze, the first young collection after the block examines everything it
    allocated at once (measured: 0.4 s per 100,000 Higgs tweets), the next middle collection
    does again, and the interpreter's exit collection a third time. The block must make no
    reference cycles of its own that become garbage later (frozen cycles are never collected):
    the analysis core makes none (tests/test_analyzer.py); what is cyclic in it lives as long
    as the analyzer does.
    """
    with paused():
        yield
        gc.freeze()


# The latest collections timed by `export_pauses`: (ended at `time.monotonic()`, generation,
# seconds). Enough to say which of them fell inside one hold of the event loop.
_RECENT: deque[tuple[float, int, float]] = deque(maxlen=64)


def collections_since(start: float) -> list[tuple[int, float]]:
    """(generation, seconds) of each timed collection that ended after `start`
    (`time.monotonic()`, the event loop's clock), oldest first; empty unless `export_pauses`
    runs in this process.
    """
    return [(generation, seconds) for ended, generation, seconds in list(_RECENT) if ended > start]


def export_pauses(registry: CollectorRegistry) -> None:
    """Time every garbage collection of this process, by generation, as
    `resonance_gc_pause_seconds` on `registry` (instead of any registry given before), and keep
    the latest for `collections_since`: a collection holds whichever thread triggered it, the
    worker's event loop included.
    """
    pauses = Histogram(
        "resonance_gc_pause_seconds",
        "How long each of the worker process's garbage collections took, by generation (2: a "
        "full collection, over every tracked object of the window's state): the event loop waits",
        ["generation"],
        buckets=PAUSE_BUCKETS,
        registry=registry,
    )
    by_generation = [pauses.labels(str(generation)) for generation in range(3)]
    started = [0.0]

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            seconds = time.perf_counter() - started[0]
            by_generation[info["generation"]].observe(seconds)
            _RECENT.append((time.monotonic(), info["generation"], seconds))

    # One app per process exports them; a later app (tests make many) takes them over.
    for callback in [c for c in gc.callbacks if getattr(c, "resonance_pauses", False)]:
        gc.callbacks.remove(callback)
    timed.resonance_pauses = True  # type: ignore[attr-defined]
    gc.callbacks.append(timed)
