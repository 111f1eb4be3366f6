"""The engaged-influence score and the statistics records report: how the active users of a
window are ranked (Cha et al. 2010, "The Million Follower Fallacy"; Bakshy et al. 2011).

Score (in [0, 1), followers deliberately absent)::

    score = 0.35 * pct(retweets + quotes received)      amplification: posts that travel
          + 0.25 * pct(mean cascade size - 1)           reach per post, every generation counted
          + 0.25 * pct(pagerank)                        being relayed by accounts that are relayed
          + 0.15 * pct(replies + mentions + likes received)   engagement without spread

where `pct(v)` is v's mid-rank percentile among active users, `(average rank - 1/2) / n` on
(0, 1), and 0 when v is 0 (no evidence is not median evidence). See `SCORE_WEIGHTS` for why
these weights. PageRank runs on the retweet graph (`streams.influence.pagerank`), 0 for users
outside it. Rank 1 is the highest score, ties broken by user id.

Per user, over the window's live cascade roots: `cascades_started` counts roots of size >= 2,
`mean_cascade_size` averages the size of all roots (Bakshy et al.'s per-seed influence),
`mean_structural_virality` averages over roots of size >= 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from streams.influence.credits import LIKE, MENTION, QUOTE, RECEIVED, REPLY, RETWEET

CascadeStats = tuple[int, float, float | None]
"""A user's live roots: (cascades started, mean cascade size, mean structural virality)."""

NO_CASCADES: tuple[int, None, None] = (0, None, None)  # the statistics of a user without live roots

Floats = np.ndarray[Any, np.dtype[np.float64]]

SCORE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"amplification": 0.35, "cascade_reach": 0.25, "pagerank": 0.25, "conversation": 0.15}
)
"""Weights of the score's percentile components; they sum to 1.

Amplification (retweets + quotes received) is the most direct evidence that a user's posts
travel: Cha et al.'s retweet influence, which among top accounts barely tracks followers
(rho ~ 0.1). Cascade reach (mean cascade size - 1, Bakshy et al.) counts every generation, not
only direct retweets, and is a mean so that volume alone is not rewarded. PageRank on the
retweet graph (credit flows from retweeter to the attributed parent) adds transitivity: being
relayed by accounts that are themselves relayed, and credits relays inside cascades. These two
complete the picture of travel at equal weight. Conversation (replies + mentions, Cha et al.'s
mention influence) is engagement, but not spread, and replies may be hostile: lowest weight.
Likes, where the network has them, join this term: engagement received that spreads nothing.
Travel thus carries 0.85 of the score, and followers none, so a small account whose posts spread
outranks a large one whose posts do not.
"""


@dataclass(frozen=True, slots=True)
class Ranking:
    """One on-demand computation over the active users, `users` sorted by id: `order`, their
    positions in `users` by rank, and what the records need: `rank` by user, `score`, `pagerank`
    and the `received` counts as plain lists aligned with `users`, `cascades` by user.
    """

    users: list[str]
    order: list[int]
    rank: dict[str, int]
    score: list[float]
    pagerank: list[float]
    received: dict[str, list[int]]  # interaction code -> counts
    cascades: dict[str, CascadeStats]  # users with live roots only

    def score_of(self, user: str) -> float:
        """The active `user`'s score."""
        return self.score[self.order[self.rank[user] - 1]]


def rank(
    presence: Mapping[str, int],
    pagerank: Mapping[str, float],
    received: Mapping[str, Mapping[str, int]],
    user_roots: Mapping[str, Mapping[str, tuple[int, float | None]]],
) -> Ranking:
    """The ranking of the active users (`presence`), from their PageRank on the retweet graph,
    the counts they `received` (interaction code -> user -> count) and their live cascade roots
    (user -> root id -> (size, structural virality)).
    """
    # One sort by id: it breaks score ties, and fixes PageRank's node order (its float sums
    # follow it, so it must not depend on the order in which edges came and went: a restored
    # state has another history). Everything else indexes users by their place in it.
    users = sorted(presence)
    position = dict(zip(users, range(len(users)), strict=True))
    ranks = _aligned(pagerank, position, np.float64)
    counts = {code: _aligned(received[code], position, np.int64) for code in RECEIVED}
    cascades = {user: _summarize_roots(roots) for user, roots in user_roots.items()}
    reach = {user: mean_size - 1 for user, (_, mean_size, _) in cascades.items()}
    columns = {
        "amplification": counts[RETWEET] + counts[QUOTE],
        "cascade_reach": _aligned(reach, position, np.float64),
        "pagerank": ranks,
        "conversation": counts[REPLY] + counts[MENTION] + counts[LIKE],
    }
    total = np.zeros(len(users))
    for name, weight in SCORE_WEIGHTS.items():
        total += weight * _percentiles(columns[name].astype(np.float64))
    # Highest score first; a stable sort leaves ties in `users`' order, by id.
    order: list[int] = np.argsort(-total, kind="stable").tolist()
    return Ranking(
        users=users,
        order=order,
        rank=dict(zip(map(users.__getitem__, order), range(1, len(order) + 1), strict=True)),
        score=total.tolist(),
        pagerank=ranks.tolist(),
        received={code: column.tolist() for code, column in counts.items()},
        cascades=cascades,
    )


def top_count(share: float, n: int) -> int:
    """How many of `n` users make the top `share` (rounded up).

    >>> top_count(0.1, 30), top_count(0.01, 5)
    (3, 1)
    """
    # Rounded before `ceil` so that 0.1 * 30 = 3.0000000000000004 gives 3, not 4.
    return math.ceil(round(share * n, 9))


def spearman(x: list[int], y: list[int]) -> float | None:
    """Spearman's rank correlation (average ranks for ties), None when undefined or unreliable:
    fewer than 3 pairs, or a constant vector.

    >>> round(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 12)  # 1 - 6 * 4 / (5 * 24)
    0.8
    >>> spearman([1, 2, 3], [7, 7, 7]) is None
    True
    """
    # scipy would return nan, with a warning, for a constant vector.
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    from scipy import stats  # noqa: PLC0415 - see `_percentiles`

    return float(stats.spearmanr(x, y).statistic)


def _percentiles(values: Floats) -> Floats:
    # scipy.stats takes half a second to import, half of what every command and the analyzer
    # process spend starting: it is imported where used, at records and refreshes.
    from scipy import stats  # noqa: PLC0415

    ranks = np.asarray(stats.rankdata(values, method="average"), dtype=np.float64)
    return np.where(values > 0, (ranks - 0.5) / len(values), 0.0)


def _aligned(
    values: Mapping[str, float], position: Mapping[str, int], dtype: type[np.int64 | np.float64]
) -> np.ndarray[Any, Any]:
    """`values` as an array indexed by `position` (which holds every key), 0 elsewhere."""
    aligned = np.zeros(len(position), dtype=dtype)
    places = np.fromiter(map(position.__getitem__, values), np.intp, count=len(values))
    aligned[places] = np.fromiter(values.values(), dtype, count=len(values))
    return aligned


def _summarize_roots(roots: Mapping[str, tuple[int, float | None]]) -> CascadeStats:
    """One user's cascade statistics from their live roots, root id -> (size, virality)."""
    sizes = [size for size, _ in roots.values()]
    spread = [v for size, v in roots.values() if size >= 2 and v is not None]
    started = sum(size >= 2 for size in sizes)
    # fsum is exactly rounded: the means do not depend on the order roots came in.
    virality = math.fsum(spread) / len(spread) if spread else None
    return started, math.fsum(sizes) / len(sizes), virality
