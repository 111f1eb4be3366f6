"""The loop every stage runs: input messages in offset order, each new one processed, what they
caused sent on in batches, and each accounted for by the stage's checkpoints.

What the messages caused is flushed (`agents.outbox`) when the input has nothing more waiting, so
a backlog goes out in large batches and a trickle goes out at once; and before any of them is
marked processed, so a checkpoint never holds an event whose outputs are not with the producer.
Before such a flush the stage lingers once, `LINGER_SECONDS`: a producer that sends one tweet
per message keeps the consumer's buffer nearly empty, and without the wait each of its tweets
would travel on alone, paying every later stage's per-message cost (and a round trip to the
analyzer process) for one tweet. A trickle pays the linger once per stage.

A backlog's messages wait in the consumer's buffer, and taking the next one does not let the
event loop run anything else; so a stage gives the loop a turn after every `SLICE_SECONDS` of its
own work, and the other stages, the web server and the consumer's bookkeeping are not held for
a whole batch of messages (hundreds of tweets each).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agents.checkpoints import Checkpointed
from agents.outbox import Outbox

MAX_HELD = 1_000  # input messages processed before a flush, however many more are waiting
LINGER_SECONDS = 0.005  # waited once before a flush of fewer than MAX_HELD, for more input
SLICE_SECONDS = 0.02  # a stage's work between two turns of the event loop, at most (and a message)


async def run(
    stream: Any,
    *,
    checkpoints: Checkpointed[Any],
    outboxes: Sequence[Outbox[Any]],
    process: Callable[[Any], Awaitable[None]],
) -> None:
    """Run `process` on every event of `stream` that `checkpoints` admits, until the stream ends;
    each event's age (now minus its message's timestamp) goes to the stage's `input_delay`.
    """
    channel = stream.channel
    delay = checkpoints.input_delay
    held: list[Any] = []
    lingered = False
    slice_ends = time.monotonic() + SLICE_SECONDS
    async for event in stream.noack().events():
        delay.observe(time.time() - event.message.timestamp)
        if checkpoints.admit(event):
            await process(event)
        held.append(event)
        if time.monotonic() >= slice_ends:
            await asyncio.sleep(0)
            slice_ends = time.monotonic() + SLICE_SECONDS
        full = len(held) >= MAX_HELD or any(outbox.full for outbox in outboxes)
        if not full and channel.empty() and not lingered:
            lingered = True
            await asyncio.sleep(LINGER_SECONDS)
        if full or channel.empty():
            for outbox in outboxes:
                await outbox.flush()
            for done in held:
                await checkpoints.processed(stream, done)
            held.clear()
            lingered = False
