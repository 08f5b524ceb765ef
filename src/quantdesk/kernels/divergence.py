"""Price/oscillator divergences between consecutive swing pivots of one side (numba).

Input: the pivots of one side (all swing lows, or all swing highs) from
``kernels.pivots.fractal_pivots``, in bar order: their bars and prices, and the oscillator's value at
each pivot's bar. Each pivot is paired with the previous one of its side when
``min_bars <= bar_2 - bar_1 <= max_bars``. For lows (``side == -1``): price lower and oscillator
higher is regular (code 0), price higher and oscillator lower is hidden (code 1). For highs
(``side == +1``): price higher and oscillator lower is regular, price lower and oscillator higher is
hidden. Equal values, or a NaN oscillator value, make no divergence. A divergence is known at the
second pivot's confirmation bar. Reference: ``tests/reference/divergence_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

REGULAR = 0
HIDDEN = 1


@njit(cache=True)
def pivot_divergences(
    p_index: np.ndarray, p_price: np.ndarray, p_value: np.ndarray, side: int, min_bars: int, max_bars: int
) -> tuple[np.ndarray, np.ndarray]:
    """(second, code): position of the second pivot of each divergent pair and its code, in pivot order."""
    n = len(p_index)
    second = np.empty(max(n - 1, 0), dtype=np.int64)
    code = np.empty(max(n - 1, 0), dtype=np.int64)
    m = 0
    for j in range(1, n):
        gap = p_index[j] - p_index[j - 1]
        if gap < min_bars or gap > max_bars:
            continue
        dp = p_price[j] - p_price[j - 1]
        dv = p_value[j] - p_value[j - 1]
        if side == 1:
            dp = -dp
            dv = -dv
        # for lows: regular = lower price, higher oscillator; hidden = higher price, lower oscillator
        if dp < 0.0 and dv > 0.0:
            second[m] = j
            code[m] = REGULAR
            m += 1
        elif dp > 0.0 and dv < 0.0:
            second[m] = j
            code[m] = HIDDEN
            m += 1
    return second[:m].copy(), code[:m].copy()
