"""The composition root: `create_app(settings, registry)` builds the whole Faust app.

Nothing happens at import time; the command line (`cli.__main__`) calls this once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
from prometheus_client import CollectorRegistry

from agents import (
    accept,
    broker_watch,
    conversation,
    dashboard,
    flow_control,
    gc_policy,
    hashtag_window,
    ingest,
    loop_lag,
)
from agents.checkpoints import CHECKPOINT_MAX_BYTES
from agents.faust_sensors import setup_faust_sensors
from agents.instruments import Instruments
from agents.kafka_security import faust_credentials
from agents.settings import Settings, hashtag_config
from agents.snapshots import Store
from agents.topics import Topics, snapshot_stages
from agents.transport import Transport

PRODUCER_LINGER_S = 0.010
# aiokafka holds one open batch per partition and makes a send wait while a full one is drained:
# at its default of 16 KB that is about 40 cascade records per partition per produce round trip,
# and a batch between the stages (up to 900 KB, agents.outbox) never shares a request.
PRODUCER_BATCH_BYTES = 1_048_576
# The most a fetch brings per partition. Faust's consumer runs in a thread of its own, which
# holds the interpreter while it reads a fetch response, and the event loop's thread waits: at
# 64 MB per partition, most holds of a million-edge replay (100 to 350 ms) were that thread
# reading (benchmarks/README.md). A larger message (a checkpoint, up to CHECKPOINT_MAX_BYTES)
# still comes whole: the broker returns the first batch of a fetch whatever its size (KIP-74;
# tests/test_app.py reads one).
FETCH_PARTITION_BYTES = 1_048_576
HEARTBEAT_S = 3.0  # Faust's default heartbeat interval


class Worker(faust.Worker):
    """Faust's worker without its terminal spinner. To spin on every log line, the spinner sets
    the root logger to DEBUG whenever the level is WARN or above (Faust's default), so every debug
    line of aiokafka and Faust was built and then dropped by the handler: 176,000 records, about
    5 s of the event loop, for 20,000 tweets.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As Faust's worker, with no spinner."""
        super().__init__(*args, **kwargs)
        self.spinner = None


def create_app(settings: Settings, registry: CollectorRegistry) -> faust.App:
    """A Faust app wired from `settings`, exporting its metrics on `registry` at `/metrics`."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
        store="memory://",
        datadir=settings.data_dir,
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        Worker=Worker,
        # Events behind the latest checkpoint stay unacked on purpose (agents.checkpoints): at
        # shutdown, do not wait for them; they are delivered again after the restart.
        stream_wait_empty=False,
        # Checkpoints are single messages (agents.checkpoints): allow them to be large.
        producer_max_request_size=CHECKPOINT_MAX_BYTES,
        # Every stage forwards each tweet: with no linger, every send became its own produce
        # request and socket write (a fifth of the worker's CPU). 10 ms batches them, well
        # inside the one-second latency budget of a cascade record.
        producer_linger=PRODUCER_LINGER_S,
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        consumer_max_fetch_size=FETCH_PARTITION_BYTES,
        # A silent worker's partitions move to the others after `failover`; heartbeats go from
        # the consumer's own thread, at least three per session as Kafka advises.
        broker_session_timeout=settings.failover.total_seconds(),
        broker_heartbeat_interval=min(HEARTBEAT_S, settings.failover.total_seconds() / 3),
        # A secured cluster: SASL and TLS from the settings (none for PLAINTEXT).
        broker_credentials=faust_credentials(settings),
    )
    # Before anything reads the app's transport (declaring a topic does).
    app.transport = Transport(app.conf.broker_consumer, app)
    flow_control.wake_waiting_producers(app.flow_control)
    setup_faust_sensors(app, registry)
    app.task(loop_lag.watcher(registry), on_leader=False)
    gc_policy.export_pauses(registry)
    probe = broker_watch.metadata_probe(settings)
    app.task(broker_watch.watcher(registry, probe, bootstrap=settings.bootstrap_servers), on_leader=False)
    topics = Topics.declare(app, settings)
    app.task(topics.create_outputs, on_leader=False)
    instruments = Instruments.create(registry, top_n=settings.top_n)
    dashboard.register(app, settings=settings, instruments=instruments)
    ingest.register(
        app,
        topics=topics,
        instruments=instruments,
        max_message_bytes=settings.max_message_bytes,
        clock_skew=settings.clock_skew,
        checkpoint_seconds=settings.checkpoint_every.total_seconds(),
    )
    stores = {stage: Store(settings, stage) for stage in snapshot_stages(settings)}
    accept.register(
        app,
        topics=topics,
        instruments=instruments,
        horizon=settings.window + settings.lateness,
        store=stores["accept"],
        checkpoint_seconds=settings.checkpoint_every.total_seconds(),
    )
    hashtag_window.register(
        app,
        topics=topics,
        instruments=instruments,
        config=hashtag_config(settings),
        alerts=settings.alerts(),
        store=stores["hashtag-window"],
        idle_seconds=settings.idle_flush.total_seconds(),
        checkpoint_seconds=settings.checkpoint_every.total_seconds(),
    )
    conversation.register(
        app,
        topics=topics,
        instruments=instruments,
        store=stores["conversation"],
        idle_seconds=settings.idle_flush.total_seconds(),
        checkpoint_seconds=settings.checkpoint_every.total_seconds(),
    )
    return app
