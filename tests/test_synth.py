"""The synthetic stream: deterministic, well-formed, flat in memory, and its planted truth holds."""

from __future__ import annotations

import gzip
import json
import statistics
import tracemalloc
from collections import defaultdict
from datetime import datetime
from itertools import islice, pairwise
from typing import Any

import networkx as nx
import pytest

from models.event import Kind, TweetEvent
from models.wire import parse_message
from models.wire.tags import hashtag_keys
from synth import StreamSpec, generate, ground_truth, write_stream

SMALL = StreamSpec(events=3_000, seed=7, rings=1, bursts=1)
MEDIUM = StreamSpec(events=20_000, seed=11, rings=2, bursts=2)


@pytest.fixture(scope="module")
def stream() -> list[TweetEvent]:
    """Generate the medium stream once for the module."""
    return list(generate(MEDIUM))


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    """Compute the medium stream's ground truth."""
    return ground_truth(MEDIUM)


@pytest.fixture(scope="module")
def by_id(stream) -> dict[str, TweetEvent]:
    """Index the medium stream by tweet id."""
    return {event.id: event for event in stream}


@pytest.fixture(scope="module")
def cascades(stream) -> dict[str, tuple[int, int]]:
    """Measure (size, depth) of every original's cascade in a networkx forest of parent_id."""
    forest = nx.DiGraph()
    forest.add_nodes_from(e.id for e in stream if e.kind is Kind.ORIGINAL)
    forest.add_edges_from((e.parent_id, e.id) for e in stream if e.kind is Kind.RETWEET)
    shapes = {}
    for root in (e.id for e in stream if e.kind is Kind.ORIGINAL):
        depths = nx.single_source_shortest_path_length(forest, root)
        shapes[root] = (len(depths), max(depths.values()))
    return shapes


def ring_retweets(stream: list[TweetEvent], truth: dict[str, Any]) -> set[str]:
    """Return the ids of the ring members' retweets of their ring's targets."""
    planted = {
        (member, target)
        for members, targets in zip(truth["rings"], truth["ring_targets"], strict=True)
        for member in members
        for target in targets
    }
    return {e.id for e in stream if (e.user_id, e.retweet_of) in planted}


def cascade_stats(cascades, stream, authors: set[str]) -> tuple[float, float]:
    """Return the mean (size, depth) of the cascades of originals by `authors`."""
    shapes = [cascades[e.id] for e in stream if e.kind is Kind.ORIGINAL and e.user_id in authors]
    assert len(shapes) >= 20, "too few originals to compare"
    return statistics.fmean(s for s, _ in shapes), statistics.fmean(d for _, d in shapes)


def test_same_seed_gives_identical_stream_and_truth():
    """Generating the same spec twice yields the same events and the same ground truth."""
    assert list(generate(SMALL)) == list(generate(SMALL))
    assert ground_truth(SMALL) == ground_truth(SMALL)


def test_different_seed_gives_different_stream():
    """Another seed yields another stream."""
    other = StreamSpec(events=SMALL.events, seed=SMALL.seed + 1, rings=1, bursts=1)
    assert list(generate(SMALL)) != list(generate(other))


def test_stream_has_exactly_the_requested_number_of_events(stream):
    """The generator stops after `events` tweets."""
    assert len(stream) == MEDIUM.events


def test_events_are_time_ordered_with_unique_ids(stream):
    """Event times never decrease and no id repeats."""
    assert all(a.at <= b.at for a, b in pairwise(stream))
    assert len({e.id for e in stream}) == len(stream)
    assert all(e.at.tzinfo is not None and e.at.utcoffset().total_seconds() == 0 for e in stream)


def test_references_point_at_earlier_events(stream):
    """Every retweet_of, parent_id, reply_to and quote_of names a tweet already in the stream."""
    seen: set[str] = set()
    for event in stream:
        for ref in (event.retweet_of, event.parent_id, event.reply_to, event.quote_of):
            assert ref is None or ref in seen
        seen.add(event.id)


def test_parent_is_the_original_or_a_retweet_of_it(stream, by_id):
    """A retweet's parent_id is its original or an earlier retweet of that same original."""
    for event in (e for e in stream if e.kind is Kind.RETWEET):
        parent = by_id[event.parent_id]
        assert event.retweet_of in {parent.id, parent.retweet_of}
        assert by_id[event.retweet_of].kind is Kind.ORIGINAL


def test_retweets_copy_their_original(stream, by_id):
    """A retweet names the original's author, says "RT @name: text" and keeps its hashtags."""
    for event in (e for e in stream if e.kind is Kind.RETWEET):
        original = by_id[event.retweet_of]
        assert event.retweet_of_user == original.user_id != event.user_id
        assert event.text == f"RT @{original.user_name}: {original.text}"
        assert event.hashtags == original.hashtags


def test_users_do_not_retweet_an_original_twice(stream):
    """No user retweets the same original more than once."""
    pairs = [(e.user_id, e.retweet_of) for e in stream if e.kind is Kind.RETWEET]
    assert len(pairs) == len(set(pairs))


def test_replies_and_quotes_name_their_target_author(stream, by_id):
    """reply_to_user and quote_of_user are the targets' authors, and a reply mentions them."""
    for event in stream:
        if event.reply_to is not None:
            assert event.reply_to_user == by_id[event.reply_to].user_id
            assert event.reply_to_user in event.mentions
        if event.quote_of is not None:
            assert event.quote_of_user == by_id[event.quote_of].user_id


def test_every_user_has_a_stable_name_and_follower_count(stream):
    """All tweets by one user carry the same user_name and followers."""
    profiles = defaultdict(set)
    for event in stream:
        profiles[event.user_id].add((event.user_name, event.followers))
    assert all(len(p) == 1 for p in profiles.values())


def test_text_carries_the_hashtags(stream):
    """Extracting hashtags from the text by the twitter-text rules gives the event's hashtags."""
    assert all(hashtag_keys(None, e.text) == e.hashtags for e in stream)
    assert sum(bool(e.hashtags) for e in stream) > 0.8 * len(stream)


def test_hashtags_come_from_the_author_community_or_the_shared_set(stream, truth):
    """A non-retweet's tags are mostly its author's community's, otherwise shared ones."""
    own = shared = 0
    for event in (e for e in stream if e.kind is not Kind.RETWEET):
        community = set(truth["community_hashtags"][truth["user_community"][event.user_id]])
        own += sum(t in community for t in event.hashtags)
        shared += sum(t in truth["shared_hashtags"] for t in event.hashtags)
        assert all(t in community or t in truth["shared_hashtags"] for t in event.hashtags)
    assert own > 3 * shared > 0


def test_influencer_cascades_are_larger_and_deeper_than_celebrity_cascades(
    stream,
    truth,
    cascades,
):
    """Influencers' originals spread wider and over more generations than celebrities'."""
    influencer_size, influencer_depth = cascade_stats(cascades, stream, set(truth["influencers"]))
    celebrity_size, celebrity_depth = cascade_stats(cascades, stream, set(truth["celebrities"]))
    assert influencer_size > 5 * celebrity_size
    assert influencer_depth > 2 + celebrity_depth
    assert celebrity_depth < 1


def test_influencer_cascades_often_reach_depth_four(stream, truth, cascades):
    """Influencers' cascades are deep: a third or more reach depth 4 (retweets of retweets)."""
    depths = [
        cascades[e.id][1]
        for e in stream
        if e.kind is Kind.ORIGINAL and e.user_id in set(truth["influencers"])
    ]
    assert sum(d >= 4 for d in depths) > len(depths) / 3


def test_ordinary_cascades_are_shallow_stars(stream, truth, cascades):
    """Ordinary originals' retweets mostly hang directly under the original."""
    special = set(truth["influencers"]) | set(truth["celebrities"])
    ordinary = {e.id for e in stream if e.kind is Kind.ORIGINAL and e.user_id not in special}
    retweets = [e for e in stream if e.kind is Kind.RETWEET and e.retweet_of in ordinary]
    assert sum(e.parent_id == e.retweet_of for e in retweets) > 0.85 * len(retweets)
    assert statistics.fmean(cascades[root][1] for root in ordinary) < 1.5


def test_celebrities_have_the_most_followers_and_influencers_few(stream, truth):
    """Celebrities out-follow everyone; influencers sit below the median follower count."""
    followers = {e.user_id: e.followers for e in stream}
    celebrities, influencers = set(truth["celebrities"]), set(truth["influencers"])
    others = sorted(f for u, f in followers.items() if u not in celebrities | influencers)
    median = others[len(others) // 2]
    assert min(followers[u] for u in celebrities if u in followers) > others[-1]
    assert max(followers[u] for u in influencers if u in followers) < median


def test_in_community_retweet_share_is_the_spec_value(stream, truth):
    """About `in_community_retweet_share` of organic retweets stay in the author's community."""
    planted = ring_retweets(stream, truth)
    community = truth["user_community"]
    inside = [
        community[e.user_id] == community[e.retweet_of_user]
        for e in stream
        if e.kind is Kind.RETWEET and e.id not in planted
    ]
    assert statistics.fmean(inside) == pytest.approx(MEDIUM.in_community_retweet_share, abs=0.02)


def test_kind_shares_are_about_the_spec_values(stream):
    """Retweets, replies and quotes make up about their shares of the stream."""
    shares = {kind: sum(e.kind is kind for e in stream) / len(stream) for kind in Kind}
    assert shares[Kind.RETWEET] == pytest.approx(MEDIUM.retweet_share, abs=0.05)
    assert shares[Kind.REPLY] == pytest.approx(MEDIUM.reply_share, abs=0.02)
    assert shares[Kind.QUOTE] == pytest.approx(MEDIUM.quote_share, abs=0.02)


def test_burst_hashtag_rate_jumps_inside_its_interval(stream, truth):
    """A bursting hashtag's rate inside its interval is several times its rate outside."""
    span = (stream[-1].at - stream[0].at).total_seconds()
    assert len(truth["bursts"]) == MEDIUM.bursts
    for burst in truth["bursts"]:
        start, end = datetime.fromisoformat(burst["start"]), datetime.fromisoformat(burst["end"])
        assert stream[0].at < start < end < stream[-1].at
        tagged = [e.at for e in stream if burst["hashtag"] in e.hashtags]
        inside = sum(start <= at < end for at in tagged)
        length = (end - start).total_seconds()
        rate_inside = inside / length
        rate_outside = (len(tagged) - inside) / (span - length)
        assert rate_inside > 5 * rate_outside


def test_rings_co_retweet_each_target_within_seconds(stream, truth, by_id):
    """Every ring member retweets each of its ring's 10+ targets within five seconds."""
    assert len(truth["rings"]) == MEDIUM.rings
    for members, client, targets in zip(
        truth["rings"],
        truth["ring_clients"],
        truth["ring_targets"],
        strict=True,
    ):
        assert len(members) == MEDIUM.ring_size
        assert len(targets) >= 10
        for target in targets:
            assert by_id[target].user_id == client
            times = [e.at for e in stream if e.retweet_of == target and e.user_id in members]
            assert len(times) == len(members)
            assert (max(times) - min(times)).total_seconds() <= 5


def test_ground_truth_is_plain_json_covering_every_author(stream, truth):
    """The truth survives a JSON round trip and knows the community of every author."""
    assert json.loads(json.dumps(truth)) == truth
    assert {e.user_id for e in stream} <= set(truth["user_community"])
    assert truth["spec"]["events"] == MEDIUM.events
    assert truth["spec"]["users"] == MEDIUM.users == 1_000


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_written_stream_round_trips_through_parse_message(tmp_path, suffix):
    """Each written line parses back to exactly the generated event; the truth file matches."""
    out, truth_path = tmp_path / f"stream{suffix}", tmp_path / "truth.json"
    calls: list[int] = []
    count = write_stream(SMALL, out, truth_path, progress=calls.append, progress_every=1_000)
    opener = gzip.open if suffix.endswith(".gz") else open
    with opener(out, "rb") as lines:
        parsed = [parse_message(line) for line in lines]
    assert count == SMALL.events
    assert parsed == [[event] for event in generate(SMALL)]
    assert json.loads(truth_path.read_bytes()) == json.loads(json.dumps(ground_truth(SMALL)))
    assert calls == [1_000, 2_000, 3_000]


def test_memory_stays_flat_as_the_stream_grows():
    """Peak memory after 200,000 events is within 1.5x of the peak after the first 50,000."""
    spec = StreamSpec(events=200_000, seed=3, users=2_000, rings=1, bursts=1)
    peaks = {}
    tracemalloc.start()
    try:
        for count, _ in enumerate(generate(spec), start=1):
            if count in {50_000, 200_000}:
                peaks[count] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peaks[200_000] < 1.5 * peaks[50_000]


def test_users_default_scales_with_events():
    """Without `users`, the population is max(200, events // 20)."""
    assert StreamSpec(events=100, seed=0).users == 200
    assert StreamSpec(events=1_000_000, seed=0).users == 50_000


@pytest.mark.parametrize(
    "bad",
    [
        {"events": -1},
        {"rate_per_second": 0},
        {"retweet_share": 0.8, "reply_share": 0.2},
        {"in_community_retweet_share": 1.5},
        {"users": 50, "rings": 5},
        {"bursts": 13},
        {"start": datetime(2024, 1, 1)},  # noqa: DTZ001 - the naive time under test
    ],
)
def test_spec_rejects_settings_it_cannot_honour(bad):
    """Impossible settings fail at construction with ValueError."""
    with pytest.raises(ValueError, match="must"):
        StreamSpec(**{"events": 100, "seed": 0, **bad})


def test_generation_is_lazy():
    """Taking a few events from a huge spec returns at once: nothing is built ahead."""
    first = list(islice(generate(StreamSpec(events=10**9, seed=1, users=500)), 5))
    assert len(first) == 5
