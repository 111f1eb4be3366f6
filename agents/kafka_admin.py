"""Small Kafka administration the tools need (kafka-python)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

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


def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int] | None:
    """The partition count of each of `names` that exists; None when the broker does not answer
    within a few seconds (the worker then reports that itself, as it retries).
    """
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, client_id="resonance-admin", request_timeout_ms=5_000
        )
    except KafkaError:
        return None
    try:
        existing = [n for n in names if n in set(admin.list_topics())]
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(existing)} if existing else {}
    except (KafkaError, KeyError):  # KeyError: a metadata shape this kafka-python does not give
        return None
    finally:
        admin.close()


def delete_topics(bootstrap: str, wanted: Callable[[str], bool], *, wait_seconds: float = 30) -> list[str]:
    """Delete every topic whose name `wanted` accepts, and wait until the broker no longer lists
    them (so one of the same name can be created again); the names deleted, sorted.
    """
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="resonance-admin")
    except KafkaError as error:
        raise kafka_unreachable(bootstrap, error) from None
    try:
        doomed = sorted(name for name in admin.list_topics() if wanted(name))
        if doomed:
            admin.delete_topics(doomed)
        deadline = time.monotonic() + wait_seconds
        while set(doomed) & set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return doomed
    finally:
        admin.close()
