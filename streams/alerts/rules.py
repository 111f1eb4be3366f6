"""Alerts: the moments an analyst should look, each raised once per condition.

Every alert has a stable `key`, so a condition that holds over many refreshes raises one alert,
not one per refresh; when the condition lapses its key is released, and a later recurrence is a
new condition with a new key (its onset time is part of the key).

`viral_cascade`, key `viral_cascade:<root id>`
    a cascade of at least `viral_min_size` nodes spread over at least `viral_min_depth`
    generations, deeper than `viral_depth_percentile` of cascades of similar size (Juul &
    Ugander 2021: raw depth grows with size).
`hashtag_burst`, key `hashtag_burst:<tag>:<onset>`
    a hashtag's burst z-score (against its own history, `streams.hashtags.bursts`) reaches `burst_z`,
    once the stream has run `burst_warmup` (before, histories are too short to judge); it
    lapses below the threshold.
`echo_chamber`, key `echo_chamber:<layer>:<onset>`
    a layer's segregation beyond chance reaches `echo_min_segregation` with z >= `echo_min_z`
    (significant), or rises `echo_rise` above the level last alerted.
`coordinated_amplification`, key `coordinated_amplification:<cluster key>`
    a co-retweet cluster is found (`streams.coordination.coretweets`); the same cluster, grown or shrunk,
    keeps its key (`ClusterNames`).

Nothing here reads a clock or does I/O: `at` is the event time the condition was judged at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.records import (
    Alert,
    AlertType,
    CascadeRecord,
    CommunitiesRecord,
    CoordinationRecord,
    HashtagCount,
    Severity,
    Trigger,
)

SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertConfig:
    """Alert thresholds (see the module docstring for what each guards)."""

    viral_min_size: int = 10
    viral_min_depth: int = 3
    viral_depth_percentile: float = 0.95
    burst_z: float = 3.0
    burst_warmup: timedelta = timedelta(minutes=15)  # three 5-minute burst buckets of history
    echo_min_segregation: float = 0.05
    echo_min_z: float = 3.0
    echo_rise: float = 0.1
    # Two clusters are the same condition when they share this share of the smaller one's accounts.
    same_cluster_overlap: float = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Stamp:
    """What every alert of one judgement shares: the window it was judged over, and when."""

    at: datetime
    window: timedelta
    lateness: timedelta
    trigger: Trigger


def _alert(  # noqa: PLR0913 - one parameter per alert field
    stamp: Stamp, kind: AlertType, *, severity: Severity, subject: str, key: str, evidence: dict[str, Any]
) -> Alert:
    return Alert(
        at=stamp.at,
        window=stamp.window,
        lateness=stamp.lateness,
        trigger=stamp.trigger,
        type=kind,
        severity=severity,
        subject=subject,
        key=key,
        evidence=evidence,
    )


def cluster_key(accounts: Iterable[str]) -> str:
    """A short name for a set of accounts, the same whatever their order."""
    digest = hashlib.sha256("\n".join(sorted(accounts)).encode()).hexdigest()
    return f"c{digest[:12]}"


@dataclass(slots=True)
class BurstAlerts:
    """`hashtag_burst`: raised when a tag's burst z-score reaches the threshold, once per burst."""

    config: AlertConfig
    _active: dict[str, str] = field(default_factory=dict)  # tag -> key of its ongoing burst
    _started: datetime | None = None  # the first record's time: warm-up runs from there

    def judge(self, records: Iterable[HashtagCount]) -> list[Alert]:
        """Alerts for tags whose burst began in these records; tags below the threshold lapse."""
        alerts = []
        threshold = self.config.burst_z
        for record in records:
            if self._started is None:
                self._started = record.at
            if record.at - self._started < self.config.burst_warmup:
                continue
            z = record.burst_z
            if z is None or z < threshold:
                self._active.pop(record.tag, None)
                continue
            if record.tag in self._active:
                continue
            key = f"{AlertType.HASHTAG_BURST}:{record.tag}:{record.at.isoformat()}"
            self._active[record.tag] = key
            severity = Severity.CRITICAL if z >= 2 * threshold else Severity.WARNING
            stamp = Stamp(
                at=record.at, window=record.window, lateness=record.lateness, trigger=record.trigger
            )
            evidence = {"burst_z": z, "count": record.count, "users": record.users, "threshold_z": threshold}
            alerts.append(
                _alert(
                    stamp,
                    AlertType.HASHTAG_BURST,
                    severity=severity,
                    subject=f"#{record.tag}",
                    key=key,
                    evidence=evidence,
                )
            )
        return alerts

    def snapshot(self) -> dict[str, Any]:
        """Plain data for `restore`."""
        started = None if self._started is None else self._started.isoformat()
        return {"version": SNAPSHOT_VERSION, "active": dict(self._active), "started": started}

    @classmethod
    def restore(cls, config: AlertConfig, data: dict[str, Any]) -> BurstAlerts:
        """The state `snapshot` described."""
        started = None if data["started"] is None else datetime.fromisoformat(data["started"])
        return cls(config, dict(data["active"]), started)


@dataclass(slots=True)
class ViralAlerts:
    """`viral_cascade`: raised once per cascade root, when its spread first qualifies."""

    config: AlertConfig
    _alerted: set[str] = field(default_factory=set)

    def judge(self, record: CascadeRecord) -> Alert | None:
        """An alert when the cascade qualifies for the first time."""
        config = self.config
        percentile = record.depth_percentile
        if (
            record.root_id in self._alerted
            or record.size < config.viral_min_size
            or record.depth < config.viral_min_depth
            or percentile is None
            or percentile < config.viral_depth_percentile
        ):
            return None
        self._alerted.add(record.root_id)
        evidence = {
            "size": record.size,
            "depth": record.depth,
            "depth_percentile": percentile,
            "structural_virality": record.structural_virality,
            "virality_percentile": record.virality_percentile,
            "reconstruction": record.reconstruction,
            "thresholds": {
                "min_size": config.viral_min_size,
                "min_depth": config.viral_min_depth,
                "depth_percentile": config.viral_depth_percentile,
            },
        }
        severity = Severity.CRITICAL if record.depth >= 2 * config.viral_min_depth else Severity.WARNING
        stamp = Stamp(at=record.at, window=record.window, lateness=record.lateness, trigger=record.trigger)
        subject = f"cascade {record.root_id} by {record.root_user_id}"
        key = f"{AlertType.VIRAL_CASCADE}:{record.root_id}"
        return _alert(
            stamp, AlertType.VIRAL_CASCADE, severity=severity, subject=subject, key=key, evidence=evidence
        )

    def forget_unless(self, held: Callable[[str], bool]) -> None:
        """Drop roots no longer `held` (they cannot be judged again), so memory stays bounded."""
        self._alerted = {root for root in self._alerted if held(root)}

    def snapshot(self) -> dict[str, Any]:
        """Plain data for `restore`."""
        return {"version": SNAPSHOT_VERSION, "alerted": sorted(self._alerted)}

    @classmethod
    def restore(cls, config: AlertConfig, data: dict[str, Any]) -> ViralAlerts:
        """The state `snapshot` described."""
        return cls(config, set(data["alerted"]))


@dataclass(slots=True)
class EchoAlerts:
    """`echo_chamber`: raised when a layer becomes significantly segregated, or much more so."""

    config: AlertConfig
    _active: dict[str, tuple[str, float]] = field(default_factory=dict)  # layer -> (key, level alerted)

    def judge(self, record: CommunitiesRecord) -> Alert | None:
        """An alert when segregation turns significant, or rises `echo_rise` past the last alert."""
        config = self.config
        level, z = record.segregation, record.rwc_z
        if level is None or z is None or level < config.echo_min_segregation or z < config.echo_min_z:
            self._active.pop(record.layer, None)
            return None
        active = self._active.get(record.layer)
        if active is not None and level < active[1] + config.echo_rise:
            return None
        key = f"{AlertType.ECHO_CHAMBER}:{record.layer}:{record.at.isoformat()}"
        self._active[record.layer] = (key, level)
        evidence = {
            "segregation": level,
            "rwc": record.rwc,
            "rwc_null_mean": record.rwc_null_mean,
            "rwc_z": z,
            "two_camp_share": record.two_camp_share,
            "modularity": record.modularity,
            "users": record.rwc_users,
            "previous_level": None if active is None else active[1],
            "thresholds": {
                "min_segregation": config.echo_min_segregation,
                "min_z": config.echo_min_z,
                "rise": config.echo_rise,
            },
        }
        stamp = Stamp(at=record.at, window=record.window, lateness=record.lateness, trigger=record.trigger)
        return _alert(
            stamp,
            AlertType.ECHO_CHAMBER,
            severity=Severity.WARNING,
            subject=f"{record.layer} layer",
            key=key,
            evidence=evidence,
        )

    def snapshot(self) -> dict[str, Any]:
        """Plain data for `restore`."""
        return {"version": SNAPSHOT_VERSION, "active": {k: list(v) for k, v in self._active.items()}}

    @classmethod
    def restore(cls, config: AlertConfig, data: dict[str, Any]) -> EchoAlerts:
        """The state `snapshot` described."""
        return cls(config, {k: (v[0], v[1]) for k, v in data["active"].items()})


@dataclass(slots=True)
class ClusterNames:
    """Stable keys for co-retweet clusters: a cluster sharing at least `overlap` of the smaller
    one's accounts with a cluster named at the previous refresh keeps that name.
    """

    overlap: float
    _named: dict[str, frozenset[str]] = field(default_factory=dict)

    def name(self, clusters: Sequence[Sequence[str]]) -> list[tuple[str, bool]]:
        """(key, is new) for each cluster, in order; names not matched lapse."""
        named: dict[str, frozenset[str]] = {}
        keys = []
        for accounts in clusters:
            members = frozenset(accounts)
            key = next(
                (
                    k
                    for k, before in sorted(self._named.items())
                    if k not in named
                    and len(members & before) >= self.overlap * min(len(members), len(before))
                ),
                None,
            )
            keys.append((key or cluster_key(members), key is None))
            named[key or cluster_key(members)] = members
        self._named = named
        return keys

    def snapshot(self) -> dict[str, Any]:
        """Plain data for `restore`."""
        return {"version": SNAPSHOT_VERSION, "named": {k: sorted(v) for k, v in self._named.items()}}

    @classmethod
    def restore(cls, overlap: float, data: dict[str, Any]) -> ClusterNames:
        """The state `snapshot` described."""
        return cls(overlap, {k: frozenset(v) for k, v in data["named"].items()})


def coordination_alert(record: CoordinationRecord) -> Alert:
    """The alert for a newly found co-retweet cluster (`record.key` is its stable name)."""
    evidence = {
        "accounts": list(record.accounts),
        "shared_tweets": len(record.shared_tweets),
        "co_retweets": record.co_retweets,
        "median_lag_seconds": record.median_lag_seconds,
        "expected": record.expected,
        "lift": record.lift,
        "bot_likeness_median": record.bot_likeness.get("median"),
    }
    severity = Severity.CRITICAL if len(record.accounts) >= 10 else Severity.WARNING
    stamp = Stamp(at=record.at, window=record.window, lateness=record.lateness, trigger=record.trigger)
    subject = f"{len(record.accounts)} accounts co-retweeting {len(record.shared_tweets)} tweets"
    key = f"{AlertType.COORDINATED_AMPLIFICATION}:{record.key}"
    return _alert(
        stamp,
        AlertType.COORDINATED_AMPLIFICATION,
        severity=severity,
        subject=subject,
        key=key,
        evidence=evidence,
    )
