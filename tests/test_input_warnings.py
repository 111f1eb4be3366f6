"""The worker says in its log, without flooding it, when input arrives out of order: retweets
out of their cascade's order, events later than the lateness.
"""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from agents.input_warnings import LateEvents, reaches_power_of_ten, warn_disorder
from agents.instruments import Instruments

STEPS = [*range(1001), 5, 12]  # one at a time up to 1000, then a jump from 5 past 10


def test_powers_of_ten_are_reached_once_each_and_by_jumps() -> None:
    """Counts stepping 0 -> 1 -> ... -> 1000 reach 1, 10, 100 and 1000; a jump 5 -> 12 reaches
    10; standing still reaches nothing.
    """
    reached = [now for before, now in itertools.pairwise(STEPS) if reaches_power_of_ten(before, now)]
    assert reached == [1, 10, 100, 1000, 12]
    assert not reaches_power_of_ten(7, 7)


def _counts(records: list[logging.LogRecord]) -> list[str]:
    return [record.getMessage().split("so far: ")[1].split()[0] for record in records]


def test_a_warning_is_logged_at_the_first_disordered_retweet_and_each_power_of_ten(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each warning names the count and the fix (key input by cascade)."""
    with caplog.at_level(logging.WARNING, logger="agents.input_warnings"):
        for before, now in itertools.pairwise(STEPS):
            warn_disorder(before, now)
    assert _counts(caplog.records) == ["1", "10", "100", "1000", "12"]
    assert all("Key input tweets by cascade" in record.getMessage() for record in caplog.records)


def test_late_events_are_warned_about_at_each_power_of_ten_naming_stage_lateness_and_fixes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Late events counted one at a time, none at a time, then 30 (no power of ten crossed) and
    65 at once: warnings at 1, 10 and the jump to 105, each naming the stage, its lateness and both
    fixes; the exported counter splits them into admitted and dropped.
    """
    registry = CollectorRegistry()
    late = LateEvents(
        "hashtag window", "hashtag", timedelta(seconds=10), Instruments.create(registry, top_n=5).late
    )
    with caplog.at_level(logging.WARNING, logger="agents.input_warnings"):
        for admitted, dropped in [(1, 0), (0, 0), *[(0, 1)] * 9, (30, 0), (60, 5)]:
            late.add(admitted, dropped)
    assert late.count == 105
    sample = "resonance_events_late_total"
    assert registry.get_sample_value(sample, {"metric": "hashtag", "outcome": "admitted"}) == 91
    assert registry.get_sample_value(sample, {"metric": "hashtag", "outcome": "dropped"}) == 14
    assert _counts(caplog.records) == ["1", "10", "105"]
    for record in caplog.records:
        message = record.getMessage()
        assert message.startswith("hashtag window: events more than RESONANCE_LATENESS=10s behind")
        assert "resonance replay --speed" in message
        assert "raise RESONANCE_LATENESS" in message
