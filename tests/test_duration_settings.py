"""Durations as people write them, and the frozen settings read from the environment."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.settings import LOCAL_BOOTSTRAP, Settings, SettingsError, as_variables, variable
from models.duration import format_duration, parse_duration

deterministic = settings(derandomize=True, database=None, deadline=None, max_examples=300)

# The largest span a timedelta holds, in whole milliseconds.
MAX_MILLISECONDS = timedelta.max // timedelta(milliseconds=1)


# --- Durations -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("250ms", timedelta(milliseconds=250)),
        ("1.5h", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        (" 15m ", timedelta(minutes=15)),
        ("15 m", timedelta(minutes=15)),
        ("999999999d", timedelta(days=999_999_999)),
    ],
)
def test_parse_duration_reads_number_and_unit(text: str, span: timedelta) -> None:
    """A number (integer or decimal) and a unit of ms, s, m, h or d, spaces allowed around them."""
    assert parse_duration(text) == span


@pytest.mark.parametrize(
    "text",
    ["", "15", "m", "15min", "15 minutes", "-5m", "+5m", "1e3s", "15M", "1,5h", ".5h", "5m5s", "1000000000d"],
)
def test_parse_duration_rejects_other_text_with_a_value_error(text: str) -> None:
    """Anything else, including a span too long for a timedelta, raises ValueError quoting the text."""
    with pytest.raises(ValueError, match="invalid duration") as caught:
        parse_duration(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=1), "1h"),
        (timedelta(days=2), "2d"),
        (timedelta(milliseconds=1500), "1500ms"),
        (timedelta(minutes=90), "90m"),
    ],
)
def test_format_duration_uses_the_largest_exact_unit(span: timedelta, text: str) -> None:
    """A span is written in the largest unit that divides it exactly."""
    assert format_duration(span) == text


@deterministic
@given(st.integers(min_value=0, max_value=MAX_MILLISECONDS))
def test_parse_duration_inverts_format_duration(milliseconds: int) -> None:
    """Any span of whole milliseconds, up to the largest a timedelta holds, survives format then parse."""
    span = timedelta(milliseconds=milliseconds)
    assert parse_duration(format_duration(span)) == span


# --- Settings --------------------------------------------------------------------------------------

FIELDS = {spec.name: spec for spec in dataclasses.fields(Settings)}


def _fields_of(kind: str) -> list[str]:
    """The names of the settings whose annotated type is `kind`."""
    return [name for name, spec in FIELDS.items() if spec.type == kind]


def test_empty_environment_gives_the_defaults() -> None:
    """With nothing set, the settings are the documented defaults that run on this machine."""
    loaded = Settings.from_env({})
    assert loaded == Settings()
    assert (loaded.bootstrap_servers, loaded.partitions, loaded.window) == (
        LOCAL_BOOTSTRAP,
        4,
        timedelta(minutes=15),
    )


def test_empty_variable_keeps_the_default() -> None:
    """A variable set to the empty string counts as unset."""
    assert Settings.from_env({"RESONANCE_WINDOW": "", "RESONANCE_PARTITIONS": ""}) == Settings()


def test_unrelated_variables_are_ignored() -> None:
    """Variables that name no setting change nothing."""
    assert Settings.from_env({"RESONANCE_NO_SUCH_SETTING": "x", "PATH": "/bin"}) == Settings()


def test_from_env_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a mapping, `from_env` reads `os.environ`."""
    monkeypatch.setenv("RESONANCE_TOP_N", "7")
    assert Settings.from_env().top_n == 7


@pytest.mark.parametrize(
    ("variable", "raw", "field", "value"),
    [
        (
            "KAFKA_BOOTSTRAP_SERVERS",
            "kafka-1:9092,kafka-2:9092",
            "bootstrap_servers",
            "kafka-1:9092,kafka-2:9092",
        ),
        ("RESONANCE_APP_ID", "demo", "app_id", "demo"),
        ("RESONANCE_INPUT_TOPIC", "firehose", "input_topic", "firehose"),
        ("RESONANCE_WINDOW", "1h", "window", timedelta(hours=1)),
        ("RESONANCE_LATENESS", "0s", "lateness", timedelta(0)),
        ("RESONANCE_REFRESH_LAG", "0s", "refresh_lag", timedelta(0)),
        ("RESONANCE_REFRESH_LAG", "2m", "refresh_lag", timedelta(minutes=2)),
        ("RESONANCE_EMIT_EVERY", "1.5m", "emit_every", timedelta(seconds=90)),
        ("RESONANCE_IDLE_FLUSH", "250ms", "idle_flush", timedelta(milliseconds=250)),
        ("RESONANCE_PARTITIONS", "8", "partitions", 8),
        ("RESONANCE_TOP_N", "5", "top_n", 5),
        ("RESONANCE_MAX_MESSAGE_BYTES", "2048", "max_message_bytes", 2048),
        ("RESONANCE_WEB_PORT", "8080", "web_port", 8080),
        ("RESONANCE_DATA_DIR", "/var/lib/resonance", "data_dir", "/var/lib/resonance"),
    ],
)
def test_variable_overrides_only_its_setting(variable: str, raw: str, field: str, value: object) -> None:
    """A set variable is converted to its setting's type and changes that setting alone."""
    assert Settings.from_env({variable: raw}) == dataclasses.replace(Settings(), **{field: value})


_SAMPLE_VALUES = {
    "str": ("x", "x"),
    "int": ("3", 3),
    "float": ("2.5", 2.5),
    "timedelta": ("7m", timedelta(minutes=7)),
}
# Settings that only take named values or a bounded range.
_CHOICES = {
    "reconstruction": ("root", "root"),
    "failover": ("20s", timedelta(seconds=20)),
    "kafka_security_protocol": ("SSL", "SSL"),
    "kafka_sasl_mechanism": ("PLAIN", "PLAIN"),
    # Files that must exist: this test's own source.
    "kafka_password_file": (__file__, __file__),
    "kafka_ca_file": (__file__, __file__),
    "refresh_lag": ("3m", timedelta(minutes=3)),
}
_NEEDS = {"followers": {"RESONANCE_RECONSTRUCTION": "time"}}  # settings read only beside another


@pytest.mark.parametrize("field", FIELDS)
def test_every_setting_has_itsvariable(field: str) -> None:
    """Each setting, present or future, is read from KAFKA_BOOTSTRAP_SERVERS or RESONANCE_<NAME>."""
    raw, value = _CHOICES.get(field) or _SAMPLE_VALUES[str(FIELDS[field].type)]
    assert getattr(Settings.from_env({variable(field): raw, **_NEEDS.get(field, {})}), field) == value


@pytest.mark.parametrize("raw", ["0", "-1", "four", "1.5", "3 workers"])
@pytest.mark.parametrize("field", _fields_of("int"))
def test_bad_integer_raises_one_line_settings_error(field: str, raw: str) -> None:
    """An integer setting that is not a positive integer fails naming the variable and the value."""
    name = variable(field)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: raw})
    message = str(caught.value)
    assert message.startswith(f"{name}={raw!r} is invalid: ")
    assert "\n" not in message


@pytest.mark.parametrize("raw", ["0", "-1", "many", "nan"])
@pytest.mark.parametrize("field", _fields_of("float"))
def test_bad_threshold_raises_one_line_settings_error(field: str, raw: str) -> None:
    """A threshold setting that is not a positive number fails naming the variable and the value."""
    name = variable(field)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: raw})
    assert str(caught.value).startswith(f"{name}={raw!r} is invalid: ")


@pytest.mark.parametrize("raw", ["15", "15 minutes", "-5m", "1e3s", "1000000000d"])
@pytest.mark.parametrize("field", _fields_of("timedelta"))
def test_bad_duration_raises_one_line_settings_error(field: str, raw: str) -> None:
    """A duration setting that is not a duration fails naming the variable, the value and the form."""
    name = variable(field)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: raw})
    message = str(caught.value)
    assert message.startswith(f"{name}={raw!r} is invalid: invalid duration")
    assert "\n" not in message


@pytest.mark.parametrize("name", ["my tweets", "tweets/raw", "", "x" * 250])
@pytest.mark.parametrize(
    "field", ["input_topic", "dead_letter_topic", "metrics_topic", "alerts_topic", "app_id"]
)
def test_a_topic_setting_kafka_would_refuse_is_named(field: str, name: str) -> None:
    """Topic names (and the app id, their prefix) must be names Kafka accepts: said at start, in one line."""
    env = {variable(field): name}
    if not name:  # empty means unset: the default stands
        assert Settings.from_env(env) == Settings()
        return
    with pytest.raises(SettingsError, match=f"^{variable(field)}=.* is invalid: use up to 200 letters"):
        Settings.from_env(env)


def test_settings_error_is_a_value_error() -> None:
    """Callers that catch ValueError also catch a bad setting."""
    assert issubclass(SettingsError, ValueError)


@pytest.mark.parametrize(
    ("environment", "external"),
    [
        pytest.param({}, False, id="unset"),
        pytest.param({"KAFKA_BOOTSTRAP_SERVERS": LOCAL_BOOTSTRAP}, False, id="the-local-address"),
        pytest.param({"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"}, True, id="another-cluster"),
    ],
)
def test_broker_is_external_when_another_cluster_is_configured(
    environment: dict[str, str], *, external: bool
) -> None:
    """Only a bootstrap address other than the local default means no local broker is started."""
    assert Settings.from_env(environment).broker_is_external is external


def test_unknown_reconstruction_method_is_refused_with_the_choices() -> None:
    """RESONANCE_RECONSTRUCTION only takes a method the core implements, and says which."""
    with pytest.raises(SettingsError, match="use root, time or deverna"):
        Settings.from_env({"RESONANCE_RECONSTRUCTION": "guess"})


@pytest.mark.parametrize(("raw", "valid"), [("5s", False), ("6s", True), ("90s", True), ("2m", False)])
def test_failover_takes_what_kafka_and_faust_accept(raw: str, *, valid: bool) -> None:
    """RESONANCE_FAILOVER (the session timeout) lies between a broker's default shortest session
    and Faust's request timeout; outside, one line says the range.
    """
    if valid:
        assert Settings.from_env({"RESONANCE_FAILOVER": raw}).failover == parse_duration(raw)
        return
    with pytest.raises(SettingsError, match=r"^RESONANCE_FAILOVER=\S+ is invalid: use 6s to 90s"):
        Settings.from_env({"RESONANCE_FAILOVER": raw})


def test_a_refresh_lag_longer_than_the_refresh_is_refused_naming_both() -> None:
    """A refresh is published before the next one starts: the lag is at most the cadence."""
    with pytest.raises(
        SettingsError, match=r"RESONANCE_REFRESH_LAG=10m is longer than RESONANCE_REFRESH_EVERY=5m"
    ):
        Settings.from_env({"RESONANCE_REFRESH_LAG": "10m"})
    assert Settings.from_env(
        {"RESONANCE_REFRESH_LAG": "10m", "RESONANCE_REFRESH_EVERY": "10m"}
    ).refresh_lag == (timedelta(minutes=10))


def test_settings_passed_on_as_variables_read_back_the_same() -> None:
    """`as_variables` writes an unset refresh lag as unset, a set one as its duration."""
    for settings_now in (Settings(), Settings(refresh_lag=timedelta(0))):
        written = dict(line.split("=", 1) for line in as_variables(settings_now, reveal=True))
        assert Settings.from_env(written) == settings_now
