"""What Bluesky adds to the core: likes as engagement received, and cascades whose parents the
data names (`via`) reported as observed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
import social

from models.event import TweetEvent
from models.records import CascadeRecord, InfluenceRecord, Trigger
from models.wire import parse_message
from streams.cascades.forest import CascadeForest, CascadeForestConfig
from streams.cascades.reconstruction import ReconstructionConfig
from streams.influence.tracker import Influence, InfluenceConfig

T0 = datetime(2024, 9, 9, 19, 46, tzinfo=UTC)


def _events(payloads: list[dict[str, object]]) -> list[TweetEvent]:
    return [e for p in payloads for e in parse_message(orjson.dumps(p)) if isinstance(e, TweetEvent)]


def test_a_like_credits_the_liked_author_with_a_like_and_nothing_else() -> None:
    """A like credits the liked author's `likes_received`, and creates no retweet edge.

    Window 10 min; alice posts at 0, bob likes it at 1 and likes his own post at 2::

    minute   0    1    2  ...  10
             po   lk   lk(self)
    end=10   [------------)         alice: 1 like received; bob: none; no retweet, no edge
    """
    influence = Influence(InfluenceConfig(span=timedelta(minutes=10), lateness=timedelta(0)))
    influence.observe(TweetEvent(id="p", user_id="alice", at=T0))
    influence.observe(
        TweetEvent(id="l1", user_id="bob", at=T0 + timedelta(minutes=1), like_of="p", like_of_user="alice")
    )
    influence.observe(
        TweetEvent(id="l2", user_id="bob", at=T0 + timedelta(minutes=2), like_of="b", like_of_user="bob")
    )
    influence.advance(T0 + timedelta(minutes=10))
    records, _ = influence.records(T0 + timedelta(minutes=10), Trigger.END)
    by_user = {r.user_id: r for r in records}
    assert (by_user["alice"].likes_received, by_user["bob"].likes_received) == (1, 0)
    assert by_user["alice"].retweets_received == by_user["alice"].mentions_received == 0
    assert by_user["alice"].rank == 1  # the like is the only engagement: it decides the rank
    assert influence.active_edges() == 0


def test_likes_leave_the_window_like_any_interaction() -> None:
    """Window 10 min: a like at 1 is counted at end 10 and reverted by end 12."""
    influence = Influence(InfluenceConfig(span=timedelta(minutes=10), lateness=timedelta(0)))
    influence.observe(
        TweetEvent(id="l", user_id="bob", at=T0 + timedelta(minutes=1), like_of="p", like_of_user="alice")
    )
    influence.advance(T0 + timedelta(minutes=10))
    assert influence.records(T0, Trigger.END)[0][0].likes_received == 1
    influence.advance(T0 + timedelta(minutes=12))
    assert influence.records(T0, Trigger.END)[0] == []


def _forest() -> CascadeForest:
    return CascadeForest(CascadeForestConfig(reconstruction=ReconstructionConfig(method="deverna")))


def _record(forest: CascadeForest, events: list[TweetEvent]) -> CascadeRecord:
    for event in events:
        forest.observe(event)
    [root] = forest.grown()
    return forest.record(root, Trigger.END)


@pytest.mark.parametrize(
    ("shape", "reconstruction"),
    [
        ([None, 0, 1, 0], "observed+deverna(gamma=0.5,alpha=2.0)"),  # the first repost names no via
        ([None], "deverna(gamma=0.5,alpha=2.0)"),  # only a repost without via: inferred
    ],
    ids=["some-via", "no-via"],
)
def test_cascade_records_say_which_parents_were_inferred(
    shape: list[int | None], reconstruction: str
) -> None:
    """A cascade some of whose reposts name their parent (`via`) is reported `observed+<method>`;
    one with none, by the method alone.
    """
    assert (
        _record(_forest(), _events(social.via_cascade("root", social.BASE_US, shape))).reconstruction
        == reconstruction
    )


def test_a_cascade_whose_every_parent_is_named_is_observed_and_exact() -> None:
    """Reposts that all name their parent build exactly the tree they name, said `observed`.

    Each names it by `via`, or the post itself as `via`, whatever the method::

        post <- r0 <- r1 <- r2
                   <- r3
    """
    payloads = social.via_cascade("root", social.BASE_US, [None, 0, 1, 0])
    original = social.at_uri(social.user(0), "app.bsky.feed.post", "root")
    payloads[1]["commit"]["record"]["via"] = {"uri": original, "cid": "bafy"}  # type: ignore[index]
    forest = _forest()
    record = _record(forest, _events(payloads))
    assert (record.reconstruction, record.size, record.depth) == ("observed", 5, 3)
    tree = forest.tree_record(original, Trigger.END, at=T0)
    names = [node.rsplit("/", 1)[1] for node in tree.nodes]
    parents = dict(zip(names, [None, *(names[p] for p in tree.parents)], strict=True))
    assert parents == {
        "root": None,
        "rootr0": "root",
        "rootr1": "rootr0",
        "rootr2": "rootr1",
        "rootr3": "rootr0",
    }


def test_observed_counts_survive_a_snapshot() -> None:
    """A restored forest reports the same provenance as the one that never stopped."""
    forest = _forest()
    record = _record(forest, _events(social.via_cascade("root", social.BASE_US, [None, 0, 1])))
    restored = CascadeForest.restore(forest.config, forest.snapshot())
    assert restored.record(record.root_id, Trigger.END).reconstruction == record.reconstruction


def test_influence_records_carry_likes_received() -> None:
    """The influence record has a `likes_received` count, 0 by default (Twitter has no likes)."""
    assert "likes_received" in InfluenceRecord.__dataclass_fields__
