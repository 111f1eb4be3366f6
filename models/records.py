"""Metric records, as published on the metrics topic and written by `resonance analyze`.

Every record is a frozen dataclass with a `kind` and the event time `at` it describes, and says
how it was computed (window span, allowed lateness, what triggered it). `to_json` gives the one
wire form, used live and offline alike.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

import orjson

from models.duration import format_duration


class Trigger(StrEnum):
    """Why a record was emitted.

    `boundary`: the watermark passed a multiple of the emission cadence; the record covers the
    window ending there and is final and deterministic. `idle`: the input went quiet, so a view
    of everything received so far is published (provisional: later events may change it).
    `change`: a cascade grew (live dashboards follow cascades retweet by retweet).
    `end`: the end of an offline input; the same view as `idle`, final.
    """

    BOUNDARY = "boundary"
    CHANGE = "change"
    IDLE = "idle"
    END = "end"


@functools.cache
def _duration_text(span: timedelta) -> str:
    # Every record of a run carries the same few spans: write each once.
    return format_duration(span)


@functools.cache
def _field_names(record_type: Any) -> tuple[str, ...]:  # a dataclass type (Any: hashable for the cache)
    return tuple(f.name for f in fields(record_type))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return _duration_text(value)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Fields shared by every metric record."""

    kind: ClassVar[str]
    at: datetime
    window: timedelta
    lateness: timedelta
    trigger: Trigger

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict, `kind` first."""
        return {"kind": self.kind} | {
            name: _plain(getattr(self, name))
            # a class is hashable, but mypy reads dataclass __eq__ as making it not
            for name in _field_names(type(self))  # type: ignore[arg-type]
        }

    def to_bytes(self) -> bytes:
        """The record's wire bytes (orjson)."""
        return orjson.dumps(self.to_json())


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagCount(Record):
    """Uses of one hashtag (by distinct tweets) and the distinct users behind them, over the
    window `[at - window, at)` in event time, and `burst_z`: the hashtag's count in the latest
    closed burst bucket as a z-score against its own recent history (`streams.bursts`; None when
    it was not used in that bucket or no bucket has closed yet).
    """

    kind: ClassVar[str] = "hashtag"
    tag: str
    count: int
    users: int
    burst_z: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagUse:
    """One tweet's use of one hashtag, as routed between workers (keyed by tag)."""

    tag: str
    user_id: str
    at: datetime

    def to_bytes(self) -> bytes:
        """Internal wire form: compact JSON with epoch milliseconds."""
        return orjson.dumps(
            {"tag": self.tag, "user_id": self.user_id, "at_ms": int(self.at.timestamp() * 1000)}
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> HashtagUse:
        """Inverse of `to_bytes`."""
        data = orjson.loads(raw)
        return cls(
            tag=data["tag"],
            user_id=data["user_id"],
            at=datetime.fromtimestamp(data["at_ms"] / 1000, tz=UTC),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagGraph(Record):
    """The rolling hashtag co-occurrence graph over `[at - window, at)`: its size and heaviest pairs
    (weight = tweets using both hashtags).
    """

    kind: ClassVar[str] = "hashtag_graph"
    nodes: int
    edges: int
    top_pairs: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CascadeRecord(Record):
    """One retweet cascade's shape (Goel et al. 2016; Vosoughi et al. 2018), with depth and
    structural virality also as percentiles among cascades of similar size (Juul & Ugander 2021).

    `reconstruction` names how each retweet's parent was chosen when the data did not say.
    """

    kind: ClassVar[str] = "cascade"
    root_id: str
    root_user_id: str
    size: int
    depth: int
    max_breadth: int
    structural_virality: float | None
    broadcast_share: float | None
    growth_rate_per_hour: float
    depth_percentile: float | None
    virality_percentile: float | None
    reconstruction: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluenceRecord(Record):
    """One user's engaged influence over the window (see `streams.influence` for the formula)."""

    kind: ClassVar[str] = "influence"
    user_id: str
    rank: int
    score: float
    followers: int | None
    retweets_received: int
    quotes_received: int
    replies_received: int
    mentions_received: int
    cascades_started: int
    mean_cascade_size: float | None
    mean_structural_virality: float | None
    pagerank: float
    micro_influencer: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluenceSummary(Record):
    """Is influence popularity? Spearman rank correlation of followers with retweets received
    (Cha et al. 2010), over all active users and the top 10% and 1% by followers, and the share
    of retweets whose attributed parent is outside the top 1% by followers.
    """

    kind: ClassVar[str] = "influence_summary"
    spearman_followers_retweets: float | None
    spearman_followers_retweets_top10: float | None
    spearman_followers_retweets_top1: float | None
    collective_share: float | None
    active_users: int
    micro_influencers: int
