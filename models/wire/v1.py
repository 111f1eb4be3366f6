"""Twitter API v1.1 statuses (`id_str`, `user`, `entities`, `retweeted_status`, ...)."""

from __future__ import annotations

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
    optional,
    optional_twitter_id,
    require,
    twitter_id,
    v1_time,
)
from models.wire.tags import hashtag_keys


def looks_like_v1(obj: dict[str, Any]) -> bool:
    """A v1.1 status embeds its author as a `user` object."""
    return isinstance(obj.get("user"), dict)


def _status_id(status: dict[str, Any], where: str) -> str:
    return twitter_id(status.get("id_str") or require(status, "id", where), f"{where}id")


def _user_id(status: dict[str, Any], where: str) -> str:
    user = as_object(require(status, "user", where), f"{where}user")
    return twitter_id(user.get("id_str") or require(user, "id", f"{where}user."), f"{where}user.id")


def _not_after(nested: Any, at: datetime, what: str) -> None:
    """Raise `Invalid` when the embedded `what` status is dated after the status (`at`) embedding it."""
    if not isinstance(nested, dict) or nested.get("created_at") is None:
        return
    nested_at = v1_time(nested["created_at"], f"{what}.created_at")
    if nested_at > at:
        raise Invalid(
            RejectReason.REFERENCE_AFTER_TWEET,
            f"{what} is dated {nested_at.isoformat()}, after the status ({at.isoformat()}) that embeds it",
        )


def _full_text_and_entities(status: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    # Streaming API statuses over 140 characters keep the whole text in `extended_tweet`.
    extended = status.get("extended_tweet")
    source = extended if isinstance(extended, dict) else status
    text = source.get("full_text") or source.get("text") or ""
    entities = source.get("entities")
    return as_str(text, "text"), as_object(entities, "entities") if entities is not None else None


def _profile(user: dict[str, Any]) -> Profile | None:
    """The author's account from the status's `user` object; None when it carries none of it.

    Absent or null fields stay None; a present field of the wrong type rejects the status, as
    `followers_count` always has.
    """
    profile = Profile(
        friends=optional(user, "friends_count", as_count, "user.friends_count"),
        statuses=optional(user, "statuses_count", as_count, "user.statuses_count"),
        created_at=optional(user, "created_at", v1_time, "user.created_at"),
        verified=optional(user, "verified", as_flag, "user.verified"),
        default_profile=optional(user, "default_profile", as_flag, "user.default_profile"),
        default_profile_image=optional(user, "default_profile_image", as_flag, "user.default_profile_image"),
        background_image=optional(
            user, "profile_use_background_image", as_flag, "user.profile_use_background_image"
        ),
    )
    return None if profile == Profile() else profile


def parse_v1(status: dict[str, Any]) -> TweetEvent:
    """Normalise one v1.1 status; nested retweeted/quoted statuses only supply their ids and authors."""
    user = as_object(require(status, "user", ""), "user")
    text, entities = _full_text_and_entities(status)
    tags = None
    mentions: tuple[str, ...] = ()
    if entities is not None:
        tags = [
            as_str(as_object(h, "entities.hashtags[]").get("text"), "entities.hashtags[].text")
            for h in as_list(entities.get("hashtags"), "entities.hashtags")
        ]
        mentions = tuple(
            twitter_id(m.get("id_str") or m.get("id"), "entities.user_mentions[].id")
            for m in (
                as_object(x, "entities.user_mentions[]")
                for x in as_list(entities.get("user_mentions"), "entities.user_mentions")
            )
        )
    retweeted = status.get("retweeted_status")
    quoted = status.get("quoted_status")
    followers = user.get("followers_count")
    at = v1_time(require(status, "created_at", ""), "created_at")
    _not_after(retweeted, at, "retweeted_status")
    _not_after(quoted, at, "quoted_status")
    return TweetEvent(
        id=_status_id(status, ""),
        user_id=_user_id(status, ""),
        at=at,
        user_name=as_name(user["screen_name"], "user.screen_name") if user.get("screen_name") else None,
        followers=None if followers is None else as_count(followers, "user.followers_count"),
        text=text,
        hashtags=hashtag_keys(tags, text),
        mentions=mentions,
        retweet_of=_status_id(retweeted, "retweeted_status.") if isinstance(retweeted, dict) else None,
        retweet_of_user=_user_id(retweeted, "retweeted_status.") if isinstance(retweeted, dict) else None,
        reply_to=optional_twitter_id(
            status.get("in_reply_to_status_id_str") or status.get("in_reply_to_status_id"),
            "in_reply_to_status_id",
        ),
        reply_to_user=optional_twitter_id(
            status.get("in_reply_to_user_id_str") or status.get("in_reply_to_user_id"),
            "in_reply_to_user_id",
        ),
        quote_of=(
            _status_id(quoted, "quoted_status.")
            if isinstance(quoted, dict)
            else optional_twitter_id(status.get("quoted_status_id_str"), "quoted_status_id_str")
        ),
        quote_of_user=_user_id(quoted, "quoted_status.") if isinstance(quoted, dict) else None,
        profile=_profile(user),
    )
