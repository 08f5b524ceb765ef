"""Local day numbers of UTC timestamps from a table of UTC-offset changes (numba).

``offset_start_ns`` holds the instants (sorted, UTC ns) from which each ``offset_ns`` applies; the
first entry covers everything before the second. One pass over sorted or unsorted timestamps:
``day = floor((ts + offset) / NS_PER_DAY)``. The table comes from the time-zone database via
``TradingCalendar``; this kernel only makes the per-bar step cheap on millions of bars.
Reference: ``TradingCalendar.session_dates`` (pandas), which a test holds it equal to.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NS_PER_DAY = 86_400_000_000_000


@njit(cache=True)
def local_day_numbers(ts_ns: np.ndarray, offset_start_ns: np.ndarray, offset_ns: np.ndarray) -> np.ndarray:
    n = len(ts_ns)
    out = np.empty(n, dtype=np.int64)
    k = len(offset_start_ns)
    j = 0
    for i in range(n):
        t = ts_ns[i]
        if j > 0 and t < offset_start_ns[j]:
            j = 0  # unsorted input: restart the walk
        while j + 1 < k and offset_start_ns[j + 1] <= t:
            j += 1
        out[i] = (t + offset_ns[j]) // NS_PER_DAY
    return out
