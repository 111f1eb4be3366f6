"""The worker says in its log, without flooding it, when input retweets arrive out of order."""

from __future__ import annotations

import itertools
import logging

import pytest

from agents.conversation import warn_disorder


def test_a_warning_is_logged_at_the_first_disordered_retweet_and_each_power_of_ten(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Counts stepping 0 -> 1 -> 2 -> ... -> 1000 (and a jump 5 -> 12) log at 1, 10, 100, 1000 and
    the jump past 10 only, each naming the count and the fix (key input by cascade).
    """
    steps = [*range(1001), 5, 12]
    with caplog.at_level(logging.WARNING, logger="agents.conversation"):
        for before, now in itertools.pairwise(steps):
            warn_disorder(before, now)
    logged = [record.getMessage() for record in caplog.records]
    counts = [message.split("so far: ")[1].split()[0] for message in logged]
    assert counts == ["1", "10", "100", "1000", "12"]
    assert all("Key input tweets by cascade" in message for message in logged)
