"""A real single-node Apache Kafka (KRaft) broker for development and tests, from Maven jars.

``LocalKafka(...).up()`` fetches the broker's jars once with Maven into the user cache, formats
its storage once, starts it in the background and waits until it answers; ``down()`` stops it.
"""

from cli.broker.cache import KAFKA_VERSION, cache_root, fetch, is_fetched, lib_dir
from cli.broker.errors import BrokerError, Progress
from cli.broker.local import BrokerStatus, LocalKafka, default_home, free_ports
from cli.broker.security import BrokerSecurity

__all__ = [
    "KAFKA_VERSION",
    "BrokerError",
    "BrokerSecurity",
    "BrokerStatus",
    "LocalKafka",
    "Progress",
    "cache_root",
    "default_home",
    "fetch",
    "free_ports",
    "is_fetched",
    "lib_dir",
]
