"""The broker watch: what the worker says, and exports, as its brokers go and come back."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from agents.broker_watch import REPORT_EVERY_SECONDS, BrokerContact, watcher


def test_an_outage_warns_once_then_errs_every_report_period_then_says_it_ended() -> None:
    """One warning at the first missed probe, an error each 30 s after it, one line at the end.

    Probes every 2 s; the brokers stop answering at 10 s and answer again at 80 s::

        t (s)    0 .. 8   10   12 .. 38   40   42 .. 68   70   72 .. 78   80
        probe    answered  x    x ..  x    x    x ..  x    x    x ..  x    answered
        log                W               E               E               I
    """
    contact = BrokerContact(report_every_seconds=REPORT_EVERY_SECONDS, last_answer=0.0)
    said: dict[float, int] = {}
    for now in range(0, 82, 2):
        line = contact.answered(now) if now < 10 or now >= 80 else contact.unanswered(now, "refused")
        if line is not None:
            said[now] = line[0]
    assert said == {10: logging.WARNING, 40: logging.ERROR, 70: logging.ERROR, 80: logging.INFO}
    assert contact.reachable
    assert contact.silence_seconds(81) == 1


def test_silence_counts_from_the_last_answer() -> None:
    """While the brokers are away, the silence is the time since their last answer."""
    contact = BrokerContact(report_every_seconds=30.0, last_answer=0.0)
    contact.answered(8.0)
    contact.unanswered(10.0, "refused")
    assert not contact.reachable
    assert contact.silence_seconds(25.0) == 17.0


@pytest.mark.parametrize(("answers", "reachable"), [([True], 1.0), ([True, False], 0.0)])
def test_the_watcher_exports_the_latest_probe(
    answers: list[bool], reachable: float, caplog: pytest.LogCaptureFixture
) -> None:
    """The gauge follows the latest probe's outcome, and a failed probe is logged with the
    bootstrap address.
    """
    registry = CollectorRegistry()

    async def run() -> None:
        outcomes = iter(answers)
        exhausted = asyncio.Event()

        async def probe() -> None:
            answer = next(outcomes, None)
            if answer is None:  # every outcome has been taken in: wait here for ever
                exhausted.set()
                await asyncio.Event().wait()
            elif not answer:
                raise ConnectionRefusedError("refused")

        task = asyncio.ensure_future(
            watcher(registry, probe, bootstrap="broker:9092", every_seconds=0, clock=lambda: 0.0)()
        )
        await exhausted.wait()
        task.cancel()

    with caplog.at_level(logging.WARNING, logger="agents.broker_watch"):
        asyncio.run(asyncio.wait_for(run(), timeout=5))
    assert registry.get_sample_value("resonance_broker_reachable") == reachable
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == answers.count(False)
    assert all(m.startswith("the Kafka brokers do not answer (refused)") for m in warned)
    assert all(m.endswith("(broker:9092)") for m in warned)
