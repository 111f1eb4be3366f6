"""The compiled core: `make test` tests the code that `make demo` and `make bench` run, and a
source edited after the build is caught before its stale compiled code runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agents import native

if TYPE_CHECKING:
    from pathlib import Path

SUFFIX = ".cpython-311-x86_64-linux-gnu.so"


def test_the_session_runs_the_core_compiled() -> None:
    """The per-event core is compiled, the numpy-bound modules are not."""
    description = native.describe()
    assert description.startswith("compiled by mypyc"), f"{description}: `make test` compiles it first"
    names = native.compiled_modules()
    assert {"streams.analyzer", "streams.cascades", "streams.influence", "models.wire.higgs"} <= set(names)
    assert not any(name.startswith(("streams.polarization", "streams.communities")) for name in names)


def _project(root: Path, *, built_at: float, edited_at: float) -> Path:
    """A project tree with one compiled module, built and last edited at the given times."""
    package = root / "streams"
    package.mkdir()
    source = package / "window.py"
    source.write_text("x = 1\n")
    for built in (package / f"window{SUFFIX}", package / f"_native__mypyc{SUFFIX}"):
        built.write_bytes(b"")
        os.utime(built, (built_at, built_at))
    os.utime(source, (edited_at, edited_at))
    return source


def test_a_source_edited_after_the_build_is_stale(tmp_path: Path) -> None:
    """An edit after the build names the source."""
    _project(tmp_path, built_at=1_000, edited_at=2_000)
    assert native.stale_modules(tmp_path) == ["streams/window.py"]


def test_a_source_older_than_the_build_is_current(tmp_path: Path) -> None:
    """A build after the last edit is current."""
    _project(tmp_path, built_at=2_000, edited_at=1_000)
    assert native.stale_modules(tmp_path) == []


def test_the_library_stamp_covers_shims_that_were_not_rewritten(tmp_path: Path) -> None:
    """A rebuild that relinked only the library (the shim's C was unchanged) is current."""
    source = _project(tmp_path, built_at=1_000, edited_at=2_000)
    library = source.parent / f"_native__mypyc{SUFFIX}"
    os.utime(library, (3_000, 3_000))  # a later build relinked the library, not the shim
    assert native.stale_modules(tmp_path) == []
