"""The compiled core: `make test` tests the code that `make demo` and `make bench` run, and a
source edited after the build is caught before its stale compiled code runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING

from cli import native

if TYPE_CHECKING:
    from pathlib import Path

SHIM = "window.cpython-311-x86_64-linux-gnu.so"


def test_the_session_runs_the_core_compiled() -> None:
    """The per-event core is compiled, the numpy-bound modules are not."""
    description = native.describe()
    assert description.startswith("compiled by mypyc"), f"{description}: `make test` compiles it first"
    assert "STALE" not in description
    names = native.compiled_modules()
    compiled = {"streams.analyzer", "streams.cascades.forest", "streams.influence.tracker", "models.wire.v2"}
    assert compiled <= set(names)
    numeric = ("streams.chambers.polarization", "streams.chambers.communities")
    assert not any(name.startswith(numeric) for name in names)


def _built(root: Path, source_text: str) -> Path:
    """A project tree with one module compiled from `source_text`; returns its source."""
    package = root / "streams"
    package.mkdir()
    source = package / "window.py"
    source.write_text(source_text)
    (package / SHIM).write_bytes(b"")
    digest = hashlib.sha256(source_text.encode()).hexdigest()
    (package / "_native.sources.json").write_text(json.dumps({"streams/window.py": digest}))
    return source


def test_the_source_it_was_built_from_is_current(tmp_path: Path) -> None:
    """Unchanged content is current, even rewritten later (as a checkout does)."""
    source = _built(tmp_path, "x = 1\n")
    source.write_text("x = 1\n")
    os.utime(source, (4_000_000_000, 4_000_000_000))
    assert native.stale_modules(tmp_path) == []


def test_an_edited_source_is_stale(tmp_path: Path) -> None:
    """An edit after the build names the source."""
    source = _built(tmp_path, "x = 1\n")
    source.write_text("x = 2\n")
    assert native.stale_modules(tmp_path) == ["streams/window.py"]


def test_a_module_built_without_a_record_of_its_source_is_stale(tmp_path: Path) -> None:
    """No digest (a build by other means, or an old one): it cannot be trusted."""
    source = _built(tmp_path, "x = 1\n")
    (source.parent / "_native.sources.json").unlink()
    assert native.stale_modules(tmp_path) == ["streams/window.py"]
