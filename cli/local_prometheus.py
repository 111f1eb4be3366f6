"""A Prometheus beside the demo's worker: its metrics' history and PromQL on this machine.

Debian's `prometheus` (installed by `make install`) scrapes the worker every few seconds, keeps
its data in a folder of the demo's own (emptied at every start, as the demo's topics are), and
listens on loopback: 9090 when free, another free port otherwise.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from cli.broker import free_ports

PREFERRED_PORT = 9090
SCRAPE_INTERVAL = "5s"
READY_SECONDS = 30.0
STOP_SECONDS = 10.0


def scrape_config(target: str) -> str:
    """A Prometheus configuration scraping the worker at `target` ("host:port")."""
    return (
        "# Written by `resonance demo`: scrapes the demo's worker.\n"
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL}\n"
        "scrape_configs:\n"
        "  - job_name: resonance\n"
        "    static_configs:\n"
        f"      - targets: [{target!r}]\n"
    )


def _port() -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", PREFERRED_PORT))
        except OSError:
            return free_ports(1)[0]
    return PREFERRED_PORT


def _ready(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:  # noqa: S310 - our own
        return bool(response.status == 200)
    return False


@contextlib.contextmanager
def local_prometheus(target: str, directory: Path) -> Iterator[str | None]:
    """Run Prometheus scraping `target` until the block ends; yield its address, or None when
    `prometheus` is not installed or did not start (the demo runs on without it).
    """
    binary = shutil.which("prometheus")
    if binary is None:
        yield None
        return
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    config = directory / "prometheus.yml"
    config.write_text(scrape_config(target), encoding="utf-8")
    port = _port()
    url = f"http://127.0.0.1:{port}"
    with (directory / "prometheus.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - Debian's prometheus, with our arguments
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + READY_SECONDS
        while server.poll() is None and not _ready(url) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield url if server.poll() is None and _ready(url) else None
    finally:
        server.terminate()
        try:
            server.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
