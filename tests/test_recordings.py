"""Reading recordings: JSON lines, gzip-compressed or not, and files holding one JSON array."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from cli.recordings import DamagedRecordingError, count_messages, read_messages

Write = Callable[[bytes], Path]


@pytest.fixture(params=["plain", "gzip"])
def write(request: pytest.FixtureRequest, tmp_path: Path) -> Write:
    """Write a recording's bytes to a fresh file, as is or gzip-compressed (`.gz`), and return its path."""

    def _write(content: bytes) -> Path:
        if request.param == "gzip":
            path = tmp_path / "recording.jsonl.gz"
            path.write_bytes(gzip.compress(content, mtime=0))
        else:
            path = tmp_path / "recording.jsonl"
            path.write_bytes(content)
        return path

    return _write


def test_json_lines_yield_each_line_with_its_number(write: Write) -> None:
    """Each line is one message, yielded as its bytes without the line ending, numbered from 1."""
    path = write(b'{"id": "1"}\n{"id": "2"}\n')
    assert list(read_messages(path)) == [(1, b'{"id": "1"}'), (2, b'{"id": "2"}')]


def test_crlf_line_endings_are_removed(write: Write) -> None:
    """Windows line endings are stripped like Unix ones."""
    path = write(b'{"id": "1"}\r\n{"id": "2"}\r\n')
    assert list(read_messages(path)) == [(1, b'{"id": "1"}'), (2, b'{"id": "2"}')]


def test_last_line_without_newline_is_read(write: Write) -> None:
    """A final line with no trailing newline is still a message."""
    assert list(read_messages(write(b'{"id": "1"}\n{"id": "2"}'))) == [
        (1, b'{"id": "1"}'),
        (2, b'{"id": "2"}'),
    ]


def test_blank_lines_are_skipped_keeping_line_numbers(write: Write) -> None:
    """Empty and whitespace-only lines yield nothing, and later messages keep their true line numbers."""
    path = write(b'\n{"id": "1"}\n   \n\t\r\n\n{"id": "2"}\n\n')
    assert list(read_messages(path)) == [(2, b'{"id": "1"}'), (6, b'{"id": "2"}')]


def test_unreadable_lines_are_yielded_with_their_numbers(write: Write) -> None:
    """Lines that are not JSON, or not UTF-8, are yielded as they are, for the caller to reject."""
    path = write(b'{"id": "1"}\nnot json\n\n{"id": \xff\n{"id": "2"}\n')
    assert list(read_messages(path)) == [
        (1, b'{"id": "1"}'),
        (2, b"not json"),
        (4, b'{"id": \xff'),
        (5, b'{"id": "2"}'),
    ]


def test_json_array_yields_each_element_reencoded(write: Write) -> None:
    """A file holding one JSON array (pretty-printed, after leading blanks) yields each element as
    compact JSON, numbered from 1 by position.
    """
    elements = [{"id": "1", "text": "café"}, {"id": "2", "nested": [1, 2]}, "not a tweet"]
    path = write(b"\n  " + orjson.dumps(elements, option=orjson.OPT_INDENT_2))
    assert list(read_messages(path)) == [(n, orjson.dumps(e)) for n, e in enumerate(elements, start=1)]


@pytest.mark.parametrize(
    ("content", "count"),
    [
        pytest.param(b"", 0, id="empty"),
        pytest.param(b"\n \n\n", 0, id="blank"),
        pytest.param(b'{"id": "1"}\n\nnot json\n{"id": "2"}', 3, id="json-lines"),
        pytest.param(b"[]", 0, id="empty-array"),
        pytest.param(b'[{"id": "1"}, {"id": "2"}]', 2, id="array"),
    ],
)
def test_count_messages_counts_what_read_messages_yields(write: Write, content: bytes, count: int) -> None:
    """`count_messages` is the number of messages `read_messages` yields, blank lines excluded."""
    path = write(content)
    assert count_messages(path) == count == len(list(read_messages(path)))


def _truncated_gzip(tmp_path: Path, lines: int) -> tuple[Path, list[bytes]]:
    """A gzip recording of `lines` lines cut short, as a recording interrupted mid-write is."""
    content = [orjson.dumps({"id": str(i), "text": "x" * 200}) for i in range(lines)]
    packed = gzip.compress(b"\n".join(content) + b"\n", mtime=0)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    return path, content


def test_a_truncated_gzip_yields_its_readable_lines_then_names_the_damage(tmp_path: Path) -> None:
    """Every line before the cut comes out whole; then one error says where the file broke."""
    path, content = _truncated_gzip(tmp_path, 2_000)
    read: list[bytes] = []
    with pytest.raises(DamagedRecordingError) as caught:
        read.extend(raw for _, raw in read_messages(path))
    assert 0 < len(read) < len(content)
    assert read == content[: len(read)]
    assert caught.value.lines >= len(read)
    assert f"unreadable after line {caught.value.lines}" in str(caught.value)
    assert count_messages(path) == len(read)


def test_a_file_named_gz_that_is_not_gzip_is_named_as_such(tmp_path: Path) -> None:
    """Nothing can be read: the error says so, and the count is 0."""
    path = tmp_path / "fake.jsonl.gz"
    path.write_bytes(b'{"id": "1"}\n')
    with pytest.raises(DamagedRecordingError, match="damaged from its start, or not a recording"):
        list(read_messages(path))
    assert count_messages(path) == 0
