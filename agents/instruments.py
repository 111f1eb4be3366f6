"""Prometheus instruments, registered on a registry passed in (never the global one in tests)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from models.records import HashtagCount


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
            "resonance_hashtag_window_count",
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
    records: Counter
    hashtags: LatestHashtags

    @classmethod
    def create(cls, registry: CollectorRegistry, *, top_n: int) -> Instruments:
        """Register the instruments on `registry`."""
        hashtags = LatestHashtags(top_n)
        registry.register(hashtags)
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
            records=Counter(
                "resonance_records_published",
                "Metric records published",
                ["kind"],
                registry=registry,
            ),
            hashtags=hashtags,
        )
