"""The loop every stage runs gives the event loop a turn while it works through a backlog."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from agents import stage

MESSAGES = 40
WORK_SECONDS = 0.005  # each message's processing: 40 of them are ten slices' worth


class Backlog:
    """A Faust stream's surface as `stage.run` uses it, over messages that all wait in the
    consumer's buffer already: taking the next one never suspends.
    """

    def __init__(self, count: int) -> None:
        """`count` messages, waiting."""
        self.left = count
        self.channel = SimpleNamespace(empty=lambda: self.left == 0)

    def noack(self) -> Backlog:
        """The same stream (acks are the checkpoints' business)."""
        return self

    async def events(self) -> AsyncIterator[Any]:
        """Each waiting message, at once."""
        while self.left:
            self.left -= 1
            yield SimpleNamespace(message=SimpleNamespace(timestamp=time.time(), partition=0))


class EveryEventCounts:
    """Checkpoints that admit every event and do nothing when it is processed."""

    input_delay = SimpleNamespace(observe=lambda _seconds: None)

    def admit(self, _event: Any) -> bool:
        """Every event is new."""
        return True

    async def processed(self, _stream: Any, _event: Any) -> None:
        """Nothing to save."""


def test_a_backlog_does_not_hold_the_loop_for_the_whole_batch() -> None:
    """While a stage works through 40 waiting messages of 5 ms each, other tasks of its loop get
    turns in between (at least one per `SLICE_SECONDS` of work, bar a few on a busy machine), not
    only once the batch is done.
    """
    worked: list[float] = []
    turns: list[float] = []

    async def process(_event: Any) -> None:
        until = time.monotonic() + WORK_SECONDS
        while time.monotonic() < until:
            pass
        worked.append(time.monotonic())

    async def other_task(done: asyncio.Event) -> None:
        while not done.is_set():
            turns.append(time.monotonic())
            await asyncio.sleep(0)

    async def main() -> None:
        done = asyncio.Event()
        other = asyncio.create_task(other_task(done))
        await stage.run(Backlog(MESSAGES), checkpoints=EveryEventCounts(), outboxes=[], process=process)  # type: ignore[arg-type]
        done.set()
        await other

    asyncio.run(main())
    assert len(worked) == MESSAGES
    during = [turn for turn in turns if worked[0] < turn < worked[-1]]
    assert len(during) >= 5, f"{len(during)} turns of the loop in {worked[-1] - worked[0]:.3f} s of work"
