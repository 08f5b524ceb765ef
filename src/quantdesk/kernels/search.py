"""Positions of many sorted keys in a long sorted array (numba), for the calendar's session starts.

``np.searchsorted`` restarts a binary search over the whole array for each key, so a few thousand
keys into a million bars cost a few thousand trips across memory. When both sides are sorted and the
keys are spread along the array (one per day among minute bars), a galloping search from the previous
key's position stays within a few cache lines of it. Equal to ``np.searchsorted(values, keys,
side="left")`` for ascending ``keys``, which a test holds it to.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def searchsorted_left_sorted(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For ascending ``keys``: the first position i with ``values[i] >= key`` (len(values) if none)."""
    n = len(values)
    out = np.empty(len(keys), dtype=np.int64)
    lo = 0
    for j in range(len(keys)):
        key = keys[j]
        # gallop: widen the step until values[lo + step - 1] >= key or the end, then bisect that window
        step = 1
        while lo + step <= n and values[lo + step - 1] < key:
            lo += step
            step *= 2
        hi = min(lo + step, n)  # values[hi - 1] >= key, or hi == n
        while lo < hi:
            mid = (lo + hi) // 2
            if values[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        out[j] = lo
    return out
