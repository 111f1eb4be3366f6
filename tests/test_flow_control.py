"""A producer waiting for room in a full agent queue when a rebalance empties it goes on
(`agents.flow_control`); without the fix it waits for ever, as Faust's fetcher did.
"""

from __future__ import annotations

import asyncio

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from agents.flow_control import wake_waiting_producers


async def _put_after_a_rebalance(*, fixed: bool) -> bool:
    """Whether a put blocked on a full queue completes once flow control suspends and resumes
    (a rebalance: resuming empties the queues). Mode's own classes, as Faust builds them.
    """
    flow_control = FlowControlEvent(initially_suspended=False)
    if fixed:
        wake_waiting_producers(flow_control)
    queue: FlowControlQueue[int] = FlowControlQueue(
        maxsize=1, flow_control=flow_control, clear_on_resume=True
    )
    await queue.put(1)
    blocked = asyncio.ensure_future(queue.put(2))  # the fetcher, delivering the next message
    await asyncio.sleep(0.05)
    assert not blocked.done()
    flow_control.suspend()
    flow_control.resume()  # the queue is emptied
    try:
        await asyncio.wait_for(asyncio.shield(blocked), timeout=1)
    except TimeoutError:
        blocked.cancel()
        return False
    return queue.qsize() == 1 and queue.get_nowait() == 2


def test_a_producer_waiting_on_a_full_queue_goes_on_after_a_rebalance() -> None:
    """With the fix, the put completes, and its item is the queue's only one."""
    assert asyncio.run(_put_after_a_rebalance(fixed=True))


def test_without_the_fix_it_would_wait_for_ever() -> None:
    """What the fix is for: mode's resume empties the queue and wakes no producer."""
    assert not asyncio.run(_put_after_a_rebalance(fixed=False))
