r"""The recording format: JSON lines (one message per line), or one JSON array whose elements are
the messages (as some API clients save a response).

>>> array_messages(b'[{"id": 1}, {"id": 2}]')
[b'{"id":1}', b'{"id":2}']
>>> array_messages(b'{"id": 1}') is None
True
>>> line_message(b'{"id": 1}\r\n'), line_message(b'  \n')
(b'{"id": 1}', None)
"""

from __future__ import annotations

import orjson

ARRAY_PROBE_BYTES = 4096
"""How much of a file's start `looks_like_array` needs."""


def looks_like_array(head: bytes) -> bool:
    """Whether a recording that starts with `head` may be one JSON array (read it whole, then)."""
    return head.lstrip().startswith(b"[")


def array_messages(data: bytes) -> list[bytes] | None:
    """The messages of a recording that is one JSON array, each element re-encoded; None when
    `data` is not one JSON array (JSON lines whose first message happens to start with "[").
    """
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(items, list):
        return None
    return [orjson.dumps(item) for item in items]


def line_message(line: bytes) -> bytes | None:
    """The message a line of a JSON-lines recording holds, without its line end; None when blank."""
    message = line.rstrip(b"\r\n")
    return message if message.strip() else None
