"""The SNAP Higgs Twitter activity format (De Domenico et al. 2013): `userA userB unix_ts TYPE`.

TYPE is RT (A retweeted B), MT (A mentioned B) or RE (A replied to B). The data has no tweet ids,
so each line becomes an event with id `higgs-line:<line number>`, and each user's posts are
one pseudo-tweet `higgs-user:<user>` (two namespaces, so a line number never names a user): a
retweet's original and parent are both that pseudo-tweet (the data
says A retweeted B directly), so each author's cascade is a star, as in the data.
"""

from __future__ import annotations

from models.event import TweetEvent
from models.wire.fields import Invalid, RejectReason, epoch_ms_time

_TYPES = frozenset((b"RT", b"MT", b"RE"))


def _fields(raw: bytes) -> list[bytes] | None:
    r"""The four fields of a Higgs line, or None when `raw` is not one.

    The format is `^\s*(\S+)\s+(\S+)\s+(\d+)\s+(RT|MT|RE)\s*$`, checked by splitting on
    whitespace: several times faster than that regular expression, and half a million lines
    are read for each Higgs file.
    """
    fields = raw.split()
    if len(fields) != 4 or fields[3] not in _TYPES or not fields[2].isdigit():
        return None
    return fields


def looks_like_higgs(raw: bytes) -> bool:
    """A Higgs line: four whitespace-separated fields ending in RT, MT or RE."""
    return _fields(raw) is not None


def pseudo_tweet(user_id: str) -> str:
    """The id standing for every post of `user_id`."""
    return f"higgs-user:{user_id}"


def parse_higgs(raw: bytes, number: int) -> TweetEvent | None:
    """The event of line `number`, or None when the line is not in the format; raise `Invalid`
    when it is, but its user ids are not UTF-8 or its time is out of range.

    >>> parse_higgs(b"376989 50329 1341100972 RT", 3).retweet_of
    'higgs-user:50329'
    >>> parse_higgs(b'{"id": 1}', 3) is None
    True
    """
    fields = _fields(raw)
    if fields is None:
        return None
    try:
        source, target = fields[0].decode(), fields[1].decode()
    except UnicodeDecodeError as error:
        raise Invalid(RejectReason.NOT_UTF8, f"user id not UTF-8 at byte {error.start}") from None
    at = epoch_ms_time(int(fields[2]) * 1000, "unix_ts")
    event_id = f"higgs-line:{number}"
    kind = fields[3]
    if kind == b"RT":
        original = pseudo_tweet(target)
        return TweetEvent(
            id=event_id,
            user_id=source,
            at=at,
            retweet_of=original,
            retweet_of_user=target,
            parent_id=original,
        )
    if kind == b"RE":
        return TweetEvent(
            id=event_id, user_id=source, at=at, reply_to=pseudo_tweet(target), reply_to_user=target
        )
    return TweetEvent(id=event_id, user_id=source, at=at, mentions=(target,))
