"""Metric records, as published on the metrics topic and written by `resonance analyze`.

Every record is a frozen dataclass with a `kind` and the event time `at` it describes, and says
how it was computed (window span, allowed lateness, what triggered it). `to_json` gives the one
wire form, used live and offline alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

import orjson

from models.duration import format_duration, parse_duration


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


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return _duration_text(value)
    return value


@functools.cache
def _kind_prefix(kind: str) -> bytes:
    return b'{"kind":' + orjson.dumps(kind) + b","


def _span_text(value: Any) -> str:
    """The fallback orjson calls for what it cannot write itself: only spans occur in records."""
    if isinstance(value, timedelta):
        return _duration_text(value)
    raise TypeError(f"a record field holds {type(value).__name__}, which has no JSON form")


@functools.cache
def _field_plans(record_type: Any) -> tuple[tuple[str, bool], ...]:  # a dataclass type (hashable)
    """Each field's name, and whether its value may need `_plain` (a time, a span, or untyped):
    the rest go to orjson as they are. A final `analyze` writes hundreds of thousands of records,
    and testing every value's type was most of their cost.
    """
    needs = ("datetime", "timedelta", "Any", "object")
    return tuple((f.name, any(word in str(f.type) for word in needs)) for f in fields(record_type))


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
            name: _plain(getattr(self, name)) if timely else getattr(self, name)
            # a class is hashable, but mypy reads dataclass __eq__ as making it not
            for name, timely in _field_plans(type(self))  # type: ignore[arg-type]
        }

    def to_bytes(self) -> bytes:
        """The record's wire bytes: `orjson.dumps(self.to_json())`, byte for byte.

        Written by orjson straight from the dataclass (its fields in the same order, times in
        UTC with `Z`, spans through `_duration_text`), with `kind` spliced in first: several
        times faster than building the dict, and a final `analyze` writes hundreds of thousands.
        """
        return _kind_prefix(self.kind) + orjson.dumps(self, default=_span_text, option=orjson.OPT_UTC_Z)[1:]


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagCount(Record):
    """Uses of one hashtag (by distinct tweets) and the distinct users behind them, over the
    window `[at - window, at)` in event time, and `burst_z`: the hashtag's count in the latest
    closed burst bucket as a z-score against its own recent history (`streams.hashtags.bursts`; None when
    it was not used in that bucket or no bucket has closed yet).
    """

    kind: ClassVar[str] = "hashtag"
    tag: str
    count: int
    users: int
    burst_z: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagUse:
    """One tweet's use of one hashtag, as routed between workers (by tag; `models.wire.batch`)."""

    tag: str
    user_id: str
    at: datetime


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
class CascadeTree(Record):
    """A bounded snapshot of one of the largest live cascades' tree, for drawing it.

    `nodes` are the cascade's first tweets in the order they joined it, the root first, at most
    a bound (`truncated` says when the cascade has more: `size` is the whole cascade's); parents
    join before their children, so those first tweets form a tree. `parents[i]` is the index in
    `nodes` of the parent of `nodes[i + 1]`.
    """

    kind: ClassVar[str] = "cascade_tree"
    root_id: str
    root_user_id: str
    size: int
    nodes: tuple[str, ...]
    parents: tuple[int, ...]
    truncated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluenceRecord(Record):
    """One user's engaged influence over the window (see `streams.influence.tracker` for the formula)."""

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
    likes_received: int = 0  # Bluesky's likes; 0 for networks whose data carries none


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """One community or camp of a layer: its `id` (stable between refreshes), `size` (users),
    `top_users` by engaged-influence rank, `top_hashtags` by users who used them in the window, and
    `insularity`: the share of its members' endorsements (retweets) that stay inside it (None
    without any).
    """

    id: int
    size: int
    top_users: tuple[str, ...]
    top_hashtags: tuple[str, ...]
    insularity: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunitiesRecord(Record):
    """The communities of one interaction layer over the window, and how polarized its camps are.

    `layer` is `retweet` (endorsement: who retweets whom) or `conversation` (replies and
    mentions). `communities` are fine (modularity Leiden), `camps` coarse (the same at a low
    resolution); `count` is how many communities there are, the lists hold the largest.
    `modularity` is the fine partition's, `camp_modularity` the camps' (both at resolution 1, so
    comparable with Conover et al.'s two-cluster modularity); `ei_index` and `assortativity` are
    of camp labels
    (Krackhardt & Stern 1988; Newman 2003). `rwc` is the exact Random Walk Controversy score
    (Garimella et al. 2018) of a balanced METIS bisection of the layer's threshold graph,
    `rwc_null_mean` its mean over degree-preserving rewirings scored the same way, and
    `segregation` = `rwc` - `rwc_null_mean`: segregation beyond chance, with `rwc_z` its
    significance. These are None, with the reason in `suppressed`, when the graph is too small
    or one hub dominates it. `two_camp_share`: the fraction of users in the two largest camps.
    `method` states the algorithms and parameters.
    """

    kind: ClassVar[str] = "communities"
    layer: str
    users: int
    edges: int
    count: int
    modularity: float | None
    camp_modularity: float | None
    ei_index: float | None
    assortativity: float | None
    rwc: float | None
    rwc_null_mean: float | None
    segregation: float | None
    rwc_z: float | None
    rwc_users: int
    suppressed: str | None
    two_camp_share: float
    communities: tuple[Group, ...]
    camps: tuple[Group, ...]
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UserGraph(Record):
    """A bounded snapshot of the retweet layer for drawing its echo chambers: the `users` best
    ranked by engaged influence, each `(user_id, score, community, camp)` (community and camp
    from the latest refresh, None for a user it did not place), and the heaviest retweet `edges`
    among them, `(retweeter, retweeted, retweets)`. `active_users` and `active_edges` count the
    whole layer.
    """

    kind: ClassVar[str] = "user_graph"
    layer: str
    users: tuple[tuple[str, float, int | None, int | None], ...]
    edges: tuple[tuple[str, str, int], ...]
    active_users: int
    active_edges: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagPolarization(Record):
    """How one hashtag's users split over the camps of the retweet layer.

    `camp_shares`: (camp id, share of the hashtag's users in the layer who are in that camp), the
    largest first; `leaning_entropy`: the Shannon entropy of that split in bits (0: one camp);
    `segregation`, `rwc_z`, `suppressed`: the hashtag's own calibrated segregation, on the threshold
    retweet graph among its users (see `CommunitiesRecord`).
    """

    kind: ClassVar[str] = "hashtag_polarization"
    tag: str
    users: int
    camp_shares: tuple[tuple[int, float], ...]
    leaning_entropy: float | None
    segregation: float | None
    rwc_z: float | None
    suppressed: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinationRecord(Record):
    """One cluster of accounts that repeatedly retweet the same tweets within `time_window` of
    each other (co-retweet network, Pacheco et al. 2021), with the evidence: the accounts, the
    tweets they co-retweeted, how many co-retweets and their median lag, the number chance would
    give (`expected`) and `lift` = co_retweets / expected. `bot_likeness` is the distribution of
    the accounts' profile heuristic (BotRuler), never a label. `key` names the cluster stably.
    """

    kind: ClassVar[str] = "coordination"
    key: str
    accounts: tuple[str, ...]
    shared_tweets: tuple[str, ...]
    co_retweets: int
    median_lag_seconds: float
    expected: float
    lift: float
    time_window: timedelta
    bot_likeness: dict[str, Any]


class AlertType(StrEnum):
    """The conditions Resonance alerts on."""

    VIRAL_CASCADE = "viral_cascade"
    HASHTAG_BURST = "hashtag_burst"
    ECHO_CHAMBER = "echo_chamber"
    COORDINATED_AMPLIFICATION = "coordinated_amplification"


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert(Record):
    """One condition met in the stream at event time `at`. `key` is stable for the condition:
    one condition raises one alert, not one per refresh. `evidence` holds the numbers that met
    the thresholds, and the thresholds.
    """

    kind: ClassVar[str] = "alert"
    type: AlertType
    severity: Severity
    subject: str
    key: str
    evidence: dict[str, Any]


_RECORD_TYPES: dict[str, type[Record]] = {
    record.kind: record
    for record in (
        HashtagCount,
        HashtagGraph,
        CascadeRecord,
        CascadeTree,
        InfluenceRecord,
        InfluenceSummary,
        CommunitiesRecord,
        UserGraph,
        HashtagPolarization,
        CoordinationRecord,
        Alert,
    )
}

RECORD_KINDS: tuple[str, ...] = tuple(_RECORD_TYPES)
"""Every `kind` a record can have, as `resonance subscribe --kind` accepts them."""


def record_from_json(plain: dict[str, Any]) -> Record:
    """The record whose wire form (`Record.to_json`, or `to_bytes` decoded) is `plain`: its
    inverse. Raises KeyError for an unknown kind or a missing field.

    >>> from datetime import UTC
    >>> record = HashtagCount(
    ...     at=datetime(2026, 12, 7, tzinfo=UTC), window=timedelta(minutes=15),
    ...     lateness=timedelta(0), trigger=Trigger.BOUNDARY, tag="climate", count=3, users=2,
    ... )
    >>> record_from_json(orjson.loads(record.to_bytes())) == record
    True
    """
    record_type = _RECORD_TYPES[plain["kind"]]
    # a class is hashable, but mypy reads dataclass __eq__ as making it not
    parsers = _field_parsers(record_type)  # type: ignore[arg-type]
    return record_type(**{name: parse(plain[name]) for name, parse in parsers})


@functools.cache
def _field_parsers(record_type: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each field's name, and how to turn its JSON value back into the field's type."""
    hints = get_type_hints(record_type)
    return tuple((f.name, _parser(hints[f.name])) for f in fields(record_type))


def _parser(hint: Any) -> Callable[[Any], Any]:  # noqa: PLR0911 - one return per kind of type
    """How a JSON value becomes a value of type `hint` (the types records' fields have)."""
    origin, arguments = get_origin(hint), get_args(hint)
    if hint is datetime:
        return datetime.fromisoformat
    if hint is timedelta:
        return parse_duration
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, type) and is_dataclass(hint):
        return lambda value: hint(**{name: parse(value[name]) for name, parse in _field_parsers(hint)})
    if origin in (UnionType, Union):
        (inner,) = [_parser(argument) for argument in arguments if argument is not type(None)]
        return lambda value: None if value is None else inner(value)
    if origin is tuple and arguments[-1:] == (Ellipsis,):
        item = _parser(arguments[0])
        return lambda value: tuple(map(item, value))
    if origin is tuple:
        items = [_parser(argument) for argument in arguments]
        return lambda value: tuple(parse(part) for parse, part in zip(items, value, strict=True))
    return _as_is  # str, int, float, bool, and dict[str, Any] (plain JSON data already)


def _as_is(value: Any) -> Any:
    return value
