"""The dashboard's store: what the page shows, kept bounded, built from published records.

The store holds the records' JSON as published (the metrics and alerts topics are its input,
`agents.dashboard.feed`): the latest record per subject, ring buffers for the series drawn over
time, and the last `ALERTS_KEPT` alerts. Every collection has a bound, whatever the stream: a
long run costs no more memory than a short one. `view()` is the document served as
`/dashboard/live.json` (`LIVE_VERSION` names its layout; the README documents it).

Records from several workers arrive by several partitions, so the store never relies on their
order across subjects: a view (the influence leaderboard, a refresh's coordination clusters) is
the set of records sharing the latest event time `at` of their kind.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

LIVE_VERSION = 1
LIVE_MAX_BYTES = 256 * 1024  # one update of the page, at most
ALERTS_KEPT = 500
ALERTS_MIN_SHOWN = 100  # an update too large for every alert still carries the newest
SERIES_POINTS = 720  # per series: an hour of points at the default 5 s refresh
HASHTAGS_KEPT = 500  # the most used; a hashtag leaving the window (count 0) leaves the store
HASHTAGS_SHOWN = 200
CASCADES_KEPT = 200  # the largest live cascades
CASCADES_SHOWN = 50
TREES_KEPT = 10  # the trees of the largest cascades (the worker publishes 5 per view)
USERS_SHOWN = 50
CLUSTERS_SHOWN = 50
ACCOUNTS_SHOWN = 50  # per coordination cluster (the count says how many there are)


Json = dict[str, Any]


def _newest(records: dict[str, Json]) -> list[Json]:
    """The records sharing the latest event time among `records` (one published view)."""
    if not records:
        return []
    latest = max(record["at"] for record in records.values())
    return [record for record in records.values() if record["at"] == latest]


def _keep_largest(records: dict[str, Json], keep: int, size: str) -> None:
    """Forget all but the `keep` records largest by `size` once there are twice as many."""
    if len(records) > 2 * keep:
        largest = sorted(records.items(), key=lambda item: (-(item[1].get(size) or 0), item[0]))[:keep]
        records.clear()
        records.update(largest)


@dataclass(slots=True)
class Series:
    """A ring buffer of points (wall or event time, then values), oldest first."""

    names: tuple[str, ...]
    points: deque[tuple[Any, ...]] = field(default_factory=lambda: deque(maxlen=SERIES_POINTS))

    def add(self, at: Any, record: Json) -> None:
        """Append one point read from `record`'s fields `names`; a repeated `at` replaces the last."""
        point = (at, *(record.get(name) for name in self.names))
        if self.points and self.points[-1][0] == at:
            self.points[-1] = point
        else:
            self.points.append(point)

    def to_json(self) -> Json:
        """Columns, as uPlot draws them: `at` and one list per name."""
        columns = (
            list(zip(*self.points, strict=True)) if self.points else [() for _ in range(len(self.names) + 1)]
        )
        return {
            "at": list(columns[0]),
            **{name: list(col) for name, col in zip(self.names, columns[1:], strict=True)},
        }


@dataclass(slots=True)
class Store:
    """The latest published records, bounded (see the module's docstring)."""

    hashtags: dict[str, Json] = field(default_factory=dict)
    polarization: dict[str, Json] = field(default_factory=dict)
    hashtag_graph: Json | None = None
    cascades: dict[str, Json] = field(default_factory=dict)
    trees: dict[str, Json] = field(default_factory=dict)
    user_graph: Json | None = None
    users: dict[str, Json] = field(default_factory=dict)
    summary: Json | None = None
    layers: dict[str, Json] = field(default_factory=dict)
    clusters: dict[str, Json] = field(default_factory=dict)
    alerts: deque[Json] = field(default_factory=lambda: deque(maxlen=ALERTS_KEPT))
    influence_series: Series = field(
        default_factory=lambda: Series(
            (
                "spearman_followers_retweets",
                "spearman_followers_retweets_top10",
                "spearman_followers_retweets_top1",
                "collective_share",
            )
        )
    )
    layer_series: dict[str, Series] = field(default_factory=dict)
    records_seen: int = 0
    latest_at: str | None = None  # the latest event time any record describes
    received_at: float | None = None  # wall clock (seconds) when the latest record came

    def add(self, record: Json, received_at: float) -> None:
        """Take one published record (its JSON), received at wall time `received_at`."""
        self.records_seen += 1
        self.received_at = received_at
        at = record.get("at")
        if isinstance(at, str) and (self.latest_at is None or at > self.latest_at):
            self.latest_at = at
        handler = _HANDLERS.get(record.get("kind", ""))
        if handler is not None:
            handler(self, record)

    def _hashtag(self, record: Json) -> None:
        if record["count"]:
            self.hashtags[record["tag"]] = record
            _keep_largest(self.hashtags, HASHTAGS_KEPT, "count")
        else:
            self.hashtags.pop(record["tag"], None)

    def _polarization(self, record: Json) -> None:
        self.polarization[record["tag"]] = record
        _keep_largest(self.polarization, HASHTAGS_KEPT, "users")

    def _hashtag_graph(self, record: Json) -> None:
        if self.hashtag_graph is None or record["at"] >= self.hashtag_graph["at"]:
            self.hashtag_graph = record

    def _cascade(self, record: Json) -> None:
        self.cascades[record["root_id"]] = record
        _keep_largest(self.cascades, CASCADES_KEPT, "size")

    def _tree(self, record: Json) -> None:
        self.trees[record["root_id"]] = record
        if len(self.trees) > TREES_KEPT:  # keep the largest, the latest first among equals
            keep = sorted(self.trees.values(), key=lambda r: (r["size"], r["at"]), reverse=True)
            self.trees = {r["root_id"]: r for r in keep[:TREES_KEPT]}

    def _user_graph(self, record: Json) -> None:
        if self.user_graph is None or record["at"] >= self.user_graph["at"]:
            self.user_graph = record

    def _influence(self, record: Json) -> None:
        self.users[record["user_id"]] = record
        if len(self.users) > 4 * USERS_SHOWN:  # keep the latest view's best ranked users only
            best = sorted(_newest(self.users), key=lambda r: r["rank"])[:USERS_SHOWN]
            self.users = {r["user_id"]: r for r in best}

    def _summary(self, record: Json) -> None:
        if self.summary is None or record["at"] >= self.summary["at"]:
            self.summary = record
            self.influence_series.add(record["at"], record)

    def _communities(self, record: Json) -> None:
        layer = record["layer"]
        if layer not in self.layers or record["at"] >= self.layers[layer]["at"]:
            self.layers[layer] = record
            series = self.layer_series.setdefault(
                layer, Series(("segregation", "rwc_z", "two_camp_share", "modularity", "ei_index"))
            )
            series.add(record["at"], record)

    def _coordination(self, record: Json) -> None:
        self.clusters[record["key"]] = record
        if len(self.clusters) > 4 * CLUSTERS_SHOWN:  # keep the latest refresh's strongest clusters
            best = sorted(_newest(self.clusters), key=lambda r: (-r["lift"], r["key"]))[:CLUSTERS_SHOWN]
            self.clusters = {r["key"]: r for r in best}

    def _alert(self, record: Json) -> None:
        self.alerts.append(record)

    def view(self, header: Json, now: float) -> Json:
        """The live document (`/dashboard/live.json`): `header` (this worker's own numbers) and
        everything the store holds, at wall time `now`.
        """
        users = sorted(_newest(self.users), key=lambda r: r["rank"])[:USERS_SHOWN]
        by_followers = sorted(users, key=lambda r: (-(r.get("followers") or 0), r["rank"]))
        follower_rank = {r["user_id"]: position for position, r in enumerate(by_followers, 1)}
        hashtags = sorted(self.hashtags.values(), key=lambda r: (-r["count"], r["tag"]))[:HASHTAGS_SHOWN]
        return {
            "version": LIVE_VERSION,
            "now": now,
            "waiting": self.records_seen == 0,
            "stale_seconds": None if self.received_at is None else max(0.0, now - self.received_at),
            "records_seen": self.records_seen,
            "event_time": self.latest_at,
            "header": header,
            "influence": {
                "summary": self.summary,
                "series": self.influence_series.to_json(),
                "leaderboard": [
                    _pick(r, _USER_FIELDS)
                    | {
                        "follower_rank": follower_rank[r["user_id"]],
                        "rank_shift": follower_rank[r["user_id"]] - r["rank"],
                    }
                    for r in users
                ],
            },
            "hashtags": [
                _pick(r, ("tag", "count", "users", "burst_z", "at"))
                | _leaning(self.polarization.get(r["tag"]))
                for r in hashtags
            ],
            "hashtag_graph": self.hashtag_graph
            and _pick(self.hashtag_graph, ("at", "nodes", "edges", "top_pairs")),
            "cascades": [
                _pick(r, _CASCADE_FIELDS)
                for r in sorted(self.cascades.values(), key=lambda r: (-r["size"], r["root_id"]))[
                    :CASCADES_SHOWN
                ]
            ],
            "trees": {
                root: _pick(r, ("root_id", "root_user_id", "size", "nodes", "parents", "truncated", "at"))
                for root, r in self.trees.items()
            },
            "user_graph": self.user_graph
            and _pick(self.user_graph, ("layer", "users", "edges", "active_users", "active_edges", "at")),
            "layers": [
                _pick(r, _LAYER_FIELDS) | {"series": self.layer_series[layer].to_json()}
                for layer, r in sorted(self.layers.items())
            ],
            "coordination": [
                _pick(r, _CLUSTER_FIELDS)
                | {"accounts": r["accounts"][:ACCOUNTS_SHOWN], "account_count": len(r["accounts"])}
                | {"shared_tweet_count": len(r["shared_tweets"])}
                for r in sorted(_newest(self.clusters), key=lambda r: (-r["lift"], r["key"]))[:CLUSTERS_SHOWN]
            ],
            "alerts": list(reversed(self.alerts)),  # newest first
        }


_USER_FIELDS = (
    "user_id",
    "rank",
    "score",
    "followers",
    "retweets_received",
    "quotes_received",
    "replies_received",
    "cascades_started",
    "mean_cascade_size",
    "micro_influencer",
    "at",
)
_CASCADE_FIELDS = (
    "root_id",
    "root_user_id",
    "size",
    "depth",
    "max_breadth",
    "structural_virality",
    "depth_percentile",
    "virality_percentile",
    "growth_rate_per_hour",
    "at",
)
_LAYER_FIELDS = (
    "layer",
    "users",
    "edges",
    "count",
    "segregation",
    "rwc_z",
    "two_camp_share",
    "modularity",
    "ei_index",
    "suppressed",
    "at",
)
_CLUSTER_FIELDS = ("key", "co_retweets", "median_lag_seconds", "expected", "lift", "bot_likeness", "at")


def _pick(record: Json, names: tuple[str, ...]) -> Json:
    return {name: record.get(name) for name in names}


def _leaning(polarization: Json | None) -> Json:
    """A hashtag's camp shares and leaning entropy (None before the first refresh)."""
    if polarization is None:
        return {"camp_shares": None, "leaning_entropy": None}
    return {"camp_shares": polarization["camp_shares"], "leaning_entropy": polarization["leaning_entropy"]}


_HANDLERS = {
    "hashtag": Store._hashtag,  # noqa: SLF001 - the store's own dispatch table
    "hashtag_polarization": Store._polarization,  # noqa: SLF001
    "hashtag_graph": Store._hashtag_graph,  # noqa: SLF001
    "cascade": Store._cascade,  # noqa: SLF001
    "cascade_tree": Store._tree,  # noqa: SLF001
    "user_graph": Store._user_graph,  # noqa: SLF001
    "influence": Store._influence,  # noqa: SLF001
    "influence_summary": Store._summary,  # noqa: SLF001
    "communities": Store._communities,  # noqa: SLF001
    "coordination": Store._coordination,  # noqa: SLF001
    "alert": Store._alert,  # noqa: SLF001
}


def encode_bounded(document: Json, limit: int = LIVE_MAX_BYTES) -> bytes:
    """`document` as JSON of at most `limit` bytes. What is left out until it fits, in order: the
    oldest alerts down to `ALERTS_MIN_SHOWN` (the feed shows the newest), the cascade trees, the
    rest of the alerts, the user graph. `alerts_left_out` says how many alerts were.
    """
    alerts = document["alerts"]

    def alerts_kept(count: int) -> Callable[[Json], Json]:
        return lambda doc: (
            doc | {"alerts": alerts[:count], "alerts_left_out": len(alerts) - min(count, len(alerts))}
        )

    def without(name: str, empty: Any) -> Callable[[Json], Json]:
        return lambda doc: doc | {name: empty}

    reductions: tuple[Callable[[Json], Json], ...] = (
        alerts_kept(250),
        alerts_kept(ALERTS_MIN_SHOWN),
        without("trees", {}),
        alerts_kept(ALERTS_MIN_SHOWN // 4),
        alerts_kept(0),
        without("user_graph", None),
    )
    encoded = orjson.dumps(document)
    for reduce in reductions:
        if len(encoded) <= limit:
            break
        document = reduce(document)
        encoded = orjson.dumps(document)
    return encoded
