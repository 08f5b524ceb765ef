"""Market structure from confirmed pivots (numba): swing events, the latest swing prices, and
support and resistance levels from clustered pivot prices.

At each bar ``t`` the pivots in play for the levels are those confirmed at or before ``t`` whose
extreme lies in the last ``lookback_bars`` bars (``index > t - lookback_bars``). Their prices,
sorted, are clustered greedily from the lowest: a cluster takes every following price within
``tolerance`` (a fraction) above its first price; a cluster of at least ``min_touches`` prices is a
level at their mean, with that many touches. Support is the highest level at or below the close,
resistance the lowest level above it; NaN (price and touches) where there is none.
Plain-Python reference: ``reference_nearest_levels`` in ``tests/reference/chart_patterns_reference.py``.

The set of pivots in play changes only on the bars where one is confirmed or its extreme leaves
the window, so ``nearest_levels`` keeps their prices in a sorted array updated by insertion and
removal, reclusters only on those bars, and between them only moves the close's position among the
(few, ascending) levels.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def swing_marks(n: int, confirmed: np.ndarray, kind: np.ndarray, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    """(high, low): 1.0 on each bar confirming a pivot of kind +1 / -1, else 0.0; NaN on the first ``warmup`` bars.

    Equals ``np.zeros(n)`` with ``[confirmed[kind == 1]] = 1.0`` (likewise lows), then ``[:warmup] = nan``."""
    out = np.zeros((2, n))
    high, low = out[0], out[1]
    for i in range(len(confirmed)):
        t = confirmed[i]
        if 0 <= t < n:
            if kind[i] == 1:
                high[t] = 1.0
            elif kind[i] == -1:
                low[t] = 1.0
    for t in range(min(max(warmup, 0), n)):
        high[t] = np.nan
        low[t] = np.nan
    return high, low


@njit(cache=True)
def latest_swings(n: int, confirmed: np.ndarray, price: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high): per bar the price of the latest pivot of kind -1 / +1 confirmed at or before it, NaN before
    the first; pivots ordered by ``confirmed`` (the last of those confirmed on one bar wins).

    Equals, for the lows, ``pd.Series(price[kind == -1], index=confirmed[kind == -1]).groupby(level=0).last()
    .reindex(range(n)).ffill()`` (likewise the highs)."""
    out = np.empty((2, n))
    low, high = out[0], out[1]
    last_low = np.nan
    last_high = np.nan
    m = len(confirmed)
    i = 0
    for t in range(n):
        while i < m and confirmed[i] <= t:
            if kind[i] == 1:
                last_high = price[i]
            elif kind[i] == -1:
                last_low = price[i]
            i += 1
        low[t] = last_low
        high[t] = last_high
    return low, high


@njit(cache=True)
def _cluster_into(
    prices: np.ndarray, count: int, tolerance: float, min_touches: int, level: np.ndarray, touches: np.ndarray
) -> int:
    """Levels of ``prices[:count]`` (ascending) written to ``level``/``touches``; returns how many."""
    k = 0
    i = 0
    while i < count:
        first = prices[i]
        ceiling = first * (1.0 + tolerance)
        total = first
        j = i + 1
        while j < count and prices[j] <= ceiling:
            total += prices[j]
            j += 1
        if j - i >= min_touches:
            level[k] = total / (j - i)
            touches[k] = j - i
            k += 1
        i = j
    return k


@njit(cache=True)
def cluster_levels(
    sorted_prices: np.ndarray, tolerance: float, min_touches: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clusters of ``sorted_prices`` (ascending) as (start, stop) positions and mean prices."""
    c = len(sorted_prices)
    level = np.empty(c, dtype=np.float64)
    touches = np.empty(c, dtype=np.int64)
    k = _cluster_into(sorted_prices, c, tolerance, min_touches, level, touches)
    start = np.empty(k, dtype=np.int64)
    stop = np.empty(k, dtype=np.int64)
    # recover the positions: walk the clusters again (levels are the clusters with enough touches)
    q = 0
    i = 0
    while i < c and q < k:
        ceiling = sorted_prices[i] * (1.0 + tolerance)
        j = i + 1
        while j < c and sorted_prices[j] <= ceiling:
            j += 1
        if j - i >= min_touches:
            start[q] = i
            stop[q] = j
            q += 1
        i = j
    return start, stop, level[:k].copy()


@njit(cache=True)
def _insert(window: np.ndarray, count: int, price: float) -> None:
    """Insert ``price`` into ascending ``window[:count]`` (NaN last, as ``np.sort`` puts it)."""
    pos = count
    if price == price:
        while pos > 0 and not window[pos - 1] <= price:
            window[pos] = window[pos - 1]
            pos -= 1
    window[pos] = price


@njit(cache=True)
def _remove(window: np.ndarray, count: int, price: float) -> None:
    """Remove one entry equal to ``price`` (or a NaN for a NaN price) from ascending ``window[:count]``."""
    pos = count - 1
    if price == price:
        while pos > 0 and not window[pos] <= price:
            pos -= 1
    for i in range(pos, count - 1):
        window[i] = window[i + 1]


@njit(cache=True)
def nearest_levels(
    close: np.ndarray,
    p_index: np.ndarray,
    p_confirmed: np.ndarray,
    p_price: np.ndarray,
    lookback_bars: int,
    tolerance: float,
    min_touches: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(support, support touches, resistance, resistance touches) per bar; pivots ordered by ``p_confirmed``."""
    n = len(close)
    m = len(p_index)
    out = np.empty((4, n))  # one block: four separate large allocations cost more than the fill
    support, support_touches, resistance, resistance_touches = out[0], out[1], out[2], out[3]
    # pivots in the order their extremes leave the window (fractal pivots already are)
    leaving = np.arange(m)
    for i in range(1, m):
        if p_index[i] < p_index[i - 1]:
            leaving = np.argsort(p_index, kind="mergesort")
            break
    window = np.empty(m, dtype=np.float64)
    level = np.empty(m, dtype=np.float64)
    touches = np.empty(m, dtype=np.float64)
    count = 0
    k = 0
    ascending = True
    q = 0  # level[:q] are at or below the close (when ascending)
    enter = 0
    leave = 0
    t = 0
    while t < n:
        # a pivot leaves when its extreme is lookback_bars old, if it entered: confirmed before then
        while leave < m and p_index[leaving[leave]] <= t - lookback_bars:
            e = leaving[leave]
            if max(p_confirmed[e], 0) < p_index[e] + lookback_bars:
                _remove(window, count, p_price[e])
                count -= 1
            leave += 1
        while enter < m and p_confirmed[enter] <= t:
            if p_index[enter] > t - lookback_bars:
                _insert(window, count, p_price[enter])
                count += 1
            enter += 1
        k = _cluster_into(window, count, tolerance, min_touches, level, touches)
        ascending = True
        for i in range(1, k):
            if not level[i - 1] < level[i]:
                ascending = False
        q = min(q, k)
        # the levels hold until the next bar on which a pivot enters or leaves
        stop = n
        if leave < m:
            stop = min(stop, p_index[leaving[leave]] + lookback_bars)
        if enter < m:
            stop = min(stop, p_confirmed[enter])
        for u in range(t, stop):
            c = close[u]
            if ascending:
                while q < k and level[q] <= c:
                    q += 1
                while q > 0 and not level[q - 1] <= c:
                    q -= 1
                best_s = q - 1
                best_r = q if q < k else -1
            else:
                best_s = -1
                best_r = -1
                for i in range(k):
                    if level[i] <= c:
                        if best_s < 0 or level[i] > level[best_s]:
                            best_s = i
                    elif best_r < 0 or level[i] < level[best_r]:
                        best_r = i
            if best_s >= 0:
                support[u] = level[best_s]
                support_touches[u] = touches[best_s]
            else:
                support[u] = np.nan
                support_touches[u] = np.nan
            if best_r >= 0:
                resistance[u] = level[best_r]
                resistance_touches[u] = touches[best_r]
            else:
                resistance[u] = np.nan
                resistance_touches[u] = np.nan
        t = stop
    return support, support_touches, resistance, resistance_touches
