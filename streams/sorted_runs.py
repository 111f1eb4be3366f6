"""A min-queue for millions of long-lived entries that the garbage collector does not walk.

A window's entries or a dedup's expiry order live for as long as the window: a heap or a deque of
them is one container that every collection examining it walks element by element, a quarter of a
second over two million entries. Here entries are held in sorted runs, immutable tuples: a tuple
whose elements hold nothing the collector tracks is untracked itself, so once the collector has
seen a run's entries it never walks the run again. Only a fresh heap of the latest `run_length`
entries and one head per run stay in its sight.

Entries must be totally ordered and distinct, as `(time, sequence, item)` or `(time, id)`
tuples are: the order they leave in is then the order a heap gives.

>>> runs = SortedRuns[int](run_length=2)
>>> for entry in (5, 1, 4, 2, 3):
...     runs.push(entry)
>>> list(runs), runs.last(), len(runs)
([1, 2, 3, 4, 5], 5, 5)
>>> [runs.pop() for _ in range(3)], runs.first()
([1, 2, 3], 4)
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


E = TypeVar("E", bound=_Ordered)

RUN_LENGTH = 4096  # entries per run: few enough heads to keep, long enough to keep them few


class SortedRuns(Generic[E]):
    """Entries pushed in any order, taken out smallest first.

    Entries pushed in order (the common case: a window's items by time) cost one comparison in,
    two out. An entry out of order costs a heap's `log(run_length)`.
    """

    # A plain class, like `streams.window.SlidingWindow`: mypyc cannot compile a generic dataclass.
    __slots__ = ("_fresh", "_heads", "_last", "_pos", "_run", "_size", "run_length")

    def __init__(self, run_length: int = RUN_LENGTH) -> None:
        """Empty; runs are sealed every `run_length` entries."""
        self.run_length = run_length
        self._fresh: list[E] = []  # a heap of the entries not yet sealed in a run
        # The run holding the smallest sealed entry, and where its unread part starts ...
        self._run: tuple[E, ...] = ()
        self._pos = 0
        # ... and every other run with an unread part: a heap of (its next entry, where, the run).
        self._heads: list[tuple[E, int, tuple[E, ...]]] = []
        self._size = 0
        self._last: E | None = None

    def __len__(self) -> int:
        """Entries held."""
        return self._size

    def __bool__(self) -> bool:
        """True when any entry is held."""
        return self._size > 0

    def __repr__(self) -> str:
        """How many entries, in how many runs."""
        runs = len(self._heads) + (self._pos < len(self._run))
        return f"SortedRuns(size={self._size}, runs={runs}, fresh={len(self._fresh)})"

    def push(self, entry: E) -> None:
        """Hold `entry`."""
        heapq.heappush(self._fresh, entry)
        self._size += 1
        if self._last is None or self._last < entry:
            self._last = entry
        if len(self._fresh) >= self.run_length:
            self._seal()

    def _seal(self) -> None:
        """Move the fresh entries into a run of their own."""
        run = tuple(sorted(self._fresh))
        self._fresh = []
        if self._pos < len(self._run):
            if not run[0] < self._run[self._pos]:
                heapq.heappush(self._heads, (run[0], 0, run))
                return
            heapq.heappush(self._heads, (self._run[self._pos], self._pos, self._run))
        self._run, self._pos = run, 0

    def first(self) -> E:
        """The smallest entry (IndexError when empty)."""
        fresh = self._fresh
        if self._pos < len(self._run):
            entry = self._run[self._pos]
            return fresh[0] if fresh and fresh[0] < entry else entry
        return fresh[0]

    def last(self) -> E:
        """The largest entry (IndexError when empty)."""
        if self._last is None:
            raise IndexError("last of empty SortedRuns")
        return self._last

    def pop(self) -> E:
        """Remove and return the smallest entry (IndexError when empty)."""
        fresh = self._fresh
        run, pos = self._run, self._pos
        if pos < len(run) and not (fresh and fresh[0] < run[pos]):
            entry = run[pos]
            self._pos = pos = pos + 1
            heads = self._heads
            if pos == len(run):
                if heads:
                    _, self._pos, self._run = heapq.heappop(heads)
                else:
                    self._run, self._pos = (), 0
            elif heads and heads[0][0] < run[pos]:
                _, self._pos, self._run = heapq.heapreplace(heads, (run[pos], pos, run))
        else:
            entry = heapq.heappop(fresh)
        self._size -= 1
        if not self._size:
            self._last = None
        return entry

    def __iter__(self) -> Iterator[E]:
        """Every entry, smallest first, without removing any."""
        unread = [self._run[self._pos :], *(run[pos:] for _, pos, run in self._heads)]
        return heapq.merge(*unread, sorted(self._fresh))
