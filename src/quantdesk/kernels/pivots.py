"""Swing pivots (numba): fractal pivots and zigzag pivots, each with the bar that confirmed it.

A pivot is a local extreme that only later bars reveal, so each one carries two bars: ``index``
(where the extreme is) and ``confirmed`` (the first bar at whose close it is known). Consumers may
use a pivot only from ``confirmed`` on; that is what keeps patterns and divergences free of
look-ahead. Plain-Python references: ``tests/reference/pivots_reference.py``.

- Fractal: bar ``i`` is a swing high when its high is strictly above the ``left`` highs before it
  and at or above the ``right`` highs after it; confirmed at ``i + right``. Lows mirror it.
- Zigzag: alternating highs and lows; a high is confirmed on the first later bar whose low is
  ``threshold`` (a fraction) below it, a low on the first later bar whose high is ``threshold``
  above it. A bar that sets a new extreme cannot also confirm the reversal from it. Until the first
  reversal the direction is unknown and both extremes are tracked.

Returned arrays are ordered by ``confirmed`` (then by index): ``index`` int64, ``confirmed`` int64,
``price`` float64, ``kind`` int8 (+1 high, -1 low).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def fractal_pivots(
    high: np.ndarray, low: np.ndarray, left: int, right: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(high)
    # flags first, without early exits (random data makes those branches unpredictable), then collect
    flags = np.zeros(n, dtype=np.int8)  # bit 1: swing high, bit 2: swing low
    count = 0
    for i in range(left, n - right):
        h = high[i]
        lo = low[i]
        is_high = True
        is_low = True
        for j in range(i - left, i):
            is_high &= high[j] < h
            is_low &= low[j] > lo
        for j in range(i + 1, i + right + 1):
            is_high &= high[j] <= h
            is_low &= low[j] >= lo
        flags[i] = np.int8(is_high) | (np.int8(is_low) << 1)
        count += int(is_high) + int(is_low)
    index = np.empty(count, dtype=np.int64)
    confirmed = np.empty(count, dtype=np.int64)
    price = np.empty(count, dtype=np.float64)
    kind = np.empty(count, dtype=np.int8)
    k = 0
    for i in range(n):
        f = flags[i]
        if f == 0:
            continue
        if f & 1:
            index[k] = i
            confirmed[k] = i + right
            price[k] = high[i]
            kind[k] = 1
            k += 1
        if f & 2:
            index[k] = i
            confirmed[k] = i + right
            price[k] = low[i]
            kind[k] = -1
            k += 1
    return index, confirmed, price, kind


@njit(cache=True)
def zigzag_pivots(
    high: np.ndarray, low: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(high)
    index = np.empty(n, dtype=np.int64)
    confirmed = np.empty(n, dtype=np.int64)
    price = np.empty(n, dtype=np.float64)
    kind = np.empty(n, dtype=np.int8)
    k = 0
    if n == 0:
        return index[:0].copy(), confirmed[:0].copy(), price[:0].copy(), kind[:0].copy()
    direction = 0  # 0 unknown, +1 seeking a high, -1 seeking a low
    hi = high[0]
    hi_idx = 0
    lo = low[0]
    lo_idx = 0
    for t in range(1, n):
        if direction == 0:
            if high[t] > hi:
                hi = high[t]
                hi_idx = t
            if low[t] < lo:
                lo = low[t]
                lo_idx = t
            if hi_idx < t and low[t] <= hi * (1.0 - threshold):
                index[k] = hi_idx
                confirmed[k] = t
                price[k] = hi
                kind[k] = 1
                k += 1
                direction = -1
                lo = low[t]
                lo_idx = t
            elif lo_idx < t and high[t] >= lo * (1.0 + threshold):
                index[k] = lo_idx
                confirmed[k] = t
                price[k] = lo
                kind[k] = -1
                k += 1
                direction = 1
                hi = high[t]
                hi_idx = t
        elif direction == 1:
            if high[t] > hi:
                hi = high[t]
                hi_idx = t
            elif low[t] <= hi * (1.0 - threshold):
                index[k] = hi_idx
                confirmed[k] = t
                price[k] = hi
                kind[k] = 1
                k += 1
                direction = -1
                lo = low[t]
                lo_idx = t
        else:
            if low[t] < lo:
                lo = low[t]
                lo_idx = t
            elif high[t] >= lo * (1.0 + threshold):
                index[k] = lo_idx
                confirmed[k] = t
                price[k] = lo
                kind[k] = -1
                k += 1
                direction = 1
                hi = high[t]
                hi_idx = t
    return index[:k].copy(), confirmed[:k].copy(), price[:k].copy(), kind[:k].copy()
