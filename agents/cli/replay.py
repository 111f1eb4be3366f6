"""`resonance replay FILE...`: send recordings into the input topic, paced by event time or flat out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import faust
from faust.cli import argument, option
from kafka import KafkaProducer
from kafka.errors import KafkaError
from tqdm import tqdm

from agents.cli.base import PlainCommand, UsageError, say
from agents.kafka_admin import ensure_topics
from agents.recordings import count_messages, read_messages
from agents.settings import Settings
from models.event import TweetEvent
from models.wire import Rejection, parse_message


@dataclass(slots=True)
class Pacer:
    """Sleeps so that wall-clock gaps equal event-time gaps divided by `speed` (None: no pacing)."""

    speed: float | None
    _origin: tuple[datetime, float] | None = None

    def wait_for(self, at: datetime | None) -> None:
        """Block until the event at `at` is due; the first event sets the origin."""
        if self.speed is None or at is None:
            return
        if self._origin is None:
            self._origin = (at, time.monotonic())
            return
        first_at, first_wall = self._origin
        due = first_wall + (at - first_at).total_seconds() / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)


@dataclass(slots=True)
class Tally:
    """What a replay sent, in the worker's accounting units (tweets, plus unreadable items)."""

    messages: int = 0
    tweets: int = 0
    unreadable: int = 0
    problems: list[str] = field(default_factory=list)


def _inspect(raw: bytes, where: str, tally: Tally) -> tuple[bytes | None, datetime | None]:
    """The message's key (its tweet id when it holds one tweet) and latest event time."""
    results = parse_message(raw)
    tweets = [r for r in results if isinstance(r, TweetEvent)]
    for rejection in (r for r in results if isinstance(r, Rejection)):
        tally.unreadable += 1
        if len(tally.problems) < 20:
            tally.problems.append(f"{where}: {rejection.reason}: {rejection.detail}")
    tally.tweets += len(tweets)
    key = tweets[0].id.encode() if len(tweets) == 1 else None
    return key, max((t.at for t in tweets), default=None)


def register(app: faust.App, settings: Settings) -> None:
    """Add the `replay` command to `app`."""

    @app.command(
        argument("files", nargs=-1, required=True, type=Path),
        option("--topic", default=settings.input_topic, help="Topic to send to."),
        option(
            "--speed",
            type=float,
            default=None,
            help="Pace by event time: 60 plays an hour of tweets in a minute. Default: flat out.",
        ),
        base=PlainCommand,
        name="replay",
    )
    async def replay(self: Any, files: tuple[Path, ...], topic: str, speed: float | None) -> None:
        """Send recordings (JSON lines, .gz, or a JSON array; v1.1, v2/twarc2 or native) to Kafka.

        Messages go out as they are, in file order, keyed by tweet id. Unreadable lines are sent
        too (the worker dead-letters them with the reason) and reported here with their line
        numbers.
        """
        for path in files:
            if not path.is_file():
                raise UsageError(f"{path}: no such file; give the path of a recording (.jsonl or .jsonl.gz)")
        if speed is not None and speed <= 0:
            raise UsageError("--speed must be positive, e.g. --speed 60; omit it to send as fast as possible")
        ensure_topics(settings.bootstrap_servers, [topic], partitions=settings.partitions)
        tally = send_files(settings, files, topic, Pacer(speed))
        for problem in tally.problems:
            say(f"  unreadable: {problem}")
        say(
            f"sent {tally.messages} messages to {topic!r} on {settings.bootstrap_servers}: "
            f"{tally.tweets} tweets, {tally.unreadable} unreadable (dead-lettered by the worker)"
        )


def send_files(settings: Settings, files: tuple[Path, ...], topic: str, pacer: Pacer) -> Tally:
    """Send every message of `files` to `topic`, with a progress bar; return the tally."""
    tally = Tally()
    total = sum(count_messages(path) for path in files)
    try:
        producer = KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            linger_ms=5,
            max_request_size=max(settings.max_message_bytes * 2, 1_048_576),
        )
    except KafkaError as error:
        raise UsageError(
            f"cannot reach Kafka at {settings.bootstrap_servers} ({error}); "
            "start it with `resonance kafka up`"
        ) from None
    with tqdm(total=total, unit="msg", desc="replay", dynamic_ncols=True) as bar:
        for path in files:
            for number, raw in read_messages(path):
                key, at = _inspect(raw, f"{path}:{number}", tally)
                pacer.wait_for(at)
                producer.send(topic, key=key, value=raw)
                tally.messages += 1
                bar.update()
    producer.flush()
    producer.close()
    return tally
