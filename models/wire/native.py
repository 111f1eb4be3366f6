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

When `hashtags` is absent they are extracted from `text` by the twitter-text rules.
"""

from __future__ import annotations

from typing import Any

from models.event import TweetEvent
from models.wire.fields import (
    Invalid,
    RejectReason,
    as_count,
    as_id,
    as_list,
    as_str,
    epoch_ms_time,
    iso_time,
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
    ),
)


def looks_like_native(obj: dict[str, Any]) -> bool:
    """The native schema names its author `user_id` at the top level."""
    return "user_id" in obj


def _created_at(value: Any) -> Any:
    return epoch_ms_time(value, "created_at") if isinstance(value, int) else iso_time(value, "created_at")


def parse_native(obj: dict[str, Any]) -> TweetEvent:
    """Validate and normalise one native event; unknown keys are rejected so typos do not pass."""
    unknown = sorted(set(obj) - NATIVE_KEYS)
    if unknown:
        raise Invalid(RejectReason.UNKNOWN_FIELD, f"unknown field(s) {', '.join(unknown)}")
    text = as_str(obj.get("text") or "", "text")
    tags = obj.get("hashtags")
    ids = {key: optional_id(obj.get(key), key) for key in _OPTIONAL_IDS}
    return TweetEvent(
        id=as_id(require(obj, "id", ""), "id"),
        user_id=as_id(require(obj, "user_id", ""), "user_id"),
        at=_created_at(require(obj, "created_at", "")),
        user_name=as_str(obj["user_name"], "user_name") if obj.get("user_name") is not None else None,
        followers=as_count(obj["followers"], "followers") if obj.get("followers") is not None else None,
        text=text,
        hashtags=hashtag_keys(
            None if tags is None else [as_str(t, "hashtags[]") for t in as_list(tags, "hashtags")],
            text,
        ),
        mentions=tuple(as_id(m, "mentions[]") for m in as_list(obj.get("mentions"), "mentions")),
        **ids,
    )


def to_native(event: TweetEvent) -> dict[str, Any]:
    """The native JSON object for an event (None fields omitted); `parse_native` inverts it."""
    native: dict[str, Any] = {
        "id": event.id,
        "user_id": event.user_id,
        "created_at": event.at.isoformat().replace("+00:00", "Z"),
        "user_name": event.user_name,
        "followers": event.followers,
        "text": event.text or None,
        "hashtags": list(event.hashtags),
        "mentions": list(event.mentions) or None,
    }
    native.update({key: getattr(event, key) for key in _OPTIONAL_IDS})
    return {key: value for key, value in native.items() if value is not None}
