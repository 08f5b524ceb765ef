"""Anchored VWAP (numba): the volume-weighted average of the typical price (high + low + close) / 3
since the start of the bar's anchor period, and the volume-weighted standard deviation around it.
``starts`` holds the positions (ascending) of the bars that begin a new anchor period (a session, week
or month); the calendar finds them without a per-bar array, which on a million bars costs more than
the arithmetic. At bar t, with sums over the period's bars up to and including t:
``vwap = sum(v * p) / sum(v)`` and ``std = sqrt(sum(v * (p - vwap) ** 2) / sum(v))``, the pandas
expressions ``(v * p).groupby(anchor).cumsum() / v.groupby(anchor).cumsum()`` and likewise for the
variance. Both are NaN until the period's first bar with positive volume (an average of no volume
does not exist); zero-volume bars after that change nothing. The sums are of deviations from the
period's first traded price, so the variance does not cancel two large numbers. Reference:
``tests/reference/vwap_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def anchored_vwap_into(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    starts: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out``: one row (vwap) or seven (vwap, then vwap + k * std and vwap - k * std for k = 1,
    2, 3: upper_1, lower_1, upper_2, lower_2, upper_3, lower_3), in one pass, period by period."""
    n = len(close)
    bands = out.shape[0] == 7
    for k in range(len(starts)):
        first = starts[k]
        end = starts[k + 1] if k + 1 < len(starts) else n
        weight = 0.0
        origin = 0.0  # the period's first traded price: sums of deviations from it keep the variance precise
        sum_dev = 0.0
        sum_dev2 = 0.0
        mean_dev = 0.0
        for t in range(first, end):
            v = volume[t]
            if v > 0.0:
                price = (high[t] + low[t] + close[t]) / 3.0
                if weight == 0.0:
                    origin = price
                dev = price - origin
                weight += v
                sum_dev += v * dev
                sum_dev2 += v * dev * dev
                mean_dev = sum_dev / weight
            vwap = origin + mean_dev if weight > 0.0 else np.nan
            out[0, t] = vwap
            if bands:
                std = np.sqrt(max(sum_dev2 / weight - mean_dev * mean_dev, 0.0)) if weight > 0.0 else np.nan
                out[1, t] = vwap + std
                out[2, t] = vwap - std
                out[3, t] = vwap + 2.0 * std
                out[4, t] = vwap - 2.0 * std
                out[5, t] = vwap + 3.0 * std
                out[6, t] = vwap - 3.0 * std
