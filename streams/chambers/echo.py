"""Echo chambers: the communities of each interaction layer, the camps they form, and how
segregated the camps are beyond chance. Computed on a cadence from the live window.

Two layers, as Conover et al. 2011 found them to differ: `retweet` (endorsement: who relays
whom; partisan and segregated) and `conversation` (replies and mentions; people argue across
camps). Per layer and refresh (`refresh`):

1. Communities and camps (`streams.chambers.communities`): Leiden on the layer's undirected weighted
   graph, warm-started from the previous refresh so ids stay stable; camps are the same at a low
   resolution, because a modularity-optimal partition splits a two-camp network into hundreds
   of small groups.
2. Polarization between camps (`streams.chambers.polarization`): modularity (fine partition), E-I index
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

Each layer's graph is built once per refresh, as index arrays (`streams.chambers.communities.UserGraph`),
and every step above reads it: networkx graphs of 300k users cost more than all the metrics.

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.records import CommunitiesRecord, Group, HashtagPolarization, Trigger
from streams.alerts.rules import Stamp
from streams.chambers import polarization
from streams.chambers.communities import CommunityConfig, CommunityTracker, Labels, Partition, UserGraph
from streams.influence.tracker import Influence
from streams.user_activity import UserActivity

LAYERS = ("retweet", "conversation")
SNAPSHOT_VERSION = 1

Ints = NDArray[np.int64]


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


@dataclass(frozen=True, slots=True)
class _Layer:
    """What one layer's refresh computes once and every step reads."""

    graph: UserGraph
    labels: Labels
    rank_of: Ints
    """Each user's engaged-influence rank; unranked users after every ranked one."""
    strong: Ints
    """The pairs of users with at least `tau` interactions: the edges of the RWC graph."""


def _insularity(graph: UserGraph, group_of: Ints, groups: int) -> list[float | None]:
    """Per group 0 .. groups-1 (`group_of[i]`: user i's): the share of its members' outgoing
    interactions whose target is in it too; None for a group whose members interact with no one.
    """
    source_group = group_of[graph.sources]
    inside = source_group == group_of[graph.targets]
    # Counts are integers, so these sums are exact in any order, and so is each share's rounding.
    total = np.bincount(source_group, weights=graph.counts, minlength=groups)
    kept = np.bincount(source_group[inside], weights=graph.counts[inside], minlength=groups)
    return [None if out == 0 else stay / out for stay, out in zip(kept.tolist(), total.tolist(), strict=True)]


def _among(layer: _Layer, users: list[str]) -> Ints:
    """The layer's RWC edges between two of these users (all of them in the layer)."""
    chosen = np.zeros(len(layer.graph.users), dtype=bool)
    chosen[[layer.graph.index[user] for user in users]] = True
    return layer.strong[chosen[layer.strong].all(axis=1)]


def _group_tags(
    activity: UserActivity, membership: Mapping[str, int], groups: set[int]
) -> dict[int, dict[str, int]]:
    """For each of `groups`, how many of its members (by `membership`) used each hashtag."""
    tag_users: dict[int, dict[str, int]] = {group: {} for group in groups}
    # By hashtag, not by member: most users use no hashtag, and then cost nothing here.
    for tag in activity.tags():
        for user in activity.users_of(tag):
            group = membership.get(user)
            if group is not None and group in groups:
                counts = tag_users[group]
                counts[tag] = counts.get(tag, 0) + 1
    return tag_users


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
        # The retweet layer's graph is the one influence built for PageRank (not built twice).
        graphs = {
            "retweet": influence.endorsement_graph(),
            "conversation": UserGraph.of(influence.conversation_edges()),
        }
        records, layers = [], {}
        for name in LAYERS:
            layer = self._layer(name, graphs[name], ranks, commit=stamp.trigger is Trigger.BOUNDARY)
            layers[name] = layer
            records.append(self._layer_record(stamp, name, layer, activity))
        hashtags = self._hashtags(stamp, layers["retweet"], activity)
        return Refresh(records, hashtags, {name: layer.labels.partition for name, layer in layers.items()})

    def _layer(self, name: str, graph: UserGraph, ranks: Mapping[str, int], *, commit: bool) -> _Layer:
        """The layer's graph, its partition (remembered when `commit`), ranks and RWC edges."""
        labels = self._trackers[name].label(graph, commit=commit)
        unranked = len(ranks) + 1
        rank_of = np.fromiter(
            map(ranks.get, graph.users, repeat(unranked)), dtype=np.int64, count=len(graph.users)
        )
        return _Layer(graph, labels, rank_of, graph.ends[graph.weights >= self.config.tau])

    def _layer_record(
        self, stamp: Stamp, name: str, layer: _Layer, activity: UserActivity
    ) -> CommunitiesRecord:
        """The layer's record: sizes, modularity, group scores, segregation, described groups."""
        graph, labels = layer.graph, layer.labels
        partition = labels.partition
        score = self._segregation(len(graph.users), layer.strong)
        edges = len(graph.ends)
        return CommunitiesRecord(
            at=stamp.at,
            window=stamp.window,
            lateness=stamp.lateness,
            trigger=stamp.trigger,
            layer=name,
            users=len(graph.users),
            edges=edges,
            count=len(partition.community_sizes),
            modularity=partition.modularity if edges else None,
            camp_modularity=partition.camp_modularity if edges else None,
            ei_index=polarization.ei_index_of(graph.ends, graph.weights, labels.camps),
            assortativity=polarization.label_assortativity_of(graph.ends, labels.camps),
            rwc=score.rwc,
            rwc_null_mean=score.null_mean,
            segregation=score.segregation,
            rwc_z=score.z,
            rwc_users=score.nodes,
            suppressed=score.suppressed,
            two_camp_share=partition.two_camp_share,
            communities=self._groups(layer, labels.communities, partition.communities, activity),
            camps=self._groups(layer, labels.camps, partition.camps, activity),
            method=self.config.describe(),
        )

    def _segregation(self, users: int, strong: Ints) -> polarization.Segregation:
        """Segregation of the RWC graph: the largest component of these pairs among `users` users."""
        c = self.config
        _, graph = polarization.largest_component(users, strong)
        return polarization.segregation_of(
            graph,
            seed=c.seed,
            samples=c.samples,
            absorbers=c.absorbers,
            min_nodes=c.min_users,
            max_hub_share=c.max_hub_share,
        )

    def _groups(
        self, layer: _Layer, ids: Ints, membership: Mapping[str, int], activity: UserActivity
    ) -> tuple[Group, ...]:
        """The largest groups (ties by id), described; user i is in group `ids[i]`, as in `membership`."""
        groups, group_of, sizes = np.unique(ids, return_inverse=True, return_counts=True)
        largest = np.lexsort((groups, -sizes))[: self.config.top_groups].tolist()
        insularity = _insularity(layer.graph, group_of, len(groups))
        tag_users = _group_tags(activity, membership, {int(groups[g]) for g in largest})
        described = []
        for g in largest:
            members = np.flatnonzero(group_of == g)
            # Best rank first, ties by id: index order is id order.
            top = members[np.lexsort((members, layer.rank_of[members]))[: self.config.top_members]]
            tags = tag_users[int(groups[g])]
            described.append(
                Group(
                    id=int(groups[g]),
                    size=int(sizes[g]),
                    top_users=tuple(layer.graph.users[i] for i in top.tolist()),
                    top_hashtags=tuple(sorted(tags, key=lambda t: (-tags[t], t))[: self.config.top_hashtags]),
                    insularity=insularity[g],
                )
            )
        return tuple(described)

    def _hashtags(self, stamp: Stamp, layer: _Layer, activity: UserActivity) -> list[HashtagPolarization]:
        """The records of the hashtags with most users in the (retweet) layer: camp split, segregation."""
        camps = layer.labels.partition.camps
        in_layer = {tag: [u for u in activity.users_of(tag) if u in camps] for tag in activity.tags()}
        chosen = sorted(
            (tag for tag, users in in_layer.items() if len(users) >= self.config.hashtag_min_users),
            key=lambda t: (-len(in_layer[t]), t),
        )[: self.config.hashtag_limit]
        records = []
        for tag in chosen:
            users = in_layer[tag]  # distinct: the keys of `users_of`
            counts: dict[int, int] = {}
            for user in users:
                counts[camps[user]] = counts.get(camps[user], 0) + 1
            shares = sorted(
                ((camp, n / len(users)) for camp, n in counts.items()), key=lambda c: (-c[1], c[0])
            )
            score = self._segregation(len(layer.graph.users), _among(layer, users))
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
