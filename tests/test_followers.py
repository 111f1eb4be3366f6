"""A follower graph for the `time` reconstruction: read from an edge list, used by `analyze`."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import orjson
import pytest

from agents.followers import FollowerFileError, read_follower_graph
from support import RESONANCE


def test_an_edge_list_becomes_who_follows_whom(tmp_path: Path) -> None:
    """Each `FOLLOWER FOLLOWEE` line adds one followee; comments and blank lines are skipped, gzip is read."""
    text = b"# follower followee\n1 2\n1 3\n\n2\t3\n1 2\n"
    plain, packed = tmp_path / "f.txt", tmp_path / "f.txt.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text))
    expected = {"1": frozenset({"2", "3"}), "2": frozenset({"3"})}
    assert read_follower_graph(plain) == read_follower_graph(packed) == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"1 2\n1 2 3\n", ":2: expected `FOLLOWER FOLLOWEE`, got 3 fields"), (b"\xff 2\n", "must be UTF-8")],
)
def test_a_bad_follower_file_is_named_with_the_line(tmp_path: Path, content: bytes, problem: str) -> None:
    """A line that is not a pair, or bytes that are not text, raise an error naming the file and line."""
    path = tmp_path / "f.txt"
    path.write_bytes(content)
    with pytest.raises(FollowerFileError, match=problem):
        read_follower_graph(path)


def _tweet(tweet_id: str, user: str, second: int, retweet_of: str | None = None) -> bytes:
    fields = {"id": tweet_id, "user_id": user, "created_at": f"2024-01-01T00:00:{second:02d}Z"}
    if retweet_of is not None:
        fields |= {"retweet_of": "t0", "retweet_of_user": retweet_of}
    return orjson.dumps(fields)


def _cascade(tmp_path: Path, *extra: str) -> dict[str, object]:
    """The final cascade record of: a's tweet t0, retweeted by b, then c, then d."""
    recording = tmp_path / "cascade.jsonl"
    recording.write_bytes(
        b"\n".join(
            [_tweet("t0", "a", 0), *(_tweet(f"r{u}", u, s, "a") for s, u in ((1, "b"), (2, "c"), (3, "d")))]
        )
    )
    out = tmp_path / "records.jsonl"
    result = subprocess.run(
        [*RESONANCE, "analyze", str(recording), "--out", str(out), "--reconstruction", "time", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [cascade] = [
        r for line in out.read_bytes().splitlines() if (r := orjson.loads(line))["kind"] == "cascade"
    ]
    return cascade


def test_with_followers_a_retweet_hangs_under_the_latest_participant_it_follows(tmp_path: Path) -> None:
    """Without followers, `time` makes the chain a <- b <- c <- d (depth 3). With d following only b,
    and b and c following a, the tree is a <- {b <- d, c}: depth 2, two at depth 1; the record names
    the method `time+followers`.
    """
    chain = _cascade(tmp_path)
    assert (chain["depth"], chain["max_breadth"], chain["reconstruction"]) == (3, 1, "time")
    followers = tmp_path / "followers.txt"
    followers.write_text("b a\nc a\nd b\n")
    tree = _cascade(tmp_path, "--followers", str(followers))
    assert (tree["size"], tree["depth"], tree["max_breadth"]) == (4, 2, 2)
    assert tree["reconstruction"] == "time+followers"
