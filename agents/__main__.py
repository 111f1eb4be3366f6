"""`resonance`: the Faust app's own command line (`worker`, ...) plus our commands beside it."""

from __future__ import annotations

import sys
from typing import NoReturn

import faust
from prometheus_client import CollectorRegistry

from agents.app import create_app
from agents.cli import analyze, demo, generate, kafka, record, replay, subscribe
from agents.gc_policy import tune_for_long_lived_state
from agents.kafka_admin import partition_counts
from agents.settings import Settings, SettingsError


def build_cli_app(settings: Settings) -> faust.App:
    """The app with every command registered."""
    app = create_app(settings, CollectorRegistry())
    for module in (analyze, demo, generate, kafka, record, replay, subscribe):
        module.register(app, settings)
    return app


def partition_mismatch(settings: Settings) -> str | None:
    """Why a worker cannot start on these topics, or None. Every stage's topics and checkpoint
    tables are created with `RESONANCE_PARTITIONS` partitions, and a stage's input partition N
    keeps its checkpoint in partition N of its table: an input topic that already exists with
    another count (the user's own, or one left by a run with another setting) cannot work.
    """
    keyed = [settings.input_topic, f"{settings.app_id}-events", f"{settings.app_id}-hashtag-uses"]
    counts = partition_counts(settings.bootstrap_servers, keyed) or {}
    wrong = {topic: count for topic, count in counts.items() if count != settings.partitions}
    if not wrong:
        return None
    found = ", ".join(f"{topic} has {count}" for topic, count in wrong.items())
    return (
        f"RESONANCE_PARTITIONS is {settings.partitions} but {found} partitions: set "
        f"RESONANCE_PARTITIONS={next(iter(wrong.values()))}, or use another RESONANCE_APP_ID "
        "and RESONANCE_INPUT_TOPIC"
    )


def fail(message: str) -> NoReturn:
    """Exit 2 with a one-line error."""
    print(f"resonance: {message}", file=sys.stderr)  # noqa: T201 - CLI output
    sys.exit(2)


def main() -> None:
    """Entry point of the `resonance` console script."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        fail(str(error))
    if sys.argv[1:2] == ["worker"] and (problem := partition_mismatch(settings)):
        fail(problem)
    app = build_cli_app(settings)
    tune_for_long_lived_state()
    app.main()


if __name__ == "__main__":
    main()
