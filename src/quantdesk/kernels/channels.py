"""Price channels (numba): Keltner, Donchian and Ichimoku, arrays in, arrays out, NaN during warm-up.
``keltner`` is one pass computing TA-Lib's ``EMA(close, period)`` (seeded by the SMA of the first
``period`` closes, then ``ema += (close - ema) * 2 / (period + 1)``) and ``ATR(high, low, close,
atr_period)`` (true range from bar 1, seeded by the mean of the first ``atr_period`` true ranges at
bar ``atr_period``, then Wilder's ``atr = (atr * (atr_period - 1) + tr) / atr_period``, to rounding), with bands
``ema +- multiplier * atr``. ``rolling_max``/``rolling_min`` equal ``pandas.Series.rolling(period).max()``
/ ``.min()`` and TA-Lib's ``MAX``/``MIN`` (van Herk/Gil-Werman blocks, O(n)); ``donchian`` is both with their
average, and ``midpoint`` is TA-Lib's ``MIDPRICE`` ((highest high + lowest low) / 2). ``ichimoku_into``
fills tenkan, kijun and one cloud buffer: the cloud computed at each bar (senkou A = (tenkan + kijun) / 2,
senkou B = midpoint over ``senkou_b_period``) placed ``displacement`` bars later, so the cloud in force
at t is the one computed at t - displacement and no output at t reads a price after t.
References: ``tests/reference/channels_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def keltner(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, atr_period: int, multiplier: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(close)
    block = np.empty((3, n))  # one allocation for the outputs
    middle = block[0]
    upper = block[1]
    lower = block[2]
    middle[: min(period - 1, n)] = np.nan
    warm = min(max(period - 1, atr_period), n)
    upper[:warm] = np.nan
    lower[:warm] = np.nan
    k = 2.0 / (period + 1)
    # Wilder's (atr * (p - 1) + tr) / p as a multiply-add: no division in the loop's dependency chain
    decay = (atr_period - 1) / atr_period
    share = 1.0 / atr_period
    ema = 0.0
    seed_sum = 0.0
    tr_sum = 0.0
    atr = np.nan
    for t in range(n):
        if t < period:
            seed_sum += close[t]
            ema = seed_sum / period
        else:
            ema = (close[t] - ema) * k + ema
        if t >= 1:
            prev_close = close[t - 1]
            tr = max(high[t] - low[t], abs(prev_close - high[t]), abs(low[t] - prev_close))
            if t <= atr_period:
                tr_sum += tr
                atr = tr_sum / atr_period
            else:
                atr = atr * decay + tr * share
        if t >= period - 1:
            middle[t] = ema
            if t >= atr_period:
                upper[t] = ema + multiplier * atr
                lower[t] = ema - multiplier * atr
    return middle, upper, lower


@njit(cache=True)
def _window_extreme(values: np.ndarray, period: int, sign: float, out: np.ndarray, average: bool) -> None:
    """``out[t]`` = sign * max(sign * values[t - period + 1 : t + 1]) (the max for sign 1, the min for -1),
    or the average of that and ``out[t]`` when ``average``; NaN before ``period - 1``.

    van Herk / Gil-Werman: cut the series into blocks of ``period`` bars; a window ending at t is the
    tail of the previous block and the head of t's block, so its extreme is the extreme of the previous
    block from t - period + 1 to its end (``behind``, filled backwards one block ahead of use) and of
    t's block up to t (``ahead``, running forwards): O(n) with two period-sized buffers.
    """
    n = len(values)
    behind_prev = np.empty(period)
    behind_cur = np.empty(period)
    for start in range(0, n, period):
        stop = min(start + period, n)
        m = stop - start
        running = sign * values[stop - 1]
        for k in range(m - 1, -1, -1):
            x = sign * values[start + k]
            running = x if x > running else running
            behind_cur[k] = running
        ahead = sign * values[start]
        for k in range(m):
            i = start + k
            x = sign * values[i]
            ahead = x if x > ahead else ahead
            if i < period - 1:
                out[i] = np.nan
                continue
            extreme = ahead
            if k < period - 1:
                back = behind_prev[k + 1]
                extreme = back if back > extreme else extreme
            if average:
                out[i] = (out[i] + sign * extreme) / 2.0
            else:
                out[i] = sign * extreme
        behind_prev, behind_cur = behind_cur, behind_prev


@njit(cache=True)
def rolling_max(values: np.ndarray, period: int) -> np.ndarray:
    out = np.empty(len(values))
    _window_extreme(values, period, 1.0, out, False)
    return out


@njit(cache=True)
def rolling_min(values: np.ndarray, period: int) -> np.ndarray:
    out = np.empty(len(values))
    _window_extreme(values, period, -1.0, out, False)
    return out


@njit(cache=True, inline="always")
def _block_extremes(
    high: np.ndarray,
    low: np.ndarray,
    start: int,
    stop: int,
    period: int,
    high_behind: np.ndarray,
    low_behind: np.ndarray,
    highest: np.ndarray,
    lowest: np.ndarray,
    at: int,
) -> None:
    """One van Herk/Gil-Werman block (bars ``start`` to ``stop - 1``, at most ``period`` of them) for the highs
    and the lows at once: ``highest[at + k]``/``lowest[at + k]`` = max high / min low of the ``period`` bars
    ending at ``start + k``, the same comparisons as ``_window_extreme`` (so the same values, NaN included).

    ``high_behind[j]``/``low_behind[j]`` hold the previous block's extremes from its bar j to its end, with
    the sentinels -inf/+inf at index ``period`` (and everywhere before the first block, whose windows the
    caller overwrites with NaN); the block replaces them with its own once read.
    """
    ahead_high = high[start]
    ahead_low = low[start]
    for k in range(stop - start):
        x = high[start + k]
        ahead_high = x if x > ahead_high else ahead_high
        y = low[start + k]
        ahead_low = y if y < ahead_low else ahead_low
        back = high_behind[k + 1]
        highest[at + k] = back if back > ahead_high else ahead_high
        back = low_behind[k + 1]
        lowest[at + k] = back if back < ahead_low else ahead_low
    if stop - start == period:
        running_high = high[stop - 1]
        running_low = low[stop - 1]
        for k in range(period - 1, -1, -1):
            x = high[start + k]
            running_high = x if x > running_high else running_high
            high_behind[k] = running_high
            y = low[start + k]
            running_low = y if y < running_low else running_low
            low_behind[k] = running_low


@njit(cache=True)
def _sentinels(period: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``behind`` buffers of ``_block_extremes`` before the first block."""
    return np.full(period + 1, -np.inf), np.full(period + 1, np.inf)


@njit(cache=True)
def donchian_into(high: np.ndarray, low: np.ndarray, period: int, out: np.ndarray) -> None:
    """Rows of ``out`` (3 x n): upper = ``rolling(period).max()`` of the highs, middle = (upper + lower) / 2,
    lower = ``rolling(period).min()`` of the lows; one pass, no other array of n values."""
    n = len(high)
    upper = out[0]
    middle = out[1]
    lower = out[2]
    high_behind, low_behind = _sentinels(period)
    for start in range(0, n, period):
        stop = min(start + period, n)
        _block_extremes(high, low, start, stop, period, high_behind, low_behind, upper, lower, start)
        for t in range(start, stop):
            middle[t] = (upper[t] + lower[t]) / 2.0
    warm = min(period - 1, n)
    upper[:warm] = np.nan
    middle[:warm] = np.nan
    lower[:warm] = np.nan


@njit(cache=True)
def donchian(high: np.ndarray, low: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    out = np.empty((3, len(high)))
    donchian_into(high, low, period, out)
    return out[0], out[1], out[2]


@njit(cache=True)
def midpoint(high: np.ndarray, low: np.ndarray, period: int) -> np.ndarray:
    out = np.empty(len(high))
    _window_extreme(high, period, 1.0, out, False)
    _window_extreme(low, period, -1.0, out, True)
    return out


@njit(cache=True)
def _midpoint_into(high: np.ndarray, low: np.ndarray, period: int, out: np.ndarray) -> None:
    """``out[t]`` = TA-Lib's ``MIDPRICE``: (max high + min low) / 2 over the ``period`` bars ending at t."""
    n = len(high)
    high_behind, low_behind = _sentinels(period)
    highest = np.empty(period)
    lowest = np.empty(period)
    for start in range(0, n, period):
        stop = min(start + period, n)
        _block_extremes(high, low, start, stop, period, high_behind, low_behind, highest, lowest, 0)
        for k in range(stop - start):
            out[start + k] = (highest[k] + lowest[k]) / 2.0
    out[: min(period - 1, n)] = np.nan


@njit(cache=True)
def ichimoku_into(
    high: np.ndarray,
    low: np.ndarray,
    tenkan_period: int,
    kijun_period: int,
    senkou_b_period: int,
    displacement: int,
    lines: np.ndarray,
    cloud: np.ndarray,
) -> None:
    """Fill ``lines`` (2 x n: tenkan, kijun) and ``cloud`` (2 x (n + displacement): senkou A and B).

    ``cloud[:, :displacement]`` is NaN and ``cloud[:, displacement + t]`` holds the cloud computed at
    bar t (the "ahead" lines), so ``cloud[:, :n]`` is the cloud in force at each bar (computed
    ``displacement`` bars earlier) and ``cloud[:, displacement:]`` the cloud computed at it: two views
    of one buffer, with no copy. Tenkan is a ``MIDPRICE`` pass; the kijun pass writes the cloud as it
    goes. When ``senkou_b_period`` is at most twice ``kijun_period`` (52 and 26 by default) the senkou
    B window is two overlapping kijun windows, ending at t and at t - (senkou_b_period - kijun_period),
    so its extremes come from the kijun extremes kept in a ring, not from a third pass.
    """
    n = len(high)
    tenkan = lines[0]
    kijun = lines[1]
    _midpoint_into(high, low, tenkan_period, tenkan)
    for t in range(displacement):
        cloud[0, t] = np.nan
        cloud[1, t] = np.nan
    senkou_b = cloud[1, displacement:]
    overlapping = senkou_b_period <= 2 * kijun_period
    if not overlapping:
        _midpoint_into(high, low, senkou_b_period, senkou_b)
    gap = senkou_b_period - kijun_period
    ring_high = np.empty(gap)
    ring_low = np.empty(gap)
    slot = 0
    period = kijun_period
    high_behind, low_behind = _sentinels(period)
    highest = np.empty(period)
    lowest = np.empty(period)
    for start in range(0, n, period):
        stop = min(start + period, n)
        _block_extremes(high, low, start, stop, period, high_behind, low_behind, highest, lowest, 0)
        for k in range(stop - start):
            t = start + k
            top = highest[k]
            bottom = lowest[k]
            kijun[t] = (top + bottom) / 2.0 if t >= period - 1 else np.nan
            cloud[0, displacement + t] = (tenkan[t] + kijun[t]) / 2.0
            if overlapping:
                if t >= senkou_b_period - 1:
                    earlier_top = ring_high[slot]
                    earlier_bottom = ring_low[slot]
                    top_b = earlier_top if earlier_top > top else top
                    bottom_b = earlier_bottom if earlier_bottom < bottom else bottom
                    senkou_b[t] = (top_b + bottom_b) / 2.0
                else:
                    senkou_b[t] = np.nan
                ring_high[slot] = top
                ring_low[slot] = bottom
                slot = slot + 1 if slot + 1 < gap else 0
