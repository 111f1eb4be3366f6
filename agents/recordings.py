"""Reading recordings: JSON lines (optionally gzip), or one JSON array of messages."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

import orjson


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast("IO[bytes]", gzip.open(path, "rb"))  # GzipFile is a binary IO
    return path.open("rb")


def _is_json_array(path: Path) -> bool:
    with _open(path) as stream:
        head = stream.read(4096).lstrip()
    return head.startswith(b"[")


def read_messages(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, message bytes) for each message of a recording, in file order.

    A JSON-lines file yields each non-blank line as it is, unreadable ones included (the caller
    decides what to do with them). A file holding one JSON array (as some API clients save
    responses) yields each element re-encoded, numbered from 1.
    """
    if _is_json_array(path):
        with _open(path) as stream:
            items = orjson.loads(stream.read())
        for number, item in enumerate(items, start=1):
            yield number, orjson.dumps(item)
        return
    with _open(path) as stream:
        for number, line in enumerate(stream, start=1):
            message = line.rstrip(b"\r\n")
            if message.strip():
                yield number, message


def count_messages(path: Path) -> int:
    """How many messages `read_messages` will yield (for progress bars)."""
    return sum(1 for _ in read_messages(path))
