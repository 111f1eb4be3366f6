"""Stage 2: count each tweet once, then route it on: its hashtag uses to the workers owning each
tag, and the tweet itself to the conversation stage.

Events arrive keyed by cascade (`TweetEvent.cascade_key`: a retweet by the tweet it retweets,
anything else by its own id), so a cascade's tweets keep their order and every copy of a tweet
lands on the same partition, where the per-partition memory of seen ids
(`streams.dedup.SeenIds`) finds every repeat. That memory is checkpointed (`agents.checkpoints`),
so a restarted worker still knows every tweet it counted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import faust
import orjson

from agents.checkpoints import Checkpointed, source_header
from agents.instruments import Instruments
from agents.topics import Topics
from models.records import HashtagUse
from models.wire.native import parse_native
from streams.dedup import SeenIds


def register(
    app: faust.App, *, topics: Topics, instruments: Instruments, horizon: timedelta, checkpoint_seconds: float
) -> Any:
    """Add the accept agent to `app`; `horizon` is how long ids are remembered in event time."""
    seen: Checkpointed[SeenIds] = Checkpointed(
        app,
        "accept",
        topic=topics.events.get_topic_name(),
        partitions=topics.events.partitions,
        create=lambda: SeenIds(horizon),
        dump=SeenIds.snapshot,
        load=lambda data: SeenIds.restore(horizon, data),
        every_seconds=checkpoint_seconds,
        instruments=instruments,
    )

    @app.agent(topics.events, name="accept")
    async def accept(stream: Any) -> None:
        async for event in stream.noack().events():
            message = event.message
            if seen.first_time(event):
                tweet = parse_native(orjson.loads(event.value))
                if seen.state(message.partition).first_time(tweet.id, tweet.at):
                    instruments.accepted.inc()
                    sends = [(topics.conversation, event.key, event.value)]
                    sends += [
                        (
                            topics.hashtag_uses,
                            tag.encode(),
                            HashtagUse(tag=tag, user_id=tweet.user_id, at=tweet.at).to_bytes(),
                        )
                        for tag in tweet.hashtags
                    ]
                    for index, (topic, key, value) in enumerate(sends):
                        await topic.send(
                            key=key,
                            value=value,
                            headers=[source_header(message.partition, message.offset, index)],
                        )
                else:
                    instruments.duplicates.inc()
            await seen.processed(stream, event)

    return accept
