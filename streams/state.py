"""The contract of the stateful cores: built empty from a config, saved as plain data, rebuilt.

Every core whose state outlives an event (windows, counters, graphs, the whole `Analyzer`) keeps
it: `snapshot()` gives JSON-able plain data, and the class's `restore(config, data)` rebuilds the
state exactly, so a core restored from a snapshot continues as the original would have. The live
stages' checkpoints (`agents.checkpoints.Codec.of_core`) build on this contract alone.

>>> from datetime import timedelta
>>> from streams.dedup import SeenIds
>>> kind: Core[timedelta, SeenIds] = SeenIds
>>> restored = kind.restore(timedelta(minutes=1), kind(timedelta(minutes=1)).snapshot())
>>> len(restored)
0
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

C_contra = TypeVar("C_contra", contravariant=True)
S_co = TypeVar("S_co", bound="Snapshotting", covariant=True)


class Snapshotting(Protocol):
    """A core's state, saved as plain data."""

    def snapshot(self) -> Any:
        """JSON-able plain data from which the class's `restore` rebuilds this state exactly."""
        ...  # pragma: no cover - a protocol


class Core(Protocol[C_contra, S_co]):
    """A kind of stateful core (its class): called with its config, an empty state; `restore`
    rebuilds one from its snapshot data under the config it ran with.
    """

    def __call__(self, config: C_contra, /) -> S_co:
        """An empty state under `config`."""
        ...  # pragma: no cover - a protocol

    def restore(self, config: C_contra, data: Any, /) -> S_co:
        """The state `snapshot` described."""
        ...  # pragma: no cover - a protocol
