"""A rolling, weighted hashtag co-occurrence graph over an event-time window.

Every live tweet with distinct hashtags h1..hk adds 1 to the node attribute `count` of each tag
and 1 to the edge attribute `weight` of each unordered pair {hi, hj}. So, over the live tweets,
`count(a)` is the number of tweets using `a` (the `count` of `HashtagCounts`) and `weight(a, b)`
the number using both, with `weight(a, b) <= min(count(a), count(b))`: keeping the counts lets
callers normalise a pair (Jaccard, PMI) without a second aggregator. When a tweet leaves the
window its contribution is reverted, and nodes and edges that reach 0 are removed, so the graph
always equals the one built from scratch from the live tweets. Cost: O(k^2) per tweet with k
distinct tags, once when it enters and once when it leaves.

Nodes are the hashtags of live tweets, those of single-tag tweets included (isolated nodes).
twarc-network's hashtag graph (`--nodes hashtags`) adds nodes only through pairs: its nodes are
this graph's non-isolated ones, and its edges, taken undirected, are this graph's, plus a
self-loop for a tag repeated within one tweet (tags here are distinct per tweet).

Time follows `HashtagCounts`: the window is `[end - span, end)`, its end follows the watermark
(latest event time minus the allowed lateness) and stops at each multiple of the emission
cadence `every`, where a summary is taken. A tweet older than the window's end is late: counted
in `late_events` and dropped. Tags are taken as given (already normalised by `models.wire`).

Timeline (span 10, every 5, lateness 0; a tweet's tags are its letters)::

    event time  0   2   4   6   8   10  12  14  16
    tweets      ab          ac          bc      c
    end = 10    [-------------------)                  count a:2 b:1 c:1, weight ab:1 ac:1
    end = 15              [-------------------)        count a:1 b:1 c:2, weight ac:1 bc:1

The tweet at 16 moves the watermark to 16, so the end moves to 15: `ab` leaves, `bc` enters.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, TypedDict, cast

import networkx as nx

# Imported at run time, not only for type checking: compiled by mypyc, a dataclass needs the
# classes its fields are annotated with.
from streams.hashtags.counts import HashtagWindowConfig
from streams.window import ENTERED, LATE, Admission, SlidingWindow, Watermark, boundaries, from_ms, to_ms

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

Tags = tuple[str, ...]
"""One tweet's distinct hashtags, sorted: the window's item."""


class GraphSummary(TypedDict):
    """The graph at one window end, as plain data: sizes and the heaviest pairs `[a, b, weight]`."""

    nodes: int
    edges: int
    top_pairs: list[list[str | int]]


@dataclass(slots=True)
class CooccurrenceGraph:
    """The rolling hashtag co-occurrence graph of one stream (or one partition of it)."""

    config: HashtagWindowConfig
    late_events: int = 0
    _window: SlidingWindow[Tags] = field(init=False)
    _watermark: Watermark = field(init=False)
    _graph: nx.Graph[str] = field(init=False)

    def __post_init__(self) -> None:
        """Start empty."""
        self._window = SlidingWindow(self.config.span)
        self._watermark = Watermark(self.config.lateness)
        self._graph = nx.Graph()

    def observe(self, tags: Iterable[str], at: datetime) -> bool:
        """Hold one tweet's hashtags until the window's end passes `at`; False when dropped.

        A tweet without hashtags adds nothing but still moves the watermark. Nothing changes in
        the graph until `advance_due` (or `flush`) moves the window's end, except for a late
        tweet (older than the window's end): the same policy as `HashtagCounts`, it joins the
        graph at once while inside the window (counted in `late_events`), and is dropped when
        older than the window's start.
        """
        self._watermark.observe(at)
        if tags == ():  # most tweets (a tuple of none)
            return True
        item = tuple(sorted(set(tags)))
        if not item:
            return True
        admission = self._window.add(item, at)
        if admission in LATE or admission is Admission.DROPPED:
            self.late_events += 1  # the graph's count of late tweets includes the dropped ones
        if admission in ENTERED:
            self._add(item)
        return admission is not Admission.DROPPED

    def advance_due(self, top: int = 10, *, summarize: bool = True) -> list[tuple[datetime, GraphSummary]]:
        """Move the window's end through every boundary the watermark passed, oldest first.

        Return the summary (with `top` pairs) at each: final, and independent of arrival order.
        With `summarize` off, return nothing: a summary scans every edge, too costly to compute
        at boundaries nobody reports.
        """
        watermark = self._watermark.current
        if watermark is None:
            return []
        return self._advance_through(watermark, top if summarize else None)

    def flush(self, top: int = 10) -> list[tuple[datetime, GraphSummary]]:
        """End of input: advance through the first boundary after the latest event.

        As `advance_due`, but every event received is then live (when the span allows); events
        that arrive later and are older than the new end are late.
        """
        latest = self._watermark.latest
        if latest is None:
            return []
        return self._advance_through(latest + self.config.every, top)

    def _advance_through(self, until: datetime, top: int | None) -> list[tuple[datetime, GraphSummary]]:
        summaries: list[tuple[datetime, GraphSummary]] = []
        for end in boundaries(
            self._window.end,
            until,
            self.config.every,
            span=self.config.span + self.config.lateness + self.config.every,
        ):
            self._window.advance(end).apply(self._add, self._remove)
            if top is not None:
                summaries.append((end, self.summary(top)))
        return summaries

    def work_ahead(self, until: datetime, limit: int) -> int:
        """Do at most `limit` moves of what moving the window's end to `until` will do, now;
        return how many were done. Invisible to the graph as every boundary leaves it
        (`SlidingWindow.work_ahead`).
        """
        change = self._window.work_ahead(until, limit)
        change.apply(self._add, self._remove)
        return len(change)

    def _add(self, tags: Tags) -> None:
        graph = self._graph
        for tag in tags:
            if tag in graph:
                graph.nodes[tag]["count"] += 1
            else:
                graph.add_node(tag, count=1)
        for a, b in combinations(tags, 2):
            # Called through Any: networkx's stubs omit the None it returns for a missing edge,
            # and compiled by mypyc, a call's result is checked against its declared type.
            data: dict[str, Any] | None = cast("Any", graph).get_edge_data(a, b)
            if data is None:
                graph.add_edge(a, b, weight=1)
            else:
                data["weight"] += 1

    def _remove(self, tags: Tags) -> None:
        # Edges first: a tag's node can only reach count 0 once all its edges have reached 0.
        graph = self._graph
        for a, b in combinations(tags, 2):
            data = graph[a][b]
            data["weight"] -= 1
            if not data["weight"]:
                graph.remove_edge(a, b)
        for tag in tags:
            attrs = graph.nodes[tag]
            attrs["count"] -= 1
            if not attrs["count"]:
                graph.remove_node(tag)

    @property
    def graph(self) -> nx.Graph[str]:
        """Return the graph at the window's end as a read-only live view (`.copy()` detaches it).

        Node attribute `count`, edge attribute `weight`. The view's structure cannot be changed;
        its attribute dicts are the core's own, so do not write to them.
        """
        return nx.graphviews.subgraph_view(self._graph)

    @property
    def end(self) -> datetime | None:
        """The window's end, None before the first boundary."""
        return self._window.end

    @property
    def watermark(self) -> datetime | None:
        """The current watermark, None before the first event."""
        return self._watermark.current

    def top_pairs(self, n: int) -> list[tuple[str, str, int]]:
        """Return the `n` heaviest pairs `(a, b, weight)`, `a < b`: weight descending, then tags.

        O(edges) per call; `adjacency()` hands out the raw neighbour dicts, several times faster
        to scan than the edge view.
        """
        ranked = heapq.nsmallest(
            n,
            (
                (-data["weight"], a, b)
                for a, neighbours in self._graph.adjacency()
                for b, data in neighbours.items()
                if a < b
            ),
        )
        return [(a, b, -negative) for negative, a, b in ranked]

    def summary(self, n: int = 10) -> GraphSummary:
        """Return the node and edge counts and the `n` heaviest pairs, as plain data."""
        return {
            "nodes": self._graph.number_of_nodes(),
            "edges": self._graph.number_of_edges(),
            "top_pairs": [[a, b, weight] for a, b, weight in self.top_pairs(n)],
        }

    def snapshot(self) -> dict[str, Any]:
        """Plain data from which `restore` rebuilds this state exactly (the graph is derived)."""
        latest = self._watermark.latest
        return {
            "window": self._window.snapshot(list),
            "latest_ms": None if latest is None else to_ms(latest),
            "late_events": self.late_events,
        }

    @classmethod
    def restore(cls, config: HashtagWindowConfig, data: dict[str, Any]) -> CooccurrenceGraph:
        """Rebuild the state `snapshot` described; it continues exactly as the original would."""
        state = cls(config, late_events=data["late_events"])
        state._window = SlidingWindow.restore(data["window"], tuple)
        if data["latest_ms"] is not None:
            state._watermark.observe(from_ms(data["latest_ms"]))
        for tags in state._window.live():
            state._add(tags)
        return state
