"""The page's header: this worker's own numbers (rates, dead letters, lateness, lag, partitions),
read from its instruments and its Faust consumer once a second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import faust
from prometheus_client import Counter

from agents.instruments import Instruments

RATE_SPAN_SECONDS = 10.0  # rates are averaged over this much wall time
SAMPLES_KEPT = 60  # one-second samples: more than the rate's span


def _by_label(counter: Counter) -> dict[str, float]:
    """A labelled counter's totals, keyed by its label values joined with '/'."""
    return {
        "/".join(sample.labels.values()): sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def _total(counter: Counter) -> float:
    return sum(_by_label(counter).values())


@dataclass(slots=True)
class Header:
    """Samples of this worker's counters, and what they say now."""

    instruments: Instruments
    app: faust.App
    app_id: str  # internal topics are named `{app_id}-{stage}`: shown by their stage's name
    _samples: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=SAMPLES_KEPT))

    def sample(self, now: float) -> None:
        """Record the accepted-tweets total at wall time `now` (called once a second)."""
        self._samples.append((now, _total(self.instruments.accepted)))

    def accepted_per_second(self) -> float | None:
        """Tweets accepted per second over the last `RATE_SPAN_SECONDS`, None before two samples."""
        if len(self._samples) < 2:
            return None
        now, latest = self._samples[-1]
        then, earlier = next(
            ((t, v) for t, v in self._samples if now - t <= RATE_SPAN_SECONDS), self._samples[0]
        )
        return (latest - earlier) / (now - then) if now > then else None

    def _assignment(self) -> Iterable[Any]:
        try:
            return self.app.consumer.assignment()
        except (AttributeError, RuntimeError):  # no consumer yet: the worker is starting
            return ()

    def view(self) -> dict[str, Any]:
        """The header's numbers: rate, totals, lag per topic, partitions held per topic."""
        held: dict[str, list[int]] = {}
        for tp in self._assignment():
            if "changelog" in tp.topic or "__assignor" in tp.topic:  # Faust's own bookkeeping
                continue
            held.setdefault(tp.topic, []).append(tp.partition)
        prefix = f"{self.app_id}-"
        monitor = self.app.monitor
        ends = getattr(monitor, "tp_end_offsets", None) or {}
        committed = getattr(monitor, "tp_committed_offsets", None) or {}
        lag: dict[str, int] = {}
        for tp, end in ends.items():
            if tp.topic in held and tp.partition in held[tp.topic]:
                name = tp.topic.removeprefix(prefix)
                lag[name] = lag.get(name, 0) + max(0, end - committed.get(tp, 0))
        return {
            "accepted_per_second": self.accepted_per_second(),
            "accepted_total": _total(self.instruments.accepted),
            "duplicates_total": _total(self.instruments.duplicates),
            "dead_letters_by_reason": _by_label(self.instruments.rejected),
            "late_events": _by_label(self.instruments.late),
            "consumer_lag": lag,
            "partitions": {
                topic.removeprefix(prefix): sorted(parts) for topic, parts in sorted(held.items())
            },
        }
