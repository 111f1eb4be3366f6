"""Faust's flow control, made to wake the consumer after a rebalance.

When a rebalance ends, Faust resumes its flow control (`mode.utils.queues.FlowControlEvent`),
which empties every agent's input queue. Emptying it does not wake a producer waiting for room in
a full queue (`asyncio.Queue.put` is woken only by a `get` that takes an item). That producer is
the consumer's fetcher, which delivers each message it reads: when a rebalance came while a
stage's queue was full (a busy worker, the input flowing), the fetcher waited for room in a queue
now empty, which nothing would fill again. It fetched nothing more, the changelog partitions the
recovery waits for included: the worker stayed in recovery for ever, logging "No event received
for active tp ... since recovery start".

`wake_waiting_producers` makes each emptying also wake every producer waiting on that queue; it
then finds room, and delivers.
"""

from __future__ import annotations

from typing import Any

from mode.utils.queues import FlowControlEvent


def wake_waiting_producers(flow_control: FlowControlEvent) -> None:
    """Have `flow_control`, whenever it empties its queues, wake what waits to put into them."""
    empty = flow_control.clear

    def empty_and_wake() -> None:
        empty()
        # The queues it manages (a WeakSet of asyncio queues); a copy, as wakers may add more.
        for queue in list(flow_control._queues):  # noqa: SLF001 - mode keeps them private
            # asyncio.Queue's waiting producers, private too
            _wake_all(queue._putters)  # type: ignore[attr-defined]  # noqa: SLF001

    flow_control.clear = empty_and_wake  # type: ignore[method-assign]


def _wake_all(putters: Any) -> None:
    """Resolve every waiting producer's future (a deque of them); each then checks for room."""
    while putters:
        putter = putters.popleft()
        if not putter.done():
            putter.set_result(None)
