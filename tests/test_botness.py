"""BotRuler bot-likeness: closed-form components, ordering, missing data, and the reported distribution."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.recordings import read_messages
from models.event import Profile, TweetEvent
from models.wire import parse_message
from streams.coordination.botness import EDGES, bot_likeness, components, distribution, sigmoid

REAL_TWEETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "real_tweets"

deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=300)

# The tweet is sent at T0; accounts are created some days before it.
#
#   created ---------------- 10 days ---------------- T0 (tweet)
T0 = datetime(2020, 1, 11, tzinfo=UTC)
TEN_DAYS_OLD = T0 - timedelta(days=10)


def _logistic(x: float) -> float:
    """The textbook 1 / (1 + e^-x), the oracle for `sigmoid`."""
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize("x", [-700.0, -33.0, -1.0, 0.0, 2.6, 33.0, 700.0])
def test_sigmoid_is_the_logistic_function(x: float) -> None:
    """`sigmoid` equals the textbook 1 / (1 + e^-x)."""
    assert sigmoid(x) == pytest.approx(_logistic(x), rel=1e-12, abs=0.0)


def test_sigmoid_saturates_instead_of_overflowing() -> None:
    """Far beyond e^709, where the textbook form overflows, `sigmoid` is exactly 0 or 1."""
    with pytest.raises(OverflowError):
        _logistic(-1000.0)
    assert (sigmoid(-1000.0), sigmoid(1000.0)) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("profile", "followers", "expected"),
    [
        pytest.param(
            Profile(friends=10, created_at=TEN_DAYS_OLD),
            None,
            {"friends_growth": 0.5},  # 10 friends / 10 days = 1 per day, the midpoint
            id="friends_growth-at-midpoint",
        ),
        pytest.param(
            Profile(friends=40, created_at=TEN_DAYS_OLD),
            None,
            {"friends_growth": _logistic(3.0)},  # 4 per day
            id="friends_growth",
        ),
        pytest.param(
            Profile(friends=10), 1, {"friends_per_follower": _logistic(2.6)}, id="friends_per_follower"
        ),
        pytest.param(
            Profile(friends=8),
            0,
            {"friends_per_follower": _logistic(0.6)},  # no followers: the ratio is the friends count
            id="friends_per_follower-no-followers",
        ),
        pytest.param(
            Profile(statuses=330, created_at=TEN_DAYS_OLD),
            None,
            {"tweets_per_day": 0.5},  # 33 per day, the midpoint
            id="tweets_per_day-at-midpoint",
        ),
        pytest.param(
            Profile(background_image=False, default_profile=True, verified=False),
            None,
            {"no_background_image": 1.0, "default_profile": 1.0, "not_verified": 1.0},
            id="flags-bot-like",
        ),
        pytest.param(
            Profile(background_image=True, default_profile=False, verified=True),
            None,
            {"no_background_image": 0.0, "default_profile": 0.0, "not_verified": 0.0},
            id="flags-human-like",
        ),
    ],
)
def test_components_have_their_closed_form_values(
    profile: Profile, followers: int | None, expected: dict[str, float]
) -> None:
    """Each component is BotRuler's sigmoid or flag of the profile's numbers; only those it allows appear."""
    found = components(profile, followers, T0)
    assert found == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "created_at",
    [
        pytest.param(T0, id="created-at-the-tweet"),
        pytest.param(T0 - timedelta(hours=1), id="one-hour-old"),
        pytest.param(T0 + timedelta(days=3), id="created-after-the-tweet"),
    ],
)
def test_account_age_is_floored_at_one_day(created_at: datetime) -> None:
    """An account younger than a day, or created after its tweet, counts as one day old."""
    found = components(Profile(friends=1, statuses=33, created_at=created_at), None, T0)
    assert found == {"friends_growth": 0.5, "tweets_per_day": 0.5}


def test_bot_likeness_is_the_mean_of_all_six_components() -> None:
    """With every input known, the score is the plain mean of the six closed-form components."""
    profile = Profile(
        friends=40,
        statuses=330,
        created_at=TEN_DAYS_OLD,
        verified=False,
        default_profile=False,
        background_image=True,
    )
    expected = (_logistic(3.0) + _logistic(40 / 4 - 7.4) + 0.5 + 0.0 + 0.0 + 1.0) / 6
    assert bot_likeness(profile, 4, T0) == pytest.approx(expected, rel=1e-12)


def test_a_default_unverified_new_hyperactive_profile_outscores_an_old_verified_one() -> None:
    """A two-day-old default, unverified account with thousands of friends and tweets outscores an old
    verified one.
    """
    suspicious = Profile(
        friends=2000,
        statuses=5000,
        created_at=T0 - timedelta(days=2),
        verified=False,
        default_profile=True,
        default_profile_image=True,
        background_image=False,
    )
    established = Profile(
        friends=300,
        statuses=20000,
        created_at=T0 - timedelta(days=10 * 365),
        verified=True,
        default_profile=False,
        default_profile_image=False,
        background_image=True,
    )
    high = bot_likeness(suspicious, 10, T0)
    low = bot_likeness(established, 100_000, T0)
    assert high is not None
    assert low is not None
    assert high > 0.99
    assert low < 0.1


@pytest.mark.parametrize(
    ("profile", "followers"),
    [
        pytest.param(None, 100, id="no-profile"),
        pytest.param(Profile(), 100, id="empty-profile"),
        pytest.param(Profile(created_at=TEN_DAYS_OLD), 100, id="creation-time-only"),
        pytest.param(Profile(friends=5), None, id="friends-without-followers-or-age"),
        pytest.param(Profile(default_profile_image=True), 100, id="default-image-is-not-a-component"),
    ],
)
def test_bot_likeness_is_none_without_any_component(profile: Profile | None, followers: int | None) -> None:
    """With no component computable the score is None (unknown), never 0."""
    assert bot_likeness(profile, followers, T0) is None


_PROFILES = st.builds(
    Profile,
    friends=st.none() | st.integers(min_value=0, max_value=10**12),
    statuses=st.none() | st.integers(min_value=0, max_value=10**12),
    created_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    verified=st.none() | st.booleans(),
    default_profile=st.none() | st.booleans(),
    default_profile_image=st.none() | st.booleans(),
    background_image=st.none() | st.booleans(),
)


@deterministic
@given(st.none() | _PROFILES, st.none() | st.integers(min_value=0, max_value=10**12))
def test_bot_likeness_is_none_or_on_the_unit_interval(profile: Profile | None, followers: int | None) -> None:
    """Any profile, however extreme, scores None or a number on [0, 1] equal to its components' mean."""
    score = bot_likeness(profile, followers, T0)
    found = components(profile, followers, T0)
    if not found:
        assert score is None
    else:
        assert score is not None
        assert 0.0 <= score <= 1.0
        assert score == pytest.approx(sum(found.values()) / len(found))


@pytest.mark.parametrize(
    ("relative", "components_per_tweet"),
    [
        pytest.param("v1_1/rtweet_fixture_statuses.jsonl.gz", 6, id="v1.1"),
        pytest.param("v2_twarc/twarc_network_tweets.jsonl", 4, id="v2-page"),
    ],
)
def test_real_tweets_score_on_every_component_their_format_carries(
    relative: str, components_per_tweet: int
) -> None:
    """The first real tweet of a v1.1 recording scores on six components, of a v2 page on four."""
    _, raw = next(iter(read_messages(REAL_TWEETS / relative)))
    event = parse_message(raw)[0]
    assert isinstance(event, TweetEvent)
    assert len(components(event.profile, event.followers, event.at)) == components_per_tweet
    score = bot_likeness(event.profile, event.followers, event.at)
    assert score is not None
    assert 0.0 <= score <= 1.0


def test_distribution_of_a_known_list() -> None:
    """Six scores and two unknowns give the expected bin counts, mean, median and p90."""
    summary = distribution([0.0, 0.1, 0.25, None, 0.5, 0.95, 1.0, None])
    assert summary == {
        "edges": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        "counts": [1, 1, 1, 0, 0, 1, 0, 0, 0, 2],  # 1.0 falls in the last bin
        "count": 6,
        "unknown": 2,
        "mean": pytest.approx(2.8 / 6),
        "median": pytest.approx(0.375),  # halfway between 0.25 and 0.5
        "p90": pytest.approx(0.975),  # position 4.5: halfway between 0.95 and 1.0
    }


def test_distribution_of_nothing_known_has_no_statistics() -> None:
    """Only unknown scores (or none at all) give zero counts and None for mean, median and p90."""
    summary = distribution([None, None])
    assert summary["counts"] == [0] * 10
    assert (summary["count"], summary["unknown"]) == (0, 2)
    assert (summary["mean"], summary["median"], summary["p90"]) == (None, None, None)
    assert distribution([])["unknown"] == 0


@pytest.mark.parametrize("score", [-0.1, 1.5, math.nan])
def test_distribution_rejects_a_score_off_the_unit_interval(score: float) -> None:
    """A score outside [0, 1], NaN included, is a caller's bug and raises ValueError."""
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        distribution([0.5, score])


@deterministic
@given(st.lists(st.none() | st.floats(min_value=0.0, max_value=1.0), max_size=50))
def test_distribution_matches_numpy_and_bins_every_score(scores: list[float | None]) -> None:
    """Mean, median and p90 equal numpy's; each score lies in its bin, and the result ignores order."""
    summary = distribution(scores)
    known = [score for score in scores if score is not None]
    assert (summary["count"], summary["unknown"]) == (len(known), len(scores) - len(known))
    assert sum(summary["counts"]) == len(known)
    for score in known:
        index = min(int(np.searchsorted(EDGES, score, side="right")) - 1, 9)
        assert EDGES[index] <= score <= EDGES[index + 1]
    if known:
        assert summary["mean"] == pytest.approx(float(np.mean(known)))
        assert summary["median"] == pytest.approx(float(np.median(known)))
        assert summary["p90"] == pytest.approx(float(np.percentile(known, 90)))
    assert distribution(reversed(scores)) == summary
