"""Alert rules: each condition raises one alert with a stable key, and lapses to be raised anew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.records import (
    AlertType,
    CascadeRecord,
    CommunitiesRecord,
    CoordinationRecord,
    HashtagCount,
    Severity,
    Trigger,
)
from streams.alerts.rules import (
    AlertConfig,
    BurstAlerts,
    ClusterNames,
    EchoAlerts,
    ViralAlerts,
    cluster_key,
    coordination_alert,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
COMMON: dict[str, Any] = {"window": timedelta(minutes=15), "lateness": timedelta(seconds=10)}


def _tag(tag: str, z: float | None, minute: int) -> HashtagCount:
    return HashtagCount(
        at=T0 + timedelta(minutes=minute),
        trigger=Trigger.BOUNDARY,
        tag=tag,
        count=50,
        users=40,
        burst_z=z,
        **COMMON,
    )


def _cascade(root: str, size: int, depth: int, percentile: float | None) -> CascadeRecord:
    return CascadeRecord(
        at=T0,
        trigger=Trigger.BOUNDARY,
        root_id=root,
        root_user_id="u",
        size=size,
        depth=depth,
        max_breadth=2,
        structural_virality=2.0,
        broadcast_share=0.5,
        growth_rate_per_hour=1.0,
        depth_percentile=percentile,
        virality_percentile=percentile,
        reconstruction="explicit parent",
        **COMMON,
    )


def _layer(
    segregation: float | None, z: float | None, minute: int, layer: str = "retweet"
) -> CommunitiesRecord:
    return CommunitiesRecord(
        at=T0 + timedelta(minutes=minute),
        trigger=Trigger.BOUNDARY,
        layer=layer,
        users=1000,
        edges=3000,
        count=12,
        modularity=0.5,
        camp_modularity=0.4,
        ei_index=-0.8,
        assortativity=0.7,
        rwc=None if segregation is None else segregation + 0.1,
        rwc_null_mean=None if segregation is None else 0.1,
        segregation=segregation,
        rwc_z=z,
        rwc_users=800,
        suppressed=None if segregation is not None else "too small",
        two_camp_share=0.9,
        communities=(),
        camps=(),
        method="test",
        **COMMON,
    )


def test_a_burst_raises_one_alert_while_it_lasts_and_a_new_one_after_it_lapses() -> None:
    """A tag above the z threshold alerts once; after it falls below, the next burst is a new key."""
    bursts = BurstAlerts(AlertConfig(burst_z=3.0, burst_warmup=timedelta(0)))
    first = bursts.judge([_tag("a", 4.0, 5), _tag("b", 1.0, 5)])
    again = bursts.judge([_tag("a", 5.0, 10)])
    lapsed = bursts.judge([_tag("a", 0.5, 15)])
    second = bursts.judge([_tag("a", 7.0, 20)])
    assert [a.subject for a in first] == ["#a"]
    assert first[0].type is AlertType.HASHTAG_BURST
    assert first[0].severity is Severity.WARNING
    assert again == []
    assert lapsed == []
    assert len(second) == 1
    assert second[0].key != first[0].key
    assert second[0].severity is Severity.CRITICAL  # z >= twice the threshold


def test_bursts_are_not_judged_while_histories_are_short() -> None:
    """During the warm-up from the first record, even a huge z-score raises nothing."""
    bursts = BurstAlerts(AlertConfig(burst_z=3.0, burst_warmup=timedelta(minutes=30)))
    assert bursts.judge([_tag("a", 1.0, 0), _tag("a", 50.0, 25)]) == []
    assert len(bursts.judge([_tag("a", 50.0, 30)])) == 1


def test_a_viral_cascade_alerts_once_and_only_when_deep_for_its_size() -> None:
    """Size, depth and depth percentile must all qualify; the same root never alerts twice."""
    viral = ViralAlerts(AlertConfig(viral_min_size=10, viral_min_depth=3, viral_depth_percentile=0.95))
    assert viral.judge(_cascade("shallow", 50, 2, 0.99)) is None
    assert viral.judge(_cascade("small", 5, 4, 0.99)) is None
    assert viral.judge(_cascade("usual", 50, 4, 0.5)) is None
    alert = viral.judge(_cascade("deep", 50, 4, 0.97))
    assert alert is not None
    assert alert.key == "viral_cascade:deep"
    assert alert.evidence["depth"] == 4
    assert viral.judge(_cascade("deep", 60, 5, 0.99)) is None


def test_forgotten_roots_free_their_memory() -> None:
    """Roots no longer held are dropped from the alerted set."""
    viral = ViralAlerts(AlertConfig())
    assert viral.judge(_cascade("r", 50, 4, 0.99)) is not None
    viral.forget_unless(lambda root: root != "r")
    assert viral.snapshot()["alerted"] == []


def test_echo_chamber_alerts_on_onset_and_on_a_marked_rise_only() -> None:
    """Significant segregation alerts once, again only after rising by `echo_rise`, anew after lapsing."""
    echo = EchoAlerts(AlertConfig(echo_min_segregation=0.05, echo_min_z=3.0, echo_rise=0.1))
    assert echo.judge(_layer(0.2, 2.0, 0)) is None  # not significant
    onset = echo.judge(_layer(0.2, 5.0, 5))
    assert onset is not None
    assert onset.subject == "retweet layer"
    assert echo.judge(_layer(0.25, 6.0, 10)) is None
    rise = echo.judge(_layer(0.35, 8.0, 15))
    assert rise is not None
    assert rise.evidence["previous_level"] == 0.2
    assert echo.judge(_layer(None, None, 20)) is None  # suppressed: lapses
    assert echo.judge(_layer(0.2, 5.0, 25)) is not None


def test_clusters_keep_their_name_while_they_overlap() -> None:
    """A cluster that grows keeps its key; a disjoint one gets a new key; names are order-free."""
    names = ClusterNames(overlap=0.5)
    [(first, new)] = names.name([["a", "b", "c"]])
    assert new
    assert first == cluster_key(["c", "b", "a"])
    [(grown, new_again), (other, other_new)] = names.name([["a", "b", "c", "d"], ["x", "y", "z"]])
    assert (grown, new_again) == (first, False)
    assert other_new
    assert other != first
    restored = ClusterNames.restore(0.5, names.snapshot())
    assert restored.name([["x", "y", "z"]]) == [(other, False)]


def test_a_coordination_alert_carries_the_cluster_evidence() -> None:
    """The alert names the cluster's key and repeats its numbers."""
    record = CoordinationRecord(
        at=T0,
        trigger=Trigger.BOUNDARY,
        key="cabc",
        accounts=("a", "b", "c"),
        shared_tweets=("1", "2", "3"),
        co_retweets=9,
        median_lag_seconds=1.5,
        expected=0.1,
        lift=90.0,
        time_window=timedelta(seconds=10),
        bot_likeness={"median": 0.4},
        **COMMON,
    )
    alert = coordination_alert(record)
    assert alert.key == "coordinated_amplification:cabc"
    assert alert.evidence["lift"] == 90.0
    assert alert.to_json()["type"] == "coordinated_amplification"
