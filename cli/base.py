"""How our commands run: as plain asyncio programs, with one-line errors instead of tracebacks.

Faust runs an `AppCommand` inside a mode Worker, which logs a traceback for any error and prints
a banner. Our tools (broker control, replay, subscribe) need neither the app's services nor the
banner, so they run their coroutine directly and turn a `SetupError` (a `UsageError` among
them) into one line and exit 2.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar, NoReturn

from faust.cli.base import AppCommand

from agents.errors import SetupError
from agents.settings import MAX_TOPIC_NAME, is_topic_name


class UsageError(SetupError):
    """A mistake in a command's arguments or environment; the message says how to fix it, in one
    line. Commands catch `SetupError`, so the worker's own set-up errors read the same.
    """


class NotRunning(UsageError):  # noqa: N818 - a verdict, as `raise NotRunning(...)` reads
    """What a status command asked about does not run: exit 3, as LSB init scripts' `status`
    does, so a script can tell it from a usage mistake (2).
    """

    exit_code = 3


def check_recordings(paths: Iterable[Path], kinds: str = "") -> None:
    """Raise UsageError unless every path is a readable file; `kinds` names the forms accepted."""
    for path in paths:
        if path.is_dir():
            raise UsageError(f"{path} is a folder; give the path of a recording file{kinds}")
        if not path.is_file():
            raise UsageError(f"{path}: no such file; give the path of a recording{kinds}")


def check_topic(topic: str, what: str = "topic") -> None:
    """Raise UsageError unless `topic` is a name Kafka accepts; `what` names where it came from."""
    if not is_topic_name(topic):
        raise UsageError(
            f"{what} {topic!r} is not a Kafka topic name: use up to {MAX_TOPIC_NAME} letters, digits, "
            "'.', '_' or '-'"
        )


def check_writable(option: str, path: Path) -> None:
    """Raise UsageError unless `path` can be created: its folder exists and it is not a folder."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name, e.g. {path / 'records.jsonl'}")
    if not path.parent.is_dir():
        raise UsageError(f"{option} {path}: no folder {path.parent}; create it first")


class PlainCommand(AppCommand):
    """An app command that runs its coroutine without a mode Worker."""

    abstract: ClassVar[bool] = True  # a base, not itself a subcommand
    name: str  # set by faust from the handler's name

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Run the command; exit 0, 2 (3: not running) with a one-line error, or 130 on Ctrl-C."""
        # asyncio.run's own SIGINT handling only cancels a task that awaits, and ours block:
        # turn Ctrl-C (and `kill`) into KeyboardInterrupt at once.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            asyncio.run(self.execute(*(self.args + args), **{**self.kwargs, **kwargs}))
        except SetupError as error:
            print(f"resonance {self.name}: {error}", file=sys.stderr)  # noqa: T201 - CLI output
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            print(f"resonance {self.name}: interrupted", file=sys.stderr)  # noqa: T201
            sys.exit(130)
        sys.exit(0)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def say(message: str) -> None:
    """One line of progress for the user, on stderr so stdout stays data."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201 - CLI output
