"""Communities and camps of a window's interaction graph, with ids that survive from one refresh to the next.

On each refresh `CommunityTracker` partitions the window's users twice:

communities
    fine groups: a modularity partition (Reichardt-Bornholdt configuration model, gamma =
    `resolution`, 1 by default) found by the Leiden algorithm (Traag, Waltman & van Eck 2019).
camps
    coarse sides: the same quality function at a low resolution (`camp_resolution`, 0.05), which
    collapses a polarized network into a few big blocks where modularity at gamma = 1 splits it
    into hundreds of groups (the resolution limit, Fortunato & Barthelemy 2007). Camps are found
    on the graph of communities (one node per community, edge weights summed, internal weight as
    a self-loop), so every community lies inside exactly one camp.

The graph is undirected and weighted: the counts of u -> v and v -> u are summed. Users are
sorted before anything else, so the result does not depend on the order of the edges mapping.

Warm start: users present in the previous refresh start Leiden from their previous community
(new users start alone), and a community starts from the camp most of its members were in. Ids
are stable: each new community takes the id of the previous community it shares most users with,
greedily by overlap size (ties: smaller previous id, then the community whose first member in
sorted user order comes first); the others take fresh ids from a counter that never goes back,
so an id is never reused for a different group. Camps get their ids the same way.

Why igraph's C Leiden (`Graph.community_leiden`) and not leidenalg: on a planted-partition graph
of one million edges (100,000 users, this 2-core machine) one Leiden iteration at gamma = 1 took
0.6 s in igraph; leidenalg's `find_partition` took 15 s for two iterations, and 9 s for the camps,
on the same graph. Both optimise the same quality function; igraph's `"modularity"` objective
with `resolution` is the RB configuration model. Why camps on the community graph: the same
Leiden run on the full graph, even started from the communities, took another 1.0 s and gave
the same two camps there; on the community graph it takes milliseconds.

Why one Leiden iteration per refresh by default (`iterations = 1`): at one million edges a
second iteration doubles Leiden's cold time (0.6 s to 1.2 s here), which would break the 2 s
budget of a refresh, and every warm-started refresh continues the optimisation where the last one
stopped, so iterations accumulate over refreshes. The cost is a less settled first partition: on
the planted graph the second iteration gained under 1e-5 of modularity, but on the Conover et al.
2011 retweet network it gained 0.005 (0.587 to 0.592); one warm refresh on the same graph gets
there too (0.592, then 0.5926 after three), and in that first warm refresh about 10% of users
change community instead of about 8% with two iterations. One iteration already gives Leiden's
guarantee that every community is connected.

Randomness: igraph draws random numbers from a process-wide generator; Leiden runs inside
`streams.chambers.igraph_random.seeded`, so results depend on the seed only, from any thread.

Nothing here reads a clock or does I/O.

>>> tracker = CommunityTracker(CommunityConfig())
>>> triangles = {("a", "b"): 1, ("b", "c"): 1, ("c", "a"): 1, ("x", "y"): 1, ("y", "z"): 1, ("z", "x"): 1}
>>> partition = tracker.refresh(triangles | {("c", "x"): 1})
>>> sorted(partition.communities.items())
[('a', 0), ('b', 0), ('c', 0), ('x', 1), ('y', 1), ('z', 1)]
>>> round(partition.modularity, 4)
0.3571
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from types import MappingProxyType
from typing import Any

import igraph  # type: ignore[import-untyped, unused-ignore]
import numpy as np
from numpy.typing import NDArray

from streams.chambers.igraph_random import seeded

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunityConfig:
    """How `CommunityTracker` partitions the graph."""

    resolution: float = 1.0
    """Resolution of the fine communities (1: plain modularity)."""
    camp_resolution: float = 0.05
    """Resolution of the coarse camps; low, so a polarized network falls into a few big camps."""
    seed: int = 0
    """Seed of Leiden's random choices; same seed, same graph, same previous state: same result."""
    iterations: int = 1
    """Leiden iterations per refresh (negative: until no improvement); see the module docstring."""


@dataclass(frozen=True, slots=True)
class Partition:
    """One refresh's communities and camps; empty mappings and zeros for an empty graph."""

    communities: Mapping[str, int]
    """User id -> stable community id."""
    camps: Mapping[str, int]
    """User id -> stable camp id; every community lies in one camp."""
    modularity: float
    """Weighted modularity (gamma = 1) of `communities` on the undirected graph."""
    camp_modularity: float
    """Weighted modularity (gamma = 1, not `camp_resolution`) of `camps` on the undirected graph."""
    two_camp_share: float
    """Fraction of the users in the two largest camps (the one camp's share if there is one)."""
    community_sizes: Mapping[int, int]
    """Community id -> number of users."""
    camp_sizes: Mapping[int, int]
    """Camp id -> number of users."""


@dataclass(frozen=True, slots=True)
class UserGraph:
    """A layer's interactions on its users sorted by id, as index arrays.

    Built once per layer and refresh, and shared by everything computed from it: the partition
    here, the polarization scores and group descriptions in `streams.chambers.echo`. Self-loops and
    non-positive counts are dropped, with users seen only in them.
    """

    users: list[str]
    """The users, sorted by id: user i is `users[i]`, so index order is id order."""
    index: Mapping[str, int]
    """User id -> its index in `users`."""
    sources: IntArray
    targets: IntArray
    counts: FloatArray
    """The directed interactions: `sources[k]` -> `targets[k]`, `counts[k]` times (integral)."""
    ends: IntArray
    """The undirected pairs, shape (m, 2): lower index first, rows sorted, no duplicates."""
    weights: FloatArray
    """Each pair's counts of both directions summed."""

    @classmethod
    def of(cls, edges: Mapping[tuple[str, str], int]) -> UserGraph:
        """The graph of directed counts ``(source, target) -> count``, in any order."""
        # map() with C callables instead of generator expressions: a quarter less time per edge.
        source_of, target_of = itemgetter(0), itemgetter(1)
        users = sorted(set(map(source_of, edges)).union(map(target_of, edges)))
        index = dict(zip(users, range(len(users)), strict=True))
        position = index.__getitem__
        sources = np.fromiter(map(position, map(source_of, edges)), dtype=np.int64, count=len(edges))
        targets = np.fromiter(map(position, map(target_of, edges)), dtype=np.int64, count=len(edges))
        counts = np.fromiter(edges.values(), dtype=np.float64, count=len(edges))
        # Self-loops are promised absent, but a window that decrements counts may leave zeros
        # behind: both are dropped, with any user seen only in them (rare, so the fast path stays
        # unfiltered).
        if (sources == targets).any() or (counts <= 0).any():
            return cls.of({(u, v): count for (u, v), count in edges.items() if u != v and count > 0})
        ends, weights = _merge_directions(len(users), sources, targets, counts)
        return cls(users, index, sources, targets, counts, ends, weights)


def _merge_directions(
    n: int, sources: IntArray, targets: IntArray, counts: FloatArray
) -> tuple[IntArray, FloatArray]:
    """The undirected pairs of these directed edges on n nodes, sorted, with their counts summed."""
    if not n:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    # One integer key per unordered pair: np.unique sorts and merges u -> v with v -> u.
    keys, inverse = np.unique(
        np.minimum(sources, targets) * n + np.maximum(sources, targets), return_inverse=True
    )
    weights = np.bincount(inverse, weights=counts).astype(np.float64, copy=False)  # float already; for mypy
    return np.column_stack((keys // n, keys % n)), weights


@dataclass(frozen=True, slots=True)
class Labels:
    """One refresh's `Partition`, and the same ids as arrays over its `UserGraph`'s users."""

    partition: Partition
    communities: IntArray
    """Stable community id of user i of the graph."""
    camps: IntArray
    """Stable camp id of user i of the graph."""


@dataclass(slots=True)
class CommunityTracker:
    """Partitions each refresh's graph into communities and camps, warm-started from the last one."""

    config: CommunityConfig
    _communities: Mapping[str, int] = field(default_factory=dict, init=False, repr=False)
    _camps: Mapping[str, int] = field(default_factory=dict, init=False, repr=False)
    _next_community: int = field(default=0, init=False, repr=False)
    _next_camp: int = field(default=0, init=False, repr=False)

    def refresh(self, edges: Mapping[tuple[str, str], int], *, commit: bool = True) -> Partition:
        """Partition the window's graph and, when `commit`, remember the result for the next refresh.

        A refresh that does not commit (a provisional view) leaves the tracker as it was, so the
        partitions of later refreshes do not depend on how many provisional views came between.

        Parameters
        ----------
        edges
            Directed ``(source, target) -> count`` over the window, without self-loops. The graph
            is undirected: the counts of u -> v and v -> u are summed. Its users are those edges'
            ends; users of the previous refresh absent now are forgotten. Self-loops and pairs
            with a count of 0 or less are ignored, with users seen only in them.
        commit
            Remember this partition as the next refresh's warm start and id reference (a
            boundary refresh); False for a provisional view.

        Returns
        -------
        Partition
            Communities and camps with stable ids (see the module docstring). The same edges
            (in any order), previous state and seed always give the same partition.

        """
        return self.label(UserGraph.of(edges), commit=commit).partition

    def label(self, graph: UserGraph, *, commit: bool = True) -> Labels:
        """`refresh` on the graph of the edges, built by the caller (who shares it with other
        computations); the ids come also as arrays over the graph's users.
        """
        if not graph.users:
            if commit:
                self._communities, self._camps = {}, {}
            none = np.zeros(0, dtype=np.int64)
            return Labels(_partition([], none, none, modularity=0.0, camp_modularity=0.0), none, none)
        previous = _lookup(self._communities, graph.users)
        previous_camp = _lookup(self._camps, graph.users)
        labels, camp_labels, modularity, camp_modularity = self._leiden(graph, previous, previous_camp)
        community_ids, next_community = _stable_ids(labels, previous, self._next_community)
        camp_ids, next_camp = _stable_ids(camp_labels, previous_camp, self._next_camp)
        community_of, camp_of = community_ids[labels], camp_ids[camp_labels]
        partition = _partition(
            graph.users, community_of, camp_of, modularity=modularity, camp_modularity=camp_modularity
        )
        if commit:
            # The tracker keeps the partition's read-only views: it replaces them, never edits.
            self._communities, self._camps = partition.communities, partition.camps
            self._next_community, self._next_camp = next_community, next_camp
        return Labels(partition, community_of, camp_of)

    def _leiden(
        self, graph: UserGraph, previous: IntArray, previous_camp: IntArray
    ) -> tuple[IntArray, IntArray, float, float]:
        """Canonical community and camp labels of each user, warm-started from the previous ids
        (-1: none), and the modularity (gamma = 1) of each partition.
        """
        g = igraph.Graph(n=len(graph.users))
        g.add_edges(graph.ends)  # 3x faster than Graph(edges=...): no Python tuple per edge
        with seeded(self.config.seed):
            found = g.community_leiden(
                objective_function="modularity",
                weights=graph.weights.tolist(),
                resolution=self.config.resolution,
                initial_membership=_initial(previous).tolist(),
                n_iterations=self.config.iterations,
            )
            labels = _canonical(np.asarray(found.membership, dtype=np.int64))
            community_graph, community_weights = _quotient(graph, labels)
            camp_start = _majority(labels, previous_camp, int(labels.max()) + 1)
            camps_found = community_graph.community_leiden(
                objective_function="modularity",
                weights=community_weights,
                # igraph's default node weights count a self-loop once, where modularity (and the
                # user graph the loop stands for) counts it twice; without this, the internal
                # weight of each community is half-ignored and everything merges into one camp.
                node_weights=community_graph.strength(weights=community_weights, loops=True),
                resolution=self.config.camp_resolution,
                initial_membership=_initial(camp_start).tolist(),
                n_iterations=self.config.iterations,
            )
        camp_labels = _canonical(np.asarray(camps_found.membership, dtype=np.int64)[labels])
        # Modularity on the community graph equals modularity on the user graph, and is cheaper.
        modularity = community_graph.modularity(
            range(community_graph.vcount()), weights=community_weights, resolution=1.0, directed=False
        )
        camp_modularity = community_graph.modularity(
            camps_found.membership, weights=community_weights, resolution=1.0, directed=False
        )
        return labels, camp_labels, modularity, camp_modularity

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-able data from which `restore` rebuilds this state exactly."""
        return {
            "members": [
                [user, community, self._camps[user]] for user, community in sorted(self._communities.items())
            ],
            "next_community": self._next_community,
            "next_camp": self._next_camp,
        }

    @classmethod
    def restore(cls, config: CommunityConfig, data: dict[str, Any]) -> CommunityTracker:
        """Rebuild the tracker `snapshot` described; it refreshes exactly as the original would."""
        tracker = cls(config)
        tracker._communities = {user: community for user, community, _ in data["members"]}
        tracker._camps = {user: camp for user, _, camp in data["members"]}
        tracker._next_community = data["next_community"]
        tracker._next_camp = data["next_camp"]
        return tracker


def _lookup(ids: Mapping[str, int], users: list[str]) -> IntArray:
    """Each user's id in `ids`, -1 for users not there."""
    return np.fromiter(map(ids.get, users, repeat(-1)), dtype=np.int64, count=len(users))


def _initial(previous: IntArray) -> IntArray:
    """A membership for Leiden to start from: previous ids compacted, one new label per -1."""
    membership = np.empty_like(previous)
    known = previous >= 0
    _, membership[known] = np.unique(previous[known], return_inverse=True)
    first_free = int(membership[known].max()) + 1 if known.any() else 0
    membership[~known] = np.arange(first_free, first_free + int((~known).sum()))
    return membership


def _canonical(labels: IntArray) -> IntArray:
    """Labels renumbered 0, 1, ... in order of each label's first node, so equal partitions are equal."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    result: IntArray = rank[inverse]
    return result


def _quotient(graph: UserGraph, labels: IntArray) -> tuple[igraph.Graph, list[float]]:
    """The graph of communities: edge weights summed, each community's internal weight as a self-loop.

    igraph counts an undirected self-loop twice in a node's strength, as modularity needs, so
    any partition of the communities has the same modularity here as on the user graph.
    """
    left, right = labels[graph.ends[:, 0]], labels[graph.ends[:, 1]]
    k = int(labels.max()) + 1
    keys, inverse = np.unique(np.minimum(left, right) * k + np.maximum(left, right), return_inverse=True)
    quotient = igraph.Graph(n=k)
    quotient.add_edges(np.column_stack((keys // k, keys % k)))
    return quotient, np.bincount(inverse, weights=graph.weights).tolist()


def _majority(labels: IntArray, previous: IntArray, groups: int) -> IntArray:
    """For each group, the previous id most of its members had (ties: smaller id), -1 if none had one."""
    known = previous >= 0
    result = np.full(groups, -1, dtype=np.int64)
    if not known.any():
        return result
    pairs, counts = np.unique(np.column_stack((labels[known], previous[known])), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))  # by group, then most members, then smaller id
    pairs = pairs[order]
    first = np.r_[True, pairs[1:, 0] != pairs[:-1, 0]]
    result[pairs[first, 0]] = pairs[first, 1]
    return result


def _stable_ids(labels: IntArray, previous: IntArray, next_id: int) -> tuple[IntArray, int]:
    """Stable ids for canonical `labels` (0..k-1) given each node's previous id (-1: none).

    Greedy by overlap: the (label, previous id) pairs sharing the most nodes are matched first
    (ties: smaller previous id, then smaller label); each label and each previous id is matched
    at most once. Unmatched labels take fresh ids from `next_id` on, in label order.
    Returns the id of each label and the next fresh id.
    """
    k = int(labels.max()) + 1
    ids = np.full(k, -1, dtype=np.int64)
    known = previous >= 0
    if known.any():
        pairs, overlap = np.unique(
            np.column_stack((labels[known], previous[known])), axis=0, return_counts=True
        )
        taken: set[int] = set()
        for label, old in pairs[np.lexsort((pairs[:, 0], pairs[:, 1], -overlap))].tolist():
            if ids[label] < 0 and old not in taken:
                ids[label] = old
                taken.add(old)
    fresh = ids < 0
    ids[fresh] = np.arange(next_id, next_id + int(fresh.sum()))
    return ids, next_id + int(fresh.sum())


def _partition(
    users: list[str], community_of: IntArray, camp_of: IntArray, *, modularity: float, camp_modularity: float
) -> Partition:
    """The `Partition` giving user i community `community_of[i]` and camp `camp_of[i]`, as
    read-only views, with sizes in id order.
    """
    community_sizes = _sizes(community_of)
    camp_sizes = _sizes(camp_of)
    largest = sum(sorted(camp_sizes.values(), reverse=True)[:2])
    return Partition(
        communities=MappingProxyType(dict(zip(users, community_of.tolist(), strict=True))),
        camps=MappingProxyType(dict(zip(users, camp_of.tolist(), strict=True))),
        modularity=float(modularity),
        camp_modularity=float(camp_modularity),
        two_camp_share=largest / len(users) if users else 0.0,
        community_sizes=MappingProxyType(community_sizes),
        camp_sizes=MappingProxyType(camp_sizes),
    )


def _sizes(ids: IntArray) -> dict[int, int]:
    """How many users have each id, in id order."""
    values, counts = np.unique(ids, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))
