"""Every live retweet cascade of a stream: originals register roots, retweets grow their trees.

A tweet that is not a retweet (an original, and also a quote or a reply) can be a root: it is
held as a lone root, a few facts and no tree, until its first retweet arrives. A retweet joins
the cascade holding the tweet it names (`retweet_of`): the original, or in some sources an
earlier retweet, whose cascade it then joins. Its parent there is chosen by
`streams.cascades.reconstruction` (explicit data first, then the configured method).

When the original was never seen, its cascade is created by its first retweet: root id =
`retweet_of`, root user = `retweet_of_user` (or ``"unknown"``), root time = that retweet's time
(the best bound available, though the original is older), root name = the ``@name`` its text
starts with (a native retweet's ``RT @name:`` names the original's author). If the original
turns up later, it only fills in its author's screen name and follower count, which the
reconstruction reads; the tree is unchanged. A tweet id seen before is ignored. On a sampled
stream most originals are never seen, so such a retweet is normal input, not an error: it is
counted (`unseen_originals`), never rejected.

A retweet whose own id already roots a cascade is ignored and counted (`conflicting_retweets`),
and so is a retweet of itself: that is the closing half of a retweet cycle (A retweets B, which
was registered as A's unseen original, then B retweets A), or a retweet an earlier retweet named as
its original. Every tweet id is held once, as one node of one tree, so no tree can loop whatever
the input claims.

A cascade is forgotten when its last activity (its latest tweet's event time) is older than
`watermark - span`. A retweet arriving after its cascade was forgotten starts a new cascade, as
if the original had never been seen.

Expiry (span 10; `expire` called with the watermark shown)::

    event time    0    2    4    6    8   10   12   14   16   18   20
    cascade A     r    rt             rt                              last activity 8
    cascade B          r                                              last activity 2
    expire(14)              [------------------------)                B left: 2 < 14 - 10
    expire(19)                          [------------------------)    A left: 8 < 19 - 10

A record's `reconstruction` says where its tree came from: ``observed`` when the data named every
retweet's parent (Bluesky's `via`, a native `parent_id`), ``observed+<method>`` when it named
some and the method inferred the others, and the method alone (`ReconstructionConfig.describe`)
when it named none, or for a cascade without retweets.

Depth and structural virality are also ranked among the held cascades of similar size
(`SizePercentiles`, Juul & Ugander 2021), kept incrementally: a cascade that changed has its old
(size, value) observations replaced by its new ones, and removed when it expires. The
replacement waits until percentiles are next read (`record`), so a cascade that took a hundred
retweets between two records is re-ranked once, not a hundred times; the percentiles are the
same. Lone roots are not ranked: a size-1 cascade has no shape to compare.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, NotRequired, TypedDict

from models.event import TweetEvent
from models.records import CascadeRecord, CascadeTree, Trigger
from streams.cascades.reconstruction import (
    Candidates,
    CandidatesSnapshot,
    Participant,
    ReconstructionConfig,
    Reconstructor,
    retweeted_names,
)
from streams.cascades.size_percentile import SizePercentiles, size_bin
from streams.cascades.tree import Cascade, CascadeSnapshot

SNAPSHOT_VERSION = 1
# A published tree holds at most this many tweets: enough to draw, bounded however big the cascade.
TREE_MAX_NODES = 500

UNKNOWN_USER = "unknown"
"""The root user of a cascade whose original was never seen and whose retweets did not say."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CascadeForestConfig:
    """How cascades are built and kept.

    Parameters
    ----------
    reconstruction
        How each retweet's parent is chosen when the data does not say.
    span
        A cascade is forgotten once its last activity is older than the watermark minus `span`.
    window, lateness
        Copied into every `CascadeRecord` (the window it describes, the lateness allowed).
    percentile_min_count
        Fewest held cascades in a size bin for a percentile to be given.

    """

    reconstruction: ReconstructionConfig = field(default_factory=ReconstructionConfig)
    span: timedelta = timedelta(hours=24)
    window: timedelta = timedelta(hours=24)
    lateness: timedelta = timedelta(seconds=10)
    percentile_min_count: int = 5


_new_tuple = tuple.__new__  # builds a named tuple without calling its Python-level __new__


class Attachment(NamedTuple):
    """One retweet joining its cascade: where it hung, and whether the data said so.

    `explicit` is True when the parent came from the data (a parent id, a retweet of a retweet,
    an ``RT @a: RT @b:`` chain), False when the reconstruction method inferred it. A named
    tuple: one is made per retweet, and a frozen dataclass is several times slower to build.
    """

    root_id: str
    root_user_id: str
    node_id: str
    user_id: str  # the retweeter
    parent_id: str
    parent_user_id: str
    at: datetime
    explicit: bool


class TreeSnapshot(TypedDict):
    """One cascade with retweets: its tree, its candidate parents and each node's author."""

    cascade: CascadeSnapshot
    candidates: CandidatesSnapshot
    user_ids: list[str]  # aligned with cascade["node_ids"]
    inferred: NotRequired[int]  # `_Tree.inferred` (absent from older snapshots: every parent inferred)


class CascadeForestSnapshot(TypedDict):
    """The plain, JSON-serialisable state of a `CascadeForest`."""

    version: int
    lone_roots: list[list[str | int | None]]  # `Participant.to_json` of each root without retweets
    trees: list[TreeSnapshot]
    disordered: NotRequired[int]  # `CascadeForest.disordered` (absent from older snapshots: 0)
    conflicting_retweets: NotRequired[int]  # as `disordered`
    unseen_originals: NotRequired[int]  # as `disordered`


@dataclass(slots=True)
class _Tree:
    cascade: Cascade
    candidates: Candidates
    inferred: int = 0  # retweets whose parent the method chose (the data did not name it)


@dataclass(slots=True, eq=False)
class CascadeForest:
    """The retweet cascades of one stream (or one partition of it, keyed by root), kept current.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> forest = CascadeForest(CascadeForestConfig(reconstruction=ReconstructionConfig(method="time")))
    >>> forest.observe(TweetEvent(id="r", user_id="alice", at=t0)) is None
    True
    >>> attachment = forest.observe(
    ...     TweetEvent(id="a", user_id="bob", at=t0 + timedelta(minutes=1), retweet_of="r")
    ... )
    >>> attachment.parent_id, attachment.parent_user_id, attachment.explicit
    ('r', 'alice', False)
    >>> later = TweetEvent(id="b", user_id="carol", at=t0 + timedelta(minutes=2), retweet_of="r")
    >>> forest.observe(later).parent_id
    'a'
    >>> forest.record("r", Trigger.END).depth
    2

    """

    config: CascadeForestConfig
    _reconstructor: Reconstructor = field(init=False, repr=False)
    _lone: dict[str, Participant] = field(default_factory=dict, init=False, repr=False)
    _trees: dict[str, _Tree] = field(default_factory=dict, init=False, repr=False)
    # Every held tweet id -> (its cascade's root id, its author): duplicates, retweets of
    # retweets and parents' authors are then one lookup each.
    _nodes: dict[str, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)
    _roots_by_user: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False)
    # One (last activity when pushed, root id) per held cascade; an entry whose cascade grew
    # since is pushed back with its new time when it reaches the top, so growth costs nothing.
    _expiry: list[tuple[datetime, str]] = field(default_factory=list, init=False, repr=False)
    _depths: SizePercentiles = field(init=False, repr=False)
    _viralities: SizePercentiles = field(init=False, repr=False)
    # What each ranked cascade contributes to the percentiles now, (size, depth, virality), and
    # the cascades that changed since (see `_rank`).
    _ranked: dict[str, tuple[int, int, float]] = field(default_factory=dict, init=False, repr=False)
    _changed: set[str] = field(default_factory=set, init=False, repr=False)
    disordered: int = field(init=False)
    """Retweets whose parent was inferred after a later tweet of their cascade had arrived: their
    candidates lacked what was still to come, so their trees can differ from the time-ordered
    input's (shallower, for a stream read newest first, as twarc pages list tweets)."""
    conflicting_retweets: int = field(init=False)
    """Retweets ignored because their own id already roots a cascade (a retweet cycle's closing
    half), or because they retweet themselves."""
    unseen_originals: int = field(init=False)
    """Cascades started by a retweet of a tweet never seen (normal on a sampled stream)."""

    def __post_init__(self) -> None:
        """Start empty.

        The counters are set here, not as the fields' defaults: compiled by mypyc, such a default
        is never assigned.
        """
        self.disordered = 0
        self.conflicting_retweets = 0
        self.unseen_originals = 0
        self._reconstructor = Reconstructor(self.config.reconstruction)
        self._depths = SizePercentiles(self.config.percentile_min_count)
        self._viralities = SizePercentiles(self.config.percentile_min_count)

    def observe(self, event: TweetEvent) -> Attachment | None:
        """Take one tweet: a retweet joins its cascade (returned), anything else registers a root.

        None for a root, a repeated tweet id, or a retweet of itself. Costs O(depth) plus the
        reconstruction's cost (see `streams.cascades.reconstruction`).
        """
        located = self._nodes.get(event.id)
        if located is not None:
            if event.retweet_of is None:
                self._learn_root(event)
            elif located[0] == event.id:
                self.conflicting_retweets += 1
            return None
        if event.retweet_of is None:
            self._register(Participant.of(event))
            return None
        if event.retweet_of == event.id:
            self.conflicting_retweets += 1
            return None
        return self._attach(event, event.retweet_of)

    def observe_many(self, events: Iterable[TweetEvent]) -> list[Attachment]:
        """`observe` each event in order; return the attachments made."""
        attachments = []
        for event in events:
            attachment = self.observe(event)
            if attachment is not None:
                attachments.append(attachment)
        return attachments

    def _register(self, root: Participant) -> None:
        self._lone[root.node_id] = root
        self._nodes[root.node_id] = (root.node_id, root.user_id)
        if root.user_id != UNKNOWN_USER:
            # get, not setdefault: that would build an empty set for every root of a known user.
            roots = self._roots_by_user.get(root.user_id)
            if roots is None:
                self._roots_by_user[root.user_id] = {root.node_id}
            else:
                roots.add(root.node_id)
        heapq.heappush(self._expiry, (root.at, root.node_id))

    def _learn_root(self, event: TweetEvent) -> None:
        """Fill in a root's unknown screen name and followers from its late-arriving original."""
        root_id, _ = self._nodes[event.id]
        if root_id != event.id:
            return  # a retweet id seen again as something else: ignored
        tree = self._trees.get(root_id)
        known = self._lone[root_id] if tree is None else tree.candidates.root
        learned = Participant.of(event)
        root = known._replace(
            name=known.name if known.name is not None else learned.name,
            followers=known.followers or learned.followers,
        )
        if tree is None:
            self._lone[root_id] = root
        else:
            tree.candidates.update_root(root)
            tree.cascade.learn_root_time(event.at)

    def _attach(self, event: TweetEvent, through: str) -> Attachment:
        located = self._nodes.get(through)
        if located is None:
            self.unseen_originals += 1
            names = retweeted_names(event.text)
            user_id = event.retweet_of_user or UNKNOWN_USER
            self._register(Participant.of_unseen(through, user_id, event.at, names[0] if names else None))
            root_id = through
        else:
            root_id = located[0]
        tree = self._trees.get(root_id)
        if tree is None:
            tree = self._grow(root_id)
        cascade = tree.cascade
        choice = self._reconstructor.choose(tree.candidates, event, members=cascade, through=through)
        if not choice.explicit and event.at < cascade.last_at:
            self.disordered += 1
        cascade.add(event.id, choice.parent_id, event.at)
        if not choice.explicit:
            tree.inferred += 1
        tree.candidates.add(Participant.of(event))
        self._nodes[event.id] = (root_id, event.user_id)
        self._changed.add(root_id)
        # tuple.__new__ with the fields in order: five times faster than the named tuple's own
        # keyword constructor, and one attachment is made per retweet.
        return _new_tuple(
            Attachment,
            (
                root_id,
                cascade.root_user_id,
                event.id,
                event.user_id,
                choice.parent_id,
                self._nodes[choice.parent_id][1],
                event.at,
                choice.explicit,
            ),
        )

    def _grow(self, root_id: str) -> _Tree:
        """Turn a lone root into a tree, at its first retweet."""
        root = self._lone.pop(root_id)
        tree = _Tree(
            Cascade(root.node_id, root.user_id, root.at),
            Candidates(root, self.config.reconstruction.max_candidates),
        )
        self._trees[root_id] = tree
        return tree

    def _rank(self) -> None:
        """Bring the percentiles up to date with every cascade that changed since they were read."""
        depths, viralities, ranked = self._depths, self._viralities, self._ranked
        for root_id in self._changed:
            cascade = self._trees[root_id].cascade
            new = (cascade.size, cascade.depth, cascade.structural_virality or 0.0)
            old = ranked.get(root_id)
            if old == new:
                continue
            if old is None:
                depths.add(new[0], new[1])
            else:
                if old[1] != new[1] or size_bin(old[0]) != size_bin(new[0]):
                    depths.remove(old[0], old[1])
                    depths.add(new[0], new[1])
                viralities.remove(old[0], old[2])
            viralities.add(new[0], new[2])
            ranked[root_id] = new
        self._changed.clear()

    def _unrank(self, root_id: str) -> None:
        self._changed.discard(root_id)
        old = self._ranked.pop(root_id, None)
        if old is not None:
            self._depths.remove(old[0], old[1])
            self._viralities.remove(old[0], old[2])

    def expire(self, watermark: datetime) -> list[str]:
        """Forget every cascade whose last activity is older than `watermark - span`.

        Returns their root ids, oldest last activity first (ties by root id). Costs
        O(log n) per cascade forgotten or found to have grown since it was last checked, plus
        O(size) to forget one.
        """
        cutoff = watermark - self.config.span
        expiry = self._expiry
        expired: list[tuple[datetime, str]] = []
        while expiry and expiry[0][0] < cutoff:
            _, root_id = heapq.heappop(expiry)
            last_at = self._last_at(root_id)
            if last_at < cutoff:
                self._forget(root_id)
                expired.append((last_at, root_id))
            else:
                heapq.heappush(expiry, (last_at, root_id))
        return [root_id for _, root_id in sorted(expired)]

    def _last_at(self, root_id: str) -> datetime:
        tree = self._trees.get(root_id)
        return self._lone[root_id].at if tree is None else tree.cascade.last_at

    def _forget(self, root_id: str) -> None:
        tree = self._trees.pop(root_id, None)
        if tree is None:
            root_user_id = self._lone.pop(root_id).user_id
            del self._nodes[root_id]
        else:
            cascade = tree.cascade
            root_user_id = cascade.root_user_id
            self._unrank(root_id)
            for node_id in cascade.snapshot()["node_ids"]:
                del self._nodes[node_id]
        roots = self._roots_by_user.get(root_user_id)
        if roots is not None:
            roots.discard(root_id)
            if not roots:
                del self._roots_by_user[root_user_id]

    def record(self, root_id: str, trigger: Trigger, *, at: datetime | None = None) -> CascadeRecord:
        """The current shape of the cascade rooted at `root_id`, as a metric record.

        `at` defaults to the cascade's last activity. Percentiles are among the held cascades
        of the same size bin, None for a lone root or a bin with too few cascades.

        Raises
        ------
        KeyError
            If no cascade with that root is held.

        """
        cascade = self._cascade(root_id)
        size, depth, virality = cascade.size, cascade.depth, cascade.structural_virality
        ranked = size > 1
        if ranked:
            self._rank()
        return CascadeRecord(
            at=cascade.last_at if at is None else at,
            window=self.config.window,
            lateness=self.config.lateness,
            trigger=trigger,
            root_id=root_id,
            root_user_id=cascade.root_user_id,
            size=size,
            depth=depth,
            max_breadth=cascade.max_breadth,
            structural_virality=virality,
            broadcast_share=cascade.broadcast_share,
            growth_rate_per_hour=cascade.growth_rate_per_hour,
            depth_percentile=self._depths.percentile(size, depth) if ranked else None,
            virality_percentile=self._viralities.percentile(size, virality or 0.0) if ranked else None,
            reconstruction=self._provenance(root_id, size),
        )

    def _provenance(self, root_id: str, size: int) -> str:
        """How the tree of `root_id` was built (see the module docstring)."""
        method = self.config.reconstruction.describe()
        tree = self._trees.get(root_id)
        if tree is None or size < 2 or tree.inferred == size - 1:
            return method
        return "observed" if tree.inferred == 0 else f"observed+{method}"

    def tree_record(
        self, root_id: str, trigger: Trigger, *, at: datetime, max_nodes: int = TREE_MAX_NODES
    ) -> CascadeTree:
        """The tree of the cascade rooted at `root_id`, its first `max_nodes` tweets at most, as a
        record (for drawing: see `CascadeTree`); raise KeyError if no such cascade is held.
        """
        cascade = self._cascade(root_id)
        nodes, parents = cascade.tree(max_nodes)
        return CascadeTree(
            at=at,
            window=self.config.window,
            lateness=self.config.lateness,
            trigger=trigger,
            root_id=root_id,
            root_user_id=cascade.root_user_id,
            size=cascade.size,
            nodes=tuple(nodes),
            parents=tuple(parents),
            truncated=cascade.size > len(nodes),
        )

    def _cascade(self, root_id: str) -> Cascade:
        tree = self._trees.get(root_id)
        if tree is not None:
            return tree.cascade
        root = self._lone.get(root_id)
        if root is None:
            raise KeyError(root_id)
        return Cascade(root.node_id, root.user_id, root.at)

    def get(self, root_id: str) -> Cascade | None:
        """The cascade rooted at `root_id`, or None if none is held.

        Read it, never change it: it is the forest's own tree (for a lone root, a new
        one-node tree, built on demand).
        """
        try:
            return self._cascade(root_id)
        except KeyError:
            return None

    def root_of(self, node_id: str) -> str | None:
        """The root id of the held cascade that tweet `node_id` belongs to, or None."""
        located = self._nodes.get(node_id)
        return None if located is None else located[0]

    def roots_of_user(self, user_id: str) -> frozenset[str]:
        """The roots of the held cascades that `user_id` started (their originals' author)."""
        return frozenset(self._roots_by_user.get(user_id, ()))

    def __len__(self) -> int:
        """Held cascades, lone roots included."""
        return len(self._lone) + len(self._trees)

    def __contains__(self, root_id: object) -> bool:
        """Whether a cascade rooted at `root_id` is held."""
        return root_id in self._trees or root_id in self._lone

    def __iter__(self) -> Iterator[str]:
        """The held cascades' root ids: lone roots, then cascades with retweets."""
        yield from list(self._lone)
        yield from list(self._trees)

    def grown(self) -> list[str]:
        """The root ids of the held cascades with at least one retweet (no lone roots to skip)."""
        return list(self._trees)

    def snapshot(self) -> CascadeForestSnapshot:
        """Plain, JSON-serialisable data from which `restore` rebuilds this forest exactly.

        Indices, percentiles and the expiry queue are derived again on restore.
        """
        nodes = self._nodes
        trees: list[TreeSnapshot] = []
        for tree in self._trees.values():
            cascade = tree.cascade.snapshot()
            trees.append(
                {
                    "cascade": cascade,
                    "candidates": tree.candidates.snapshot(),
                    "user_ids": [nodes[node_id][1] for node_id in cascade["node_ids"]],
                    "inferred": tree.inferred,
                }
            )
        return {
            "version": SNAPSHOT_VERSION,
            "lone_roots": [root.to_json() for root in self._lone.values()],
            "trees": trees,
            "disordered": self.disordered,
            "conflicting_retweets": self.conflicting_retweets,
            "unseen_originals": self.unseen_originals,
        }

    @classmethod
    def restore(cls, config: CascadeForestConfig, data: CascadeForestSnapshot) -> CascadeForest:
        """The forest `snapshot` described; it continues exactly as the original would have."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"cascade forest snapshot version {data['version']!r} is not supported")
        forest = cls(config)
        forest.disordered = data.get("disordered", 0)
        forest.conflicting_retweets = data.get("conflicting_retweets", 0)
        forest.unseen_originals = data.get("unseen_originals", 0)
        for root in data["lone_roots"]:
            forest._register(Participant.from_json(root))
        limit = config.reconstruction.max_candidates
        for saved in data["trees"]:
            cascade = Cascade.restore(saved["cascade"])
            candidates = Candidates.restore(saved["candidates"], limit)
            root_id = cascade.root_id
            node_ids = saved["cascade"]["node_ids"]
            if len(saved["user_ids"]) != len(node_ids) or candidates.root.node_id != root_id:
                raise ValueError(f"cascade forest snapshot: tree {root_id!r} is inconsistent")
            forest._trees[root_id] = _Tree(cascade, candidates, saved.get("inferred", len(node_ids) - 1))
            for node_id, user_id in zip(node_ids, saved["user_ids"], strict=True):
                forest._nodes[node_id] = (root_id, user_id)
            if cascade.root_user_id != UNKNOWN_USER:
                forest._roots_by_user.setdefault(cascade.root_user_id, set()).add(root_id)
            forest._expiry.append((cascade.last_at, root_id))
            forest._changed.add(root_id)
        heapq.heapify(forest._expiry)
        forest._rank()
        return forest

    def __eq__(self, other: object) -> bool:
        """Equal when the same cascades, candidates, indices and rankings are held.

        Brings both forests' pending rankings up to date first (which changes no result).
        """
        if not isinstance(other, CascadeForest):
            return NotImplemented
        self._rank()
        other._rank()
        return (
            self._lone == other._lone
            and self._trees == other._trees
            and self._nodes == other._nodes
            and self._roots_by_user == other._roots_by_user
            and self._depths.snapshot() == other._depths.snapshot()
            and self._viralities.snapshot() == other._viralities.snapshot()
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable
