"""What the handover tests share (a worker killed and replaced, workers joining or leaving the
group): the settings, the offline run they are held to, and the check of the live final records.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import RESONANCE, Deployment, Final, analyze_options, assert_final
from synth import StreamSpec, write_stream

SETTINGS = {
    "RESONANCE_WINDOW": "2h",
    "RESONANCE_LATENESS": "10m",  # arrival disorder across partitions stays within it
    "RESONANCE_CHECKPOINT_EVERY": "1s",
}
EVENTS = 4_000
SPEED = 5  # event time / wall time: the stream's 2.5 minutes flow for about 30 s


@dataclasses.dataclass(frozen=True)
class Expected:
    """A recording and what `analyze` makes of it."""

    recording: Path
    total: int
    final: Final
    alerts: list[dict[str, Any]]  # the alert records `analyze` writes, in its order


def expect(deployment: Deployment, directory: Path) -> Expected:
    """A synthetic stream written in `directory`, with the offline run's final records."""
    recording = directory / "stream.jsonl"
    total = write_stream(StreamSpec(events=EVENTS, seed=9), recording)
    offline = deployment.analyze(
        recording, directory / "offline.jsonl", *analyze_options(SETTINGS), **SETTINGS
    )
    alerts = [record for record in offline if record["kind"] == "alert"]
    return Expected(recording=recording, total=total, final=Final.of(offline), alerts=alerts)


def halves(recording: Path, directory: Path) -> tuple[Path, Path]:
    """The first and second halves of `recording`'s lines, as two recordings in `directory`."""
    lines = recording.read_bytes().splitlines(keepends=True)
    first, second = directory / "first.jsonl", directory / "second.jsonl"
    first.write_bytes(b"".join(lines[: len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2 :]))
    return first, second


def assert_final_equals_offline(
    deployment: Deployment, expected: Expected, logs: Path, seconds: float = 180
) -> None:
    """Wait until the metrics topic's latest idle view holds records of every kind equal to the
    offline run's (cascades, influence, the hashtag graph, communities, hashtag polarization,
    coordination), and every hashtag's latest count equals its offline count.
    """
    assert_final(deployment, expected.final, seconds=seconds, logs=logs)


@contextmanager
def replaying(
    deployment: Deployment, recording: Path, log: Path, speed: float = SPEED
) -> Iterator[subprocess.Popen[bytes]]:
    """Replay `recording` at `speed` in the background while the block runs (the block gets the
    replay's process); at its end, the replay must have finished, successfully.
    """
    with log.open("wb") as out:
        replay = subprocess.Popen(
            [*RESONANCE, "replay", "--speed", str(speed), str(recording)],
            env=deployment.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield replay
    finally:
        try:
            replay.wait(timeout=120)
        except subprocess.TimeoutExpired:
            replay.kill()
            replay.wait()
    assert replay.returncode == 0, f"replay exited with {replay.returncode}:\n{log.read_text()[-3000:]}"
