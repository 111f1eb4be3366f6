"""`resonance generate` writes a synthetic stream and its ground truth; the new commands teach."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import orjson
import pytest

from models.event import TweetEvent
from models.wire import parse_line
from support import REPO, RESONANCE
from synth import StreamSpec, ground_truth, write_stream


def resonance(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run `resonance` (as `python -m cli`) to completion."""
    return subprocess.run(
        [*RESONANCE, *map(str, args)], capture_output=True, text=True, timeout=60, check=False, cwd=REPO
    )


def test_generate_writes_a_stream_and_its_ground_truth_that_parse(tmp_path: Path) -> None:
    """The stream is gzip JSON lines of valid events, byte for byte what `write_stream` gives for
    the same spec, and the truth file beside it is that spec's ground truth.
    """
    out = tmp_path / "stream.jsonl.gz"
    args = ("--events", "400", "--seed", "9", "--rings", "1", "--communities", "3", "--rate", "50")
    result = resonance("generate", "--out", out, *args)
    assert result.returncode == 0, result.stderr
    assert "wrote 400 events" in result.stderr
    lines = gzip.decompress(out.read_bytes()).splitlines()
    events = [r for number, line in enumerate(lines, 1) for r in parse_line(line, number)]
    assert len(events) == 400
    assert all(isinstance(e, TweetEvent) for e in events)
    spec = StreamSpec(events=400, seed=9, rings=1, communities=3, rate_per_second=50)
    write_stream(spec, tmp_path / "reference.jsonl")
    assert gzip.decompress(out.read_bytes()) == (tmp_path / "reference.jsonl").read_bytes()
    truth = orjson.loads((tmp_path / "stream.truth.json").read_bytes())
    assert truth == orjson.loads(orjson.dumps(ground_truth(spec)))
    assert len(truth["rings"]) == 1
    assert not list(tmp_path.glob("partial-*"))


@pytest.mark.parametrize(
    ("args", "fix"),
    [
        (("--events", "0"), "--events must be positive"),
        (("--events", "100", "--communities", "0"), "--communities must be >= 1"),
        (("--events", "100", "--rate", "-5"), "--rate must be in"),
    ],
)
def test_generate_answers_bad_values_with_one_line(tmp_path: Path, args: tuple[str, ...], fix: str) -> None:
    """An impossible value exits 2 with one line naming the option, writes nothing, and shows no
    traceback.
    """
    result = resonance("generate", "--out", tmp_path / "s.jsonl", "--seed", "1", *args)
    assert result.returncode == 2
    assert fix in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["generate", "record", "replay"])
def test_new_commands_teach_with_an_example(command: str) -> None:
    """Each new command's --help ends its description with an example to copy."""
    result = resonance(command, "--help")
    assert result.returncode == 0
    assert f"Example: resonance {command} " in " ".join(result.stdout.split())
