"""Size-binned percentiles against a brute-force count, and their add/remove/restore round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.cascades.size_percentile import SizePercentiles, size_bin

# Deterministic: the same examples on every run and machine, and no example database.
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=150)

sizes = st.integers(1, 300)
# Small integers make ties common; arbitrary finite floats cover the rest.
values = st.one_of(st.integers(0, 5).map(float), st.floats(-1e6, 1e6, allow_nan=False))
observations = st.lists(st.tuples(sizes, values), max_size=60)


def filled(obs: list[tuple[int, float]], min_count: int = 5) -> SizePercentiles:
    """Build a SizePercentiles holding every observation in `obs`."""
    percentiles = SizePercentiles(min_count=min_count)
    for size, value in obs:
        percentiles.add(size, value)
    return percentiles


@pytest.mark.parametrize(
    ("size", "expected"),
    [(1, 0), (2, 1), (3, 1), (4, 2), (7, 2), (8, 3), (15, 3), (16, 4), (1024, 10)],
)
def test_size_bins_double(size, expected):
    """Bins are 1, 2-3, 4-7, 8-15, ...: bin b holds sizes 2**b to 2**(b + 1) - 1."""
    assert size_bin(size) == expected


def test_size_below_one_is_rejected():
    """A cascade size below 1 raises ValueError."""
    with pytest.raises(ValueError, match="at least one node"):
        size_bin(0)


@deterministic
@given(observations, sizes, values, st.integers(1, 6))
def test_percentile_equals_brute_force_count(obs, size, value, min_count):
    """The percentile is the share of same-bin values <= value, or None below min_count."""
    same_bin = [v for s, v in obs if s.bit_length() == size.bit_length()]
    expected = None if len(same_bin) < min_count else sum(v <= value for v in same_bin) / len(same_bin)
    assert filled(obs, min_count).percentile(size, value) == expected


@deterministic
@given(observations, sizes, values)
def test_remove_reverts_add(obs, size, value):
    """Adding then removing one observation leaves the state exactly as before."""
    percentiles = filled(obs)
    before = percentiles.snapshot()
    percentiles.add(size, value)
    percentiles.remove(size, value)
    assert percentiles == filled(obs)
    assert percentiles.snapshot() == before


@deterministic
@given(observations)
def test_removing_everything_leaves_an_empty_state(obs):
    """Removing every observation, in any order, equals a fresh instance."""
    percentiles = filled(obs)
    for size, value in reversed(obs):
        percentiles.remove(size, value)
    assert percentiles == SizePercentiles()


def test_remove_of_an_absent_observation_is_rejected():
    """Removing a value never added for that size bin raises ValueError."""
    percentiles = filled([(10, 1.0)])
    with pytest.raises(ValueError, match="no observation"):
        percentiles.remove(10, 2.0)
    with pytest.raises(ValueError, match="no observation"):
        percentiles.remove(100, 1.0)


def test_nan_is_rejected():
    """A NaN value raises ValueError instead of corrupting the sorted bin."""
    with pytest.raises(ValueError, match="NaN"):
        SizePercentiles().add(3, float("nan"))


@deterministic
@given(observations, observations, sizes, values)
def test_restored_percentiles_continue_as_if_never_stopped(first, then, size, value):
    """Snapshot to JSON, restore and continue: answers equal those of one never stopped."""
    restored = SizePercentiles.restore(json.loads(json.dumps(filled(first).snapshot())))
    for s, v in then:
        restored.add(s, v)
    never_stopped = filled(first + then)
    assert restored == never_stopped
    assert restored.percentile(size, value) == never_stopped.percentile(size, value)
