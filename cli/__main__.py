"""`resonance`: the Faust app's own command line (`worker`, ...) plus our commands beside it."""

from __future__ import annotations

import sys
from typing import NoReturn

import faust
from faust.cli.faust import cli as faust_cli
from prometheus_client import CollectorRegistry

from agents.app import create_app
from agents.errors import SetupError
from agents.gc_policy import tune_for_long_lived_state
from agents.preflight import preflight
from agents.settings import Settings, SettingsError, as_variables
from cli import analyze, demo, generate, kafka, record, replay, source, subscribe
from cli.native import stale_warning

OVERVIEW = """Resonance: who really has influence in a stream of tweets, live or offline.

    Whose posts start conversations that travel (retweet cascades, engaged influence beyond
    follower counts), which communities they reach, and whether the buzz is coordinated.

    \b
    Start here:
      resonance demo                      everything live: local Kafka, a worker, a demo stream
      resonance kafka up                  start the local broker (KRaft, 127.0.0.1:9092)
      resonance worker -l info            analyze RESONANCE_INPUT_TOPIC live
      resonance replay FILE.jsonl.gz      send a recording to the input topic
      resonance source bluesky            send Bluesky's live network to the input topic
      resonance subscribe metrics         print the records as they are published
      resonance analyze FILE --out OUT    the same analysis offline, without Kafka

    Settings are environment variables: `resonance worker --help` lists them. agents, models,
    tables, send, reset, livecheck and clean-versions are Faust's own commands.
    """

WORKER_HELP = """Run the live analyzer until Ctrl-C.

    Reads tweets from RESONANCE_INPUT_TOPIC (any supported format), publishes records to the
    metrics and alerts topics, unreadable messages with their reason to the dead-letter topic,
    and serves Prometheus metrics at http://RESONANCE_WEB_HOST:RESONANCE_WEB_PORT/metrics
    (--web-bind and --web-port override them). More workers with the same RESONANCE_APP_ID, up
    to RESONANCE_PARTITIONS, split the keyed stages; the conversation stage runs on one of them.

    \b
    Settings (environment variables, as they are set now):
      {settings}

    \b
    Example: resonance kafka up && RESONANCE_WINDOW=1h resonance worker -l info
    """


def build_cli_app(settings: Settings) -> faust.App:
    """The app with every command registered, and help that describes Resonance, not Faust."""
    app = create_app(settings, CollectorRegistry())
    for module in (analyze, demo, generate, kafka, record, replay, source, subscribe):
        module.register(app, settings)
    faust_cli.help = OVERVIEW
    faust_cli.commands["worker"].help = WORKER_HELP.format(settings="\n      ".join(as_variables(settings)))
    return app


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
    stale = stale_warning()
    if stale:  # only in a checkout someone edits; a warning, as the command still works
        print(f"resonance: warning: {stale}", file=sys.stderr)  # noqa: T201 - CLI output
    if sys.argv[1:2] == ["worker"] and "--help" not in sys.argv:  # about to start a worker
        try:
            preflight(settings, sys.argv)
        except SetupError as error:
            fail(str(error))
    app = build_cli_app(settings)
    tune_for_long_lived_state()
    app.main()


if __name__ == "__main__":
    main()
