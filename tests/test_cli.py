"""The command line teaches, and answers mistakes with one line naming the fix."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from agents.kafka_admin import ensure_topics
from support import REPO, RESONANCE, new_deployment


def resonance(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `resonance` (as `python -m cli`) to completion."""
    return subprocess.run(
        [*RESONANCE, *args], capture_output=True, text=True, timeout=60, check=False, cwd=REPO, env=env
    )


def test_help_lists_our_commands_beside_fausts() -> None:
    """`resonance --help` says what Resonance is and lists the worker and every command of ours."""
    result = resonance("--help")
    assert result.returncode == 0
    assert "who really has influence" in result.stdout
    for command in ("worker", "kafka", "replay", "subscribe", "demo", "analyze"):
        assert f"\n  {command} " in result.stdout


def test_worker_help_lists_every_setting_with_its_value_now() -> None:
    """`resonance worker --help` teaches the settings: each variable with the value it has now."""
    result = resonance("worker", "--help", env=os.environ | {"RESONANCE_WINDOW": "2h"})
    assert result.returncode == 0
    for line in ("KAFKA_BOOTSTRAP_SERVERS=", "RESONANCE_INPUT_TOPIC=tweets", "RESONANCE_WINDOW=2h"):
        assert line in result.stdout


@pytest.mark.parametrize(
    ("args", "fix"),
    [
        (("replay", "no-such-file.jsonl"), "no such file"),
        (("replay", "--speed", "-2", "README.md"), "--speed must be positive"),
        (("kafka", "sideways"), "Invalid value"),
        (("demo", "--events", "0"), "must be positive"),
        (("analyze", "tests", "--out", "x.jsonl"), "tests is a folder"),
        (("analyze", "README.md", "--out", "no-such-folder/x.jsonl"), "create it first"),
        (("analyze", "README.md", "--out", "README.md"), "is one of the inputs"),
        (("analyze", "README.md", "--out", "x.jsonl", "--every", "0s"), "not a positive duration"),
        (("analyze", "README.md", "--out", "x.jsonl", "--window", "0m"), "not a positive duration"),
        (
            ("analyze", "README.md", "--out", "x.jsonl", "--refresh", "5m", "--refresh-lag", "10m"),
            "--refresh-lag 10m is longer than --refresh 5m",
        ),
        (("subscribe", "metrics", "--kind", "cascades"), "'cascade'"),
        (("subscribe", "metrics", "--limit", "0"), "--limit must be positive"),
        (("subscribe", "metrics", "--idle-timeout", "-1"), "--idle-timeout must be positive"),
        (("subscribe", "metrics and alerts"), "not a Kafka topic name"),
        (("record", "a b", "--out", "x.jsonl"), "not a Kafka topic name"),
        (("replay", "README.md", "--topic", "my tweets"), "not a Kafka topic name"),
    ],
)
def test_bad_arguments_get_one_line_and_no_traceback(args: tuple[str, ...], fix: str) -> None:
    """A bad argument exits 2 with a short message naming the fix, never a traceback."""
    result = resonance(*args)
    assert result.returncode == 2
    assert fix in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_gets_one_line_naming_the_variable() -> None:
    """An unusable environment setting is named, with the expected form, in one line."""
    result = resonance("kafka", "status", env=os.environ | {"RESONANCE_WINDOW": "soon"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "RESONANCE_WINDOW='soon'" in result.stderr
    assert "15m" in result.stderr


@pytest.mark.parametrize(
    ("env", "fix"),
    [
        ({"RESONANCE_KAFKA_SECURITY_PROTOCOL": "TLS"}, "use PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
        ({"RESONANCE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs RESONANCE_KAFKA_USER"),
        ({"RESONANCE_KAFKA_SASL_MECHANISM": "GSSAPI"}, "RESONANCE_KAFKA_SASL_MECHANISM='GSSAPI' is invalid"),
        ({"RESONANCE_KAFKA_PASSWORD": "a", "RESONANCE_KAFKA_PASSWORD_FILE": "README.md"}, "keep one"),
        (
            {"RESONANCE_KAFKA_CA_FILE": "no-such-ca.pem"},
            "RESONANCE_KAFKA_CA_FILE='no-such-ca.pem': no such file",
        ),
    ],
)
def test_unusable_security_settings_get_one_line_naming_the_variable(env: dict[str, str], fix: str) -> None:
    """Security settings no client could use are refused at once, in one line naming the fix."""
    result = resonance("kafka", "status", env=os.environ | env)
    assert result.returncode == 2
    assert fix in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_worker_help_hides_the_kafka_password() -> None:
    """`resonance worker --help` lists the password setting without its value."""
    result = resonance("worker", "--help", env=os.environ | {"RESONANCE_KAFKA_PASSWORD": "s3cret"})
    assert result.returncode == 0
    assert "RESONANCE_KAFKA_PASSWORD=<hidden>" in result.stdout
    assert "s3cret" not in result.stdout


@pytest.mark.parametrize(
    ("env", "fix"),
    [
        # Nothing listens on port 1: the worker says so at once, instead of a traceback after 30 s.
        ({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}, "start it with `resonance kafka up`"),
        ({"RESONANCE_FOLLOWERS": "README.md"}, "set RESONANCE_RECONSTRUCTION=time"),
        ({"RESONANCE_FOLLOWERS": "no-such-file", "RESONANCE_RECONSTRUCTION": "time"}, "no-such-file"),
    ],
)
def test_a_worker_that_cannot_start_says_why_in_one_line(env: dict[str, str], fix: str) -> None:
    """No broker, or a follower graph that cannot be used: exit 2 and one line naming the fix."""
    result = resonance("worker", env=os.environ | env)
    assert result.returncode == 2
    assert fix in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_a_worker_whose_web_port_is_taken_says_so_in_one_line() -> None:
    """Another process listening on the web port: exit 2 naming the setting, not a traceback."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = resonance("worker", env=os.environ | {"RESONANCE_WEB_PORT": str(port)})
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "RESONANCE_WEB_PORT" in result.stderr


def test_kafka_commands_leave_a_configured_cluster_alone() -> None:
    """With KAFKA_BOOTSTRAP_SERVERS set, `kafka up` starts nothing and says which cluster is used."""
    result = resonance("kafka", "up", env=os.environ | {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092"})
    assert result.returncode == 0
    assert "using that cluster" in result.stderr


@pytest.mark.parametrize(
    ("env", "says"),
    [
        # A cache with no broker instance in it: the local broker has never been started there.
        ({"KAFKA_BOOTSTRAP_SERVERS": ""}, "not running"),
        # Nothing listens on port 1: a configured cluster that does not answer.
        ({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}, "cannot reach Kafka at 127.0.0.1:1"),
    ],
)
def test_kafka_status_exits_3_when_no_broker_runs(env: dict[str, str], says: str, tmp_path: Path) -> None:
    """`kafka status` exits 3 with one line when the broker does not run, so scripts can test it."""
    result = resonance("kafka", "status", env=os.environ | {"RESONANCE_CACHE_DIR": str(tmp_path)} | env)
    assert result.returncode == 3, result.stderr
    assert says in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


@pytest.mark.kafka
def test_kafka_status_exits_0_when_the_cluster_answers(kafka_bootstrap: str) -> None:
    """`kafka status` exits 0 and says so when the configured cluster answers."""
    result = resonance("kafka", "status", env=os.environ | {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    assert result.returncode == 0, result.stderr
    assert f"Kafka at {kafka_bootstrap} answers" in result.stderr


@pytest.mark.kafka
def test_a_worker_refuses_an_input_topic_with_other_partitions(kafka_bootstrap: str, tmp_path: Path) -> None:
    """An input topic that already exists with another partition count than RESONANCE_PARTITIONS
    (each stage keeps partition N's checkpoint in partition N of its table) stops the worker at
    once, with one line naming the setting to change.
    """
    deployment = new_deployment(kafka_bootstrap, tmp_path)
    ensure_topics(kafka_bootstrap, [deployment.input_topic], partitions=3)
    result = deployment.run("worker", timeout=60, RESONANCE_PARTITIONS="2")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "RESONANCE_PARTITIONS=3" in result.stderr
    assert deployment.input_topic in result.stderr
