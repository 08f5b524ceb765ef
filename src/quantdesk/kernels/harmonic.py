"""Harmonic XABCD patterns over zigzag pivots (numba): Fibonacci ratio matching and the reversal zone.

Input: the zigzag pivots of ``kernels.pivots.zigzag_pivots`` (alternating highs and lows, ordered
by confirmation bar) and a ratio table, one row per pattern: ``ratio_low``/``ratio_high`` of shape
``(n_patterns, 4)`` with columns AB/XA, BC/AB, CD/BC, AD/XA (a point ratio has low == high). Every
five consecutive pivots ``X A B C D`` (``D`` = pivot ``j``) are measured as leg lengths
(``XA = |A - X|`` ...) and a pattern matches when each ratio ``r`` lies in
``[low * (1 - tolerance), high * (1 + tolerance)]``. The detection belongs to ``D``'s confirmation
bar, the first bar at which all five pivots are known. The potential reversal zone is the price
interval where ``D`` may lie by both the AD band (``A -/+ AD * XA``) and the CD band
(``C -/+ CD * BC``), each band widened by ``tolerance``; it always contains ``D``. Reference:
``tests/reference/harmonic_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def scan_harmonic(
    p_price: np.ndarray,
    p_kind: np.ndarray,
    enabled: np.ndarray,
    ratio_low: np.ndarray,
    ratio_high: np.ndarray,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Matches as (code, d_pivot, ratios[m, 4], prz_low, prz_high), ordered by ``d_pivot`` then ``code``.

    ``code`` is the row of the ratio table, ``d_pivot`` the position of ``D`` among the pivots
    (``X`` is ``d_pivot - 4``); the direction is bullish (+1) when ``X`` is a low (``p_kind == -1``).
    """
    n = len(p_price)
    n_patterns = ratio_low.shape[0]
    cap = max(n - 4, 0) * n_patterns
    code = np.empty(cap, dtype=np.int64)
    d_pivot = np.empty(cap, dtype=np.int64)
    ratios = np.empty((cap, 4), dtype=np.float64)
    prz_low = np.empty(cap, dtype=np.float64)
    prz_high = np.empty(cap, dtype=np.float64)
    lo = ratio_low * (1.0 - tolerance)
    hi = ratio_high * (1.0 + tolerance)
    r = np.empty(4, dtype=np.float64)
    m = 0
    for j in range(4, n):
        x = p_price[j - 4]
        a = p_price[j - 3]
        b = p_price[j - 2]
        c = p_price[j - 1]
        d = p_price[j]
        xa = abs(a - x)
        ab = abs(a - b)
        bc = abs(c - b)
        if xa == 0.0 or ab == 0.0 or bc == 0.0:
            continue
        r[0] = ab / xa
        r[1] = bc / ab
        r[2] = abs(c - d) / bc
        r[3] = abs(a - d) / xa
        # D lies on the far side of A from X's leg: below A for a bullish pattern, above for bearish
        sign = 1.0 if p_kind[j - 4] == -1 else -1.0
        for q in range(n_patterns):
            if not enabled[q]:
                continue
            ok = True
            for k in range(4):
                if not (lo[q, k] <= r[k] <= hi[q, k]):
                    ok = False
                    break
            if not ok:
                continue
            ad_1 = a - sign * lo[q, 3] * xa
            ad_2 = a - sign * hi[q, 3] * xa
            cd_1 = c - sign * lo[q, 2] * bc
            cd_2 = c - sign * hi[q, 2] * bc
            low = max(min(ad_1, ad_2), min(cd_1, cd_2))
            high = min(max(ad_1, ad_2), max(cd_1, cd_2))
            code[m] = q
            d_pivot[m] = j
            for k in range(4):
                ratios[m, k] = r[k]
            # rounding in the band edges must not leave D itself outside its zone
            prz_low[m] = min(low, d)
            prz_high[m] = max(high, d)
            m += 1
    return code[:m].copy(), d_pivot[:m].copy(), ratios[:m].copy(), prz_low[:m].copy(), prz_high[:m].copy()
