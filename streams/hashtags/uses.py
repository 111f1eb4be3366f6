"""The hashtag-window stage's core: one partition of hashtag uses counted in rolling windows
(`streams.hashtags.metrics`), and the bursts those counts show (`streams.alerts.rules.BurstAlerts`).

The live worker splits hashtag uses by tag over partitions; each partition runs one of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.records import HashtagUse, Record
from streams.alerts.rules import AlertConfig, BurstAlerts
from streams.hashtags.metrics import HashtagMetrics, HashtagMetricsConfig


@dataclass(frozen=True, slots=True)
class HashtagUsesConfig:
    """The window, cadence and burst scoring of the metrics, and the burst alerts' thresholds."""

    metrics: HashtagMetricsConfig
    alerts: AlertConfig


@dataclass(slots=True)
class HashtagUses:
    """One partition's rolling hashtag metrics and its ongoing bursts (a `streams.state.Core`)."""

    config: HashtagUsesConfig
    metrics: HashtagMetrics = field(init=False)
    bursts: BurstAlerts = field(init=False)

    def __post_init__(self) -> None:
        """Start empty."""
        self.metrics = HashtagMetrics(self.config.metrics)
        self.bursts = BurstAlerts(self.config.alerts)

    def observe(self, uses: Iterable[HashtagUse]) -> list[Record]:
        """Count `uses`; the records due (at window boundaries) and the bursts they show."""
        records: list[Record] = []
        for use in uses:
            counted = self.metrics.observe((use.tag,), use.user_id, use.at)
            if counted:  # at boundaries only
                records += [*counted, *self.bursts.judge(counted)]
        return records

    def work_ahead(self, limit: int) -> int:
        """Do at most `limit` moves of the next boundary's window work now; return how many were
        done (`HashtagCounts.work_ahead`).
        """
        return self.metrics.work_ahead(limit)

    def snapshot(self) -> dict[str, Any]:
        """Plain data for `restore`."""
        return {"metrics": self.metrics.snapshot(), "bursts": self.bursts.snapshot()}

    @classmethod
    def restore(cls, config: HashtagUsesConfig, data: dict[str, Any]) -> HashtagUses:
        """The state `snapshot` described."""
        state = cls(config)
        state.metrics = HashtagMetrics.restore(config.metrics, data["metrics"])
        state.bursts = BurstAlerts.restore(config.alerts, data["bursts"])
        return state
