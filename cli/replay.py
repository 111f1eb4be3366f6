"""`resonance replay FILE...`: send recordings into the input topic, flat out or paced by event time,
within an event-time range, resumable after an interruption.

What goes out, file after file:

- our own recordings (`resonance record`, told apart by their keys): each message's value, key and
  headers as recorded; the partitions, recorded one after the other, are merged back by
  timestamp (each partition's order kept). The broker gives the messages new offsets and
  timestamps; partitions follow the keys.
- JSON lines or a JSON array, in any tweet format, and the research formats (SNAP Higgs
  activity, Conover et al. 2011 edge lists): each tweet as the native JSON event it stands for,
  many to a message (`cli.batching`); with `--one-per-message`, each line as it is (a
  research line as its native event), as another producer would send it.

Tweets go to the partition of their cascade (`TweetEvent.cascade_key`: a retweet by the tweet it
retweets, anything else by its own id), so each cascade's tweets reach the worker in file order,
as `analyze` reads them: inferred parents are chosen among the tweets that came before. Sent
one per message, a page holding tweets of several cascades is keyed `page`: all such pages
share one partition, in file order.

Unreadable messages go out too (the worker dead-letters them with the reason) and are reported
with their file and line.

Resuming (`--resume STATE`): after every batch, the producer is flushed (so "sent" means the
broker acknowledged it) and the number of messages of the replay order already done is written
to STATE (a temporary file renamed over it). A rerun with the same STATE skips exactly those.
SIGINT and SIGTERM stop at the next message boundary, flush and save, so interrupting and
resuming sends every message exactly once; only a hard kill (SIGKILL, power loss) can resend
the last unsaved batch.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import faust
import orjson
from faust.cli import argument, option
from kafka import KafkaProducer
from kafka.errors import KafkaError
from tqdm import tqdm

from agents.errors import kafka_unreachable
from agents.kafka_admin import ensure_topics
from agents.kafka_security import kafka_python_options
from agents.settings import Settings
from cli.base import PlainCommand, UsageError, check_recordings, check_topic, say
from cli.batching import Message, TweetBatches
from cli.record import BadLine, RecordedMessage, StopSignals, is_recording, read_recording
from cli.recordings import DamagedRecordingError, count_messages, read_messages
from models.duration import format_duration, parse_duration
from models.event import TweetEvent
from models.wire import Invalid, Rejection, parse_line, parse_message, to_native
from models.wire.conover import looks_like_conover
from models.wire.fields import iso_time
from models.wire.higgs import looks_like_higgs

CHECKPOINT_MESSAGES = 1_000  # a batch ends after this many messages ...
CHECKPOINT_SECONDS = 1.0  # ... or this much wall time, whichever comes first
_SLEEP_SLICE_SECONDS = 0.1  # pacing sleeps in slices, so a stop request is seen at once
_MAX_PROBLEMS = 20  # unreadable messages listed by name; all of them are counted


def _never() -> bool:
    return False


@dataclass(slots=True)
class Pacer:
    """Sleeps so that wall-clock gaps equal event-time gaps divided by `speed` (None: no pacing).

    `stopped` is polled while sleeping: once it returns True, `wait_for` returns at once.
    """

    speed: float | None
    stopped: Callable[[], bool] = _never
    behind: int = field(default=0, init=False)
    """Paced events dated before one already sent: they go out at once (a file not in time order)."""
    _origin: tuple[datetime, float] | None = field(default=None, init=False)
    _latest: datetime | None = field(default=None, init=False)

    def wait_for(self, at: datetime | None, before_sleeping: Callable[[], None] = lambda: None) -> None:
        """Block until the event at `at` is due, calling `before_sleeping` first when it is not
        due yet; the first event sets the origin.
        """
        if self.speed is None or at is None:
            return
        if self._latest is not None and at < self._latest:
            self.behind += 1
        else:
            self._latest = at
        if self._origin is None:
            self._origin = (at, time.monotonic())
            return
        first_at, first_wall = self._origin
        due = first_wall + (at - first_at).total_seconds() / self.speed
        delay = due - time.monotonic()
        if delay > 0:
            before_sleeping()
        while delay > 0 and not self.stopped():
            time.sleep(min(delay, _SLEEP_SLICE_SECONDS))
            delay = due - time.monotonic()


@dataclass(slots=True)
class Tally:
    """What a replay did, in the worker's accounting units (tweets, plus unreadable items)."""

    messages: int = 0  # sent by this run
    tweets: int = 0
    unreadable: int = 0
    outside: int = 0  # not sent: outside --from/--to
    resumed: int = 0  # not sent: done by an earlier run (--resume)
    interrupted: bool = False
    problems: list[str] = field(default_factory=list)
    damaged: list[DamagedRecordingError] = field(default_factory=list)  # files read only in part


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One message of the replay order: what to send, and what replay learned of it."""

    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    at: datetime | None = None  # its latest tweet's event time; None when it holds no tweet
    tweets: int = 0
    problems: tuple[str, ...] = ()  # one per unreadable item, naming file:line
    # The tweets of a line read whole (none unreadable, not a recording of ours): they may go out
    # in batches, as native JSON, instead of as `value`.
    events: tuple[TweetEvent, ...] = ()


Bound = datetime | timedelta  # an instant, or an offset from the replay's first event


@dataclass(frozen=True, slots=True)
class EventRange:
    """`--from`/`--to`: the event times `[start, end)` to send (None: unbounded).

    A bound is an instant, or an offset from the first event of the replay (`+10m`).
    """

    start: Bound | None = None
    end: Bound | None = None

    @staticmethod
    def parse_bound(text: str | None, option_name: str) -> Bound | None:
        """`2024-01-01T12:00:00Z` (with a zone) or `+90s`/`+15m`/`+2h`; raise UsageError."""
        if text is None:
            return None
        try:
            if text.startswith("+"):
                return parse_duration(text[1:])
            return iso_time(text, option_name)
        except Invalid as invalid:
            problem = invalid.detail
        except ValueError as error:
            problem = f"{option_name} {text!r}: {error}"
        raise UsageError(
            f"{problem}; write an instant with a zone (2024-01-01T12:00:00Z) or an offset from "
            "the first event (+10m)"
        )

    def contains(self, at: datetime, first: datetime) -> bool:
        """Whether `at` is in the range, relative bounds counted from `first`."""
        start, end = (b if not isinstance(b, timedelta) else first + b for b in (self.start, self.end))
        return (start is None or at >= start) and (end is None or at < end)

    def is_empty(self) -> bool:
        """True when the bounds, both instants or both offsets, leave no time between them."""
        start, end = self.start, self.end
        if isinstance(start, datetime) and isinstance(end, datetime):
            return start >= end
        if isinstance(start, timedelta) and isinstance(end, timedelta):
            return start >= end
        return False

    def describe(self) -> dict[str, str | None]:
        """The bounds as text (for the resume state)."""
        return {"from": _bound_text(self.start), "to": _bound_text(self.end)}


def _bound_text(bound: Bound | None) -> str | None:
    if isinstance(bound, timedelta):
        return "+" + format_duration(bound)
    return None if bound is None else bound.isoformat()


def _from_line(raw: bytes, number: int, where: str) -> Outgoing:
    """A line of a plain recording: sent as it is, or, in a research format, as native JSON."""
    results = parse_line(raw, number)
    tweets = [r for r in results if isinstance(r, TweetEvent)]
    value = raw
    if tweets and (looks_like_higgs(raw) or looks_like_conover(raw)):
        value = orjson.dumps(to_native(tweets[0]))
    outgoing = _outgoing(value, _cascade_key(tweets), (), results, where)
    if len(tweets) == len(results):
        outgoing = dataclasses.replace(outgoing, events=tuple(tweets))
    return outgoing


PAGE_KEY = b"page"


def _cascade_key(tweets: list[TweetEvent]) -> bytes | None:
    """The key of a message holding `tweets`: their cascade's, `PAGE_KEY` for several cascades,
    None for no tweet (it is dead-lettered wherever it lands).
    """
    keys = {tweet.cascade_key for tweet in tweets}
    if len(keys) > 1:
        return PAGE_KEY
    return keys.pop().encode() if keys else None


def _from_recording(item: RecordedMessage | BadLine, where: str) -> Outgoing:
    """A line of our own recording: the recorded message, key and headers kept."""
    if isinstance(item, BadLine):
        return Outgoing(value=item.raw, problems=(f"{where}: not a recorded message: {item.problem}",))
    return _outgoing(item.value, item.key, item.headers, parse_message(item.value or b""), where)


def _outgoing(
    value: bytes | None,
    key: bytes | None,
    headers: tuple[tuple[str, bytes | None], ...],
    results: list[TweetEvent | Rejection],
    where: str,
) -> Outgoing:
    tweets = [r for r in results if isinstance(r, TweetEvent)]
    return Outgoing(
        value=value,
        key=key,
        headers=headers,
        at=max((t.at for t in tweets), default=None),
        tweets=len(tweets),
        problems=tuple(f"{where}: {r.reason}: {r.detail}" for r in results if isinstance(r, Rejection)),
    )


def replay_order(files: tuple[Path, ...], damaged: list[DamagedRecordingError]) -> Iterator[Outgoing]:
    """Every readable message of `files`, in the order replay sends them; a file that breaks off
    (a truncated gzip) is added to `damaged`, and the next file follows.
    """
    for path in files:
        try:
            if is_recording(path):
                for number, item in read_recording(path):
                    yield _from_recording(item, f"{path}:{number}")
            else:
                for number, raw in read_messages(path):
                    yield _from_line(raw, number, f"{path}:{number}")
        except DamagedRecordingError as damage:
            damaged.append(damage)


@dataclass(frozen=True, slots=True)
class ResumeState:
    """Where a replay with `--resume` is: saved after every flushed batch, read on a rerun."""

    path: Path
    replay: dict[str, Any]  # what identifies the replay: files, topic and range

    def load(self) -> tuple[int, int]:
        """(messages of the replay order done, messages sent) by earlier runs; (0, 0) at first."""
        if not self.path.exists():
            return 0, 0
        try:
            saved = orjson.loads(self.path.read_bytes())
            done, sent, replay = saved["done"], saved["sent"], saved["replay"]
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as error:
            raise UsageError(
                f"--resume {self.path}: unreadable state ({error}); delete it to start over"
            ) from None
        if replay != self.replay:
            raise UsageError(
                f"--resume {self.path}: saved by another replay (its files, topic or --from/--to "
                "differ); give another state file, or delete it to start over"
            )
        return done, sent

    def save(self, done: int, sent: int) -> None:
        """Record progress atomically: a temporary file, synced, renamed over the state file."""
        partial = self.path.with_name(f"{self.path.name}.tmp")
        with partial.open("wb") as out:
            out.write(orjson.dumps({"replay": self.replay, "done": done, "sent": sent}))
            out.flush()
            os.fsync(out.fileno())
        partial.replace(self.path)


def _producer(settings: Settings) -> KafkaProducer:
    try:
        return KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            linger_ms=5,
            max_request_size=max(settings.max_message_bytes * 2, 1_048_576),
            **kafka_python_options(settings),
        )
    except KafkaError as error:
        raise kafka_unreachable(settings.bootstrap_servers, error) from None


@dataclass(slots=True)
class _Batch:
    """The messages sent since the last checkpoint; `settle` makes them acknowledged. Tweets go
    through `tweets` (many to a message) when it is set.
    """

    producer: KafkaProducer
    topic: str
    tweets: TweetBatches | None
    futures: list[Any] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def send(self, message: Outgoing) -> None:
        """Send `message`: its tweets into the batches, or the message itself, alone."""
        if self.tweets is not None and message.events:
            for tweet in message.events:
                native = orjson.dumps(to_native(tweet))
                self._send_all(self.tweets.add(tweet.cascade_key.encode(), native, tweet.at))
            return
        # kafka-python cannot send a null header value: it goes out empty
        headers = [(name, value or b"") for name, value in message.headers]
        self.futures.append(
            self.producer.send(self.topic, key=message.key, value=message.value, headers=headers)
        )

    def send_tweets(self) -> None:
        """Send the tweets queued in batches now (before a wait: they are due)."""
        if self.tweets is not None:
            self._send_all(self.tweets.flush())

    def _send_all(self, batches: list[Message]) -> None:
        for partition, key, value in batches:
            self.futures.append(self.producer.send(self.topic, key=key, value=value, partition=partition))

    def due(self) -> bool:
        return (
            len(self.futures) >= CHECKPOINT_MESSAGES or time.monotonic() - self.started >= CHECKPOINT_SECONDS
        )

    def settle(self) -> None:
        """Send, flush, and fail if the broker refused any message of the batch."""
        self.send_tweets()
        self.producer.flush()
        failed = [f for f in self.futures if f.failed()]
        if failed:
            raise UsageError(
                f"Kafka refused {len(failed)} message(s) ({failed[0].exception}); "
                "rerun with the same --resume file to retry from the last saved batch"
            )
        self.futures.clear()
        self.started = time.monotonic()


def send_files(
    settings: Settings,
    files: tuple[Path, ...],
    topic: str,
    pacer: Pacer,
    *,
    window: EventRange | None = None,
    resume: ResumeState | None = None,
    one_per_message: bool = False,
) -> Tally:
    """Send every message of `files` to `topic`, with a progress bar; return the tally.

    The tweets of plain lines go out in batches (`cli.batching`), as native JSON, unless
    `one_per_message`: then each line goes out as it is, alone. Stops early, after saving its
    progress, once `pacer.stopped()` returns True (then `tally.interrupted` is set).
    """
    window = window or EventRange()
    tally = Tally()
    done, sent_before = resume.load() if resume else (0, 0)
    total = sum(count_messages(path) for path in files)
    producer = _producer(settings)
    # Half the worker's lateness: what one round of batches puts out of order stays well inside it.
    span = settings.lateness / 2
    tweets = None if one_per_message else TweetBatches(producer.partitions_for(topic) or [0], span=span)
    batch = _Batch(producer, topic, tweets)
    position = 0  # messages of the replay order done: sent, or outside the range
    first: datetime | None = None  # the first event time of the replay order
    try:
        with tqdm(total=total, initial=done, unit="msg", desc="replay", dynamic_ncols=True) as bar:
            for message in replay_order(files, tally.damaged):
                first = first or message.at
                if position < done:
                    position += 1
                    tally.resumed += 1
                    continue
                if message.at is not None and first is not None and not window.contains(message.at, first):
                    tally.outside += 1
                else:
                    pacer.wait_for(message.at, before_sleeping=batch.send_tweets)
                    if pacer.stopped():
                        break
                    batch.send(message)
                    _count(tally, message)
                position += 1
                bar.update()
                if batch.due():
                    batch.settle()
                    if resume:
                        resume.save(position, sent_before + tally.messages)
                if pacer.stopped():
                    break
        batch.settle()
        if resume:
            resume.save(position, sent_before + tally.messages)
    finally:
        producer.close()
    tally.interrupted = position < total
    return tally


def _count(tally: Tally, message: Outgoing) -> None:
    tally.messages += 1
    tally.tweets += message.tweets
    tally.unreadable += len(message.problems)
    room = _MAX_PROBLEMS - len(tally.problems)
    tally.problems.extend(message.problems[: max(room, 0)])


def register(app: faust.App, settings: Settings) -> None:
    """Add the `replay` command to `app`."""

    @app.command(
        argument("files", nargs=-1, required=True, type=Path),
        option("--topic", default=settings.input_topic, help="Topic to send to."),
        option(
            "--speed",
            type=float,
            default=None,
            help="Pace by event time, as a factor of real time: 60 plays an hour of tweets in a minute.",
        ),
        option(
            "--max",
            "flat_out",
            is_flag=True,
            help="Send as fast as possible (the default). This packs event time: give the worker a "
            "RESONANCE_LATENESS of minutes (say 10m), or its boundary records miss late events.",
        ),
        option(
            "--from",
            "start",
            default=None,
            metavar="TIME",
            help="Send only events at or after TIME: an instant with a zone (2024-01-01T12:00:00Z) "
            "or an offset from the first event of the replay (+10m).",
        ),
        option(
            "--to",
            "end",
            default=None,
            metavar="TIME",
            help="Send only events before TIME (same forms as --from).",
        ),
        option(
            "--resume",
            type=Path,
            default=None,
            metavar="STATE_FILE",
            help="Save progress to STATE_FILE after each batch; rerun with it to send only the rest.",
        ),
        option(
            "--one-per-message",
            is_flag=True,
            help="Send each line as it is, in a message of its own, as another producer would; "
            "by default tweets go out as native JSON, many to a message, which the worker takes "
            "in far faster.",
        ),
        base=PlainCommand,
        name="replay",
    )
    async def replay(
        self: Any,
        files: tuple[Path, ...],
        topic: str,
        speed: float | None,
        flat_out: bool,
        start: str | None,
        end: str | None,
        resume: Path | None,
        one_per_message: bool,
    ) -> None:
        """Send recordings to Kafka: `resonance record` files, tweets in any format, Higgs or Conover.

        Recordings of ours keep their keys and headers (their partitions merged by timestamp); JSON
        lines (.gz too) or a JSON array (v1.1, v2/twarc2 or native), SNAP Higgs and Conover et al.
        edge-list lines go out as native events, many to a message, in file order
        (--one-per-message: each line as it is). Tweets go to their cascade's partition (a retweet
        by the tweet it retweets), so each cascade arrives in file order through any number of
        partitions. --from/--to select by event time; an offset such as +10m
        counts from the first event of the replay. Unreadable lines are sent too (the worker
        dead-letters them), whatever --from/--to, and reported with their line numbers. Ctrl-C
        stops cleanly; with --resume, a rerun sends exactly the rest.

        \b
        Example: resonance replay tweets.jsonl.gz --speed 60 --from +10m --to +1h --resume replay.state
        """  # noqa: D301 - click's \b (a backspace) keeps the example unwrapped
        check_recordings(files, " (.jsonl or .jsonl.gz)")
        check_topic(topic, "--topic")
        if speed is not None and speed <= 0:
            raise UsageError("--speed must be positive, e.g. --speed 60; omit it to send as fast as possible")
        if speed is not None and flat_out:
            raise UsageError("--speed and --max exclude each other: pace by event time, or send flat out")
        window = EventRange(EventRange.parse_bound(start, "--from"), EventRange.parse_bound(end, "--to"))
        if window.is_empty():
            raise UsageError(f"--from {start} is not before --to {end}: nothing would be sent")
        state = None
        if resume is not None:
            identity = {
                "files": [[str(p.resolve()), p.stat().st_size] for p in files],
                "topic": topic,
                **window.describe(),
            }
            state = ResumeState(resume, identity)
        signals = StopSignals().install()
        signals.graceful = True  # the first Ctrl-C stops at a message boundary, progress saved
        ensure_topics(
            settings.bootstrap_servers,
            [topic],
            partitions=settings.partitions,
            security=kafka_python_options(settings),
        )
        pacer = Pacer(speed, stopped=signals.is_requested)
        tally = send_files(
            settings, files, topic, pacer, window=window, resume=state, one_per_message=one_per_message
        )
        _report(tally, topic, settings, resume)
        if pacer.behind:
            say(
                f"  {pacer.behind} messages were dated before one sent earlier (the recording is not "
                "in time order, e.g. twarc pages, newest first): pacing follows the file, so they went "
                "out at once"
            )
        if tally.damaged:  # sent what could be read; exit 2 naming the first damage
            raise tally.damaged[0]
        if tally.interrupted:
            raise KeyboardInterrupt


def _report(tally: Tally, topic: str, settings: Settings, resume: Path | None) -> None:
    for problem in tally.problems:
        say(f"  unreadable: {problem}")
    extra = "".join(
        text
        for count, text in (
            (tally.outside, f"; {tally.outside} outside --from/--to not sent"),
            (tally.resumed, f"; {tally.resumed} skipped, done by an earlier run ({resume})"),
        )
        if count
    )
    say(
        f"sent {tally.messages} messages to {topic!r} on {settings.bootstrap_servers}: "
        f"{tally.tweets} tweets, {tally.unreadable} unreadable (dead-lettered by the worker){extra}"
    )
    for damage in tally.damaged[1:]:
        say(f"  damaged: {damage}")
    if tally.interrupted:
        say(
            f"stopped early; rerun with --resume {resume} to send the rest"
            if resume
            else "stopped early; without --resume, a rerun starts from the beginning"
        )
