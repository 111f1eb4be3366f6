"""What each user did over a rolling event-time window, beyond interactions: the hashtags they
used and how bot-like their profile looked.

Communities are described by their members' hashtags, and a hashtag's polarization by how its
users split over camps; coordination evidence carries the accounts' bot-likeness. Both need, per
live user, the window's hashtags (`tags_of`, `users_of`) and the latest profile heuristic
(`bot_likeness`). Items enter when the window's end passes them and are reverted when they
leave, as in `streams.influence.tracker`; the caller drives the window with `advance(end)`.

Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from streams.window import ENTERED, SlidingWindow, bump

Activity = tuple[str, tuple[str, ...], float | None, datetime]
"""One post: (user, its hashtags, its author's bot-likeness if known, event time)."""

SNAPSHOT_VERSION = 1


@dataclass(slots=True)
class UserActivity:
    """Per live user: hashtags used (with counts) and the latest known bot-likeness."""

    span: timedelta
    _window: SlidingWindow[Activity] = field(init=False)
    _tags: dict[str, dict[str, int]] = field(default_factory=dict)  # user -> tag -> uses
    _users: dict[str, dict[str, int]] = field(default_factory=dict)  # tag -> user -> uses
    _posts: dict[str, int] = field(default_factory=dict)  # live posts with a known bot-likeness
    _bot: dict[str, tuple[float, datetime]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Start empty."""
        self._window = SlidingWindow(self.span)

    def observe(self, user: str, tags: tuple[str, ...], bot_likeness: float | None, at: datetime) -> None:
        """Hold one post until the window's end passes `at` (at once when late but inside the window)."""
        if not tags and bot_likeness is None:
            return  # nothing to count: keep the window small
        item: Activity = (user, tags, bot_likeness, at)
        if self._window.add(item, at) in ENTERED:
            self._enter(item)

    def advance(self, end: datetime) -> None:
        """Move the window's end to `end`: count what entered, revert what left."""
        self._window.advance(end).apply(self._enter, self._leave)

    def work_ahead(self, until: datetime, limit: int) -> int:
        """Do at most `limit` moves of what `advance(until)` will do, now; return how many were
        done (`SlidingWindow.work_ahead`).
        """
        change = self._window.work_ahead(until, limit)
        change.apply(self._enter, self._leave)
        return len(change)

    def _enter(self, item: Activity) -> None:
        user, tags, bot, at = item
        for tag in tags:
            self._tags.setdefault(user, {})[tag] = self._tags.get(user, {}).get(tag, 0) + 1
            self._users.setdefault(tag, {})[user] = self._users.get(tag, {}).get(user, 0) + 1
        if bot is not None:
            self._posts[user] = self._posts.get(user, 0) + 1
            latest = self._bot.get(user)
            if latest is None or at >= latest[1]:
                self._bot[user] = (bot, at)

    def _leave(self, item: Activity) -> None:
        user, tags, bot, _ = item
        for tag in tags:
            bump(self._tags[user], tag, -1)
            if not self._tags[user]:
                del self._tags[user]
            bump(self._users[tag], user, -1)
            if not self._users[tag]:
                del self._users[tag]
        if bot is not None:
            # Posts leave oldest first, so the one that set `_bot` leaves last.
            bump(self._posts, user, -1)
            if user not in self._posts:
                del self._bot[user]

    def tags_of(self, user: str) -> Mapping[str, int]:
        """The hashtags `user` used in the window, with how many of their posts used each."""
        return MappingProxyType(self._tags.get(user, {}))

    def users_of(self, tag: str) -> Mapping[str, int]:
        """The users who used `tag` in the window, with how many posts each."""
        return MappingProxyType(self._users.get(tag, {}))

    def tags(self) -> list[str]:
        """Every hashtag used in the window, sorted."""
        return sorted(self._users)

    def bot_likeness(self, user: str) -> float | None:
        """The bot-likeness of `user`'s latest live post's profile, None when unknown."""
        latest = self._bot.get(user)
        return None if latest is None else latest[0]

    def snapshot(self) -> dict[str, Any]:
        """JSON-able plain data from which `restore` rebuilds this state exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "window": self._window.snapshot(
                lambda item: [item[0], list(item[1]), item[2], item[3].isoformat()]
            ),
        }

    @classmethod
    def restore(cls, span: timedelta, data: dict[str, Any]) -> UserActivity:
        """Rebuild the state `snapshot` described; it continues exactly as the original would."""
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"unknown user activity snapshot version {data['version']}")
        state = cls(span)
        state._window = SlidingWindow.restore(
            data["window"], lambda d: (d[0], tuple(d[1]), d[2], datetime.fromisoformat(d[3]))
        )
        for item in state._window.live():
            state._enter(item)
        return state
