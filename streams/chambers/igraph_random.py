"""igraph's random numbers, drawn from a seeded generator for the length of one block.

igraph draws its random numbers from one process-wide generator (by default Python's `random`
module). `seeded` installs a private `random.Random(seed)` for a block and puts the default back,
so results depend on the seed only. A lock serialises the blocks: a worker computes its idle view
in a thread while its stages go on, and two threads drawing from each other's generator would make
the results depend on timing.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import igraph  # type: ignore[import-untyped, unused-ignore]

_LOCK = threading.Lock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Within the block, igraph's random choices come from `random.Random(seed)` alone."""
    with _LOCK:
        # S311: reproducible random choices (Leiden, rewiring), nothing secret.
        igraph.set_random_number_generator(random.Random(seed))  # noqa: S311
        try:
            yield
        finally:
            igraph.set_random_number_generator(random)  # igraph's default generator
