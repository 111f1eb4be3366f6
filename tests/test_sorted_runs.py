"""`SortedRuns`: a heap's order in and out, and containers the garbage collector does not walk."""

from __future__ import annotations

import gc
import heapq
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.sorted_runs import SortedRuns

deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=300)

# An operation: push this number, or pop (None).
operations = st.lists(st.one_of(st.integers(0, 200), st.none()), max_size=300)


@deterministic
@given(operations, st.integers(1, 8))
def test_takes_entries_out_in_the_order_a_heap_does(ops, run_length):
    """Whatever the order of pushes and pops, every pop, `first`, `last`, the iteration and the
    length agree with a heap holding the same entries (distinct: a pushed number is made unique).
    """
    runs = SortedRuns[tuple[int, int]](run_length=run_length)
    heap: list[tuple[int, int]] = []
    for step, value in enumerate(ops):
        if value is None:
            if heap:
                assert runs.pop() == heapq.heappop(heap)
            else:
                with pytest.raises(IndexError):
                    runs.pop()
        else:
            runs.push((value, step))
            heapq.heappush(heap, (value, step))
        assert len(runs) == len(heap)
        assert bool(runs) == bool(heap)
        assert list(runs) == sorted(heap)
        if heap:
            assert runs.first() == heap[0]
            assert runs.last() == max(heap)


def test_empty_has_no_first_or_last():
    """`first` and `last` of an empty queue raise IndexError, as indexing an empty heap does."""
    runs = SortedRuns[int]()
    with pytest.raises(IndexError):
        runs.first()
    with pytest.raises(IndexError):
        runs.last()


def walked_by_collector(root: object) -> int:
    """How many references a full collection visits from `root` on: every referent of every
    tracked list, tuple or dict reachable from it through such containers (not through its class
    into the rest of the program).
    """
    visited, stack, seen = 0, [root], {id(root)}
    while stack:
        referents = gc.get_referents(stack.pop())
        visited += len(referents)
        for referent in referents:
            if (
                isinstance(referent, list | tuple | dict)
                and gc.is_tracked(referent)
                and id(referent) not in seen
            ):
                seen.add(id(referent))
                stack.append(referent)
    return visited


@pytest.mark.parametrize("nested", [False, True])
def test_a_collection_does_not_walk_the_entries(nested):
    """After two collections, 100,000 entries held cost a collection a walk over the fresh entries
    and one head per run, not over every entry, where a heap of the same entries is walked
    entirely: also when each entry nests a tuple (a window's item), which the collector untracks
    a collection later than the entry holding it.
    """
    start = datetime(2024, 1, 1, tzinfo=UTC)
    runs = SortedRuns[tuple[datetime, int, object]](run_length=1000)
    heap: list[tuple[datetime, int, object]] = []
    for n in range(100_000):
        item: object = ("tag", f"user{n}") if nested else f"user{n}"
        entry = (start + timedelta(seconds=n % 5000), n, item)
        runs.push(entry)
        heap.append(entry)
    gc.collect()
    gc.collect()
    assert walked_by_collector(heap) >= 100_000
    assert walked_by_collector(runs) < 2 * 1000 + 3 * (100_000 // 1000)
