"""Writing a result table to a user's file: CSV or Parquet by the file's suffix, all or nothing.

The frame goes to a temporary file beside the target, is flushed to disk, and replaces the target
in one rename, so an interrupted or failed export leaves any earlier file as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from quantdesk.core.errors import ConfigError, StoreError

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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
