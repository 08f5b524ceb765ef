"""Plain-Python reference for ``kernels.regime.trailing_rank``: the definition, one bar at a time."""

from __future__ import annotations

import math
import statistics

import numpy as np
from numba import njit


def reference_trailing_rank(values: np.ndarray, window: int, min_history: int) -> tuple[np.ndarray, np.ndarray]:
    """(mid-rank percentile of values[i] among the finite values[i - window : i], their median)."""
    n = len(values)
    percentile = np.full(n, np.nan)
    median = np.full(n, np.nan)
    for i in range(n):
        past = [float(v) for v in values[max(0, i - window) : i] if not math.isnan(v)]
        if not past or len(past) < min_history:
            continue
        median[i] = statistics.median(past)
        x = float(values[i])
        if math.isnan(x):
            continue
        below = sum(1 for v in past if v < x)
        equal = sum(1 for v in past if v == x)
        percentile[i] = (below + 0.5 * equal) / len(past)
    return percentile, median


@njit(cache=True)
def sorted_window_trailing_rank(values: np.ndarray, window: int, min_history: int, out: np.ndarray) -> np.ndarray:
    """The former ``kernels.regime.trailing_rank``: sorts each bar's window (O(n w log w)); the new kernel equals it."""
    n = len(values)
    buf = np.empty(max(window, 1))
    for i in range(n):
        count = 0
        start = i - window if i > window else 0
        for j in range(start, i):
            v = values[j]
            if not np.isnan(v):
                buf[count] = v
                count += 1
        if count < min_history or count == 0:
            out[0, i] = np.nan
            out[1, i] = np.nan
            continue
        past = np.sort(buf[:count])
        half = count // 2
        if count % 2 == 1:
            out[1, i] = past[half]
        else:
            out[1, i] = (past[half - 1] + past[half]) / 2.0
        x = values[i]
        if np.isnan(x):
            out[0, i] = np.nan
            continue
        below = np.searchsorted(past, x, side="left")
        not_above = np.searchsorted(past, x, side="right")
        out[0, i] = (below + 0.5 * (not_above - below)) / count
    return out
