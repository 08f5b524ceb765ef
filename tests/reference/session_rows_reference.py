"""Plain-Python reference for ``kernels.session_rows``: which instruments a paper session's row visits."""

from __future__ import annotations

import math

import numpy as np

from quantdesk.kernels.session_rows import FOLLOWED_COLUMNS, OPEN_LEVELS, OPEN_QUIET, OPEN_VISIT


def reference_open_visits(t: int, open_: np.ndarray, low: np.ndarray, high: np.ndarray, busy: np.ndarray,
                          levels_stale: np.ndarray, quiet_ok: np.ndarray, quiet_lo: np.ndarray,
                          quiet_hi: np.ndarray) -> list[tuple[int, int]]:  # fmt: skip
    out = []
    for j in range(open_.shape[1]):
        if not busy[j] or math.isnan(open_[t, j]):
            continue
        if levels_stale[j]:
            out.append((j, OPEN_LEVELS))
        elif quiet_ok[j] and quiet_lo[j] < low[t, j] and high[t, j] < quiet_hi[j]:
            out.append((j, OPEN_QUIET))
        else:
            out.append((j, OPEN_VISIT))
    return out


def reference_close_visits(t: int, close: np.ndarray, fs: np.ndarray, seen: np.ndarray, kernel_working: np.ndarray,
                           stale: np.ndarray) -> tuple[list[int], list[int]]:  # fmt: skip
    """(instruments with a bar, the ones of them to visit)."""
    with_bar, visit = [], []
    for j in range(close.shape[1]):
        if math.isnan(close[t, j]):
            continue
        with_bar.append(j)
        now = [float(fs[j, c]) for c in FOLLOWED_COLUMNS]
        moved = any(not (a == b or (math.isnan(a) and math.isnan(b))) for a, b in zip(now, seen[j], strict=True))
        if kernel_working[j] > 0 or stale[j] or moved:
            visit.append(j)
    return with_bar, visit
