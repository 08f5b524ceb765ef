"""Plain-Python reference for ``kernels.regime.trailing_rank``: the definition, one bar at a time."""

from __future__ import annotations

import math
import statistics

import numpy as np


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
