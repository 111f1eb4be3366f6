"""Influence: engagement received over a window, credited by interaction (`tracker`), ranked
by engagement and by PageRank on the retweet graph (`pagerank`).
"""
