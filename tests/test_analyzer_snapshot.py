"""Round trip of the whole core: snapshot, JSON, restore, continue == never stopped."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from models.event import TweetEvent
from models.records import CascadeRecord, Record
from streams.analyzer import SNAPSHOT_VERSION, Analyzer, AnalyzerConfig
from synth import StreamSpec, generate

LATENESS = timedelta(seconds=10)

# The stream lasts about 150 s of event time: a one-minute window, 30 s records and 20 s burst
# buckets make windows slide, cascades expire and bursts close well before its end.
CONFIG = AnalyzerConfig.build(
    window=timedelta(minutes=1),
    lateness=LATENESS,
    every=timedelta(seconds=30),
    burst_bucket=timedelta(seconds=20),
    burst_history=3,
    cascade_updates=True,
)
WITHOUT_HASHTAGS = AnalyzerConfig.build(
    window=timedelta(minutes=1), lateness=LATENESS, every=timedelta(seconds=30), include_hashtags=False
)


@dataclass(frozen=True, slots=True)
class Run:
    """What an analyzer produced: its records from `observe`, from `flush`, and its final state."""

    observed: list[Record]
    flushed: list[Record]
    final: dict[str, Any]


def _json(data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as the worker's table stores it: orjson bytes, read back."""
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(data))
    return loaded


def _run(config: AnalyzerConfig, events: list[TweetEvent], *, split: int | None = None) -> Run:
    """Observe `events` and flush; with `split`, stop after that many events and go on from a
    JSON round trip of the snapshot.
    """
    analyzer = Analyzer(config)
    observed: list[Record] = []
    for index, event in enumerate(events):
        if index == split:
            analyzer = Analyzer.restore(config, _json(analyzer.snapshot()))
        observed.extend(analyzer.observe(event))
    if split == len(events):
        analyzer = Analyzer.restore(config, _json(analyzer.snapshot()))
    flushed = analyzer.flush()
    return Run(observed, flushed, analyzer.snapshot())


@pytest.fixture(scope="module")
def delivered() -> list[TweetEvent]:
    """A generated stream delivered out of order, each event within the lateness."""
    events = list(generate(StreamSpec(events=3000, seed=23, rings=1)))
    rng = random.Random(5)
    # Event time plus a random delay below the lateness: retweets often overtake their parents.
    return sorted(events, key=lambda e: e.at + timedelta(seconds=rng.uniform(0, 9.5)))


@pytest.fixture(scope="module")
def straight(delivered: list[TweetEvent]) -> Run:
    """The analyzer that never stopped."""
    return _run(CONFIG, delivered)


def _after_first_overtaking(events: list[TweetEvent]) -> int:
    """The split just after the first retweet that arrived before the retweet it came through."""
    position = {event.id: index for index, event in enumerate(events)}
    for index, event in enumerate(events):
        parent = event.parent_id
        if parent is not None and parent != event.retweet_of and position.get(parent, -1) > index + 1:
            return index + 1
    raise AssertionError("no retweet overtakes its parent in this stream")


SPLITS: dict[str, Callable[[list[TweetEvent]], int]] = {
    "before_any_event": lambda _: 0,
    "after_the_first_event": lambda _: 1,
    "while_a_retweet_waits": _after_first_overtaking,
    "in_the_middle": lambda events: len(events) // 2,
    "before_the_last_event": lambda events: len(events) - 1,
    "after_every_event": len,
}


@pytest.mark.parametrize("split_at", SPLITS.values(), ids=SPLITS.keys())
def test_restored_analyzer_continues_as_if_never_stopped(
    delivered: list[TweetEvent], straight: Run, split_at: Callable[[list[TweetEvent]], int]
) -> None:
    """An analyzer stopped anywhere and restored from its JSON snapshot emits the same records,
    flushes the same records and ends in the same state as one that never stopped.
    """
    resumed = _run(CONFIG, delivered, split=split_at(delivered))
    assert resumed.observed == straight.observed
    assert resumed.flushed == straight.flushed
    assert resumed.final == straight.final


def test_split_while_a_retweet_waits_holds_one(delivered: list[TweetEvent]) -> None:
    """The stream's "while_a_retweet_waits" split does snapshot a held retweet."""
    analyzer = Analyzer(CONFIG)
    for event in delivered[: _after_first_overtaking(delivered)]:
        analyzer.observe(event)
    assert analyzer.snapshot()["orphans"]["parents"]


def test_snapshot_is_plain_json_data(delivered: list[TweetEvent]) -> None:
    """A snapshot holds only JSON types (no tuples, datetimes or enums): reading its JSON back
    gives an equal value.
    """
    analyzer = Analyzer(CONFIG)
    for event in delivered[: len(delivered) // 2]:
        analyzer.observe(event)
    snapshot = analyzer.snapshot()
    assert snapshot["version"] == SNAPSHOT_VERSION
    assert _json(snapshot) == snapshot


def test_analyzer_without_hashtags_round_trips(delivered: list[TweetEvent]) -> None:
    """With hashtag metrics off, the snapshot leaves them out and a restored analyzer still
    continues as if never stopped.
    """
    straight = _run(WITHOUT_HASHTAGS, delivered)
    resumed = _run(WITHOUT_HASHTAGS, delivered, split=len(delivered) // 2)
    assert straight.final["hashtags"] is None
    assert resumed == straight


T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _tweet(tweet_id: str, seconds: float, **fields: Any) -> TweetEvent:
    return TweetEvent(id=tweet_id, user_id=f"u{tweet_id}", at=T0 + timedelta(seconds=seconds), **fields)


def test_held_retweet_survives_restore_and_joins_its_parent() -> None:
    """A retweet held for its missing parent when the snapshot is taken is restored held, and is
    released under that parent when it arrives.
    """
    # event time  0    1    2                         arrival: o, b, (snapshot), a
    # o           original
    # a                rt of o
    # b                     rt of o through a: arrives before a, so it waits for it
    original = _tweet("o", 0, hashtags=("x",))
    first = _tweet("a", 1, retweet_of="o", retweet_of_user="uo", parent_id="o")
    second = _tweet("b", 2, retweet_of="o", retweet_of_user="uo", parent_id="a", followers=7)
    analyzer = Analyzer(CONFIG)
    analyzer.observe(original)
    assert analyzer.observe(second) == []  # held: no cascade changed
    snapshot = _json(analyzer.snapshot())
    assert [parent for parent, _ in snapshot["orphans"]["parents"]] == ["a"]

    restored = Analyzer.restore(CONFIG, snapshot)
    records = restored.observe(first)

    changes = [(r.size, r.depth) for r in records if isinstance(r, CascadeRecord)]
    assert changes == [(2, 1), (3, 2)]  # a joins o, then b joins through a
    assert restored.snapshot()["orphans"]["parents"] == []
    analyzer.observe(first)
    assert restored.snapshot() == analyzer.snapshot()


def test_a_provisional_view_changes_nothing(delivered: list[TweetEvent], straight: Run) -> None:
    """Views taken whenever the input pauses leave the analyzer as it was: the run ends with the
    records of one that never paused, and a view is the flush of that moment, alerts left out.
    """
    analyzer = Analyzer(CONFIG)
    observed, views = [], []
    for number, event in enumerate(delivered):
        observed.extend(analyzer.observe(event))
        if number % 700 == 0:
            before = analyzer.snapshot()
            views.append(analyzer.view())
            assert analyzer.snapshot() == before
    assert observed == straight.observed
    assert analyzer.flush() == straight.flushed
    assert all(record.kind != "alert" for view in views for record in view)
    assert any(record.kind == "communities" for record in views[-1])
