"""Small Kafka administration the tools need (kafka-python)."""

from __future__ import annotations

import contextlib

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from agents.cli.base import kafka_unreachable


def ensure_topics(bootstrap: str, names: list[str], *, partitions: int) -> None:
    """Create the topics that do not exist yet, with `partitions` partitions each."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="resonance-admin")
    except KafkaError as error:
        raise kafka_unreachable(bootstrap, error) from None
    try:
        missing = [n for n in names if n not in set(admin.list_topics())]
        if missing:
            # created concurrently by someone else: what we wanted
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(n, partitions, 1) for n in missing])
    finally:
        admin.close()
