"""Checks before a worker starts: what would stop it later, said now in one line.

Faust meets these problems only once the worker runs, and reports them as a traceback after
retrying for half a minute (no broker), as a crash loop (mismatched partitions) or an OSError (a
taken web port). `preflight` finds them first, and reads the follower graph the worker will use.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from pathlib import Path

from agents.cli.base import UsageError
from agents.followers import FollowerFileError, read_follower_graph
from agents.kafka_admin import partition_counts
from agents.kafka_security import kafka_python_options
from agents.settings import Settings


def preflight(settings: Settings, argv: list[str]) -> Mapping[str, frozenset[str]] | None:
    """The follower graph the worker reads (`RESONANCE_FOLLOWERS`), or None; raise UsageError,
    naming the fix, when the worker could not run: an unreadable follower graph, a taken web port,
    no broker, or input topics with another partition count.
    """
    followers = None
    if settings.followers:
        try:
            followers = read_follower_graph(Path(settings.followers))
        except FollowerFileError as error:
            raise UsageError(f"RESONANCE_FOLLOWERS: {error}") from None
    problem = port_taken(settings, argv) or partition_mismatch(settings)
    if problem:
        raise UsageError(problem)
    return followers


def partition_mismatch(settings: Settings) -> str | None:
    """Why a worker cannot start on these topics, or None. Every stage's topics and checkpoint
    tables are created with `RESONANCE_PARTITIONS` partitions, and a stage's input partition N
    keeps its checkpoint in partition N of its table: an input topic that already exists with
    another count (the user's own, or one left by a run with another setting) cannot work.
    """
    keyed = [settings.input_topic, f"{settings.app_id}-events", f"{settings.app_id}-hashtag-uses"]
    counts = (
        partition_counts(settings.bootstrap_servers, keyed, security=kafka_python_options(settings)) or {}
    )
    wrong = {topic: count for topic, count in counts.items() if count != settings.partitions}
    if not wrong:
        return None
    found = ", ".join(f"{topic} has {count}" for topic, count in wrong.items())
    return (
        f"RESONANCE_PARTITIONS is {settings.partitions} but {found} partitions: set "
        f"RESONANCE_PARTITIONS={next(iter(wrong.values()))}, or use another RESONANCE_APP_ID "
        "and RESONANCE_INPUT_TOPIC"
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
