"""The analyzer's refreshes (communities, polarization and coordination, `streams.alerts.watch`)
as work that may run elsewhere: computed from the window as it stood at a refresh boundary, and
published a fixed span of event time later (`AnalyzerConfig.refresh_lag`).

A refresh of a large window takes minutes (the random-walk controversy null model above all).
Done where the analyzer runs, it held every record behind it. So the analyzer hands the work to a
`Refresher`, which may run it at once (`inline`: `resonance analyze`) or in another process, on a
copy of the analyzer as it stood (the worker: `agents.refresh_fork`), and takes the result at the
boundary `refresh_lag` later, waiting only if it is not ready yet. Which boundary publishes a
refresh depends on event time alone, never on how long the work took: a replay gives the same
records in the same place of the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from models.records import Record, record_from_json


@dataclass(frozen=True, slots=True)
class Refreshed:
    """A refresh's records (alerts included), and, when it ran detached, the state it left in the
    watch (`Watch.adopt`); None when it ran in place, where that state already is.
    """

    records: list[Record]
    state: dict[str, Any] | None

    def plain(self) -> dict[str, Any]:
        """JSON-able plain data for `of`."""
        return {"records": [orjson.loads(record.to_bytes()) for record in self.records], "state": self.state}

    @classmethod
    def of(cls, plain: dict[str, Any]) -> Refreshed:
        """The result `plain` describes."""
        return cls([record_from_json(record) for record in plain["records"]], plain["state"])


Compute = Callable[[bool], Refreshed]
"""A refresh's work. Its argument says whether it runs detached (on a copy of the analyzer, say in
a fork): the result then carries the state the refresh left, for the analyzer to adopt.
"""

Result = Callable[[], Refreshed]
"""A started refresh's result; waits for it when it is not ready yet."""

Refresher = Callable[[Compute], Result]
"""Starts a refresh's work, now, on the analyzer as it stands."""


def inline(compute: Compute) -> Result:
    """Run the refresh now, in place."""
    return ready(compute(False))  # noqa: FBT003 - the Compute signature


def ready(refreshed: Refreshed) -> Result:
    """The result of a refresh already done."""
    return lambda: refreshed


@dataclass(frozen=True, slots=True)
class Pending:
    """A refresh started: the boundary whose window it describes, the boundary that publishes it,
    and its result.
    """

    at: datetime
    due: datetime
    result: Result
