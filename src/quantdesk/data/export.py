"""Writing a result table to a user's file: CSV or Parquet by the file's suffix, all or nothing
(``core.atomic``: an interrupted or failed export leaves any earlier file as it was)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from quantdesk.core.atomic import atomic_write
from quantdesk.core.errors import ConfigError

EXPORT_SUFFIXES = (".csv", ".parquet")


def export_format(path: Path, what: str = "--out") -> str:
    """``csv`` or ``parquet`` from the suffix of ``path``; anything else is a ``ConfigError``."""
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ConfigError(f"{what}: expected a file ending in .csv or .parquet, found {str(path)!r}")
    return suffix[1:]


def write_frame(frame: pd.DataFrame, path: Path | str, what: str = "--out") -> Path:
    """Write ``frame`` (without its index) to ``path`` atomically; returns the path."""
    path = Path(path)
    fmt = export_format(path, what)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)

    atomic_write(path, write)
    return path
