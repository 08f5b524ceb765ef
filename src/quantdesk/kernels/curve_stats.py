"""One pass over an equity curve for a search's scores: the moments of its per-bar returns, its worst drawdown and
its return per session day (numba).

A search scores hundreds of runs over a million bars each; numpy's way (the returns as an array, ``std``, a
running maximum, the day ends) walks the curve six times and allocates as many arrays. ``curve_stats`` walks it
once. It equals, to rounding, ``r = c[1:] / c[:-1] - 1``; ``r.mean()``; ``r.std(ddof=1)``;
``sqrt(mean(minimum(r, 0) ** 2))``; ``min(c / maximum.accumulate(c) - 1)``; and the day returns of
``optimize.scores.day_returns``, which a test holds it to (``tests/unit/optimize/test_scores.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def curve_stats(curve: np.ndarray, day_id: np.ndarray) -> tuple[float, float, float, float, np.ndarray]:
    """(mean, sample standard deviation and downside deviation of the per-bar returns, the worst drawdown, the
    day returns) of ``curve`` (the initial cash, then the equity at each row) with ``day_id`` per row (length 1:
    one day)."""
    n = len(curve) - 1
    total = 0.0
    down = 0.0
    peak = curve[0]
    worst = 0.0
    for t in range(1, n + 1):
        r = curve[t] / curve[t - 1] - 1.0
        total += r
        if r < 0.0:
            down += r * r
        if curve[t] > peak:
            peak = curve[t]
        dd = curve[t] / peak - 1.0
        if dd < worst:
            worst = dd
    mean = total / n if n > 0 else math.nan
    ss = 0.0
    for t in range(1, n + 1):
        d = curve[t] / curve[t - 1] - 1.0 - mean
        ss += d * d
    sd = math.sqrt(ss / (n - 1)) if n > 1 else math.nan
    downside = math.sqrt(down / n) if n > 0 else math.nan
    one_day = len(day_id) == 1
    days = 1
    for t in range(1, n):
        if not one_day and day_id[t] != day_id[t - 1]:
            days += 1
    out = np.empty(days if n > 0 else 0)
    k = 0
    prev = curve[0]
    for t in range(n):
        last = t == n - 1 or (not one_day and day_id[t + 1] != day_id[t])
        if last:
            out[k] = curve[t + 1] / prev - 1.0
            prev = curve[t + 1]
            k += 1
    return mean, sd, downside, worst, out
