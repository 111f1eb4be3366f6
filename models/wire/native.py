"""Resonance's native event schema: a flat JSON object with exactly the keys below.

| key | type | required |
|---|---|---|
| id | string | yes |
| user_id | string | yes |
| created_at | ISO-8601 with a zone, or epoch milliseconds (integer) | yes |
| user_name | string | |
| followers | integer >= 0 | |
| text | string | |
| hashtags | list of strings (with or without '#') | |
| mentions | list of user ids | |
| retweet_of, retweet_of_user | ids: the original tweet of a retweet and its author | |
| parent_id | id: the tweet a retweet came through (the original or an earlier retweet of it) | |
| reply_to, reply_to_user | ids | |
| quote_of, quote_of_user | ids | |
| like_of, like_of_user | ids: the post a like is of and its author (such an event is a like, not a post) | |
| profile | object: the author's account, with exactly the keys below, each optional | |

`profile` (absent or null when the source carried no account data):

| key | type |
|---|---|
| friends | integer >= 0: accounts the author follows |
| statuses | integer >= 0: tweets the author had posted |
| created_at | the account's creation, as the top-level `created_at` |
| verified, default_profile, default_profile_image, background_image | boolean |

When `hashtags` is absent they are extracted from `text` by the twitter-text rules. Unknown keys,
at the top level or in `profile`, are rejected; a key that is present must have its type (null means
absent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.event import Profile, TweetEvent
from models.wire.fields import (
    Invalid,
    RejectReason,
    as_count,
    as_flag,
    as_id,
    as_list,
    as_name,
    as_object,
    as_str,
    epoch_ms_time,
    iso_time,
    optional,
    optional_id,
    require,
)
from models.wire.tags import hashtag_keys

_OPTIONAL_IDS = (
    "retweet_of",
    "retweet_of_user",
    "parent_id",
    "reply_to",
    "reply_to_user",
    "quote_of",
    "quote_of_user",
    "like_of",
    "like_of_user",
)
NATIVE_KEYS = frozenset(
    (
        "id",
        "user_id",
        "created_at",
        "user_name",
        "followers",
        "text",
        "hashtags",
        "mentions",
        *_OPTIONAL_IDS,
        "profile",
    ),
)
_PROFILE_FLAGS = ("verified", "default_profile", "default_profile_image", "background_image")
PROFILE_KEYS = frozenset(("friends", "statuses", "created_at", *_PROFILE_FLAGS))


def looks_like_native(obj: dict[str, Any]) -> bool:
    """The native schema names its author `user_id` at the top level."""
    return "user_id" in obj


def _time(value: Any, field: str) -> datetime:
    return epoch_ms_time(value, field) if isinstance(value, int) else iso_time(value, field)


def _unknown(obj: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(obj) - known)
    if unknown:
        raise Invalid(RejectReason.UNKNOWN_FIELD, f"unknown {where}field(s) {', '.join(unknown)}")


def _profile(value: Any) -> Profile | None:
    if value is None:
        return None
    obj = as_object(value, "profile")
    _unknown(obj, PROFILE_KEYS, "profile ")
    return Profile(
        friends=optional(obj, "friends", as_count, "profile.friends"),
        statuses=optional(obj, "statuses", as_count, "profile.statuses"),
        created_at=optional(obj, "created_at", _time, "profile.created_at"),
        **{key: optional(obj, key, as_flag, f"profile.{key}") for key in _PROFILE_FLAGS},
    )


def parse_native(obj: dict[str, Any]) -> TweetEvent:
    """Validate and normalise one native event; unknown keys are rejected so typos do not pass."""
    _unknown(obj, NATIVE_KEYS, "")
    text = as_str(obj.get("text") or "", "text")
    tags = obj.get("hashtags")
    ids = {key: optional_id(obj.get(key), key) for key in _OPTIONAL_IDS}
    return TweetEvent(
        id=as_id(require(obj, "id", ""), "id"),
        user_id=as_id(require(obj, "user_id", ""), "user_id"),
        at=_time(require(obj, "created_at", ""), "created_at"),
        user_name=as_name(obj["user_name"], "user_name") if obj.get("user_name") is not None else None,
        followers=as_count(obj["followers"], "followers") if obj.get("followers") is not None else None,
        text=text,
        hashtags=hashtag_keys(
            None if tags is None else [as_str(t, "hashtags[]") for t in as_list(tags, "hashtags")],
            text,
        ),
        mentions=tuple(as_id(m, "mentions[]") for m in as_list(obj.get("mentions"), "mentions")),
        profile=_profile(obj.get("profile")),
        **ids,
    )


def to_native(event: TweetEvent) -> dict[str, Any]:
    """The native JSON object for an event (None fields omitted); `parse_native` inverts it."""
    native: dict[str, Any] = {
        "id": event.id,
        "user_id": event.user_id,
        "created_at": _iso(event.at),
        "user_name": event.user_name,
        "followers": event.followers,
        "text": event.text or None,
        "hashtags": list(event.hashtags),
        "mentions": list(event.mentions) or None,
    }
    native.update({key: getattr(event, key) for key in _OPTIONAL_IDS})
    if event.profile is not None:
        native["profile"] = _native_profile(event.profile)
    return {key: value for key, value in native.items() if value is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    """What the stages between ingest and the analyzer read of an event: whom it is by, when,
    its hashtags and the cascade it belongs to (`TweetEvent.cascade_key`).
    """

    id: str
    user_id: str
    at: datetime
    hashtags: tuple[str, ...]
    cascade_key: str


def routing(native: dict[str, Any]) -> Routing:
    """The `Routing` of a native object that `to_native` wrote: the same values as
    `parse_native(native)` gives, read without validating the object again. Only for the
    worker's own topics between its stages, whose items ingest has validated and normalised;
    anything from outside goes through `parse_native`, which validates it (most of what the
    accept stage would otherwise spend per tweet).
    """
    tweet_id = native["id"]
    retweet_of = native.get("retweet_of")
    return Routing(
        id=tweet_id,
        user_id=native["user_id"],
        at=datetime.fromisoformat(native["created_at"]),
        hashtags=tuple(native["hashtags"]),
        cascade_key=tweet_id if retweet_of is None else retweet_of,
    )


def trusted(native: dict[str, Any]) -> TweetEvent:
    """The event `to_native` wrote `native` from: what `parse_native(native)` gives, read without
    validating it again. Only for the worker's own topics, as `routing`: the analyzer process
    rebuilds every event its stage hands it, and ingest validated each one already.
    """
    profile = native.get("profile")
    return TweetEvent(
        id=native["id"],
        user_id=native["user_id"],
        at=datetime.fromisoformat(native["created_at"]),
        user_name=native.get("user_name"),
        followers=native.get("followers"),
        text=native.get("text", ""),
        hashtags=tuple(native["hashtags"]),
        mentions=tuple(native.get("mentions", ())),
        profile=None if profile is None else _trusted_profile(profile),
        **{key: native.get(key) for key in _OPTIONAL_IDS},
    )


def _trusted_profile(native: dict[str, Any]) -> Profile:
    created_at = native.get("created_at")
    return Profile(
        friends=native.get("friends"),
        statuses=native.get("statuses"),
        created_at=None if created_at is None else datetime.fromisoformat(created_at),
        **{key: native.get(key) for key in _PROFILE_FLAGS},
    )


def _native_profile(profile: Profile) -> dict[str, Any]:
    """The native `profile` object (None fields omitted, so an empty profile is `{}`)."""
    created_at = profile.created_at
    native: dict[str, Any] = {
        "friends": profile.friends,
        "statuses": profile.statuses,
        "created_at": None if created_at is None else _iso(created_at),
    }
    native.update({key: getattr(profile, key) for key in _PROFILE_FLAGS})
    return {key: value for key, value in native.items() if value is not None}


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
