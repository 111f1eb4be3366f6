"""Where the broker's jars live, and fetching them once from Maven Central with ``mvn``.

The cache root is ``$RESONANCE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/resonance``, else
``~/.cache/resonance``. The broker's classpath goes to ``<root>/kafka/lib-<version>/``; a marker
file written last says it is complete, so later runs need neither Maven nor the network.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from cli.broker.errors import BrokerError, Progress, silent

if TYPE_CHECKING:
    from collections.abc import Iterator

KAFKA_VERSION = "4.1.1"
"""The Kafka release (``org.apache.kafka:kafka_2.13``) the manager runs unless told otherwise."""

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
"""Named in full: the dependency plugin that Maven 3.8 defaults to is too old."""

MARKER = ".complete.json"
"""Written last into a lib dir: its presence (with the right contents) means the fetch finished."""

FETCH_TIMEOUT_SECONDS = 900


def cache_root() -> Path:
    """Return the project's cache root, honouring RESONANCE_CACHE_DIR, then XDG_CACHE_HOME."""
    override = os.environ.get("RESONANCE_CACHE_DIR")
    if override:
        return Path(override).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "resonance").resolve()


def kafka_cache() -> Path:
    """Return the directory holding the broker's lib dirs and default instance homes."""
    return cache_root() / "kafka"


def lib_dir(version: str = KAFKA_VERSION) -> Path:
    """Return the directory where the classpath of Kafka ``version`` is (or will be) cached."""
    return kafka_cache() / f"lib-{version}"


def package_text(name: str) -> str:
    """Return the text of one of this package's data files (pom.xml, *.properties)."""
    return resources.files("cli.broker").joinpath(name).read_text(encoding="utf-8")


def find_java() -> Path:
    """Return the ``java`` to run: ``$JAVA_HOME/bin/java`` if it exists, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return Path(java_home) / "bin" / "java"
    found = shutil.which("java")
    if found is None:
        raise BrokerError(
            "java not found: install a Java 17+ runtime "
            "(apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    return Path(found)


def find_mvn() -> Path:
    """Return the ``mvn`` on PATH, or raise a BrokerError saying how to install Maven."""
    found = shutil.which("mvn")
    if found is None:
        raise BrokerError("mvn not found: install Maven (apt-get install maven)")
    return Path(found)


def _expected_marker(version: str) -> dict[str, str]:
    """Return what a complete lib dir's marker must say for ``version`` and the packaged pom."""
    digest = hashlib.sha256(package_text("pom.xml").encode()).hexdigest()
    return {"version": version, "pom_sha256": digest}


def is_fetched(version: str = KAFKA_VERSION) -> bool:
    """Tell whether the classpath of ``version`` is cached completely for the current pom."""
    marker = lib_dir(version) / MARKER
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = _expected_marker(version)
    return isinstance(recorded, dict) and all(recorded.get(k) == v for k, v in expected.items())


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch(version: str = KAFKA_VERSION, progress: Progress = silent) -> Path:
    """Make sure the classpath of Kafka ``version`` is cached, and return its directory.

    The first call runs Maven into a temporary directory beside the cache and renames it into
    place only once it is complete, so an interrupted fetch never leaves a half cache. Later calls
    return at once, without Maven or the network. Concurrent callers wait for each other.
    """
    target = lib_dir(version)
    if is_fetched(version):
        return target
    with file_lock(kafka_cache() / ".fetch.lock"):
        if is_fetched(version):
            return target
        find_java()
        mvn = find_mvn()
        _remove_leftovers(version)
        progress(f"Fetching Kafka {version} jars from Maven Central into {target} ...")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f".lib-{version}-", dir=kafka_cache()) as tmp:
            staged = Path(tmp) / "lib"
            _run_maven(mvn, version, Path(tmp), staged)
            _check_classpath(staged, version)
            (staged / MARKER).write_text(json.dumps(_expected_marker(version)), encoding="utf-8")
            _replace_dir(staged, target)
        jars = len(list(target.glob("*.jar")))
        progress(f"Fetched {jars} jars for Kafka {version} in {time.monotonic() - started:.1f}s")
    return target


def _remove_leftovers(version: str) -> None:
    """Delete staging dirs that a killed fetch left behind (callers hold the fetch lock)."""
    for leftover in kafka_cache().glob(f".lib-{version}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _run_maven(mvn: Path, version: str, workdir: Path, output: Path) -> None:
    """Run Maven's copy-dependencies for the packaged pom into ``output``; raise on failure."""
    pom = workdir / "pom.xml"
    pom.write_text(package_text("pom.xml"), encoding="utf-8")
    command = [
        str(mvn), "-B", "-q", "-f", str(pom),
        f"{DEPENDENCY_PLUGIN}:copy-dependencies",
        f"-DoutputDirectory={output}", "-DincludeScope=runtime", f"-Dkafka.version={version}",
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, text=True, timeout=FETCH_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(
            f"mvn did not finish within {FETCH_TIMEOUT_SECONDS}s: check access to Maven Central"
        ) from exc
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise BrokerError(
            f"mvn failed (exit {result.returncode}) fetching Kafka {version}: check the version "
            f"and access to Maven Central (proxy settings in ~/.m2/settings.xml). Maven said:\n"
            f"{tail}"
        )


def _check_classpath(staged: Path, version: str) -> None:
    """Raise unless ``staged`` holds the broker jar and a logging backend."""
    for pattern in (f"kafka_2.13-{version}.jar", "log4j-core-*.jar", "log4j-slf4j-impl-*.jar"):
        if not any(staged.glob(pattern)):
            raise BrokerError(
                f"Maven finished but {pattern} is missing from the classpath: check cli/broker/pom.xml"
            )


def _replace_dir(staged: Path, target: Path) -> None:
    """Move ``staged`` to ``target``, first moving aside any stale, incomplete ``target``."""
    if target.exists():
        stale = target.with_name(f".{target.name}-stale-{os.getpid()}")
        target.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    staged.rename(target)
