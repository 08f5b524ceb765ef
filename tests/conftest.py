"""Shared fixtures: an isolated data directory for every test that touches the store."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def qd_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty QUANTDESK_HOME for one test."""
    home = tmp_path / "qdhome"
    monkeypatch.setenv("QUANTDESK_HOME", str(home))
    return home
