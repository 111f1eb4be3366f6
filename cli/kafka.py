"""`resonance kafka up|down|status|fetch`: the project's own local Kafka broker."""

from __future__ import annotations

from typing import Any

import click
import faust
from faust.cli import argument, option
from kafka.errors import KafkaError

from agents.errors import SetupError
from agents.kafka_admin import connected
from agents.kafka_security import kafka_python_options
from agents.settings import Settings
from cli.base import NotRunning, PlainCommand, UsageError, say
from cli.broker import BrokerError, LocalKafka

PROBE_TIMEOUT_MS = 5_000


def local_broker(settings: Settings) -> LocalKafka:
    """The local broker instance the settings point at (port from the bootstrap address)."""
    port = int(settings.bootstrap_servers.rsplit(":", 1)[1])
    return LocalKafka(port=port, controller_port=port + 1, partitions=settings.partitions, progress=say)


def register(app: faust.App, settings: Settings) -> None:
    """Add the `kafka` command to `app`."""

    @app.command(
        argument("action", type=click.Choice(["up", "down", "status", "fetch"])),
        option("--wait", default=90.0, help="Seconds to wait for the broker to answer."),
        base=PlainCommand,
        name="kafka",
    )
    async def kafka(self: Any, action: str, wait: float) -> None:
        """Manage the local Apache Kafka broker (KRaft, 127.0.0.1).

        fetch: download the broker's jars from Maven Central once into ~/.cache/resonance;
        up: fetch if needed, start it in the background and wait until it answers;
        down: stop it; status: say whether it runs, and exit 3 when it does not. With
        KAFKA_BOOTSTRAP_SERVERS set, that cluster is used and no local broker is managed; status
        then says whether it answers.
        """
        if settings.broker_is_external and action == "status":
            say(_external_status(settings))
            return
        if settings.broker_is_external:
            say(
                f"KAFKA_BOOTSTRAP_SERVERS={settings.bootstrap_servers}: using that cluster, "
                "no local broker to manage"
            )
            return
        broker = local_broker(settings)
        try:
            if action == "fetch":
                say(f"Kafka jars in {broker.fetch()}")
            elif action == "up":
                say(str(broker.up(wait_seconds=wait)))
            elif action == "down":
                say("stopped" if broker.down() else "was not running")
            else:
                status = broker.status()
                if not status.running:
                    raise NotRunning(str(status))
                say(str(status))
        except BrokerError as error:
            raise UsageError(str(error)) from None


def _external_status(settings: Settings) -> str:
    """One line saying that the configured cluster answers; raise NotRunning when it does not."""
    bootstrap = settings.bootstrap_servers
    try:
        with connected(
            bootstrap,
            security=kafka_python_options(settings),
            request_timeout_ms=PROBE_TIMEOUT_MS,
            bootstrap_timeout_ms=PROBE_TIMEOUT_MS,
        ) as admin:
            brokers = admin.describe_cluster().get("brokers") or []
    except SetupError as error:
        raise NotRunning(str(error)) from None
    except KafkaError as error:
        raise NotRunning(f"Kafka at {bootstrap} does not answer ({error})") from None
    return f"Kafka at {bootstrap} answers ({len(brokers)} broker(s)); KAFKA_BOOTSTRAP_SERVERS names it"
