"""The dashboard's vendored JavaScript is exactly what `make vendor` fetches at the pinned version,
with its licence, and ships as package data.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from agents.dashboard.web import STATIC_FILES

REPO = Path(__file__).resolve().parents[1]
VENDOR = REPO / "agents" / "dashboard" / "static" / "vendor"
PINNED_UPLOT = "1.6.32"
# sha256sum of uPlot 1.6.32's files as npm ships them (dist/ and LICENSE).
SHA256 = {
    "uPlot.iife.min.js": "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
    "uPlot.min.css": "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
    "uPlot.LICENSE.txt": "8f989229699b4fe2f1a0432d0e9edc338a8a911e250e2d1b01ecd770a5f5b1bd",
}


@pytest.mark.parametrize(("name", "digest"), sorted(SHA256.items()))
def test_a_vendored_file_has_its_recorded_hash(name: str, digest: str) -> None:
    """Each committed vendored file hashes to the SHA-256 of the pinned release's file."""
    assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest


def test_the_vendor_folder_holds_only_the_recorded_files() -> None:
    """Nothing unrecorded sits in the vendor folder (a stray file would ship unchecked)."""
    assert sorted(path.name for path in VENDOR.iterdir()) == sorted(SHA256)


def test_make_vendor_fetches_the_pinned_version() -> None:
    """The Makefile's `vendor` target pins the version the hashes were taken from."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^UPLOT_VERSION := {re.escape(PINNED_UPLOT)}$", makefile, re.MULTILINE)
    assert "npm pack --silent uplot@$(UPLOT_VERSION)" in makefile


def test_the_licence_is_uplots_mit_licence() -> None:
    """The licence shipped beside uPlot is its MIT licence."""
    text = (VENDOR / "uPlot.LICENSE.txt").read_text(encoding="utf-8")
    assert "The MIT License" in text
    assert "Leon Sorokin" in text


def test_every_served_file_ships_as_package_data() -> None:
    """Every static file the worker serves matches a package-data pattern of agents.dashboard."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["agents.dashboard"]
    static = REPO / "agents" / "dashboard"
    shipped = {path for pattern in patterns for path in static.glob(pattern)}
    for name in (*STATIC_FILES, "index.html"):
        assert static / "static" / name in shipped, name
