"""Counting each tweet once: repeats found, old ids forgotten only beyond `keep_at_least`, restore."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.dedup import SeenIds

t0 = datetime(2024, 1, 1, tzinfo=UTC)
second = timedelta(seconds=1)

# Deterministic: the same examples on every run and machine, and no example database.
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=200)


def t(seconds: float) -> datetime:
    """The time `seconds` after t0."""
    return t0 + seconds * second


def see(seen: SeenIds, sightings: list[tuple[str, float]]) -> list[bool]:
    """`first_time` for each (id, seconds after t0), in order."""
    return [seen.first_time(tweet_id, t(at_s)) for tweet_id, at_s in sightings]


@pytest.mark.parametrize("repeat_at", [0, 3, -100])
def test_first_sighting_is_new_and_repeats_are_not(repeat_at):
    """`first_time` is True for a new id and False for every repeat of it, whatever the repeat's time."""
    seen = SeenIds(horizon=10 * second)
    assert see(seen, [("a", 0), ("b", 1), ("a", repeat_at), ("a", 2)]) == [True, True, False, False]


# horizon 10 s; ids a@0, b@5, c@20: the latest is 20, so ids before 20 - 10 = 10 are old
#
#   event time   0    5   10   15   20
#   ids          a    b    |         c
#                old       cutoff
OLD_THEN_NEW = [("a", 0), ("b", 5), ("c", 20)]


@pytest.mark.parametrize(
    ("keep_at_least", "remembered"),
    [
        (1, {"c"}),  # a and b are old, and 3 > 1 held: both go
        (2, {"b", "c"}),  # a goes (3 > 2 held); then 2 held, so b stays though old
        (3, {"a", "b", "c"}),  # 3 held: nothing is forgotten, however old
    ],
)
def test_old_ids_are_forgotten_only_beyond_keep_at_least(keep_at_least, remembered):
    """Ids older than the horizon are forgotten, oldest first, only while over `keep_at_least` are held."""

    def after_the_stream() -> SeenIds:
        seen = SeenIds(horizon=10 * second, keep_at_least=keep_at_least)
        see(seen, OLD_THEN_NEW)
        return seen

    assert len(after_the_stream()) == len(remembered)
    # A fresh state per probe: probing a forgotten id adds it again, which could evict another.
    assert {
        tweet_id for tweet_id, _ in OLD_THEN_NEW if not after_the_stream().first_time(tweet_id, t(20))
    } == (remembered)


def test_id_exactly_the_horizon_old_is_kept():
    """An id exactly `horizon` before the latest event is not yet older than the horizon, so it is kept."""
    #   event time   0   10   20
    #   ids          a    b    c      cutoff 20 - 10 = 10: a is older, b is not
    seen = SeenIds(horizon=10 * second, keep_at_least=1)
    see(seen, [("a", 0), ("b", 10), ("c", 20)])
    assert see(seen, [("b", 10), ("c", 20)]) == [False, False]
    assert len(seen) == 2


def test_out_of_time_order_repeats_within_keep_at_least_are_found():
    """A recording replayed new-then-old has its repeats of old tweets recognised while few ids are held."""
    #   event time   0   10  ...  1000
    #   first pass            new@1000, then old@0 and old@10 (far beyond the 5 s horizon)
    #   second pass: every id again, in the same order
    seen = SeenIds(horizon=5 * second, keep_at_least=3)
    pass_ = [("new", 1000), ("old", 0), ("older", 10)]
    assert see(seen, pass_) == [True, True, True]
    assert see(seen, pass_) == [False, False, False]


@pytest.mark.parametrize("keep_at_least", [1, 2, 100])
def test_restored_ids_continue_as_if_never_stopped(keep_at_least):
    """Snapshot (through JSON) and restore, then continue: the same ids are repeats as without stopping."""
    first, then = [("a", 0), ("b", 5), ("c", 12), ("d", 3)], [("a", 0), ("b", 5), ("c", 12), ("e", 30)]
    never_stopped, original = (SeenIds(10 * second, keep_at_least) for _ in range(2))
    see(never_stopped, first)
    see(original, first)
    restored = SeenIds.restore(10 * second, json.loads(json.dumps(original.snapshot())), keep_at_least)
    assert len(restored) == len(never_stopped)
    assert see(restored, then) == see(never_stopped, then)


sightings = st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 60)), max_size=40)


@deterministic
@given(keep_at_least=st.integers(1, 6), before=sightings, after=sightings)
def test_restore_at_any_point_matches_never_stopping(keep_at_least, before, after):
    """For any sightings, restoring a snapshot and continuing answers `first_time` as never stopping would."""
    never_stopped, original = (SeenIds(10 * second, keep_at_least) for _ in range(2))
    assert see(never_stopped, before) == see(original, before)
    restored = SeenIds.restore(10 * second, json.loads(json.dumps(original.snapshot())), keep_at_least)
    assert see(restored, after) == see(never_stopped, after)
    assert restored.snapshot() == never_stopped.snapshot()


def test_a_million_copies_of_a_thousand_tweets_are_counted_once_and_hold_a_thousand_ids():
    """A duplicate flood, one million sightings of 1,000 tweets within the horizon, counts each
    tweet once and holds 1,000 ids: repeats cost no memory.
    """
    seen = SeenIds(horizon=10 * second)
    firsts = 0
    for k in range(1_000_000):
        firsts += seen.first_time(f"tweet-{k % 1_000}", t(k % 1_000 / 1_000))
    assert firsts == 1_000
    assert len(seen) == 1_000


# horizon 10 s, keep_at_least 1,000, keep_at_most 5,000; 50,000 distinct ids:
#
#   spread   one id every 1 ms over 50 s: 10,001 ids lie within the horizon -> capped at 5,000
#   slow     one id every 100 ms over 5,000 s: 101 within the horizon -> keep_at_least, 1,000
@pytest.mark.parametrize(
    ("step_seconds", "held"),
    [
        pytest.param(0.001, 5_000, id="burst-beyond-the-count-bound"),
        pytest.param(0.1, 1_000, id="slow-stream-keeps-at-least"),
    ],
)
def test_dedup_memory_is_bounded_by_count_and_by_window(step_seconds, held):
    """Whatever the input, at most `keep_at_most` ids are held (their memory measured too), and a
    slow stream holds the `keep_at_least` newest once older ids leave the horizon.
    """
    tracemalloc.start()
    try:
        seen = SeenIds(horizon=10 * second, keep_at_least=1_000, keep_at_most=5_000)
        base, _ = tracemalloc.get_traced_memory()
        for k in range(50_000):
            assert seen.first_time(f"{k:019d}", t(k * step_seconds))
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(seen) == held
    # The docstring's figure: about 250 bytes an id held (a 19-digit id string, its time, a dict
    # slot, a heap entry), so the 1,000,000 default bound is about 250 MB.
    assert (used - base) / held < 400, (used - base) / held
    # The newest ids are the ones kept: the last `held` sightings are all still known.
    assert not any(seen.first_time(f"{k:019d}", t(k * step_seconds)) for k in range(50_000 - held, 50_000))


def test_keep_at_most_below_keep_at_least_is_refused():
    """A count bound below the ids that must be kept whatever their age cannot hold: refused."""
    with pytest.raises(ValueError, match="keep_at_least <= keep_at_most"):
        SeenIds(horizon=10 * second, keep_at_least=10, keep_at_most=5)
