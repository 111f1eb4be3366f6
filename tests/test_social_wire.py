"""Bluesky Jetstream events and Mastodon statuses parse to events, on documented examples."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import social
from social import ALICE, BASE_US, BOB, CAROL, DAN, at_uri

from models.event import Kind, TweetEvent
from models.wire import Rejection, RejectReason, parse_message, to_native
from models.wire.bluesky import identity_handle
from models.wire.native import parse_native

FIXTURES = Path(__file__).parent / "fixtures"


def _results(payload: Any) -> list[TweetEvent | Rejection]:
    return parse_message(orjson.dumps(payload))


def _event(payload: Any) -> TweetEvent:
    [result] = _results(payload)
    assert isinstance(result, TweetEvent), result
    return result


def _rejection(payload: Any) -> Rejection:
    [result] = _results(payload)
    assert isinstance(result, Rejection), result
    return result


def test_jetstream_readme_like_is_a_like_of_the_post_by_its_authors_did() -> None:
    """The README's like event becomes a like: its AT URI as id, the liker's DID, the relay's time,
    and the liked post with its author's DID taken from the post's AT URI.
    """
    line = (FIXTURES / "jetstream_readme.jsonl").read_bytes().splitlines()[0]
    [event] = parse_message(line)
    assert event == TweetEvent(
        id="at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.like/3l3qo2vuowo2b",
        user_id="did:plc:eygmaihciaxprqvxpfvl6flk",
        at=datetime(2024, 9, 9, 19, 46, 2, 329308, tzinfo=UTC),
        like_of="at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3pte3p2e325",
        like_of_user="did:plc:wa7b35aakoll7hugkrjtf3xf",
    )
    assert event.kind is Kind.LIKE


def test_jetstream_readme_delete_identity_and_account_are_counted_as_not_a_post() -> None:
    """The README's deleted follow, identity update and account event are no posts: each is
    rejected as `not_a_post`, with what it was in the detail.
    """
    lines = (FIXTURES / "jetstream_readme.jsonl").read_bytes().splitlines()[1:]
    rejections = [result for line in lines for result in parse_message(line)]
    assert [r.reason for r in rejections if isinstance(r, Rejection)] == [RejectReason.NOT_A_POST] * 3
    assert [r.detail for r in rejections if isinstance(r, Rejection)] == [
        "a delete of a app.bsky.graph.follow, not a new post",
        "a Jetstream identity event, not a post",
        "a Jetstream account event, not a post",
    ]


def test_jetstream_identity_event_gives_the_dids_handle() -> None:
    """The README's identity update names the DID's handle, for the connector to name authors."""
    identity = orjson.loads((FIXTURES / "jetstream_readme.jsonl").read_bytes().splitlines()[2])
    assert identity_handle(identity) == ("did:plc:ufbl4k27gp6kzas5glhz7fim", "yohenrique.bsky.social")


def test_bluesky_post_takes_hashtags_and_mentions_from_its_facets() -> None:
    """A post's hashtags are its tag facets (normalised), not the text's; mentions are the DIDs
    of its mention facets; its event time is `time_us`, not the client's `createdAt`.
    """
    event = _event(
        social.post(ALICE, "3k", BASE_US, "text #NotATag", tags=("Bluesky", "#Rust"), mentions=(BOB,))
    )
    assert (event.id, event.user_id) == (at_uri(ALICE, "app.bsky.feed.post", "3k"), ALICE)
    assert (event.hashtags, event.mentions) == (("bluesky", "rust"), (BOB,))
    assert event.at == datetime(2024, 9, 9, 19, 46, 2, 329308, tzinfo=UTC)
    assert event.kind is Kind.ORIGINAL


def test_bluesky_post_without_tag_facets_takes_hashtags_from_its_text() -> None:
    """Without tag facets (some clients write none), hashtags come from the text."""
    assert _event(social.post(ALICE, "3k", BASE_US, "hello #Bluesky world")).hashtags == ("bluesky",)


def test_bluesky_reply_names_its_parent_and_the_parents_author() -> None:
    """`reply.parent` is the reply; its author is the DID in the parent's AT URI (not the root's)."""
    root = at_uri(ALICE, "app.bsky.feed.post", "1")
    parent = at_uri(BOB, "app.bsky.feed.post", "2")
    event = _event(social.post(CAROL, "3", BASE_US, "me too", reply_to=parent, root=root))
    assert (event.reply_to, event.reply_to_user, event.kind) == (parent, BOB, Kind.REPLY)


def test_bluesky_post_quoting_a_post_in_its_embed_is_a_quote() -> None:
    """A post whose embed is a record naming a post quotes that post and its author."""
    quoted = at_uri(ALICE, "app.bsky.feed.post", "1")
    event = _event(social.post(CAROL, "3", BASE_US, "look", quote=quoted))
    assert (event.quote_of, event.quote_of_user, event.kind) == (quoted, ALICE, Kind.QUOTE)


def test_bluesky_post_with_images_and_a_quoted_post_is_a_quote() -> None:
    """`app.bsky.embed.recordWithMedia` quotes its record's post too."""
    quoted = at_uri(ALICE, "app.bsky.feed.post", "1")
    payload = social.post(CAROL, "3", BASE_US, "look")
    payload["commit"]["record"]["embed"] = {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "bafy"}},
        "media": {"$type": "app.bsky.embed.images", "images": []},
    }
    assert _event(payload).quote_of == quoted


def test_bluesky_repost_via_another_repost_names_it_as_the_parent() -> None:
    """A repost retweets its subject (author from the subject's URI); its `via` is the parent."""
    original = at_uri(ALICE, "app.bsky.feed.post", "1")
    through = at_uri(BOB, "app.bsky.feed.repost", "2")
    event = _event(social.repost(CAROL, "3", BASE_US, original, via=through))
    assert (event.retweet_of, event.retweet_of_user, event.parent_id) == (original, ALICE, through)
    assert event.cascade_key == original
    assert _event(social.repost(CAROL, "3", BASE_US, original)).parent_id is None


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (social.delete(ALICE, "1", BASE_US), "a delete of a app.bsky.feed.post, not a new post"),
        (
            social.like(BOB, "1", BASE_US, at_uri(ALICE, "app.bsky.feed.generator", "x")),
            "commit.record.subject names a app.bsky.feed.generator, not a post",
        ),
    ],
    ids=["delete", "like-of-a-feed"],
)
def test_bluesky_events_that_are_no_posts_are_not_a_post(payload: dict[str, Any], detail: str) -> None:
    """A delete, or a like of something other than a post, is counted as `not_a_post`."""
    rejection = _rejection(payload)
    assert (rejection.reason, rejection.detail) == (RejectReason.NOT_A_POST, detail)


def test_bluesky_time_us_in_milliseconds_is_out_of_range() -> None:
    """A `time_us` in the wrong unit lands in 1970 and is rejected, not misplaced."""
    assert (
        _rejection(social.post(ALICE, "1", BASE_US // 1000, "x")).reason
        is RejectReason.TIMESTAMP_OUT_OF_RANGE
    )


def test_bluesky_repost_of_a_malformed_uri_is_rejected() -> None:
    """A subject that is no AT URI rejects the repost, naming the field."""
    rejection = _rejection(social.repost(CAROL, "3", BASE_US, "https://bsky.app/post/1"))
    assert (rejection.reason, rejection.detail.split(" ")[0]) == (
        RejectReason.WRONG_TYPE,
        "commit.record.subject.uri",
    )


def test_bluesky_like_and_via_survive_the_native_round_trip() -> None:
    """Between the worker's stages events travel as native JSON: likes and parents survive it."""
    events = list(map(_event, social.bluesky_conversation()[1:7]))
    assert [parse_native(to_native(event)) for event in events] == events


def test_mastodon_documented_status_is_a_post_by_its_full_account_address() -> None:
    """The documentation's example status: id scoped by the server, author `acct:` with its
    domain, followers, and the HTML content as text.
    """
    [event] = parse_message((FIXTURES / "mastodon_status_docs.json").read_bytes())
    assert isinstance(event, TweetEvent)
    assert event.id == "https://mastodon.social/api/v1/statuses/103270115826048975"
    assert (event.user_id, event.user_name, event.followers) == (
        "acct:Gargron@mastodon.social",
        "Gargron@mastodon.social",
        322930,
    )
    assert event.at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert event.text.startswith('"I lost my inheritance with one wrong digit on my sort code"\nhttps://www.')
    assert event.kind is Kind.ORIGINAL


def test_mastodon_boost_retweets_the_boosted_status_with_its_hashtags() -> None:
    """A boost (`reblog`) is a retweet of the boosted status, by the booster's remote address,
    carrying the boosted status's hashtags.
    """
    _, boost, _ = social.mastodon_conversation()
    event = _event(social.streaming_update(boost))
    assert event.retweet_of == "https://mastodon.social/api/v1/statuses/103270115826048975"
    assert (event.user_id, event.retweet_of_user) == (
        "acct:alice@fosstodon.org",
        "acct:Gargron@mastodon.social",
    )
    assert event.hashtags == ("mastodon",)


def test_mastodon_reply_names_the_replied_to_account_by_its_mention() -> None:
    """`in_reply_to_account_id` is a server-local id: the reply's author is found by the mention
    Mastodon adds for them, by address.
    """
    _, _, reply = social.mastodon_conversation()
    event = _event(social.streaming_update(reply))
    assert (event.reply_to, event.reply_to_user) == (
        "https://mastodon.social/api/v1/statuses/103270115826048975",
        "acct:Gargron@mastodon.social",
    )
    assert (event.mentions, event.text) == (("acct:Gargron@mastodon.social",), "@Gargron indeed")


def test_mastodon_quote_of_mastodon_4_4_is_the_quote() -> None:
    """A `Quote` with its `quoted_status` names the quoted status and author; a `ShallowQuote`
    names the status only.
    """
    original, _, _ = social.mastodon_conversation()
    full = social.mastodon_status(
        "9",
        "bob",
        "2019-12-08T04:00:00Z",
        "<p>so</p>",
        quote={"state": "accepted", "quoted_status": original},
    )
    shallow = social.mastodon_status(
        "9", "bob", "2019-12-08T04:00:00Z", "<p>so</p>", quote={"state": "accepted", "quoted_status_id": "5"}
    )
    assert (_event(full).quote_of_user, _event(shallow).quote_of) == (
        "acct:Gargron@mastodon.social",
        "https://mastodon.social/api/v1/statuses/5",
    )


def test_mastodon_streaming_update_is_read_from_the_instance_it_names() -> None:
    """A streaming `update` (payload as a JSON string, as the API frames it) is its status, with
    ids scoped by the `instance` the source read it from.
    """
    original, _, _ = social.mastodon_conversation()
    assert (
        _event(social.streaming_update(original, "example.social")).id
        == "https://example.social/api/v1/statuses/103270115826048975"
    )


@pytest.mark.parametrize("name", ["status.update", "delete"])
def test_mastodon_edits_and_deletes_are_counted_as_not_a_post(name: str) -> None:
    """An edit or a delete is counted, not analysed."""
    rejection = _rejection({"stream": ["public"], "event": name, "payload": "103270115826048975"})
    assert rejection.reason is RejectReason.NOT_A_POST


def test_ids_of_the_three_networks_never_collide() -> None:
    """A Twitter id is digits, a Bluesky id an AT URI and DID, a Mastodon id an https URL and an
    `acct:` address: the same local number on each network gives distinct ids.
    """
    bluesky = _event(social.post(ALICE, "1", BASE_US, "x"))
    mastodon = _event(social.mastodon_status("1", "1", "2024-01-01T00:00:00Z", "x", account_id="1"))
    twitter = _event(
        {"id_str": "1", "created_at": "Wed Oct 10 20:19:24 +0000 2018", "text": "x", "user": {"id_str": "1"}}
    )
    ids = {bluesky.id, mastodon.id, twitter.id}
    users = {bluesky.user_id, mastodon.user_id, twitter.user_id}
    assert (len(ids), len(users)) == (3, 3)


def test_the_bluesky_conversation_parses_to_every_kind() -> None:
    """The test conversation gives an original, a retweet with and without a parent, a like, a
    reply and a quote; its identity and delete events are counted.
    """
    results = [result for payload in social.bluesky_conversation() for result in _results(payload)]
    kinds = [r.kind if isinstance(r, TweetEvent) else r.reason for r in results]
    assert kinds == [
        RejectReason.NOT_A_POST,
        Kind.ORIGINAL,
        Kind.RETWEET,
        Kind.RETWEET,
        Kind.LIKE,
        Kind.REPLY,
        Kind.QUOTE,
        RejectReason.NOT_A_POST,
    ]
    assert {r.user_id for r in results if isinstance(r, TweetEvent)} == {ALICE, BOB, CAROL, DAN}
