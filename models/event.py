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
    LIKE = "like"


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """The author's account as the tweet's embedded user object described it when the tweet was sent.

    Each field is None when the wire format does not carry it (API v2 has no `default_profile`,
    `default_profile_image` or background image) or the payload left it out. The follower count
    lives on `TweetEvent.followers`, where it always has. `created_at` is the account's creation
    time, timezone-aware UTC.
    """

    friends: int | None = None  # accounts the author follows ("following")
    statuses: int | None = None  # tweets the author had posted, retweets included
    created_at: datetime | None = None
    verified: bool | None = None
    default_profile: bool | None = None  # theme and background never changed
    default_profile_image: bool | None = None  # the egg / silhouette avatar
    background_image: bool | None = None  # v1.1 `profile_use_background_image`


@dataclass(frozen=True, slots=True, kw_only=True)
class TweetEvent:
    """One tweet, as the analytics core sees it.

    `at` is the event time (when the tweet was posted), timezone-aware UTC. Hashtags are
    lower-cased (Unicode-aware) and de-duplicated in order of appearance. A retweet carries
    `retweet_of` (the original) and, when the source knows it, `parent_id`: the tweet it came
    through, itself the original or an earlier retweet of it. `profile` is the author's account as
    the tweet described it, or None when the source carried none of it.

    A like (Bluesky's `app.bsky.feed.like`) is an event too, though not a post: `like_of` names the
    post liked and `like_of_user` its author. It carries no text and joins no cascade; the core
    counts it only as engagement the liked author received (`streams.influence.tracker`). Twitter's
    formats carry no likes, so for them both fields stay None.
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
    profile: Profile | None = None
    like_of: str | None = None
    like_of_user: str | None = None

    @property
    def cascade_key(self) -> str:
        """The Kafka key that keeps a cascade's tweets on one partition, in their order: the id
        of the tweet it retweets, or its own id. Inferred parents are chosen among the tweets of
        a cascade that came before (`streams.cascades.reconstruction`), so that order must survive every
        stage; and every copy of a tweet has the same key, so deduplication by partition still
        meets every repeat.
        """
        return self.id if self.retweet_of is None else self.retweet_of

    @property
    def kind(self) -> Kind:
        """The tweet's relation to another tweet; a retweet wins over a quote or reply."""
        if self.like_of is not None:
            return Kind.LIKE
        if self.retweet_of is not None:
            return Kind.RETWEET
        if self.quote_of is not None:
            return Kind.QUOTE
        if self.reply_to is not None:
            return Kind.REPLY
        return Kind.ORIGINAL
