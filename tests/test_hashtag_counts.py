"""Rolling per-hashtag counts: boundary records and views against a from-scratch count, ranking,
arrival-order independence, the late-event policy, and restore.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.records import HashtagCount, Trigger
from streams.hashtags.counts import HashtagCounts, HashtagWindowConfig

t0 = datetime(2024, 1, 1, tzinfo=UTC)  # a multiple of every cadence used here since the epoch
second = timedelta(seconds=1)

# Deterministic: the same examples on every run and machine, and no example database.
deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=200)

Tweet = tuple[tuple[str, ...], str, int]
"""(hashtags, user id, at in seconds after t0)."""

Numbers = dict[str, tuple[int, int]]
"""tag -> (count, distinct users)."""


def t(seconds: float) -> datetime:
    """The time `seconds` after t0."""
    return t0 + seconds * second


def feed(counts: HashtagCounts, tweets: Iterable[Tweet]) -> list[HashtagCount]:
    """Observe every tweet in order; return all the records emitted."""
    return [record for tags, user, at_s in tweets for record in counts.observe(tags, user, t(at_s))]


def numbers(tweets: Iterable[Tweet], inside: Callable[[int], bool]) -> Numbers:
    """From scratch: per tag, the tweets using it and their distinct users, among tweets `inside` in time."""
    users: dict[str, list[str]] = {}
    for tags, user, at_s in tweets:
        if inside(at_s):
            for tag in set(tags):
                users.setdefault(tag, []).append(user)
    return {tag: (len(names), len(set(names))) for tag, names in users.items()}


def ranked(found: Numbers) -> list[tuple[str, int, int]]:
    """(tag, count, users), most used first, ties by tag."""
    return sorted(((tag, count, users) for tag, (count, users) in found.items()), key=lambda r: (-r[1], r[0]))


# --- units -----------------------------------------------------------------------------------

# span 60 s, lateness 10 s, records every 30 s; the window's end is the last multiple of 30 s
# at or before the watermark (latest event - 10 s).
CONFIG = HashtagWindowConfig(span=60 * second, lateness=10 * second, every=30 * second)


@pytest.fixture
def counts() -> HashtagCounts:
    """Empty counts with CONFIG."""
    return HashtagCounts(CONFIG)


def record(
    tag: str, count: int, users: int, end_s: float, trigger: Trigger = Trigger.BOUNDARY
) -> HashtagCount:
    """A CONFIG record."""
    return HashtagCount(
        at=t(end_s),
        window=CONFIG.span,
        lateness=CONFIG.lateness,
        trigger=trigger,
        tag=tag,
        count=count,
        users=users,
    )


def test_boundary_records_count_tweets_and_distinct_users(counts):
    """A boundary record gives a changed tag's tweets and distinct users in `[end - span, end)`."""
    #   event time   0   10   20   30   40   50
    #   tweets       a    a,b  b              x     (a@0 by u, a and b@10 by u, b@20 by v)
    #   window  [-30 ------------------ 30)           x@50 moves the watermark to 40: end 30
    assert feed(counts, [(("a",), "u", 0), (("a", "b"), "u", 10), (("b",), "v", 20)]) == []
    assert counts.observe(("x",), "w", t(50)) == [record("a", 2, 1, 30), record("b", 2, 2, 30)]


def test_tag_leaving_the_window_is_reported_with_count_zero(counts):
    """When a tag's last use leaves the window, a record with count 0 and users 0 says so."""
    #   event time   0   30   60   90  100
    #   tweets        a@5                z     watermark 90: ends 0, 30, 60, 90
    #   end 30: a enters; end 90: window [30, 90), a@5 left
    counts.observe(("a",), "u", t(5))
    assert counts.observe(("z",), "u", t(100)) == [record("a", 1, 1, 30), record("a", 0, 0, 90)]
    assert counts.top(5) == []


def test_tag_with_unchanged_numbers_is_not_re_emitted(counts):
    """A boundary where one use of a tag leaves as another enters, numbers unchanged, emits no record."""
    #   event time   0   30   60   90  100
    #   tweets        a@5          a@65    z@100: watermark 90, ends 60 and 90
    #   end 30: a 1; end 90: window [30, 90): a@5 left, a@65 entered: still a 1 by u
    feed(counts, [(("a",), "u", 5), (("a",), "u", 65)])
    assert counts.observe(("z",), "u", t(100)) == []


@pytest.fixture
def counts_ending_at_30(counts) -> HashtagCounts:
    """CONFIG counts whose window ends at 30 (latest event 40) after a@5 by u, b@40 by v."""
    #   event time  -30   -20  -10    0   10   20   30   40
    #   window       [--------------------a---------)    b     end 30 (watermark 30)
    assert feed(counts, [(("a",), "u", 5), (("b",), "v", 40)]) == [record("a", 1, 1, 30)]
    return counts


def test_late_event_inside_the_window_is_counted_and_shows_in_later_records(counts_ending_at_30):
    """An event older than the window's end but inside it is admitted (late_events) and in later records."""
    #   a@20 by w arrives after end 30: late, live at once; end 60 then reports a 2 by 2 users, b 1
    assert counts_ending_at_30.observe(("a",), "w", t(20)) == []
    assert (counts_ending_at_30.late_events, counts_ending_at_30.dropped_events) == (1, 0)
    assert counts_ending_at_30.top(5) == [("a", 2, 2)]
    assert counts_ending_at_30.observe(("c",), "v", t(70)) == [record("a", 2, 2, 60), record("b", 1, 1, 60)]


def test_late_event_leaves_the_window_at_the_right_time(counts_ending_at_30):
    """A late event leaves with the boundary at which an on-time event at its time would."""
    #   a@20 late, live; window [0, 60) keeps a@5 and a@20; [30, 90) keeps neither
    counts_ending_at_30.observe(("a",), "w", t(20))
    assert counts_ending_at_30.observe(("c",), "v", t(100)) == [
        record("a", 2, 2, 60),
        record("b", 1, 1, 60),
        record("a", 0, 0, 90),
    ]


def test_event_older_than_the_window_is_dropped(counts_ending_at_30):
    """An event older than the window's start is dropped (dropped_events) and never counted."""
    #   a@-31 by w: before the window's start -30
    counts_ending_at_30.observe(("a",), "w", t(-31))
    assert (counts_ending_at_30.late_events, counts_ending_at_30.dropped_events) == (0, 1)
    assert counts_ending_at_30.top(5) == [("a", 1, 1)]
    assert counts_ending_at_30.observe(("c",), "v", t(70)) == [record("b", 1, 1, 60)]


@pytest.mark.parametrize("at_s", [35, 20], ids=["on time", "late"])
def test_tweet_naming_a_tag_twice_counts_once(counts_ending_at_30, at_s):
    """Counts are of tweets, so a tag repeated within one tweet counts once, on entering and on leaving."""
    counts_ending_at_30.observe(("c", "c"), "w", t(at_s))
    records = counts_ending_at_30.observe(("z",), "w", t(200))
    assert [(r.count, r.users) for r in records if r.tag == "c"] == [(1, 1), (0, 0)]


def test_top_ranks_by_count_then_tag(counts):
    """`top(n)` gives the n most used tags at the window's end, ties broken by tag."""
    tweets = [
        (("c", "b"), "u", 1),
        (("b", "a"), "v", 2),
        (("a",), "w", 3),
        (("c",), "u", 4),
        (("d",), "u", 5),
    ]
    feed(counts, [*tweets, (("z",), "u", 40)])
    assert counts.top(3) == [("a", 2, 2), ("b", 2, 2), ("c", 2, 1)]
    assert counts.top(10)[-1] == ("d", 1, 1)


def test_view_covers_everything_received_up_to_the_latest_event(counts_ending_at_30):
    """`view()` counts every tweet received in `(latest - span, latest]`, pending too, most used first."""
    #   latest 40: view over (-20, 40]: a@5, b@35 (pending), b@40; b@-20 (late, live) is outside
    feed(counts_ending_at_30, [(("b",), "w", -20), (("b",), "w", 35)])
    assert counts_ending_at_30.view() == [
        record("b", 2, 2, 40, Trigger.IDLE),
        record("a", 1, 1, 40, Trigger.IDLE),
    ]


# --- oracle, order independence, restore ------------------------------------------------------

TAGS = "abcd"
USERS = "uvw"
configs = st.builds(
    lambda span_s, lateness_s, every_s: HashtagWindowConfig(
        span=span_s * second, lateness=lateness_s * second, every=every_s * second
    ),
    st.sampled_from([20, 45, 60]),
    st.sampled_from([0, 5, 10, 40]),  # 40: longer than the cadence
    st.sampled_from([10, 15, 30]),
)


def seconds_of(delta: timedelta) -> int:
    """A whole number of seconds."""
    return delta // second


@st.composite
def tweet_streams(draw: st.DrawFn, config: HashtagWindowConfig) -> list[Tweet]:
    """Tweets at roughly increasing times: each is a few seconds after the previous one (now and
    then after a quiet gap of minutes), minus a delay that is mostly within the lateness and
    sometimes up to twice the span (late or dropped).
    """
    lateness_s, span_s = seconds_of(config.lateness), seconds_of(config.span)
    clock = 0
    tweets: list[Tweet] = []
    for _ in range(draw(st.integers(0, 40))):
        clock += draw(st.integers(0, 12)) + (
            draw(st.integers(60, 400)) if draw(st.integers(0, 9)) == 0 else 0
        )
        delay = draw(st.one_of(st.integers(0, lateness_s), st.integers(0, 2 * span_s)))
        tags = tuple(draw(st.lists(st.sampled_from(TAGS), max_size=3)))
        tweets.append((tags, draw(st.sampled_from(USERS)), clock - delay))
    return tweets


@deterministic
@given(data=st.data(), config=configs)
def test_records_views_and_top_equal_counts_from_scratch(data, config):
    """After every tweet: each boundary record, the late and dropped tallies, `view()` and `top()` equal a
    from-scratch count of the tweets received, and the records are exactly the tags whose numbers changed.
    """
    tweets = data.draw(tweet_streams(config), label="tweets")
    span_s, lateness_s, every_s = (seconds_of(d) for d in (config.span, config.lateness, config.every))
    counts = HashtagCounts(config)
    received: list[Tweet] = []
    reported: Numbers = {}  # the numbers last reported per tag (absent: 0, 0)
    end: int | None = None
    late = dropped = 0
    for tweet in tweets:
        tags, user, at_s = tweet
        records = counts.observe(tags, user, t(at_s))
        received.append(tweet)
        if tags and end is not None and at_s < end:
            late, dropped = (late + 1, dropped) if at_s >= end - span_s else (late, dropped + 1)

        latest = max(at for _, _, at in received)
        last = (latest - lateness_s) // every_s * every_s  # t0 is a multiple of every
        ends = [last] if end is None else list(range(end + every_s, last + 1, every_s))
        expected: list[HashtagCount] = []
        for boundary in ends:
            now = numbers(received, lambda at, b=boundary: b - span_s <= at < b)
            expected.extend(
                HashtagCount(
                    at=t(boundary),
                    window=config.span,
                    lateness=config.lateness,
                    trigger=Trigger.BOUNDARY,
                    tag=tag,
                    count=now.get(tag, (0, 0))[0],
                    users=now.get(tag, (0, 0))[1],
                )
                for tag in sorted(now.keys() | reported.keys())
                if now.get(tag, (0, 0)) != reported.get(tag, (0, 0))
            )
            reported = now
        end = ends[-1] if ends else end
        assert records == expected
        assert (counts.late_events, counts.dropped_events) == (late, dropped)

        assert counts.watermark == t(latest - lateness_s)
        in_view = numbers(received, lambda at, latest=latest: latest - span_s < at <= latest)
        assert [(r.tag, r.count, r.users, r.at, r.trigger) for r in counts.view()] == [
            (tag, count, users, t(latest), Trigger.IDLE) for tag, count, users in ranked(in_view)
        ]
        # Late events inside the window are live at once, so `top` may be ahead of the last records.
        in_window = numbers(received, lambda at, end=end: end is not None and end - span_s <= at < end)
        assert counts.top(2) == ranked(in_window)[:2]
        assert counts.top(len(TAGS)) == ranked(in_window)


@deterministic
@given(data=st.data(), config=configs)
def test_boundary_records_do_not_depend_on_arrival_order_when_no_event_is_late(data, config):
    """Shuffling tweets within the lateness gives the same boundary records and final view as time order."""
    lateness_s = seconds_of(config.lateness)
    in_order = sorted(data.draw(tweet_streams(config), label="tweets"), key=lambda tweet: tweet[2])
    # Each tweet is delayed by 0..lateness: it arrives in order of (at + delay), ties in any order.
    # So a tweet arriving before another at `at` has a time <= at + lateness, the watermark (latest
    # - lateness) is <= at when it arrives, and so is the window's end (a boundary at or before
    # the watermark): the end never passes a tweet before it arrives, and no tweet is late.
    delays = data.draw(st.lists(st.integers(0, lateness_s), min_size=len(in_order), max_size=len(in_order)))
    ties = data.draw(st.permutations(range(len(in_order))))
    arrival = [
        tweet
        for _, _, tweet in sorted(
            zip(
                (at_s + delay for (_, _, at_s), delay in zip(in_order, delays, strict=True)),
                ties,
                in_order,
                strict=True,
            )
        )
    ]
    reference, shuffled = HashtagCounts(config), HashtagCounts(config)

    assert feed(shuffled, arrival) == feed(reference, in_order)
    assert shuffled.view() == reference.view()
    assert shuffled.late_events == reference.late_events == 0


@deterministic
@given(data=st.data(), config=configs)
def test_restored_counts_continue_as_if_never_stopped(data, config):
    """Snapshot (via JSON) and restore at any point, then continue: same records, tallies, view and top."""
    tweets = data.draw(tweet_streams(config), label="tweets")
    split = data.draw(st.integers(0, len(tweets)), label="split")
    never_stopped = HashtagCounts(config)
    feed(never_stopped, tweets[:split])
    first = HashtagCounts(config)
    feed(first, tweets[:split])
    restored = HashtagCounts.restore(config, json.loads(json.dumps(first.snapshot())))

    assert feed(restored, tweets[split:]) == feed(never_stopped, tweets[split:])
    assert (restored.late_events, restored.dropped_events) == (
        never_stopped.late_events,
        never_stopped.dropped_events,
    )
    assert restored.view() == never_stopped.view()
    assert restored.top(len(TAGS)) == never_stopped.top(len(TAGS))
    assert restored.watermark == never_stopped.watermark


@deterministic
@given(data=st.data(), config=configs)
def test_work_ahead_changes_no_record(data, config):
    """Working ahead of the next boundary, in slices, after any tweet, and restoring meanwhile,
    gives the same records, tallies and views as never working ahead.
    """
    tweets = data.draw(tweet_streams(config), label="tweets")
    slices = data.draw(
        st.lists(st.integers(0, 5), min_size=len(tweets), max_size=len(tweets)), label="slices"
    )
    split = data.draw(st.integers(0, len(tweets)), label="split")
    never_ahead, ahead = HashtagCounts(config), HashtagCounts(config)
    for index, (tweet, moves) in enumerate(zip(tweets, slices, strict=True)):
        if index == split:
            ahead = HashtagCounts.restore(config, json.loads(json.dumps(ahead.snapshot())))
        assert feed(ahead, [tweet]) == feed(never_ahead, [tweet])
        assert ahead.work_ahead(moves) <= moves
        assert ahead.view() == never_ahead.view()

    assert (ahead.late_events, ahead.dropped_events) == (never_ahead.late_events, never_ahead.dropped_events)
