"""Where quantdesk keeps its data: ``QUANTDESK_HOME`` if set, else the platform's user data folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "QUANTDESK_HOME"


def data_home() -> Path:
    """The data directory (not created here; the store creates what it writes)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("quantdesk", appauthor=False))
