"""Checks before a worker starts: what would stop it later, said now in one line.

Faust meets these problems only once the worker runs, and reports them as a traceback after
retrying for half a minute (no broker), as a crash loop (mismatched partitions) or an OSError (a
taken web port). `preflight` finds them first, and reads the follower graph the worker will use.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from agents.errors import SetupError
from agents.followers import FollowerFileError, read_follower_graph
from agents.kafka_admin import ensure_topics, partition_counts
from agents.kafka_security import kafka_python_options
from agents.settings import Settings
from agents.snapshots import Store
from agents.topics import read_topics, snapshot_stages


def preflight(settings: Settings, argv: list[str]) -> None:
    """Raise SetupError, naming the fix, when the worker could not run: an unreadable follower
    graph (`RESONANCE_FOLLOWERS`), pages exposed beyond this machine without a token, a taken web
    port, no broker, or input topics with another partition count; then create its topics.
    """
    if settings.followers:
        try:
            read_follower_graph(Path(settings.followers))
        except FollowerFileError as error:
            raise SetupError(f"RESONANCE_FOLLOWERS: {error}") from None
    problem = (
        exposed_without_token(settings, argv) or port_taken(settings, argv) or partition_mismatch(settings)
    )
    if problem:
        raise SetupError(problem)
    create_topics(settings)


def create_topics(settings: Settings) -> None:
    """Create the topics the worker reads and writes that do not exist yet. Faust creates them
    too, but a consumer that joins its group before they exist ignores them until its next
    metadata refresh (minutes): a stage would sit idle with its input piling up. And Faust stops
    the worker when the broker refuses one (a freshly started broker is fenced for a few seconds),
    where `ensure_topics` waits for it.
    """
    outputs = (settings.dead_letter_topic, settings.metrics_topic, settings.alerts_topic)
    by_count: dict[int, list[str]] = {settings.partitions: list(outputs)}
    for topic, partitions in read_topics(settings).items():
        by_count.setdefault(partitions, []).append(topic)
    for partitions, topics in by_count.items():
        ensure_topics(
            settings.bootstrap_servers, topics, partitions=partitions, security=kafka_python_options(settings)
        )
    for stage, partitions in snapshot_stages(settings).items():
        Store(settings, stage).create(partitions)


def partition_mismatch(settings: Settings) -> str | None:
    """Why a worker cannot start on these topics, or None. Every stage's topics and checkpoint
    tables are created with `RESONANCE_PARTITIONS` partitions, and a stage's input partition N
    keeps its checkpoint in partition N of its table: an input topic that already exists with
    another count (the user's own, or one left by a run with another setting) cannot work.
    """
    expected = read_topics(settings)
    security = kafka_python_options(settings)
    counts = partition_counts(settings.bootstrap_servers, list(expected), security=security) or {}
    wrong = {topic: count for topic, count in counts.items() if count != expected[topic]}
    if not wrong:
        return None
    found = ", ".join(f"{topic} has {count}" for topic, count in wrong.items())
    return (
        f"RESONANCE_PARTITIONS is {settings.partitions} but {found} partitions: set "
        f"RESONANCE_PARTITIONS={next(iter(wrong.values()))}, or use another RESONANCE_APP_ID "
        "and RESONANCE_INPUT_TOPIC"
    )


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine's loopback interface only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def exposed_without_token(settings: Settings, argv: list[str]) -> str | None:
    """Why the worker must not serve its pages where it would listen, or None: an address other
    machines can reach (`RESONANCE_WEB_HOST`, or `--web-bind`/`-b`) needs `RESONANCE_WEB_TOKEN`.
    """
    host = settings.web_host
    for flag in ("-b", "--web-bind"):
        if flag in argv[:-1]:
            host = argv[argv.index(flag) + 1]
    host = next((arg.split("=", 1)[1] for arg in argv if arg.startswith("--web-bind=")), host)
    if settings.web_token or "--without-web" in argv or is_loopback(host):
        return None
    return (
        f"the web server would listen on {host}, which other machines can reach: set "
        "RESONANCE_WEB_TOKEN to a secret (asked by /dashboard/ and /metrics), or RESONANCE_WEB_HOST=127.0.0.1"
    )


def port_taken(settings: Settings, argv: list[str]) -> str | None:
    """Why the worker's web server cannot listen where the settings say, or None (also when the
    command line sets its own --web-port or --web-bind, or turns the web server off).
    """
    if {"-p", "--web-port", "-b", "--web-bind", "--without-web"} & set(argv):
        return None
    with socket.socket(socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET) as probe:
        # As the web server binds: connections of a worker just stopped (TIME_WAIT) do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.web_host, settings.web_port))
        except OSError as error:
            return (
                f"cannot listen on {settings.web_host}:{settings.web_port} ({error.strerror}): another "
                "worker? Set RESONANCE_WEB_PORT to a free port"
            )
    return None
