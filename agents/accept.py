"""Stage 2: count each tweet once, then route it on: its hashtag uses to the workers owning each
tag, and the tweet itself to the conversation stage.

Events arrive keyed by tweet id, so every copy of a tweet lands on the same partition and the
per-partition memory of seen ids (`streams.dedup.SeenIds`) finds every repeat.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import faust
import orjson

from agents.instruments import Instruments
from agents.topics import Topics
from models.records import HashtagUse
from models.wire.native import parse_native
from streams.dedup import SeenIds


def register(app: faust.App, *, topics: Topics, instruments: Instruments, horizon: timedelta) -> Any:
    """Add the accept agent to `app`; `horizon` is how long ids are remembered in event time."""
    seen_by_partition: dict[int, SeenIds] = {}

    @app.agent(topics.events, name="accept")
    async def accept(stream: Any) -> None:
        async for event in stream.events():
            tweet = parse_native(orjson.loads(event.value))
            seen = seen_by_partition.setdefault(event.message.partition, SeenIds(horizon))
            if not seen.first_time(tweet.id, tweet.at):
                instruments.duplicates.inc()
                continue
            instruments.accepted.inc()
            await topics.conversation.send(key=event.key, value=event.value)
            for tag in tweet.hashtags:
                use = HashtagUse(tag=tag, user_id=tweet.user_id, at=tweet.at)
                await topics.hashtag_uses.send(key=tag.encode(), value=use.to_bytes())

    return accept
