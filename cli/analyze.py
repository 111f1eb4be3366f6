"""`resonance analyze INPUT... --out FILE.jsonl`: the live analytics core, offline, in one process.

Reads recordings (any input format, `.gz` too, and SNAP Higgs activity files), counts each tweet
once, runs the same `streams.analyzer.Analyzer` the worker runs, and writes its records as JSON
lines: at the end of input the final records of every kind, and with `--every` also periodically
in event time. The same input always gives byte-identical output.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import click
import faust
import networkx as nx
from faust.cli import argument, option
from tqdm import tqdm

from agents import gc_policy
from agents.followers import FollowerFileError, read_follower_graph
from agents.settings import Settings, analyzer_config
from cli.base import PlainCommand, UsageError, check_recordings, check_writable, say
from cli.recordings import DamagedRecordingError, count_messages, read_messages
from models.duration import format_duration, parse_duration
from models.event import TweetEvent
from models.records import Record
from models.wire import Rejection, parse_line
from streams.analyzer import Analyzer
from streams.dedup import SeenIds

_GRAPH_WRITERS: dict[str, Callable[[nx.DiGraph[str], Path], None]] = {
    ".graphml": nx.write_graphml,
    ".gexf": nx.write_gexf,
}


_BAR_STEP = 1024  # lines read between progress bar updates


@dataclass(slots=True)
class Tally:
    """What an analysis read and wrote."""

    tweets: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    written: Counter[str] = field(default_factory=Counter)
    damaged: list[DamagedRecordingError] = field(default_factory=list)  # inputs read only in part


class Duration(click.ParamType):
    """A click parameter written like `15m`; positive unless `zero_ok` (a lateness may be 0s)."""

    name = "duration"

    def __init__(self, *, zero_ok: bool = False) -> None:
        """Accept 0s only when `zero_ok`."""
        self.zero_ok = zero_ok

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        """Parse, or fail with the form to use."""
        if isinstance(value, timedelta):
            return value
        try:
            span = parse_duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if not self.zero_ok and span <= timedelta(0):
            self.fail(f"{value} is not a positive duration: write e.g. 90s, 15m, 2h, 7d", param, ctx)
        return span


def _write(sink: IO[bytes], records: list[Record], tally: Tally) -> None:
    for record in records:
        sink.write(record.to_bytes() + b"\n")
        tally.written[record.kind] += 1


def _follower_graph(path: Path | None, reconstruction: str) -> Mapping[str, frozenset[str]] | None:
    """The follower graph of --followers, or None; UsageError when it cannot be used or read."""
    if path is None:
        return None
    if reconstruction != "time":
        raise UsageError("--followers is read by the time reconstruction only: add --reconstruction time")
    if not path.is_file():
        raise UsageError(f"--followers {path}: no such file; give a FOLLOWER FOLLOWEE edge list")
    try:
        return read_follower_graph(path)
    except FollowerFileError as error:
        raise UsageError(str(error)) from None


@dataclass(slots=True)
class _Feed:
    """Where an analysis's parsed lines go: rejections counted, tweets deduplicated and observed,
    or held to be observed in event-time order (`hold`).
    """

    analyzer: Analyzer
    sink: IO[bytes]
    seen: SeenIds
    tally: Tally
    hold: bool
    held: list[TweetEvent] = field(default_factory=list)

    def take(self, results: list[TweetEvent | Rejection], path: Path, number: int) -> None:
        """Account for the results of line `number` of `path` (which name it in rejections)."""
        for result in results:
            if isinstance(result, Rejection):
                self.tally.rejected[result.reason.value] += 1
                if len(self.tally.problems) < 20:
                    self.tally.problems.append(f"{path}:{number}: {result.reason}: {result.detail}")
            elif self.hold:
                self.held.append(result)
            else:
                self._observe(result)

    def release(self) -> None:
        """Observe the held tweets by event time (a stable sort: ties keep the input's order)."""
        if not self.hold:
            return  # nothing held: no second progress bar
        self.held.sort(key=lambda tweet: tweet.at)
        for tweet in tqdm(self.held, unit="tweet", desc="analyze", dynamic_ncols=True):
            self._observe(tweet)
        self.held.clear()

    def _observe(self, tweet: TweetEvent) -> None:
        if self.seen.first_time(tweet.id, tweet.at):
            self.tally.tweets += 1
            records = self.analyzer.observe(tweet)
            if records:  # most tweets make none
                _write(self.sink, records, self.tally)
        else:
            self.tally.duplicates += 1


def run_analysis(
    inputs: tuple[Path, ...],
    sink: IO[bytes],
    analyzer: Analyzer,
    horizon: timedelta,
    not_after: datetime | None = None,
    *,
    in_time_order: bool = False,
) -> Tally:
    """Feed every input through dedup and the analyzer, writing records to `sink`; tweets dated
    after `not_after` (when given) are rejected as `timestamp_in_future`. With `in_time_order`,
    every tweet is read first and then analyzed sorted by event time (ties in input order).
    """
    tally = Tally()
    feed = _Feed(analyzer, sink, SeenIds(horizon), tally, hold=in_time_order)
    total = sum(count_messages(path) for path in inputs)
    # No collections while the analysis runs, nor over its state afterwards: that state is
    # millions of long-lived containers that every young collection re-examined (about 2 s of
    # the Higgs file's 20), and it makes no reference cycles (tests/test_analyzer.py checks),
    # so reference counting frees everything it drops.
    with gc_policy.building_long_lived_state():
        with tqdm(
            total=total, unit="line", desc="read" if in_time_order else "analyze", dynamic_ncols=True
        ) as bar:
            for path in inputs:
                read = 0
                try:
                    for number, raw in read_messages(path):
                        feed.take(parse_line(raw, number, not_after=not_after), path, number)
                        read += 1
                        if not read % _BAR_STEP:  # in steps: an update a line took 0.15 s on Higgs
                            bar.update(_BAR_STEP)
                except DamagedRecordingError as damage:  # what was read counts; the command reports it
                    tally.damaged.append(damage)
                bar.update(read % _BAR_STEP)
        feed.release()
        _write(sink, analyzer.flush(), tally)
    return tally


def _check_paths(inputs: tuple[Path, ...], out: Path, graph_out: Path | None) -> None:
    """UsageError unless every input is a file and the outputs can be written without erasing one."""
    check_recordings(inputs)
    check_writable("--out", out)
    if any(out.resolve() == path.resolve() for path in inputs):
        raise UsageError(f"--out {out} is one of the inputs: writing would erase it; pick another name")
    if graph_out is not None:
        check_writable("--graph-out", graph_out)
        if graph_out.suffix not in _GRAPH_WRITERS:
            raise UsageError(f"--graph-out {graph_out}: use a .graphml or .gexf file name")


def _report(tally: Tally, analyzer: Analyzer, out: Path, elapsed: float, lateness: timedelta) -> None:
    """Say what the analysis read and wrote; raise the first input damage (exit 2) once it is said."""
    for problem in tally.problems:
        say(f"  rejected: {problem}")
    rejected = sum(tally.rejected.values())
    say(
        f"{tally.tweets} tweets analyzed, {tally.duplicates} duplicates, {rejected} rejected "
        f"in {elapsed:.1f}s ({tally.tweets / max(elapsed, 1e-9):,.0f} tweets/s); wrote "
        + (", ".join(f"{n} {kind}" for kind, n in sorted(tally.written.items())) or "no records")
        + f" to {out}"
    )
    if analyzer.disordered_retweets:
        say(
            f"  {analyzer.disordered_retweets} retweets came after a later tweet of their cascade (the input "
            "is not in time order): their parents were inferred among the tweets read so far, so trees "
            "are shallower than in time order; --sort analyzes in time order"
        )
    if analyzer.conflicting_retweets:
        say(
            f"  {analyzer.conflicting_retweets} retweets ignored: their own id already roots a cascade "
            "(a retweet cycle: A retweets B, then B retweets A) or they retweet themselves"
        )
    if analyzer.dropped_events:
        say(
            f"  {analyzer.dropped_events} tweets came more than --lateness {format_duration(lateness)} "
            "behind the latest and older than the window: left out (a recording out of time order?)"
        )
    for damage in tally.damaged[1:]:
        say(f"  damaged: {damage}")
    if tally.damaged:  # the records are written, but the input was not read whole: exit 2
        raise tally.damaged[0]


def register(app: faust.App, settings: Settings) -> None:
    """Add the `analyze` command to `app`."""

    @app.command(
        argument("inputs", nargs=-1, required=True, type=Path),
        option("--out", type=Path, required=True, help="Where to write the records (JSON lines)."),
        option(
            "--window", type=Duration(), default=format_duration(settings.window), help="Rolling window span."
        ),
        option(
            "--lateness",
            type=Duration(zero_ok=True),
            default=format_duration(settings.lateness),
            help="Allowed lateness.",
        ),
        option(
            "--every",
            type=Duration(),
            default=None,
            help="Also write the records periodically, every DURATION of event time.",
        ),
        option(
            "--refresh",
            type=Duration(),
            default=format_duration(settings.refresh_every),
            help="With --every: recompute communities, polarization and coordination every DURATION "
            "of event time (rounded up to a multiple of --every); they are always computed at the end.",
        ),
        option(
            "--refresh-lag",
            type=Duration(zero_ok=True),
            default=None if settings.refresh_lag is None else format_duration(settings.refresh_lag),
            help="Write each refresh this long after its boundary, as the worker publishes it "
            "(default: --refresh; at most --refresh).",
        ),
        option("--top", type=int, default=None, help="Only the top N hashtags and users (default: all)."),
        option(
            "--reconstruction",
            type=click.Choice(["root", "time", "deverna"]),
            default=settings.reconstruction,
            help="How a retweet's parent is inferred when the data does not say.",
        ),
        option(
            "--followers",
            type=Path,
            default=settings.followers or None,
            help="A follower graph (FOLLOWER FOLLOWEE per line, .gz too) for --reconstruction time: "
            "a retweet's parent is then the latest earlier participant the retweeter follows.",
        ),
        option(
            "--sort",
            "in_time_order",
            is_flag=True,
            help="Read every input first, then analyze the tweets in event-time order (memory grows "
            "with the input): for recordings out of time order, such as twarc pages (newest first), "
            "whose inferred retweet parents would otherwise see only the tweets already read.",
        ),
        option(
            "--graph-out",
            type=Path,
            default=None,
            help="Write the final window's user retweet graph (.graphml or .gexf) for Gephi.",
        ),
        base=PlainCommand,
        name="analyze",
    )
    async def analyze(
        self: Any,
        inputs: tuple[Path, ...],
        out: Path,
        window: timedelta,
        lateness: timedelta,
        every: timedelta | None,
        refresh: timedelta,
        refresh_lag: timedelta | None,
        top: int | None,
        reconstruction: str,
        followers: Path | None,
        in_time_order: bool,
        graph_out: Path | None,
    ) -> None:
        """Analyze recordings offline with the live core; write its records to --out.

        INPUT files may be JSON lines (v1.1, v2/twarc2, native; .gz too), a JSON array, SNAP Higgs
        activity lines or Conover et al. edge lists. Example: resonance analyze tweets.jsonl.gz
        --out records.jsonl --top 50
        """
        _check_paths(inputs, out, graph_out)
        if refresh_lag is not None and refresh_lag > refresh:
            raise UsageError(
                f"--refresh-lag {format_duration(refresh_lag)} is longer than --refresh "
                f"{format_duration(refresh)}: a refresh is written before the next one starts; "
                "give at most that"
            )
        if top is not None and top <= 0:
            raise UsageError("--top must be positive, e.g. --top 50; omit it for everything")
        follower_graph = _follower_graph(followers, reconstruction)
        # The follower graph is read from --followers, not from RESONANCE_FOLLOWERS.
        chosen = replace(
            settings,
            window=window,
            lateness=lateness,
            refresh_every=refresh,
            refresh_lag=refresh_lag,
            reconstruction=reconstruction,
            followers="",
        )
        config = analyzer_config(chosen, every=every, top=top, follower_graph=follower_graph, live=False)
        analyzer = Analyzer(config)
        started = time.perf_counter()
        with out.open("wb") as sink:
            # As the worker's ingest: a tweet dated after the clock plus RESONANCE_CLOCK_SKEW is
            # rejected, not allowed to drag the watermark past every real one.
            not_after = datetime.now(UTC) + settings.clock_skew
            tally = run_analysis(
                inputs,
                sink,
                analyzer,
                horizon=window + lateness,
                not_after=not_after,
                in_time_order=in_time_order,
            )
        elapsed = time.perf_counter() - started
        if graph_out is not None:
            _GRAPH_WRITERS[graph_out.suffix](analyzer.user_graph(), graph_out)
        _report(tally, analyzer, out, elapsed, lateness)
