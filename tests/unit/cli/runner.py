"""The CLI as a user runs it, for the CLI tests: ``quantdesk ARGS`` in a fresh process over a data home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(home: Path, *args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """``quantdesk *args`` with ``QUANTDESK_HOME=home``, no colour and a terminal ``columns`` wide; never on the
    developer's own database (``QUANTDESK_DATABASE_URL`` is dropped: a backtest records into the home's SQLite)."""
    env = {**os.environ, "QUANTDESK_HOME": str(home), "COLUMNS": str(columns), "NO_COLOR": "1"}
    env.pop("QUANTDESK_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
