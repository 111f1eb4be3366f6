"""The wire formats: v1.1 statuses, v2 tweets, pages and flattened tweets, the native schema, and
the rejections of what none of them accepts.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.recordings import read_messages
from models.event import Kind, Profile, TweetEvent
from models.wire import Rejection, RejectReason, parse_message, to_native
from models.wire.native import parse_native, routing, trusted
from models.wire.tags import hashtag_keys

REAL_TWEETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "real_tweets"

deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=300)

# One instant, written the way each format writes it.
T0 = datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
V1_T0 = "Wed Oct 10 20:19:24 +0000 2018"
ISO_T0 = "2018-10-10T20:19:24.000Z"
EPOCH_MS_T0 = 1_539_202_764_000


def _results(payload: Any) -> list[TweetEvent | Rejection]:
    """Everything `parse_message` makes of `payload` sent as JSON bytes."""
    return parse_message(orjson.dumps(payload))


def _event(payload: Any) -> TweetEvent:
    """The single event that `payload` must parse to."""
    [result] = _results(payload)
    assert isinstance(result, TweetEvent), result
    return result


def _file_results(path: Path) -> list[TweetEvent | Rejection]:
    """Every result of every message of a recording, in file order."""
    return [result for _, raw in read_messages(path) for result in parse_message(raw)]


def _accepted(results: list[TweetEvent | Rejection]) -> list[TweetEvent]:
    """The events of `results`, failing on any rejection."""
    rejections = [result for result in results if isinstance(result, Rejection)]
    assert not rejections
    return [result for result in results if isinstance(result, TweetEvent)]


# --- Twitter API v1.1 ----------------------------------------------------------------------------


def v1_status(**fields: Any) -> dict[str, Any]:
    """A minimal v1.1 status 100 by alice (user 1, 42 followers) at T0, with `fields` set."""
    return {
        "id_str": "100",
        "created_at": V1_T0,
        "text": "hello",
        "user": {"id_str": "1", "screen_name": "alice", "followers_count": 42},
    } | fields


V1_EVENT = TweetEvent(id="100", user_id="1", at=T0, user_name="alice", followers=42, text="hello")


def test_v1_original_status_becomes_an_original_event() -> None:
    """A plain status yields its id, author, time, screen name, followers and text, and no relation."""
    event = _event(v1_status())
    assert event == V1_EVENT
    assert event.kind is Kind.ORIGINAL


@pytest.mark.parametrize(
    "created_at",
    ["Wed Oct 10 20:19:24 +0000 2018", "Wed Oct 10 22:19:24 +0200 2018", "Wed Oct 10 15:19:24 -0500 2018"],
)
def test_v1_created_at_becomes_aware_utc(created_at: str) -> None:
    """The v1.1 time format, with any offset, becomes the same instant with the UTC zone."""
    at = _event(v1_status(created_at=created_at)).at
    assert at == T0
    assert at.tzinfo is UTC


def test_v1_integer_ids_are_read_as_strings() -> None:
    """Without `id_str`, the integer `id` of the status and of its user is used, as a string."""
    status = v1_status(user={"id": 1}) | {"id": 100}
    del status["id_str"]
    assert _event(status) == dataclasses.replace(V1_EVENT, user_name=None, followers=None)


def test_v1_retweet_takes_the_original_and_its_author_from_retweeted_status() -> None:
    """A retweet names the original status and that status's author, from `retweeted_status`."""
    original = v1_status(id_str="7", user={"id_str": "2", "screen_name": "bob"})
    event = _event(v1_status(text="RT @bob: hello", retweeted_status=original))
    assert (event.retweet_of, event.retweet_of_user) == ("7", "2")
    assert event.kind is Kind.RETWEET


@pytest.mark.parametrize(
    ("fields", "quote_of", "quote_of_user"),
    [
        pytest.param(
            {"quoted_status": v1_status(id_str="8", user={"id_str": "3"}), "quoted_status_id_str": "8"},
            "8",
            "3",
            id="quoted_status",
        ),
        pytest.param({"quoted_status_id_str": "8"}, "8", None, id="quoted_status_id_str-only"),
    ],
)
def test_v1_quote_takes_the_quoted_status(
    fields: dict[str, Any], quote_of: str, quote_of_user: str | None
) -> None:
    """A quote names the quoted status, and its author when the quoted status is embedded."""
    event = _event(v1_status(**fields))
    assert (event.quote_of, event.quote_of_user) == (quote_of, quote_of_user)
    assert event.kind is Kind.QUOTE


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"in_reply_to_status_id_str": "9", "in_reply_to_user_id_str": "4"}, id="id_str"),
        pytest.param({"in_reply_to_status_id": 9, "in_reply_to_user_id": 4}, id="integer-id"),
    ],
)
def test_v1_reply_takes_the_replied_status_and_user(fields: dict[str, Any]) -> None:
    """A reply names the status and user it answers, from the `in_reply_to_*` fields."""
    event = _event(v1_status(**fields))
    assert (event.reply_to, event.reply_to_user) == ("9", "4")
    assert event.kind is Kind.REPLY


def test_v1_extended_tweet_supplies_the_full_text_and_its_entities() -> None:
    """A streamed status over 140 characters is read from `extended_tweet`, not its truncated top level."""
    status = v1_status(
        text="A long one…",
        truncated=True,
        entities={"hashtags": [{"text": "Cut"}], "user_mentions": []},
        extended_tweet={
            "full_text": "A long one, with #Tail and @carol",
            "entities": {"hashtags": [{"text": "Tail"}], "user_mentions": [{"id_str": "5"}]},
        },
    )
    event = _event(status)
    assert (event.text, event.hashtags, event.mentions) == (
        "A long one, with #Tail and @carol",
        ("tail",),
        ("5",),
    )


def test_v1_full_text_is_read_in_extended_mode() -> None:
    """A REST status fetched with tweet_mode=extended carries `full_text` instead of `text`."""
    status = v1_status(full_text="the whole text")
    del status["text"]
    assert _event(status).text == "the whole text"


def test_v1_hashtags_come_from_entities_case_folded_and_deduplicated() -> None:
    """Entity hashtags are the source of truth: case-folded, de-duplicated in order, the text ignored."""
    tags = ["RStats", "DataScience", "rstats", "Straße"]
    status = v1_status(text="#other", entities={"hashtags": [{"text": tag} for tag in tags]})
    assert _event(status).hashtags == ("rstats", "datascience", "strasse")


def test_v1_without_entities_extracts_hashtags_from_the_text() -> None:
    """A status without `entities` gets its hashtags from the text by the twitter-text rules."""
    assert _event(v1_status(text="#Kafka and #kafka, not&#39;s")).hashtags == ("kafka",)


def test_v1_mentions_are_user_ids() -> None:
    """Mentions are the mentioned users' ids (`id_str`, else `id`), not their screen names."""
    mentions = [{"id_str": "12", "screen_name": "jack"}, {"id": 13, "screen_name": "biz"}]
    assert _event(v1_status(entities={"user_mentions": mentions})).mentions == ("12", "13")


# --- Twitter API v2: bare tweets, twarc2 pages, flattened tweets --------------------------------


def v2_tweet(**fields: Any) -> dict[str, Any]:
    """A minimal v2 tweet 200 by user 2 at T0, with `fields` set."""
    return {"id": "200", "author_id": "2", "created_at": ISO_T0, "text": "hello"} | fields


def test_v2_bare_tweet_becomes_an_event() -> None:
    """A tweet without expansions yields its id, author id, time and text; nothing it cannot know."""
    assert _event(v2_tweet()) == TweetEvent(id="200", user_id="2", at=T0, text="hello")


def test_v2_without_entities_extracts_hashtags_from_the_text() -> None:
    """A tweet fetched without the entities field gets its hashtags from the text."""
    assert _event(v2_tweet(text="#Go and #RUST")).hashtags == ("go", "rust")


def test_v2_entities_without_hashtags_mean_no_hashtags() -> None:
    """The API omits `entities.hashtags` when there is none, so the text is not searched."""
    tweet = v2_tweet(text="#Go", entities={"urls": [{"start": 0, "end": 3, "url": "https://t.co/x"}]})
    assert _event(tweet).hashtags == ()


def test_v2_entity_hashtags_are_case_folded_and_deduplicated() -> None:
    """Entity hashtags (`tag`) are case-folded and de-duplicated in order of appearance."""
    tags = [{"start": 0, "end": 4, "tag": "Kpop"}, {"start": 5, "end": 9, "tag": "KPOP"}, {"tag": "Lisa"}]
    assert _event(v2_tweet(entities={"hashtags": tags})).hashtags == ("kpop", "lisa")


def test_v2_reply_user_comes_from_in_reply_to_user_id() -> None:
    """A reply whose replied tweet is not expanded takes its user from `in_reply_to_user_id`."""
    tweet = v2_tweet(referenced_tweets=[{"type": "replied_to", "id": "9"}], in_reply_to_user_id="4")
    event = _event(tweet)
    assert (event.reply_to, event.reply_to_user, event.kind) == ("9", "4", Kind.REPLY)


def twarc_page() -> dict[str, Any]:
    """A twarc2 page: an original, a retweet of an included tweet, and a reply to an unknown one.

    Only the original's author is in `includes.users`; the retweeted tweet 9 (by user 90) is in
    `includes.tweets`; the replied tweet 8 is not included at all.
    """
    return {
        "data": [
            v2_tweet(id="201", text="#Hello world"),
            v2_tweet(
                id="202", author_id="3", text="RT", referenced_tweets=[{"type": "retweeted", "id": "9"}]
            ),
            v2_tweet(id="203", text="hi", referenced_tweets=[{"type": "replied_to", "id": "8"}]),
        ],
        "includes": {
            "users": [{"id": "2", "username": "bob", "public_metrics": {"followers_count": 7}}],
            "tweets": [{"id": "9", "author_id": "90", "text": "original"}],
        },
        "meta": {"result_count": 3},
    }


def test_v2_page_fans_out_in_order_resolving_includes() -> None:
    """A page yields one event per tweet in `data` order, authors and references resolved via `includes`."""
    bob = {"user_id": "2", "at": T0, "user_name": "bob", "followers": 7}
    assert _results(twarc_page()) == [
        TweetEvent(id="201", text="#Hello world", hashtags=("hello",), **bob),
        TweetEvent(id="202", user_id="3", at=T0, text="RT", retweet_of="9", retweet_of_user="90"),
        TweetEvent(id="203", text="hi", reply_to="8", **bob),
    ]


def test_v2_page_with_one_tweet_object_yields_it() -> None:
    """A single-tweet response carries `data` as an object rather than a list."""
    assert _results({"data": v2_tweet()}) == [TweetEvent(id="200", user_id="2", at=T0, text="hello")]


def test_v2_page_rejects_only_the_bad_tweet_with_its_index() -> None:
    """A tweet that fails inside a page becomes a Rejection at its index; its neighbours are parsed."""
    page = twarc_page()
    del page["data"][1]["created_at"]
    results = _results(page)
    assert [type(result) for result in results] == [TweetEvent, Rejection, TweetEvent]
    assert results[1] == Rejection(
        reason=RejectReason.MISSING_FIELD, detail="created_at is required", index=1
    )


def test_a_tweet_dated_after_the_clock_is_rejected_alone() -> None:
    """With `not_after`, a tweet posted later is a `timestamp_in_future` rejection, at its index in a
    page; the tweets beside it, and every tweet when `not_after` is not given, are accepted.
    """
    page = twarc_page()
    page["data"][2]["created_at"] = "2099-01-01T00:00:00.000Z"
    results = parse_message(orjson.dumps(page), not_after=T0 + timedelta(hours=1))
    assert [type(result) for result in results] == [TweetEvent, TweetEvent, Rejection]
    rejection = results[2]
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.index) == (RejectReason.TIMESTAMP_IN_FUTURE, 2)
    assert "2099-01-01" in rejection.detail
    assert all(isinstance(result, TweetEvent) for result in parse_message(orjson.dumps(page)))
    [alone] = parse_message(orjson.dumps(page["data"][2]), not_after=T0)
    assert isinstance(alone, Rejection)
    assert (alone.reason, alone.index) == (RejectReason.TIMESTAMP_IN_FUTURE, None)


@pytest.mark.parametrize(
    ("mention", "expected"),
    [
        pytest.param({"start": 0, "end": 4, "username": "bob", "id": "2"}, ("2",), id="with-id"),
        pytest.param({"start": 0, "end": 4, "username": "Bob"}, ("2",), id="username-resolved-by-includes"),
        pytest.param({"start": 0, "end": 6, "username": "carol"}, ("@carol",), id="username-unresolved"),
        pytest.param({"start": 0, "end": 1}, (), id="neither-id-nor-username"),
    ],
)
def test_v2_mentions_are_user_ids_resolved_through_includes(
    mention: dict[str, Any], expected: tuple[str, ...]
) -> None:
    """A mention is its `id`, else its username looked up (case-insensitively) in `includes.users`,
    else the username marked with '@' so it never collides with an id.
    """
    page = {
        "data": [v2_tweet(entities={"mentions": [mention]})],
        "includes": {"users": [{"id": "2", "username": "bob"}]},
    }
    assert _event(page).mentions == expected


@pytest.mark.parametrize("with_author_id", [True, False], ids=["author_id-and-author", "author-only"])
def test_v2_flattened_tweet_uses_author_and_expanded_references(*, with_author_id: bool) -> None:
    """A twarc2 flattened tweet takes its author from `author` and referenced authors from the
    expanded `referenced_tweets`, without any `includes`.
    """
    tweet = v2_tweet(
        author={"id": "2", "username": "bob", "public_metrics": {"followers_count": 7}},
        referenced_tweets=[{"type": "quoted", "id": "9", "author_id": "90", "text": "the original"}],
        __twarc={"version": "2.0.3"},
    )
    if not with_author_id:
        del tweet["author_id"]
    event = _event(tweet)
    assert (event.user_id, event.user_name, event.followers) == ("2", "bob", 7)
    assert (event.quote_of, event.quote_of_user, event.kind) == ("9", "90", Kind.QUOTE)


# --- Real recordings -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flat_events() -> list[TweetEvent]:
    """The 100 tweets of twarc-csv's flat.jsonl: one twarc2 flattened tweet per line."""
    return _accepted(_file_results(REAL_TWEETS / "v2_twarc" / "twarc_csv_flat.jsonl"))


@pytest.fixture(scope="module")
def noflat_events() -> list[TweetEvent]:
    """The same 100 tweets from twarc-csv's noflat.jsonl: one raw page with `includes`."""
    return _accepted(_file_results(REAL_TWEETS / "v2_twarc" / "twarc_csv_noflat.jsonl"))


def test_flat_and_noflat_hold_the_same_tweets_in_order(
    flat_events: list[TweetEvent], noflat_events: list[TweetEvent]
) -> None:
    """Both shapes yield the same 100 tweet ids in the same order."""
    assert len(flat_events) == 100
    assert [e.id for e in flat_events] == [e.id for e in noflat_events]


@pytest.mark.parametrize("field", [field.name for field in dataclasses.fields(TweetEvent)])
def test_flat_and_noflat_agree_on_every_field(
    flat_events: list[TweetEvent], noflat_events: list[TweetEvent], field: str
) -> None:
    """The flattened and the page shape of a tweet agree on each field, tweet by tweet.

    Every field agrees, not only those both shapes carry literally: followers (`author` vs
    `includes.users`), referenced authors (expanded `referenced_tweets` vs `includes.tweets`) and
    mentions (page mentions carry only a username, resolved through `includes.users`; twarc built the
    flattened mention ids from those same includes, so the one user missing there, @gatewaypundit,
    stays "@gatewaypundit" in both). No field legitimately differs.
    """
    by_id = {e.id: getattr(e, field) for e in noflat_events}
    assert {e.id: getattr(e, field) for e in flat_events} == by_id


def test_noflat_username_mentions_resolve_to_ids(noflat_events: list[TweetEvent]) -> None:
    """Of the page's 110 username-only mentions, all but the one user absent from includes become ids."""
    # Read independently of our parser, with the standard json module: the page's mentions (by
    # username only) and the usernames its includes resolve.
    [page] = [json.loads(line) for line in (REAL_TWEETS / "v2_twarc" / "twarc_csv_noflat.jsonl").open()]
    named = [m["username"] for t in page["data"] for m in t.get("entities", {}).get("mentions", [])]
    included = {u["username"].lower() for u in page["includes"]["users"]}
    assert len(named) == 110
    assert all("id" not in m for t in page["data"] for m in t.get("entities", {}).get("mentions", []))
    unresolved = [f"@{name}" for name in named if name.lower() not in included]
    assert unresolved == ["@gatewaypundit"]
    mentions = [m for e in noflat_events for m in e.mentions]
    assert len(mentions) == len(named)
    assert [m for m in mentions if not m.isdigit()] == unresolved


def test_python_twitter_get_retweets_397_are_fourteen_retweets_of_jack() -> None:
    """python-twitter's GetRetweets fixture (a JSON array) yields 14 retweets of status 397 by @jack (12)."""
    events = _accepted(_file_results(REAL_TWEETS / "v1_1" / "python_twitter_get_retweets_397.json"))
    assert len(events) == 14
    assert len({e.id for e in events}) == 14
    assert {(e.retweet_of, e.retweet_of_user, e.kind) for e in events} == {("397", "12", Kind.RETWEET)}
    assert all(e.text == "RT @jack: getting waxed!" and e.mentions == ("12",) for e in events)


@pytest.mark.parametrize(
    ("relative", "accepted", "rejected"),
    [
        ("v1_1/rtweet_fixture_statuses.jsonl.gz", 1783, []),
        ("v1_1/python_twitter_get_retweets_397.json", 14, []),
        ("v2_twarc/twarc_network_tweets.jsonl", 500, []),
        ("v2_twarc/twarc_hashtags_tweets1.jsonl", 300, []),
        ("v2_twarc/twarc_csv_brexit.jsonl", 100, []),
        ("v2_twarc/twarc_csv_kpop.jsonl", 100, []),
        ("v2_twarc/twarc_csv_withheld.jsonl", 215, []),
        ("v2_twarc/twarc_csv_entities_test.jsonl", 474, []),
        ("v2_twarc/twarc_csv_quoted_edit.jsonl", 1, []),
        ("v2_twarc/twarc_csv_mentions_tweet.jsonl", 1, []),
        # The recording's last line was cut off mid-object.
        ("v2_twarc/twarc_csv_streaming_output_with_error.jsonl", 7, [RejectReason.BAD_JSON]),
    ],
)
def test_real_recordings_are_accepted(relative: str, accepted: int, rejected: list[RejectReason]) -> None:
    """Every tweet of every real recording is accepted (counts from the datasets README), and the one
    malformed line is rejected as bad JSON.
    """
    results = _file_results(REAL_TWEETS / relative)
    assert sum(isinstance(result, TweetEvent) for result in results) == accepted
    assert [result.reason for result in results if isinstance(result, Rejection)] == rejected


def test_twarc_network_references_match_the_readme() -> None:
    """twarc-network's 500 tweets carry 367 retweets, 35 replies, 18 quotes and 414 tweets with hashtags."""
    events = _accepted(_file_results(REAL_TWEETS / "v2_twarc" / "twarc_network_tweets.jsonl"))
    assert sum(e.retweet_of is not None for e in events) == 367
    assert sum(e.reply_to is not None for e in events) == 35
    assert sum(e.quote_of is not None for e in events) == 18
    assert sum(bool(e.hashtags) for e in events) == 414


def test_twarc_hashtags_counts_match_its_test_suite() -> None:
    """The hashtags of twarc-hashtags' tweets1.jsonl are those its own test suite expects."""
    events = _accepted(_file_results(REAL_TWEETS / "v2_twarc" / "twarc_hashtags_tweets1.jsonl"))
    counts = Counter(tag for e in events for tag in e.hashtags)
    expected = dict.fromkeys(
        ["usa", "trafficking", "refugees", "obama", "isis", "illegals", "cartel", "biden"], 1
    )
    assert counts == Counter(naacpimageawards=2, **expected)


# --- The native schema -----------------------------------------------------------------------------

_IDS = st.text(min_size=1, max_size=8).filter(str.strip)
_OPTIONAL_IDS = st.none() | _IDS
# Aware UTC at millisecond precision, inside the range the parsers accept: from the day Twitter
# started (2006-03-21) to 2100.
_TIMES = st.datetimes(
    min_value=datetime(2006, 3, 21),  # noqa: DTZ001 - bounds of a naive range; timezones= makes values aware
    max_value=datetime(2099, 12, 31, 23, 59, 59),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda at: at.replace(microsecond=at.microsecond // 1000 * 1000))
# Hashtags as every parser stores them: normalised keys, de-duplicated.
_HASHTAGS = st.lists(st.text(min_size=1, max_size=10), max_size=4).map(lambda tags: hashtag_keys(tags, ""))
_EVENTS = st.builds(
    TweetEvent,
    id=_IDS,
    user_id=_IDS,
    at=_TIMES,
    # User names without control characters (those are rejected: `control_characters`).
    user_name=st.none() | st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=15),
    followers=st.none() | st.integers(min_value=0, max_value=10**12),
    text=st.text(max_size=40),
    hashtags=_HASHTAGS,
    mentions=st.lists(_IDS, max_size=3).map(tuple),
    retweet_of=_OPTIONAL_IDS,
    retweet_of_user=_OPTIONAL_IDS,
    parent_id=_OPTIONAL_IDS,
    reply_to=_OPTIONAL_IDS,
    reply_to_user=_OPTIONAL_IDS,
    quote_of=_OPTIONAL_IDS,
    quote_of_user=_OPTIONAL_IDS,
).filter(
    # A tweet referring to itself is rejected (`self_retweet`, `self_parent`, `self_reference`).
    lambda e: e.id not in (e.retweet_of, e.parent_id, e.reply_to, e.quote_of)
)


@deterministic
@given(_EVENTS)
def test_native_round_trip_restores_the_event(event: TweetEvent) -> None:
    """`parse_native(to_native(e))` is `e` for any event."""
    assert parse_native(to_native(event)) == event


@deterministic
@given(_EVENTS)
def test_native_round_trip_survives_the_wire(event: TweetEvent) -> None:
    """An event written as native JSON bytes and parsed back by `parse_message` is the same event."""
    assert parse_message(orjson.dumps(to_native(event))) == [event]


@deterministic
@given(_EVENTS)
def test_routing_reads_what_parse_native_gives(event: TweetEvent) -> None:
    """`routing(to_native(e))` holds e's id, author, time, hashtags and cascade key."""
    routed = routing(orjson.loads(orjson.dumps(to_native(event))))
    assert (routed.id, routed.user_id, routed.at, routed.hashtags, routed.cascade_key) == (
        event.id,
        event.user_id,
        event.at,
        event.hashtags,
        event.cascade_key,
    )
    assert routed.at.utcoffset() == timedelta(0)


def test_to_native_omits_absent_fields() -> None:
    """Fields that are None (and empty text or mentions) are left out; created_at is ISO with Z."""
    event = TweetEvent(id="1", user_id="2", at=T0 + timedelta(milliseconds=5))
    assert to_native(event) == {
        "id": "1",
        "user_id": "2",
        "created_at": "2018-10-10T20:19:24.005000Z",
        "hashtags": [],
    }


@pytest.mark.parametrize(
    ("created_at", "at"),
    [
        pytest.param(EPOCH_MS_T0, T0, id="epoch-ms"),
        pytest.param(EPOCH_MS_T0 + 123, T0 + timedelta(milliseconds=123), id="epoch-ms-with-ms"),
        pytest.param(ISO_T0, T0, id="iso-z"),
        pytest.param("2018-10-10T22:19:24+02:00", T0, id="iso-offset"),
    ],
)
def test_native_created_at_accepts_epoch_ms_and_iso(created_at: Any, at: datetime) -> None:
    """`created_at` is epoch milliseconds or ISO-8601 with a zone, either becoming aware UTC."""
    event = _event({"id": "1", "user_id": "2", "created_at": created_at})
    assert event.at == at
    assert event.at.tzinfo is UTC


@deterministic
@given(st.integers(min_value=1_142_899_200_000, max_value=4_102_444_799_999))
def test_native_epoch_ms_is_exact_to_the_millisecond(milliseconds: int) -> None:
    """Any epoch-millisecond time from 2006-03-21 (Twitter's first day) to 2100 becomes exactly
    that instant, with no float drift.
    """
    event = _event({"id": "1", "user_id": "2", "created_at": milliseconds})
    assert event.at == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=milliseconds)


def test_native_unknown_keys_are_rejected_by_name() -> None:
    """Keys outside the schema are rejected, all named in sorted order, so typos never pass silently."""
    [rejection] = _results({"id": "1", "user_id": "2", "created_at": ISO_T0, "source": "web", "lang": "en"})
    assert rejection == Rejection(reason=RejectReason.UNKNOWN_FIELD, detail="unknown field(s) lang, source")


def test_native_hashtags_with_hash_signs_are_normalised() -> None:
    """Given hashtags may start with '#' or full-width U+FF03; they are stripped, folded, de-duplicated."""
    event = _event(
        {"id": "1", "user_id": "2", "created_at": ISO_T0, "hashtags": ["#Go", "go", "\uff03GO", "Rust"]}
    )
    assert event.hashtags == ("go", "rust")


@pytest.mark.parametrize(
    ("fields", "hashtags"),
    [
        pytest.param({"text": "#Go"}, ("go",), id="absent-extracted-from-text"),
        pytest.param({"text": "#Go", "hashtags": []}, (), id="empty-list-means-none"),
    ],
)
def test_native_hashtags_absent_are_extracted_from_text(
    fields: dict[str, Any], hashtags: tuple[str, ...]
) -> None:
    """Without `hashtags` they are extracted from the text; an explicit empty list means none."""
    assert _event({"id": "1", "user_id": "2", "created_at": ISO_T0} | fields).hashtags == hashtags


# --- Rejections ------------------------------------------------------------------------------------

NATIVE = {"id": "1", "user_id": "2", "created_at": ISO_T0}


def _json(payload: Any) -> bytes:
    """`payload` as JSON bytes."""
    return orjson.dumps(payload)


def _raw_native(field: bytes) -> bytes:
    """A native event's JSON with one more `"key": value` written as is: what orjson cannot write."""
    return b'{"id": "1", "user_id": "2", "created_at": "2018-10-10T20:19:24Z", ' + field + b"}"


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of `payload` without `key`."""
    return {k: v for k, v in payload.items() if k != key}


REJECTIONS = [
    pytest.param(b"", RejectReason.EMPTY, "empty", id="empty"),
    pytest.param(b" \r\n", RejectReason.EMPTY, "empty", id="empty-whitespace"),
    pytest.param(b"{}" + b" " * 1_048_575, RejectReason.TOO_LARGE, "1048577 bytes", id="too_large"),
    pytest.param(b'{"text": "caf\xe9"}', RejectReason.NOT_UTF8, "UTF-8 at byte 13", id="not_utf8"),
    pytest.param(b'{"id": "1",', RejectReason.BAD_JSON, "invalid JSON", id="bad_json"),
    pytest.param(b"\xef\xbb\xbf{}", RejectReason.BAD_JSON, "invalid JSON", id="bad_json-bom"),
    pytest.param(b"[1]", RejectReason.NOT_AN_OBJECT, "JSON object", id="not_an_object-in-batch"),
    pytest.param(b"2", RejectReason.NOT_AN_OBJECT, "JSON object", id="not_an_object"),
    pytest.param(b"[]", RejectReason.EMPTY_PAGE, "no tweets", id="empty_batch"),
    pytest.param(
        b"[" + b",".join([b"{}"] * 501) + b"]",
        RejectReason.PAGE_TOO_LARGE,
        "batch",
        id="page_too_large-batch",
    ),
    pytest.param(b'{"data": ["x"]}', RejectReason.NOT_AN_OBJECT, "JSON object", id="not_an_object-in-page"),
    pytest.param(
        b'{"id": "1", "text": "hi"}', RejectReason.UNKNOWN_FORMAT, "needs user", id="unknown_format"
    ),
    pytest.param(
        _json({"delete": {"status": {"id_str": "1"}}}),
        RejectReason.UNKNOWN_FORMAT,
        "v1.1",
        id="unknown_format-delete",
    ),
    pytest.param(_json(NATIVE | {"lang": "en"}), RejectReason.UNKNOWN_FIELD, "lang", id="unknown_field"),
    pytest.param(
        _json(_without(NATIVE, "created_at")), RejectReason.MISSING_FIELD, "created_at", id="missing_field"
    ),
    pytest.param(
        _json(v1_status(user={"screen_name": "alice"})),
        RejectReason.MISSING_FIELD,
        "user.id",
        id="missing_field-v1",
    ),
    pytest.param(_json(_without(v2_tweet(), "id")), RejectReason.MISSING_FIELD, "id", id="missing_field-v2"),
    pytest.param(_json(NATIVE | {"followers": "5"}), RejectReason.WRONG_TYPE, "followers", id="wrong_type"),
    pytest.param(_json(NATIVE | {"id": True}), RejectReason.WRONG_TYPE, "id", id="wrong_type-boolean-id"),
    pytest.param(
        _json(v1_status(user={"id_str": "1", "followers_count": "many"})),
        RejectReason.WRONG_TYPE,
        "user.followers_count",
        id="wrong_type-v1",
    ),
    pytest.param(
        _json(v2_tweet(entities={"hashtags": "go"})),
        RejectReason.WRONG_TYPE,
        "entities.hashtags",
        id="wrong_type-v2",
    ),
    pytest.param(
        _json({"data": [v2_tweet()], "includes": {"users": {"id": "2"}}}),
        RejectReason.WRONG_TYPE,
        "includes.users",
        id="wrong_type-includes",
    ),
    pytest.param(
        _json(v1_status(created_at=ISO_T0)), RejectReason.BAD_TIMESTAMP, "created_at", id="bad_timestamp"
    ),
    pytest.param(
        _json(v2_tweet(created_at="yesterday")),
        RejectReason.BAD_TIMESTAMP,
        "created_at",
        id="bad_timestamp-v2",
    ),
    pytest.param(
        _json(v2_tweet(created_at="2018-10-10T20:19:24")),
        RejectReason.TIMESTAMP_WITHOUT_ZONE,
        "created_at",
        id="timestamp_without_zone",
    ),
    pytest.param(
        _json(NATIVE | {"created_at": EPOCH_MS_T0 // 1000}),
        RejectReason.TIMESTAMP_OUT_OF_RANGE,
        "created_at",
        id="timestamp_out_of_range-epoch-seconds",
    ),
    pytest.param(
        _json(v1_status(created_at="Fri Dec 31 23:59:59 +0000 1999")),
        RejectReason.TIMESTAMP_OUT_OF_RANGE,
        "created_at",
        id="timestamp_out_of_range-v1",
    ),
    pytest.param(
        _json(NATIVE | {"hashtags": [f"tag{i}" for i in range(101)]}),
        RejectReason.TOO_MANY_HASHTAGS,
        "101 distinct hashtags",
        id="too_many_hashtags",
    ),
    pytest.param(
        _json(v2_tweet(created_at="2099-12-31T00:00:00Z")),
        RejectReason.TIMESTAMP_IN_FUTURE,
        "created_at 2099-12-31",
        id="timestamp_in_future",
    ),
    pytest.param(
        b'{"data": [], "meta": {"result_count": 0}}', RejectReason.EMPTY_PAGE, "no tweets", id="empty_page"
    ),
    # --- Hostile input (issue 18): each decidable from the one message ---
    pytest.param(
        b'{"text": "' + b"x" * 10 * 1024 * 1024 + b'"}',
        RejectReason.TOO_LARGE,
        "10485772 bytes",
        id="too_large-10MB",
    ),
    pytest.param(b"[" * 10_000 + b"]" * 10_000, RejectReason.TOO_DEEP, "depth limit", id="too_deep-arrays"),
    pytest.param(
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000, RejectReason.TOO_DEEP, "depth", id="too_deep-objects"
    ),
    pytest.param(
        _raw_native(b'"followers": NaN'), RejectReason.NOT_FINITE, "invalid JSON", id="not_finite-nan"
    ),
    pytest.param(_raw_native(b'"followers": Infinity'), RejectReason.NOT_FINITE, "JSON", id="not_finite-inf"),
    pytest.param(
        _raw_native(b'"followers": -Infinity'), RejectReason.NOT_FINITE, "JSON", id="not_finite-minus-inf"
    ),
    pytest.param(
        _raw_native(b'"followers": 1e999'), RejectReason.NOT_FINITE, "infinity", id="not_finite-1e999"
    ),
    pytest.param(
        _raw_native(b'"followers": 18446744073709551616'),
        RejectReason.NUMBER_TOO_LARGE,
        "followers 18446744073709551616 does not fit in 64 bits",
        id="number_too_large-count-65-bits",
    ),
    pytest.param(
        b'{"id": 9223372036854775808, "user_id": "2", "created_at": "2018-10-10T20:19:24Z"}',
        RejectReason.NUMBER_TOO_LARGE,
        "id 9223372036854775808",
        id="number_too_large-id-64-bits-unsigned",
    ),
    pytest.param(
        _json(v1_status(id_str="123456789012345678901234567890")),
        RejectReason.NUMBER_TOO_LARGE,
        "id 123456789012345678901234567890",
        id="number_too_large-v1-id-string",
    ),
    pytest.param(
        _json(NATIVE | {"followers": -5}), RejectReason.NEGATIVE_COUNT, "followers is -5", id="negative_count"
    ),
    pytest.param(
        _json(v1_status(user={"id_str": "1", "followers_count": -1})),
        RejectReason.NEGATIVE_COUNT,
        "user.followers_count is -1",
        id="negative_count-v1",
    ),
    pytest.param(
        _json(v2_tweet(id="higgs-user:5")), RejectReason.FOREIGN_ID, "id 'higgs-user:5'", id="foreign_id-v2"
    ),
    pytest.param(
        _json(v1_status(entities={"user_mentions": [{"id_str": "@bob"}]})),
        RejectReason.FOREIGN_ID,
        "entities.user_mentions[].id '@bob'",
        id="foreign_id-v1-mention",
    ),
    pytest.param(
        _json(v1_status(user={"id_str": "1", "screen_name": "ali\x1b[2Jce"})),
        RejectReason.CONTROL_CHARACTERS,
        "user.screen_name holds control character U+001B at 3",
        id="control_characters-v1",
    ),
    pytest.param(
        _json(v2_tweet(author={"id": "2", "username": "bob\u0085"})),
        RejectReason.CONTROL_CHARACTERS,
        "author.username holds control character U+0085",
        id="control_characters-v2-c1",
    ),
    pytest.param(
        _json(NATIVE | {"user_name": "eve\nINFO forged log line"}),
        RejectReason.CONTROL_CHARACTERS,
        "user_name holds control character U+000A",
        id="control_characters-native",
    ),
    pytest.param(
        _raw_native(b'"text": "lone \\ud800 high"'),
        RejectReason.INVALID_SURROGATE,
        "surrogate",
        id="invalid_surrogate-lone-high",
    ),
    pytest.param(
        _raw_native(b'"text": "\\udc00 low first"'),
        RejectReason.INVALID_SURROGATE,
        "surrogate",
        id="invalid_surrogate-lone-low",
    ),
    pytest.param(
        _json(NATIVE | {"created_at": "2006-03-20T23:59:59Z"}),
        RejectReason.TIMESTAMP_BEFORE_TWITTER,
        "before Twitter existed (2006-03-21)",
        id="timestamp_before_twitter",
    ),
    pytest.param(
        _json(v1_status(created_at="Mon Jan 01 00:00:00 +0000 2001")),
        RejectReason.TIMESTAMP_BEFORE_TWITTER,
        "created_at 2001-01-01",
        id="timestamp_before_twitter-v1",
    ),
    pytest.param(
        _json(NATIVE | {"retweet_of": "1"}),
        RejectReason.SELF_RETWEET,
        "tweet 1 retweets itself",
        id="self_retweet",
    ),
    pytest.param(
        _json(v1_status(retweeted_status=v1_status())),
        RejectReason.SELF_RETWEET,
        "tweet 100 retweets itself",
        id="self_retweet-v1",
    ),
    pytest.param(
        _json(NATIVE | {"retweet_of": "9", "parent_id": "1"}),
        RejectReason.SELF_PARENT,
        "names itself as its parent_id",
        id="self_parent",
    ),
    pytest.param(
        _json(NATIVE | {"reply_to": "1"}),
        RejectReason.SELF_REFERENCE,
        "replies to itself",
        id="self_reference",
    ),
    pytest.param(
        _json(v2_tweet(referenced_tweets=[{"type": "quoted", "id": "200"}])),
        RejectReason.SELF_REFERENCE,
        "tweet 200 quotes itself",
        id="self_reference-v2-quote",
    ),
    pytest.param(
        _json(
            v1_status(retweeted_status=v1_status(id_str="99", created_at="Thu Oct 11 20:19:24 +0000 2018"))
        ),
        RejectReason.REFERENCE_AFTER_TWEET,
        "retweeted_status is dated 2018-10-11",
        id="reference_after_tweet-v1",
    ),
    pytest.param(
        _json(
            {
                "data": [v2_tweet(referenced_tweets=[{"type": "retweeted", "id": "9"}])],
                "includes": {
                    "tweets": [{"id": "9", "author_id": "90", "created_at": "2018-10-11T00:00:00Z"}]
                },
            }
        ),
        RejectReason.REFERENCE_AFTER_TWEET,
        "the retweeted tweet 9 is dated 2018-10-11",
        id="reference_after_tweet-v2-includes",
    ),
    pytest.param(
        _json(NATIVE | {"mentions": [str(i) for i in range(10_000)]}),
        RejectReason.TOO_MANY_MENTIONS,
        "10000 mentions, more than the 100",
        id="too_many_mentions",
    ),
    pytest.param(
        _json(NATIVE | {"hashtags": [f"tag{i}" for i in range(10_000)]}),
        RejectReason.TOO_MANY_HASHTAGS,
        "10000 distinct hashtags",
        id="too_many_hashtags-10000",
    ),
    pytest.param(
        _json(NATIVE | {"text": "a" * 25_001}),
        RejectReason.TEXT_TOO_LONG,
        "text of 25001 characters",
        id="text_too_long",
    ),
    pytest.param(
        _json({"data": [v2_tweet(id=str(i)) for i in range(1, 10_001)]}),
        RejectReason.PAGE_TOO_LARGE,
        "page of 10000 tweets, more than the API's largest (500)",
        id="page_too_large",
    ),
    pytest.param(
        _json({"data": [v2_tweet()], "includes": {"tweets": [v2_tweet(author_id="3")]}}),
        RejectReason.INCONSISTENT_PAGE,
        "data[0] and includes.tweets disagree on author_id of id 200",
        id="inconsistent_page-data-vs-includes",
    ),
    pytest.param(
        _json(
            {
                "data": [v2_tweet()],
                "includes": {"users": [{"id": "2", "username": "bob"}, {"id": "2", "username": "mallory"}]},
            }
        ),
        RejectReason.INCONSISTENT_PAGE,
        "two includes.users entries disagree on username of id 2",
        id="inconsistent_page-users",
    ),
    pytest.param(
        _json({"did": "did:plc:ufbl4k27gp6kzas5glhz7fim", "time_us": 1725516665234703, "kind": "identity"}),
        RejectReason.NOT_A_POST,
        "a Jetstream identity event, not a post",
        id="not_a_post",
    ),
]
# The clock the cases are judged against: after every case's time but the one in the future.
NOT_AFTER = datetime(2090, 1, 1, tzinfo=UTC)


def test_a_batch_fans_out_into_its_tweets_each_judged_alone() -> None:
    """A JSON array of tweets (our producers' batch) gives one result per element, in order: the
    good ones as events, a bad one as a rejection carrying its index.
    """
    first = NATIVE | {"id": "b1"}
    results = parse_message(orjson.dumps([first, {"id": "x"}, v2_tweet()]), not_after=NOT_AFTER)
    assert [type(result) for result in results] == [TweetEvent, Rejection, TweetEvent]
    assert results[0] == parse_message(orjson.dumps(first), not_after=NOT_AFTER)[0]
    assert results[2] == parse_message(orjson.dumps(v2_tweet()), not_after=NOT_AFTER)[0]
    rejection = results[1]
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.index) == (RejectReason.UNKNOWN_FORMAT, 1)


@pytest.mark.parametrize(("raw", "reason", "detail"), REJECTIONS)
def test_rejection_names_its_reason_and_the_field(raw: bytes, reason: RejectReason, detail: str) -> None:
    """A bad message becomes one Rejection: its reason, and a one-line detail naming the field or problem."""
    [rejection] = parse_message(raw, not_after=NOT_AFTER)
    assert isinstance(rejection, Rejection)
    assert rejection.reason is reason
    assert detail in rejection.detail
    assert "\n" not in rejection.detail


def test_rejection_cases_cover_every_reason() -> None:
    """The rejection cases above exercise every member of RejectReason."""
    assert {case.values[1] for case in REJECTIONS} == set(RejectReason)


# --- Author profiles -------------------------------------------------------------------------------


def _first_event(relative: str) -> TweetEvent:
    """The first tweet of the first message of a real recording."""
    _, raw = next(iter(read_messages(REAL_TWEETS / relative)))
    result = parse_message(raw)[0]
    assert isinstance(result, TweetEvent), result
    return result


def test_v1_real_status_carries_the_author_profile() -> None:
    """The first rtweet status (@hadleywickham) yields every profile field of its `user` object."""
    event = _first_event("v1_1/rtweet_fixture_statuses.jsonl.gz")
    assert (event.user_name, event.followers) == ("hadleywickham", 139970)
    assert event.profile == Profile(
        friends=284,
        statuses=42281,
        created_at=datetime(2009, 8, 26, 23, 34, 46, tzinfo=UTC),
        verified=True,
        default_profile=False,
        default_profile_image=False,
        background_image=True,
    )


def test_v2_real_page_tweet_takes_the_profile_from_includes_users() -> None:
    """The first tweet of twarc-network's first page gets its author's profile from `includes.users`;
    v2 has no default-profile or background flags, so those stay None.
    """
    event = _first_event("v2_twarc/twarc_network_tweets.jsonl")
    assert (event.id, event.user_name, event.followers) == ("1408876829491015681", "unionist_trade", 79)
    assert event.profile == Profile(
        friends=717, statuses=2927, created_at=datetime(2021, 1, 16, 3, 18, 58, tzinfo=UTC), verified=False
    )


def test_v2_real_flattened_tweet_takes_the_profile_from_author(flat_events: list[TweetEvent]) -> None:
    """A twarc2 flattened tweet by a verified author (@quinncy) reads the profile from `author`."""
    [event] = [e for e in flat_events if e.id == "1380242043155349507"]
    assert event.profile == Profile(
        friends=2964, statuses=154764, created_at=datetime(2009, 1, 18, 4, 1, 34, tzinfo=UTC), verified=True
    )


def test_v2_real_authors_without_metrics_keep_only_their_creation_time() -> None:
    """twarc-csv's entities_test authors have no public_metrics or verified flag: only created_at is known."""
    events = _accepted(_file_results(REAL_TWEETS / "v2_twarc" / "twarc_csv_entities_test.jsonl"))
    assert {dataclasses.replace(e.profile, created_at=None) for e in events if e.profile} == {Profile()}
    assert all(e.profile is not None and e.profile.created_at is not None for e in events)


@pytest.mark.parametrize(
    ("payload", "profile"),
    [
        pytest.param(v1_status(), None, id="v1-no-profile-fields"),
        pytest.param(
            v1_status(user={"id_str": "1", "friends_count": 3, "verified": None}),
            Profile(friends=3),
            id="v1-null-is-absent",
        ),
        pytest.param(v2_tweet(), None, id="v2-author-not-in-includes"),
        pytest.param(
            v2_tweet(author={"id": "2", "public_metrics": "n/a", "verified": False}),
            Profile(verified=False),
            id="v2-public-metrics-not-an-object-ignored",
        ),
    ],
)
def test_absent_profile_fields_are_none(payload: dict[str, Any], profile: Profile | None) -> None:
    """Absent or null profile fields are None, and a tweet whose author carries none has no profile."""
    assert _event(payload).profile == profile


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        pytest.param(
            v1_status(user={"id_str": "1", "friends_count": "many"}),
            RejectReason.WRONG_TYPE,
            "user.friends_count",
            id="v1-count",
        ),
        pytest.param(
            v1_status(user={"id_str": "1", "verified": "true"}),
            RejectReason.WRONG_TYPE,
            "user.verified",
            id="v1-flag",
        ),
        pytest.param(
            v1_status(user={"id_str": "1", "created_at": ISO_T0}),
            RejectReason.BAD_TIMESTAMP,
            "user.created_at",
            id="v1-time",
        ),
        pytest.param(
            v2_tweet(author={"id": "2", "public_metrics": {"tweet_count": -1}}),
            RejectReason.NEGATIVE_COUNT,
            "public_metrics.tweet_count",
            id="v2-count",
        ),
        pytest.param(
            v2_tweet(author={"id": "2", "created_at": "2018-10-10T20:19:24"}),
            RejectReason.TIMESTAMP_WITHOUT_ZONE,
            "author.created_at",
            id="v2-time",
        ),
        pytest.param(NATIVE | {"profile": []}, RejectReason.WRONG_TYPE, "profile", id="native-not-object"),
        pytest.param(
            NATIVE | {"profile": {"friends": 1, "lang": "en"}},
            RejectReason.UNKNOWN_FIELD,
            "unknown profile field(s) lang",
            id="native-unknown-key",
        ),
        pytest.param(
            NATIVE | {"profile": {"verified": 1}},
            RejectReason.WRONG_TYPE,
            "profile.verified",
            id="native-flag",
        ),
    ],
)
def test_malformed_profile_field_rejects_the_tweet(
    payload: dict[str, Any], reason: RejectReason, detail: str
) -> None:
    """A profile field present with the wrong type rejects the tweet naming it, as followers always has."""
    [rejection] = _results(payload)
    assert isinstance(rejection, Rejection)
    assert rejection.reason is reason
    assert detail in rejection.detail


_PROFILES = st.builds(
    Profile,
    friends=st.none() | st.integers(min_value=0, max_value=10**9),
    statuses=st.none() | st.integers(min_value=0, max_value=10**9),
    created_at=st.none() | _TIMES,
    verified=st.none() | st.booleans(),
    default_profile=st.none() | st.booleans(),
    default_profile_image=st.none() | st.booleans(),
    background_image=st.none() | st.booleans(),
)


@deterministic
@given(_EVENTS, st.none() | _PROFILES)
def test_native_round_trip_restores_the_profile(event: TweetEvent, profile: Profile | None) -> None:
    """An event with or without a profile (even an empty one) survives `to_native` and the wire."""
    event = dataclasses.replace(event, profile=profile)
    assert parse_native(to_native(event)) == event
    assert parse_message(orjson.dumps(to_native(event))) == [event]


@deterministic
@given(_EVENTS, st.none() | _PROFILES, _OPTIONAL_IDS)
def test_trusted_reads_what_parse_native_gives(
    event: TweetEvent, profile: Profile | None, like_of: str | None
) -> None:
    """`trusted` rebuilds every event `to_native` wrote, through JSON, as `parse_native` does."""
    event = dataclasses.replace(event, profile=profile, like_of=like_of, like_of_user=like_of)
    assert trusted(orjson.loads(orjson.dumps(to_native(event)))) == event


def test_native_profile_is_written_as_documented() -> None:
    """`to_native` writes the profile as a nested object, None fields omitted and times ISO with Z."""
    profile = Profile(friends=3, created_at=T0, verified=False)
    native = to_native(TweetEvent(id="1", user_id="2", at=T0, profile=profile))
    assert native["profile"] == {"friends": 3, "created_at": "2018-10-10T20:19:24Z", "verified": False}


@pytest.mark.parametrize(
    ("fields", "profile"),
    [
        pytest.param({}, None, id="old-line-without-profile"),
        pytest.param({"profile": None}, None, id="null"),
        pytest.param({"profile": {}}, Profile(), id="empty-object"),
        pytest.param({"profile": {"created_at": EPOCH_MS_T0}}, Profile(created_at=T0), id="epoch-ms"),
    ],
)
def test_native_profile_is_optional(fields: dict[str, Any], profile: Profile | None) -> None:
    """Native lines without `profile` stay valid; its `created_at` takes epoch ms like the top level's."""
    assert _event(NATIVE | fields).profile == profile


# --- Never raises ----------------------------------------------------------------------------------

# Keys the parsers look at, so that generated objects reach deep into every format.
_KEYS = st.sampled_from(
    [
        "id", "id_str", "user", "user_id", "author_id", "author", "data", "includes", "users", "tweets",
        "created_at", "text", "full_text", "extended_tweet", "entities", "hashtags", "tag", "mentions",
        "user_mentions", "username", "screen_name", "followers", "followers_count", "public_metrics",
        "referenced_tweets", "type", "retweeted", "quoted", "replied_to", "retweeted_status",
        "quoted_status", "quoted_status_id_str", "in_reply_to_status_id", "in_reply_to_user_id",
        "friends_count", "statuses_count", "verified", "default_profile", "profile_use_background_image",
        "following_count", "tweet_count", "profile", "friends",
    ]
)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([V1_T0, ISO_T0, EPOCH_MS_T0, "#Tag", "retweeted", "quoted", "replied_to"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=40,
)


def _assert_well_formed(results: list[TweetEvent | Rejection]) -> None:
    """At least one result; events are aware UTC, rejections carry a detail."""
    assert results
    for result in results:
        if isinstance(result, TweetEvent):
            assert result.at.tzinfo is UTC
        else:
            assert isinstance(result, Rejection)
            assert result.detail


@deterministic
@given(st.binary(max_size=200))
def test_parse_message_never_raises_on_bytes(raw: bytes) -> None:
    """Arbitrary bytes always give at least one result and never an exception."""
    _assert_well_formed(parse_message(raw))


@deterministic
@given(_JSON)
def test_parse_message_never_raises_on_json(payload: Any) -> None:
    """Arbitrary JSON values, objects built from the formats' own keys included, never raise."""
    _assert_well_formed(parse_message(orjson.dumps(payload)))


@deterministic
@given(st.fixed_dictionaries({"data": st.lists(_JSON, max_size=3), "includes": _JSON}))
def test_parse_message_never_raises_on_pages(page: dict[str, Any]) -> None:
    """Arbitrary pages give one result per tweet (or one rejection for the page) and never raise."""
    results = parse_message(orjson.dumps(page))
    _assert_well_formed(results)
    assert len(results) in {1, len(page["data"])}
