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

# A young collection every 50,000 net allocations (instead of 700); older generations keep
# their ratios to it. Measured on the Higgs file: observe 21 s -> 12.8 s, final flush 27 s -> 16 s.
YOUNG_THRESHOLD = 50_000
MIDDLE_RATIO = 20
OLD_RATIO = 100


def tune_for_long_lived_state() -> None:
    """Freeze what exists now (modules, classes, settings: never garbage) out of every future
    collection, and collect the young generation every `YOUNG_THRESHOLD` allocations.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_RATIO, OLD_RATIO)
