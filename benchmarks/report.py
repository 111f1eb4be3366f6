# ruff: noqa: INP001 - a helper of the benchmarks/run.py script, not a package module
"""The report: machine facts, and sections of aligned text that say how each number was made."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli import native

REPO = Path(__file__).resolve().parents[1]


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages now."""
    return [round(value, 2) for value in os.getloadavg()]


def _cpu_model() -> str:
    with Path("/proc/cpuinfo").open(encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    with Path("/proc/meminfo").open(encoding="ascii") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return 0.0


def _commit() -> str:
    def git(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} (with uncommitted changes)" if git("status", "--porcelain") else head


def machine_facts() -> dict[str, Any]:
    """What a reader needs to judge the noise: cores, load, memory, versions, the commit."""
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "cores": os.cpu_count(),
        "usable_cores": sorted(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": round(_memory_gib(), 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "commit": _commit(),
        "core": native.describe(),
        "load_average_start": load_average(),
    }


@dataclass(slots=True)
class Table:
    """Columns of figures under a header."""

    header: list[str]
    rows: list[list[str]]

    def lines(self) -> list[str]:
        """The table as aligned text (first column left, the others right)."""
        widths = [max(len(row[i]) for row in [self.header, *self.rows]) for i in range(len(self.header))]

        def line(row: list[str]) -> str:
            cells = [
                row[0].ljust(widths[0]),
                *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)),
            ]
            return "    " + "  ".join(cells).rstrip()

        return [line(self.header), *(line(row) for row in self.rows)]


@dataclass(slots=True)
class Section:
    """One benchmark's figures, with the method that produced them."""

    key: str
    title: str
    method: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    tables: list[tuple[str, Table]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    load_before: list[float] = field(default_factory=load_average)
    load_after: list[float] = field(default_factory=list)

    def add(self, label: str, value: str) -> None:
        """One labelled figure."""
        self.rows.append((label, value))

    def finish(self) -> Section:
        """Note the load average at the end; return self."""
        self.load_after = load_average()
        return self

    def text(self) -> list[str]:
        """The section as lines of text."""
        loads = f"load average {_loads(self.load_before)} before, {_loads(self.load_after)} after"
        lines = [f"== {self.title} ==", f"  ({loads})", "  how:"]
        lines += [f"    {line}" for line in self.method]
        width = max((len(label) for label, _ in self.rows), default=0)
        lines += [f"  {label.ljust(width)}  {value}" for label, value in self.rows]
        for caption, table in self.tables:
            lines += [f"  {caption}", *table.lines()]
        return lines

    def as_json(self) -> dict[str, Any]:
        """The section's data for the JSON report."""
        return {
            "title": self.title,
            "method": self.method,
            "figures": dict(self.rows),
            "load_average_before": self.load_before,
            "load_average_after": self.load_after,
            **self.data,
        }


def _loads(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def header_text(facts: dict[str, Any], mode: str) -> list[str]:
    """The report's opening lines."""
    usable = facts["usable_cores"]
    return [
        f"Resonance benchmark, {facts['started_at']} ({mode} mode)",
        (
            f"  machine      {facts['cores']} cores ({len(usable)} usable: {usable}), "
            f"{facts['cpu_model']}, {facts['memory_gib']} GiB RAM, {facts['system']}, "
            f"Python {facts['python']}"
        ),
        f"  commit       {facts['commit']}",
        f"  core         {facts['core']}",
        f"  load average {_loads(facts['load_average_start'])} at start (1, 5, 15 min)",
        "  The machine is shared: compare the ratios (baseline measured in the same run) more than",
        "  the absolute numbers, and check the load averages printed with each section.",
    ]


def footer_text(facts: dict[str, Any]) -> list[str]:
    """The report's closing lines."""
    loads = _loads(facts["load_average_end"])
    return [f"load average {loads} at end (1, 5, 15 min); total {facts['elapsed_s']:.0f} s"]


def rate(count: float, seconds: float) -> str:
    """`count / seconds` as a whole number with thousands separators."""
    return f"{count / seconds:,.0f}" if seconds > 0 else "n/a"


def mib(kib: float) -> str:
    """KiB as MiB text."""
    return f"{kib / 1024:,.1f} MiB"
