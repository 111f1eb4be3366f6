"""The one tweet event every wire format normalises to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    """What a tweet does to another tweet, if anything."""

    ORIGINAL = "original"
    RETWEET = "retweet"
    QUOTE = "quote"
    REPLY = "reply"


@dataclass(frozen=True, slots=True, kw_only=True)
class TweetEvent:
    """One tweet, as the analytics core sees it.

    `at` is the event time (when the tweet was posted), timezone-aware UTC. Hashtags are
    lower-cased (Unicode-aware) and de-duplicated in order of appearance. A retweet carries
    `retweet_of` (the original) and, when the source knows it, `parent_id`: the tweet it came
    through, itself the original or an earlier retweet of it.
    """

    id: str
    user_id: str
    at: datetime
    user_name: str | None = None
    followers: int | None = None
    text: str = ""
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    retweet_of: str | None = None
    retweet_of_user: str | None = None
    parent_id: str | None = None
    reply_to: str | None = None
    reply_to_user: str | None = None
    quote_of: str | None = None
    quote_of_user: str | None = None

    @property
    def kind(self) -> Kind:
        """The tweet's relation to another tweet; a retweet wins over a quote or reply."""
        if self.retweet_of is not None:
            return Kind.RETWEET
        if self.quote_of is not None:
            return Kind.QUOTE
        if self.reply_to is not None:
            return Kind.REPLY
        return Kind.ORIGINAL
