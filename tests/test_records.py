"""Records' wire bytes: `to_bytes` is written straight from the dataclass for speed, and must be
exactly `orjson.dumps(to_json())`, the one documented form, for every kind of record; and
`record_from_json` reads that form back into the same record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from models.records import HashtagCount, Record, Trigger, record_from_json
from streams.analyzer import Analyzer, AnalyzerConfig
from synth import StreamSpec, generate

EVERY_KIND = {
    "alert",
    "cascade",
    "cascade_tree",
    "communities",
    "coordination",
    "hashtag",
    "hashtag_graph",
    "hashtag_polarization",
    "influence",
    "influence_summary",
    "user_graph",
}


def _analyzed() -> list[Record]:
    """Every record of a generated stream with rings and a burst, periodic and final."""
    config = AnalyzerConfig.build(
        window=timedelta(minutes=20), lateness=timedelta(seconds=10), every=timedelta(minutes=5)
    )
    analyzer = Analyzer(config)
    records = [
        record
        for event in generate(StreamSpec(events=12_000, seed=5, rings=2))
        for record in analyzer.observe(event)
    ]
    return records + analyzer.flush()


def test_to_bytes_is_the_json_form_for_every_kind() -> None:
    """Byte for byte, on every record a real run emits, whatever its kind."""
    records = _analyzed()
    assert {record.kind for record in records} == EVERY_KIND
    for record in records:
        assert record.to_bytes() == orjson.dumps(record.to_json()), record.kind


def test_every_kind_reads_back_as_the_record_it_was() -> None:
    """Equal records (times, spans, enums, tuples and nested groups restored), and equal bytes."""
    for record in _analyzed():
        again = record_from_json(orjson.loads(record.to_bytes()))
        assert again == record, record.kind
        assert again.to_bytes() == record.to_bytes(), record.kind


def test_times_and_spans_keep_their_text_form() -> None:
    """Microseconds and a span that is not a whole unit: written as `to_json` writes them."""
    record = HashtagCount(
        at=datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
        window=timedelta(minutes=90),
        lateness=timedelta(seconds=7),
        trigger=Trigger.IDLE,
        tag="leap",
        count=3,
        users=2,
        burst_z=1.5,
    )
    assert record.to_bytes() == orjson.dumps(record.to_json())
    assert orjson.loads(record.to_bytes())["at"] == "2024-02-29T23:59:59.123456Z"
