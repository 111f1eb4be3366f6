"""The influence metric's parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class InfluenceConfig:
    """The window (`span`, and `lateness`, reported in records) and the metric's parameters.

    `top_share_1`/`top_share_10`: the shares of active users with known followers, by followers,
    that make the "top 1%" and "top 10%" (rounded up). `micro_top_rank_share`: the share of active
    users by rank (rounded up) within which a micro-influencer must rank, with followers at or
    below the `micro_max_follower_percentile` quantile (linear interpolation) of active users'
    known followers.
    """

    span: timedelta
    lateness: timedelta
    top_share_1: float = 0.01
    top_share_10: float = 0.10
    pagerank_alpha: float = 0.85
    micro_max_follower_percentile: float = 0.5
    micro_top_rank_share: float = 0.1

    def __post_init__(self) -> None:
        """Reject parameters outside their ranges."""
        if self.span <= timedelta(0):
            raise ValueError(f"span must be positive, got {self.span}")
        for name in ("top_share_1", "top_share_10", "micro_top_rank_share", "micro_max_follower_percentile"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if not 0 < self.pagerank_alpha < 1:
            raise ValueError(f"pagerank_alpha must be in (0, 1), got {self.pagerank_alpha}")
