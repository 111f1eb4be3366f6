"""Bot-likeness of a tweet's author from the profile embedded in the tweet, reported as a distribution.

The heuristic is BotRuler, the placeholder bot detector of BotSlayer-CE (Hui et al. 2019,
"BotSlayer: real-time detection of bot amplification on Twitter", JOSS 4(42):1706; code in
`osome-iu/BotSlayer-CE`, `backend/bev_backend/bev_backend/crawler/BotRuler.py`). With the account's
age `age_days` at the tweet's event time, it averages six components, each on [0, 1]:

====================  ================================================================
friends_growth        sigmoid(friends / age_days - 1)
friends_per_follower  sigmoid(friends / followers - 7.4)  (friends alone when followers is 0)
tweets_per_day        sigmoid(statuses / age_days - 33)
no_background_image   1 if the profile does not use a background image, else 0
default_profile       1 if the theme and background were never changed, else 0
not_verified          1 if the account is not verified, else 0
====================  ================================================================

where sigmoid(x) = 1 / (1 + exp(-x)). A component whose inputs the profile lacks is left out and the mean
taken over those present, so an API v2 tweet (no background or default-profile flag) scores on four
components, a v1.1 tweet on six: the scale is the same, the evidence is not.

**This is a weak heuristic.** Its authors estimate an AUC of 0.65-0.70 on annotated data, where
trained detectors exceed 0.95, and warn against using it for research. A score says how much an
account's profile resembles what the rules associate with automation; it never says that an account
is a bot. So the product reports the *distribution* of scores over the authors of a window (see
`distribution`), never a per-account label or a threshold.

Two departures from BotRuler, both deliberate:

* BotRuler divides each score by the largest score of the batch. That makes an account's number
  depend on which other accounts were fetched with it, so the same tweet would score differently in
  a replay cut at another point; here a score depends only on its own tweet.
* BotRuler divides by the raw age in days. Here the age is floored at one day
  (`MIN_AGE_DAYS`): a rate per day is not extrapolated from minutes, and a creation time after the
  tweet (skewed clocks, bad data) cannot turn the rates negative and make an account look human.

Since April 2023 `verified` on Twitter/X marks a paid subscription, so `not_verified` means little
for later data. Everything here is pure: the clock is the tweet's `at`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from models.event import Profile

# BotRuler's midpoints: the rate or ratio at which a component reaches 1/2.
FRIENDS_GROWTH_MIDPOINT = 1.0  # friends added per day of account age
FRIENDS_PER_FOLLOWER_MIDPOINT = 7.4
TWEETS_PER_DAY_MIDPOINT = 33.0
MIN_AGE_DAYS = 1.0
_SECONDS_PER_DAY = 86_400.0

BINS = 10
# Bin i holds scores in [EDGES[i], EDGES[i + 1]); the last bin also holds 1.0.
EDGES = tuple(i / BINS for i in range(BINS + 1))


def sigmoid(x: float) -> float:
    """The logistic function 1 / (1 + exp(-x)), without overflow for any finite `x`.

    >>> sigmoid(0.0)
    0.5
    """
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    decay = math.exp(x)  # e^x < 1 here, so neither branch can overflow
    return decay / (1.0 + decay)


def account_age_days(created_at: datetime, at: datetime) -> float:
    """Days from the account's creation to `at`, floored at `MIN_AGE_DAYS`."""
    return max((at - created_at).total_seconds() / _SECONDS_PER_DAY, MIN_AGE_DAYS)


def components(profile: Profile | None, followers: int | None, at: datetime) -> dict[str, float]:
    """The BotRuler components the profile allows, by name (see the module docstring), each on [0, 1].

    A component is absent, not zero, when an input is missing: a friends count needs the followers
    count for `friends_per_follower`, and the creation time for `friends_growth`.

    >>> from datetime import UTC
    >>> at = datetime(2020, 1, 11, tzinfo=UTC)
    >>> profile = Profile(friends=10, created_at=datetime(2020, 1, 1, tzinfo=UTC), verified=True)
    >>> components(profile, None, at)
    {'friends_growth': 0.5, 'not_verified': 0.0}
    """
    if profile is None:
        return {}
    found: dict[str, float] = {}
    age_days = None if profile.created_at is None else account_age_days(profile.created_at, at)
    if profile.friends is not None and age_days is not None:
        found["friends_growth"] = sigmoid(profile.friends / age_days - FRIENDS_GROWTH_MIDPOINT)
    if profile.friends is not None and followers is not None:
        # BotRuler's convention: with no followers the ratio is the friends count (as if 1 follower).
        ratio = profile.friends / followers if followers > 0 else float(profile.friends)
        found["friends_per_follower"] = sigmoid(ratio - FRIENDS_PER_FOLLOWER_MIDPOINT)
    if profile.statuses is not None and age_days is not None:
        found["tweets_per_day"] = sigmoid(profile.statuses / age_days - TWEETS_PER_DAY_MIDPOINT)
    if profile.background_image is not None:
        found["no_background_image"] = 0.0 if profile.background_image else 1.0
    if profile.default_profile is not None:
        found["default_profile"] = 1.0 if profile.default_profile else 0.0
    if profile.verified is not None:
        found["not_verified"] = 0.0 if profile.verified else 1.0
    return found


def bot_likeness(profile: Profile | None, followers: int | None, at: datetime) -> float | None:
    """The mean of the available BotRuler components, on [0, 1]; None when none is available.

    `followers` is the author's follower count (`TweetEvent.followers`) and `at` the tweet's event
    time, at which the account's age is measured. Higher means more bot-like *by these rules*; it is
    a weak signal for a distribution, not a verdict on the account.
    """
    found = components(profile, followers, at)
    return math.fsum(found.values()) / len(found) if found else None


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default, Hyndman-Fan type 7)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def distribution(scores: Iterable[float | None]) -> dict[str, Any]:
    """Summarise bot-likeness scores as plain JSON-able data; the same scores give the same result.

    Returns ``edges`` (the `BINS` + 1 fixed bin edges on [0, 1]), ``counts`` (scores per bin; bin i
    holds [edges[i], edges[i + 1]), the last bin also 1.0), ``count`` (known scores), ``unknown``
    (Nones: tweets whose profile allowed no score), and ``mean``, ``median`` and ``p90`` of the
    known scores (linear interpolation between order statistics), each None when there is none.
    Raises ValueError for a score outside [0, 1] (NaN included): no `bot_likeness` makes one.

    >>> summary = distribution([0.05, 0.5, 0.55, None])
    >>> summary["counts"], summary["count"], summary["unknown"], summary["median"]
    ([1, 0, 0, 0, 0, 2, 0, 0, 0, 0], 3, 1, 0.5)
    """
    known: list[float] = []
    unknown = 0
    for score in scores:
        if score is None:
            unknown += 1
        elif 0.0 <= score <= 1.0:
            known.append(score)
        else:
            raise ValueError(f"a bot-likeness score is on [0, 1], got {score!r}")
    known.sort()
    counts = [0] * BINS
    for score in known:
        counts[min(bisect_right(EDGES, score) - 1, BINS - 1)] += 1
    return {
        "edges": list(EDGES),
        "counts": counts,
        "count": len(known),
        "unknown": unknown,
        "mean": math.fsum(known) / len(known) if known else None,
        "median": _quantile(known, 0.5) if known else None,
        "p90": _quantile(known, 0.9) if known else None,
    }
