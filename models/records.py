"""Metric records, as published on the metrics topic and written by `resonance analyze`.

Every record is a frozen dataclass with a `kind` and the event time `at` it describes, and says
how it was computed (window span, allowed lateness, what triggered it). `to_json` gives the one
wire form, used live and offline alike.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

import orjson

from models.duration import format_duration


class Trigger(StrEnum):
    """Why a record was emitted.

    `boundary`: the watermark passed a multiple of the emission cadence; the record covers the
    window ending there and is final and deterministic. `idle`: the input went quiet, so a view
    of everything received so far is published (provisional: later events may change it).
    `end`: the end of an offline input; the same view as `idle`, final.
    """

    BOUNDARY = "boundary"
    IDLE = "idle"
    END = "end"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return format_duration(value)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Fields shared by every metric record."""

    kind: ClassVar[str]
    at: datetime
    window: timedelta
    lateness: timedelta
    trigger: Trigger

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict, `kind` first."""
        return {"kind": self.kind} | {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def to_bytes(self) -> bytes:
        """The record's wire bytes (orjson)."""
        return orjson.dumps(self.to_json())


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagCount(Record):
    """Uses of one hashtag (by distinct tweets) and the distinct users behind them, over the
    window `[at - window, at)` in event time.
    """

    kind: ClassVar[str] = "hashtag"
    tag: str
    count: int
    users: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HashtagUse:
    """One tweet's use of one hashtag, as routed between workers (keyed by tag)."""

    tag: str
    user_id: str
    at: datetime

    def to_bytes(self) -> bytes:
        """Internal wire form: compact JSON with epoch milliseconds."""
        return orjson.dumps(
            {"tag": self.tag, "user_id": self.user_id, "at_ms": int(self.at.timestamp() * 1000)}
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> HashtagUse:
        """Inverse of `to_bytes`."""
        data = orjson.loads(raw)
        return cls(
            tag=data["tag"],
            user_id=data["user_id"],
            at=datetime.fromtimestamp(data["at_ms"] / 1000, tz=UTC),
        )
