"""The edge lists of Conover et al. 2011, "Political Polarization on Twitter" (ICWSM).

One tweet per line, tab-separated: `src  dst  type  n_urls  unix_ts  #tag  #tag ...` (the
dataset's `retweet.edgelist` and `mention.edgelist`, described in its `DATA_SPECIFICATION.txt`).
Users are the dataset's node indices. By the specification:

- type `retweet`: an edge A->B means B retweeted A, so the event is B's retweet of A;
- type `reply` (every edge of the mention network): A->B means A mentioned B, so the event is A's
  tweet mentioning B (the specification calls these reply edges but defines them as mentions).

The data has no tweet ids. As for the SNAP Higgs data (`models.wire.higgs`), each user's posts
are one pseudo-tweet `conover-user:<user>` (a retweet's original and parent), and each line is an
event whose id is made from its line number. The id also names the type,
`conover-retweet-line:<n>` or `conover-reply-line:<n>`: the two files are replayed together and
their line numbers overlap, so `conover-line:<n>` alone would make a mention a duplicate of the
retweet on the same line number and drop it. Hashtags come from the line; the URL count has no
place in the native schema and is dropped. Timestamps are Unix seconds, read as UTC.
"""

from __future__ import annotations

import re

from models.event import TweetEvent
from models.wire.fields import Invalid, RejectReason, epoch_ms_time
from models.wire.tags import hashtag_keys

_LINE = re.compile(rb"^(\S+)\t(\S+)\t(retweet|reply)\t(\d+)\t(\d+)((?:\t[^\t\r\n]*)*)\r?\n?$")


def looks_like_conover(raw: bytes) -> bool:
    """A Conover edge-list line: tab-separated source, target, `retweet` or `reply`, URL count,
    Unix time, then hashtags.
    """
    return _LINE.match(raw) is not None


def pseudo_tweet(user_id: str) -> str:
    """The id standing for every post of `user_id`."""
    return f"conover-user:{user_id}"


def parse_conover(raw: bytes, number: int) -> TweetEvent:
    r"""The event of line `number`; raise `Invalid` when the line is not in the format.

    >>> parse_conover(b"7\t9\tretweet\t0\t1286901355\t#tcot", 3).retweet_of
    'conover-user:7'
    """
    match = _LINE.match(raw)
    if match is None:
        raise Invalid(
            RejectReason.UNKNOWN_FORMAT,
            "not a Conover edge-list line: src, dst, retweet|reply, n_urls, unix_ts, #tags, tab-separated",
        )
    try:
        source, target, kind, _urls, seconds, tags = (field.decode() for field in match.groups())
    except UnicodeDecodeError as error:
        raise Invalid(RejectReason.NOT_UTF8, f"not UTF-8 at byte {error.start} of a field") from None
    at = epoch_ms_time(int(seconds) * 1000, "unix_ts")
    hashtags = hashtag_keys([tag.strip() for tag in tags.split("\t")], "")
    event_id = f"conover-{kind}-line:{number}"
    if kind == "retweet":
        original = pseudo_tweet(source)
        return TweetEvent(
            id=event_id,
            user_id=target,
            at=at,
            hashtags=hashtags,
            retweet_of=original,
            retweet_of_user=source,
            parent_id=original,
        )
    return TweetEvent(id=event_id, user_id=source, at=at, hashtags=hashtags, mentions=(target,))
