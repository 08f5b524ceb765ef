"""The point-in-time trailing rank behind the regime classifier and the macro score (numba).

``trailing_rank(values, window, min_history, out)`` writes two rows into ``out`` (shape ``(2, n)``),
using for bar i only the *past* values ``values[max(0, i - window) : i]`` that are finite (bar i itself
is not part of its own window):

- ``out[0, i]``, the mid-rank percentile of ``values[i]`` among them:
  ``(count(past < values[i]) + 0.5 * count(past == values[i])) / count(past)``, in [0, 1];
  NaN where ``values[i]`` is NaN or fewer than ``min_history`` finite past values exist.
- ``out[1, i]``, their median (the mean of the two middle values for an even count), NaN where fewer
  than ``min_history`` exist.

The pandas expression it equals, for the median row: ``s.shift(1).rolling(window, min_periods=min_history)
.median()`` (the percentile row has no single pandas expression; the plain reference is
``tests/reference/regime_reference.py``). Each value depends only on earlier values, so a run on
``values[:k]`` equals the first k values of a run on all of them.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def trailing_rank(values: np.ndarray, window: int, min_history: int, out: np.ndarray) -> np.ndarray:
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
