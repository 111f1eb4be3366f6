"""The analyzer's work ahead of its next boundary (`Analyzer.work_ahead`) is invisible: whatever
slices it is done in, and wherever the analyzer is snapshotted and restored meanwhile, every
record and the final state are those of an analyzer that never works ahead.
"""

from __future__ import annotations

import random
from datetime import timedelta

import orjson
import pytest

from models.event import TweetEvent
from models.records import Record
from streams.analyzer import Analyzer, AnalyzerConfig
from synth import StreamSpec, generate

# A one-minute window over about 150 s of events: boundaries every 30 s, windows slide and
# items leave well before the end.
CONFIG = AnalyzerConfig.build(
    window=timedelta(minutes=1),
    lateness=timedelta(seconds=10),
    every=timedelta(seconds=30),
    refresh=timedelta(seconds=30),
    cascade_updates=True,
)


@pytest.fixture(scope="module")
def disordered() -> list[TweetEvent]:
    """A generated stream delivered out of order: most events within the lateness, one in fifty
    up to 40 s late (late, past what has left, or dropped, depending on the boundary).
    """
    events = list(generate(StreamSpec(events=4000, seed=29, rings=1)))
    rng = random.Random(7)

    def delivery() -> timedelta:
        late = rng.random() < 0.02
        return timedelta(seconds=rng.uniform(10, 40) if late else rng.uniform(0, 9.5))

    return sorted(events, key=lambda e: e.at + delivery())


def _run(
    events: list[TweetEvent], *, moves: int, every: int, split: int | None = None
) -> tuple[list[Record], int]:
    """Observe `events` and flush, working ahead by `moves` after every `every` events (0: never);
    with `split`, snapshot and restore (through JSON) after that many events. Return the records
    and the final state, as JSON.
    """
    analyzer = Analyzer(CONFIG)
    records: list[Record] = []
    for index, event in enumerate(events):
        if index == split:
            analyzer = Analyzer.restore(CONFIG, orjson.loads(orjson.dumps(analyzer.snapshot())))
        records += analyzer.observe(event)
        if moves and index % every == 0:
            analyzer.work_ahead(moves)
    records += analyzer.flush()
    return records, orjson.dumps(analyzer.snapshot())


@pytest.fixture(scope="module")
def never_ahead(disordered: list[TweetEvent]) -> tuple[list[Record], bytes]:
    """The analyzer that does every boundary's work at the boundary."""
    return _run(disordered, moves=0, every=1)


@pytest.mark.parametrize(
    ("moves", "every", "split"),
    [(1, 1, None), (5, 3, None), (10_000, 1, None), (3, 2, 1777), (10_000, 5, 2500)],
    ids=[
        "a_move_per_event",
        "small_slices",
        "all_at_once",
        "restored_in_the_middle",
        "restored_after_a_big_slice",
    ],
)
def test_work_ahead_changes_no_record(
    disordered: list[TweetEvent],
    never_ahead: tuple[list[Record], bytes],
    moves: int,
    every: int,
    split: int | None,
) -> None:
    """The same records, in the same order, and the same final state, as never working ahead."""
    records, final = _run(disordered, moves=moves, every=every, split=split)
    assert records == never_ahead[0]
    assert final == never_ahead[1]


def test_the_stream_exercises_every_admission(disordered: list[TweetEvent]) -> None:
    """The stream has late events, and working ahead moves items both in and out of windows."""
    analyzer = Analyzer(CONFIG)
    moved = 0
    for event in disordered:
        analyzer.observe(event)
        moved += analyzer.work_ahead(50)
    assert analyzer.late_events > 0
    assert moved > len(disordered)  # more moves than events: items entered and left ahead


def test_nothing_to_do_before_the_first_boundary() -> None:
    """Before any event there is no next boundary to work toward."""
    assert Analyzer(CONFIG).work_ahead(100) == 0
