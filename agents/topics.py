"""The Kafka topics of one deployment, declared once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from agents.settings import Settings

CONVERSATION_PARTITIONS = 1  # the conversation stage's metrics are global: one analyzer sees every tweet


def read_topics(settings: Settings) -> dict[str, int]:
    """Every topic a worker reads, with its partition count: the input and the internal topics
    between the stages (prefixed by the app id; the conversation stage's has one partition).
    """
    return {
        settings.input_topic: settings.partitions,
        f"{settings.app_id}-events": settings.partitions,
        f"{settings.app_id}-hashtag-uses": settings.partitions,
        f"{settings.app_id}-conversation": CONVERSATION_PARTITIONS,
    }


def snapshot_stages(settings: Settings) -> dict[str, int]:
    """The stages whose state is snapshotted apart (`agents.snapshots`), by the name of their
    checkpoint table, with their input's partition count.
    """
    return {
        "accept": settings.partitions,
        "hashtag-window": settings.partitions,
        "conversation": CONVERSATION_PARTITIONS,
    }


@dataclass(frozen=True, slots=True)
class Topics:
    """Input, dead letters, metric records, alerts, and the internal re-keyed streams."""

    tweets: Any
    dead_letters: Any
    metrics: Any
    alerts: Any
    # The internal topics carry batches (`models.wire.batch`), each item in the partition that owns
    # its key (`partition_for`):
    events: Any  # accepted-or-duplicate candidate events, native JSON, by cascade
    hashtag_uses: Any  # (tag, user, time) of each hashtag of each accepted tweet, by hashtag
    conversation: Any  # accepted tweets in one partition, for the global conversation metrics

    async def create_outputs(self) -> None:
        """Create the topics the app only writes to (the ones it reads are created by Faust)."""
        for topic in (self.dead_letters, self.metrics, self.alerts):
            await topic.maybe_declare()

    @classmethod
    def declare(cls, app: faust.App, settings: Settings) -> Topics:
        """Declare every topic on `app`; the app creates the ones it owns with the set partitions."""

        # Every topic is declared `internal`, so the worker creates any that is missing when it
        # starts: a worker started before the first replay must still see the input topic.
        def raw(name: str, partitions: int = settings.partitions) -> Any:
            return app.topic(
                name,
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=partitions,
                internal=True,
            )

        tweets, events, hashtag_uses, conversation = (raw(*read) for read in read_topics(settings).items())
        return cls(
            tweets=tweets,
            dead_letters=raw(settings.dead_letter_topic),
            metrics=raw(settings.metrics_topic),
            alerts=raw(settings.alerts_topic),
            events=events,
            hashtag_uses=hashtag_uses,
            conversation=conversation,
        )
