"""Users' windowed hashtags and bot-likeness: counted on entry, reverted on leaving, restorable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.user_activity import UserActivity

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def _filled() -> UserActivity:
    activity = UserActivity(timedelta(minutes=10))
    activity.observe("a", ("x", "y"), 0.2, _at(0))
    activity.observe("b", ("x",), None, _at(1))
    activity.observe("a", ("x",), 0.6, _at(5))
    return activity


def test_hashtags_and_users_count_once_the_window_end_passes_them() -> None:
    """Posts are pending until the end passes them, then counted per user and per tag."""
    activity = _filled()
    assert activity.tags() == []
    activity.advance(_at(6))
    assert dict(activity.tags_of("a")) == {"x": 2, "y": 1}
    assert dict(activity.users_of("x")) == {"a": 2, "b": 1}
    assert activity.tags() == ["x", "y"]
    assert activity.bot_likeness("a") == 0.6  # the latest post's profile
    assert activity.bot_likeness("b") is None


def test_posts_leave_with_the_window_and_take_their_counts() -> None:
    """After the span, the oldest posts are reverted; a user with no live scored post has no score."""
    activity = _filled()
    activity.advance(_at(10.5))  # the post at 0 left
    assert dict(activity.tags_of("a")) == {"x": 1}
    assert activity.users_of("y") == {}
    activity.advance(_at(15.5))
    assert activity.tags() == []
    assert activity.bot_likeness("a") is None


def test_a_restored_window_continues_like_the_original() -> None:
    """Snapshot, restore, continue == never stopped."""
    original = _filled()
    original.advance(_at(2))
    restored = UserActivity.restore(timedelta(minutes=10), original.snapshot())
    for state in (original, restored):
        state.observe("c", ("z",), 0.9, _at(3))
        state.advance(_at(11))
    assert restored.snapshot() == original.snapshot()
    assert dict(restored.users_of("x")) == dict(original.users_of("x"))
    assert restored.bot_likeness("c") == original.bot_likeness("c") == 0.9
