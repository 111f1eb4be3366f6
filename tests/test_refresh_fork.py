"""Refreshes in forks (`agents.refresh_fork`, the worker's) give the records refreshes in place give
(`resonance analyze`'s), at the same boundaries; a snapshot taken in a fork while a refresh runs
holds its result; a failed refresh says why; results' files do not pile up.
"""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from agents import forking
from agents.refresh_fork import ForkedRefresher
from models.event import TweetEvent
from models.records import Record
from streams.analyzer import Analyzer, AnalyzerConfig
from streams.refresh import Compute, Refreshed, Refresher, Result
from synth import StreamSpec, generate

CONFIG = AnalyzerConfig.build(
    window=timedelta(minutes=10),
    lateness=timedelta(seconds=10),
    every=timedelta(seconds=30),
    refresh=timedelta(minutes=1),
)


@pytest.fixture(scope="module")
def events() -> list[TweetEvent]:
    """A generated stream with cascades and communities, crossing many refreshes."""
    return list(generate(StreamSpec(events=3_000, seed=4)))


def _observed(analyzer: Analyzer, events: list[TweetEvent]) -> list[Record]:
    return [record for event in events for record in analyzer.observe(event)]


def _slowed(refresher: Refresher, seconds: float) -> Refresher:
    """`refresher`, its refreshes taking `seconds` longer: still running when asked for soon after."""

    def start(compute: Compute) -> Result:
        def slow(detached: bool) -> Refreshed:  # noqa: FBT001 - the Compute signature
            time.sleep(seconds)
            return compute(detached)

        return refresher(slow)

    return start


def test_forked_refreshes_give_the_records_of_refreshes_in_place(
    events: list[TweetEvent], tmp_path: Path
) -> None:
    """The same records in the same order, refreshes included, each published a refresh after
    its boundary; no result's file is left once taken.
    """
    in_place = Analyzer(CONFIG)
    expected = _observed(in_place, events) + in_place.flush()
    forked = Analyzer(CONFIG, ForkedRefresher(tmp_path, busy=lambda: False))
    records = _observed(forked, events) + forked.flush()
    boundary = [r for r in records if r.kind == "communities" and r.trigger == "boundary"]
    assert len(boundary) >= 2 * 3  # both layers, at three refreshes at least
    assert records == expected
    published = [i for i, r in enumerate(records) if r.kind == "communities" and r.trigger == "boundary"]
    influence = [r.at for r in records[: published[0]] if r.kind == "influence_summary"]
    assert max(influence) == boundary[0].at + CONFIG.refresh  # published at the next refresh boundary
    assert list(tmp_path.iterdir()) == []


def test_a_snapshot_taken_in_a_fork_while_a_refresh_runs_holds_its_result(
    events: list[TweetEvent], tmp_path: Path
) -> None:
    """The snapshot's fork waits for the running refresh's file and holds its result; an analyzer
    restored from it gives the later records of one that went on. The file outlives the
    analyzer's own taking of the result while the snapshot's fork may read it.
    """
    expected = _observed(Analyzer(CONFIG), events)
    busy = True
    refresher = ForkedRefresher(tmp_path, busy=lambda: busy)
    analyzer = Analyzer(CONFIG, _slowed(refresher, 0.5))
    half = len(events) // 2
    before = _observed(analyzer, events[:half])
    pid, pipe = forking.start(lambda: orjson.dumps(analyzer.snapshot()))
    before += _observed(analyzer, events[half:])  # takes the refresh's result meanwhile
    os.set_blocking(pipe, True)
    answer = b"".join(iter(lambda: os.read(pipe, forking.READ_BYTES), b""))
    os.close(pipe)
    answer = forking.answer(answer, pid)
    assert answer[:1] == forking.DONE, answer
    busy = False
    refresher.tidy()
    assert list(tmp_path.iterdir()) == []
    snapshot = orjson.loads(answer[1:])
    assert [p["refreshed"]["state"] is not None for p in snapshot["pending"]] == [True]
    restored = Analyzer.restore(CONFIG, snapshot)
    after = _observed(restored, events[half:])
    assert before == expected
    assert expected[len(expected) - len(after) :] == after


def test_a_failed_refresh_says_why_to_the_analyzer_and_to_its_forks(tmp_path: Path) -> None:
    """The reason reaches whoever takes the result: the analyzer's process, or a fork of it."""

    def fails(_: bool) -> Refreshed:  # noqa: FBT001 - the Compute signature
        raise ZeroDivisionError("no users")

    refresher = ForkedRefresher(tmp_path, busy=lambda: True)
    seen_in_a_fork = refresher(fails)
    pid, pipe = forking.start(lambda: orjson.dumps(seen_in_a_fork().plain()))
    os.set_blocking(pipe, True)
    answer = forking.answer(b"".join(iter(lambda: os.read(pipe, forking.READ_BYTES), b"")), pid)
    os.close(pipe)
    assert answer[:1] == forking.FAILED
    assert b"the refresh failed: ZeroDivisionError('no users')" in answer
    with pytest.raises(
        forking.ForkFailedError, match=r"the refresh failed: .*ZeroDivisionError\('no users'\)"
    ):
        seen_in_a_fork()


def test_a_lag_of_zero_publishes_each_refresh_at_its_own_boundary(
    events: list[TweetEvent], tmp_path: Path
) -> None:
    """`refresh_lag=0`: each refresh comes out right after its boundary's other records, the same
    whether it ran in place or in a fork.
    """
    config = dataclasses.replace(CONFIG, refresh_lag=timedelta(0))
    in_place = _observed(Analyzer(config), events)
    forked = _observed(Analyzer(config, ForkedRefresher(tmp_path, busy=lambda: False)), events)
    assert forked == in_place
    first = next(i for i, r in enumerate(in_place) if r.kind == "communities")
    summaries = [r.at for r in in_place[:first] if r.kind == "influence_summary"]
    assert max(summaries) == in_place[first].at
