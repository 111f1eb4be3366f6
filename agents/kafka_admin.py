"""Small Kafka administration the tools need (kafka-python)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from agents.cli.base import kafka_unreachable


@contextlib.contextmanager
def connected(bootstrap: str, **options: int) -> Iterator[KafkaAdminClient]:
    """An admin client of the cluster at `bootstrap`, closed at the end; a one-line usage error
    naming the fix when the cluster does not answer.
    """
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="resonance-admin", **options)
    except KafkaError as error:
        raise kafka_unreachable(bootstrap, error) from None
    try:
        yield admin
    finally:
        admin.close()


def ensure_topics(bootstrap: str, names: list[str], *, partitions: int) -> None:
    """Create the topics that do not exist yet, with `partitions` partitions each."""
    with connected(bootstrap) as admin:
        missing = [n for n in names if n not in set(admin.list_topics())]
        if missing:
            # created concurrently by someone else: what we wanted
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(n, partitions, 1) for n in missing])


def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int] | None:
    """The partition count of each of `names` that exists; None when the broker answers but the
    request fails. Raises UsageError, naming the fix, when no broker answers at `bootstrap`.
    """
    with connected(bootstrap, request_timeout_ms=5_000, bootstrap_timeout_ms=5_000) as admin:
        try:
            existing = [n for n in names if n in set(admin.list_topics())]
            described = admin.describe_topics(existing) if existing else []
            return {t["name"]: len(t["partitions"]) for t in described}
        # Failing: the worker meets and reports it itself. KeyError: a metadata shape this
        # kafka-python does not give.
        except (KafkaError, KeyError):
            return None


def delete_topics(bootstrap: str, wanted: Callable[[str], bool], *, wait_seconds: float = 30) -> list[str]:
    """Delete every topic whose name `wanted` accepts, and wait until the broker no longer lists
    them (so one of the same name can be created again); the names deleted, sorted.
    """
    with connected(bootstrap) as admin:
        doomed = sorted(name for name in admin.list_topics() if wanted(name))
        if doomed:
            admin.delete_topics(doomed)
        deadline = time.monotonic() + wait_seconds
        while set(doomed) & set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return doomed
