"""The influence records of a window's ranking: one per active user, by rank, and the summary.

Active users are those who posted or received anything in the window (a live cascade root counts
as a post). Among those with known followers, the top 1% and 10% by followers are the first
`ceil(share * n)` by followers descending, ties by user id. The summary reports Spearman's rho
(average ranks for ties) of followers vs retweets received over all of them and over each tier,
None when a tier has fewer than 3 users or a constant vector; `collective_share`, the fraction of
the window's retweet-graph weight (retweets) whose attributed parent user is outside the top 1%,
None without retweets; and how many users are micro-influencers: ranked within the top
`micro_top_rank_share` of active users (rounded up), with known followers at or below the
`micro_max_follower_percentile` quantile of active users' known followers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from models.records import InfluenceRecord, InfluenceSummary
from streams.influence.config import InfluenceConfig
from streams.influence.credits import RECEIVED
from streams.influence.scoring import NO_CASCADES, Ranking, spearman, top_count


def known_followers(followers: Mapping[str, tuple[int, datetime]]) -> list[tuple[str, int]]:
    """Users with known followers (user -> (followers, as of)), most followed first (ties by id)."""
    known = [(user, count) for user, (count, _) in followers.items()]
    known.sort(key=lambda pair: (-pair[1], pair[0]))
    return known


def micro_influencers(config: InfluenceConfig, ranking: Ranking, known: list[tuple[str, int]]) -> set[str]:
    """The micro-influencers among `known` (see the module docstring)."""
    if not known:
        return set()
    ceiling = float(np.quantile([f for _, f in known], config.micro_max_follower_percentile))
    best = top_count(config.micro_top_rank_share, len(ranking.users))
    return {user for user, followers in known if ranking.rank[user] <= best and followers <= ceiling}


def influence_records(
    ranking: Ranking,
    followers: Mapping[str, tuple[int, datetime]],
    micro: set[str],
    common: dict[str, Any],
    top: int | None,
) -> list[InfluenceRecord]:
    """The records of the ranking's first `top` users (all for None), by rank; `common` holds the
    fields every record shares (at, window, lateness, trigger).
    """
    retweets, quotes, replies, mentions, likes = (ranking.received[c] for c in RECEIVED)
    records = []
    for rank, i in enumerate(ranking.order[:top], start=1):
        user = ranking.users[i]
        started, mean_size, mean_virality = ranking.cascades.get(user, NO_CASCADES)
        known = followers.get(user)
        records.append(
            InfluenceRecord(
                **common,
                user_id=user,
                rank=rank,
                score=ranking.score[i],
                followers=None if known is None else known[0],
                retweets_received=retweets[i],
                quotes_received=quotes[i],
                replies_received=replies[i],
                mentions_received=mentions[i],
                likes_received=likes[i],
                cascades_started=started,
                mean_cascade_size=mean_size,
                mean_structural_virality=mean_virality,
                pagerank=ranking.pagerank[i],
                micro_influencer=user in micro,
            )
        )
    return records


def summary(  # noqa: PLR0913 - each is one input of the summary's figures
    config: InfluenceConfig,
    known: list[tuple[str, int]],
    retweets: Mapping[str, int],
    in_weight: Mapping[str, int],
    common: dict[str, Any],
    *,
    active_users: int,
    micro_count: int,
) -> InfluenceSummary:
    """The window's summary (see the module docstring): `retweets` received and retweet-graph
    `in_weight` by user.
    """

    def rho(share: float) -> float | None:
        top = known[: top_count(share, len(known))]
        return spearman([f for _, f in top], [retweets.get(u, 0) for u, _ in top])

    total = sum(in_weight.values())
    top_1 = [u for u, _ in known[: top_count(config.top_share_1, len(known))]]
    to_top = sum(in_weight.get(u, 0) for u in top_1)
    return InfluenceSummary(
        **common,
        spearman_followers_retweets=rho(1.0),
        spearman_followers_retweets_top10=rho(config.top_share_10),
        spearman_followers_retweets_top1=rho(config.top_share_1),
        collective_share=(total - to_top) / total if total else None,
        active_users=active_users,
        micro_influencers=micro_count,
    )
