"""Stage 2: count each tweet once, then route it on: its hashtag uses to the partitions owning each
tag, and the tweet itself to the conversation stage, both in batches.

Events arrive in the partition of their cascade (`TweetEvent.cascade_key`: a retweet by the tweet
it retweets, anything else by its own id), so a cascade's tweets keep their order and every copy
of a tweet lands on the same partition, where the per-partition memory of seen ids
(`streams.dedup.SeenIds`) finds every repeat. That memory is checkpointed (`agents.checkpoints`),
so a restarted worker still knows every tweet it counted.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import faust

from agents import stage
from agents.checkpoints import Checkpointed, Codec
from agents.instruments import Instruments
from agents.outbox import Outbox
from agents.snapshots import Store
from agents.topics import Topics
from models.records import HashtagUse
from models.wire.batch import decode_events, encode_events, encode_uses, partition_for
from models.wire.native import routing
from streams.dedup import SeenIds


def register(  # noqa: PLR0913 - keyword-only wiring, one parameter per collaborator
    app: faust.App,
    *,
    topics: Topics,
    instruments: Instruments,
    horizon: timedelta,
    store: Store,
    checkpoint_seconds: float,
) -> Any:
    """Add the accept agent to `app`; `horizon` is how long ids are remembered in event time,
    and `store` keeps their snapshots.
    """
    seen: Checkpointed[SeenIds] = Checkpointed(
        app,
        store.stage,
        topic=topics.events.get_topic_name(),
        partitions=topics.events.partitions,
        codec=Codec.forked(SeenIds, horizon, store),
        every_seconds=checkpoint_seconds,
        instruments=instruments,
    )
    conversation: Outbox[dict[str, Any]] = Outbox(topics.conversation, encode_events)
    uses: Outbox[HashtagUse] = Outbox(topics.hashtag_uses, encode_uses)
    tag_partitions = topics.hashtag_uses.partitions

    async def accept_one(event: Any) -> None:
        message = event.message
        ids = seen.state(message.partition)
        index = count()  # each item sent gets the next index of this message's outputs
        accepted = duplicates = 0
        for native in seen.fresh(message.partition, decode_events(event.value)):
            tweet = routing(native)  # ingest validated it
            if not ids.first_time(tweet.id, tweet.at):
                duplicates += 1
                continue
            accepted += 1
            here = (message.partition, message.offset)
            conversation.add(0, tweet.cascade_key, (*here, next(index)), native)
            for tag in tweet.hashtags:
                use = HashtagUse(tag=tag, user_id=tweet.user_id, at=tweet.at)
                uses.add(partition_for(tag, tag_partitions), tag, (*here, next(index)), use)
        instruments.accepted.inc(accepted)
        instruments.duplicates.inc(duplicates)

    @app.agent(topics.events, name="accept")
    async def accept(stream: Any) -> None:
        await stage.run(stream, checkpoints=seen, outboxes=[conversation, uses], process=accept_one)

    return accept
