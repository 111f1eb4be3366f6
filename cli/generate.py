"""`resonance generate --out FILE --events N --seed S`: a synthetic stream and its ground truth.

The stream (native JSON lines, gzip when FILE ends in `.gz`) comes from `synth.generate`: planted
communities with their own hashtags, celebrities whose posts go nowhere and influencers whose
posts spread for generations, cascades with explicit `parent_id`, optional coordinated rings and
hashtag bursts. The same arguments always give the same bytes. The ground truth
(`synth.ground_truth`) goes beside it: FILE with its extensions replaced by `.truth.json`.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import faust
from faust.cli import option
from tqdm import tqdm

from agents.settings import Settings
from cli.base import PlainCommand, UsageError, check_writable, say
from models.duration import format_duration
from synth.generator import StreamSpec
from synth.truth import write_stream

# StreamSpec's fields as the options that set them, so its errors name what the user typed
_OPTIONS = {
    "events": "--events",
    "rate_per_second": "--rate",
    "communities": "--communities",
    "rings": "--rings",
    "bursts": "--bursts",
}
_DEFAULTS = {spec.name: spec.default for spec in dataclasses.fields(StreamSpec)}
_PROGRESS_STEPS = 100  # progress bar updates over a whole stream (at most every 10,000 events)


def truth_path(out: Path) -> Path:
    """Where the ground truth of the stream `out` goes: `stream.jsonl.gz` -> `stream.truth.json`.

    >>> truth_path(Path("runs/stream.jsonl.gz")).as_posix()
    'runs/stream.truth.json'
    """
    name = out.name.removesuffix(".gz")
    return out.with_name(f"{Path(name).stem if Path(name).suffix else name}.truth.json")


def _spec(events: int, seed: int, rings: int, communities: int, bursts: int, rate: float) -> StreamSpec:
    if events <= 0:
        raise UsageError("--events must be positive, e.g. --events 100000")
    try:
        return StreamSpec(
            events=events,
            seed=seed,
            rings=rings,
            communities=communities,
            bursts=bursts,
            rate_per_second=rate,
        )
    except ValueError as error:
        message = str(error)
        for name, flag in _OPTIONS.items():
            message = re.sub(rf"\b{name}\b", flag, message)
        raise UsageError(f"cannot generate this stream: {message}") from None


def register(app: faust.App, settings: Settings) -> None:
    """Add the `generate` command to `app`."""

    @app.command(
        option("--out", type=Path, required=True, help="The stream to write (gzip when it ends in .gz)."),
        option("--events", type=int, required=True, help="How many events (tweets)."),
        option("--seed", type=int, required=True, help="The seed: the same seed, the same stream."),
        option("--rings", type=int, default=_DEFAULTS["rings"], show_default=True, help="Coordinated rings."),
        option(
            "--communities",
            type=int,
            default=_DEFAULTS["communities"],
            show_default=True,
            help="Communities, each with its own hashtags.",
        ),
        option(
            "--bursts",
            type=int,
            default=_DEFAULTS["bursts"],
            show_default=True,
            help="Community hashtags that burst at a planted time.",
        ),
        option(
            "--rate",
            type=float,
            default=_DEFAULTS["rate_per_second"],
            show_default=True,
            help="Events per second of event time.",
        ),
        base=PlainCommand,
        name="generate",
    )
    async def generate(
        self: Any,
        out: Path,
        events: int,
        seed: int,
        rings: int,
        communities: int,
        bursts: int,
        rate: float,
    ) -> None:
        """Write a synthetic stream with planted structure, and its ground truth beside it.

        Native JSON lines, deterministic per seed, written as generated (memory stays flat). The
        ground truth (communities, influencers, celebrities, rings, bursts) goes to FILE with its
        extensions replaced by .truth.json.

        \b
        Example: resonance generate --out stream.jsonl.gz --events 100000 --seed 7 --rings 2
        (writes stream.jsonl.gz and stream.truth.json)
        """  # noqa: D301 - click's \b (a backspace) keeps the example unwrapped
        spec = _spec(events, seed, rings, communities, bursts, rate)
        check_writable("--out", out)
        truth = truth_path(out)
        partial = out.with_name(f"partial-{out.name}")  # keeps the .gz ending that selects gzip
        every = max(1, min(10_000, events // _PROGRESS_STEPS))
        with tqdm(total=events, unit="event", desc="generate", dynamic_ncols=True) as bar:
            count = write_stream(
                spec, partial, truth, progress=lambda n: bar.update(n - bar.n), progress_every=every
            )
        partial.replace(out)
        span = timedelta(seconds=round(events / spec.rate_per_second))
        say(
            f"wrote {count} events to {out} (about {format_duration(span)} of event time from "
            f"{spec.start.isoformat().replace('+00:00', 'Z')}; {spec.communities} communities, "
            f"{spec.rings} rings, {spec.bursts} bursts) and the ground truth to {truth}"
        )
