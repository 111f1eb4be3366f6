"""What an event credits in the influence window: one (code, user) pair per interaction.

========== =====================================================================================
retweet    `retweets_received` of the original author (Cha et al.'s "retweets"), and weight 1 on
           the edge retweeter -> attributed parent's user (the original author when the cascade
           reconstruction gave no parent). Its mentions are the original's text ("RT @a: ..."),
           so they credit nothing.
quote      `quotes_received` of the quoted user.
reply      `replies_received` of the replied-to user.
mention    `mentions_received` of each distinct mentioned user, except the replied-to user in a
           reply (clients prefix replies with "@user", which would count it twice).
like       `likes_received` of the liked post's author (Bluesky's likes; Twitter's formats carry
           none, so their scores are unchanged). Nothing else: a like is not a post.
========== =====================================================================================

Self-interactions are never credited.
"""

from __future__ import annotations

from models.event import TweetEvent

RETWEET, EDGE, QUOTE, REPLY, MENTION, LIKE = "rt", "to", "qt", "re", "at", "lk"
RECEIVED = (RETWEET, QUOTE, REPLY, MENTION, LIKE)  # the counters kept per user
CONVERSATION = frozenset((REPLY, MENTION))  # the conversation layer's interactions

Credit = tuple[str, str]
"""One interaction an event creates: (code, user credited); `to` is a retweet graph edge."""


def interactions(event: TweetEvent, parent_user_id: str | None = None) -> tuple[Credit, ...]:
    """The interactions `event` creates (see the module docstring), self-interactions left out.

    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> rt = TweetEvent(id="2", user_id="b", at=t0, retweet_of="1", retweet_of_user="a")
    >>> interactions(rt, parent_user_id="c")
    (('rt', 'a'), ('to', 'c'))
    """
    author = event.user_id
    found: list[Credit] = []
    if event.like_of is not None:
        liked = event.like_of_user
        return ((LIKE, liked),) if liked is not None and liked != author else ()
    if event.retweet_of is not None:
        if event.retweet_of_user is not None and event.retweet_of_user != author:
            found.append((RETWEET, event.retweet_of_user))
        parent = parent_user_id or event.retweet_of_user
        if parent is not None and parent != author:
            found.append((EDGE, parent))
        return tuple(found)
    if event.quote_of_user is not None and event.quote_of_user != author:
        found.append((QUOTE, event.quote_of_user))
    if event.reply_to_user is not None and event.reply_to_user != author:
        found.append((REPLY, event.reply_to_user))
    # A set, not a search of `found`: a message may name tens of thousands of users.
    passed = {author, event.reply_to_user}
    for user in event.mentions:
        if user not in passed:
            passed.add(user)
            found.append((MENTION, user))
    return tuple(found)
