"""Bluesky Jetstream events and Mastodon statuses for the tests, built from the networks'
published schemas (see `tests/fixtures/README.md`), and a small conversation of each.
"""

from __future__ import annotations

from typing import Any

import orjson

BASE_US = 1_725_911_162_329_308  # the time_us of Jetstream's README like (2024-09-09T19:46:02Z)
ALICE = "did:plc:wa7b35aakoll7hugkrjtf3xf"  # the author of the post the README's like is of
BOB = "did:plc:eygmaihciaxprqvxpfvl6flk"  # the README like's author
CAROL = "did:plc:ufbl4k27gp6kzas5glhz7fim"  # the README identity event's DID
DAN = "did:plc:rfov6bpyztcnedeyyzgfq42k"  # the README deleted follow's DID


def at_uri(did: str, collection: str, rkey: str) -> str:
    """An AT URI."""
    return f"at://{did}/{collection}/{rkey}"


def _ref(uri: str) -> dict[str, str]:
    return {"uri": uri, "cid": "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4"}


def _commit(did: str, time_us: int, collection: str, rkey: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": "3l3qo2vutsw2b",
            "operation": "create",
            "collection": collection,
            "rkey": rkey,
            "record": {"$type": collection, "createdAt": "2024-09-09T19:46:02.102Z", **record},
            "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
        },
    }


def post(  # noqa: PLR0913 - one argument per field of the lexicon
    did: str,
    rkey: str,
    time_us: int,
    text: str,
    *,
    tags: tuple[str, ...] = (),
    mentions: tuple[str, ...] = (),
    reply_to: str | None = None,
    root: str | None = None,
    quote: str | None = None,
) -> dict[str, Any]:
    """A Jetstream commit creating an `app.bsky.feed.post` (facets with dummy byte ranges)."""
    features = [{"$type": "app.bsky.richtext.facet#tag", "tag": tag} for tag in tags] + [
        {"$type": "app.bsky.richtext.facet#mention", "did": did_} for did_ in mentions
    ]
    record: dict[str, Any] = {"text": text, "langs": ["en"]}
    if features:
        record["facets"] = [{"index": {"byteStart": 0, "byteEnd": 1}, "features": [f]} for f in features]
    if reply_to is not None:
        record["reply"] = {"root": _ref(root or reply_to), "parent": _ref(reply_to)}
    if quote is not None:
        record["embed"] = {"$type": "app.bsky.embed.record", "record": _ref(quote)}
    return _commit(did, time_us, "app.bsky.feed.post", rkey, record)


def repost(did: str, rkey: str, time_us: int, subject: str, *, via: str | None = None) -> dict[str, Any]:
    """A Jetstream commit creating an `app.bsky.feed.repost` of `subject`, through `via`."""
    record: dict[str, Any] = {"subject": _ref(subject)}
    if via is not None:
        record["via"] = _ref(via)
    return _commit(did, time_us, "app.bsky.feed.repost", rkey, record)


def like(did: str, rkey: str, time_us: int, subject: str, *, via: str | None = None) -> dict[str, Any]:
    """A Jetstream commit creating an `app.bsky.feed.like` of `subject`."""
    record: dict[str, Any] = {"subject": _ref(subject)}
    if via is not None:
        record["via"] = _ref(via)
    return _commit(did, time_us, "app.bsky.feed.like", rkey, record)


def delete(did: str, rkey: str, time_us: int) -> dict[str, Any]:
    """A Jetstream commit deleting a post."""
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": "3l3f6nzl3cv2s",
            "operation": "delete",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
        },
    }


def identity(did: str, handle: str, time_us: int) -> dict[str, Any]:
    """A Jetstream identity event naming `handle`."""
    return {
        "did": did,
        "time_us": time_us,
        "kind": "identity",
        "identity": {"did": did, "handle": handle, "seq": 1409752997, "time": "2024-09-05T06:11:04.870Z"},
    }


def user(n: int) -> str:
    """The DID of the n-th made-up user (24 base32 characters, as did:plc ids are)."""
    return f"did:plc:{n:024d}".replace("0", "a")


def via_cascade(root_rkey: str, start_us: int, shape: list[int | None]) -> list[dict[str, Any]]:
    """A post by user 0 and one repost per entry of `shape`, one second apart: entry i (the
    repost by user i + 1) came through repost `shape[i]` (an earlier index) or, for None,
    straight from the post (no `via`).
    """
    original = at_uri(user(0), "app.bsky.feed.post", root_rkey)
    events = [post(user(0), root_rkey, start_us, f"the root of {root_rkey} #cascade", tags=("cascade",))]
    reposts: list[str] = []
    for i, through in enumerate(shape):
        rkey = f"{root_rkey}r{i}"
        via = None if through is None else reposts[through]
        events.append(repost(user(i + 1), rkey, start_us + (i + 1) * 1_000_000, original, via=via))
        reposts.append(at_uri(user(i + 1), "app.bsky.feed.repost", rkey))
    return events


def bluesky_conversation() -> list[dict[str, Any]]:
    """A small Bluesky conversation in time order, every kind of event once at least.

    alice posts (#Bluesky, mentions bob); bob reposts it; carol reposts it through bob's repost;
    bob likes it; dan replies to it, quoting nothing; carol quotes it; alice deletes a post;
    carol's handle is announced.
    """
    t = BASE_US
    original = at_uri(ALICE, "app.bsky.feed.post", "3l3pte3p2e325")
    bobs = at_uri(BOB, "app.bsky.feed.repost", "3l3qo2vuowo3a")
    return [
        identity(CAROL, "yohenrique.bsky.social", t),
        post(
            ALICE,
            "3l3pte3p2e325",
            t + 1_000_000,
            "Hello #Bluesky and @bob",
            tags=("Bluesky",),
            mentions=(BOB,),
        ),
        repost(BOB, "3l3qo2vuowo3a", t + 2_000_000, original),
        repost(CAROL, "3l3qo2vuowo3b", t + 3_000_000, original, via=bobs),
        like(BOB, "3l3qo2vuowo2b", t + 4_000_000, original),
        post(DAN, "3l3qo2vuowo3c", t + 5_000_000, "a reply", reply_to=original),
        post(CAROL, "3l3qo2vuowo3d", t + 6_000_000, "look at this #Quote", quote=original),
        delete(ALICE, "3l3pte3p2e999", t + 7_000_000),
    ]


def mastodon_status(  # noqa: PLR0913 - one argument per field of the entity
    local_id: str,
    acct: str,
    created_at: str,
    content: str,
    *,
    account_id: str = "1",
    followers: int = 10,
    tags: tuple[str, ...] = (),
    mentions: tuple[tuple[str, str], ...] = (),
    reblog: dict[str, Any] | None = None,
    in_reply_to: tuple[str, str] | None = None,
    quote: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Mastodon `Status` entity read from mastodon.social; `mentions` are (account id, acct)."""
    username, _, domain = acct.partition("@")
    host = domain or "mastodon.social"
    return {
        "id": local_id,
        "created_at": created_at,
        "in_reply_to_id": None if in_reply_to is None else in_reply_to[0],
        "in_reply_to_account_id": None if in_reply_to is None else in_reply_to[1],
        "visibility": "public",
        "uri": f"https://{host}/users/{username}/statuses/{local_id}",
        "url": f"https://{host}/@{username}/{local_id}",
        "content": content,
        "reblog": reblog,
        "account": {
            "id": account_id,
            "username": username,
            "acct": acct,
            "url": f"https://{host}/@{username}",
            "followers_count": followers,
        },
        "mentions": [
            {
                "id": mid,
                "username": m.partition("@")[0],
                "acct": m,
                "url": f"https://{m.partition('@')[2] or 'mastodon.social'}/@{m.partition('@')[0]}",
            }
            for mid, m in mentions
        ],
        "tags": [{"name": tag, "url": f"https://mastodon.social/tags/{tag}"} for tag in tags],
        "quote": quote,
    }


def streaming_update(status: dict[str, Any], instance: str = "mastodon.social") -> dict[str, Any]:
    """A streaming `update` event as the WebSocket API frames it (the payload a JSON string), with
    the `instance` it was read from, as `resonance source mastodon` records it.
    """
    return {
        "stream": ["public"],
        "event": "update",
        "payload": orjson.dumps(status).decode(),
        "instance": instance,
    }


def mastodon_conversation() -> list[dict[str, Any]]:
    """A small Mastodon conversation as `Status` entities read from mastodon.social, in time
    order: Gargron posts (#Mastodon); a remote user boosts it; another replies, mentioning Gargron.
    """
    original = mastodon_status(
        "103270115826048975",
        "Gargron",
        "2019-12-08T03:48:33.901Z",
        "<p>Hello <a href='https://mastodon.social/tags/mastodon'>#<span>Mastodon</span></a></p>",
        tags=("mastodon",),
        followers=322930,
    )
    boost = mastodon_status(
        "103270115826049000",
        "alice@fosstodon.org",
        "2019-12-08T03:49:00.000Z",
        "",
        account_id="77",
        reblog=original,
    )
    reply = mastodon_status(
        "103270115826049100",
        "bob",
        "2019-12-08T03:50:00.000Z",
        "<p><span class='h-card'>@Gargron</span> indeed</p>",
        account_id="78",
        mentions=(("1", "Gargron"),),
        in_reply_to=("103270115826048975", "1"),
    )
    return [original, boost, reply]
