"""Every Prometheus configuration the project ships or generates passes `promtool check config`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cli.local_prometheus import scrape_config
from support import REPO, prometheus_config

SKIPPED_FOLDERS = {".venv", ".git", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def prometheus_configs() -> list[Path]:
    """Every YAML file in the repository that configures Prometheus (it has `scrape_configs`)."""
    return sorted(
        path
        for pattern in ("*.yml", "*.yaml")
        for path in REPO.rglob(pattern)
        if not SKIPPED_FOLDERS & set(path.relative_to(REPO).parts)
        and "scrape_configs:" in path.read_text(encoding="utf-8", errors="replace")
    )


def promtool_check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """`promtool check config` on `path`."""
    return subprocess.run(
        ["promtool", "check", "config", str(path)], capture_output=True, text=True, check=False
    )


def test_the_repository_has_a_prometheus_configuration() -> None:
    """The search finds the compose deployment's configuration (so the check below checks something)."""
    assert REPO / "grafana" / "prometheus.yml" in prometheus_configs()


@pytest.mark.parametrize("path", prometheus_configs(), ids=lambda path: str(path.relative_to(REPO)))
def test_a_shipped_configuration_passes_promtool(path: Path) -> None:
    """Promtool accepts each Prometheus configuration in the repository."""
    result = promtool_check_config(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("generate", [prometheus_config, scrape_config], ids=["tests", "demo"])
def test_a_generated_configuration_passes_promtool(tmp_path: Path, generate: Callable[[str], str]) -> None:
    """The configurations the integration tests and `resonance demo` write for their own
    Prometheus are valid too.
    """
    config = tmp_path / "prometheus.yml"
    config.write_text(generate("127.0.0.1:6066"), encoding="utf-8")
    result = promtool_check_config(config)
    assert result.returncode == 0, result.stdout + result.stderr
