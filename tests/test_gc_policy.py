"""The process-wide garbage-collector policy every `resonance` command starts with."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from agents import gc_policy
from agents.gc_policy import (
    MIDDLE_RATIO,
    OLD_RATIO,
    YOUNG_THRESHOLD,
    building_long_lived_state,
    paused,
    tune_for_long_lived_state,
)


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """Put the interpreter's own settings back: the policy is process-wide."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_collections_become_rare_and_startup_objects_are_never_rescanned() -> None:
    """Young collections every `YOUNG_THRESHOLD` allocations; what existed is frozen."""
    tune_for_long_lived_state()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_RATIO, OLD_RATIO)
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored_gc")
def test_cyclic_garbage_is_still_collected() -> None:
    """Rarer is not never: reference cycles made after the tuning are still freed."""
    tune_for_long_lived_state()

    class Node:
        partner: Node

    collected_before = sum(stats["collected"] for stats in gc.get_stats())
    for _ in range(2 * YOUNG_THRESHOLD):  # cycles only the collector can free
        a, b = Node(), Node()
        a.partner, b.partner = b, a
    assert sum(stats["collected"] for stats in gc.get_stats()) > collected_before


def test_collection_pauses_until_the_last_open_block_ends() -> None:
    """Blocks may overlap (the event loop's checkpoint and an idle view in a thread): collection
    comes back on when the last one ends, and stays off if it was off before them.
    """
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
        second = paused()
        second.__enter__()
    assert not gc.isenabled()  # the first block ended, the second is still open
    second.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.usefixtures("restored_gc")
def test_state_built_in_a_long_lived_block_is_frozen_out_of_later_collections() -> None:
    """No collection runs inside the block; what it built and kept is frozen at its end, so no
    young collection afterwards examines it all again; collection is back on.
    """
    frozen_before = gc.get_freeze_count()
    with building_long_lived_state():
        assert not gc.isenabled()
        state = [[i] for i in range(10_000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(state)


def test_every_collection_is_timed_by_generation_on_the_latest_registry() -> None:
    """`export_pauses` times each collection into `resonance_gc_pause_seconds{generation}`; a
    second registry takes the timing over instead of both being fed.
    """
    first, second = CollectorRegistry(), CollectorRegistry()
    gc_policy.export_pauses(first)
    gc_policy.export_pauses(second)
    try:
        gc.collect(2)
        gc.collect(0)
        full = second.get_sample_value("resonance_gc_pause_seconds_count", {"generation": "2"})
        young = second.get_sample_value("resonance_gc_pause_seconds_count", {"generation": "0"})
        assert full is not None
        assert full >= 1
        assert young is not None
        assert young >= 1
        assert first.get_sample_value("resonance_gc_pause_seconds_count", {"generation": "2"}) == 0
        assert sum(getattr(c, "resonance_pauses", False) for c in gc.callbacks) == 1
    finally:
        gc.callbacks[:] = [c for c in gc.callbacks if not getattr(c, "resonance_pauses", False)]
