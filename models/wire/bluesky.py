"""Bluesky's Jetstream events (JSON over WebSocket: `did`, `time_us`, `kind`, `commit`).

Jetstream (github.com/bluesky-social/jetstream) turns the AT Protocol firehose into JSON objects,
one per repository change. What becomes an event:

- `commit` `create` of `app.bsky.feed.post`: a post. Text; hashtags from the
  `app.bsky.richtext.facet#tag` facets, else from the text; mentions from the `#mention` facets;
  `reply.parent` as the reply (`reply.root`, the thread's first post, when the parent is missing);
  a post quoted in `embed` (`app.bsky.embed.record`, or the record of `recordWithMedia`) as the
  quote.
- `commit` `create` of `app.bsky.feed.repost`: a retweet of `subject.uri` (its author: the DID in
  that URI). `via`, when present, is the repost it came through: the parent, observed, not
  inferred (`parent_id`; cascade records then say `observed`, see `streams.cascades.forest`).
- `commit` `create` of `app.bsky.feed.like`: a like of `subject.uri` (`TweetEvent.like_of`),
  engagement received, no post.
- a `commit` `delete` or `update`, another collection, `identity`, `account`: rejected as
  `not_a_post`, saying what it was (see below).

**Identifiers** are the network's own and cannot collide with another network's: a post's id is its
AT URI (`at://did:plc:.../app.bsky.feed.post/3l3qo2vuowo2b`), a user's id its DID (`did:plc:...`).
Twitter's ids are decimal digits only (`fields.twitter_id`), and Mastodon's are URLs and `acct:`
URIs (`models.wire.mastodon`).

**Event time is `time_us`**, when the network relayed the record (microseconds since the epoch),
not the record's `createdAt`. `createdAt` is written by the client: it can be any time (imports
of old posts are backdated by years, and a wrong clock can date a post in the future), and one
such post would move the watermark or be dropped as late. `time_us` is the relay's clock,
increasing along the stream, and is the cursor a connection resumes from, so a replay from a
cursor gives the same times. `createdAt` is still checked: a malformed one rejects the event.

**Deletes are counted, not honoured**: a deleted post was said, and spread while it lived; the
windows hold what happened. `resonance source bluesky` counts deletes (and updates) and sends
none; in a recording they are rejected as `not_a_post` and so counted among the rejections.
**Identity events give handles**: the connector keeps the latest handle of each DID it has seen
(bounded) and names the authors of later posts with it (`user_name`); a raw identity event alone
is no post.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.event import TweetEvent
from models.wire.fields import (
    Invalid,
    RejectReason,
    as_count,
    as_list,
    as_object,
    as_str,
    iso_time,
    require,
)
from models.wire.tags import hashtag_keys

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
LIKE = "app.bsky.feed.like"
_TAG = "app.bsky.richtext.facet#tag"
_MENTION = "app.bsky.richtext.facet#mention"
_EMBED_RECORD = "app.bsky.embed.record"
_EMBED_RECORD_WITH_MEDIA = "app.bsky.embed.recordWithMedia"
_MICROSECONDS = 1_000_000


def looks_like_jetstream(obj: dict[str, Any]) -> bool:
    """A Jetstream event names its `kind` and carries the relay's `time_us`."""
    return "kind" in obj and "time_us" in obj


def did_of(uri: str, field: str) -> str:
    """The repository (author) DID of an AT URI `at://did:.../collection/rkey`.

    >>> did_of("at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3pte3p2e325", "uri")
    'did:plc:wa7b35aakoll7hugkrjtf3xf'
    """
    return _split_uri(uri, field)[0]


def _split_uri(uri: str, field: str) -> tuple[str, str, str]:
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts) or not parts[0].startswith("did:"):
        raise Invalid(
            RejectReason.WRONG_TYPE, f"{field} {uri[:80]!r} is not an AT URI at://did/collection/rkey"
        )
    return parts[0], parts[1], parts[2]


def _ref_uri(value: Any, field: str) -> str:
    """The `uri` of a `com.atproto.repo.strongRef` object."""
    return as_str(require(as_object(value, field), "uri", f"{field}."), f"{field}.uri")


def _post_ref(value: Any, field: str) -> tuple[str, str]:
    """(post URI, its author's DID) of a strongRef that must name a post."""
    uri = _ref_uri(value, field)
    did, collection, _ = _split_uri(uri, f"{field}.uri")
    if collection != POST:
        raise Invalid(RejectReason.NOT_A_POST, f"{field} names a {collection}, not a post")
    return uri, did


def _did(value: Any, field: str) -> str:
    did = as_str(value, field)
    if not did.startswith("did:") or len(did) < 8 or any(c.isspace() for c in did):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} {did[:80]!r} is not a DID")
    return did


def _time(event: dict[str, Any]) -> datetime:
    time_us = as_count(require(event, "time_us", ""), "time_us")
    at = datetime.fromtimestamp(time_us / _MICROSECONDS, tz=UTC)
    # The same range checks as every other time: a time_us in milliseconds would land in 1970.
    return iso_time(at.isoformat(), "time_us")


def _facets(record: dict[str, Any]) -> tuple[list[str] | None, tuple[str, ...]]:
    """(tags, mentioned DIDs) of a post's facets; tags None when no facet is a tag."""
    tags: list[str] = []
    mentions: list[str] = []
    for facet in as_list(record.get("facets"), "record.facets"):
        for feature in as_list(
            as_object(facet, "record.facets[]").get("features"), "record.facets[].features"
        ):
            feature_obj = as_object(feature, "record.facets[].features[]")
            kind = feature_obj.get("$type")
            if kind == _TAG:
                tags.append(as_str(require(feature_obj, "tag", "facet "), "facet tag"))
            elif kind == _MENTION:
                mentions.append(_did(require(feature_obj, "did", "facet "), "facet did"))
    return (tags or None), tuple(dict.fromkeys(mentions))


def _quoted(record: dict[str, Any]) -> tuple[str, str] | None:
    """The post a post quotes (`embed`), as (URI, author DID); None without one."""
    embed = record.get("embed")
    if embed is None:
        return None
    embed_obj = as_object(embed, "record.embed")
    kind = embed_obj.get("$type")
    if kind == _EMBED_RECORD_WITH_MEDIA:
        embed_obj = as_object(require(embed_obj, "record", "record.embed."), "record.embed.record")
    elif kind != _EMBED_RECORD:
        return None  # images, an external link, a video: no quote
    ref = require(embed_obj, "record", "record.embed.")
    uri = _ref_uri(ref, "record.embed.record")
    did, collection, _ = _split_uri(uri, "record.embed.record.uri")
    return (uri, did) if collection == POST else None  # a quoted list or feed is no post


def _reply(record: dict[str, Any]) -> tuple[str | None, str | None]:
    reply = record.get("reply")
    if reply is None:
        return None, None
    reply_obj = as_object(reply, "record.reply")
    ref = reply_obj.get("parent") or require(reply_obj, "root", "record.reply.")
    return _post_ref(ref, "record.reply.parent")


def parse_jetstream(event: dict[str, Any]) -> TweetEvent:
    """Normalise one Jetstream event (see the module docstring); raise `Invalid` for what is not
    a post, a repost or a like.
    """
    kind = as_str(event.get("kind"), "kind")
    if kind != "commit":
        raise Invalid(RejectReason.NOT_A_POST, f"a Jetstream {kind} event, not a post")
    did = _did(require(event, "did", ""), "did")
    commit = as_object(require(event, "commit", ""), "commit")
    operation = as_str(commit.get("operation"), "commit.operation")
    collection = as_str(commit.get("collection"), "commit.collection")
    if operation != "create":
        raise Invalid(RejectReason.NOT_A_POST, f"a {operation} of a {collection}, not a new post")
    if collection not in (POST, REPOST, LIKE):
        raise Invalid(RejectReason.NOT_A_POST, f"a {collection} record, not a post, repost or like")
    rkey = as_str(require(commit, "rkey", "commit."), "commit.rkey")
    record = as_object(require(commit, "record", "commit."), "commit.record")
    at = _time(event)
    iso_time(require(record, "createdAt", "commit.record."), "commit.record.createdAt")
    common: dict[str, Any] = {"id": f"at://{did}/{collection}/{rkey}", "user_id": did, "at": at}
    _split_uri(common["id"], "commit.rkey")
    if collection == LIKE:
        liked, liked_user = _post_ref(require(record, "subject", "commit.record."), "commit.record.subject")
        return TweetEvent(**common, like_of=liked, like_of_user=liked_user)
    if collection == REPOST:
        original, original_user = _post_ref(
            require(record, "subject", "commit.record."), "commit.record.subject"
        )
        via = record.get("via")
        return TweetEvent(
            **common,
            retweet_of=original,
            retweet_of_user=original_user,
            parent_id=None if via is None else _ref_uri(via, "commit.record.via"),
        )
    text = as_str(record.get("text") or "", "commit.record.text")
    tags, mentions = _facets(record)
    reply_to, reply_to_user = _reply(record)
    quoted = _quoted(record)
    return TweetEvent(
        **common,
        text=text,
        hashtags=hashtag_keys(tags, text),
        mentions=mentions,
        reply_to=reply_to,
        reply_to_user=reply_to_user,
        quote_of=None if quoted is None else quoted[0],
        quote_of_user=None if quoted is None else quoted[1],
    )


def identity_handle(event: dict[str, Any]) -> tuple[str, str] | None:
    """(DID, handle) of a Jetstream `identity` event that names a handle; None for anything else.

    >>> identity_handle({"kind": "identity", "did": "did:plc:a", "time_us": 1,
    ...                  "identity": {"did": "did:plc:a", "handle": "alice.bsky.social"}})
    ('did:plc:a', 'alice.bsky.social')
    """
    if event.get("kind") != "identity":
        return None
    identity = event.get("identity")
    if not isinstance(identity, dict):
        return None
    did, handle = identity.get("did", event.get("did")), identity.get("handle")
    if isinstance(did, str) and isinstance(handle, str) and handle and handle.isprintable():
        return did, handle
    return None
