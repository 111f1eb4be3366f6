"""The analytics core as one object: every metric of a stream, live or offline.

`Analyzer.observe(event)` takes accepted tweets (each id once) and returns the records due;
`flush()` returns the final records of every kind. The worker and `resonance analyze` run this
same code, so a recording analyzed offline gives the records the live run published.

Time: a watermark (latest event time minus `lateness`) moves every window's end forward in
steps of `tick`; records are due at multiples of `every` (when set) and at `flush`. Cascade
records can also be emitted on every retweet (`cascade_updates`, for live dashboards).
Communities, polarization and coordination (`streams.alerts.watch`) are refreshed at multiples of
`refresh` (when `every` is set), from the window as it stands there, and published `refresh_lag`
later (the work may run elsewhere meanwhile: `streams.refresh`); `flush` publishes every refresh
started and one of its own. Alerts come out when their condition is met: viral cascades are
judged at every tick, bursts with the hashtag records, the structure's with its refresh.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import networkx as nx

from models.event import TweetEvent
from models.records import Alert, CascadeRecord, HashtagGraph, Record, Trigger, UserGraph
from streams.alerts.rules import AlertConfig, Stamp
from streams.alerts.watch import Watch, WatchConfig
from streams.cascades.forest import CascadeForest, CascadeForestConfig
from streams.cascades.orphans import Orphans
from streams.cascades.reconstruction import ReconstructionConfig
from streams.chambers.communities import Partition
from streams.chambers.echo import ChamberConfig
from streams.coordination.coretweets import CoordinationConfig
from streams.hashtags.cooccurrence import CooccurrenceGraph, GraphSummary
from streams.hashtags.counts import HashtagWindowConfig
from streams.hashtags.metrics import HashtagMetrics, HashtagMetricsConfig
from streams.influence.tracker import Influence, InfluenceConfig
from streams.refresh import Compute, Pending, Refreshed, Refresher, inline, ready
from streams.window import Watermark, boundaries, from_ms, to_ms

DEFAULT_TICK = timedelta(minutes=1)
DEFAULT_REFRESH = timedelta(minutes=5)
_EPSILON = timedelta(milliseconds=1)
TREES = 5  # the largest cascades whose trees are published with each periodic view
# The user graph published at each refresh: the best ranked users and the heaviest edges among them.
GRAPH_USERS = 300
GRAPH_EDGES = 1_000
SNAPSHOT_VERSION = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyzerConfig:
    """Every parameter of the core; `build` derives the parts from the few a user sets."""

    hashtags: HashtagMetricsConfig
    cascades: CascadeForestConfig
    influence: InfluenceConfig
    watch: WatchConfig
    every: timedelta | None = None
    refresh: timedelta = DEFAULT_REFRESH
    # Event time from a refresh's boundary to the one that publishes it (None: `refresh`, so
    # that each refresh has until the next one starts).
    refresh_lag: timedelta | None = None
    top: int | None = None
    top_pairs: int = 10
    cascade_updates: bool = False
    include_hashtags: bool = True

    @property
    def tick(self) -> timedelta:
        """How far windows move at a time: the record cadence, or a minute."""
        return self.hashtags.window.every

    @property
    def lag(self) -> timedelta:
        """Event time from a refresh's boundary to the boundary that publishes it."""
        return self.refresh if self.refresh_lag is None else self.refresh_lag

    def __post_init__(self) -> None:
        """Refreshes start and are published at ticks, so their cadence and lag must be multiples
        of the tick; one is published before the next starts, which it warm-starts.
        """
        if self.refresh <= timedelta(0) or self.refresh % self.tick:
            raise ValueError(f"refresh {self.refresh} must be a positive multiple of the tick {self.tick}")
        if not timedelta(0) <= self.lag <= self.refresh or self.lag % self.tick:
            raise ValueError(
                f"refresh lag {self.lag} must be a multiple of the tick {self.tick}, "
                f"from 0 to the refresh {self.refresh}"
            )

    @classmethod
    def build(  # noqa: PLR0913 - each is one user-facing setting
        cls,
        *,
        window: timedelta,
        lateness: timedelta,
        every: timedelta | None = None,
        top: int | None = None,
        reconstruction: ReconstructionConfig | None = None,
        burst_bucket: timedelta = timedelta(minutes=5),
        burst_history: int = 12,
        cascade_updates: bool = False,
        include_hashtags: bool = True,
        refresh: timedelta = DEFAULT_REFRESH,
        refresh_lag: timedelta | None = None,
        alerts: AlertConfig | None = None,
        chambers: ChamberConfig | None = None,
    ) -> AnalyzerConfig:
        """A configuration from the settings users choose. `refresh` and `refresh_lag` are
        rounded up to a multiple of the tick (`every`, or a minute).
        """
        tick = every or DEFAULT_TICK
        refresh = -(-refresh // tick) * tick
        if refresh_lag is not None:
            refresh_lag = -(-refresh_lag // tick) * tick
        return cls(
            hashtags=HashtagMetricsConfig(
                window=HashtagWindowConfig(span=window, lateness=lateness, every=tick),
                burst_bucket=burst_bucket,
                burst_history=burst_history,
            ),
            cascades=CascadeForestConfig(
                reconstruction=reconstruction or ReconstructionConfig(method="deverna"),
                span=window,
                window=window,
                lateness=lateness,
            ),
            influence=InfluenceConfig(span=window, lateness=lateness),
            watch=WatchConfig(
                chambers=chambers or ChamberConfig(),
                coordination=CoordinationConfig(span=window),
                alerts=alerts or AlertConfig(),
            ),
            every=every,
            refresh=refresh,
            refresh_lag=refresh_lag,
            top=top,
            cascade_updates=cascade_updates,
            include_hashtags=include_hashtags,
        )


@dataclass(slots=True)
class Analyzer:
    """Hashtags, their co-occurrence graph, retweet cascades and influence over one stream;
    refreshes run by `refresher` (`streams.refresh`: in place, unless told otherwise).
    """

    config: AnalyzerConfig
    refresher: Refresher = inline
    hashtags: HashtagMetrics = field(init=False)
    graph: CooccurrenceGraph = field(init=False)
    cascades: CascadeForest = field(init=False)
    influence: Influence = field(init=False)
    watch: Watch = field(init=False)
    _watermark: Watermark = field(init=False)
    _orphans: Orphans = field(init=False)
    _ticked: datetime | None = None
    _every: timedelta = field(init=False)  # the tick, read once per event
    _touched: set[str] = field(default_factory=set)  # cascades changed since the last tick
    _pending: list[Pending] = field(default_factory=list)  # refreshes started, not yet published
    partitions: dict[str, Partition] = field(default_factory=dict)  # the latest flush's, by layer

    def __post_init__(self) -> None:
        """Start empty."""
        self.hashtags = HashtagMetrics(self.config.hashtags)
        self.graph = CooccurrenceGraph(self.config.hashtags.window)
        self.cascades = CascadeForest(self.config.cascades)
        self.influence = Influence(self.config.influence)
        self.watch = Watch(self.config.watch)
        self._watermark = Watermark(self.config.hashtags.window.lateness)
        self._orphans = Orphans()
        self._every = self.config.tick

    def observe(self, event: TweetEvent) -> list[Record]:
        """Take one accepted tweet; return the records that became due.

        A like (`TweetEvent.like_of`) is engagement, not a post: it only credits the liked author
        in influence, and moves the watermark like any event.
        """
        records: list[Record] = []
        if event.like_of is not None:
            self.influence.observe(event)
        else:
            self._post(event, records)
        self._watermark.observe(event.at)
        if self._orphans:  # most streams hold none
            records.extend(self._converse(self._orphans.overdue(self._watermark.current)))
        watermark = self._watermark.current
        if self._ticked is None or (watermark is not None and watermark >= self._ticked + self._every):
            records.extend(self._tick())  # a boundary passed; most events pass none
        return records

    def work_ahead(self, limit: int) -> int:
        """Do at most `limit` moves (an item entering or leaving a window) of the work the next
        boundary will do, now; return how many were done (0: none left until more events come).

        For the time between batches: a boundary moves every window at once, and at thousands
        of tweets a second that is seconds of work, during which every retweet behind it waits
        for its cascade record. Done ahead, it is invisible: every record comes out the same,
        at the same boundary, as without it (`streams.window.SlidingWindow.work_ahead`). The
        windows are moved no further than the next boundary, nor than the latest event (the end
        `flush` moves them to).
        """
        latest = self._watermark.latest
        if self._ticked is None or latest is None:
            return 0
        until = min(self._ticked + self._every, latest + _EPSILON)
        done = self.influence.work_ahead(until, limit)
        done += self.watch.work_ahead(until, limit - done)
        return done + self.graph.work_ahead(until, limit - done)

    def _post(self, event: TweetEvent, records: list[Record]) -> None:
        """Count a post in every window, and attach it to its cascade (or hold it for its parent)."""
        if self.config.include_hashtags:
            counted = self.hashtags.observe(event.hashtags, event.user_id, event.at)
            if counted:  # at boundaries only: most events count without a record
                records.extend(self._periodic(counted))
                records.extend(self.watch.judge_hashtags(counted))
        self.graph.observe(event.hashtags, event.at)
        self.watch.observe(event)
        parent = event.parent_id
        if (
            event.retweet_of is not None
            and parent is not None
            and parent != event.retweet_of
            and self.cascades.root_of(parent) is None
        ):
            self._orphans.hold(event, parent)
        else:
            records.extend(self._converse([event]))

    @property
    def late_events(self) -> int:
        """Tweets that arrived older than the window's end (more than the lateness behind the
        latest) but inside the window: the influence window took them in at once, after records
        at earlier boundaries had gone out without them.
        """
        return self.influence.late_events

    @property
    def dropped_events(self) -> int:
        """Tweets that arrived older than the window's start (more than the lateness behind the
        latest): the influence window left them out. A stream in time order drops none.
        """
        return self.influence.dropped_events

    @property
    def disordered_retweets(self) -> int:
        """Retweets whose parent was inferred after a later tweet of their cascade had arrived
        (`CascadeForest.disordered`): nonzero when the input is not in time order.
        """
        return self.cascades.disordered

    @property
    def conflicting_retweets(self) -> int:
        """Retweets the cascades ignored (`CascadeForest.conflicting_retweets`): a retweet cycle's
        closing half, or a retweet of itself.
        """
        return self.cascades.conflicting_retweets

    @property
    def unseen_originals(self) -> int:
        """Cascades started by a retweet of a tweet never seen (`CascadeForest.unseen_originals`)."""
        return self.cascades.unseen_originals

    def _converse(self, events: list[TweetEvent]) -> list[Record]:
        """Attach each event to its cascade and credit its influence; then the retweets that
        were waiting for it, in turn.
        """
        records: list[Record] = []
        pending = events[::-1]
        while pending:
            event = pending.pop()
            attachment = self.cascades.observe(event)
            if attachment is None:
                self.influence.observe(event)
            else:
                self.influence.observe(event, parent_user_id=attachment.parent_user_id)
                records.extend(self._cascade_changed(attachment.root_id))
            children = self._orphans.children_of(event.id)
            if children:  # rare: most tweets have no retweet waiting for them
                pending.extend(reversed(children))
        return records

    def _cascade_changed(self, root_id: str) -> list[Record]:
        cascade = self.cascades.get(root_id)
        if cascade is None:
            return []
        size = cascade.size
        self.influence.observe_cascade(
            root_id, cascade.root_user_id, cascade.root_at, size, cascade.structural_virality
        )
        if self.watch.could_be_viral(size, cascade.depth):
            self._touched.add(root_id)
        return [self.cascades.record(root_id, Trigger.CHANGE)] if self.config.cascade_updates else []

    @property
    def _reach(self) -> timedelta:
        """How far past a gap's start ticks still matter (see `boundaries`)."""
        window = self.config.hashtags.window
        return window.span + window.lateness + window.every

    def _periodic(self, records: Sequence[Record]) -> list[Record]:
        return list(records) if self.config.every is not None else []

    def _tick(self) -> list[Record]:
        """Move every window through the ticks the watermark passed; records due at each."""
        watermark = self._watermark.current
        if watermark is None:
            return []
        ends = boundaries(self._ticked, watermark, self.config.tick, span=self._reach)
        if not ends:  # the common case, per event; the graph, on the same ticks, has none either
            return []
        records: list[Record] = []
        summaries = dict(
            self.graph.advance_due(self.config.top_pairs, summarize=self.config.every is not None)
        )
        for end in ends:
            self.influence.advance(end)
            self.watch.advance(end)
            records.extend(self._judge_cascades(end, Trigger.BOUNDARY))
            self.cascades.expire(end)
            if self.config.every is not None and end in summaries:
                records.append(self._graph_record(end, summaries[end], Trigger.BOUNDARY))
                influence, summary = self.influence.records(end, Trigger.BOUNDARY, top=self.config.top)
                records.extend([*influence, summary])
                records.extend(self._tree_records(end, Trigger.BOUNDARY))
            records.extend(self._publish_refreshes(end))
            if self.config.every is not None and to_ms(end) % (self.config.refresh // _EPSILON) == 0:
                due = end + self.config.lag
                work = self._refresh_work(self._stamp(end, Trigger.BOUNDARY))
                # Published before this call returns (a lag of 0, or a jump in event time over
                # several refreshes): nothing would go on meanwhile, so it runs here.
                started = inline(work) if due <= ends[-1] else self.refresher(work)
                self._pending.append(Pending(end, due, started))
                records.extend(self._publish_refreshes(end))
            self._ticked = end
        return records

    def _refresh_work(self, stamp: Stamp) -> Compute:
        """The refresh of the window as it stands, as a `streams.refresh.Compute`: the watch's
        records and the retweet layer's user graph.
        """

        def work(detached: bool) -> Refreshed:  # noqa: FBT001 - the Compute signature
            refreshed, partitions = self.watch.refresh(stamp, self.influence, detached=detached)
            return Refreshed([*refreshed.records, self._user_graph(stamp, partitions)], refreshed.state)

        return work

    def _publish_refreshes(self, end: datetime | None) -> list[Record]:
        """The records of the refreshes due by `end` (every one started, for None), in the order
        they started; what each changed is put in place first.
        """
        records: list[Record] = []
        while self._pending and (end is None or self._pending[0].due <= end):
            refreshed = self._pending.pop(0).result()
            self.watch.adopt(refreshed)
            records.extend(refreshed.records)
        return records

    def _stamp(self, at: datetime, trigger: Trigger) -> Stamp:
        window = self.config.hashtags.window
        return Stamp(at=at, window=window.span, lateness=window.lateness, trigger=trigger)

    def _judge_cascades(self, at: datetime, trigger: Trigger) -> list[Record]:
        """`viral_cascade` alerts for the cascades that grew big and deep since the last tick."""
        if not self._touched:
            return []
        held = [root for root in sorted(self._touched) if self.cascades.get(root) is not None]
        self._touched.clear()
        cascades = [self.cascades.record(root, trigger, at=at) for root in held]
        return list(self.watch.judge_cascades(cascades, lambda root: self.cascades.root_of(root) is not None))

    def _graph_record(self, at: datetime, summary: GraphSummary, trigger: Trigger) -> HashtagGraph:
        window = self.config.hashtags.window
        return HashtagGraph(
            at=at,
            window=window.span,
            lateness=window.lateness,
            trigger=trigger,
            nodes=summary["nodes"],
            edges=summary["edges"],
            top_pairs=tuple((str(a), str(b), int(w)) for a, b, w in summary["top_pairs"]),
        )

    def flush(self, trigger: Trigger = Trigger.END) -> list[Record]:
        """The final records of every kind, over everything received (the top N when set)."""
        latest = self._watermark.latest
        if latest is None:
            return []
        records: list[Record] = self._converse(self._orphans.overdue(None))
        if self.config.include_hashtags:
            records.extend(self.hashtags.view(trigger)[: self.config.top])
        # A second flush with nothing new moves no boundary: the graph's current summary stands.
        self.graph.flush(self.config.top_pairs)
        records.append(self._graph_record(latest, self.graph.summary(self.config.top_pairs), trigger))
        records.extend(self._cascade_records(latest, trigger))
        records.extend(self._tree_records(latest, trigger))
        self.influence.advance(latest + _EPSILON)
        self.watch.advance(latest + _EPSILON)
        records.extend(self._judge_cascades(latest, trigger))
        influence, summary = self.influence.records(latest, trigger, top=self.config.top)
        records.extend([*influence, summary])
        records.extend(self._publish_refreshes(None))
        stamp = self._stamp(latest, trigger)
        refreshed, self.partitions = self.watch.refresh(stamp, self.influence, detached=False)
        records.extend([*refreshed.records, self._user_graph(stamp, self.partitions)])
        return records

    def view(self, trigger: Trigger = Trigger.IDLE) -> list[Record]:
        """The records `flush` would give now, leaving this analyzer untouched; alerts left out.

        For provisional views while the input is quiet: `flush` releases held retweets and moves
        every window to the latest event, so flushing whenever the input paused would make later
        records depend on when it paused (wall time), and a replay would not reproduce them.
        Alerts are raised once, as the stream itself moves boundaries, never from a view.
        """
        return Analyzer.view_of(self.config, self.snapshot(), trigger)

    @classmethod
    def view_of(
        cls, config: AnalyzerConfig, data: dict[str, Any], trigger: Trigger = Trigger.IDLE
    ) -> list[Record]:
        """The `view` of the analyzer that `snapshot` data describes. It builds everything it uses
        from `data`, so given data of its own (say, decoded from encoded bytes) it can run in
        another thread while the analyzer goes on.
        """
        provisional = cls.restore(config, data)
        return [record for record in provisional.flush(trigger) if not isinstance(record, Alert)]

    def _largest_cascades(self, top: int | None) -> list[str]:
        """The roots of the `top` largest held cascades with a retweet (all for None), largest
        first, ties by root id.
        """
        grown = [(-c.size, root) for root in self.cascades.grown() if (c := self.cascades.get(root))]
        if top is None:
            grown.sort()
        else:  # a few of a window's hundred thousand: no need to sort them all
            grown = heapq.nsmallest(top, grown)
        return [root for _, root in grown]

    def _cascade_records(self, at: datetime, trigger: Trigger) -> list[CascadeRecord]:
        """Every held cascade with at least one retweet, largest first (ties by root id)."""
        return [
            self.cascades.record(root, trigger, at=at) for root in self._largest_cascades(self.config.top)
        ]

    def _user_graph(self, stamp: Stamp, partitions: dict[str, Partition]) -> UserGraph:
        """The retweet layer's best ranked users, with their communities and camps in `partitions`."""
        users, edges = self.influence.top_graph(GRAPH_USERS, GRAPH_EDGES)
        partition = partitions.get("retweet")
        communities = partition.communities if partition is not None else {}
        camps = partition.camps if partition is not None else {}
        return UserGraph(
            at=stamp.at,
            window=stamp.window,
            lateness=stamp.lateness,
            trigger=stamp.trigger,
            layer="retweet",
            users=tuple((user, score, communities.get(user), camps.get(user)) for user, score in users),
            edges=tuple(edges),
            active_users=self.influence.active_users(),
            active_edges=self.influence.active_edges(),
        )

    def _tree_records(self, at: datetime, trigger: Trigger) -> list[Record]:
        """The trees of the `TREES` largest held cascades with a retweet (ties by root id)."""
        return [self.cascades.tree_record(root, trigger, at=at) for root in self._largest_cascades(TREES)]

    def snapshot(self) -> dict[str, Any]:
        """JSON-able plain data from which `restore` rebuilds this state exactly.

        Each part saves itself; the hashtag metrics are left out (None) when they are not
        computed. The latest event time is kept in ISO 8601: the watermark decides which held
        retweets are overdue, and event times may carry microseconds (epoch milliseconds would
        not keep them). `ticked_ms` is a multiple of the tick, exact in milliseconds.
        """
        latest = self._watermark.latest
        return {
            "version": SNAPSHOT_VERSION,
            "hashtags": self.hashtags.snapshot() if self.config.include_hashtags else None,
            "graph": self.graph.snapshot(),
            "cascades": self.cascades.snapshot(),
            "influence": self.influence.snapshot(),
            "orphans": self._orphans.snapshot(),
            "watch": self.watch.snapshot(),
            "touched": sorted(self._touched),
            "pending": [
                {"at_ms": to_ms(p.at), "due_ms": to_ms(p.due), "refreshed": p.result().plain()}
                for p in self._pending
            ],
            "latest": None if latest is None else latest.isoformat(),
            "ticked_ms": None if self._ticked is None else to_ms(self._ticked),
        }

    @classmethod
    def restore(cls, config: AnalyzerConfig, data: dict[str, Any], refresher: Refresher = inline) -> Analyzer:
        """The analyzer `snapshot` described, under `config` (the one it ran with), its later
        refreshes run by `refresher`; it continues exactly as the original would have.
        """
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"analyzer snapshot version {data['version']!r} is not supported")
        state = cls(config, refresher)
        if data["hashtags"] is not None:
            state.hashtags = HashtagMetrics.restore(config.hashtags, data["hashtags"])
        state.graph = CooccurrenceGraph.restore(config.hashtags.window, data["graph"])
        state.cascades = CascadeForest.restore(config.cascades, data["cascades"])
        state.influence = Influence.restore(config.influence, data["influence"])
        state._orphans = Orphans.restore(data["orphans"])
        state.watch = Watch.restore(config.watch, data["watch"])
        state._touched = set(data["touched"])
        state._pending = [
            Pending(from_ms(p["at_ms"]), from_ms(p["due_ms"]), ready(Refreshed.of(p["refreshed"])))
            for p in data["pending"]
        ]
        if data["latest"] is not None:
            state._watermark.observe(datetime.fromisoformat(data["latest"]))
        state._ticked = None if data["ticked_ms"] is None else from_ms(data["ticked_ms"])
        return state

    def user_graph(self) -> nx.DiGraph[str]:
        """The window's user retweet graph (weighted, with influence attributes, and the
        `community` and `camp` of each user as of the latest `flush`), for Gephi.
        """
        graph = self.influence.retweet_graph()
        partition = self.partitions.get("retweet")
        if partition is not None:
            for user, attrs in graph.nodes(data=True):
                if user in partition.communities:
                    attrs["community"] = partition.communities[user]
                    attrs["camp"] = partition.camps[user]
        return graph
