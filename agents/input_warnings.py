"""Warnings about input that keeps arriving in a shape the numbers suffer from, each naming the fix.

Each is logged when its running count reaches 1, 10, 100, ...: the first occurrence is reported
at once, and a stream that goes on misbehaving adds a line per power of ten, not per event. The
counts themselves are Prometheus counters (`agents.instruments`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter

from models.duration import format_duration

log = logging.getLogger(__name__)


def reaches_power_of_ten(before: int, now: int) -> bool:
    """Whether a count going from `before` to `now` reached 1, 10, 100, ... on the way."""
    return now > before and (before == 0 or len(str(now)) > len(str(before)))


def warn_disorder(before: int, now: int) -> None:
    """The count of retweets out of their cascade's order went from `before` to `now`: the input
    is not keyed by cascade (or not in time order), and inferred trees may differ from `analyze`'s.
    """
    if reaches_power_of_ten(before, now):
        log.warning(
            "retweets out of their cascade's order so far: %d (each arrived after a later tweet of "
            "its cascade, so its parent was inferred without it). Key input tweets by cascade (a "
            "retweet by the id of the tweet it retweets, anything else by its own id; `resonance "
            "replay` does) and send them in time order (README: Live and offline agree)",
            now,
        )


@dataclass(slots=True)
class LateEvents:
    """One stage's events that came more than `lateness` behind the latest: exported on `counter`
    (`resonance_events_late{metric, outcome}`) and counted since this worker started, with a
    warning as the count reaches 1, 10, 100, ...: records already published at window boundaries
    missed those events.
    """

    stage: str
    metric: str  # the `metric` label: which window they were late for
    lateness: timedelta
    counter: Counter
    count: int = 0

    def add(self, admitted: int, dropped: int) -> None:
        """Count late events more: `admitted` (inside the window) and `dropped` (older than it)."""
        self.counter.labels(self.metric, "admitted").inc(admitted)
        self.counter.labels(self.metric, "dropped").inc(dropped)
        before, self.count = self.count, self.count + admitted + dropped
        if reaches_power_of_ten(before, self.count):
            log.warning(
                "%s: events more than RESONANCE_LATENESS=%s behind the latest so far: %d (records "
                "published at earlier window boundaries missed them; events older than the window "
                "were dropped). A replay sent flat out compresses event time, and partitions drift "
                "further apart than that: pace it (`resonance replay --speed`) or raise "
                "RESONANCE_LATENESS until this count stays at zero (README: Live and offline agree)",
                self.stage,
                format_duration(self.lateness),
                self.count,
            )
