"""Coordination: accounts that retweet the same posts within seconds of each other
(`coretweets`) and how bot-like their profiles look (`botness`).
"""
