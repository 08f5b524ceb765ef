"""All-or-nothing file writes: write to a temporary file beside the target, flush it to disk, and
rename it over the target in one step, so a failed or interrupted write leaves the old file as it was.
The store and every export use this one function."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from quantdesk.core.errors import StoreError


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then replace ``path`` with it."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
