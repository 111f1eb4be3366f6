"""Choosing each retweet's parent: explicit data, text chains, and the root, time and DeVerna methods."""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models.event import TweetEvent
from streams.cascades.reconstruction import (
    Candidates,
    Participant,
    ReconstructionConfig,
    Reconstructor,
    chain_source,
    deverna_pick,
    deverna_probabilities,
    retweeted_names,
)

t0 = datetime(2024, 1, 1, tzinfo=UTC)

ROOT = TweetEvent(id="r", user_id="ur", user_name="b", at=t0, followers=100)


def retweet(node_id: str, seconds: float, **fields: Any) -> TweetEvent:
    """A retweet of ROOT, `seconds` after t0, by user "u<node_id>"; `fields` override the rest."""
    defaults = {
        "id": node_id,
        "user_id": f"u{node_id}",
        "at": t0 + timedelta(seconds=seconds),
        "retweet_of": ROOT.id,
        "retweet_of_user": ROOT.user_id,
    }
    return TweetEvent(**(defaults | fields))


def reconstruct(config: ReconstructionConfig, retweets: list[TweetEvent]) -> dict[str, tuple[str, bool]]:
    """Each retweet's (parent, explicit), choosing in order under ROOT as the cascade grows."""
    candidates = Candidates(Participant.of(ROOT), config.max_candidates)
    members = {ROOT.id}
    chooser = Reconstructor(config)
    chosen = {}
    for event in retweets:
        choice = chooser.choose(candidates, event, members=members)
        chosen[event.id] = (choice.parent_id, choice.explicit)
        candidates.add(Participant.of(event))
        members.add(event.id)
    return chosen


def parents(config: ReconstructionConfig, retweets: list[TweetEvent]) -> dict[str, str]:
    """Each retweet's parent id."""
    return {node_id: parent for node_id, (parent, _) in reconstruct(config, retweets).items()}


# Three retweets one second apart:  t0    +1    +2    +3
#                                   r     a     b     c
SEQUENTIAL = [retweet("a", 1), retweet("b", 2), retweet("c", 3)]


def test_root_method_builds_a_star():
    """Under `root`, every retweet hangs from the original, inferred."""
    #   r
    #  /|\
    # a b c
    assert reconstruct(ReconstructionConfig(method="root"), SEQUENTIAL) == {
        "a": ("r", False),
        "b": ("r", False),
        "c": ("r", False),
    }


def test_time_method_chains_sequential_retweets():
    """Under `time` without a follower graph, each retweet hangs from the one just before it."""
    # r - a - b - c
    assert parents(ReconstructionConfig(method="time"), SEQUENTIAL) == {"a": "r", "b": "a", "c": "b"}


def test_time_method_picks_the_latest_participant_no_later_than_the_retweet():
    """A late-arriving retweet hangs from the latest participant before it in event time."""
    # arrival: a (+1), c (+3), then b (+2), which came after a and before c in event time
    late = [retweet("a", 1), retweet("c", 3), retweet("b", 2)]
    assert parents(ReconstructionConfig(method="time"), late) == {"a": "r", "c": "a", "b": "a"}


def test_time_method_with_followers_picks_the_latest_followed_participant():
    """With a follower graph, the parent is the latest earlier participant the retweeter follows."""
    #        r          b and c follow a: both under a, although b is more recent than a for c
    #      /   \        d follows nobody in the cascade: under the root
    #     a     d       e follows a and b: under b, the more recent
    #    / \
    #   b   c
    #   |
    #   e
    graph = {
        "ub": frozenset({"ua"}),
        "uc": frozenset({"ua"}),
        "ud": frozenset({"stranger"}),
        "ue": frozenset({"ua", "ub"}),
    }
    retweets = [retweet(node_id, k) for k, node_id in enumerate("abcde", 1)]
    config = ReconstructionConfig(method="time", follower_graph=graph)
    assert parents(config, retweets) == {"a": "r", "b": "a", "c": "a", "d": "r", "e": "b"}


def test_explicit_parent_id_wins_over_inference():
    """A `parent_id` already in the cascade is the parent, marked explicit, under every method."""
    # r - a - b, and c names a as its parent although `time` would pick b
    retweets = [retweet("a", 1), retweet("b", 2), retweet("c", 3, parent_id="a")]
    for method in ("root", "time", "deverna"):
        assert reconstruct(ReconstructionConfig(method=method), retweets)["c"] == ("a", True)


def test_parent_id_outside_the_cascade_is_ignored():
    """A `parent_id` not (yet) in the cascade leaves the choice to the method."""
    retweets = [retweet("a", 1), retweet("b", 2, parent_id="elsewhere")]
    assert reconstruct(ReconstructionConfig(method="time"), retweets)["b"] == ("a", False)


def test_retweet_of_an_intermediate_retweet_is_explicit():
    """A retweet naming an earlier retweet of the cascade (`through`) hangs from it."""
    candidates = Candidates(Participant.of(ROOT))
    candidates.add(Participant.of(retweet("a", 1)))
    candidates.add(Participant.of(retweet("b", 2)))
    event = TweetEvent(id="c", user_id="uc", at=t0 + timedelta(seconds=3), retweet_of="a")
    choice = Reconstructor(ReconstructionConfig(method="root")).choose(
        candidates, event, members={"r", "a", "b"}
    )
    assert choice == ("a", True)


def test_text_chain_attributes_to_the_named_retweeters_latest_retweet():
    """A text "RT @a: RT @b: ..." hangs the retweet from a's latest retweet (names case-insensitive)."""
    #   r, posted by @b
    #   |\___
    #   a    c     d's text "RT @a: RT @b: hi": d came through a's retweet, not c's (the latest)
    #   |
    #   d
    retweets = [
        retweet("a", 1, user_name="A"),
        retweet("c", 2, user_name="c"),
        retweet("d", 3, text="RT @a: RT @b: hi"),
    ]
    for method in ("root", "time", "deverna"):
        assert reconstruct(ReconstructionConfig(method=method), retweets)["d"] == ("a", True)


def test_text_chain_to_the_originals_author_picks_the_root():
    """A text "RT @b: RT @x: ..." where b wrote the original hangs the retweet from the original."""
    retweets = [retweet("a", 1, user_name="a"), retweet("d", 2, text="rt @B: RT @x: hi")]
    assert reconstruct(ReconstructionConfig(method="time"), retweets)["d"] == ("r", True)


def test_single_rt_prefix_or_unknown_name_is_not_evidence():
    """A lone "RT @a:" (how every native retweet reads) or a chain naming no participant is inferred."""
    retweets = [
        retweet("a", 1, user_name="a"),
        retweet("c", 2, user_name="c"),
        retweet("d", 3, text="RT @a: hi"),
        retweet("e", 4, text="RT @zed: RT @b: hi"),
    ]
    chosen = reconstruct(ReconstructionConfig(method="time"), retweets)
    assert (chosen["d"], chosen["e"]) == (("c", False), ("d", False))


def test_text_chain_ignores_a_namesake_who_retweeted_later():
    """Only participants no later than the retweet count for its text chain."""
    # arrival: a's retweet at +5, then d at +3 naming @a: a's retweet is later, so not evidence
    retweets = [retweet("a", 5, user_name="a"), retweet("d", 3, text="RT @a: RT @b: hi")]
    assert reconstruct(ReconstructionConfig(method="time"), retweets)["d"] == ("r", False)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("RT @Alice: RT @bob: hello", ("alice", "bob")),
        ("RT @alice RT @bob hello", ("alice", "bob")),
        ("  rt @alice: hello", ("alice",)),
        ("hello RT @alice: RT @bob: x", ()),
        ("", ()),
        ("RT @aliceRT @bob: x", ("alicert",)),  # one name, aliceRT, then plain text
        ("RT @alice:RT @bob:x", ("alice", "bob")),
    ],
)
def test_retweeted_names_reads_the_leading_chain(text, names):
    """The leading "RT @name:" chain is read outermost first, case-folded, colons optional."""
    assert retweeted_names(text) == names
    assert chain_source(text) == (names[0] if len(names) >= 2 else None)


# DeVerna's case: root r (100 followers) and three retweets, then the retweet under study.
#   t0        +10 s     +40 s     +55 s     +60 s
#   r(100)    a(10)     b(0)      c(None)   v ?
DEVERNA_RETWEETS = [
    retweet("a", 10, followers=10),
    retweet("b", 40, followers=0),
    retweet("c", 55),
]
GAPS = [60.0, 50.0, 20.0, 5.0]
FOLLOWERS = [100, 10, 0, None]


def test_deverna_probabilities_follow_the_closed_form():
    """P(j) = gamma f_j / sum f + (1 - gamma) PL(gap_j) / sum PL, PL(z) ~ max(z, x_min)^-alpha."""
    gamma, alpha = 0.3, 1.5
    probabilities = deverna_probabilities(GAPS, FOLLOWERS, gamma=gamma, alpha=alpha, x_min_seconds=1.0)
    power_law = [((alpha - 1) / 1.0) * (1.0 / gap) ** alpha for gap in GAPS]
    counts = [100, 10, 0, 0]
    expected = [
        gamma * f / sum(counts) + (1 - gamma) * pl / sum(power_law)
        for f, pl in zip(counts, power_law, strict=True)
    ]
    assert probabilities == pytest.approx(expected, rel=1e-12)
    assert math.isclose(sum(probabilities), 1.0)


def test_deverna_follower_term_is_uniform_when_nobody_has_followers():
    """With every follower count 0 or unknown, the follower term gives each candidate 1/n."""
    probabilities = deverna_probabilities([1.0] * 4, [0, None, 0, 0], gamma=1.0, alpha=2.0, x_min_seconds=1.0)
    assert probabilities == [0.25] * 4


def test_deverna_gaps_below_x_min_weigh_the_same():
    """Gaps shorter than x_min are clamped to it, so their power-law terms are equal."""
    probabilities = deverna_probabilities([0.0, 0.5, 2.0], [1, 1, 1], gamma=0.0, alpha=2.0, x_min_seconds=2.0)
    assert probabilities == pytest.approx([1 / 3] * 3)


def test_deverna_probabilities_do_not_underflow_for_steep_power_laws():
    """Huge gaps and exponents still give probabilities that sum to 1, the nearest taking all."""
    probabilities = deverna_probabilities([1e9, 2e9], [1, 1], gamma=0.0, alpha=100.0, x_min_seconds=1.0)
    assert probabilities == pytest.approx([1.0, 0.0])


@pytest.mark.parametrize("n", [5, 300])
def test_deverna_pick_inverts_the_cumulative_probabilities(n):
    """The picked index is where u falls in the cumulative probabilities, in Python and numpy alike."""
    gaps = [float((7 * k) % 97) for k in range(n)]
    followers = [(31 * k) % 11 for k in range(n)]
    parameters = {"gamma": 0.4, "alpha": 2.5, "x_min_seconds": 1.0}
    cumulative = list(itertools.accumulate(deverna_probabilities(gaps, followers, **parameters)))
    for step in range(1000):
        u = step / 1000
        expected = min(bisect_right(cumulative, u), n - 1)
        if any(abs(u - edge) < 1e-9 for edge in cumulative):
            continue  # on an interval's edge, rounding may fall either way
        assert deverna_pick(gaps, followers, u, **parameters) == expected


def test_deverna_pick_never_picks_a_zero_probability_candidate():
    """Candidates of probability 0 are skipped even at u = 0 and at u just below 1."""
    for u in (0.0, 0.5, 1 - 1e-16):
        assert deverna_pick([1.0, 1.0, 1.0], [0, 7, 0], u, gamma=1.0, alpha=2.0, x_min_seconds=1.0) == 1


def test_deverna_is_deterministic():
    """The same input and seed give the same tree, from fresh objects."""
    retweets = [retweet(f"n{k}", k, followers=k % 7) for k in range(1, 60)]
    config = ReconstructionConfig(method="deverna", seed=7)
    assert parents(config, retweets) == parents(ReconstructionConfig(method="deverna", seed=7), retweets)
    assert parents(config, retweets) != parents(ReconstructionConfig(method="deverna", seed=8), retweets)


def test_deverna_with_gamma_one_follows_the_only_account_with_followers():
    """With gamma = 1 and one candidate holding every follower, that candidate is always the parent."""
    retweets = [
        retweet("a", 1, followers=0),
        retweet("b", 2, followers=5000),
        retweet("c", 3, followers=0),
    ]
    root = Participant.of_unseen("r", "ur", t0)  # followers unknown: 0
    for seed in range(200):
        config = ReconstructionConfig(method="deverna", gamma=1.0, seed=seed)
        candidates = Candidates(root)
        for event in retweets:
            candidates.add(Participant.of(event))
        event = retweet("v", 4)
        choice = Reconstructor(config).choose(candidates, event, members={"r", "a", "b", "c"})
        assert choice == ("b", False)


def test_deverna_with_gamma_zero_and_steep_power_law_picks_the_latest():
    """With gamma = 0 and a large alpha, the most recent participant is the parent (a chain)."""
    # r - a - b - c - d, one retweet every 10 s (well above x_min)
    retweets = [retweet(node_id, 10 * k, followers=10**6 * (k % 2)) for k, node_id in enumerate("abcd", 1)]
    for seed in range(50):
        config = ReconstructionConfig(method="deverna", gamma=0.0, alpha=60.0, seed=seed)
        assert parents(config, retweets) == {"a": "r", "b": "a", "c": "b", "d": "c"}


def test_deverna_parent_frequencies_over_seeds_match_the_formula():
    """Over 4,000 seeds, the empirical parent frequencies match DeVerna's probabilities."""
    gamma, alpha = 0.5, 1.5
    expected = deverna_probabilities(GAPS, FOLLOWERS, gamma=gamma, alpha=alpha, x_min_seconds=1.0)
    candidates = Candidates(Participant.of(ROOT))
    for event in DEVERNA_RETWEETS:
        candidates.add(Participant.of(event))
    members = {"r", "a", "b", "c"}
    event = retweet("v", 60)
    seeds = 4000
    picked = Counter(
        Reconstructor(ReconstructionConfig(method="deverna", gamma=gamma, alpha=alpha, seed=seed))
        .choose(candidates, event, members=members)
        .parent_id
        for seed in range(seeds)
    )
    frequencies = [picked[node_id] / seeds for node_id in ("r", "a", "b", "c")]
    # Binomial standard error <= sqrt(0.25 / 4000) = 0.008: 0.03 is almost 4 of them.
    assert frequencies == pytest.approx(expected, abs=0.03)


def test_candidates_keep_the_root_and_the_latest_retweets_only():
    """Past `max_candidates`, the oldest retweets can no longer be parents; the root always can."""
    # retweets a..j at +1..+10 s with max_candidates = 3: only h, i, j (and r) remain candidates
    retweets = [retweet(node_id, k) for k, node_id in enumerate("abcdefghij", 1)]
    config = ReconstructionConfig(method="deverna", gamma=0.5, alpha=1.1, max_candidates=3)
    candidates = Candidates(Participant.of(ROOT), limit=3)
    for event in retweets:
        candidates.add(Participant.of(event))
    assert [member.node_id for member in candidates.members()] == ["h", "i", "j"]
    members = {"r", *"abcdefghij"}
    chosen = {
        Reconstructor(replace(config, seed=seed))
        .choose(candidates, retweet("v", 11), members=members)
        .parent_id
        for seed in range(300)
    }
    assert chosen == {"r", "h", "i", "j"}
    # A retweet older than every held one can only go to the root.
    assert Reconstructor(ReconstructionConfig(method="time")).choose(
        candidates, retweet("w", 0.5), members=members
    ) == ("r", False)


@pytest.mark.parametrize(
    ("config", "described"),
    [
        (ReconstructionConfig(method="root"), "root"),
        (ReconstructionConfig(), "time"),
        (ReconstructionConfig(method="time", follower_graph={"a": frozenset({"b"})}), "time+followers"),
        (ReconstructionConfig(method="deverna"), "deverna(gamma=0.5,alpha=2.0)"),
        (
            ReconstructionConfig(method="deverna", gamma=0.25, alpha=1.1, x_min_seconds=2.0, seed=3),
            "deverna(gamma=0.25,alpha=1.1,x_min=2.0s,seed=3)",
        ),
    ],
)
def test_describe_names_the_method_and_its_parameters(config, described):
    """`describe` names the method and the parameters that shape the trees."""
    assert config.describe() == described


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "random"}, "unknown reconstruction method"),
        ({"method": "deverna", "follower_graph": {}}, "does not use a follower graph"),
        ({"gamma": 1.5}, "gamma"),
        ({"alpha": 1.0}, "alpha"),
        ({"x_min_seconds": 0.0}, "x_min_seconds"),
        ({"max_candidates": 0}, "max_candidates"),
    ],
)
def test_config_rejects_parameters_outside_their_domain(kwargs, message):
    """An unknown method, a follower graph the method ignores, or parameters out of range raise."""
    with pytest.raises(ValueError, match=message):
        ReconstructionConfig(**kwargs)
