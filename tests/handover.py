"""What the handover tests share (a worker killed and replaced, workers joining or leaving the
group): the settings, the offline run they are held to, and the check of the live final records.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from support import Deployment, comparable, consume, records, worker_warnings
from synth import StreamSpec, write_stream

SETTINGS = {
    "RESONANCE_WINDOW": "2h",
    "RESONANCE_LATENESS": "10m",  # arrival disorder across partitions stays within it
    "RESONANCE_CHECKPOINT_EVERY": "1s",
}
OFFLINE_ARGS = ("--window", "2h", "--lateness", "10m", "--top", "20")  # the same as SETTINGS
EVENTS = 4_000


@dataclasses.dataclass(frozen=True)
class Expected:
    """A recording and what `analyze` makes of it."""

    recording: Path
    total: int
    summary: dict[str, Any]
    tags: dict[str, tuple[int, int]]


def expect(deployment: Deployment, directory: Path) -> Expected:
    """A synthetic stream written in `directory`, with the offline run's final influence summary
    and hashtag counts.
    """
    recording = directory / "stream.jsonl"
    total = write_stream(StreamSpec(events=EVENTS, seed=9), recording)
    offline = deployment.analyze(recording, directory / "offline.jsonl", *OFFLINE_ARGS, **SETTINGS)
    return Expected(
        recording=recording,
        total=total,
        summary=comparable(next(r for r in offline if r["kind"] == "influence_summary")),
        tags={r["tag"]: (r["count"], r["users"]) for r in offline if r["kind"] == "hashtag"},
    )


def assert_final_equals_offline(
    deployment: Deployment, expected: Expected, logs: Path, seconds: float = 180
) -> None:
    """Wait until the metrics topic's latest influence summary and every hashtag's latest count
    equal the offline run's; fail with what still differs and what the workers logged in `logs`.
    """
    last: dict[str, Any] = {}

    def caught_up(messages: list[Any]) -> bool:
        published = records(messages)
        summaries = [r for r in published if r["kind"] == "influence_summary"]
        tags = {r["tag"]: (r["count"], r["users"]) for r in published if r["kind"] == "hashtag"}
        last["summary"] = comparable(summaries[-1]) if summaries else None
        last["tags"] = {t: (tags.get(t), n) for t, n in expected.tags.items() if tags.get(t) != n}
        return last["summary"] == expected.summary and not last["tags"]

    try:
        consume(deployment.bootstrap, deployment.metrics_topic, until=caught_up, seconds=seconds)
    except AssertionError:
        raise AssertionError(
            f"live {last} vs offline summary {expected.summary}\nworker warnings:\n{worker_warnings(logs)}"
        ) from None
