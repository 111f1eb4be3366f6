"""Hashtags: rolling counts and distinct users, bursts, the co-occurrence graph, and the
hashtag-window stage's core over partitioned hashtag uses.
"""
