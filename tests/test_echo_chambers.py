"""Echo chambers on real and planted data, through the whole analyzer: camps recover known sides,
the conversation layer is less modular than the endorsement layer, and planted structure is found.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from models.event import TweetEvent
from models.records import Alert, CommunitiesRecord, CoordinationRecord, HashtagPolarization, Record
from models.wire.conover import parse_conover
from streams.alerts.rules import AlertConfig
from streams.analyzer import Analyzer, AnalyzerConfig
from synth import StreamSpec, generate
from synth.truth import ground_truth

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CONOVER = DATASETS / "polarization" / "conover_icwsm2011"


def _analyze(events: list[TweetEvent], config: AnalyzerConfig) -> tuple[Analyzer, list[Record]]:
    analyzer = Analyzer(config)
    records = [record for event in events for record in analyzer.observe(event)]
    return analyzer, records + analyzer.flush()


@pytest.fixture(scope="module")
def conover() -> tuple[Analyzer, list[Record]]:
    """Conover et al.'s retweet and mention edge lists, streamed in time order as tweets."""
    return _analyze(
        _conover_events(), AnalyzerConfig.build(window=timedelta(days=60), lateness=timedelta(seconds=10))
    )


def _conover_events() -> list[TweetEvent]:
    events = []
    for name in ("retweet.edgelist", "mention.edgelist"):
        with (CONOVER / name).open("rb") as lines:
            events.extend(parse_conover(line, number) for number, line in enumerate(lines, start=1))
    events.sort(key=lambda e: (e.at, e.id))
    return events


def test_conover_weekly_refreshes_raise_echo_chamber_alerts_by_the_rule() -> None:
    """Refreshed weekly over a two-week window, the retweet layer alerts once its segregation is
    judged and significant, again only when it rises by `echo_rise`; the conversation layer, too
    small to judge, never alerts.
    """
    config = AnalyzerConfig.build(
        window=timedelta(days=14),
        lateness=timedelta(seconds=10),
        every=timedelta(days=1),
        refresh=timedelta(days=7),
        top=10,
    )
    _, records = _analyze(_conover_events(), config)
    layers = [r for r in records if isinstance(r, CommunitiesRecord) and r.layer == "retweet"]
    alerts = [r for r in records if isinstance(r, Alert) and r.type == "echo_chamber"]
    assert len(layers) >= 6  # weekly, and the end
    assert alerts, "the partisan retweet network never alerted"
    assert all(a.subject == "retweet layer" for a in alerts)
    assert len({a.key for a in alerts}) == len(alerts)
    first_significant = next(r for r in layers if r.rwc_z is not None and r.rwc_z >= 3)
    assert alerts[0].at == first_significant.at
    levels = [a.evidence["segregation"] for a in alerts]
    assert all(later >= earlier + 0.1 for earlier, later in pairwise(levels))


def _labels() -> dict[str, str]:
    rows = (line.split("\t") for line in (CONOVER / "retweet.nodes").read_text().splitlines())
    return {node: side.strip() for node, side in rows}


def _layers(records: list[Record]) -> dict[str, CommunitiesRecord]:
    return {r.layer: r for r in records if isinstance(r, CommunitiesRecord)}


def test_conover_camps_recover_left_and_right(conover: tuple[Analyzer, list[Record]]) -> None:
    """The two largest camps of the retweet layer agree with the left/right labels on >= 90% of
    the labelled users (users outside those camps count as disagreeing).
    """
    analyzer, _ = conover
    camps = analyzer.partitions["retweet"].camps
    labels = _labels()
    largest = [camp for camp, _ in Counter(camps.values()).most_common(2)]
    together = Counter((camps.get(user), side) for user, side in labels.items())
    straight = together[largest[0], "left"] + together[largest[1], "right"]
    crossed = together[largest[0], "right"] + together[largest[1], "left"]
    agreement = max(straight, crossed) / len(labels)
    assert agreement >= 0.9, agreement


def test_conover_conversation_is_less_modular_than_endorsement(
    conover: tuple[Analyzer, list[Record]],
) -> None:
    """As Conover et al. found (two-cluster modularity 0.48 for retweets, 0.17 for mentions):
    retweets stay inside camps, mentions cross them.
    """
    layers = _layers(conover[1])
    retweet, conversation = layers["retweet"], layers["conversation"]
    assert retweet.camp_modularity is not None
    assert conversation.camp_modularity is not None
    assert conversation.camp_modularity < retweet.camp_modularity
    assert retweet.camp_modularity == pytest.approx(0.48, abs=0.05)
    assert retweet.ei_index is not None
    assert retweet.ei_index < -0.8  # camps barely endorse each other
    assert retweet.two_camp_share > 0.9


def test_conover_retweet_layer_is_segregated_beyond_chance(conover: tuple[Analyzer, list[Record]]) -> None:
    """The partisan retweet network scores clearly above its rewired null, significantly."""
    retweet = _layers(conover[1])["retweet"]
    assert retweet.suppressed is None
    assert retweet.segregation is not None
    assert retweet.rwc_z is not None
    assert retweet.segregation > 0.1
    assert retweet.rwc_z >= 3
    assert retweet.rwc_null_mean is not None
    assert retweet.rwc == pytest.approx(retweet.segregation + retweet.rwc_null_mean)


def test_conover_partisan_hashtags_lean_to_opposite_camps(conover: tuple[Analyzer, list[Record]]) -> None:
    """#tcot (conservative) and #p2 (progressive) each have most of their users in one camp, not
    the same one; both camps use both tags (people retweet their opponents' tags to argue).
    """
    tags = {r.tag: r for r in conover[1] if isinstance(r, HashtagPolarization)}
    tcot, p2 = tags["tcot"], tags["p2"]
    assert tcot.camp_shares[0][0] != p2.camp_shares[0][0]
    for record in (tcot, p2):
        assert record.camp_shares[0][1] > 0.6
        assert record.leaning_entropy is not None
        assert 0 < record.leaning_entropy < 1


SPEC = StreamSpec(events=40_000, seed=11, communities=4, rings=2)


@pytest.fixture(scope="module")
def planted() -> tuple[Analyzer, list[Record]]:
    """A generated stream with four communities and two coordinated rings, one window over it all."""
    # The stream lasts half an hour: bursts are scored in one-minute buckets, after three of them.
    config = AnalyzerConfig.build(
        window=timedelta(days=1),
        lateness=timedelta(seconds=10),
        burst_bucket=timedelta(minutes=1),
        alerts=AlertConfig(burst_warmup=timedelta(minutes=3)),
    )
    return _analyze(list(generate(SPEC)), config)


def test_planted_communities_are_recovered(planted: tuple[Analyzer, list[Record]]) -> None:
    """Each fine community of the retweet layer is mostly one planted community, and each planted
    community mostly one found community (majority agreement >= 0.9 both ways).
    """
    found = planted[0].partitions["retweet"].communities
    truth = {user: str(c) for user, c in ground_truth(SPEC)["user_community"].items() if user in found}
    pairs = Counter((found[user], planted_community) for user, planted_community in truth.items())

    def purity(side: int) -> float:
        best: dict[object, int] = {}
        for pair, n in pairs.items():
            best[pair[side]] = max(best.get(pair[side], 0), n)
        return sum(best.values()) / len(truth)

    assert purity(0) >= 0.9  # found communities are pure
    assert purity(1) >= 0.9  # planted communities are not split


def test_planted_rings_are_found_with_their_evidence(planted: tuple[Analyzer, list[Record]]) -> None:
    """Every planted ring comes out as one coordination cluster (precision and recall >= 0.9),
    with its accounts' bot-likeness, alerted once each.
    """
    truth = ground_truth(SPEC)
    rings = {account for ring in truth["rings"] for account in ring}
    clusters = [r for r in planted[1] if isinstance(r, CoordinationRecord)]
    flagged = {account for cluster in clusters for account in cluster.accounts}
    assert len(flagged & rings) / len(flagged) >= 0.9
    assert len(flagged & rings) / len(rings) >= 0.9
    targets = {tweet for ring in truth["ring_targets"] for tweet in ring}
    for cluster in clusters:
        assert cluster.lift > 10
        assert cluster.median_lag_seconds < 10
        assert len(set(cluster.shared_tweets) & targets) >= 3
        # The generator gives ring accounts automated-looking profiles: the distribution shows it.
        assert cluster.bot_likeness["unknown"] == 0
        assert cluster.bot_likeness["median"] > 0.9
    alerts = [r for r in planted[1] if isinstance(r, Alert) and r.type == "coordinated_amplification"]
    assert sorted(a.key for a in alerts) == sorted(f"coordinated_amplification:{c.key}" for c in clusters)


def test_planted_bursts_alert_once_each(planted: tuple[Analyzer, list[Record]]) -> None:
    """Each planted burst raises one hashtag_burst alert, and no alert key repeats."""
    alerts = [r for r in planted[1] if isinstance(r, Alert)]
    keys = [a.key for a in alerts]
    assert len(keys) == len(set(keys))
    bursting = {a.subject.removeprefix("#") for a in alerts if a.type == "hashtag_burst"}
    planted_tags = {burst["hashtag"] for burst in ground_truth(SPEC)["bursts"]}
    assert planted_tags <= bursting
