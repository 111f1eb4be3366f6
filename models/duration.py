"""Durations as people write them: `90s`, `15m`, `2h`, `7d`, used everywhere (CLI and settings)."""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction

_UNIT_MICROSECONDS = {"ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
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
    # Exact arithmetic: through a float, a span of centuries written in ms came back 1 µs off.
    microseconds = round(Fraction(number) * _UNIT_MICROSECONDS[unit])
    try:
        return timedelta(microseconds=microseconds)
    except OverflowError:
        # timedelta stops at 999,999,999 days; callers catch ValueError, so say so in one.
        raise ValueError(f"invalid duration {text!r}: too long (at most 999999999d)") from None


def format_duration(span: timedelta) -> str:
    """Write a duration in the largest unit that divides it exactly, the inverse of `parse_duration`.

    >>> format_duration(timedelta(minutes=15))
    '15m'
    >>> format_duration(timedelta(seconds=90))
    '90s'
    """
    milliseconds = round(Fraction(span // timedelta(microseconds=1), 1000))  # exact, unlike a float
    for unit in ("d", "h", "m", "s"):
        unit_ms = _UNIT_MICROSECONDS[unit] // 1000
        if milliseconds % unit_ms == 0:
            return f"{milliseconds // unit_ms}{unit}"
    return f"{milliseconds}ms"
