"""How our commands run: as plain asyncio programs, with one-line errors instead of tracebacks.

Faust runs an `AppCommand` inside a mode Worker, which logs a traceback for any error and prints
a banner. Our tools (broker control, replay, subscribe) need neither the app's services nor the
banner, so they run their coroutine directly and turn a `UsageError` into one line and exit 2.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from types import FrameType
from typing import Any, ClassVar, NoReturn

from faust.cli.base import AppCommand


class UsageError(Exception):
    """A problem the user can fix; the message says how, in one line."""


def kafka_unreachable(bootstrap: str, error: Exception) -> UsageError:
    """The one-line error for a broker that does not answer, naming the fix."""
    return UsageError(f"cannot reach Kafka at {bootstrap} ({error}); start it with `resonance kafka up`")


class PlainCommand(AppCommand):
    """An app command that runs its coroutine without a mode Worker."""

    abstract: ClassVar[bool] = True  # a base, not itself a subcommand
    name: str  # set by faust from the handler's name

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Run the command; exit 0, 2 with a one-line error, or 130 on Ctrl-C."""
        # asyncio.run's own SIGINT handling only cancels a task that awaits, and ours block:
        # turn Ctrl-C (and `kill`) into KeyboardInterrupt at once.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            asyncio.run(self.execute(*(self.args + args), **{**self.kwargs, **kwargs}))
        except UsageError as error:
            print(f"resonance {self.name}: {error}", file=sys.stderr)  # noqa: T201 - CLI output
            sys.exit(2)
        except KeyboardInterrupt:
            print(f"resonance {self.name}: interrupted", file=sys.stderr)  # noqa: T201
            sys.exit(130)
        sys.exit(0)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def say(message: str) -> None:
    """One line of progress for the user, on stderr so stdout stays data."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201 - CLI output
