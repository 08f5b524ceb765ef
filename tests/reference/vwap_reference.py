"""Plain reference for ``kernels.vwap``: at each bar, the sums over its anchor period written out."""

from __future__ import annotations

import math

import numpy as np


def reference_vwap(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, anchor_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = len(close)
    vwap = np.full(n, np.nan)
    std = np.full(n, np.nan)
    start = 0
    for t in range(n):
        if t > 0 and anchor_id[t] != anchor_id[t - 1]:
            start = t
        traded = [(volume[i], (high[i] + low[i] + close[i]) / 3) for i in range(start, t + 1) if volume[i] > 0]
        if not traded:
            continue
        total = sum(v for v, _ in traded)
        mean = sum(v * p for v, p in traded) / total
        vwap[t] = mean
        std[t] = math.sqrt(sum(v * (p - mean) ** 2 for v, p in traded) / total)
    return vwap, std
