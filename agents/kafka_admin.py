"""Small Kafka administration the tools need (kafka-python).

Every function takes the cluster's `security` options (`agents.kafka_security.kafka_python_options`,
none for PLAINTEXT).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import InvalidReplicationFactorError, KafkaError, TopicAlreadyExistsError

from agents.errors import SetupError, kafka_unreachable

PLAINTEXT: Mapping[str, Any] = MappingProxyType({})
"""No security options: a cluster that takes plain connections."""
BROKER_DEFAULTS: Mapping[str, str] = MappingProxyType({})
"""No topic configs: a new topic takes the broker's defaults."""
FENCED_WAIT_SECONDS = 60.0  # how long `ensure_topics` waits for a broker that cannot place replicas
FENCED_RETRY_SECONDS = 1.0


@contextlib.contextmanager
def connected(
    bootstrap: str, *, security: Mapping[str, Any] = PLAINTEXT, **options: int
) -> Iterator[KafkaAdminClient]:
    """An admin client of the cluster at `bootstrap`, closed at the end; a one-line usage error
    naming the fix when the cluster does not answer.
    """
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, client_id="resonance-admin", **security, **options
        )
    except KafkaError as error:
        raise kafka_unreachable(bootstrap, error) from None
    try:
        yield admin
    finally:
        admin.close()


def assigned_consumer(
    bootstrap: str, topic: str, *, security: Mapping[str, Any] = PLAINTEXT, **options: Any
) -> tuple[KafkaConsumer, list[TopicPartition]]:
    """A consumer of every partition of `topic` (manual assignment: no group, nothing committed);
    a one-line usage error when the broker does not answer or the topic does not exist.
    """
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security, **options)
    except KafkaError as error:
        raise kafka_unreachable(bootstrap, error) from None
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        # Internal topics (Faust's changelogs and assignor, Kafka's own) are noise in a hint.
        ours = sorted(t for t in consumer.topics() if not t.startswith("__") and not _internal(t))
        consumer.close()
        more = len(ours) - _HINTED
        shown = ", ".join(ours[:_HINTED]) + (f" and {more} more" if more > 0 else "")
        raise SetupError(f"no topic {topic!r} on {bootstrap}; existing: {shown or 'none'}")
    assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    return consumer, assigned


_HINTED = 20


def _internal(topic: str) -> bool:
    return topic.endswith("-changelog") or "-__assignor-" in topic


def ensure_topics(  # noqa: PLR0913 - keyword-only options past the two the call is about
    bootstrap: str,
    names: list[str],
    *,
    partitions: int,
    security: Mapping[str, Any] = PLAINTEXT,
    configs: Mapping[str, str] = BROKER_DEFAULTS,
    wait_seconds: float = FENCED_WAIT_SECONDS,
) -> None:
    """Create the topics that do not exist yet, with `partitions` partitions each and the topic
    `configs` given (e.g. `cleanup.policy`; none: the broker's defaults). A broker that
    cannot place a replica yet (a KRaft broker is fenced until it has caught up with its
    controller, for a few seconds after a start, longer on a loaded machine) is asked again for
    up to `wait_seconds`; then a one-line SetupError says so.
    """
    deadline = time.monotonic() + wait_seconds
    with connected(bootstrap, security=security) as admin:
        while True:
            missing = [n for n in names if n not in set(admin.list_topics())]
            if not missing:
                return
            try:
                admin.create_topics(
                    [NewTopic(n, partitions, 1, topic_configs=dict(configs)) for n in missing]
                )
            except TopicAlreadyExistsError:
                return  # created concurrently by someone else: what we wanted
            except InvalidReplicationFactorError as error:
                if time.monotonic() > deadline:
                    raise SetupError(
                        f"Kafka at {bootstrap} cannot create topics ({error}) after {wait_seconds:.0f} s: "
                        "check its log (a broker that stays fenced has lost its controller)"
                    ) from None
                time.sleep(FENCED_RETRY_SECONDS)
            else:
                return


def partition_counts(
    bootstrap: str, names: list[str], *, security: Mapping[str, Any] = PLAINTEXT
) -> dict[str, int] | None:
    """The partition count of each of `names` that exists; None when the broker answers but the
    request fails. Raises SetupError, naming the fix, when no broker answers at `bootstrap`.
    """
    with connected(
        bootstrap, security=security, request_timeout_ms=5_000, bootstrap_timeout_ms=5_000
    ) as admin:
        try:
            existing = [n for n in names if n in set(admin.list_topics())]
            described = admin.describe_topics(existing) if existing else []
            return {t["name"]: len(t["partitions"]) for t in described}
        # Failing: the worker meets and reports it itself. KeyError: a metadata shape this
        # kafka-python does not give.
        except (KafkaError, KeyError):
            return None


def delete_topics(
    bootstrap: str,
    wanted: Callable[[str], bool],
    *,
    wait_seconds: float = 30,
    security: Mapping[str, Any] = PLAINTEXT,
) -> list[str]:
    """Delete every topic whose name `wanted` accepts, and wait until the broker no longer lists
    them (so one of the same name can be created again); the names deleted, sorted.
    """
    with connected(bootstrap, security=security) as admin:
        doomed = sorted(name for name in admin.list_topics() if wanted(name))
        if doomed:
            admin.delete_topics(doomed)
        deadline = time.monotonic() + wait_seconds
        while set(doomed) & set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return doomed
