"""Anchored VWAP (numba): the volume-weighted average of the typical price (high + low + close) / 3
since the start of the bar's anchor period, and the volume-weighted standard deviation around it.
``starts`` holds the positions (ascending, the first 0) of the bars that begin a new anchor period (a session, week
or month); the calendar finds them without a per-bar array, which on a million bars costs more than
the arithmetic. At bar t, with sums over the period's bars up to and including t:
``vwap = sum(v * p) / sum(v)`` and ``std = sqrt(sum(v * (p - vwap) ** 2) / sum(v))``, the pandas
expressions ``(v * p).groupby(anchor).cumsum() / v.groupby(anchor).cumsum()`` and likewise for the
variance. Both are NaN until the period's first bar with positive volume (an average of no volume
does not exist); zero-volume bars after that change nothing. The sums are of deviations from the
period's first bar's typical price, so the variance does not cancel two large numbers. Reference:
``tests/reference/vwap_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")  # 0 / 0 is NaN, not an exception
def anchored_vwap_into(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    starts: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out``: one row (vwap) or seven (vwap, then vwap + k * std and vwap - k * std for k = 1,
    2, 3: upper_1, lower_1, upper_2, lower_2, upper_3, lower_3), in one pass.

    One flat loop with a reset at each start (a loop per period costs a third more on minute bars),
    and no branch on volume: before the period's first traded bar the sums are 0 and 0 / 0 is the
    NaN the outputs need; a later zero-volume bar adds nothing. Prices are summed as 3 * typical
    price, deviations from the period's first bar, so the loop has one division.
    """
    n = len(close)
    bands = out.shape[0] == 7
    line = out[0]
    next_start = 0
    k = 0
    weight3 = 0.0  # 3 * sum(v)
    sum_dev3 = 0.0  # sum(v * 3 * (p - origin))
    sum_dev3_sq = 0.0  # sum(v * (3 * (p - origin)) ** 2)
    origin3 = 0.0
    origin = 0.0
    for t in range(n):
        if t == next_start:
            weight3 = 0.0
            sum_dev3 = 0.0
            sum_dev3_sq = 0.0
            origin3 = high[t] + low[t] + close[t]
            origin = origin3 / 3.0
            k += 1
            next_start = starts[k] if k < len(starts) else n
        v = volume[t]
        dev3 = high[t] + low[t] + close[t] - origin3
        weight3 += 3.0 * v
        sum_dev3 += v * dev3
        if bands:
            share = 1.0 / weight3  # the bands' one division
            mean_dev = sum_dev3 * share
        else:
            mean_dev = sum_dev3 / weight3  # mean of p - origin
        vwap = origin + mean_dev
        line[t] = vwap
        if bands:
            sum_dev3_sq += v * dev3 * dev3
            # var = sum(v * (p - origin)^2) / sum(v) - mean_dev^2, with 3 * sum(v) = weight3 and 3 * dev = dev3
            std = np.sqrt(max(sum_dev3_sq * share / 3.0 - mean_dev * mean_dev, 0.0))
            out[1, t] = vwap + std
            out[2, t] = vwap - std
            out[3, t] = vwap + 2.0 * std
            out[4, t] = vwap - 2.0 * std
            out[5, t] = vwap + 3.0 * std
            out[6, t] = vwap - 3.0 * std
