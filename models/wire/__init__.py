"""Every wire format, decoded in one place: `parse_message(raw)` turns the bytes of one Kafka
message (or one line of a recording) into tweet events and, for what cannot be accepted,
rejections carrying a reason.

Accepted shapes, told apart by their keys: a Twitter API v1.1 status (`user` object), an API v2
tweet (`author_id`), a twarc2 page (`data`, fanned out into its tweets, with `includes` resolving
authors and referenced tweets), a twarc2 flattened tweet (`author`), and the native schema
(`user_id`; see `models.wire.native`), a Bluesky Jetstream event (`kind` and `time_us`; see
`models.wire.bluesky`), a Mastodon status (`account` and `uri`) or streaming event (`event` and
`payload`; see `models.wire.mastodon`). A JSON array of tweets, in any of these formats, is a batch:
fanned out into its tweets like a page (Resonance's own producers send many tweets per message).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from models.event import TweetEvent

# Compiled by mypyc, this package gets a wrong `__path__`: a submodule is found only when this
# module imports it, as it does every one.
from models.wire import batch, bluesky, mastodon, recording
from models.wire.conover import looks_like_conover, parse_conover
from models.wire.fields import Invalid, RejectReason
from models.wire.higgs import parse_higgs
from models.wire.native import looks_like_native, parse_native, to_native
from models.wire.v1 import looks_like_v1, parse_v1
from models.wire.v2 import Includes, looks_like_v2_page, looks_like_v2_tweet, page_tweets, parse_v2

__all__ = [
    "Invalid",
    "RejectReason",
    "Rejection",
    "batch",
    "bluesky",
    "mastodon",
    "parse_line",
    "parse_message",
    "parse_object",
    "recording",
    "to_native",
]

DEFAULT_MAX_BYTES = 1_048_576
MAX_HASHTAGS = 100
"""Distinct hashtags a tweet may carry (see `_admissible`)."""
MAX_MENTIONS = 100
"""Mentions a tweet may carry (see `_admissible`)."""
MAX_TEXT_CHARS = 25_000
"""The longest text accepted: X's longest posts (Premium) hold 25,000 characters."""
MAX_PAGE_TWEETS = 500
"""Tweets a twarc2 page may hold: the API's largest page (full-archive search, `max_results=500`)."""
_NON_FINITE = (b"NaN", b"Infinity", b"-Infinity")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """What could not be accepted: the reason, a detail naming the field, and, for a tweet inside
    a page, its index there (None when the whole message was rejected).
    """

    reason: RejectReason
    detail: str
    index: int | None = None


def _admissible(event: TweetEvent, not_after: datetime | None) -> TweetEvent:
    """`event`, or raise `Invalid` when the analytics cannot take it although its fields parse.

    - Posted after `not_after`: no tweet is posted in the future, and one that claims to be would
      drag the watermark past every real tweet, so that all later ones would be dropped as late,
      silently. Callers pass the wall clock plus a tolerance (`RESONANCE_CLOCK_SKEW`).
    - More than `MAX_HASHTAGS` hashtags: its co-occurrence pairs grow with the square of them
      (15,000 hashtags, 112 million pairs, ran a worker out of memory, and a restarted worker
      read the same message again). A 280-character tweet holds at most 93.
    - More than `MAX_MENTIONS` mentions, or a text over `MAX_TEXT_CHARS`: each mention is an edge
      of the interaction graphs, so 10,000 of them from one message would make one account a hub;
      no real tweet comes near either bound.
    - A retweet of itself, a retweet whose parent (the tweet it came through) is itself, or a reply
      to or quote of itself: a tweet cannot refer to what did not exist before it, and such a
      self-loop would put a tweet in its own cascade.
    """
    if event.retweet_of == event.id:
        raise Invalid(RejectReason.SELF_RETWEET, f"tweet {event.id} retweets itself")
    if event.parent_id == event.id:
        raise Invalid(RejectReason.SELF_PARENT, f"tweet {event.id} names itself as its parent_id")
    if event.id in (event.reply_to, event.quote_of):
        what = "replies to" if event.reply_to == event.id else "quotes"
        raise Invalid(RejectReason.SELF_REFERENCE, f"tweet {event.id} {what} itself")
    if len(event.mentions) > MAX_MENTIONS:
        raise Invalid(
            RejectReason.TOO_MANY_MENTIONS,
            f"{len(event.mentions)} mentions, more than the {MAX_MENTIONS} accepted",
        )
    if len(event.text) > MAX_TEXT_CHARS:
        raise Invalid(
            RejectReason.TEXT_TOO_LONG,
            f"text of {len(event.text)} characters, more than the {MAX_TEXT_CHARS} of X's longest posts",
        )
    if not_after is not None and event.at > not_after:
        raise Invalid(
            RejectReason.TIMESTAMP_IN_FUTURE,
            f"created_at {event.at.isoformat()} is after {not_after.isoformat(timespec='seconds')}, "
            "this machine's clock plus RESONANCE_CLOCK_SKEW",
        )
    if len(event.hashtags) > MAX_HASHTAGS:
        raise Invalid(
            RejectReason.TOO_MANY_HASHTAGS,
            f"{len(event.hashtags)} distinct hashtags, more than the {MAX_HASHTAGS} accepted "
            "(a 280-character tweet holds at most 93)",
        )
    return event


def decode(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Decode one message's JSON, raising `Invalid` for empty, oversized, non-UTF-8 or bad JSON."""
    if not raw or not raw.strip():
        raise Invalid(RejectReason.EMPTY, "empty message")
    if len(raw) > max_bytes:
        raise Invalid(RejectReason.TOO_LARGE, f"{len(raw)} bytes exceeds the {max_bytes}-byte limit")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(RejectReason.NOT_UTF8, f"not UTF-8 at byte {error.start}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Invalid(_json_reason(raw, error), f"invalid JSON: {error}") from None


def _json_reason(raw: bytes, error: orjson.JSONDecodeError) -> RejectReason:
    r"""Why orjson refused `raw`: the hostile cases by name, anything else `bad_json`.

    orjson says which in its message (pinned by the tests): nesting deeper than its limit of 1,024
    levels, a lone or misordered UTF-16 surrogate escape (`\ud800`: no character, and not
    encodable as UTF-8 downstream), and a number too large for a double (`1e999`). NaN and
    Infinity, which JSON does not have, are told by the token where it stopped.
    """
    message = str(error)
    if "depth limit" in message:
        return RejectReason.TOO_DEEP
    if "surrogate" in message:
        return RejectReason.INVALID_SURROGATE
    if (
        "infinity" in message
        or raw[max(error.pos - 1, 0) :].startswith(_NON_FINITE)
        or raw[error.pos :].startswith(_NON_FINITE)
    ):
        return RejectReason.NOT_FINITE
    return RejectReason.BAD_JSON


def _tweet(obj: Any, includes: Includes | None) -> TweetEvent:
    if not isinstance(obj, dict):
        raise Invalid(RejectReason.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}")
    if includes is not None or looks_like_v2_tweet(obj):
        return parse_v2(obj, includes)
    if looks_like_v1(obj):
        return parse_v1(obj)
    if looks_like_native(obj):
        return parse_native(obj)
    if bluesky.looks_like_jetstream(obj):
        return bluesky.parse_jetstream(obj)
    if mastodon.looks_like_mastodon_status(obj):
        return mastodon.parse_status(obj)
    if mastodon.looks_like_mastodon_event(obj):
        return mastodon.parse_event(obj)
    raise Invalid(
        RejectReason.UNKNOWN_FORMAT,
        "not a v1.1 status, a v2 tweet or page, a native event, a Jetstream event or a Mastodon status "
        "(needs user, author_id, data, user_id, kind and time_us, account and uri, or event and payload)",
    )


def parse_object(obj: Any, *, not_after: datetime | None = None) -> list[TweetEvent | Rejection]:
    """Normalise one decoded message: a page or a batch fans out into one result per tweet, in
    order. A tweet posted after `not_after` (when given) is rejected as `timestamp_in_future`.
    """
    if isinstance(obj, list):
        return _bounded(obj, "batch (JSON array)") or [
            _one(tweet, None, index, not_after) for index, tweet in enumerate(obj)
        ]
    if isinstance(obj, dict) and looks_like_v2_page(obj):
        tweets = page_tweets(obj)
        refused = _bounded(tweets, "page")
        if refused:
            return refused
        try:
            includes = Includes.of_page(obj)
            includes.check_against(tweets)
        except Invalid as invalid:
            return [Rejection(reason=invalid.reason, detail=invalid.detail)]
        return [_one(tweet, includes, index, not_after) for index, tweet in enumerate(tweets)]
    return [_one(obj, None, None, not_after)]


def _bounded(tweets: list[Any], what: str) -> list[TweetEvent | Rejection]:
    """The rejection of a page or batch with no tweets or more than `MAX_PAGE_TWEETS`; none when
    its size is acceptable.
    """
    if not tweets:
        return [Rejection(reason=RejectReason.EMPTY_PAGE, detail=f"{what} has no tweets")]
    if len(tweets) > MAX_PAGE_TWEETS:
        return [
            Rejection(
                reason=RejectReason.PAGE_TOO_LARGE,
                detail=f"{what} of {len(tweets)} tweets, more than the API's largest ({MAX_PAGE_TWEETS})",
            )
        ]
    return []


def _one(
    tweet: Any, includes: Includes | None, index: int | None, not_after: datetime | None
) -> TweetEvent | Rejection:
    try:
        return _admissible(_tweet(tweet, includes), not_after)
    except Invalid as invalid:
        return Rejection(reason=invalid.reason, detail=invalid.detail, index=index)


def parse_line(
    raw: bytes, number: int, *, max_bytes: int = DEFAULT_MAX_BYTES, not_after: datetime | None = None
) -> list[TweetEvent | Rejection]:
    """One line of a recording: JSON in any message format, a SNAP Higgs activity line, or a
    Conover et al. 2011 edge-list line (the research formats: their event ids are made from the
    line `number`). A tweet posted after `not_after` (when given) is rejected.
    """
    try:
        higgs = parse_higgs(raw, number)
        if higgs is not None:
            return [_admissible(higgs, not_after)]
        if looks_like_conover(raw):
            return [_admissible(parse_conover(raw, number), not_after)]
    except Invalid as invalid:
        return [Rejection(reason=invalid.reason, detail=invalid.detail)]
    return parse_message(raw, max_bytes=max_bytes, not_after=not_after)


def parse_message(
    raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, not_after: datetime | None = None
) -> list[TweetEvent | Rejection]:
    """Every tweet in one message, or the reasons it was rejected; never raises on bad input.
    A tweet posted after `not_after` (when given) is rejected as `timestamp_in_future`.
    """
    try:
        obj = decode(raw, max_bytes=max_bytes)
    except Invalid as invalid:
        return [Rejection(reason=invalid.reason, detail=invalid.detail)]
    return parse_object(obj, not_after=not_after)
