"""`resonance subscribe TOPIC`: print a topic's records as JSON lines."""

from __future__ import annotations

import base64
import sys
from typing import Any

import click
import faust
import orjson
from faust.cli import argument, option

from agents.kafka_admin import assigned_consumer
from agents.kafka_security import kafka_python_options
from agents.settings import Settings
from cli.base import PlainCommand, UsageError, check_topic
from models.records import RECORD_KINDS, AlertType

_HEADER_PREFIX = "resonance."


def as_json_line(value: bytes | None, headers: list[tuple[str, bytes]]) -> bytes:
    """One JSON line for a message: a JSON object value as is; otherwise (dead letters) the
    headers' fields with the value as text, or base64 when it is not UTF-8.
    """
    ours = {
        k.removeprefix(_HEADER_PREFIX): v.decode("utf-8", "replace")
        for k, v in headers
        if k.startswith(_HEADER_PREFIX)
    }
    raw = value or b""
    if not ours:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return orjson.dumps(parsed)
    try:
        ours["value"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        ours["value_base64"] = base64.b64encode(raw).decode()
    return orjson.dumps(ours)


def _matches(line: bytes, kind: str | None, type_: str | None) -> bool:
    if kind is None and type_ is None:
        return True
    record = orjson.loads(line)
    return (kind is None or record.get("kind") == kind) and (type_ is None or record.get("type") == type_)


def register(app: faust.App, settings: Settings) -> None:
    """Add the `subscribe` command to `app`."""

    @app.command(
        argument("topic"),
        option(
            "--from-beginning/--from-now",
            default=True,
            help="Start at the oldest record or at new ones.",
        ),
        option(
            "--kind",
            type=click.Choice(RECORD_KINDS),
            default=None,
            help="Only records of this kind.",
        ),
        option(
            "--type",
            "type_",
            default=None,
            help=f"Only alerts of this type: {', '.join(AlertType)}.",
        ),
        option("--limit", type=int, default=None, help="Stop after this many records."),
        option(
            "--idle-timeout",
            type=float,
            default=None,
            help="Stop after this many seconds without a new record (default: run until Ctrl-C).",
        ),
        base=PlainCommand,
        name="subscribe",
    )
    async def subscribe(
        self: Any,
        topic: str,
        from_beginning: bool,
        kind: str | None,
        type_: str | None,
        limit: int | None,
        idle_timeout: float | None,
    ) -> None:
        """Print the records of TOPIC (metrics, alerts, tweets.dlq, ...) as JSON lines on stdout."""
        if type_ is not None and type_ not in set(AlertType):
            raise UsageError(f"--type {type_}: use one of {', '.join(AlertType)}")
        if limit is not None and limit <= 0:
            raise UsageError("--limit must be positive, e.g. --limit 10; omit it to print until stopped")
        if idle_timeout is not None and idle_timeout <= 0:
            raise UsageError("--idle-timeout must be positive seconds, e.g. --idle-timeout 10")
        check_topic(topic)
        consumer, assigned = assigned_consumer(
            settings.bootstrap_servers,
            topic,
            security=kafka_python_options(settings),
            consumer_timeout_ms=int(idle_timeout * 1000) if idle_timeout else float("inf"),
        )
        (consumer.seek_to_beginning if from_beginning else consumer.seek_to_end)(*assigned)
        printed = 0
        for message in consumer:
            line = as_json_line(message.value, list(message.headers or []))
            if not _matches(line, kind, type_):
                continue
            sys.stdout.buffer.write(line + b"\n")
            sys.stdout.buffer.flush()
            printed += 1
            if limit is not None and printed >= limit:
                break
        consumer.close()
