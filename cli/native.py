"""The core compiled to C: what is compiled, how (`python -m cli.native`), and if it is current.

`make native` (run by `make test`, `demo` and `bench`) compiles the per-event core with mypyc,
which ships with mypy: the same typed sources, 1.3 to 1.8 times as fast in `analyze` on the Higgs
file (less in the worker, where Faust's own per-message work dominates).
Anywhere else (a plain `pip install`) they run as Python. Left out are the modules that spend
their time in numpy, igraph or networkx (communities, polarization, chambers, pagerank): they
would gain nothing; and the records (see `COMPILED`).

Python imports an extension before the `.py` beside it, so after an edit the old compiled code
would run until the next build. `stale_modules` names such modules (a build notes the digest of
each source it compiled): the CLI warns and the test session refuses to start.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import orjson

_ROOT = Path(__file__).resolve().parent.parent
_MANIFEST = "_native.sources.json"  # in each package: the digest of every source compiled
_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
COMPILED = {
    "models": [
        "models/duration.py",
        "models/event.py",
        "models/hashtags.py",
        # Not models/records.py: its frozen dataclasses' `kind` ClassVar reads as an instance
        # attribute once compiled (mypyc/mypyc#1207), and records are few beside events.
        *sorted(str(path.relative_to(_ROOT)) for path in (_ROOT / "models" / "wire").glob("*.py")),
    ],
    "streams": [
        f"streams/{name}.py"
        for name in (
            "alerts/rules",
            "alerts/watch",
            "analyzer",
            "cascades/forest",
            "cascades/orphans",
            "cascades/reconstruction",
            "cascades/size_percentile",
            "cascades/tree",
            "coordination/botness",
            "coordination/coretweets",
            "dedup",
            "sorted_runs",
            "hashtags/bursts",
            "hashtags/cooccurrence",
            "hashtags/counts",
            "hashtags/metrics",
            "influence/credits",
            "influence/reports",
            "influence/tracker",
            "user_activity",
            "window",
        )
    ],
}
"""Source files compiled, by package (one library each)."""


def compiled_modules() -> list[str]:
    """Names of the loaded core modules that run compiled, sorted."""
    return sorted(
        name for name, path in _loaded_core() if _is_extension(path) and not name.endswith("__mypyc")
    )


def stale_modules(root: Path = _ROOT) -> list[str]:
    """Source paths (relative to `root`, the project) of compiled modules whose source is not
    the one they were compiled from, sorted.
    """
    stale = []
    for package in COMPILED:
        built_from = _manifest(root / package)
        for shim in (root / package).rglob("*.so"):
            source = shim.with_name(shim.name.split(".", 1)[0] + ".py")
            path = str(source.relative_to(root))
            if source.exists() and built_from.get(path) != _digest(source):
                stale.append(path)
    return sorted(stale)


def stale_warning() -> str | None:
    """One line for users when compiled modules are stale, else None."""
    stale = stale_modules()
    if not stale:
        return None
    return (
        f"{', '.join(stale)} changed since the core was compiled, and the old compiled code "
        "would run: run `make native` to compile it again"
    )


def describe() -> str:
    """How the core runs here, in a few words (for reports): compiled, stale or plain Python."""
    names = [
        path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for sources in COMPILED.values()
        for path in sources
    ]
    for name in names:
        importlib.import_module(name)
    expected = len(names)
    compiled = compiled_modules()
    stale = stale_modules()
    if not compiled:
        return f"plain Python (none of its {expected} compiled modules built: run `make native`)"
    state = f"compiled by mypyc ({len(compiled)} of {expected} modules loaded compiled)"
    return f"{state}, STALE: {', '.join(stale)} changed since" if stale else state


def build() -> None:
    """Compile `COMPILED` in place, beside the sources; note what each package was compiled from."""
    # Build-time tools, imported only here: running the core needs neither.
    from mypyc.build import mypycify  # noqa: PLC0415
    from setuptools import setup  # noqa: PLC0415

    os.chdir(_ROOT)  # in-place extensions land beside the sources, relative to here
    groups: list[tuple[list[str], str | None]] = [
        (sources, f"{package}._native") for package, sources in COMPILED.items()
    ]
    extensions = mypycify([path for sources, _ in groups for path in sources], separate=groups)
    setup(name="resonance-native", ext_modules=extensions, script_args=["build_ext", "--inplace"])
    for package, sources in COMPILED.items():
        digests = {path: _digest(_ROOT / path) for path in sources}
        (_ROOT / package / _MANIFEST).write_bytes(orjson.dumps(digests, option=_PRETTY))


def _manifest(package: Path) -> dict[str, str]:
    """Source path -> SHA-256 of the sources the package's modules were compiled from."""
    try:
        built_from: dict[str, str] = orjson.loads((package / _MANIFEST).read_bytes())
    except FileNotFoundError:
        return {}
    return built_from


def _digest(source: Path) -> str:
    # Content, not modification times: a checkout that rewrites a file unchanged is no edit.
    return hashlib.sha256(source.read_bytes()).hexdigest()


def _loaded_core() -> list[tuple[str, str]]:
    return [
        (name, getattr(module, "__file__", None) or "")
        for name, module in list(sys.modules.items())
        if name.split(".", 1)[0] in COMPILED
    ]


def _is_extension(path: str) -> bool:
    return any(path.endswith(suffix) for suffix in EXTENSION_SUFFIXES)


if __name__ == "__main__":
    build()
