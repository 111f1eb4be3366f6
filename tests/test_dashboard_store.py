"""The dashboard's store: latest record per subject, bounded collections, and a bounded document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from agents.dashboard.store import (
    ALERTS_KEPT,
    CASCADES_KEPT,
    LIVE_MAX_BYTES,
    LIVE_VERSION,
    SERIES_POINTS,
    TREES_KEPT,
    USERS_SHOWN,
    Store,
    encode_bounded,
)
from models.records import (
    Alert,
    AlertType,
    CascadeRecord,
    CascadeTree,
    HashtagCount,
    InfluenceRecord,
    InfluenceSummary,
    Record,
    Severity,
    Trigger,
)

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
NOW = 1_700_000_000.0  # wall clock, seconds


def common(minutes: int = 0) -> dict[str, Any]:
    """The fields every record shares, at `minutes` after T0."""
    return {
        "at": T0 + timedelta(minutes=minutes),
        "window": timedelta(minutes=15),
        "lateness": timedelta(seconds=10),
        "trigger": Trigger.BOUNDARY,
    }


def wire(record: Record) -> dict[str, Any]:
    """A record as the store receives it: its published JSON."""
    return orjson.loads(record.to_bytes())


def user(user_id: str, rank: int, followers: int, minutes: int = 0) -> InfluenceRecord:
    """An influence record with the numbers the leaderboard reads."""
    return InfluenceRecord(
        **common(minutes),
        user_id=user_id,
        rank=rank,
        score=1.0 / rank,
        followers=followers,
        retweets_received=10 * rank,
        quotes_received=0,
        replies_received=0,
        mentions_received=0,
        cascades_started=1,
        mean_cascade_size=3.0,
        mean_structural_virality=1.5,
        pagerank=0.01,
        micro_influencer=followers < 100,
    )


def alert(n: int, evidence_bytes: int = 10) -> Alert:
    """The `n`th alert, with evidence of about `evidence_bytes`."""
    return Alert(
        **common(n),
        type=AlertType.VIRAL_CASCADE,
        severity=Severity.WARNING,
        subject=f"t{n}",
        key=f"viral_cascade:t{n}",
        evidence={"note": "x" * evidence_bytes},
    )


def cascade(root: str, size: int) -> CascadeRecord:
    """A cascade record of `size` tweets rooted at `root`."""
    return CascadeRecord(
        **common(),
        root_id=root,
        root_user_id="u",
        size=size,
        depth=2,
        max_breadth=size - 1,
        structural_virality=1.2,
        broadcast_share=0.9,
        growth_rate_per_hour=3.0,
        depth_percentile=0.5,
        virality_percentile=0.5,
        reconstruction="root",
    )


def summary(minutes: int) -> InfluenceSummary:
    """An influence summary at `minutes` after T0."""
    return InfluenceSummary(
        **common(minutes),
        spearman_followers_retweets=0.1,
        spearman_followers_retweets_top10=0.2,
        spearman_followers_retweets_top1=0.3,
        collective_share=0.6,
        active_users=100,
        micro_influencers=3,
    )


def fed(*records: Record) -> Store:
    """A store that received `records` in order."""
    store = Store()
    for record in records:
        store.add(wire(record), NOW)
    return store


def test_before_any_record_the_document_says_it_is_waiting() -> None:
    """An empty store's document has the version, `waiting` true and no staleness yet."""
    document = Store().view({}, NOW)
    assert document["version"] == LIVE_VERSION
    assert document["waiting"] is True
    assert document["stale_seconds"] is None


def test_staleness_is_the_wall_time_since_the_latest_record() -> None:
    """A record received 42 s ago makes the document 42 s stale and no longer waiting."""
    document = fed(summary(0)).view({}, NOW + 42)
    assert document["waiting"] is False
    assert document["stale_seconds"] == 42


def test_the_latest_record_per_hashtag_is_kept_and_a_zero_count_removes_it() -> None:
    """A hashtag shows its newest count; one that left the window (count 0) is gone."""
    store = fed(
        HashtagCount(**common(0), tag="a", count=3, users=2),
        HashtagCount(**common(1), tag="a", count=5, users=4),
        HashtagCount(**common(0), tag="b", count=1, users=1),
        HashtagCount(**common(1), tag="b", count=0, users=0),
    )
    rows = store.view({}, NOW)["hashtags"]
    assert [(r["tag"], r["count"], r["users"]) for r in rows] == [("a", 5, 4)]


def test_the_leaderboard_is_the_latest_view_with_follower_rank_and_shift() -> None:
    """Users of an older view drop out; follower rank orders the shown users by followers and the
    shift is follower rank minus influence rank.
    """
    store = fed(
        user("old", 1, 10, minutes=0),
        user("a", 1, 50, minutes=1),
        user("b", 2, 500, minutes=1),
        user("c", 3, 5, minutes=1),
    )
    board = store.view({}, NOW)["influence"]["leaderboard"]
    assert [(r["user_id"], r["follower_rank"], r["rank_shift"]) for r in board] == [
        ("a", 2, 1),
        ("b", 1, -1),
        ("c", 3, 0),
    ]


def test_users_of_many_views_stay_bounded() -> None:
    """Hundreds of views of distinct users keep the store's users bounded and show the latest view."""
    store = fed(*(user(f"u{m}-{r}", r, r, minutes=m) for m in range(100) for r in range(1, 21)))
    assert len(store.users) <= 4 * USERS_SHOWN
    board = store.view({}, NOW)["influence"]["leaderboard"]
    assert {r["user_id"] for r in board} == {f"u99-{r}" for r in range(1, 21)}


def test_alerts_keep_the_last_500_newest_first() -> None:
    """After 600 alerts the store holds the last 500, newest first."""
    store = fed(*(alert(n) for n in range(600)))
    subjects = [a["subject"] for a in store.view({}, NOW)["alerts"]]
    assert len(subjects) == ALERTS_KEPT
    assert subjects[0] == "t599"
    assert subjects[-1] == "t100"


def test_cascades_keep_the_largest_within_their_bound() -> None:
    """Thousands of cascades leave at most twice the bound in the store, the largest shown first."""
    store = fed(*(cascade(f"r{n}", n + 2) for n in range(3000)))
    assert len(store.cascades) <= 2 * CASCADES_KEPT
    assert store.view({}, NOW)["cascades"][0]["root_id"] == "r2999"


def test_series_are_ring_buffers_of_the_latest_points() -> None:
    """More summaries than a series holds keep the latest `SERIES_POINTS`, oldest first."""
    store = fed(*(summary(m) for m in range(SERIES_POINTS + 50)))
    series = store.view({}, NOW)["influence"]["series"]
    assert len(series["at"]) == SERIES_POINTS
    assert series["at"][0] == wire(summary(50))["at"]
    assert series["collective_share"][-1] == 0.6


@pytest.mark.parametrize("evidence_bytes", [10, 2_000])
def test_the_document_stays_under_256_kb_with_10000_users_in_the_window(evidence_bytes: int) -> None:
    """10,000 users, 10,000 hashtags, 3,000 cascades and 500 large alerts still encode within the
    bound; alerts left out are counted.
    """
    store = fed(
        *(user(f"user-{n}", n + 1, n) for n in range(10_000)),
        *(HashtagCount(**common(), tag=f"tag{n}", count=n + 1, users=n + 1) for n in range(10_000)),
        *(cascade(f"root-{n}", n + 2) for n in range(3_000)),
        *(alert(n, evidence_bytes) for n in range(ALERTS_KEPT)),
    )
    encoded = encode_bounded(store.view({}, NOW))
    assert len(encoded) <= LIVE_MAX_BYTES
    document = orjson.loads(encoded)
    assert document["alerts"]
    assert len(document["alerts"]) + document.get("alerts_left_out", 0) == ALERTS_KEPT


def tree(root: str, size: int) -> CascadeTree:
    """A star-shaped cascade tree of `size` tweets rooted at `root`."""
    return CascadeTree(
        **common(),
        root_id=root,
        root_user_id="u",
        size=size,
        nodes=(root, *(f"{root}-{n}" for n in range(size - 1))),
        parents=(0,) * (size - 1),
        truncated=False,
    )


def test_the_trees_of_the_largest_cascades_are_kept() -> None:
    """Of many published trees, the store keeps the largest `TREES_KEPT`, with their nodes."""
    store = fed(*(tree(f"r{n}", n + 2) for n in range(30)))
    trees = store.view({}, NOW)["trees"]
    assert sorted(trees) == sorted(f"r{n}" for n in range(30 - TREES_KEPT, 30))
    assert trees["r29"]["nodes"][0] == "r29"
    assert trees["r29"]["parents"] == [0] * 30


def test_trees_are_left_out_before_a_document_outgrows_its_bound() -> None:
    """Trees too large for one update are dropped from it (after old alerts), the rest kept."""
    store = fed(*(tree(f"r{n}", 9_000) for n in range(TREES_KEPT)), alert(1))
    document = orjson.loads(encode_bounded(store.view({}, NOW)))
    assert document["trees"] == {}
    assert len(document["alerts"]) == 1
