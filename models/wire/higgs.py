"""The SNAP Higgs Twitter activity format (De Domenico et al. 2013): `userA userB unix_ts TYPE`.

TYPE is RT (A retweeted B), MT (A mentioned B) or RE (A replied to B). The data has no tweet ids,
so each line becomes an event with id `higgs-line:<line number>`, and each user's posts are
one pseudo-tweet `higgs-user:<user>` (two namespaces, so a line number never names a user): a
retweet's original and parent are both that pseudo-tweet (the data
says A retweeted B directly), so each author's cascade is a star, as in the data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from models.event import TweetEvent
from models.wire.fields import Invalid, RejectReason

_LINE = re.compile(rb"^\s*(\S+)\s+(\S+)\s+(\d+)\s+(RT|MT|RE)\s*$")


def looks_like_higgs(raw: bytes) -> bool:
    """A Higgs line: four whitespace-separated fields ending in RT, MT or RE."""
    return _LINE.match(raw) is not None


def pseudo_tweet(user_id: str) -> str:
    """The id standing for every post of `user_id`."""
    return f"higgs-user:{user_id}"


def parse_higgs(raw: bytes, number: int) -> TweetEvent:
    """The event of line `number`; raise `Invalid` when the line is not in the format."""
    match = _LINE.match(raw)
    if match is None:
        raise Invalid(RejectReason.UNKNOWN_FORMAT, "not a Higgs activity line `userA userB unix_ts RT|MT|RE`")
    source, target, seconds, kind = (field.decode() for field in match.groups())
    at = datetime.fromtimestamp(int(seconds), tz=UTC)
    event_id = f"higgs-line:{number}"
    if kind == "RT":
        original = pseudo_tweet(target)
        return TweetEvent(
            id=event_id,
            user_id=source,
            at=at,
            retweet_of=original,
            retweet_of_user=target,
            parent_id=original,
        )
    if kind == "RE":
        return TweetEvent(
            id=event_id, user_id=source, at=at, reply_to=pseudo_tweet(target), reply_to_user=target
        )
    return TweetEvent(id=event_id, user_id=source, at=at, mentions=(target,))
