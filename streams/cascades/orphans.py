"""Retweets that name a parent which has not arrived yet.

Across partitions, a retweet can overtake the retweet it came through. Attaching it at once would
make the reconstruction guess a parent the data names, and make the tree depend on arrival
order. So such a retweet waits, until its parent arrives or the watermark passes it (then the
parent is taken as lost and the reconstruction method chooses one).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.event import TweetEvent
from models.wire.native import parse_native, to_native


@dataclass(slots=True)
class Orphans:
    """Held retweets, by the parent they wait for and by event time."""

    _by_parent: dict[str, list[TweetEvent]] = field(default_factory=dict)
    _by_time: list[tuple[datetime, str, str]] = field(default_factory=list)
    _held: set[str] = field(default_factory=set)

    def hold(self, event: TweetEvent, parent_id: str) -> None:
        """Keep `event` until `parent_id` arrives or the watermark passes it."""
        self._by_parent.setdefault(parent_id, []).append(event)
        heapq.heappush(self._by_time, (event.at, event.id, parent_id))
        self._held.add(event.id)

    def children_of(self, parent_id: str) -> list[TweetEvent]:
        """Release, in arrival order, the retweets waiting for `parent_id`."""
        children = self._by_parent.pop(parent_id, None)
        if children is None:  # the common case, once per tweet: nothing waits for it
            return []
        self._held.difference_update(child.id for child in children)
        if not self._held:
            self._by_time.clear()  # only released retweets' entries are left: callers may skip `overdue`
        return children

    def overdue(self, watermark: datetime | None) -> list[TweetEvent]:
        """Release, oldest first, every retweet older than `watermark` (None: all of them)."""
        released: list[TweetEvent] = []
        while self._by_time and (watermark is None or self._by_time[0][0] < watermark):
            _, event_id, parent_id = heapq.heappop(self._by_time)
            if event_id not in self._held:
                continue  # its parent arrived and released it already
            waiting = self._by_parent[parent_id]
            event = next(e for e in waiting if e.id == event_id)
            waiting.remove(event)
            if not waiting:
                del self._by_parent[parent_id]
            self._held.discard(event_id)
            released.append(event)
        return released

    def __len__(self) -> int:
        """Retweets held."""
        return len(self._held)

    def snapshot(self) -> dict[str, Any]:
        """Plain data from which `restore` rebuilds these orphans exactly.

        `parents`: `[parent_id, [native event, ...]]` per awaited parent, in the order held; the
        time index is derived again (its entries for retweets released already are dropped).
        """
        return {
            "parents": [
                [parent_id, [to_native(event) for event in waiting]]
                for parent_id, waiting in self._by_parent.items()
            ]
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> Orphans:
        """The orphans `snapshot` described; they are released in the same order as the original's."""
        orphans = cls()
        for parent_id, waiting in data["parents"]:
            for native in waiting:
                orphans.hold(parse_native(native), parent_id)
        return orphans
