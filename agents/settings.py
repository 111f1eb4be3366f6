"""The one frozen settings object the app is built from, read from the environment.

Every setting has a default that runs the analyzer on this machine; override with the variables
below (durations are written 90s, 15m, 2h, 7d).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from models.duration import format_duration, parse_duration
from streams.alerts.rules import AlertConfig
from streams.analyzer import AnalyzerConfig
from streams.cascades.reconstruction import Method, ReconstructionConfig
from streams.hashtags.metrics import HashtagMetricsConfig

LOCAL_BOOTSTRAP = "127.0.0.1:9092"
# Kafka's rule for topic names (kafka.common.internals.Topic): these characters, at most 249.
_TOPIC_CHARACTERS = re.compile(r"[A-Za-z0-9._-]+")
MAX_TOPIC_NAME = 249
# RESONANCE_FAILOVER's bounds: a broker refuses sessions shorter than its
# group.min.session.timeout.ms (6 s by default); Faust refuses sessions longer than its request timeout.
FAILOVER_RANGE = (timedelta(seconds=6), timedelta(seconds=90))
_MAX_SETTING_TOPIC = 200  # the app id prefixes internal topics' names: room for their suffixes
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
SECRET_FIELDS = frozenset(("kafka_password",))
"""Settings `as_variables` hides unless asked to reveal them."""


def is_topic_name(name: str, longest: int = MAX_TOPIC_NAME) -> bool:
    """Whether Kafka accepts `name` as a topic name (no longer than `longest`)."""
    return len(name) <= longest and name not in (".", "..") and bool(_TOPIC_CHARACTERS.fullmatch(name))


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable and the fix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything configurable, with the environment variable that sets it beside each field."""

    bootstrap_servers: str = LOCAL_BOOTSTRAP  # KAFKA_BOOTSTRAP_SERVERS (set: use that cluster, start none)
    app_id: str = "resonance"  # RESONANCE_APP_ID (Kafka consumer group and internal-topic prefix)
    input_topic: str = "tweets"  # RESONANCE_INPUT_TOPIC
    dead_letter_topic: str = "tweets.dlq"  # RESONANCE_DEAD_LETTER_TOPIC
    metrics_topic: str = "metrics"  # RESONANCE_METRICS_TOPIC
    alerts_topic: str = "alerts"  # RESONANCE_ALERTS_TOPIC
    partitions: int = 4  # RESONANCE_PARTITIONS (of the topics the app creates; more = more workers)
    window: timedelta = timedelta(minutes=15)  # RESONANCE_WINDOW
    lateness: timedelta = timedelta(seconds=10)  # RESONANCE_LATENESS
    emit_every: timedelta = timedelta(seconds=30)  # RESONANCE_EMIT_EVERY (event time)
    burst_bucket: timedelta = timedelta(minutes=5)  # RESONANCE_BURST_BUCKET (burst z-score bucket)
    burst_history: int = 12  # RESONANCE_BURST_HISTORY (buckets of history a burst is scored against)
    # RESONANCE_CHECKPOINT_EVERY (wall clock): a checkpoint serialises a stage's whole state, so
    # frequent ones cost throughput; events since the last one are delivered again on restart.
    checkpoint_every: timedelta = timedelta(seconds=10)
    # RESONANCE_FAILOVER (wall clock): how long the group waits for a worker that went silent
    # (killed, frozen, cut off) before handing its partitions to the others: Kafka's session
    # timeout. Faust's 60 s default stalled a killed worker's partitions for a minute.
    failover: timedelta = timedelta(seconds=10)
    idle_flush: timedelta = timedelta(seconds=5)  # RESONANCE_IDLE_FLUSH (wall clock, provisional view)
    # RESONANCE_RECONSTRUCTION: how a retweet's parent is inferred when the data does not say:
    # deverna (DeVerna et al. 2024, followers and time decay; the default: without a follower
    # graph, "time" turns every cascade into a chain), time, or root.
    reconstruction: str = "deverna"
    # RESONANCE_FOLLOWERS: a follower graph file (`FOLLOWER FOLLOWEE` per line, .gz too) for the
    # time reconstruction: a retweet's parent is then the latest earlier participant it follows.
    followers: str = ""
    top_n: int = 20  # RESONANCE_TOP_N (hashtags exported to Prometheus)
    # RESONANCE_REFRESH_EVERY (event time): communities, polarization and coordination are
    # recomputed from the window at this cadence (rounded up to a multiple of EMIT_EVERY).
    refresh_every: timedelta = timedelta(minutes=5)
    # RESONANCE_REFRESH_LAG (event time; unset: RESONANCE_REFRESH_EVERY): a refresh is published
    # this long after its boundary (rounded up to a multiple of EMIT_EVERY). The worker computes
    # it meanwhile in a fork, and waits at that boundary only if it is not done: 0 publishes each
    # refresh at its own boundary, holding the conversation stage for as long as it takes.
    refresh_lag: timedelta | None = None
    alert_burst_z: float = 3.0  # RESONANCE_ALERT_BURST_Z (hashtag_burst: burst z-score at least)
    # RESONANCE_ALERT_BURST_WARMUP (event time from the first record: no burst alerts before,
    # while hashtags' histories are too short to judge)
    alert_burst_warmup: timedelta = timedelta(minutes=15)
    alert_viral_depth: int = 3  # RESONANCE_ALERT_VIRAL_DEPTH (viral_cascade: generations at least)
    alert_viral_size: int = 10  # RESONANCE_ALERT_VIRAL_SIZE (viral_cascade: nodes at least)
    # RESONANCE_ALERT_ECHO_SEGREGATION (echo_chamber: segregation beyond chance at least, z >= 3)
    alert_echo_segregation: float = 0.05
    max_message_bytes: int = 1_048_576  # RESONANCE_MAX_MESSAGE_BYTES
    # RESONANCE_CLOCK_SKEW: a tweet dated later than this machine's clock plus this much is
    # rejected (timestamp_in_future): it would move the watermark past every real tweet.
    clock_skew: timedelta = timedelta(hours=1)
    web_host: str = "127.0.0.1"  # RESONANCE_WEB_HOST
    web_port: int = 6066  # RESONANCE_WEB_PORT
    # RESONANCE_WEB_TOKEN: asked by every page of the web server (/dashboard/, /metrics) when set;
    # required when RESONANCE_WEB_HOST is not a loopback address (agents.preflight).
    web_token: str = ""
    data_dir: str = ".resonance-data"  # RESONANCE_DATA_DIR (worker's local state)
    # A secured cluster (every client: the worker, replay, record, subscribe, demo, kafka status;
    # translated into each client library's options by `agents.kafka_security`):
    kafka_security_protocol: str = "PLAINTEXT"  # RESONANCE_KAFKA_SECURITY_PROTOCOL (SASL_SSL, ...)
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"  # RESONANCE_KAFKA_SASL_MECHANISM (for SASL_*)
    kafka_user: str = ""  # RESONANCE_KAFKA_USER (SASL user name)
    kafka_password: str = ""  # RESONANCE_KAFKA_PASSWORD (or, better, the file below)
    kafka_password_file: str = ""  # RESONANCE_KAFKA_PASSWORD_FILE (its first line is the password)
    kafka_ca_file: str = ""  # RESONANCE_KAFKA_CA_FILE (PEM; the system's CAs when unset)

    def __post_init__(self) -> None:
        """Refuse values no code path could use."""
        self._check_security()
        if self.reconstruction not in ("root", "time", "deverna"):
            raise SettingsError(
                f"RESONANCE_RECONSTRUCTION={self.reconstruction!r} is invalid: use root, time or deverna"
            )
        for field in ("input_topic", "dead_letter_topic", "metrics_topic", "alerts_topic", "app_id"):
            name = getattr(self, field)
            if not is_topic_name(name, _MAX_SETTING_TOPIC):
                raise SettingsError(
                    f"{variable(field)}={name!r} is invalid: use up to 200 letters, digits, '.', '_' or '-' "
                    "(it names Kafka topics)"
                )
        shortest, longest = FAILOVER_RANGE
        if not shortest <= self.failover <= longest:
            raise SettingsError(
                f"RESONANCE_FAILOVER={format_duration(self.failover)} is invalid: use "
                f"{format_duration(shortest)} to {format_duration(longest)} "
                "(a broker's shortest session by default; Faust's request timeout)"
            )
        if self.refresh_lag is not None and self.refresh_lag > self.refresh_every:
            raise SettingsError(
                f"RESONANCE_REFRESH_LAG={format_duration(self.refresh_lag)} is longer than "
                f"RESONANCE_REFRESH_EVERY={format_duration(self.refresh_every)}: a refresh is published "
                "before the next one starts; set it at most that, or leave it unset"
            )
        if self.followers and self.reconstruction != "time":
            raise SettingsError(
                "RESONANCE_FOLLOWERS is read by the time reconstruction only: "
                "set RESONANCE_RECONSTRUCTION=time"
            )

    def _check_security(self) -> None:
        if self.kafka_security_protocol not in SECURITY_PROTOCOLS:
            raise SettingsError(
                f"RESONANCE_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol!r} is invalid: use "
                + ", ".join(SECURITY_PROTOCOLS)
            )
        if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
            raise SettingsError(
                f"RESONANCE_KAFKA_SASL_MECHANISM={self.kafka_sasl_mechanism!r} is invalid: use "
                + ", ".join(SASL_MECHANISMS)
            )
        if self.kafka_password and self.kafka_password_file:
            raise SettingsError(
                "RESONANCE_KAFKA_PASSWORD and RESONANCE_KAFKA_PASSWORD_FILE are both set: keep one"
            )
        if self.uses_sasl and not (self.kafka_user and (self.kafka_password or self.kafka_password_file)):
            raise SettingsError(
                f"RESONANCE_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "RESONANCE_KAFKA_USER and RESONANCE_KAFKA_PASSWORD_FILE (or RESONANCE_KAFKA_PASSWORD)"
            )
        for name, path in (("PASSWORD_FILE", self.kafka_password_file), ("CA_FILE", self.kafka_ca_file)):
            if path and not Path(path).is_file():
                raise SettingsError(f"RESONANCE_KAFKA_{name}={path!r}: no such file")

    @property
    def uses_sasl(self) -> bool:
        """Whether clients authenticate with SASL (user and password)."""
        return self.kafka_security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        """Whether client connections are encrypted with TLS."""
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    def kafka_secret(self) -> str:
        """The SASL password: RESONANCE_KAFKA_PASSWORD, or the first line of the password file."""
        if self.kafka_password_file:
            lines = Path(self.kafka_password_file).read_text(encoding="utf-8").splitlines()
            return lines[0] if lines else ""
        return self.kafka_password

    def alerts(self) -> AlertConfig:
        """The alert thresholds these settings choose."""
        return AlertConfig(
            burst_z=self.alert_burst_z,
            burst_warmup=self.alert_burst_warmup,
            viral_min_depth=self.alert_viral_depth,
            viral_min_size=self.alert_viral_size,
            echo_min_segregation=self.alert_echo_segregation,
        )

    @property
    def broker_is_external(self) -> bool:
        """True when a cluster was configured, so no local broker should be started."""
        return self.bootstrap_servers != LOCAL_BOOTSTRAP

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: the process environment); raise SettingsError."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = variable(spec.name)
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            values[spec.name] = _convert(name, raw, spec.type)
        return cls(**values)


def variable(field: str) -> str:
    """The environment variable that sets `field`."""
    return "KAFKA_BOOTSTRAP_SERVERS" if field == "bootstrap_servers" else f"RESONANCE_{field.upper()}"


def as_variables(settings: Settings, *, reveal: bool = False) -> list[str]:
    """`VARIABLE=value` for every setting, durations written as they are read (15m); a password
    that is set is written `<hidden>` unless `reveal` (to pass settings on to a child process).
    """

    def written(name: str, value: Any) -> str:
        if name in SECRET_FIELDS and value and not reveal:
            return "<hidden>"
        if value is None:  # unset: read back as the default
            return ""
        return format_duration(value) if isinstance(value, timedelta) else str(value)

    return [
        f"{variable(spec.name)}={written(spec.name, getattr(settings, spec.name))}"
        for spec in fields(settings)
    ]


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(f"{value} is not a positive integer")
    return value


def _positive_duration(raw: str) -> timedelta:
    span = parse_duration(raw)
    if span <= timedelta(0):
        raise ValueError(f"{raw} is not a positive duration")
    return span


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError(f"{value} is not a positive number")
    return value


def _convert(name: str, raw: str, kind: Any) -> Any:
    if name in ("RESONANCE_LATENESS", "RESONANCE_REFRESH_LAG"):  # the durations that may be zero
        kind = "lateness"
    parse = {
        "timedelta": _positive_duration,
        "lateness": parse_duration,
        "int": _positive_int,
        "float": _positive_float,
    }.get(str(getattr(kind, "__name__", kind)))
    if parse is None:
        return raw
    try:
        return parse(raw)
    except ValueError as error:
        raise SettingsError(f"{name}={raw!r} is invalid: {error}") from None


def analyzer_config(
    settings: Settings,
    *,
    every: timedelta | None,
    top: int | None,
    follower_graph: Mapping[str, frozenset[str]] | None = None,
    live: bool,
) -> AnalyzerConfig:
    """The core's configuration these settings choose: the one translation from settings to the
    analyzer, for the worker and for `resonance analyze` (which sets its options in `settings`).
    Records come every `every` of event time (None: at the end only), for the `top` hashtags and
    users (None: all). `live`: a cascade record on every retweet (for live dashboards), without
    hashtag counts (the hashtag-window stage computes them, partitioned by tag).
    """
    return AnalyzerConfig.build(
        window=settings.window,
        lateness=settings.lateness,
        every=every,
        top=top,
        reconstruction=ReconstructionConfig(
            method=cast("Method", settings.reconstruction), follower_graph=follower_graph
        ),
        burst_bucket=settings.burst_bucket,
        burst_history=settings.burst_history,
        cascade_updates=live,
        include_hashtags=not live,
        refresh=settings.refresh_every,
        refresh_lag=settings.refresh_lag,
        alerts=settings.alerts(),
    )


def conversation_config(
    settings: Settings, follower_graph: Mapping[str, frozenset[str]] | None = None
) -> AnalyzerConfig:
    """The conversation stage's core configuration: `analyzer_config` live, with records every
    RESONANCE_EMIT_EVERY for the RESONANCE_TOP_N best.
    """
    return analyzer_config(
        settings, every=settings.emit_every, top=settings.top_n, follower_graph=follower_graph, live=True
    )


def hashtag_config(settings: Settings) -> HashtagMetricsConfig:
    """The hashtag-window stage's core configuration these settings choose: the same window,
    cadence and burst scoring as the conversation stage's analyzer would use for hashtags.
    """
    return conversation_config(settings).hashtags
