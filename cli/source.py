"""`resonance source bluesky|mastodon`: a live network into the input topic, until Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import click
import faust
from faust.cli import argument, option

from agents.kafka_admin import ensure_topics
from agents.kafka_security import kafka_python_options
from agents.settings import Settings
from cli.base import PlainCommand, UsageError, check_topic, check_writable, say
from cli.sources.bluesky import DEFAULT_COLLECTIONS, DEFAULT_URL, JetstreamOptions, JetstreamSource
from cli.sources.mastodon import TOKEN_VARIABLE, MastodonSource, Stream, read_token
from cli.sources.profiles import CACHE_ENTRIES, DEFAULT_PROFILES_URL, RATE_PER_SECOND, ProfileOptions


async def _until_stopped(run: Any) -> None:
    """Run `run(stop)`; the first Ctrl-C (or SIGTERM) sets `stop`, a second one exits at once."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def request() -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        say("stopping: sending what was read, saving the position (Ctrl-C again to quit at once)")
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request)
    await run(stop)


def _check_bluesky(url: str, collections: tuple[str, ...], dids: tuple[str, ...], zstd: Path | None) -> None:
    if not url.startswith(("ws://", "wss://")):
        raise UsageError(f"--url {url!r} is not a WebSocket URL; use e.g. --url {DEFAULT_URL}")
    for collection in collections:
        if collection.count(".") < 2 or " " in collection:  # an NSID has 3 segments at least
            raise UsageError(
                f"--collection {collection!r} is not a collection NSID such as app.bsky.feed.post"
            )
    for did in dids:
        if not did.startswith("did:"):
            raise UsageError(f"--did {did!r} is not a DID such as did:plc:ewvi7nxzyoun6zhxrhs64oiz")
    if zstd is not None and not zstd.is_file():
        raise UsageError(
            f"--zstd-dictionary {zstd}: no such file; Jetstream's is pkg/models/zstd_dictionary in "
            "github.com/bluesky-social/jetstream"
        )


def _check_profiles(url: str, rate_per_second: float) -> None:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--profiles-url {url!r} is not an HTTP URL; use e.g. {DEFAULT_PROFILES_URL}")
    if rate_per_second <= 0:
        raise UsageError("--profiles-rate must be positive, e.g. --profiles-rate 5")


def register(app: faust.App, settings: Settings) -> None:
    """Add the `source` command to `app`."""

    @app.command(
        argument("network", type=click.Choice(["bluesky", "mastodon"])),
        option("--topic", default=settings.input_topic, help="Topic to send to (RESONANCE_INPUT_TOPIC)."),
        option(
            "--state",
            type=Path,
            default=None,
            metavar="FILE",
            help="Where the position is kept across restarts (default: NETWORK.source.json in "
            "RESONANCE_DATA_DIR). A rerun with the same file resumes where the last one stopped.",
        ),
        option("--url", default=DEFAULT_URL, help="bluesky: the Jetstream WebSocket URL.", show_default=True),
        option(
            "--collection",
            "collections",
            multiple=True,
            metavar="NSID",
            help=f"bluesky: a collection to receive, repeatable (default: {', '.join(DEFAULT_COLLECTIONS)}).",
        ),
        option(
            "--did", "dids", multiple=True, metavar="DID", help="bluesky: only these accounts, repeatable."
        ),
        option(
            "--zstd-dictionary",
            type=Path,
            default=None,
            metavar="FILE",
            help="bluesky: ask for the zstd-compressed stream (about half the bytes), decoded with "
            "Jetstream's dictionary FILE (pkg/models/zstd_dictionary in its repository).",
        ),
        option(
            "--rewind",
            type=float,
            default=5.0,
            show_default=True,
            metavar="SECONDS",
            help="bluesky: resume this long before the saved cursor (repeats are dropped).",
        ),
        option(
            "--profiles",
            is_flag=True,
            default=False,
            help="bluesky: give events their authors' follower counts, looked up in the public "
            f"AppView (app.bsky.actor.getProfiles), 25 accounts a request, cached ({CACHE_ENTRIES:,} "
            "accounts, 6 h); an event waits at most 1 s for its count. Off by default.",
        ),
        option(
            "--profiles-url",
            default=DEFAULT_PROFILES_URL,
            show_default=True,
            metavar="URL",
            help="bluesky: the AppView (or a mirror) that --profiles asks.",
        ),
        option(
            "--profiles-rate",
            type=float,
            default=RATE_PER_SECOND,
            show_default=True,
            metavar="REQUESTS",
            help="bluesky: at most this many --profiles requests a second.",
        ),
        option(
            "--instance", default=None, metavar="HOST", help="mastodon: the server, e.g. mastodon.social."
        ),
        option(
            "--stream",
            default="public",
            show_default=True,
            help="mastodon: public, public:local, hashtag:TAG or list:ID.",
        ),
        option(
            "--token-file",
            type=Path,
            default=None,
            metavar="FILE",
            help="mastodon: a file whose first line is an access token with read:statuses "
            f"(else {TOKEN_VARIABLE}).",
        ),
        option("--report-every", type=float, default=10.0, show_default=True, metavar="SECONDS"),
        base=PlainCommand,
        name="source",
    )
    async def source(
        self: Any,
        network: str,
        topic: str,
        state: Path | None,
        url: str,
        collections: tuple[str, ...],
        dids: tuple[str, ...],
        zstd_dictionary: Path | None,
        rewind: float,
        profiles: bool,
        profiles_url: str,
        profiles_rate: float,
        instance: str | None,
        stream: str,
        token_file: Path | None,
        report_every: float,
    ) -> None:
        """Send a live network to the input topic until Ctrl-C: Bluesky (Jetstream) or Mastodon.

        Posts, reposts (boosts) and likes go out as native events, many to a message, each in its
        cascade's partition; deletes, edits and identity changes are counted, not sent. The
        position is saved once Kafka has every event before it: after a disconnect the source
        reconnects (backing off up to a minute) and after a restart it resumes from --state, and
        nothing is lost or sent twice. Ctrl-C sends what was read, saves the position and stops.

        \b
        Bluesky needs nothing (the public Jetstream); --profiles adds follower counts:
          resonance source bluesky
          resonance source bluesky --profiles
          resonance source bluesky --collection app.bsky.feed.post --did did:plc:ewvi7nxzyoun6zhxrhs64oiz
        Mastodon needs a server, and most servers an access token (read:statuses):
          resonance source mastodon --instance mastodon.social --stream hashtag:python --token-file token
        """  # noqa: D301 - click's \b (a backspace) keeps the examples unwrapped
        check_topic(topic, "--topic")
        if state is None:
            state = Path(settings.data_dir) / f"{network}.source.json"
            state.parent.mkdir(parents=True, exist_ok=True)
        check_writable("--state", state)
        if report_every <= 0:
            raise UsageError("--report-every must be positive, e.g. --report-every 10")
        if network == "bluesky":
            if instance is not None or token_file is not None:
                raise UsageError(
                    "--instance and --token-file are for mastodon; bluesky takes --url, --collection, --did"
                )
            if rewind < 0:
                raise UsageError("--rewind must be 0 or more seconds, e.g. --rewind 5")
            _check_bluesky(url, collections, dids, zstd_dictionary)
            _check_profiles(profiles_url, profiles_rate)
            options = JetstreamOptions(
                url=url,
                collections=collections or DEFAULT_COLLECTIONS,
                dids=dids,
                zstd_dictionary=zstd_dictionary,
                rewind_seconds=rewind,
                report_seconds=report_every,
            )
            ensure_topics(
                settings.bootstrap_servers,
                [topic],
                partitions=settings.partitions,
                security=kafka_python_options(settings),
            )
            runner: Any = JetstreamSource(
                settings,
                topic,
                options,
                state,
                profiles=(
                    ProfileOptions(url=profiles_url, rate_per_second=profiles_rate) if profiles else None
                ),
            )
        else:
            if instance is None:
                raise UsageError(
                    "mastodon needs --instance HOST, the server to read, e.g. --instance mastodon.social"
                )
            if (
                collections
                or dids
                or zstd_dictionary is not None
                or url != DEFAULT_URL
                or profiles
                or profiles_url != DEFAULT_PROFILES_URL
            ):
                raise UsageError(
                    "--url, --collection, --did, --zstd-dictionary and --profiles are for bluesky "
                    "(Mastodon statuses carry follower counts already); "
                    "mastodon takes --instance, --stream"
                )
            parsed = Stream.parse(stream)
            token = read_token(token_file, dict(os.environ))
            ensure_topics(
                settings.bootstrap_servers,
                [topic],
                partitions=settings.partitions,
                security=kafka_python_options(settings),
            )
            runner = MastodonSource(
                settings,
                topic,
                instance=instance,
                stream=parsed,
                token=token,
                state=state,
                report_seconds=report_every,
            )
        say(f"{network}: sending to {topic!r} on {settings.bootstrap_servers}; position kept in {state}")
        await _until_stopped(runner.run)
