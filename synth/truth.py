"""The planted truth of a synthetic stream, and the stream written to disk beside it.

`ground_truth(spec)` needs no generation: the cast and the schedule are decided up front, and
the ring targets' ids are reserved snowflakes (see `synth.generator`). Its keys:

``spec``
    every `StreamSpec` field (`start` as ISO 8601 with ``Z``; `users` filled in).
``user_community``
    ``{user_id: community index}`` for every user.
``community_hashtags``, ``shared_hashtags``
    each community's own hashtags (a list per community) and everyone's.
``influencers``, ``celebrities``
    user ids: few followers but deep cascades; the most followers but no spread.
``rings``, ``ring_clients``, ``ring_targets``
    per ring: its member ids, the account it amplifies, and the ids of the originals it
    co-retweeted (each retweeted by every member within seconds).
``bursts``
    ``{"hashtag", "start", "end"}`` (ISO 8601), the tag's rate multiplied by about
    ``spec.burst_factor`` during ``[start, end)``.
"""

from __future__ import annotations

import dataclasses
import gzip
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from models.wire import to_native
from synth.generator import StreamSpec, generate, planted_id, stream_plan
from synth.population import build_population

if TYPE_CHECKING:
    import io
    from collections.abc import Callable
    from datetime import datetime

PROGRESS_EVERY = 10_000
_LINES_PER_WRITE = 1_000
_GZIP_LEVEL = 6  # zlib's default: about as small as 9 at a fraction of the time


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def ground_truth(spec: StreamSpec) -> dict[str, Any]:
    """Return the structure planted in `generate(spec)` as a plain JSON-able dict."""
    population = build_population(spec)
    plan = stream_plan(spec, population)
    targets: list[list[str]] = [[] for _ in range(spec.rings)]
    for at_ms, ring in plan.strikes:
        targets[ring].append(planted_id(spec, at_ms, ring))
    spec_fields = {field.name: getattr(spec, field.name) for field in dataclasses.fields(spec)}
    return {
        "spec": {**spec_fields, "start": _iso(spec.start)},
        "user_community": dict(zip(population.ids, population.community, strict=True)),
        "community_hashtags": [list(tags) for tags in population.community_tags],
        "shared_hashtags": list(population.shared_tags),
        "influencers": [population.ids[u] for u in population.influencers],
        "celebrities": [population.ids[u] for u in population.celebrities],
        "rings": [[population.ids[u] for u in ring] for ring in population.rings],
        "ring_clients": [population.ids[u] for u in population.ring_clients],
        "ring_targets": targets,
        "bursts": [
            {
                "hashtag": burst.hashtag,
                "start": _iso(spec.start + timedelta(milliseconds=burst.start_ms)),
                "end": _iso(spec.start + timedelta(milliseconds=burst.end_ms)),
            }
            for burst in plan.bursts
        ],
    }


def _open(path: Path, stack: ExitStack) -> gzip.GzipFile | io.BufferedWriter:
    if path.name.endswith(".gz"):
        return stack.enter_context(gzip.open(path, "wb", compresslevel=_GZIP_LEVEL))
    return stack.enter_context(path.open("wb"))


def write_stream(
    spec: StreamSpec,
    out_path: str | Path,
    truth_path: str | Path | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> int:
    """Write `generate(spec)` as native JSON lines, and its ground truth; return the count.

    The lines are gzip-compressed when `out_path` ends with ``.gz``; `ground_truth(spec)` goes
    to `truth_path` as JSON when given. `progress(count)` is called after every
    `progress_every` events and with the final count at the end. Memory stays flat: lines are
    written in batches as they are generated.
    """
    if progress_every < 1:
        raise ValueError("progress_every must be >= 1")
    count = 0
    with ExitStack() as stack:
        out = _open(Path(out_path), stack)
        batch: list[bytes] = []
        for event in generate(spec):
            batch.append(orjson.dumps(to_native(event)))
            count += 1
            if len(batch) == _LINES_PER_WRITE:
                out.write(b"\n".join(batch) + b"\n")
                batch.clear()
            if progress is not None and count % progress_every == 0:
                progress(count)
        if batch:
            out.write(b"\n".join(batch) + b"\n")
    if progress is not None and count % progress_every:
        progress(count)
    if truth_path is not None:
        Path(truth_path).write_bytes(orjson.dumps(ground_truth(spec), option=orjson.OPT_INDENT_2))
    return count
