"""The conversation analyzer in its own process gives exactly what the same analyzer gives in this
one: records batch by batch, a snapshot to continue from (written to and read back from the real
broker), and the idle view.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import orjson
import pytest

from agents.analyzer_process import AnalyzerFailedError, AnalyzerProcess, Observed
from agents.settings import Settings, conversation_config
from agents.snapshots import Manifest, Store
from models.event import TweetEvent
from models.records import Record, Trigger
from models.wire.batch import encode_events
from models.wire.native import to_native
from streams.analyzer import Analyzer
from synth import StreamSpec, generate

DEADLINE_SECONDS = 120  # an answer that never comes fails the test instead of hanging it
_DEPLOYMENTS = itertools.count()


@pytest.fixture
def store(kafka_bootstrap: str) -> Store:
    """Short windows and cadences, so a small stream crosses boundaries and refreshes; a
    deployment of its own on the session's broker, its snapshot topic created.
    """
    settings = Settings(
        bootstrap_servers=kafka_bootstrap,
        app_id=f"analyzer-process-{next(_DEPLOYMENTS)}",
        window=timedelta(minutes=5),
        emit_every=timedelta(seconds=30),
        refresh_every=timedelta(minutes=1),
    )
    made = Store(settings, "conversation")
    made.create(1)
    return made


def _batches(events: list[TweetEvent], size: int) -> list[bytes]:
    """The events as the conversation stage receives them: batches of native events."""
    return [
        encode_events(
            [
                ((0, offset, index), to_native(event))
                for index, event in enumerate(events[start : start + size])
            ]
        )
        for offset, start in enumerate(range(0, len(events), size))
    ]


@pytest.fixture(scope="module")
def events() -> list[TweetEvent]:
    """A generated stream with cascades, communities and a burst."""
    return list(generate(StreamSpec(events=3_000, seed=4)))


def _in_this_process(events: list[TweetEvent], settings: Settings) -> tuple[list[Record], Analyzer]:
    analyzer = Analyzer(conversation_config(settings))
    return [record for event in events for record in analyzer.observe(event)], analyzer


def test_the_child_gives_the_records_of_the_analyzer_in_this_process(
    events: list[TweetEvent], store: Store
) -> None:
    """Batch after batch, also after a pause with nothing asked, the child's records equal, in
    order, those of the same analyzer here, boundary records, refreshes and alerts included; its
    idle view equals `Analyzer.view`.
    """
    expected, analyzer = _in_this_process(events, store.settings)

    async def scenario() -> tuple[list[Record], list[Record]]:
        child = AnalyzerProcess(store, 0)
        try:
            records: list[Record] = []

            async def collect(observed: Observed) -> None:
                records.extend(observed.records)

            batches = _batches(events, 250)
            for batch in batches[:3]:
                await child.observe(batch, then=collect)
            await child.view()  # every request answered: the child waits for more
            for batch in batches[3:]:
                await child.observe(batch, then=collect)
            return records, await child.view()
        finally:
            await child.close()

    records, view = asyncio.run(asyncio.wait_for(scenario(), DEADLINE_SECONDS))
    assert {record.kind for record in expected} >= {"cascade", "influence_summary", "communities"}
    assert records == expected
    assert view == analyzer.view(Trigger.IDLE)


def test_a_child_restored_from_a_snapshot_continues_as_if_never_stopped(
    events: list[TweetEvent], store: Store
) -> None:
    """A snapshot asked for between two batches holds the first only, even with the second sent
    before it is awaited; a child started from its manifest (the snapshot read back from Kafka)
    gives the same later records as one that went on.
    """
    half = len(events) // 2
    batches = _batches(events, 300)
    split = len(_batches(events[:half], 300))
    expected, _ = _in_this_process(events, store.settings)

    async def scenario() -> tuple[list[Record], list[Record]]:
        first = AnalyzerProcess(store, 0)
        try:
            before: list[Record] = []

            async def collect(observed: Observed) -> None:
                before.extend(observed.records)

            for batch in batches[:split]:
                await first.observe(batch, then=collect)
            snapshot = first.snapshot(1)
            await first.observe(batches[split], then=collect)  # after the snapshot was asked for
            manifest = orjson.loads(await snapshot)
            assert before == expected[: len(before)]  # every batch before it was handed on
        finally:
            await first.close()
        assert (manifest["topic"], manifest["slot"]) == (store.topic, 1)
        assert manifest["size"] > manifest["stored"] > 0  # compressed
        second = AnalyzerProcess(store, 0, manifest)
        try:
            after: list[Record] = []

            async def collect_after(observed: Observed) -> None:
                after.extend(observed.records)

            for batch in batches[split:]:
                await second.observe(batch, then=collect_after)
            await second.view()  # answered after every batch
        finally:
            await second.close()
        return before, after

    before, after = asyncio.run(asyncio.wait_for(scenario(), DEADLINE_SECONDS))
    assert before[: len(expected) - len(after)] + after == expected


def test_a_child_that_cannot_start_says_why_at_every_request(store: Store) -> None:
    """A manifest naming chunks the snapshot topic does not hold fails each request with the
    child's reason.
    """
    gone = Manifest(store.topic, 0, 1, (1_000, 1_001), 10, 5)

    async def scenario() -> None:
        child = AnalyzerProcess(store, 0, gone.plain())
        try:
            for _ in range(2):
                with pytest.raises(
                    AnalyzerFailedError, match=r"did not start.*2 of the snapshot's 2 chunks are gone"
                ):
                    await child.view()
        finally:
            await child.close()

    asyncio.run(asyncio.wait_for(scenario(), DEADLINE_SECONDS))
