"""Percentiles of a cascade metric among cascades of similar size.

Juul & Ugander 2021 (PNAS), "Comparing information diffusion mechanisms by matching on cascade
size": differences in depth or structural virality between kinds of cascades largely vanish once
cascades of the same size are compared, because those metrics grow with size. So a dashboard
shows "deeper than 93% of cascades of 8-15 nodes", never a raw depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypedDict

from sortedcontainers import SortedList

SNAPSHOT_VERSION = 1


class SizePercentilesSnapshot(TypedDict):
    """The plain, JSON-serialisable state of `SizePercentiles` (see `SizePercentiles.snapshot`)."""

    version: int
    min_count: int
    values_by_bin: dict[str, list[float]]  # JSON object keys are strings: str(size_bin)


def size_bin(size: int) -> int:
    """Return the log2 bin of a cascade of `size` nodes: bin b holds sizes 2**b to 2**(b+1) - 1.

    Doubling bins keep cascades of one order of magnitude together while leaving enough
    cascades per bin in the long tail of sizes.

    >>> [size_bin(size) for size in (1, 2, 3, 4, 7, 8, 15, 16)]
    [0, 1, 1, 2, 2, 3, 3, 4]
    """
    if size < 1:
        raise ValueError(f"a cascade has at least one node, got size {size}")
    return size.bit_length() - 1


@dataclass(slots=True)
class SizePercentiles:
    """Observed (size, value) pairs, to rank a value among cascades of the same size bin.

    Each bin keeps its values sorted (a `SortedList`), so `percentile`, `add` and `remove` are
    O(log k) (k observations in the bin): a window of millions of tweets forgets a hundred
    thousand cascades at a boundary. `remove` exactly reverts `add`, so a rolling window can drop
    what expires.

    Parameters
    ----------
    min_count
        Fewest observations in a bin for `percentile` to answer; below it, a rank means little.

    Examples
    --------
    >>> percentiles = SizePercentiles(min_count=2)
    >>> for size, depth in [(9, 1), (12, 2), (14, 4), (100, 9)]:
    ...     percentiles.add(size, depth)
    >>> percentiles.percentile(10, 2)  # 2 of the 3 cascades of 8-15 nodes are this deep or less
    0.6666666666666666
    >>> percentiles.percentile(100, 9) is None  # 1 cascade of 64-127 nodes: too few
    True

    """

    min_count: int = 5
    _values_by_bin: dict[int, SortedList] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        """Reject a `min_count` below 1."""
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {self.min_count}")

    def add(self, size: int, value: float) -> None:
        """Record `value` for a cascade of `size` nodes; raise ValueError if it is NaN."""
        if math.isnan(value):
            # NaN compares false with everything and would silently break the sorted order.
            raise ValueError("cannot rank NaN")
        values = self._values_by_bin.get(size_bin(size))
        if values is None:
            values = self._values_by_bin[size_bin(size)] = SortedList()
        values.add(value)

    def remove(self, size: int, value: float) -> None:
        """Forget one earlier `add(size, value)`; raise ValueError if there is none."""
        bin_index = size_bin(size)
        values = self._values_by_bin.get(bin_index)
        if values is None:
            raise ValueError(f"no observation {value!r} for size {size} to remove")
        position = values.bisect_left(value)
        if position == len(values) or values[position] != value:
            raise ValueError(f"no observation {value!r} for size {size} to remove")
        del values[position]
        if not values:
            # Dropping the empty bin makes add-then-remove leave no trace, snapshots included.
            del self._values_by_bin[bin_index]

    def count(self, size: int) -> int:
        """Return how many observations share the size bin of `size`."""
        return len(self._values_by_bin.get(size_bin(size), ()))

    def percentile(self, size: int, value: float) -> float | None:
        """Return the fraction of observations in `size`'s bin that are <= `value`, on [0, 1].

        None when the bin holds fewer than `min_count` observations.
        """
        values = self._values_by_bin.get(size_bin(size))
        if values is None or len(values) < self.min_count:
            return None
        return float(values.bisect_right(value) / len(values))

    def snapshot(self) -> SizePercentilesSnapshot:
        """Return the observations as plain, JSON-serialisable data for `restore`."""
        return {
            "version": SNAPSHOT_VERSION,
            "min_count": self.min_count,
            "values_by_bin": {
                str(bin_index): list(values) for bin_index, values in sorted(self._values_by_bin.items())
            },
        }

    @classmethod
    def restore(cls, data: SizePercentilesSnapshot) -> SizePercentiles:
        """Rebuild from `snapshot` data; it continues as if never stopped."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"size-percentile snapshot version {data['version']!r} unsupported")
        restored = cls(min_count=data["min_count"])
        for key, values in data["values_by_bin"].items():
            if values:
                # SortedList sorts them: hand-edited data cannot break bisection.
                restored._values_by_bin[int(key)] = SortedList(values)
        return restored
