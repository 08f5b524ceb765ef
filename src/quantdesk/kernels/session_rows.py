"""Which instruments a paper session's row must visit in Python, worked out in one call per phase.

A paper session (``runtime.session.PaperSession``) steps the kernel row by row and hands the market's part to a
broker in Python. Most instruments on most rows have nothing for the broker: no working order, or only a stop
and a target the bar does not reach; at the close, most have no kernel order working and a position, stop and
target that did not move. Testing that instrument by instrument in Python, or with a dozen small numpy
operations per row, cost more than the whole kernel step; these two njit functions do the tests of a row at
once and list the instruments that need Python. ``tests/reference/session_rows_reference.py`` holds the plain
loops a property test keeps them equal to.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from quantdesk.kernels.portfolio_layout import F_QTY, F_STOP, F_TARGET

# what ``open_visits`` says of an instrument at the open
OPEN_QUIET = 1  # only an accepted stop and target work, and the bar stays inside them: count it as seen
OPEN_VISIT = 2  # the broker must see the bar
OPEN_LEVELS = 3  # its orders changed: work out its quiet range again, then decide between the two

FOLLOWED_COLUMNS = (F_QTY, F_STOP, F_TARGET)


@njit(cache=True)
def open_visits(
    t: int, open_: np.ndarray, low: np.ndarray, high: np.ndarray, busy: np.ndarray, levels_stale: np.ndarray,
    quiet_ok: np.ndarray, quiet_lo: np.ndarray, quiet_hi: np.ndarray, idx: np.ndarray, code: np.ndarray,
) -> int:  # fmt: skip
    """Row ``t``'s open: the instruments with a bar and working orders, in column order, into ``idx[:n]`` with
    their ``OPEN_*`` code in ``code[:n]``; returns ``n``."""
    n = 0
    for j in range(open_.shape[1]):
        if not busy[j]:
            continue
        o = open_[t, j]
        if o != o:
            continue
        idx[n] = j
        if levels_stale[j]:
            code[n] = OPEN_LEVELS
        elif quiet_ok[j] and low[t, j] > quiet_lo[j] and high[t, j] < quiet_hi[j]:
            code[n] = OPEN_QUIET
        else:
            code[n] = OPEN_VISIT
        n += 1
    return n


@njit(cache=True)
def close_visits(
    t: int, close: np.ndarray, known_ns: int, last_bar_ns: np.ndarray, fs: np.ndarray, seen: np.ndarray,
    kernel_working: np.ndarray, stale: np.ndarray, idx: np.ndarray,
) -> int:  # fmt: skip
    """Row ``t``'s close: every instrument with a bar has ``last_bar_ns`` set to ``known_ns``; those of them with a
    kernel order working, orders the broker changed (``stale``), or a position, stop or target (``fs``) other
    than the one their orders follow (``seen``, NaN equal to NaN) go into ``idx[:n]``; returns ``n``."""
    n = 0
    for j in range(close.shape[1]):
        c = close[t, j]
        if c != c:
            continue
        last_bar_ns[j] = known_ns
        need = kernel_working[j] > 0 or stale[j]
        if not need:
            for k in range(3):
                a = fs[j, FOLLOWED_COLUMNS[k]]
                b = seen[j, k]
                if a != b and not (a != a and b != b):
                    need = True
                    break
        if need:
            idx[n] = j
            n += 1
    return n
