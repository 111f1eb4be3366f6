"""Faust's own Prometheus sensors (`faust_*`), exported in base units.

Faust names its per-event runtime histogram `faust_events_runtime_ms` and observes milliseconds
into it: `promtool check metrics` rejects the abbreviated unit. We export the same observations
in seconds, as `faust_events_runtime_seconds`, and keep every other `faust_*` series as Faust
writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from faust.sensors.prometheus import PrometheusMonitor, setup_prometheus_sensors
from prometheus_client import CollectorRegistry, Histogram

MS_PER_SECOND = 1000.0
# Faust's millisecond buckets (5 ms to 10 s), in seconds.
RUNTIME_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


@dataclass(frozen=True, slots=True)
class _MillisecondsToSeconds:
    """What Faust's monitor observes into (milliseconds), written to a histogram in seconds."""

    seconds: Histogram

    def observe(self, milliseconds: float) -> None:
        """Record one observation Faust made in milliseconds."""
        self.seconds.observe(milliseconds / MS_PER_SECOND)


def setup_faust_sensors(app: faust.App, registry: CollectorRegistry) -> None:
    """Faust's Prometheus monitor on `app`, exporting on `registry` (and serving `/metrics`), with
    the event runtime in seconds.
    """
    setup_prometheus_sensors(app, registry=registry, name_prefix="faust")
    monitor = app.monitor
    assert isinstance(monitor, PrometheusMonitor)  # noqa: S101 - set just above
    metrics = monitor._metrics  # noqa: SLF001 - the one field Faust gives no other way to reach
    registry.unregister(metrics.events_runtime_latency)
    seconds = Histogram(
        "faust_events_runtime_seconds",
        "Time a stream took to process one event",
        buckets=RUNTIME_BUCKETS_SECONDS,
        registry=registry,
    )
    # The monitor only ever calls `observe` on it: the adapter stands in for the histogram.
    scaled: Any = _MillisecondsToSeconds(seconds)
    monitor._metrics = metrics._replace(events_runtime_latency=scaled)  # noqa: SLF001
