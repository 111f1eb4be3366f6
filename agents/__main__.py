"""`resonance`: the Faust app's own command line (`worker`, ...) plus our commands beside it."""

from __future__ import annotations

import sys

import faust
from prometheus_client import CollectorRegistry

from agents.app import create_app
from agents.cli import analyze, demo, generate, kafka, record, replay, subscribe
from agents.gc_policy import tune_for_long_lived_state
from agents.settings import Settings, SettingsError


def build_cli_app(settings: Settings) -> faust.App:
    """The app with every command registered."""
    app = create_app(settings, CollectorRegistry())
    for module in (analyze, demo, generate, kafka, record, replay, subscribe):
        module.register(app, settings)
    return app


def main() -> None:
    """Entry point of the `resonance` console script."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"resonance: {error}", file=sys.stderr)  # noqa: T201 - CLI output
        sys.exit(2)
    app = build_cli_app(settings)
    tune_for_long_lived_state()
    app.main()


if __name__ == "__main__":
    main()
