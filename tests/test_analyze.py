"""`resonance analyze`: the live core offline, on real recordings, deterministic."""

from __future__ import annotations

import contextlib
import gzip
import io
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

import networkx as nx
import orjson
import pytest

from cli.analyze import run_analysis
from cli.recordings import read_messages
from models.event import TweetEvent
from models.records import RECORD_KINDS
from models.wire import parse_message, to_native
from streams.analyzer import Analyzer, AnalyzerConfig
from support import DATASETS, RESONANCE
from synth.generator import StreamSpec, generate

HIGGS = DATASETS / "higgs_twitter"


def test_higgs_retweet_graph_equals_the_published_retweet_edge_list(tmp_path: Path) -> None:
    """With a window covering the week, the retweet graph built from the activity file has exactly
    the edges and weights of SNAP's retweet network (328,132 edges, weight sum 354,930).
    """
    analyzer = Analyzer(AnalyzerConfig.build(window=timedelta(days=8), lateness=timedelta(seconds=10)))
    with (tmp_path / "records.jsonl").open("wb") as sink:
        tally = run_analysis((HIGGS / "higgs-activity_time.txt.gz",), sink, analyzer, timedelta(days=8))
    assert tally.tweets == 563_069
    graph = analyzer.user_graph()
    expected: Counter[tuple[str, str]] = Counter()
    with gzip.open(HIGGS / "higgs-retweet_network.edgelist.gz", "rt") as edges:
        for line in edges:
            source, target, weight = line.split()
            expected[source, target] = int(weight)
    assert graph.number_of_edges() == len(expected) == 328_132
    got = {(a, b): w for a, b, w in graph.edges(data="weight")}
    assert got == dict(expected)
    assert sum(got.values()) == 354_930


def _analyze(out: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RESONANCE, "analyze", *map(str, inputs), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_same_input_gives_byte_identical_output(tmp_path: Path) -> None:
    """Two analyses of the same recordings write the same bytes, records of every kind included."""
    inputs = sorted((DATASETS / "real_tweets" / "v2_twarc").glob("*.jsonl"))
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    for out in (first, second):
        result = _analyze(out, *inputs, extra=("--every", "10m", "--reconstruction", "deverna"))
        assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    kinds = Counter(orjson.loads(line)["kind"] for line in first.read_bytes().splitlines())
    assert {"hashtag", "hashtag_graph", "cascade", "influence", "influence_summary", "communities"} <= set(
        kinds
    )
    assert set(kinds) <= {*RECORD_KINDS}


def test_a_tweet_dated_in_the_future_is_rejected_not_allowed_to_drop_the_rest(tmp_path: Path) -> None:
    """One tweet claiming 2099 would move the watermark past every real tweet and every later one
    would be dropped as late: it is rejected (timestamp_in_future), and the records are those of
    the recording without it. Tweets left out for arriving too late are reported, not silent.
    """
    recording = DATASETS / "real_tweets" / "v2_twarc" / "twarc_network_tweets.jsonl"
    lines = recording.read_bytes().splitlines()
    future = orjson.dumps({"id": "f1", "user_id": "u", "created_at": "2099-01-01T00:00:00Z", "text": "#x"})
    poisoned = tmp_path / "poisoned.jsonl"
    poisoned.write_bytes(b"\n".join([*lines[:2], future, *lines[2:]]) + b"\n")
    clean_out, poisoned_out = tmp_path / "clean-records.jsonl", tmp_path / "poisoned-records.jsonl"
    assert _analyze(clean_out, recording).returncode == 0
    result = _analyze(poisoned_out, poisoned)
    assert result.returncode == 0, result.stderr
    assert "poisoned.jsonl:3: timestamp_in_future: created_at 2099-01-01" in result.stderr
    assert "1 rejected" in result.stderr
    assert poisoned_out.read_bytes() == clean_out.read_bytes()

    # Halves swapped: the first half, older than the window when it arrives, is left out, said so.
    tweets = [orjson.dumps(to_native(event)) for event in generate(StreamSpec(events=6_000, seed=3))]
    reordered = tmp_path / "reordered.jsonl"
    reordered.write_bytes(b"\n".join([*tweets[3_000:], *tweets[:3_000]]) + b"\n")
    result = _analyze(tmp_path / "reordered-records.jsonl", reordered, extra=("--window", "1m"))
    assert result.returncode == 0, result.stderr
    assert "tweets came more than --lateness 10s behind the latest" in result.stderr


def test_a_truncated_recording_is_analyzed_up_to_the_damage_and_named(tmp_path: Path) -> None:
    """A gzip recording cut short (a recording interrupted mid-write): the records are those of
    its readable lines, and the command exits 2 with one line saying where the file broke.
    """
    tweets = [orjson.dumps(to_native(event)) for event in generate(StreamSpec(events=3_000, seed=5))]
    packed = gzip.compress(b"\n".join(tweets) + b"\n", mtime=0)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    readable = gzip.GzipFile(fileobj=io.BytesIO(cut.read_bytes()))
    lines: list[bytes] = []
    with contextlib.suppress(EOFError):
        lines.extend(readable)
    whole = [line for line in lines if line.endswith(b"\n")]
    assert 0 < len(whole) < len(tweets)
    intact = tmp_path / "intact.jsonl"
    intact.write_bytes(b"".join(whole))

    result = _analyze(tmp_path / "cut-records.jsonl", cut)
    assert result.returncode == 2
    assert f"{cut}: unreadable after line {len(whole)}" in result.stderr
    assert "Traceback" not in result.stderr
    assert _analyze(tmp_path / "intact-records.jsonl", intact).returncode == 0
    assert (tmp_path / "cut-records.jsonl").read_bytes() == (tmp_path / "intact-records.jsonl").read_bytes()


def test_sort_analyzes_a_newest_first_recording_as_if_in_time_order(tmp_path: Path) -> None:
    """Twarc pages list the newest tweets first: read so, each retweet's parent is inferred among the
    tweets read so far, every tree is a star, and the command says how many retweets that hit.
    --sort gives exactly the records of the same tweets in time order, with deeper trees.
    """
    source = DATASETS / "real_tweets" / "v2_twarc" / "twarc_network_tweets.jsonl"
    tweets = [t for _, raw in read_messages(source) for t in parse_message(raw) if isinstance(t, TweetEvent)]
    in_order = tmp_path / "in-order.jsonl"
    in_order.write_bytes(b"\n".join(orjson.dumps(to_native(t)) for t in sorted(tweets, key=lambda t: t.at)))
    as_is, sorted_out, ordered_out = (tmp_path / f"{name}.jsonl" for name in ("as-is", "sorted", "ordered"))

    result = _analyze(as_is, source, extra=("--window", "2h"))
    assert result.returncode == 0, result.stderr
    assert "retweets came after a later tweet of their cascade" in result.stderr
    assert _analyze(sorted_out, source, extra=("--window", "2h", "--sort")).returncode == 0
    assert _analyze(ordered_out, in_order, extra=("--window", "2h")).returncode == 0

    def depths(path: Path) -> Counter[int]:
        lines = path.read_bytes().splitlines()
        return Counter(r["depth"] for line in lines if (r := orjson.loads(line))["kind"] == "cascade")

    assert sorted_out.read_bytes() == ordered_out.read_bytes()
    assert max(depths(as_is)) == 1
    assert max(depths(sorted_out)) >= 2


@pytest.mark.parametrize("suffix", [".graphml", ".gexf"])
def test_graph_out_writes_the_user_retweet_graph_for_gephi(tmp_path: Path, suffix: str) -> None:
    """--graph-out writes the final window's weighted user retweet graph with influence attributes,
    and each user's community and camp.
    """
    graph_path = tmp_path / f"users{suffix}"
    recording = DATASETS / "real_tweets" / "v2_twarc" / "twarc_network_tweets.jsonl"
    result = _analyze(
        tmp_path / "out.jsonl", recording, extra=("--window", "1h", "--graph-out", str(graph_path))
    )
    assert result.returncode == 0, result.stderr
    graph = (nx.read_graphml if suffix == ".graphml" else nx.read_gexf)(graph_path)
    assert graph.number_of_edges() > 300
    weights = [w for _, _, w in graph.edges(data="weight")]
    assert all(w >= 1 for w in weights)
    assert any("pagerank" in attributes for _, attributes in graph.nodes(data=True))
    # Every user of the retweet graph belongs to a community and a camp of the final refresh,
    # and the communities match the records' (the largest listed first).
    communities = Counter(int(attributes["community"]) for _, attributes in graph.nodes(data=True))
    assert all("camp" in attributes for _, attributes in graph.nodes(data=True))
    [retweet] = [
        r
        for line in (tmp_path / "out.jsonl").read_bytes().splitlines()
        if (r := orjson.loads(line))["kind"] == "communities" and r["layer"] == "retweet"
    ]
    assert retweet["count"] == len(communities)
    largest = retweet["communities"][0]
    assert communities[largest["id"]] == largest["size"] == max(communities.values())
