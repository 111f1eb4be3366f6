"""Mastodon statuses: the REST and streaming API's `Status` entity, and streaming events.

Accepted shapes:

- a `Status` entity (docs.joinmastodon.org/entities/Status), as the REST API returns it;
- a streaming event, as the WebSocket streaming API frames it: ``{"stream": [...], "event":
  "update", "payload": "<the Status as a JSON string>"}`` (the payload may also be the object
  itself), optionally with ``"instance": "mastodon.social"``, the server it was read from, which
  `resonance source mastodon` adds. Over server-sent events the same event arrives as
  ``event: update`` and ``data: <payload>``; the connector frames it this way.

- an `update` event, or a bare `Status`: a post;
- `reblog` (a boost): a retweet of the boosted status. Text, hashtags and mentions are the boosted
  status's (a boost has none of its own; a Twitter retweet repeats the original's too);
- `in_reply_to_id`, `in_reply_to_account_id`: the reply and its author. The author is found by
  `acct` in the mention Mastodon adds for the replied-to account (None when the reply mentions
  nobody with that id, unless it replies to the author's own status);
- `tags[].name`, `mentions[].acct`, `account.followers_count`: hashtags, mentions, followers;
- `quote` (Mastodon 4.4: a `Quote` with `quoted_status`, or a `ShallowQuote` with
  `quoted_status_id`): the quote, when the server gives one;
- `status.update` (an edit) and `delete` events: rejected as `not_a_post` (see below).

**Identifiers** cannot collide with another network's. A user is their full WebFinger address,
`acct:user@domain` (a local account's `acct` has no domain: the domain is its profile URL's host),
the same whichever server it is read from. A status is its API address on the server it was read
from, `https://<instance>/api/v1/statuses/<id>`: the ids in a status (its own, the boosted
status's, the replied-to status's) are that server's, and only together with the server do they
name one status. The instance is the event's `instance`; for a bare `Status` it is the host of its
`uri`, right for statuses read from the server they were posted on (a server's local timeline).

**Event time** is `created_at` (the server's time; there is no other). **Edits and deletes are
counted, not honoured**: a status is analysed as first posted (its later edits are counted as
`not_a_post`), and a deleted status stays in the windows: it was said, and spread while it lived.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import orjson

from models.event import TweetEvent
from models.wire.fields import (
    Invalid,
    RejectReason,
    as_count,
    as_id,
    as_list,
    as_name,
    as_object,
    as_str,
    iso_time,
    optional_id,
    require,
)
from models.wire.tags import hashtag_keys

_EVENTS_POSTED = ("update",)
_EVENTS_COUNTED = ("status.update", "delete")
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_HOST = re.compile(r"[a-z0-9.-]+(:\d+)?", re.IGNORECASE)


def looks_like_mastodon_status(obj: dict[str, Any]) -> bool:
    """A Mastodon status embeds its author as an `account` object and has a federation `uri`."""
    return isinstance(obj.get("account"), dict) and "uri" in obj


def looks_like_mastodon_event(obj: dict[str, Any]) -> bool:
    """A streaming event names its `event` and carries a `payload`."""
    return "event" in obj and "payload" in obj


def text_of(content: str) -> str:
    r"""Plain text of a status's HTML `content`: paragraphs and breaks as new lines, tags dropped,
    entities decoded.

    >>> text_of('<p>Hello <a href="https://x.example/tags/ai">#<span>ai</span></a></p><p>bye&amp;</p>')
    'Hello #ai\nbye&'
    """
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content)))


def _instance(value: Any, field: str) -> str:
    host = as_str(value, field).lower()
    if not _HOST.fullmatch(host):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} {host[:80]!r} is not a host name")
    return host


def _host_of(url: Any, field: str) -> str:
    host = urlsplit(as_str(url, field)).netloc
    if not host:
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} {str(url)[:80]!r} is not a URL with a host")
    return _instance(host, field)


def status_id(instance: str, local_id: Any, field: str) -> str:
    """The network-wide id of status `local_id` read from `instance`.

    >>> status_id("mastodon.social", "103270115826048975", "id")
    'https://mastodon.social/api/v1/statuses/103270115826048975'
    """
    local = as_id(local_id, field)
    if "/" in local or any(c.isspace() for c in local):
        raise Invalid(RejectReason.WRONG_TYPE, f"{field} {local[:40]!r} is not a status id")
    return f"https://{instance}/api/v1/statuses/{local}"


def account_id(account: dict[str, Any], field: str) -> str:
    """`acct:user@domain` of an `Account` (or a status's `Mention`, which has `acct` and `url`).

    >>> account_id({"acct": "Gargron", "url": "https://mastodon.social/@Gargron"}, "account")
    'acct:Gargron@mastodon.social'
    >>> account_id({"acct": "a@b.example", "url": "https://b.example/@a"}, "account")
    'acct:a@b.example'
    """
    acct = as_name(require(account, "acct", f"{field}."), f"{field}.acct")
    if not acct or any(c.isspace() or c == "/" for c in acct) or acct.count("@") > 1:
        raise Invalid(RejectReason.WRONG_TYPE, f"{field}.acct {acct[:80]!r} is not an account address")
    if "@" not in acct:
        acct = f"{acct}@{_host_of(require(account, 'url', f'{field}.'), f'{field}.url')}"
    return f"acct:{acct}"


def _quote(status: dict[str, Any], instance: str) -> tuple[str | None, str | None]:
    quote = status.get("quote")
    if quote is None:
        return None, None
    quote_obj = as_object(quote, "quote")
    quoted = quote_obj.get("quoted_status")
    if isinstance(quoted, dict):
        account = as_object(require(quoted, "account", "quote.quoted_status."), "quote.quoted_status.account")
        return (
            status_id(instance, require(quoted, "id", "quote.quoted_status."), "quote.quoted_status.id"),
            account_id(account, "quote.quoted_status.account"),
        )
    shallow = optional_id(quote_obj.get("quoted_status_id"), "quote.quoted_status_id")
    return (None if shallow is None else status_id(instance, shallow, "quote.quoted_status_id")), None


def parse_status(status: dict[str, Any], instance: str | None = None) -> TweetEvent:
    """Normalise one `Status` read from `instance` (by default, the host of its `uri`)."""
    host = _host_of(require(status, "uri", ""), "uri") if instance is None else instance
    account = as_object(require(status, "account", ""), "account")
    author = account_id(account, "account")
    followers = account.get("followers_count")
    reblog = status.get("reblog")
    source = as_object(reblog, "reblog") if reblog is not None else status
    where = "reblog." if reblog is not None else ""
    text = text_of(as_str(source.get("content") or "", f"{where}content"))
    tags = [
        as_str(require(as_object(tag, f"{where}tags[]"), "name", f"{where}tags[]."), f"{where}tags[].name")
        for tag in as_list(source.get("tags"), f"{where}tags")
    ]
    mentioned = {
        as_id(require(m, "id", f"{where}mentions[]."), f"{where}mentions[].id"): account_id(
            m, f"{where}mentions[]"
        )
        for m in (
            as_object(x, f"{where}mentions[]") for x in as_list(source.get("mentions"), f"{where}mentions")
        )
    }
    reply_to = optional_id(status.get("in_reply_to_id"), "in_reply_to_id")
    reply_account = optional_id(status.get("in_reply_to_account_id"), "in_reply_to_account_id")
    if reply_account is None:
        reply_to_user = None
    elif reply_account == as_id(require(account, "id", "account."), "account.id"):
        reply_to_user = author  # a thread: a reply to one's own status
    else:
        reply_to_user = mentioned.get(reply_account)
    quote_of, quote_of_user = _quote(status, host)
    retweet_of = retweet_of_user = None
    if reblog is not None:
        retweet_of = status_id(host, require(source, "id", "reblog."), "reblog.id")
        retweet_of_user = account_id(
            as_object(require(source, "account", "reblog."), "reblog.account"), "reblog.account"
        )
    return TweetEvent(
        id=status_id(host, require(status, "id", ""), "id"),
        user_id=author,
        at=iso_time(require(status, "created_at", ""), "created_at"),
        user_name=author.removeprefix("acct:"),
        followers=None if followers is None else as_count(followers, "account.followers_count"),
        text=text,
        hashtags=hashtag_keys(tags, text),
        mentions=tuple(dict.fromkeys(mentioned.values())),
        retweet_of=retweet_of,
        retweet_of_user=retweet_of_user,
        reply_to=None if reply_to is None else status_id(host, reply_to, "in_reply_to_id"),
        reply_to_user=reply_to_user,
        quote_of=quote_of,
        quote_of_user=quote_of_user,
    )


def parse_event(event: dict[str, Any]) -> TweetEvent:
    """Normalise one streaming event: an `update` is its status; an edit or a delete is counted
    (raises `Invalid` with `not_a_post`), as is any other event (notifications, announcements).
    """
    name = as_str(event.get("event"), "event")
    instance = None if event.get("instance") is None else _instance(event["instance"], "instance")
    if name not in _EVENTS_POSTED:
        what = "an edit" if name == "status.update" else "a delete" if name == "delete" else "no status"
        raise Invalid(RejectReason.NOT_A_POST, f"a Mastodon {name} event: {what}, not a new status")
    payload = event["payload"]
    if isinstance(payload, str):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError as error:
            raise Invalid(RejectReason.BAD_JSON, f"payload is not JSON: {error}") from None
    return parse_status(as_object(payload, "payload"), instance)


def counted_event(name: str) -> bool:
    """Whether a streaming event of this name is counted (an edit, a delete), not analysed."""
    return name in _EVENTS_COUNTED
