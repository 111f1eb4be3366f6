"""Reading recordings: JSON lines (optionally gzip), or one JSON array of messages."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast("IO[bytes]", gzip.open(path, "rb"))  # GzipFile is a binary IO
    return path.open("rb")


def _array_items(path: Path) -> list[Any] | None:
    """The elements of a file that is one JSON array, or None when it is not one."""
    with _open(path) as stream:
        if not stream.read(4096).lstrip().startswith(b"["):
            return None
        stream.seek(0)
        try:
            items = orjson.loads(stream.read())
        except orjson.JSONDecodeError:
            return None  # JSON lines whose first message happens to start with "["
    return items if isinstance(items, list) else None


def read_messages(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, message bytes) for each message of a recording, in file order.

    A JSON-lines file yields each non-blank line as it is, unreadable ones included (the caller
    decides what to do with them). A file holding one JSON array (as some API clients save
    responses) yields each element re-encoded, numbered from 1.
    """
    items = _array_items(path)
    if items is not None:
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
