"""One retweet cascade: a diffusion tree rooted at an original tweet, grown one retweet at a time.

Every metric is maintained incrementally, in O(depth of the new node) per retweet, because this
runs per event at stream speed. Time comes in as arguments; nothing here reads a clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

SNAPSHOT_VERSION = 1

# The floor on a cascade's age in `growth_rate_per_hour`: without it, two events in the same
# second would report an absurd (or infinite) rate.
MIN_AGE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)

_ROOT = 0  # the root's index; every other node has a larger one
_NO_PARENT = -1


# Every attribute of a `Cascade`: its slots, and what equality compares. Named outside the class
# because mypyc compiles no reads of `__slots__`.
_FACTS = (
    "_depth_of",
    "_depth_sum",
    "_index_of",
    "_last_at",
    "_max_breadth",
    "_max_out_degree",
    "_nodes_at_depth",
    "_out_degree_of",
    "_parent_of",
    "_root_at",
    "_root_id",
    "_root_user_id",
    "_subtree_size_of",
    "_wiener_index",
)


class CascadeSnapshot(TypedDict):
    """The plain, JSON-serialisable state of a `Cascade` (see `Cascade.snapshot`)."""

    version: int
    root_id: str
    root_user_id: str
    root_at: str  # ISO 8601 with offset: exact to the microsecond, unlike epoch milliseconds
    last_at: str
    node_ids: list[str]  # in insertion order, the root first
    parent_indices: list[int]  # parent of node_ids[i + 1], as an index into node_ids


class Cascade:
    """A retweet tree rooted at one original tweet, with its shape metrics kept up to date.

    Nodes are tweets (the original, then its retweets); each retweet hangs under the tweet it
    came through, which must already be in the tree. Adding a node costs O(its depth).

    Parameters
    ----------
    root_id, root_user_id
        The original tweet and its author.
    at
        The original tweet's event time, timezone-aware.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> cascade = Cascade("r", "alice", t0)
    >>> cascade.add("a", "r", t0 + timedelta(minutes=10))
    >>> cascade.add("b", "a", t0 + timedelta(minutes=30))
    >>> cascade.size, cascade.depth, cascade.max_breadth, cascade.structural_virality
    (3, 2, 1, 1.3333333333333333)
    >>> cascade.growth_rate_per_hour
    4.0

    """

    # Nodes are numbered in insertion order and their facts kept in parallel int lists: the
    # walk to the root in `add` then indexes lists instead of hashing ids at every step.
    __slots__ = _FACTS

    def __init__(self, root_id: str, root_user_id: str, at: datetime) -> None:
        """Start the tree with its root alone; raise ValueError if `at` is naive."""
        if at.tzinfo is None:
            # Rejected once here; a naive `at` in `add` then fails on comparison with `last_at`.
            raise ValueError(f"cascade {root_id!r}: the root's time must be timezone-aware")
        self._root_id = root_id
        self._root_user_id = root_user_id
        self._root_at = at
        self._last_at = at
        self._index_of: dict[str, int] = {root_id: _ROOT}
        self._parent_of: list[int] = [_NO_PARENT]
        self._depth_of: list[int] = [0]
        self._subtree_size_of: list[int] = [1]
        self._out_degree_of: list[int] = [0]
        self._nodes_at_depth: list[int] = [1]  # levels are contiguous, so a list, not a Counter
        self._max_breadth = 1
        self._max_out_degree = 0
        self._depth_sum = 0  # sum of all nodes' depths = sum of distances from the root
        self._wiener_index = 0  # sum of distances over unordered pairs of nodes; exact int

    def add(self, node_id: str, parent_id: str, at: datetime) -> None:
        """Attach retweet `node_id` under `parent_id`, already in the tree, at event time `at`.

        Costs O(depth of the new node). Arrival order of times does not matter: `last_at` keeps
        the latest time seen.

        Raises
        ------
        ValueError
            If `parent_id` is not in the tree or `node_id` already is; the tree is then unchanged.

        """
        parent = self._index_of.get(parent_id)
        if parent is None:
            raise ValueError(f"cascade {self._root_id!r}: unknown parent {parent_id!r}")
        if node_id in self._index_of:
            raise ValueError(f"cascade {self._root_id!r}: node {node_id!r} is already in the tree")
        self._last_at = max(self._last_at, at)

        # Structural virality's Wiener index W, updated in O(depth). With n nodes before the
        # insertion and D(x) = sum of distances from x to all n nodes, the new leaf v is one hop
        # farther than p from every node, so W grows by D(p) + n. Crossing an edge from x's
        # parent down to x brings x's subtree one hop closer and the other nodes one hop
        # farther, so D(x) = D(parent) + n - 2 * size(x); summed down the path from the root:
        #   D(p) = D(root) + depth(p) * n - 2 * (sum of subtree sizes on the path, root excluded)
        # and D(root) is the sum of depths. The same walk then grows those subtrees by one.
        n = len(self._parent_of)
        subtree_size_of = self._subtree_size_of
        parent_of = self._parent_of
        path_size_sum = 0
        ancestor = parent
        while ancestor != _ROOT:
            path_size_sum += subtree_size_of[ancestor]
            subtree_size_of[ancestor] += 1
            ancestor = parent_of[ancestor]
        subtree_size_of[_ROOT] += 1
        parent_depth = self._depth_of[parent]
        distance_sum_from_parent = self._depth_sum + parent_depth * n - 2 * path_size_sum
        self._wiener_index += distance_sum_from_parent + n

        depth = parent_depth + 1
        self._depth_sum += depth
        self._index_of[node_id] = n
        parent_of.append(parent)
        self._depth_of.append(depth)
        subtree_size_of.append(1)
        self._out_degree_of.append(0)

        nodes_at_depth = self._nodes_at_depth
        if depth == len(nodes_at_depth):
            nodes_at_depth.append(1)
        else:
            nodes_at_depth[depth] += 1
        self._max_breadth = max(self._max_breadth, nodes_at_depth[depth])
        out_degree = self._out_degree_of[parent] + 1
        self._out_degree_of[parent] = out_degree
        self._max_out_degree = max(self._max_out_degree, out_degree)

    def __contains__(self, node_id: object) -> bool:
        """Whether `node_id` is in the tree (so it can be a parent)."""
        return node_id in self._index_of

    @property
    def root_id(self) -> str:
        """The original tweet's id."""
        return self._root_id

    @property
    def root_user_id(self) -> str:
        """The original tweet's author."""
        return self._root_user_id

    @property
    def root_at(self) -> datetime:
        """The original tweet's event time."""
        return self._root_at

    def learn_root_time(self, at: datetime) -> None:
        """The original's own time, when it arrives after the cascade was started without it
        (from its first retweet's time): the root can only move earlier.
        """
        self._root_at = min(self._root_at, at)

    @property
    def last_at(self) -> datetime:
        """The latest event time of any node, the root included."""
        return self._last_at

    @property
    def size(self) -> int:
        """Number of nodes, the root included (Vosoughi, Roy & Aral 2018)."""
        return len(self._parent_of)

    @property
    def depth(self) -> int:
        """Most hops from the root to any node; 0 for a lone root (Vosoughi, Roy & Aral 2018)."""
        return len(self._nodes_at_depth) - 1

    @property
    def max_breadth(self) -> int:
        """Most nodes at any one depth level; the root's level counts 1 (Vosoughi et al. 2018)."""
        return self._max_breadth

    @property
    def structural_virality(self) -> float | None:
        """Mean distance over all pairs of distinct nodes; None for a lone root.

        Goel, Anderson, Hofman & Watts 2016, "The Structural Virality of Online Diffusion":
        nu(T) = W(T) / C(n, 2), W the Wiener index. A star of n nodes (pure broadcast) gives
        2(n - 1)/n, close to 2; a chain gives (n + 1)/3.
        """
        n = len(self._parent_of)
        if n == 1:
            return None
        return 2 * self._wiener_index / (n * (n - 1))

    @property
    def broadcast_share(self) -> float | None:
        """Largest out-degree / retweets, on (0, 1]; None for a lone root.

        A product metric anchored in Goel et al. 2016 (popularity is largely the size of the
        largest broadcast): near 1, one account did the spreading; low share with high
        structural virality means person-to-person spread.
        """
        retweets = len(self._parent_of) - 1
        if retweets == 0:
            return None
        return self._max_out_degree / retweets

    @property
    def growth_rate_per_hour(self) -> float:
        """Retweets per hour over the cascade's life so far; 0.0 for a lone root.

        (size - 1) / max(last_at - root_at, `MIN_AGE`) in hours. A lifetime average: it decays
        once the cascade stops growing; a recent rate belongs to a sliding window over the events.
        """
        age = max(self._last_at - self._root_at, MIN_AGE)
        return (len(self._parent_of) - 1) / (age / _HOUR)

    def tree(self, max_nodes: int) -> tuple[list[str], list[int]]:
        """The tree's first `max_nodes` tweets (at least the root), generation by generation and
        by id within one, and the index in that list of each one's parent after the root. The
        order does not depend on the order the retweets arrived in, and any prefix of it is a
        tree (a parent is a generation above its children).

        >>> from datetime import UTC, datetime
        >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
        >>> cascade = Cascade("r", "alice", t0)
        >>> cascade.add("b", "r", t0)
        >>> cascade.add("c", "b", t0)
        >>> cascade.add("a", "r", t0)
        >>> cascade.tree(3)
        (['r', 'a', 'b'], [0, 0])
        """
        ids = list(self._index_of)
        depth_of = self._depth_of
        order = sorted(range(len(ids)), key=lambda i: (depth_of[i], ids[i]))[: max(1, max_nodes)]
        position = {node: place for place, node in enumerate(order)}
        return [ids[node] for node in order], [position[self._parent_of[node]] for node in order[1:]]

    def snapshot(self) -> CascadeSnapshot:
        """Return the tree as plain, JSON-serialisable data; `restore` rebuilds an equal cascade.

        Only the tree itself is saved; every metric is derived from it again on restore.
        """
        return {
            "version": SNAPSHOT_VERSION,
            "root_id": self._root_id,
            "root_user_id": self._root_user_id,
            "root_at": self._root_at.isoformat(),
            "last_at": self._last_at.isoformat(),
            "node_ids": list(self._index_of),
            "parent_indices": self._parent_of[1:],
        }

    @classmethod
    def restore(cls, data: CascadeSnapshot) -> Cascade:
        """Rebuild a cascade from `snapshot` data in O(size); it continues as if never stopped.

        Raises
        ------
        ValueError
            If the data is not a consistent snapshot of this version.

        """
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"cascade snapshot version {data['version']!r} is not supported")
        node_ids = data["node_ids"]
        parent_indices = data["parent_indices"]
        if not node_ids or node_ids[0] != data["root_id"]:
            raise ValueError("cascade snapshot: node_ids must start with root_id")
        if len(parent_indices) != len(node_ids) - 1:
            raise ValueError("cascade snapshot: one parent index is needed per non-root node")
        root_at = datetime.fromisoformat(data["root_at"])
        cascade = cls(data["root_id"], data["root_user_id"], root_at)
        cascade._last_at = datetime.fromisoformat(data["last_at"])
        cascade._rebuild(node_ids, parent_indices)
        return cascade

    def _rebuild(self, node_ids: list[str], parent_indices: list[int]) -> None:
        """Set every derived fact from the tree, in O(size), on a cascade holding only its root."""
        n = len(node_ids)
        self._index_of = {node_id: i for i, node_id in enumerate(node_ids)}
        if len(self._index_of) != n:
            raise ValueError("cascade snapshot: node_ids are not unique")
        parent_of = [_NO_PARENT, *parent_indices]
        depth_of = [0] * n
        out_degree_of = [0] * n
        for i in range(1, n):
            parent = parent_of[i]
            # Parents come before their children, which is what lets one pass compute depths.
            if not 0 <= parent < i:
                raise ValueError(f"cascade snapshot: node {i} has parent index {parent!r}")
            depth_of[i] = depth_of[parent] + 1
            out_degree_of[parent] += 1
        subtree_size_of = [1] * n
        for i in range(n - 1, 0, -1):
            subtree_size_of[parent_of[i]] += subtree_size_of[i]
        nodes_at_depth = [0] * (max(depth_of) + 1)
        for depth in depth_of:
            nodes_at_depth[depth] += 1

        self._parent_of = parent_of
        self._depth_of = depth_of
        self._subtree_size_of = subtree_size_of
        self._out_degree_of = out_degree_of
        self._nodes_at_depth = nodes_at_depth
        self._max_breadth = max(nodes_at_depth)
        self._max_out_degree = max(out_degree_of)
        self._depth_sum = sum(depth_of)
        # Each edge lies on the path of every pair it separates: size(c) * (n - size(c)) pairs.
        self._wiener_index = sum(size * (n - size) for size in subtree_size_of[1:])

    def __eq__(self, other: object) -> bool:
        """Equal when the trees, the times and every maintained fact are equal."""
        if not isinstance(other, Cascade):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FACTS)

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __repr__(self) -> str:
        """Summarise; the tree itself is too big to print."""
        return f"Cascade(root_id={self._root_id!r}, size={self.size}, depth={self.depth})"
