"""The one error the worker's set-up raises for the user to fix."""

from __future__ import annotations


class SetupError(Exception):
    """A problem the user can fix; the message says how, in one line. A command that meets one
    exits `exit_code`.
    """

    exit_code = 2


def kafka_unreachable(bootstrap: str, error: Exception) -> SetupError:
    """The one-line error for a broker that does not answer, naming the fix."""
    return SetupError(f"cannot reach Kafka at {bootstrap} ({error}); start it with `resonance kafka up`")
