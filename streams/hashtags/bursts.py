"""Burst detection per hashtag: the count in a bucket as a z-score against the tag's own history.

Event time is cut into buckets of length `bucket`, aligned on multiples of it since the epoch:
bucket i is `[i * bucket, (i + 1) * bucket)`. When bucket i closes, every tag used x > 0 times
in it gets

    z = (x - mean) / max(std, sqrt(mean), 1)

where `mean` and `std` are the population mean and standard deviation of the tag's counts in the
previous `history` buckets, i - history .. i - 1, with 0 for the buckets where it was not seen.
While fewer buckets have passed since the tracker's first one, the history is those buckets
(n = min(history, i - first)). The first bucket has no history at all and is not scored: every
tag in it would look new.

Why the floor: a tag at a perfectly steady rate has std 0, and any change would give an infinite
z. Counts of independent uses in a bucket are about Poisson, whose standard deviation is
sqrt(mean), so sqrt(mean) is the spread expected from chance alone; 1 (a single use) keeps
rare and brand-new tags (mean 0) finite: a new tag gets z = x. With the floor, one use more or
less than a steady rate r >= 1 scores |z| = 1 / sqrt(r) <= 1, and a jump from a steady r to 10r
scores 9r / max(sqrt(r), 1) = 9 sqrt(r) (9 at r = 1).

References: the "point-by-point Poisson model" of Kolb et al., "Trend Detection in Social Data"
(Twitter/Gnip white paper, 2015; xdevplatform/Gnip-Trend-Detection, paper/trends.tex) scores a
bucket's count c by eta = (c - nu) / CI(nu), nu the previous count and CI a Poisson confidence
interval, and suggests stabilising nu with an average over a rolling window: here nu is the mean
of the last `history` buckets and the sample spread is used when it exceeds the Poisson one. The
"mean + k sigma" spike rule (k in {1.5, 2, 3}) of the project's metrics notes (2.5) thresholds
this z. Kleinberg's two-state automaton ("Bursty and Hierarchical Structure in Streams", KDD
2002) models bursts more finely but needs a decoding pass per tag.

Timeline (bucket 1 min, history 3)::

    minute      0    1    2    3    4
    buckets     [----)----)----)----)
    #a uses       2    2    2   20      close_until(4 min): #a's history 2, 2, 2 -> mean 2, std 0,
                                        z = (20 - 2) / max(0, sqrt(2), 1) = 12.7

Cost: O(tags used in the bucket) per closed bucket, plus each (tag, bucket) count leaving the
history once; memory holds only the counts of the last `history` buckets.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class _History:
    """A tag's non-zero counts in the recent buckets, oldest first, with running sums."""

    counts: deque[tuple[int, int]] = field(default_factory=deque)
    total: int = 0
    total_sq: int = 0


@dataclass(slots=True)
class BurstTracker:
    """Per-hashtag burst z-scores over buckets of event time (see the module docstring)."""

    bucket: timedelta
    history: int = 12
    late_uses: int = 0
    _open: dict[int, Counter[str]] = field(default_factory=dict, repr=False)
    _closed: int | None = None
    _first: int | None = None
    _tags: dict[str, _History] = field(default_factory=dict, repr=False)
    _expiry: deque[tuple[int, str]] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        """Check the parameters."""
        if self.bucket <= timedelta(0):
            raise ValueError("bucket must be positive")
        if self.history < 1:
            raise ValueError("history must be at least one bucket")

    def _index(self, at: datetime) -> int:
        return (at - _EPOCH) // self.bucket

    def _end(self, index: int) -> datetime:
        return _EPOCH + (index + 1) * self.bucket

    @property
    def closed_until(self) -> datetime | None:
        """The end of the last closed bucket (uses before it are late), None before any close."""
        return None if self._closed is None else _EPOCH + self._closed * self.bucket

    def observe(self, tag: str, at: datetime) -> bool:
        """Count one use of `tag` at `at`; False (and `late_uses` + 1) when its bucket is closed."""
        index = self._index(at)
        if self._closed is not None and index < self._closed:
            self.late_uses += 1
            return False
        self._open.setdefault(index, Counter())[tag] += 1
        if self._first is None or index < self._first:
            self._first = index
        return True

    def close_until(self, end: datetime) -> list[tuple[datetime, dict[str, float]]]:
        """Close every bucket ending at or before `end`, a bucket boundary after the last close.

        Return, oldest first, each closed bucket that was scored (it had uses and was not the
        first bucket): its end and each used tag's z.
        Drive it with `streams.window.boundaries(tracker.closed_until, watermark, bucket)`.
        """
        stop = (end - _EPOCH) // self.bucket
        if _EPOCH + stop * self.bucket != end:
            raise ValueError(f"{end.isoformat()} is not a multiple of the bucket {self.bucket}")
        if self._closed is not None and stop <= self._closed:
            raise ValueError(f"buckets up to {end.isoformat()} are already closed")
        scored: list[tuple[datetime, dict[str, float]]] = []
        for index in sorted(i for i in self._open if i < stop):
            self._forget_before(index - self.history)
            counts = self._open.pop(index)
            first = index if self._first is None else self._first
            if index > first:
                n = min(self.history, index - first)
                scored.append((self._end(index), self._score(n, counts)))
            self._record(index, counts)
        self._forget_before(stop - self.history)
        self._closed = stop
        return scored

    def close_bucket(self, end: datetime) -> dict[str, float]:
        """Close the bucket ending at `end` (and any earlier one still open); its tags' z-scores."""
        return dict(self.close_until(end)).get(end, {})

    def _score(self, n: int, counts: Counter[str]) -> dict[str, float]:
        """Score each tag against its counts in the previous `n` buckets."""
        scores: dict[str, float] = {}
        for tag in sorted(counts):
            past = self._tags.get(tag)
            total, total_sq = (past.total, past.total_sq) if past else (0, 0)
            mean = total / n
            # Integer sums keep the variance exact: (n * sum x^2 - (sum x)^2) / n^2.
            std = math.sqrt(n * total_sq - total * total) / n
            scores[tag] = (counts[tag] - mean) / max(std, math.sqrt(mean), 1.0)
        return scores

    def _record(self, index: int, counts: Counter[str]) -> None:
        for tag, count in counts.items():
            past = self._tags.setdefault(tag, _History())
            past.counts.append((index, count))
            past.total += count
            past.total_sq += count * count
            self._expiry.append((index, tag))

    def _forget_before(self, index: int) -> None:
        """Drop the counts of buckets before `index`: they are out of every future history."""
        while self._expiry and self._expiry[0][0] < index:
            _, tag = self._expiry.popleft()
            past = self._tags[tag]
            _, count = past.counts.popleft()
            past.total -= count
            past.total_sq -= count * count
            if not past.counts:
                del self._tags[tag]

    def snapshot(self) -> dict[str, Any]:
        """Plain data from which `restore` rebuilds this state exactly."""
        return {
            "bucket_ms": self.bucket // timedelta(milliseconds=1),
            "history": self.history,
            "late_uses": self.late_uses,
            "closed": self._closed,
            "first": self._first,
            "open": [
                [index, [[tag, count] for tag, count in sorted(counts.items())]]
                for index, counts in sorted(self._open.items())
            ],
            "recent": sorted(
                [index, tag, count] for tag, past in self._tags.items() for index, count in past.counts
            ),
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> BurstTracker:
        """Rebuild the tracker `snapshot` described; it continues exactly as the original would."""
        tracker = cls(
            bucket=timedelta(milliseconds=data["bucket_ms"]),
            history=data["history"],
            late_uses=data["late_uses"],
            _closed=data["closed"],
            _first=data["first"],
        )
        tracker._open = {index: Counter(dict(counts)) for index, counts in data["open"]}
        for index, tag, count in data["recent"]:
            tracker._record(index, Counter({tag: count}))
        return tracker
