"""Anchored VWAP (numba): the volume-weighted average of the typical price (high + low + close) / 3
since the start of the bar's anchor period, and the volume-weighted standard deviation around it.
``anchor_id`` is an int64 label per bar (a session, week or month); a bar whose label differs from the
previous bar's starts a new period. At bar t, with sums over the period's bars up to and including t:
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
def anchored_vwap_bands_into(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    anchor_id: np.ndarray,
    out: np.ndarray,
) -> None:
    """Rows of ``out`` (7 x n): vwap, then vwap + k * std and vwap - k * std for k = 1, 2, 3 (upper_1,
    lower_1, upper_2, lower_2, upper_3, lower_3), all in one pass and with the arithmetic of
    ``anchored_vwap`` (the bands are exactly ``vwap +- k * std``)."""
    n = len(close)
    weight = 0.0
    origin = 0.0  # the period's first traded price: sums of deviations from it keep the variance precise
    sum_dev = 0.0
    sum_dev2 = 0.0
    previous = anchor_id[0] if n > 0 else 0
    for t in range(n):
        label = anchor_id[t]
        if label != previous:
            weight = 0.0
            sum_dev = 0.0
            sum_dev2 = 0.0
            previous = label
        v = volume[t]
        if v > 0.0:
            price = (high[t] + low[t] + close[t]) / 3.0
            if weight == 0.0:
                origin = price
            dev = price - origin
            weight += v
            sum_dev += v * dev
            sum_dev2 += v * dev * dev
        vwap = np.nan
        std = np.nan
        if weight > 0.0:
            mean_dev = sum_dev / weight
            vwap = origin + mean_dev
            std = np.sqrt(max(sum_dev2 / weight - mean_dev * mean_dev, 0.0))
        out[0, t] = vwap
        out[1, t] = vwap + std
        out[2, t] = vwap - std
        out[3, t] = vwap + 2.0 * std
        out[4, t] = vwap - 2.0 * std
        out[5, t] = vwap + 3.0 * std
        out[6, t] = vwap - 3.0 * std


@njit(cache=True)
def anchored_vwap(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, anchor_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(vwap, std) without the bands."""
    n = len(close)
    block = np.empty((2, n))  # one allocation for both outputs
    vwap = block[0]
    std = block[1]
    weight = 0.0
    origin = 0.0
    sum_dev = 0.0
    sum_dev2 = 0.0
    for t in range(n):
        if t == 0 or anchor_id[t] != anchor_id[t - 1]:
            weight = 0.0
            sum_dev = 0.0
            sum_dev2 = 0.0
        v = volume[t]
        if v > 0.0:
            price = (high[t] + low[t] + close[t]) / 3.0
            if weight == 0.0:
                origin = price
            dev = price - origin
            weight += v
            sum_dev += v * dev
            sum_dev2 += v * dev * dev
        if weight > 0.0:
            mean_dev = sum_dev / weight
            vwap[t] = origin + mean_dev
            std[t] = np.sqrt(max(sum_dev2 / weight - mean_dev * mean_dev, 0.0))
        else:
            vwap[t] = np.nan
            std[t] = np.nan
    return vwap, std
