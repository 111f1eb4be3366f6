"""Twitter API v2 tweets: a bare tweet, a twarc2 page `{data, includes, ...}`, or a twarc2
"flattened" tweet (one per line, with `author` and expanded `referenced_tweets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.event import Profile, TweetEvent
from models.wire.fields import (
    Invalid,
    RejectReason,
    as_count,
    as_flag,
    as_list,
    as_name,
    as_object,
    as_str,
    iso_time,
    optional,
    optional_twitter_id,
    require,
    twitter_id,
)
from models.wire.tags import hashtag_keys

_REFERENCE_TYPES = ("retweeted", "quoted", "replied_to")


def looks_like_v2_page(obj: dict[str, Any]) -> bool:
    """A twarc2 page (or a raw API response) carries its tweets under `data`."""
    return "data" in obj


def looks_like_v2_tweet(obj: dict[str, Any]) -> bool:
    """A v2 tweet names its author by `author_id` (flattened ones add `author`)."""
    return "author_id" in obj or isinstance(obj.get("author"), dict)


@dataclass(frozen=True, slots=True)
class Includes:
    """The expansions that came with a page: users and referenced tweets, by id."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_ids_by_name: dict[str, str] = field(default_factory=dict)
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of_page(cls, page: dict[str, Any]) -> Includes:
        """Index a page's `includes`; malformed entries are skipped (they are context, not data).

        Raises `Invalid` (`inconsistent_page`) when two entries for one user or one tweet disagree
        on what identifies it (see `_indexed`).
        """
        includes = page.get("includes")
        if not isinstance(includes, dict):
            return cls()
        users = _indexed(as_list(includes.get("users"), "includes.users"), "includes.users", _USER_FACTS)
        tweets = _indexed(as_list(includes.get("tweets"), "includes.tweets"), "includes.tweets", _TWEET_FACTS)
        by_name = {str(u["username"]).lower(): uid for uid, u in users.items() if u.get("username")}
        return cls(users=users, user_ids_by_name=by_name, tweets=tweets)

    def check_against(self, data: list[Any]) -> None:
        """Raise `Invalid` (`inconsistent_page`) when `includes.tweets` holds a tweet of `data`
        with another author or time: the page then says two things about one tweet, and which
        one a reference would be resolved through would be chance.
        """
        if not self.tweets:
            return
        for index, tweet in enumerate(data):
            if not isinstance(tweet, dict):
                continue
            included = self.tweets.get(str(tweet.get("id")))
            if included is not None:
                _agree(tweet, included, _TWEET_FACTS, f"data[{index}] and includes.tweets")


_USER_FACTS = ("username",)
_TWEET_FACTS = ("author_id", "created_at")


def _agree(one: dict[str, Any], other: dict[str, Any], facts: tuple[str, ...], where: str) -> None:
    """Raise `inconsistent_page` unless `one` and `other` agree on each of `facts` both give."""
    for fact in facts:
        mine, theirs = one.get(fact), other.get(fact)
        if mine is not None and theirs is not None and mine != theirs:
            raise Invalid(
                RejectReason.INCONSISTENT_PAGE,
                f"{where} disagree on {fact} of id {one.get('id')}: "
                f"{str(mine)[:40]!r} and {str(theirs)[:40]!r}",
            )


def _indexed(entries: list[Any], where: str, facts: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The object entries with an id, by id; two for one id must agree on `facts`."""
    index: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("id") is None:
            continue
        key = str(entry["id"])
        seen = index.get(key)
        if seen is None:
            index[key] = entry
        else:
            _agree(seen, entry, facts, f"two {where} entries")
    return index


def page_tweets(page: dict[str, Any]) -> list[Any]:
    """The tweets of a page, in order (`data` may be one tweet or a list)."""
    data = page["data"]
    return data if isinstance(data, list) else [data]


def _author(tweet: dict[str, Any], includes: Includes) -> dict[str, Any]:
    author = tweet.get("author")
    if isinstance(author, dict):
        return author
    return includes.users.get(str(tweet.get("author_id")), {})


def _mention_id(mention: dict[str, Any], includes: Includes) -> str | None:
    if mention.get("id") is not None:
        return twitter_id(mention["id"], "entities.mentions[].id")
    name = mention.get("username")
    if not isinstance(name, str) or not name:
        return None
    # Older v2 payloads name mentioned users only by username; resolve it through the page's
    # users when possible, else keep the handle, marked with '@' so it never collides with an id.
    return includes.user_ids_by_name.get(name.lower(), f"@{name}")


def _references(tweet: dict[str, Any], includes: Includes, at: datetime) -> dict[str, tuple[str, str | None]]:
    """Map reference type to (tweet id, its author's id when known); raise `Invalid` when an
    expanded reference is dated after the tweet (`at`) that refers to it.
    """
    found: dict[str, tuple[str, str | None]] = {}
    for item in as_list(tweet.get("referenced_tweets"), "referenced_tweets"):
        ref = as_object(item, "referenced_tweets[]")
        kind = ref.get("type")
        if kind not in _REFERENCE_TYPES or kind in found:
            continue
        ref_id = twitter_id(require(ref, "id", "referenced_tweets[]."), "referenced_tweets[].id")
        expanded = ref if "author_id" in ref else includes.tweets.get(ref_id, {})
        found[kind] = (
            ref_id,
            optional_twitter_id(expanded.get("author_id"), "referenced_tweets[].author_id"),
        )
        ref_at = optional(expanded, "created_at", iso_time, "referenced_tweets[].created_at")
        if ref_at is not None and ref_at > at:
            raise Invalid(
                RejectReason.REFERENCE_AFTER_TWEET,
                f"the {kind} tweet {ref_id} is dated {ref_at.isoformat()}, after the tweet "
                f"({at.isoformat()}) that refers to it",
            )
    return found


def _profile(author: dict[str, Any]) -> Profile | None:
    """The author's account from the v2 user object; None when it carries none of it.

    v2 users have no `default_profile`, `default_profile_image` or background flag, so those stay
    None. `public_metrics` that is not an object is ignored, as it always was for followers; a field
    of the wrong type rejects the tweet, as `followers_count` always has.
    """
    metrics = author.get("public_metrics")
    counts = metrics if isinstance(metrics, dict) else {}
    profile = Profile(
        friends=optional(counts, "following_count", as_count, "public_metrics.following_count"),
        statuses=optional(counts, "tweet_count", as_count, "public_metrics.tweet_count"),
        created_at=optional(author, "created_at", iso_time, "author.created_at"),
        verified=optional(author, "verified", as_flag, "author.verified"),
    )
    return None if profile == Profile() else profile


def parse_v2(tweet: dict[str, Any], includes: Includes | None = None) -> TweetEvent:
    """Normalise one v2 tweet, resolving authors and references through `includes` when given."""
    includes = includes or Includes()
    author = _author(tweet, includes)
    text = as_str(tweet.get("text") or "", "text")
    entities = tweet.get("entities")
    tags = None
    mentions: tuple[str, ...] = ()
    if isinstance(entities, dict):
        if "hashtags" in entities:
            tags = [
                as_str(as_object(h, "entities.hashtags[]").get("tag"), "entities.hashtags[].tag")
                for h in as_list(entities["hashtags"], "entities.hashtags")
            ]
        else:
            tags = []  # the API omits the list when the tweet has no hashtag
        ids = (
            _mention_id(as_object(m, "entities.mentions[]"), includes)
            for m in as_list(entities.get("mentions"), "entities.mentions")
        )
        mentions = tuple(i for i in ids if i is not None)
    at = iso_time(require(tweet, "created_at", ""), "created_at")
    refs = _references(tweet, includes, at)
    retweet = refs.get("retweeted", (None, None))
    quote = refs.get("quoted", (None, None))
    reply = refs.get("replied_to", (None, None))
    metrics = author.get("public_metrics")
    followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
    return TweetEvent(
        id=twitter_id(require(tweet, "id", ""), "id"),
        user_id=twitter_id(tweet.get("author_id") or require(author, "id", "author."), "author_id"),
        at=at,
        user_name=as_name(author["username"], "author.username") if author.get("username") else None,
        followers=None if followers is None else as_count(followers, "public_metrics.followers_count"),
        text=text,
        hashtags=hashtag_keys(tags, text),
        mentions=mentions,
        retweet_of=retweet[0],
        retweet_of_user=retweet[1],
        reply_to=reply[0],
        reply_to_user=reply[1]
        or optional_twitter_id(tweet.get("in_reply_to_user_id"), "in_reply_to_user_id"),
        quote_of=quote[0],
        quote_of_user=quote[1],
        profile=_profile(author),
    )
