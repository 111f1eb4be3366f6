"""The research formats become native events: SNAP Higgs activity and Conover et al. 2011 edge lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models.event import TweetEvent
from models.wire import Rejection, RejectReason, parse_line, to_native
from support import DATASETS

CONOVER = DATASETS / "polarization" / "conover_icwsm2011"


def _native(line: bytes, number: int) -> dict[str, Any]:
    (event,) = parse_line(line, number)
    assert isinstance(event, TweetEvent), event
    return to_native(event)


@pytest.mark.parametrize(
    ("line", "number", "expected"),
    [
        pytest.param(
            b"12464\t7349\tretweet\t1\t1286901355\t#tcot\t#TLOT",
            1,
            {
                "id": "conover-retweet-line:1",
                "user_id": "7349",
                "created_at": "2010-10-12T16:35:55Z",
                "hashtags": ["tcot", "tlot"],
                "retweet_of": "conover-user:12464",
                "retweet_of_user": "12464",
                "parent_id": "conover-user:12464",
            },
            id="retweet: A->B is B retweeting A",
        ),
        pytest.param(
            b"1222\t6667\treply\t0\t1288418099\t#tcot\t#fap\t#fap\t#fap",
            5,
            {
                "id": "conover-reply-line:5",
                "user_id": "1222",
                "created_at": "2010-10-30T05:54:59Z",
                "hashtags": ["tcot", "fap"],
                "mentions": ["6667"],
            },
            id="reply: A->B is A mentioning B, repeated tags once",
        ),
    ],
)
def test_conover_lines_become_native_events(line: bytes, number: int, expected: dict[str, Any]) -> None:
    """A Conover edge becomes the tweet it records, with its line number in the id."""
    assert _native(line, number) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            b"376989 50329 1341100972 RT",
            {
                "id": "higgs-line:3",
                "user_id": "376989",
                "created_at": "2012-07-01T00:02:52Z",
                "hashtags": [],
                "retweet_of": "higgs-user:50329",
                "retweet_of_user": "50329",
                "parent_id": "higgs-user:50329",
            },
            id="RT: A retweeted B",
        ),
        pytest.param(
            b"223789 213163 1341100972 MT",
            {
                "id": "higgs-line:3",
                "user_id": "223789",
                "created_at": "2012-07-01T00:02:52Z",
                "hashtags": [],
                "mentions": ["213163"],
            },
            id="MT: A mentioned B",
        ),
        pytest.param(
            b"223789 213163 1341100972 RE",
            {
                "id": "higgs-line:3",
                "user_id": "223789",
                "created_at": "2012-07-01T00:02:52Z",
                "hashtags": [],
                "reply_to": "higgs-user:213163",
                "reply_to_user": "213163",
            },
            id="RE: A replied to B",
        ),
    ],
)
def test_higgs_lines_become_native_events(line: bytes, expected: dict[str, Any]) -> None:
    """A Higgs activity line becomes the tweet it records, with its line number in the id."""
    assert _native(line, 3) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(b"1\t2\tretweet\t0\t99\t#tcot", RejectReason.TIMESTAMP_OUT_OF_RANGE, id="time in 1970"),
        pytest.param(b"1\t2\tmention\t0\t1286901355\t#tcot", RejectReason.BAD_JSON, id="unknown type"),
        pytest.param(b"1 2 retweet 0 1286901355 #tcot", RejectReason.BAD_JSON, id="spaces, not tabs"),
        pytest.param(b"1\t2\tretweet\t0\t1286901355\t#\xff", RejectReason.NOT_UTF8, id="tag not UTF-8"),
        pytest.param(b"\xff 2 1341100972 RT", RejectReason.NOT_UTF8, id="Higgs user not UTF-8"),
        pytest.param(b"1 2 99999999999999999999 RT", RejectReason.TIMESTAMP_OUT_OF_RANGE, id="Higgs in 3e12"),
        pytest.param(b"1 2 5 MT", RejectReason.TIMESTAMP_OUT_OF_RANGE, id="Higgs time in 1970"),
        pytest.param(b"1 2 1341100972 XX", RejectReason.BAD_JSON, id="Higgs unknown type"),
    ],
)
def test_research_lines_not_quite_in_shape_are_rejected_not_raised(line: bytes, reason: RejectReason) -> None:
    """A line with a Conover or Higgs shape but an impossible time or bytes that are not text, or
    not quite the shape, is a rejection: `analyze` and `replay` count it and go on.
    """
    (result,) = parse_line(line, 1)
    assert isinstance(result, Rejection)
    assert result.reason == reason


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_every_published_conover_edge_is_an_event_with_an_id_of_its_own() -> None:
    """Both edge lists of the dataset parse line by line, and their ids never collide, so replaying
    the two files together loses no edge to de-duplication.
    """
    ids: set[str] = set()
    for name, kind in (("retweet.edgelist", "retweet"), ("mention.edgelist", "reply")):
        lines = _lines(CONOVER / name)
        events = [r for number, line in enumerate(lines, 1) for r in parse_line(line, number)]
        assert all(isinstance(e, TweetEvent) and e.hashtags for e in events)
        assert len(events) == len(lines)
        ids.update(e.id for e in events if isinstance(e, TweetEvent))
        expected_kind = "retweet" if kind == "retweet" else "original"
        assert {e.kind.value for e in events if isinstance(e, TweetEvent)} == {expected_kind}
    assert len(ids) == 61_157 + 15_159  # the line counts of the two published files
