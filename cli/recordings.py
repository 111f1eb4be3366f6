"""Reading recording files (optionally gzip) into messages, in `models.wire.recording`'s format."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from cli.base import UsageError
from models.wire import recording


class DamagedRecordingError(UsageError):
    """A recording that stops being readable part way (a truncated or corrupt gzip file).

    `lines` is how many lines were read before the damage: they were yielded, and are good.
    """

    def __init__(self, path: Path, lines: int, reason: str) -> None:
        """Name the file, where it broke and why, and what to do."""
        super().__init__(
            f"{path}: unreadable ({reason}): damaged from its start, or not a recording"
            if lines == 0
            else f"{path}: unreadable after line {lines} ({reason}); the lines before were used. "
            "Re-record it, or cut it at the damage"
        )
        self.lines = lines


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast("IO[bytes]", gzip.open(path, "rb"))  # GzipFile is a binary IO
    return path.open("rb")


def _array_messages(path: Path) -> list[bytes] | None:
    """The messages of a file that is one JSON array, or None when it is not one."""
    with _open(path) as stream:
        if not recording.looks_like_array(stream.read(recording.ARRAY_PROBE_BYTES)):
            return None
        stream.seek(0)
        return recording.array_messages(stream.read())


def read_messages(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, message bytes) for each message of a recording, in file order.

    A JSON-lines file yields each non-blank line as it is, unreadable ones included (the caller
    decides what to do with them). A file holding one JSON array yields each element re-encoded,
    numbered from 1. The format is `models.wire.recording`'s; this reads files, gzip or not.
    """
    read = 0  # lines read whole
    try:
        messages = _array_messages(path)
        if messages is not None:
            yield from enumerate(messages, start=1)
            return
        with _open(path) as stream:
            for read, line in enumerate(stream, start=1):
                message = recording.line_message(line)
                if message is not None:
                    yield read, message
    # A truncated gzip ends in EOFError, a corrupt one in BadGzipFile (an OSError) or zlib.error.
    except (EOFError, OSError, zlib.error) as error:
        raise DamagedRecordingError(path, read, str(error)) from None


def count_messages(path: Path) -> int:
    """How many messages `read_messages` will yield before any damage (for progress bars)."""
    count = 0
    try:
        for _ in read_messages(path):
            count += 1
    except DamagedRecordingError:
        pass  # reported where the messages are read
    return count
