"""The one error type of the broker manager, and the shape of its progress callback."""

from collections.abc import Callable

Progress = Callable[[str], None]
"""Receives one-line, human-readable progress messages (e.g. ``print``)."""


class BrokerError(RuntimeError):
    """The local broker could not be fetched, started or stopped; the message names the fix."""


def silent(_message: str) -> None:
    """Discard a progress message: the default when the caller wants no output."""
