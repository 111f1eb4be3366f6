"""Retweet cascades: one cascade's tree (`tree`), the forest of a window's cascades (`forest`),
how a retweet's parent is inferred (`reconstruction`), retweets waiting for their parent
(`orphans`) and the size percentiles records carry.
"""
