"""Echo chambers: the communities of each interaction layer, the camps they form, and how
segregated the camps are beyond chance. Computed on a cadence from the live window.

Two layers, as Conover et al. 2011 found them to differ: `retweet` (endorsement: who relays
whom; partisan and segregated) and `conversation` (replies and mentions; people argue across
camps). Per layer and refresh (`refresh`):

1. Communities and camps (`streams.communities`): Leiden on the layer's undirected weighted
   graph, warm-started from the previous refresh so ids stay stable; camps are the same at a low
   resolution, because a modularity-optimal partition splits a two-camp network into hundreds
   of small groups.
2. Polarization between camps (`streams.polarization`): modularity (fine partition), E-I index
   and label assortativity (camps), and segregation beyond chance: the exact Random Walk
   Controversy score of a balanced METIS bisection of the layer's threshold graph (a pair joined
   by at least `tau` interactions, largest component, unweighted), minus its mean over
   degree-preserving rewirings bisected and scored the same way, with the z-score beside it.
   Never called "controversy": on Garimella et al.'s graphs it does not separate debates from
   fandoms (a fandom split in two is segregated, not contested).
3. Descriptions: per community and camp, size, top users by engaged influence, top hashtags
   and insularity (the share of its members' interactions in the layer that stay inside).
4. Per hashtag (retweet layer, the `hashtag_limit` hashtags with most users in it): how its
   users split over camps, the split's entropy, and its own calibrated segregation (the same
   score on the threshold graph among its users).

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from models.records import CommunitiesRecord, Group, HashtagPolarization, Trigger
from streams import polarization
from streams.alerts import Stamp
from streams.communities import CommunityConfig, CommunityTracker, Partition
from streams.influence import Influence
from streams.user_activity import UserActivity

LAYERS = ("retweet", "conversation")
SNAPSHOT_VERSION = 1

Edges = Mapping[tuple[str, str], int]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChamberConfig:
    """The algorithms' parameters (defaults from Garimella et al. 2018 and our own calibration,
    `../shared/notes/metrics.md`): threshold `tau`, `absorbers` per side, null `samples`, and the
    suppression rules (`min_users` in the threshold graph, `max_hub_share` of users one hub touches).
    """

    communities: CommunityConfig = field(default_factory=CommunityConfig)
    tau: int = 2
    absorbers: int = 10
    samples: int = 20
    min_users: int = 300
    max_hub_share: float = 0.5
    seed: int = 0
    top_groups: int = 10
    top_members: int = 5
    top_hashtags: int = 5
    hashtag_limit: int = 20
    hashtag_min_users: int = 10

    def describe(self) -> str:
        """The method and parameters, as records state them."""
        c = self.communities
        return (
            f"leiden modularity (resolution {c.resolution}, camps {c.camp_resolution}, seed {c.seed}, "
            f"warm-started); rwc: tau {self.tau}, largest component, metis bisection, {self.absorbers} "
            f"highest-degree absorbers per side, null {self.samples} degree-preserving rewirings, "
            f"suppressed under {self.min_users} users or a hub touching over {self.max_hub_share:.0%}"
        )


@dataclass(frozen=True, slots=True)
class Refresh:
    """One refresh's records, and the partitions they came from (by layer)."""

    communities: list[CommunitiesRecord]
    hashtags: list[HashtagPolarization]
    partitions: dict[str, Partition]


def _pairs(edges: Edges) -> dict[tuple[str, str], int]:
    """The counts of both directions of each pair summed, keyed (smaller id, larger id)."""
    pairs: dict[tuple[str, str], int] = {}
    for (a, b), weight in edges.items():
        pair = (a, b) if a < b else (b, a)
        pairs[pair] = pairs.get(pair, 0) + weight
    return pairs


def _undirected(pairs: Edges) -> nx.Graph[str]:
    """The layer as an undirected graph, each pair's count as `weight`."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(sorted({user for pair in pairs for user in pair}))
    graph.add_weighted_edges_from((a, b, weight) for (a, b), weight in pairs.items())
    return graph


def _insularity(edges: Edges, membership: Mapping[str, int]) -> dict[int, float]:
    """Per group: the share of its members' outgoing interactions whose target is in it too."""
    inside: dict[int, int] = {}
    total: dict[int, int] = {}
    for (source, target), weight in edges.items():
        group = membership[source]
        total[group] = total.get(group, 0) + weight
        if membership[target] == group:
            inside[group] = inside.get(group, 0) + weight
    return {group: inside.get(group, 0) / count for group, count in total.items()}


@dataclass(slots=True)
class EchoChambers:
    """The per-layer community trackers (their warm starts and stable ids are the state)."""

    config: ChamberConfig
    _trackers: dict[str, CommunityTracker] = field(init=False)

    def __post_init__(self) -> None:
        """Start with no partition."""
        self._trackers = {layer: CommunityTracker(self.config.communities) for layer in LAYERS}

    def refresh(self, stamp: Stamp, influence: Influence, activity: UserActivity) -> Refresh:
        """Partition both layers of the window and measure them; the hashtags of the retweet layer.

        Only boundary refreshes are remembered as the next one's warm start: provisional views
        (idle, end) do not change later partitions, so the live run and a replay agree.
        """
        ranks = influence.ranks()
        layers = {"retweet": influence.endorsement_edges(), "conversation": influence.conversation_edges()}
        records, partitions = [], {}
        for layer, edges in layers.items():
            partition = self._trackers[layer].refresh(edges, commit=stamp.trigger is Trigger.BOUNDARY)
            partitions[layer] = partition
            records.append(
                self._layer_record(
                    stamp, layer=layer, edges=edges, partition=partition, ranks=ranks, activity=activity
                )
            )
        hashtags = self._hashtags(stamp, layers["retweet"], partitions["retweet"], activity)
        return Refresh(records, hashtags, partitions)

    def _layer_record(  # noqa: PLR0913 - one refresh's inputs
        self,
        stamp: Stamp,
        *,
        layer: str,
        edges: Edges,
        partition: Partition,
        ranks: Mapping[str, int],
        activity: UserActivity,
    ) -> CommunitiesRecord:
        pairs = _pairs(edges)
        graph = _undirected(pairs)
        score = polarization.segregation(
            polarization.rwc_graph(pairs, tau=self.config.tau), **self._rwc_parameters()
        )
        camps = partition.camps
        return CommunitiesRecord(
            at=stamp.at,
            window=stamp.window,
            lateness=stamp.lateness,
            trigger=stamp.trigger,
            layer=layer,
            users=graph.number_of_nodes(),
            edges=graph.number_of_edges(),
            count=len(set(partition.communities.values())),
            modularity=partition.modularity if graph.number_of_edges() else None,
            camp_modularity=partition.camp_modularity if graph.number_of_edges() else None,
            ei_index=polarization.ei_index(graph, camps),
            assortativity=polarization.label_assortativity(graph, camps),
            rwc=score.rwc,
            rwc_null_mean=score.null_mean,
            segregation=score.segregation,
            rwc_z=score.z,
            rwc_users=score.nodes,
            suppressed=score.suppressed,
            two_camp_share=partition.two_camp_share,
            communities=self._groups(partition.communities, edges, ranks, activity),
            camps=self._groups(camps, edges, ranks, activity),
            method=self.config.describe(),
        )

    def _rwc_parameters(self) -> dict[str, Any]:
        c = self.config
        return {
            "seed": c.seed,
            "samples": c.samples,
            "absorbers": c.absorbers,
            "min_nodes": c.min_users,
            "max_hub_share": c.max_hub_share,
        }

    def _groups(
        self, membership: Mapping[str, int], edges: Edges, ranks: Mapping[str, int], activity: UserActivity
    ) -> tuple[Group, ...]:
        """The largest groups (ties by id), described."""
        members: dict[int, list[str]] = {}
        for user, group in membership.items():
            members.setdefault(group, []).append(user)
        largest = sorted(members.items(), key=lambda item: (-len(item[1]), item[0]))[: self.config.top_groups]
        insularity = _insularity(edges, membership)
        unranked = len(ranks) + 1
        groups = []
        for group, users in largest:
            top_users = heapq.nsmallest(
                self.config.top_members, users, key=lambda u: (ranks.get(u, unranked), u)
            )
            tag_users: dict[str, int] = {}
            for user in users:
                for tag in activity.tags_of(user):
                    tag_users[tag] = tag_users.get(tag, 0) + 1
            top_tags = sorted(tag_users, key=lambda t: (-tag_users[t], t))[: self.config.top_hashtags]
            groups.append(
                Group(
                    id=group,
                    size=len(users),
                    top_users=tuple(top_users),
                    top_hashtags=tuple(top_tags),
                    insularity=insularity.get(group),
                )
            )
        return tuple(groups)

    def _hashtags(
        self, stamp: Stamp, edges: Edges, partition: Partition, activity: UserActivity
    ) -> list[HashtagPolarization]:
        camps = partition.camps
        in_layer = {tag: [u for u in activity.users_of(tag) if u in camps] for tag in activity.tags()}
        chosen = sorted(
            (tag for tag, users in in_layer.items() if len(users) >= self.config.hashtag_min_users),
            key=lambda t: (-len(in_layer[t]), t),
        )[: self.config.hashtag_limit]
        records = []
        for tag in chosen:
            users = set(in_layer[tag])
            counts: dict[int, int] = {}
            for user in users:
                counts[camps[user]] = counts.get(camps[user], 0) + 1
            shares = sorted(
                ((camp, n / len(users)) for camp, n in counts.items()), key=lambda c: (-c[1], c[0])
            )
            own = {edge: w for edge, w in edges.items() if edge[0] in users and edge[1] in users}
            score = polarization.segregation(
                polarization.rwc_graph(own, tau=self.config.tau), **self._rwc_parameters()
            )
            records.append(
                HashtagPolarization(
                    at=stamp.at,
                    window=stamp.window,
                    lateness=stamp.lateness,
                    trigger=stamp.trigger,
                    tag=tag,
                    users=len(users),
                    camp_shares=tuple(shares),
                    leaning_entropy=polarization.leaning_entropy([s for _, s in shares]),
                    segregation=score.segregation,
                    rwc_z=score.z,
                    suppressed=score.suppressed,
                )
            )
        return records

    def snapshot(self) -> dict[str, Any]:
        """Plain data for `restore`: each layer's tracker."""
        return {
            "version": SNAPSHOT_VERSION,
            "trackers": {layer: tracker.snapshot() for layer, tracker in self._trackers.items()},
        }

    @classmethod
    def restore(cls, config: ChamberConfig, data: dict[str, Any]) -> EchoChambers:
        """The state `snapshot` described."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"unknown echo chambers snapshot version {data['version']}")
        state = cls(config)
        state._trackers = {
            layer: CommunityTracker.restore(config.communities, tracker)
            for layer, tracker in data["trackers"].items()
        }
        return state
