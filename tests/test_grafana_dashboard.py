"""The provisioned Grafana dashboard: well-formed, and every metric it queries is exported."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agents import loop_lag
from agents.instruments import Instruments
from models.records import (
    Alert,
    AlertType,
    CascadeRecord,
    CommunitiesRecord,
    CoordinationRecord,
    HashtagCount,
    InfluenceRecord,
    InfluenceSummary,
    Record,
    Severity,
    Trigger,
)

DASHBOARD = Path(__file__).resolve().parent.parent / "grafana" / "dashboards" / "resonance-overview.json"
GRID_COLUMNS = 24
METRIC_NAME = re.compile(r"\b(?:resonance|faust)_\w+")

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
COMMON: dict[str, Any] = {
    "at": T0,
    "window": timedelta(minutes=15),
    "lateness": timedelta(seconds=30),
    "trigger": Trigger.BOUNDARY,
}

# One record of every kind that drives a gauge, each with every optional number set, in the
# order a refresh publishes them: a view's users then its summary, a layer's communities before
# the coordination clusters (they reset those).
RECORDS: tuple[Record, ...] = (
    HashtagCount(**COMMON, tag="tag", count=3, users=2, burst_z=1.5),
    InfluenceRecord(
        **COMMON,
        user_id="u1",
        rank=1,
        score=0.9,
        followers=100,
        retweets_received=4,
        quotes_received=1,
        replies_received=1,
        mentions_received=2,
        cascades_started=1,
        mean_cascade_size=5.0,
        mean_structural_virality=1.6,
        pagerank=0.2,
        micro_influencer=False,
    ),
    InfluenceSummary(
        **COMMON,
        spearman_followers_retweets=0.4,
        spearman_followers_retweets_top10=0.2,
        spearman_followers_retweets_top1=0.1,
        collective_share=0.7,
        active_users=10,
        micro_influencers=1,
    ),
    CascadeRecord(
        **COMMON,
        root_id="t1",
        root_user_id="u1",
        size=5,
        depth=2,
        max_breadth=3,
        structural_virality=1.6,
        broadcast_share=0.75,
        growth_rate_per_hour=4.0,
        depth_percentile=0.5,
        virality_percentile=0.5,
        reconstruction="time",
    ),
    CommunitiesRecord(
        **COMMON,
        layer="retweet",
        users=10,
        edges=12,
        count=2,
        modularity=0.4,
        camp_modularity=0.35,
        ei_index=-0.6,
        assortativity=0.7,
        rwc=0.5,
        rwc_null_mean=0.1,
        segregation=0.4,
        rwc_z=3.0,
        rwc_users=10,
        suppressed=None,
        two_camp_share=0.9,
        communities=(),
        camps=(),
        method="leiden",
    ),
    CoordinationRecord(
        **COMMON,
        key="u1|u2",
        accounts=("u1", "u2"),
        shared_tweets=("t1", "t2"),
        co_retweets=2,
        median_lag_seconds=3.0,
        expected=0.01,
        lift=200.0,
        time_window=timedelta(seconds=10),
        bot_likeness={},
    ),
    Alert(
        **COMMON,
        type=AlertType.VIRAL_CASCADE,
        severity=Severity.WARNING,
        subject="t1",
        key="viral_cascade:t1",
        evidence={},
    ),
)


@pytest.fixture(scope="module")
def panels() -> list[dict[str, Any]]:
    """Every panel of the dashboard as Grafana provisions it, including those nested in rows."""
    top = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return top + [child for panel in top for child in panel.get("panels", [])]


@pytest.fixture(scope="module")
def exported_names() -> set[str]:
    """Sample names a worker's registry exposes once one record of every gauge-driving kind is in."""
    registry = CollectorRegistry()
    instruments = Instruments.create(registry, top_n=5)
    for record in RECORDS:
        instruments.published(record)
    instruments.messages.inc()
    instruments.accepted.inc()
    instruments.duplicates.inc()
    instruments.rejected.labels("malformed").inc()
    instruments.late.labels("hashtag", "admitted").inc()
    instruments.checkpoint_seconds.labels("conversation", "encode").observe(0.2)
    instruments.checkpoint_bytes.labels("conversation").set(1e6)
    instruments.snapshot_bytes.labels("conversation", "stored").set(1e5)
    instruments.idle_view_seconds.labels("compute").observe(0.2)
    instruments.stage_delay.labels("accept").observe(0.03)
    loop_lag.watcher(registry)  # registers the loop's lag instruments (the watching is not started)
    text = generate_latest(registry).decode()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


def test_panel_ids_are_unique(panels: list[dict[str, Any]]) -> None:
    """No two panels share an id (Grafana keys panel state and links on it)."""
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))


def test_panels_fit_the_grid_without_overlapping(panels: list[dict[str, Any]]) -> None:
    """Every panel lies within the 24 columns and no two panels' rectangles intersect."""
    boxes = {panel["id"]: panel["gridPos"] for panel in panels}
    for box in boxes.values():
        assert box["x"] >= 0
        assert box["y"] >= 0
        assert box["w"] > 0
        assert box["h"] > 0
        assert box["x"] + box["w"] <= GRID_COLUMNS
    overlapping = [
        (a, b)
        for (a, p), (b, q) in itertools.combinations(boxes.items(), 2)
        if p["x"] < q["x"] + q["w"]
        and q["x"] < p["x"] + p["w"]
        and p["y"] < q["y"] + q["h"]
        and q["y"] < p["y"] + p["h"]
    ]
    assert overlapping == []


def test_every_queried_resonance_metric_is_exported(
    panels: list[dict[str, Any]], exported_names: set[str]
) -> None:
    """Every `resonance_*` name in a panel query is a sample name the worker's instruments export."""
    queried = {
        name
        for panel in panels
        for target in panel.get("targets", [])
        for name in METRIC_NAME.findall(target.get("expr", ""))
    }
    # faust_* metrics come from Faust's Prometheus sensor, registered only in a running worker,
    # so only the project's own resonance_* names can be checked against the instruments here.
    resonance = {name for name in queried if name.startswith("resonance_")}
    assert resonance, "the dashboard queries no resonance_* metric: is the regex still right?"
    assert sorted(resonance - exported_names) == []


def test_the_influence_gauges_hold_the_latest_view_published_users_first() -> None:
    """A view publishes its users by rank, then its summary: the score gauges keep that view's
    users (the summary does not empty them), and the next view's rank 1 replaces them.
    """
    registry = CollectorRegistry()
    instruments = Instruments.create(registry, top_n=5)
    user, summary = RECORDS[1], RECORDS[2]
    assert isinstance(user, InfluenceRecord)
    assert isinstance(summary, InfluenceSummary)
    later = dataclasses.replace(user, user_id="u2", at=T0 + timedelta(minutes=1))
    for record in (user, summary):
        instruments.published(record)
    assert registry.get_sample_value("resonance_influence_score", {"user_id": "u1"}) == 0.9
    instruments.published(later)
    assert registry.get_sample_value("resonance_influence_score", {"user_id": "u1"}) is None
    assert registry.get_sample_value("resonance_influence_score", {"user_id": "u2"}) == 0.9
