"""Durations as people write them: `90s`, `15m`, `2h`, `7d`, used everywhere (CLI and settings)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse `<number><unit>` with unit ms, s, m, h or d; raise ValueError naming the fix.

    >>> parse_duration("15m")
    datetime.timedelta(seconds=900)
    >>> parse_duration("1.5h")
    datetime.timedelta(seconds=5400)
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: write a number and a unit, e.g. 90s, 15m, 2h, 7d")
    number, unit = match.groups()
    return timedelta(seconds=float(number) * _UNIT_SECONDS[unit])


def format_duration(span: timedelta) -> str:
    """Write a duration in the largest unit that divides it exactly, the inverse of `parse_duration`.

    >>> format_duration(timedelta(minutes=15))
    '15m'
    >>> format_duration(timedelta(seconds=90))
    '90s'
    """
    milliseconds = round(span.total_seconds() * 1000)
    for unit in ("d", "h", "m", "s"):
        unit_ms = round(_UNIT_SECONDS[unit] * 1000)
        if milliseconds % unit_ms == 0:
            return f"{milliseconds // unit_ms}{unit}"
    return f"{milliseconds}ms"
