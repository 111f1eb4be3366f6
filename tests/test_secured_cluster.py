"""A secured cluster (SASL_SSL, SCRAM-SHA-512): refused without credentials, end to end with them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson
import pytest
from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePattern,
    ResourceType,
)
from kafka.errors import TopicAuthorizationFailedError

from cli.broker import LocalKafka
from cli.record import RecordedMessage, read_recording
from models.wire import parse_message
from support import RESONANCE, Deployment, new_deployment, running_worker, wait_for

pytestmark = pytest.mark.kafka


def _security_env(broker: LocalKafka, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The settings that connect Resonance to `broker` as user `resonance`, password in a file."""
    assert broker.security is not None
    password_file = tmp_path / "kafka-password"
    password_file.write_text(broker.security.users["resonance"] + "\n")
    return {
        "RESONANCE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "RESONANCE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "RESONANCE_KAFKA_USER": "resonance",
        "RESONANCE_KAFKA_PASSWORD_FILE": str(password_file),
        "RESONANCE_KAFKA_CA_FILE": str(broker.security.ca_file),
    } | overrides


def _status(broker: LocalKafka, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`resonance kafka status` against `broker` with `env` added (and no other security setting)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RESONANCE_KAFKA_")}
    return subprocess.run(
        [*RESONANCE, "kafka", "status"],
        env=clean | {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "RESONANCE_CACHE_DIR": str(tmp_path)} | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


_READ, _WRITE, _CREATE = ACLOperation.READ, ACLOperation.WRITE, ACLOperation.CREATE
_DESCRIBE, _DESCRIBE_CONFIGS = ACLOperation.DESCRIBE, ACLOperation.DESCRIBE_CONFIGS


def _grant_the_readme_acls(broker: LocalKafka, deployment: Deployment) -> None:
    """As the broker's super user, give `resonance` the ACLs the README lists for the worker, and
    those it lists for the tools this test runs (replay, subscribe, record, kafka status): nothing
    else is allowed on this broker.
    """
    topic, group, cluster = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
    literal, prefixed = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED
    app = deployment.app_id
    outputs = (deployment.dead_letter_topic, deployment.metrics_topic, f"{app}.alerts")
    grants = [
        # The worker.
        *((topic, deployment.input_topic, literal, op) for op in (_READ, _DESCRIBE)),
        *((topic, name, literal, op) for name in outputs for op in (_WRITE, _DESCRIBE, _CREATE)),
        *((topic, f"{app}-", prefixed, op) for op in (_READ, _WRITE, _DESCRIBE, _CREATE, _DESCRIBE_CONFIGS)),
        *((group, app, literal, op) for op in (_READ, _DESCRIBE)),
        # The tools: replay writes (and may create) the input topic; subscribe reads the metrics
        # topic (record reads the input topic, already readable); kafka status describes the cluster.
        *((topic, deployment.input_topic, literal, op) for op in (_WRITE, _CREATE)),
        (topic, deployment.metrics_topic, literal, _READ),
        (cluster, "kafka-cluster", literal, _DESCRIBE),
    ]
    assert broker.security is not None
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, **broker.security.client_options())
    try:
        result = admin.create_acls(
            [
                ACL("User:resonance", "*", op, ACLPermissionType.ALLOW, ResourcePattern(kind, name, pattern))
                for kind, name, pattern, op in grants
            ]
        )
    finally:
        admin.close()
    assert not result["failed"], result["failed"]


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({}, id="plaintext"),
        pytest.param({"RESONANCE_KAFKA_SECURITY_PROTOCOL": "SSL"}, id="tls-without-sasl"),
        pytest.param(
            {"RESONANCE_KAFKA_PASSWORD_FILE": "", "RESONANCE_KAFKA_PASSWORD": "guess"}, id="wrong-password"
        ),
        pytest.param({"RESONANCE_KAFKA_USER": "mallory"}, id="unknown-user"),
    ],
)
def test_a_client_without_valid_credentials_is_refused(
    secured_kafka: LocalKafka, credentials: dict[str, str], tmp_path: Path
) -> None:
    """Without SASL credentials, or with wrong ones, a client cannot use the secured cluster:
    `kafka status` says it cannot reach it and exits 3.
    """
    env = _security_env(secured_kafka, tmp_path, **credentials) if credentials else {}
    if credentials.get("RESONANCE_KAFKA_SECURITY_PROTOCOL") == "SSL":
        env = {k: v for k, v in env.items() if "USER" not in k and "PASSWORD" not in k}
    result = _status(secured_kafka, env, tmp_path)
    assert result.returncode == 3, result.stderr
    assert "cannot reach Kafka" in result.stderr


def test_a_user_without_acls_is_denied(secured_kafka: LocalKafka) -> None:
    """The broker enforces ACLs: a user who authenticates but was granted nothing cannot create a
    topic (the end-to-end test below then shows the README's ACLs are enough).
    """
    assert secured_kafka.security is not None
    admin = KafkaAdminClient(
        bootstrap_servers=secured_kafka.bootstrap, **secured_kafka.security.client_options("outsider")
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            admin.create_topics([NewTopic("outsiders-topic", 1, 1)])
    finally:
        admin.close()


def test_resonance_with_credentials_works_end_to_end(secured_kafka: LocalKafka, tmp_path: Path) -> None:
    """With the security settings and only the ACLs the README lists, `kafka status` answers,
    `replay` sends tweets, the worker accepts them, and `subscribe` and `record` read its records,
    all through SASL_SSL.
    """
    env = _security_env(secured_kafka, tmp_path)
    deployment = new_deployment(secured_kafka.bootstrap, tmp_path)
    _grant_the_readme_acls(secured_kafka, deployment)
    status = _status(secured_kafka, env, tmp_path)
    assert status.returncode == 0, status.stderr
    tweets = [
        {"id": str(k), "user_id": f"u{k % 3}", "created_at": f"2024-01-01T00:00:{k:02d}Z", "text": "#secure"}
        for k in range(1, 6)
    ]
    recording = tmp_path / "tweets.jsonl"
    recording.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in tweets))
    with running_worker(deployment, tmp_path / "worker.log", **env):
        replay = deployment.run("replay", str(recording), **env)
        assert replay.returncode == 0, replay.stderr
        wait_for(
            lambda: deployment.metric("resonance_tweets_accepted_total") == len(tweets),
            seconds=90,
            what="the replayed tweets to be accepted",
        )
        subscribe = deployment.run(
            "subscribe",
            deployment.metrics_topic,
            "--kind",
            "hashtag",
            "--limit",
            "1",
            "--idle-timeout",
            "60",
            **env,
        )
        assert subscribe.returncode == 0, subscribe.stderr
        [record] = [orjson.loads(line) for line in subscribe.stdout.splitlines()]
        assert record["tag"] == "secure"
        out = tmp_path / "recorded.jsonl"
        record_run = deployment.run(
            "record", deployment.input_topic, "--out", str(out), "--idle-timeout", "10", **env
        )
        assert record_run.returncode == 0, record_run.stderr
        # replay sends tweets many to a message
        recorded = [item for _, item in read_recording(out) if isinstance(item, RecordedMessage)]
        assert sum(len(parse_message(m.value or b"")) for m in recorded) == len(tweets)
