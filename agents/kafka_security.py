"""The secured-cluster settings (`Settings.kafka_*`), translated once for each client library.

Resonance talks to Kafka through two libraries: Faust (aiokafka underneath) in the worker, and
kafka-python in the command-line tools (`replay`, `record`, `subscribe`, `demo`, `kafka status`)
and the worker's start-up checks. Each takes the same facts under other names; this module is the
one place that knows both.
"""

from __future__ import annotations

import ssl
from typing import Any

import faust
from faust.types.auth import CredentialsT

from agents.settings import Settings


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """A client TLS context that verifies the broker against the CA file (the system's CAs when
    none is set), host name included.
    """
    return ssl.create_default_context(cafile=settings.kafka_ca_file or None)


def faust_credentials(settings: Settings) -> CredentialsT | None:
    """Faust's `broker_credentials` for these settings; None for PLAINTEXT."""
    if settings.uses_sasl:
        return faust.SASLCredentials(
            username=settings.kafka_user,
            password=settings.kafka_secret(),
            ssl_context=ssl_context(settings) if settings.uses_tls else None,
            mechanism=settings.kafka_sasl_mechanism,
        )
    if settings.uses_tls:
        return faust.SSLCredentials(ssl_context(settings))
    return None


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments every kafka-python client (producer, consumer, admin) takes for these
    settings; none for PLAINTEXT, so the clients keep their defaults.
    """
    options: dict[str, Any] = {}
    if settings.kafka_security_protocol != "PLAINTEXT":
        options["security_protocol"] = settings.kafka_security_protocol
    if settings.uses_sasl:
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_user,
            "sasl_plain_password": settings.kafka_secret(),
        }
    if settings.uses_tls:
        options["ssl_context"] = ssl_context(settings)
    return options
