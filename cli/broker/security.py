"""A secured local broker: one SASL_SSL client listener (TLS, then SCRAM-SHA-512 user and password).

Production clusters require authentication and encryption; this lets the project's own broker do
the same, so that Resonance's clients are tested against one. The broker's key and certificate
come in a PKCS12 keystore, the CA that signed it in a PEM file (the broker's truststore for its
own inter-broker connections, and the clients' CA file). SCRAM users are created when the storage
is formatted (`kafka-storage format --add-scram`, the KRaft way: there is no ZooKeeper to hold
them), so they exist before the broker first listens. The controller listener stays plaintext on
127.0.0.1: only the broker itself talks to it.

ACLs are enforced (KRaft's StandardAuthorizer; nothing is allowed without an ACL): the broker's own
user is a super user, and so is `User:ANONYMOUS`, the principal of the plaintext controller
listener, which only the broker reaches (clients always authenticate on the SASL_SSL listener).
Every other user needs ACLs, as a production cluster's would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MECHANISM = "SCRAM-SHA-512"
LISTENER = "SASL_SSL"
# `--add-scram`'s syntax splits on these, and the JAAS line quotes with ".
_SAFE = re.compile(r"[A-Za-z0-9._@+-]+")


@dataclass(frozen=True)
class BrokerSecurity:
    """The SASL_SSL listener's key material and SCRAM users.

    ``users`` maps each user to its password; the broker authenticates to itself as
    ``broker_user``, which must be one of them.
    """

    keystore: Path
    keystore_password: str
    ca_file: Path
    users: Mapping[str, str]
    broker_user: str

    def __post_init__(self) -> None:
        """Refuse users the broker could not be given: unknown broker user, unsafe characters."""
        if self.broker_user not in self.users:
            raise ValueError(f"broker_user {self.broker_user!r} is not among the users")
        for name, password in self.users.items():
            if not (_SAFE.fullmatch(name) and _SAFE.fullmatch(password)):
                raise ValueError(f"user {name!r}: use letters, digits and . _ @ + - in names and passwords")

    def server_properties(self) -> str:
        """The lines appended to server.properties for the listener."""
        password = self.users[self.broker_user]
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{self.broker_user}" password="{password}";'
        )
        return "\n".join(
            (
                "# SASL_SSL (cli.broker.security): TLS, then SCRAM-SHA-512.",
                f"sasl.enabled.mechanisms={MECHANISM}",
                f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
                f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={jaas}",
                "ssl.keystore.type=PKCS12",
                f"ssl.keystore.location={self.keystore}",
                f"ssl.keystore.password={self.keystore_password}",
                f"ssl.key.password={self.keystore_password}",
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={self.ca_file}",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                f"super.users=User:{self.broker_user};User:ANONYMOUS",
                "allow.everyone.if.no.acl.found=false",
                "",
            )
        )

    def format_arguments(self) -> list[str]:
        """`kafka-storage format` arguments that create every SCRAM user."""
        arguments: list[str] = []
        for name, password in self.users.items():
            arguments += ["--add-scram", f"{MECHANISM}=[name={name},password={password}]"]
        return arguments

    def client_options(self, user: str | None = None) -> dict[str, Any]:
        """kafka-python options of a client authenticating as ``user`` (default: the broker's)."""
        name = self.broker_user if user is None else user
        return {
            "security_protocol": LISTENER,
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": name,
            "sasl_plain_password": self.users[name],
            "ssl_cafile": str(self.ca_file),
        }
