"""Reading a follower graph, for the `time` reconstruction with followers (Goel et al. 2016).

The file is an edge list, one `FOLLOWER FOLLOWEE` pair of user ids per line, whitespace-separated
(SNAP's convention: the Higgs `higgs-social_network.edgelist` lists who follows whom this way),
optionally gzipped; blank lines and lines starting with `#` are skipped. User ids are those of the
tweets (`user_id` in the native schema).
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path
from typing import IO, cast


class FollowerFileError(ValueError):
    """The follower file cannot be read; the message names the file, the line and the fix."""


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast("IO[bytes]", gzip.open(path, "rb"))  # GzipFile is a binary IO
    return path.open("rb")


def read_follower_graph(path: Path) -> Mapping[str, frozenset[str]]:
    """User id -> the ids of the users they follow, as `ReconstructionConfig.follower_graph` takes it.

    Raises FollowerFileError for a line that is not two ids, or bytes that are not UTF-8.
    """
    follows: dict[str, set[str]] = {}
    try:
        with _open(path) as lines:
            for number, line in enumerate(lines, start=1):
                fields = line.split()
                if not fields or fields[0].startswith(b"#"):
                    continue
                if len(fields) != 2:
                    raise FollowerFileError(
                        f"{path}:{number}: expected `FOLLOWER FOLLOWEE`, got {len(fields)} fields"
                    )
                follower, followee = (field.decode() for field in fields)
                follows.setdefault(follower, set()).add(followee)
    except UnicodeDecodeError as error:
        raise FollowerFileError(f"{path}: user ids must be UTF-8 text ({error.reason})") from None
    except (OSError, EOFError) as error:
        raise FollowerFileError(f"{path}: cannot be read ({error})") from None
    return {follower: frozenset(followees) for follower, followees in follows.items()}
