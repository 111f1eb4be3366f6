"""What the analyzer watches for beyond per-event metrics: the conversation's structure (echo
chambers, coordinated amplification), refreshed on a cadence, and the alerts it raises.

`Watch` keeps its own rolling state (users' hashtags and bot-likeness, co-retweets), moved by
the analyzer's window ends like every other part, and on `refresh` turns the window into
`communities`, `hashtag_polarization` and `coordination` records plus the alerts they trigger.
Cascades are judged for `viral_cascade` alerts as they change, hashtag records for
`hashtag_burst` (when the analyzer computes hashtags). See `streams.alerts.rules` for the rules.

A refresh may run detached, on a copy of the watch (`streams.refresh`): what it changes (the
community trackers' warm starts, the alerts already raised, the clusters' names) then comes back
with its records, and `adopt` puts it in place.

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.event import TweetEvent
from models.records import (
    Alert,
    CascadeRecord,
    CoordinationRecord,
    HashtagCount,
    Record,
)
from streams.alerts.rules import (
    AlertConfig,
    BurstAlerts,
    ClusterNames,
    EchoAlerts,
    Stamp,
    ViralAlerts,
    coordination_alert,
)
from streams.chambers.communities import Partition
from streams.chambers.echo import ChamberConfig, EchoChambers
from streams.coordination.botness import bot_likeness, distribution
from streams.coordination.coretweets import CoordinationConfig, CoRetweets
from streams.influence.tracker import Influence
from streams.refresh import Refreshed
from streams.user_activity import UserActivity

SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchConfig:
    """Echo-chamber, coordination and alert parameters."""

    chambers: ChamberConfig
    coordination: CoordinationConfig
    alerts: AlertConfig


@dataclass(slots=True)
class Watch:
    """Structure and alerts over one stream's window (see the module docstring)."""

    config: WatchConfig
    activity: UserActivity = field(init=False)
    coretweets: CoRetweets = field(init=False)
    chambers: EchoChambers = field(init=False)
    _bursts: BurstAlerts = field(init=False)
    _viral: ViralAlerts = field(init=False)
    _echo: EchoAlerts = field(init=False)
    _clusters: ClusterNames = field(init=False)

    def __post_init__(self) -> None:
        """Start empty."""
        config = self.config
        self.activity = UserActivity(config.coordination.span)
        self.coretweets = CoRetweets(config.coordination)
        self.chambers = EchoChambers(config.chambers)
        self._bursts = BurstAlerts(config.alerts)
        self._viral = ViralAlerts(config.alerts)
        self._echo = EchoAlerts(config.alerts)
        self._clusters = ClusterNames(config.alerts.same_cluster_overlap)

    def observe(self, event: TweetEvent) -> None:
        """Hold one accepted tweet for the windows."""
        bot = bot_likeness(event.profile, event.followers, event.at)
        self.activity.observe(event.user_id, event.hashtags, bot, event.at)
        self.coretweets.observe(event)

    def advance(self, end: datetime) -> None:
        """Move the windows' end to `end`."""
        self.activity.advance(end)
        self.coretweets.advance(end)

    def work_ahead(self, until: datetime, limit: int) -> int:
        """Do at most `limit` moves of what `advance(until)` will do, now; return how many were
        done (`streams.window.SlidingWindow.work_ahead`).
        """
        done = self.activity.work_ahead(until, limit)
        return done + self.coretweets.work_ahead(until, limit - done)

    def judge_cascades(self, records: Iterable[CascadeRecord], held: Callable[[str], bool]) -> list[Alert]:
        """`viral_cascade` alerts for cascades that qualify for the first time; roots no longer
        `held` are forgotten.
        """
        alerts = [alert for record in records if (alert := self._viral.judge(record)) is not None]
        self._viral.forget_unless(held)
        return alerts

    def could_be_viral(self, size: int, depth: int) -> bool:
        """Whether a cascade this big and deep is worth judging (its record costs percentiles)."""
        alerts = self.config.alerts
        return size >= alerts.viral_min_size and depth >= alerts.viral_min_depth

    def judge_hashtags(self, records: Iterable[HashtagCount]) -> list[Alert]:
        """`hashtag_burst` alerts for hashtags whose burst began in `records`."""
        return self._bursts.judge(records)

    def refresh(
        self, stamp: Stamp, influence: Influence, *, detached: bool
    ) -> tuple[Refreshed, dict[str, Partition]]:
        """Communities and polarization of both layers, hashtag polarization, co-retweet
        clusters, and the alerts they raise, over the window as it stands; and the partitions
        found, by layer. When `detached`, the result carries what the refresh changed here.
        """
        found = self.chambers.refresh(stamp, influence, self.activity)
        records: list[Record] = [*found.communities, *found.hashtags]
        alerts = [alert for record in found.communities if (alert := self._echo.judge(record)) is not None]
        clusters = self.coretweets.clusters()
        names = self._clusters.name([cluster.accounts for cluster in clusters])
        for cluster, (key, new) in zip(clusters, names, strict=True):
            record = CoordinationRecord(
                at=stamp.at,
                window=stamp.window,
                lateness=stamp.lateness,
                trigger=stamp.trigger,
                key=key,
                accounts=cluster.accounts,
                shared_tweets=cluster.shared_tweets,
                co_retweets=cluster.co_retweets,
                median_lag_seconds=cluster.median_lag_seconds,
                expected=cluster.expected,
                lift=cluster.lift,
                time_window=self.config.coordination.time_window,
                bot_likeness=distribution(self.activity.bot_likeness(a) for a in cluster.accounts),
            )
            records.append(record)
            if new:
                alerts.append(coordination_alert(record))
        state = self._refreshed_state() if detached else None
        return Refreshed([*records, *alerts], state), found.partitions

    def adopt(self, refreshed: Refreshed) -> None:
        """Put in place what a refresh that ran detached changed (nothing for one run here)."""
        if refreshed.state is not None:
            self._adopt_refreshed_state(refreshed.state)

    def _refreshed_state(self) -> dict[str, Any]:
        """The part of the state that only refreshes change, as plain data."""
        return {
            "chambers": self.chambers.snapshot(),
            "echo": self._echo.snapshot(),
            "clusters": self._clusters.snapshot(),
        }

    def _adopt_refreshed_state(self, data: dict[str, Any]) -> None:
        config = self.config
        self.chambers = EchoChambers.restore(config.chambers, data["chambers"])
        self._echo = EchoAlerts.restore(config.alerts, data["echo"])
        self._clusters = ClusterNames.restore(config.alerts.same_cluster_overlap, data["clusters"])

    def snapshot(self) -> dict[str, Any]:
        """JSON-able plain data from which `restore` rebuilds this state exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "activity": self.activity.snapshot(),
            "coretweets": self.coretweets.snapshot(),
            "bursts": self._bursts.snapshot(),
            "viral": self._viral.snapshot(),
            **self._refreshed_state(),
        }

    @classmethod
    def restore(cls, config: WatchConfig, data: dict[str, Any]) -> Watch:
        """The state `snapshot` described; it continues exactly as the original would."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"unknown watch snapshot version {data['version']}")
        state = cls(config)
        state.activity = UserActivity.restore(config.coordination.span, data["activity"])
        state.coretweets = CoRetweets.restore(config.coordination, data["coretweets"])
        state._bursts = BurstAlerts.restore(config.alerts, data["bursts"])
        state._viral = ViralAlerts.restore(config.alerts, data["viral"])
        state._adopt_refreshed_state(data)
        return state
