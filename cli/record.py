"""`resonance record TOPIC --out FILE.jsonl.gz`: a topic's messages, losslessly, as JSON lines.

The recording format: one JSON object per line, with exactly these keys (`resonance replay`
recognises a recording by them):

| key | value |
|---|---|
| `topic` | the topic recorded |
| `partition`, `offset` | where the message was |
| `timestamp` | its Kafka timestamp, epoch milliseconds |
| `timestamp_type` | `CreateTime` (set by the producer) or `LogAppendTime` (set by the broker) |
| `key` | the key's bytes in base64, or null |
| `value` | the value's bytes in base64, or null (a tombstone) |
| `headers` | `[[name, base64 value or null], ...]`, in their order |

Lines come in partition order, then offset order: all of partition 0, then all of partition 1, and
so on. While recording, each partition is spooled to its own temporary file beside the output
(gzip members when the output ends in `.gz`), and the spools are joined when recording stops, so
memory stays flat and even a live recording stopped by Ctrl-C comes out in that order (a gzip file
of several members is a valid gzip file). `read_recording` merges the partitions back by
timestamp for replay.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import heapq
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, cast

import faust
import orjson
from faust.cli import argument, option
from kafka import KafkaConsumer, TopicPartition
from tqdm import tqdm

from agents.kafka_admin import assigned_consumer
from agents.kafka_security import kafka_python_options
from agents.settings import Settings
from cli.base import PlainCommand, UsageError, check_topic, check_writable, say
from cli.recordings import read_messages
from models.wire import Invalid
from models.wire.fields import iso_time

RECORD_KEYS = frozenset(
    ("topic", "partition", "offset", "timestamp", "timestamp_type", "key", "value", "headers")
)
# Kafka's names of the protocol's timestamp types (-1: a message of the old format, without one)
TIMESTAMP_TYPES = {-1: "NoTimestampType", 0: "CreateTime", 1: "LogAppendTime"}
_POLL_MS = 200  # how long one poll may block: the reaction time to Ctrl-C and --idle-timeout
_DETECT_LINES = 100  # lines `is_recording` may look at for the first JSON message


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedMessage:
    """One Kafka message as recorded: everything needed to send it again, and where it was."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    timestamp_type: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()

    def to_line(self) -> bytes:
        """The message as one line of the recording format (without the newline)."""
        return orjson.dumps(
            {
                "topic": self.topic,
                "partition": self.partition,
                "offset": self.offset,
                "timestamp": self.timestamp_ms,
                "timestamp_type": self.timestamp_type,
                "key": _b64(self.key),
                "value": _b64(self.value),
                "headers": [[name, _b64(value)] for name, value in self.headers],
            }
        )


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a recording that is not a recorded message, and what is wrong with it."""

    raw: bytes
    problem: str


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: Any, field: str) -> bytes | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"{field} must be base64 text or null")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"{field} is not valid base64") from None


def looks_like_recorded(obj: Any) -> bool:
    """A JSON object with exactly the keys of the recording format."""
    return isinstance(obj, dict) and obj.keys() == RECORD_KEYS


def _recorded(obj: dict[str, Any]) -> RecordedMessage:
    """The message a recorded line's object describes; raise TypeError or ValueError naming the field."""
    if any(
        isinstance(obj[k], bool) or not isinstance(obj[k], int) for k in ("partition", "offset", "timestamp")
    ):
        raise TypeError("partition, offset and timestamp must be integers")
    if obj["timestamp_type"] not in TIMESTAMP_TYPES.values() or not isinstance(obj["topic"], str):
        raise ValueError(
            f"timestamp_type must be one of {', '.join(TIMESTAMP_TYPES.values())}; topic a string"
        )
    headers = obj["headers"]
    if not isinstance(headers, list) or not all(
        isinstance(h, list) and len(h) == 2 and isinstance(h[0], str) for h in headers
    ):
        raise TypeError("headers must be a list of [name, base64 value or null] pairs")
    return RecordedMessage(
        topic=obj["topic"],
        partition=obj["partition"],
        offset=obj["offset"],
        timestamp_ms=obj["timestamp"],
        timestamp_type=obj["timestamp_type"],
        key=_unb64(obj["key"], "key"),
        value=_unb64(obj["value"], "value"),
        headers=tuple((name, _unb64(value, f"header {name}")) for name, value in headers),
    )


def decode_line(raw: bytes) -> RecordedMessage | BadLine:
    """Decode one line of a recording; what cannot be decoded comes back as a `BadLine`."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return BadLine(raw, f"invalid JSON: {error}")
    if not looks_like_recorded(obj):
        return BadLine(raw, f"not a recorded message: its keys must be {', '.join(sorted(RECORD_KEYS))}")
    try:
        return _recorded(obj)
    except (TypeError, ValueError) as error:
        return BadLine(raw, str(error))


def is_recording(path: Path) -> bool:
    """True when the file's first JSON message (within its first lines) is a recorded message."""
    for count, (_, raw) in enumerate(read_messages(path)):
        if count >= _DETECT_LINES:
            return False
        try:
            return looks_like_recorded(orjson.loads(raw))
        except orjson.JSONDecodeError:
            continue
    return False


# (partition section, merge timestamp, line number, the line decoded)
_Sectioned = tuple[int, int, int, RecordedMessage | BadLine]


def _sectioned(path: Path) -> Iterator[_Sectioned]:
    """Each line with the partition it belongs to and the timestamp it merges at.

    A bad line belongs to the partition of the line before it and merges at that line's
    timestamp, so it goes out right after it; bad lines before any good one go out first.
    """
    section, stamp = -1, -1
    for number, raw in read_messages(path):
        item = decode_line(raw)
        if isinstance(item, RecordedMessage):
            section, stamp = item.partition, item.timestamp_ms
        yield section, stamp, number, item


def read_recording(path: Path) -> Iterator[tuple[int, RecordedMessage | BadLine]]:
    """Yield (line number, message) for a recording, the partitions merged by timestamp.

    Within a partition the file's order is kept (so each key's order is kept); across
    partitions the message with the earliest timestamp goes first, ties to the earlier line.
    The file is read once per partition, so memory stays flat.
    """
    sections = list(dict.fromkeys(section for section, *_ in _sectioned(path)))
    streams = [_section(path, section) for section in sections]
    for _, number, item in heapq.merge(*streams, key=lambda entry: (entry[0], entry[1])):
        yield number, item


def _section(path: Path, section: int) -> Iterator[tuple[int, int, RecordedMessage | BadLine]]:
    """(merge timestamp, line number, message) of one partition's lines, in file order."""
    for s, stamp, number, item in _sectioned(path):
        if s == section:
            yield stamp, number, item


class StopSignals:
    """Ctrl-C (SIGINT) and SIGTERM as a request to stop at a safe point.

    While `graceful` is true, the first signal only sets `requested` (the command's loop checks
    it between messages) and a second one raises KeyboardInterrupt at once; otherwise every
    signal raises KeyboardInterrupt, as `PlainCommand` does for SIGTERM. Our own SIGINT handler
    matters: under `asyncio.run` the default one only cancels the command's task, which never
    awaits, so Ctrl-C would go unnoticed.
    """

    def __init__(self) -> None:
        """Nothing requested, not graceful yet; call `install` to take the signals."""
        self.requested = False
        self.graceful = False

    def install(self) -> StopSignals:
        """Handle SIGINT and SIGTERM from now on (main thread only)."""
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)
        return self

    def is_requested(self) -> bool:
        """True once a stop was asked for."""
        return self.requested

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        if self.graceful and not self.requested:
            self.requested = True
            return
        raise KeyboardInterrupt


class _Spools:
    """One temporary file per partition, joined in partition order into the output at the end."""

    def __init__(self, folder: Path, *, compress: bool) -> None:
        self.folder = folder
        self.compress = compress
        self.files: dict[int, IO[bytes]] = {}

    def write(self, partition: int, line: bytes) -> None:
        spool = self.files.get(partition)
        if spool is None:
            path = self.folder / f"partition-{partition}"
            # open until `close`: one spool per partition lives across many writes
            spool = cast("IO[bytes]", gzip.open(path, "wb") if self.compress else path.open("wb"))  # noqa: SIM115
            self.files[partition] = spool
        spool.write(line + b"\n")

    def close(self) -> None:
        for spool in self.files.values():
            spool.close()

    def join(self, out: Path) -> None:
        """Close the spools and write them, in partition order, to `out` (replaced atomically)."""
        self.close()
        partial = self.folder / "joined"
        with partial.open("wb") as joined:
            if self.compress and not self.files:
                joined.write(gzip.compress(b""))  # an empty recording is still a valid gzip file
            for partition in sorted(self.files):
                with (self.folder / f"partition-{partition}").open("rb") as spool:
                    shutil.copyfileobj(spool, joined)
            joined.flush()
            os.fsync(joined.fileno())
        partial.replace(out)


def _start_offsets(consumer: KafkaConsumer, assigned: list[TopicPartition], since: datetime | None) -> None:
    if since is None:
        consumer.seek_to_beginning(*assigned)
        return
    found = consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in assigned})
    ends = consumer.end_offsets(assigned)
    for tp in assigned:
        at = found.get(tp)
        consumer.seek(tp, ends[tp] if at is None else at.offset)  # none that late yet: new ones only


def _consumer(settings: Settings, topic: str) -> tuple[KafkaConsumer, list[TopicPartition]]:
    check_topic(topic)
    return assigned_consumer(
        settings.bootstrap_servers,
        topic,
        security=kafka_python_options(settings),
        group_id=None,
        allow_auto_create_topics=False,
    )


def _check_arguments(
    out: Path, since_text: str | None, from_beginning: bool, limit: int | None, idle_timeout: float | None
) -> datetime | None:
    if since_text is not None and from_beginning:
        raise UsageError("--from-beginning and --from TIME exclude each other: give one")
    if limit is not None and limit <= 0:
        raise UsageError("--limit must be positive, e.g. --limit 10000; omit it to record until stopped")
    if idle_timeout is not None and idle_timeout <= 0:
        raise UsageError("--idle-timeout must be positive seconds, e.g. --idle-timeout 10")
    check_writable("--out", out)
    if since_text is None:
        return None
    try:
        return iso_time(since_text, "--from")
    except Invalid as invalid:
        raise UsageError(f"{invalid.detail}, e.g. --from 2024-01-01T12:00:00Z") from None


def register(app: faust.App, settings: Settings) -> None:
    """Add the `record` command to `app`."""

    @app.command(
        argument("topic"),
        option("--out", type=Path, required=True, help="The recording to write (gzip when it ends in .gz)."),
        option("--from-beginning", is_flag=True, help="Start at the oldest message (the default)."),
        option(
            "--from",
            "since",
            default=None,
            metavar="TIME",
            help="Start at the first message whose Kafka timestamp is at or after TIME "
            "(ISO-8601 with a zone, e.g. 2024-01-01T12:00:00Z).",
        ),
        option("--limit", type=int, default=None, help="Stop after this many messages."),
        option(
            "--idle-timeout",
            type=float,
            default=None,
            help="Stop after this many seconds without a new message (default: run until Ctrl-C).",
        ),
        base=PlainCommand,
        name="record",
    )
    async def record(
        self: Any,
        topic: str,
        out: Path,
        from_beginning: bool,
        since: str | None,
        limit: int | None,
        idle_timeout: float | None,
    ) -> None:
        """Record TOPIC losslessly (values, keys, timestamps, partitions, offsets, headers) to --out.

        One JSON line per message, bytes in base64; partition by partition, each in offset order.
        Stops at --limit, after --idle-timeout seconds without messages, or at Ctrl-C (the file is
        complete either way). `resonance replay` sends a recording again, keys and headers kept.

        \b
        Example: resonance record tweets --out tweets.jsonl.gz --idle-timeout 10
        """  # noqa: D301 - click's \b (a backspace) keeps the example unwrapped
        start = _check_arguments(out, since, from_beginning, limit, idle_timeout)
        signals = StopSignals().install()
        consumer, assigned = _consumer(settings, topic)
        started = time.monotonic()
        count = 0
        try:
            _start_offsets(consumer, assigned, start)
            with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as folder:
                spools = _Spools(Path(folder), compress=out.name.endswith(".gz"))
                try:
                    signals.graceful = True  # from here a first Ctrl-C ends the recording cleanly
                    count = _record(consumer, spools, signals, limit, idle_timeout)
                    spools.join(out)
                finally:
                    spools.close()
        finally:
            consumer.close(autocommit=False)
        elapsed = time.monotonic() - started
        why = "stopped by a signal" if signals.requested else "done"
        say(
            f"{why}: recorded {count} messages of {topic!r} ({len(assigned)} partitions) to {out} "
            f"in {elapsed:.1f}s ({count / max(elapsed, 1e-9):,.0f} msg/s)"
        )


def _record(
    consumer: KafkaConsumer,
    spools: _Spools,
    signals: StopSignals,
    limit: int | None,
    idle_timeout: float | None,
) -> int:
    """Poll until the limit, the idle timeout or a stop signal; return how many were recorded."""
    count = 0
    last_message = time.monotonic()
    with tqdm(unit="msg", desc="record", dynamic_ncols=True) as bar:
        while not signals.requested and (limit is None or count < limit):
            batches = consumer.poll(timeout_ms=_POLL_MS, max_records=None if limit is None else limit - count)
            received = 0
            for messages in batches.values():
                for message in messages:
                    recorded = RecordedMessage(
                        topic=message.topic,
                        partition=message.partition,
                        offset=message.offset,
                        timestamp_ms=message.timestamp,
                        timestamp_type=TIMESTAMP_TYPES[message.timestamp_type],
                        key=message.key,
                        value=message.value,
                        headers=tuple(message.headers or ()),
                    )
                    spools.write(message.partition, recorded.to_line())
                    received += 1
            count += received
            bar.update(received)
            now = time.monotonic()
            if received:
                last_message = now
                continue
            bar.refresh()  # quiet: show the exact count (tqdm skips redraws within a burst)
            if idle_timeout is not None and now - last_message >= idle_timeout:
                break
    return count
