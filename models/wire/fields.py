"""Typed field access on decoded JSON, raising `Invalid` with a reason a user can act on."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")

# A time outside 2000-2100 is a unit mistake (seconds sent as milliseconds, or the reverse), which
# we reject instead of silently misplacing; one inside it but before Twitter existed is ancient.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
TWITTER_LAUNCH = datetime(2006, 3, 21, tzinfo=UTC)
"""The day of the first tweet (jack's, 2006-03-21 20:50 UTC): no tweet or account is older."""
_V1_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
ID_LIMIT = 2**63
"""Ids and counts are below it: Twitter's ids are signed 64-bit snowflakes, and Kafka, Java and
Prometheus clients read integers as signed 64-bit. A JSON integer beyond it (orjson reads one
beyond 64 bits as a float) is `number_too_large`, never rounded into another tweet's id.
"""
_ID_DIGITS = len(str(ID_LIMIT))  # 19: only a 19-digit id needs comparing with the limit
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 control characters and DEL: no user name holds one, and in a log line or a terminal
they can forge lines or move the cursor."""


class RejectReason(StrEnum):
    """Why a message, or one tweet inside it, could not be accepted."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    BAD_JSON = "bad_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_FORMAT = "unknown_format"
    UNKNOWN_FIELD = "unknown_field"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    BAD_TIMESTAMP = "bad_timestamp"
    TIMESTAMP_WITHOUT_ZONE = "timestamp_without_zone"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    TIMESTAMP_IN_FUTURE = "timestamp_in_future"
    TOO_MANY_HASHTAGS = "too_many_hashtags"
    EMPTY_PAGE = "empty_page"
    TOO_DEEP = "too_deep"
    NOT_FINITE = "not_finite"
    INVALID_SURROGATE = "invalid_surrogate"
    NUMBER_TOO_LARGE = "number_too_large"
    NEGATIVE_COUNT = "negative_count"
    FOREIGN_ID = "foreign_id"
    CONTROL_CHARACTERS = "control_characters"
    TIMESTAMP_BEFORE_TWITTER = "timestamp_before_twitter"
    SELF_RETWEET = "self_retweet"
    SELF_PARENT = "self_parent"
    SELF_REFERENCE = "self_reference"
    REFERENCE_AFTER_TWEET = "reference_after_tweet"
    TOO_MANY_MENTIONS = "too_many_mentions"
    TEXT_TOO_LONG = "text_too_long"
    PAGE_TOO_LARGE = "page_too_large"
    INCONSISTENT_PAGE = "inconsistent_page"
    NOT_A_POST = "not_a_post"  # a network's event that is no post: a delete, an edit, an identity change


class Invalid(ValueError):  # noqa: N818 - reads as `raise Invalid(...)`, a verdict, not an error class
    """A value failed validation; `reason` is the machine-readable cause, the message the detail."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        """Carry the reason and a one-line detail naming the field."""
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def require(obj: dict[str, Any], key: str, where: str) -> Any:
    """Return `obj[key]`, or raise MISSING_FIELD when it is absent or null."""
    value = obj.get(key)
    if value is None:
        raise Invalid(RejectReason.MISSING_FIELD, f"{where}{key} is required")
    return value


def _too_large(value: Any, field: str) -> None:
    """Raise NUMBER_TOO_LARGE for an integer (or a float read from one) of 64 bits or more."""
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= ID_LIMIT:
        raise Invalid(RejectReason.NUMBER_TOO_LARGE, f"{field} {value:.0f} does not fit in 64 bits (signed)")


def as_id(value: Any, field: str) -> str:
    """An identifier: a non-empty string, or an integer below 2**63 written as one."""
    if isinstance(value, bool):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be a string id, got a boolean")
    _too_large(value, field)
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be a non-empty string id")
    return value


def twitter_id(value: Any, field: str) -> str:
    """An id of Twitter's API (v1.1, v2): decimal digits below 2**63, as a string or an integer.

    Holding the API formats to Twitter's own ids keeps them apart from the ids the other formats
    make up (`higgs-user:7`, `conover-reply-line:3`, a v2 mention's `@name`): an API tweet cannot
    pose as, and be counted once with, a research format's pseudo-tweet.
    """
    text = as_id(value, field)
    if not (text.isascii() and text.isdigit()):
        raise Invalid(
            RejectReason.FOREIGN_ID,
            f"{field} {text[:40]!r} is not a Twitter id (decimal digits): it could collide with the "
            "ids other formats make up",
        )
    if len(text) > _ID_DIGITS or (len(text) == _ID_DIGITS and int(text) >= ID_LIMIT):
        raise Invalid(RejectReason.NUMBER_TOO_LARGE, f"{field} {text[:40]} does not fit in 64 bits (signed)")
    return text


def optional_twitter_id(value: Any, field: str) -> str | None:
    """A Twitter id (`twitter_id`) or None."""
    return None if value is None else twitter_id(value, field)


def as_name(value: Any, field: str) -> str:
    """A user name: a string without control characters."""
    text = as_str(value, field)
    found = _CONTROL.search(text)
    if found is not None:
        raise Invalid(
            RejectReason.CONTROL_CHARACTERS,
            f"{field} holds control character U+{ord(found.group()):04X} at {found.start()}",
        )
    return text


def optional_id(value: Any, field: str) -> str | None:
    """An identifier or None."""
    return None if value is None else as_id(value, field)


def as_str(value: Any, field: str) -> str:
    """A string, as is."""
    if not isinstance(value, str):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be a string, got {type(value).__name__}")
    return value


def as_count(value: Any, field: str) -> int:
    """A non-negative integer below 2**63 (booleans are not counts)."""
    _too_large(value, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be a non-negative integer")
    if value < 0:
        raise Invalid(RejectReason.NEGATIVE_COUNT, f"{field} is {value}: a count is never negative")
    return value


def as_flag(value: Any, field: str) -> bool:
    """A JSON boolean (0, 1 and "true" are not flags)."""
    if not isinstance(value, bool):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be a boolean, got {type(value).__name__}")
    return value


def optional(obj: dict[str, Any], key: str, convert: Callable[[Any, str], T], field: str) -> T | None:
    """`convert(obj[key], field)`, or None when the key is absent or null.

    A value that is present must convert: as with the formats' other optional fields (followers, user
    name, reply ids), a malformed one rejects the tweet with `convert`'s reason instead of being
    dropped silently.
    """
    value = obj.get(key)
    return None if value is None else convert(value, field)


def as_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object."""
    if not isinstance(value, dict):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be an object, got {type(value).__name__}")
    return value


def as_list(value: Any, field: str) -> list[Any]:
    """A JSON array (null counts as empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be a list, got {type(value).__name__}")
    return value


def _in_range(at: datetime, field: str) -> datetime:
    if not _EARLIEST <= at < _LATEST:
        raise Invalid(
            RejectReason.TIMESTAMP_OUT_OF_RANGE,
            f"{field} {at.isoformat()} is outside 2000-2100: epoch times must be milliseconds",
        )
    if at < TWITTER_LAUNCH:
        raise Invalid(
            RejectReason.TIMESTAMP_BEFORE_TWITTER,
            f"{field} {at.isoformat()} is before Twitter existed ({TWITTER_LAUNCH.date().isoformat()})",
        )
    return at.astimezone(UTC)


def iso_time(value: Any, field: str) -> datetime:
    """An ISO-8601 time with a zone (`Z` or an offset), as aware UTC."""
    text = as_str(value, field)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(RejectReason.BAD_TIMESTAMP, f"{field} {text!r} is not ISO-8601") from None
    if at.tzinfo is None:
        raise Invalid(
            RejectReason.TIMESTAMP_WITHOUT_ZONE,
            f"{field} {text!r} has no zone: add Z or an offset such as +00:00",
        )
    return _in_range(at, field)


def epoch_ms_time(value: Any, field: str) -> datetime:
    """Milliseconds since the Unix epoch, as aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} must be ISO-8601 text or epoch milliseconds")
    try:
        at = datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise Invalid(RejectReason.TIMESTAMP_OUT_OF_RANGE, f"{field} {value} is out of range") from None
    return _in_range(at, field)


def v1_time(value: Any, field: str) -> datetime:
    """The v1.1 API's `Wed Oct 10 20:19:24 +0000 2018`, as aware UTC."""
    text = as_str(value, field)
    try:
        at = datetime.strptime(text, _V1_TIME_FORMAT)  # noqa: DTZ007 - %z makes it aware
    except ValueError:
        raise Invalid(RejectReason.BAD_TIMESTAMP, f"{field} {text!r} is not a v1.1 time") from None
    return _in_range(at, field)
