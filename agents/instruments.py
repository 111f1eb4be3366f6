"""Prometheus instruments, registered on a registry passed in (never the global one in tests)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from models.records import (
    Alert,
    CascadeRecord,
    CommunitiesRecord,
    CoordinationRecord,
    HashtagCount,
    InfluenceRecord,
    InfluenceSummary,
    Record,
)

# The counters of the worker's accounting: every tweet (or unreadable message) the input holds
# ends up in exactly one of them.
ACCOUNTED = frozenset(
    {"resonance_tweets_accepted_total", "resonance_tweets_duplicate_total", "resonance_rejected_total"}
)

# Seconds: from what a checkpoint of a small state takes to what would break the 1 s latency target.
PAUSE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A backlog read at start-up is minutes to days old: the buckets reach past a few seconds.
DELAY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


@dataclass(slots=True, eq=False)  # eq=False keeps identity hashing: the registry keys on it
class LatestHashtags(Collector):
    """The latest published count of every hashtag this worker owns; exports the top N only, so
    label cardinality stays bounded however many hashtags the stream carries.
    """

    top_n: int
    _latest: dict[str, HashtagCount] = field(default_factory=dict)

    def update(self, record: HashtagCount) -> None:
        """Keep the newest record per hashtag; a count of zero means it left the window."""
        if record.count:
            self._latest[record.tag] = record
        else:
            self._latest.pop(record.tag, None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the top-N gauges, ranked by count, ties by tag."""
        top = sorted(self._latest.values(), key=lambda r: (-r.count, r.tag))[: self.top_n]
        count = GaugeMetricFamily(
            "resonance_hashtag_window_tweets",
            "Tweets using the hashtag in the rolling event-time window (top N hashtags)",
            labels=["tag"],
        )
        users = GaugeMetricFamily(
            "resonance_hashtag_window_users",
            "Distinct users of the hashtag in the rolling event-time window (top N hashtags)",
            labels=["tag"],
        )
        for record in top:
            count.add_metric([record.tag], record.count)
            users.add_metric([record.tag], record.users)
        active = GaugeMetricFamily(
            "resonance_hashtags_active",
            "Distinct hashtags in the window on this worker",
        )
        active.add_metric([], len(self._latest))
        yield from (count, users, active)


@dataclass(frozen=True, slots=True)
class Instruments:
    """Every counter and gauge the worker exports, so each message is accounted for:
    input tweets = accepted + duplicate, plus rejected items (one per dead-lettered message or tweet).
    """

    messages: Counter
    accepted: Counter
    duplicates: Counter
    rejected: Counter
    late: Counter
    disordered: Counter
    conflicting_retweets: Counter
    unseen_originals: Counter
    records: Counter
    alerts: Counter
    checkpoint_seconds: Histogram
    checkpoint_bytes: Gauge
    snapshot_bytes: Gauge
    idle_view_seconds: Histogram
    stage_delay: Histogram
    analyzer_batch_seconds: Histogram
    hashtags: LatestHashtags
    conversation: LatestConversation

    @classmethod
    def create(cls, registry: CollectorRegistry, *, top_n: int) -> Instruments:
        """Register the instruments on `registry`."""
        hashtags = LatestHashtags(top_n)
        registry.register(hashtags)
        conversation = LatestConversation(top_n)
        registry.register(conversation)
        return cls(
            messages=Counter(
                "resonance_input_messages",
                "Messages consumed from the input topic",
                registry=registry,
            ),
            accepted=Counter(
                "resonance_tweets_accepted", "Tweets accepted (first time seen)", registry=registry
            ),
            duplicates=Counter(
                "resonance_tweets_duplicate", "Tweets seen before (counted once)", registry=registry
            ),
            rejected=Counter(
                "resonance_rejected",
                "Messages or tweets sent to the dead-letter topic",
                ["reason"],
                registry=registry,
            ),
            late=Counter(
                "resonance_events_late",
                "Events older than the window's end: admitted while inside the window, "
                "dropped when older than it",
                ["metric", "outcome"],
                registry=registry,
            ),
            disordered=Counter(
                "resonance_retweets_disordered",
                "Retweets whose parent was inferred after a later tweet of their cascade had arrived "
                "(their tree may differ from the time-ordered input's)",
                registry=registry,
            ),
            conflicting_retweets=Counter(
                "resonance_cascade_conflicting_retweets",
                "Retweets the cascades ignored because their own id already roots a cascade "
                "(the retweet closing a cycle: A retweets B, then B retweets A)",
                registry=registry,
            ),
            unseen_originals=Counter(
                "resonance_cascade_unseen_originals",
                "Cascades started at a retweet of a tweet never seen (normal on a sampled stream)",
                registry=registry,
            ),
            records=Counter(
                "resonance_records_published",
                "Metric records published",
                ["kind"],
                registry=registry,
            ),
            alerts=Counter(
                "resonance_alerts",
                "Alerts raised (one per condition: see the alerts topic)",
                ["type", "severity"],
                registry=registry,
            ),
            checkpoint_seconds=Histogram(
                "resonance_checkpoint_seconds",
                "Time a stage's checkpoint takes, in the background: step 'encode' (the state "
                "encoded, and a stateful stage's snapshot written to its topic, by a fork), step "
                "'write' (until the broker has the checkpoint)",
                ["stage", "step"],
                buckets=PAUSE_BUCKETS,
                registry=registry,
            ),
            checkpoint_bytes=Gauge(
                "resonance_checkpoint_bytes",
                "Size of the stage's latest checkpoint in its changelog (one partition's; a stateful "
                "stage's names a snapshot kept apart: resonance_snapshot_bytes)",
                ["stage"],
                registry=registry,
            ),
            snapshot_bytes=Gauge(
                "resonance_snapshot_bytes",
                "Size of the stage's latest snapshot written to its snapshot topic: form 'json' as "
                "encoded, 'stored' compressed in Kafka",
                ["stage", "form"],
                registry=registry,
            ),
            idle_view_seconds=Histogram(
                "resonance_idle_view_seconds",
                "Time the conversation stage's view of a quiet input takes (step 'compute': in the "
                "analyzer's own process, while the worker goes on)",
                ["step"],
                buckets=PAUSE_BUCKETS,
                registry=registry,
            ),
            stage_delay=Histogram(
                "resonance_stage_delay_seconds",
                "How old each input message of a stage is when the stage takes it (the worker's "
                "clock minus the message's Kafka timestamp): how far each stage runs behind what "
                "reaches it, stage by stage from the input topic ('ingest') to the analyzer "
                "('conversation')",
                ["stage"],
                buckets=DELAY_BUCKETS,
                registry=registry,
            ),
            analyzer_batch_seconds=Histogram(
                "resonance_analyzer_batch_seconds",
                "Time the conversation stage's analyzer process spent on one batch of tweets, from "
                "taking it to its records: a batch that crossed an emission boundary includes the "
                "boundary's work (influence ranking, trees; at refresh boundaries communities, "
                "polarization and coordination), and later batches wait for it",
                buckets=PAUSE_BUCKETS,
                registry=registry,
            ),
            hashtags=hashtags,
            conversation=conversation,
        )

    def cascade_counts(self, conflicting_retweets: int, unseen_originals: int) -> None:
        """Count what the cascade forest refused or started without its original (nothing is
        dead-lettered for either: `streams.cascades`).
        """
        self.conflicting_retweets.inc(conflicting_retweets)
        self.unseen_originals.inc(unseen_originals)

    def published(self, record: Record) -> None:
        """Account for one published record in the counters and gauges."""
        self.records.labels(record.kind).inc()
        if isinstance(record, Alert):
            self.alerts.labels(record.type, record.severity).inc()
        elif isinstance(record, HashtagCount):
            self.hashtags.update(record)
        else:
            self.conversation.update(record)


@dataclass(slots=True, eq=False)  # eq=False keeps identity hashing: the registry keys on it
class LatestConversation(Collector):
    """Headline numbers of the conversation: influence summary, the top users by engaged
    influence and the largest live cascades (top N each, so labels stay bounded).
    """

    top_n: int
    summary: InfluenceSummary | None = None
    _users: list[InfluenceRecord] = field(default_factory=list)
    _cascades: dict[str, CascadeRecord] = field(default_factory=dict)
    _layers: dict[str, CommunitiesRecord] = field(default_factory=dict)
    _clusters: dict[str, CoordinationRecord] = field(default_factory=dict)  # the latest refresh's

    def update(self, record: Record) -> None:
        """Keep what the gauges show from a published record."""
        if isinstance(record, InfluenceSummary):
            self.summary = record
        elif isinstance(record, InfluenceRecord):
            # A view publishes its users by rank, then its summary: a rank not past the last one
            # starts the next view. (Reset by the summary, the gauges were empty after every view.)
            if self._users and record.rank <= self._users[-1].rank:
                self._users = []
            if len(self._users) < self.top_n:
                self._users.append(record)
        elif isinstance(record, CommunitiesRecord):
            self._layers[record.layer] = record
            self._clusters = {}  # a refresh publishes its layers first, then its clusters
        elif isinstance(record, CoordinationRecord):
            self._clusters[record.key] = record
        elif isinstance(record, CascadeRecord):
            self._cascades[record.root_id] = record
            if len(self._cascades) > 4 * self.top_n:  # forget the small ones, keep memory bounded
                keep = sorted(self._cascades.values(), key=lambda r: (-r.size, r.root_id))[: self.top_n]
                self._cascades = {r.root_id: r for r in keep}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the summary gauges, the top users and the largest cascades."""
        rho = GaugeMetricFamily(
            "resonance_influence_spearman_followers_retweets",
            "Spearman rank correlation of followers with retweets received (Cha et al. 2010)",
            labels=["population"],
        )
        collective = GaugeMetricFamily(
            "resonance_influence_collective_share",
            "Share of retweets whose attributed parent is outside the top 1% by followers",
        )
        active = GaugeMetricFamily("resonance_influence_active_users", "Users active in the window")
        if self.summary is not None:
            for population, value in (
                ("all", self.summary.spearman_followers_retweets),
                ("top10", self.summary.spearman_followers_retweets_top10),
                ("top1", self.summary.spearman_followers_retweets_top1),
            ):
                if value is not None:
                    rho.add_metric([population], value)
            if self.summary.collective_share is not None:
                collective.add_metric([], self.summary.collective_share)
            active.add_metric([], self.summary.active_users)
        score = GaugeMetricFamily(
            "resonance_influence_score", "Engaged influence score (top N users)", labels=["user_id"]
        )
        for user in self._users:
            score.add_metric([user.user_id], user.score)
        size = GaugeMetricFamily(
            "resonance_cascade_size", "Nodes in the cascade (top N cascades)", labels=["root_id"]
        )
        virality = GaugeMetricFamily(
            "resonance_cascade_structural_virality",
            "Structural virality (Goel et al. 2016) of the top N cascades",
            labels=["root_id"],
        )
        for cascade in sorted(self._cascades.values(), key=lambda r: (-r.size, r.root_id))[: self.top_n]:
            size.add_metric([cascade.root_id], cascade.size)
            if cascade.structural_virality is not None:
                virality.add_metric([cascade.root_id], cascade.structural_virality)
        yield from (rho, collective, active, score, size, virality)
        yield from self._structure()

    def _structure(self) -> Iterator[GaugeMetricFamily]:
        """Per layer: communities and polarization headline numbers; coordination clusters."""
        gauges = {
            "count": ("resonance_communities", "Communities in the layer (Leiden, modularity)"),
            "modularity": ("resonance_communities_modularity", "Modularity of the layer's communities"),
            "two_camp_share": (
                "resonance_communities_two_camp_share",
                "Share of the layer's users in its two largest camps",
            ),
            "segregation": (
                "resonance_segregation",
                (
                    "Segregation beyond chance: RWC minus its mean over degree-preserving rewirings "
                    "(Garimella et al. 2018); absent when suppressed"
                ),
            ),
            "rwc_z": ("resonance_segregation_z", "z-score of RWC against its rewired null"),
            "ei_index": ("resonance_communities_ei_index", "E-I index of camp labels (-1 closed, +1 open)"),
        }
        for field_name, (name, documentation) in gauges.items():
            family = GaugeMetricFamily(name, documentation, labels=["layer"])
            for layer, record in sorted(self._layers.items()):
                value = getattr(record, field_name)
                if value is not None:
                    family.add_metric([layer], value)
            yield family
        clusters = GaugeMetricFamily(
            "resonance_coordination_clusters", "Co-retweet clusters found at the latest refresh"
        )
        clusters.add_metric([], len(self._clusters))
        accounts = GaugeMetricFamily(
            "resonance_coordination_accounts", "Accounts in co-retweet clusters at the latest refresh"
        )
        accounts.add_metric([], sum(len(c.accounts) for c in self._clusters.values()))
        yield from (clusters, accounts)
