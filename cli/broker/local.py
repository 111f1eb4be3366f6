"""Run a real single-node KRaft Kafka broker from the cached Maven jars, in the background.

An instance lives in one home directory: ``server.properties`` and ``log4j2.properties`` written
for it, ``data/`` (formatted once), ``logs/broker.log`` (the JVM's output) and ``broker.pid``.
The broker process is detached (its own session), so it outlives the Python process that started
it; :meth:`LocalKafka.down` stops it through the pid file.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from cli.broker.cache import (
    KAFKA_VERSION,
    fetch,
    file_lock,
    find_java,
    kafka_cache,
    package_text,
)
from cli.broker.errors import BrokerError, Progress, silent
from cli.broker.security import LISTENER, BrokerSecurity

HOST = "127.0.0.1"
POLL_SECONDS = 0.2
FORMAT_TIMEOUT_SECONDS = 120
KILL_WAIT_SECONDS = 10.0
LOG_TAIL_LINES = 30

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Brokers this process started, so their exit is seen (and reaped) rather than left as zombies."""


@dataclass(frozen=True)
class BrokerStatus:
    """What is known about one local broker instance at one moment."""

    running: bool
    pid: int | None
    bootstrap: str
    data_dir: Path
    log_file: Path
    version: str

    def summary(self) -> str:
        """Return a one-line, human-readable description of this status."""
        if self.running:
            return (
                f"Kafka {self.version} running at {self.bootstrap} "
                f"(pid {self.pid}, data {self.data_dir}, log {self.log_file})"
            )
        if self.pid is not None:
            return (
                f"Kafka {self.version} process {self.pid} is alive but {self.bootstrap} does not "
                f"answer (starting or hung; see {self.log_file})"
            )
        return f"Kafka {self.version} not running at {self.bootstrap} (data {self.data_dir})"

    def __str__(self) -> str:
        """Return :meth:`summary`."""
        return self.summary()


def default_home(port: int = 9092) -> Path:
    """Return the default home of the instance on ``port``: ``<cache>/kafka/instance-<port>``."""
    return kafka_cache() / f"instance-{port}"


def free_ports(count: int = 2) -> list[int]:
    """Return ``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def new_cluster_id() -> str:
    """Return a random Kafka cluster id (a Uuid: 22 URL-safe base64 chars, never starting '-')."""
    while True:
        text = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


class LocalKafka:
    """One single-node Kafka (combined broker and controller) listening on 127.0.0.1 only."""

    def __init__(
        self,
        home: Path | None = None,
        port: int = 9092,
        controller_port: int = 9093,
        *,
        version: str = KAFKA_VERSION,
        partitions: int = 4,
        heap: str = "512m",
        progress: Progress = silent,
        security: BrokerSecurity | None = None,
    ) -> None:
        """Describe an instance; nothing is started or written until :meth:`up`.

        ``home`` defaults to :func:`default_home` of ``port``; ``partitions`` is the number of
        partitions of auto-created topics; ``heap`` is the JVM's -Xmx; ``progress`` receives
        one-line messages; ``security``, when given, makes the client listener SASL_SSL (its
        users are created when the storage is first formatted).
        """
        self.home = (home if home is not None else default_home(port)).resolve()
        self.port = port
        self.controller_port = controller_port
        self.version = version
        self.partitions = partitions
        self.heap = heap
        self.progress = progress
        self.security = security

    @property
    def client_options(self) -> Mapping[str, Any]:
        """kafka-python options of a client of this broker (its own user's, when secured)."""
        return {} if self.security is None else self.security.client_options()

    @property
    def bootstrap(self) -> str:
        """The clients' bootstrap address, ``127.0.0.1:<port>``."""
        return f"{HOST}:{self.port}"

    @property
    def data_dir(self) -> Path:
        """Where the broker keeps its metadata and topic logs."""
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        """Where the broker's output goes (the previous run's is kept as ``broker.log.1``)."""
        return self.home / "logs" / "broker.log"

    @property
    def pid_file(self) -> Path:
        """Holds the broker's pid while it runs."""
        return self.home / "broker.pid"

    @property
    def config_file(self) -> Path:
        """The server.properties written for this instance."""
        return self.home / "server.properties"

    def fetch(self) -> Path:
        """Make sure this instance's Kafka jars are cached (:func:`fetch`); return their dir."""
        return fetch(self.version, self.progress)

    def status(self) -> BrokerStatus:
        """Return whether the broker runs: its pid is alive and its port accepts connections."""
        pid = self._live_pid()
        return BrokerStatus(
            running=pid is not None and _port_answers(self.port),
            pid=pid,
            bootstrap=self.bootstrap,
            data_dir=self.data_dir,
            log_file=self.log_file,
            version=self.version,
        )

    def up(self, wait_seconds: float = 60.0) -> BrokerStatus:
        """Start the broker unless it already runs, and return once it answers Kafka requests.

        Fetches the jars if needed and formats the storage the first time. ``wait_seconds``
        bounds the wait for the launched broker to answer; if it dies or does not answer in
        time, it is stopped and a BrokerError carrying the end of its log is raised.
        """
        with file_lock(self.home / ".lock"):
            current = self.status()
            if current.running:
                self.progress(f"Kafka already running at {self.bootstrap} (pid {current.pid})")
                return current
            if current.pid is not None:
                self.progress(f"Kafka pid {current.pid} is alive; waiting for {self.bootstrap}")
                self._wait_ready(current.pid, wait_seconds, stop_on_failure=False)
                return self.status()
            self._forget_stale_pid()
            return self._start(wait_seconds)

    def down(self, wait_seconds: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``wait_seconds``); False if none ran."""
        with file_lock(self.home / ".lock"):
            pid = self._live_pid()
            if pid is None:
                self._forget_stale_pid()
                self.progress(f"Kafka not running at {self.bootstrap}; nothing to stop")
                return False
            started = time.monotonic()
            self.progress(f"Stopping Kafka at {self.bootstrap} (pid {pid}) ...")
            _stop_process(pid, wait_seconds, self.progress)
            self.pid_file.unlink(missing_ok=True)
            self.progress(f"Stopped Kafka at {self.bootstrap} in {time.monotonic() - started:.1f}s")
            return True

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last ``lines`` lines of the broker's log, or a note that there is none."""
        return _tail(self.log_file, lines)

    def _start(self, wait_seconds: float) -> BrokerStatus:
        """Fetch, configure, format once, launch and wait for a broker known not to run."""
        java = find_java()
        lib = self.fetch()
        for port in (self.port, self.controller_port):
            if not _port_free(port):
                raise BrokerError(
                    f"{HOST}:{port} is already in use by another process: stop that process "
                    "or choose other ports for this broker"
                )
        self._write_config()
        self._format_once(java, lib)
        started = time.monotonic()
        pid = self._launch(java, lib)
        self._wait_ready(pid, wait_seconds, stop_on_failure=True)
        self.progress(
            f"Kafka {self.version} started at {self.bootstrap} (pid {pid}) "
            f"in {time.monotonic() - started:.1f}s"
        )
        return self.status()

    def _write_config(self) -> None:
        """Write this instance's server.properties and log4j2.properties into its home."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        rendered = Template(package_text("server.properties")).substitute(
            broker_port=self.port,
            controller_port=self.controller_port,
            data_dir=self.data_dir,
            partitions=self.partitions,
            client_listener="PLAINTEXT" if self.security is None else LISTENER,
        )
        if self.security is not None:
            rendered += "\n" + self.security.server_properties()
        self.config_file.write_text(rendered, encoding="utf-8")
        (self.home / "log4j2.properties").write_text(package_text("log4j2.properties"), encoding="utf-8")

    def _java_base(self, java: Path, lib: Path) -> list[str]:
        """Return the start of a java command line with the cached classpath and log config."""
        return [
            str(java),
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.log_file.parent}",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            str(lib / "*"),
        ]

    def _format_once(self, java: Path, lib: Path) -> None:
        """Format the data dir as a standalone KRaft quorum with a new cluster id, if not yet."""
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        command = [
            *self._java_base(java, lib),
            "-Xmx256m",
            "-Dresonance.kafka.log.level=WARN",
            "kafka.tools.StorageTool", "format", "--standalone",
            "-t", cluster_id, "-c", str(self.config_file),
            *([] if self.security is None else self.security.format_arguments()),
        ]  # fmt: skip
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_SECONDS, check=False
        )
        if result.returncode != 0:
            said = "\n".join((result.stdout + result.stderr).strip().splitlines()[-LOG_TAIL_LINES:])
            raise BrokerError(
                f"formatting {self.data_dir} failed (exit {result.returncode}): remove that "
                f"directory if it is damaged, then retry. Kafka said:\n{said}"
            )
        self.progress(f"Formatted {self.data_dir} (cluster id {cluster_id})")

    def _launch(self, java: Path, lib: Path) -> int:
        """Start the broker JVM detached, output to the log file; record and return its pid."""
        if self.log_file.exists():
            self.log_file.replace(self.log_file.with_name("broker.log.1"))
        command = [
            *self._java_base(java, lib),
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "kafka.Kafka",
            str(self.config_file),
        ]
        with self.log_file.open("ab") as log:
            child = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,
            )
        _CHILDREN[child.pid] = child
        staged = self.pid_file.with_suffix(".tmp")
        staged.write_text(f"{child.pid}\n", encoding="utf-8")
        staged.replace(self.pid_file)
        self.progress(f"Launched Kafka {self.version} (pid {child.pid}); log {self.log_file}")
        return child.pid

    def _wait_ready(self, pid: int, wait_seconds: float, *, stop_on_failure: bool) -> None:
        """Poll until the broker answers a metadata request; raise (log tail included) if not."""
        deadline = time.monotonic() + wait_seconds
        while True:
            if not _pid_alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise BrokerError(
                    f"Kafka (pid {pid}) exited{_exit_note(pid)} before answering at "
                    f"{self.bootstrap}; last lines of {self.log_file}:\n{self.log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if _port_answers(self.port) and _kafka_answers(self.bootstrap, remaining, self.client_options):
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
        action = "stopped it"
        if stop_on_failure:
            _stop_process(pid, KILL_WAIT_SECONDS, silent)
            self.pid_file.unlink(missing_ok=True)
        else:
            action = "left it running: call down() then up()"
        raise BrokerError(
            f"Kafka (pid {pid}) did not answer at {self.bootstrap} within {wait_seconds:.0f}s "
            f"({action}); last lines of {self.log_file}:\n{self.log_tail()}"
        )

    def _live_pid(self) -> int | None:
        """Return the pid in the pid file if that process is alive and is this broker."""
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None
        if _pid_alive(pid) and _is_broker(pid, self.config_file):
            return pid
        return None

    def _forget_stale_pid(self) -> None:
        """Remove a pid file whose process is gone (or is no longer this broker)."""
        if self.pid_file.exists() and self._live_pid() is None:
            self.pid_file.unlink(missing_ok=True)
            self.progress(f"Removed stale pid file {self.pid_file}")


def _port_answers(port: int) -> bool:
    """Tell whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _port_free(port: int) -> bool:
    """Tell whether a server could listen on 127.0.0.1:``port`` (as Kafka does, SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _kafka_answers(bootstrap: str, remaining_seconds: float, options: Mapping[str, Any]) -> bool:
    """Tell whether the broker at ``bootstrap`` serves metadata and lists itself, unfenced, to a
    client with ``options`` (security).
    """
    timeout_ms = int(min(5.0, max(remaining_seconds, 0.5)) * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="resonance-broker-probe",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            **options,
        )
    except (KafkaError, OSError):
        return False
    try:
        brokers = admin.describe_cluster().get("brokers") or []
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()
    return any(not broker.get("is_fenced", False) for broker in brokers)


def _pid_alive(pid: int) -> bool:
    """Tell whether process ``pid`` exists and has not exited (zombies count as exited)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """Tell whether ``pid`` has exited but not been reaped (Linux /proc; False elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _is_broker(pid: int, config_file: Path) -> bool:
    """Tell whether ``pid`` runs kafka.Kafka with ``config_file`` (True where /proc is absent)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return False
    return b"kafka.Kafka" in cmdline and str(config_file).encode() in cmdline


def _exit_note(pid: int) -> str:
    """Return ' with code N' for a child of this process that exited, else ''."""
    child = _CHILDREN.get(pid)
    if child is None or child.returncode is None:
        return ""
    return f" with code {child.returncode}"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group led by ``pid`` (or to ``pid`` alone if it leads none)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return


def _wait_exit(pid: int, seconds: float) -> bool:
    """Poll until ``pid`` has exited or ``seconds`` pass; tell whether it exited."""
    deadline = time.monotonic() + seconds
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS / 2)
    return True


def _stop_process(pid: int, wait_seconds: float, progress: Progress) -> None:
    """SIGTERM ``pid``'s group and wait; SIGKILL it if still alive; raise if even that fails."""
    _signal_group(pid, signal.SIGTERM)
    if _wait_exit(pid, wait_seconds):
        return
    progress(f"Kafka (pid {pid}) did not stop within {wait_seconds:.0f}s; killing it")
    _signal_group(pid, signal.SIGKILL)
    if not _wait_exit(pid, KILL_WAIT_SECONDS):
        raise BrokerError(f"could not stop Kafka (pid {pid}): kill it by hand (kill -9 {pid})")


def _tail(path: Path, lines: int) -> str:
    """Return the last ``lines`` lines of text file ``path``, or a note that it is missing."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
