"""Chart patterns over zigzag pivots (numba): head and shoulders, double tops and bottoms, triangles, flags, pennants.

Input: the closes and the zigzag pivots of ``kernels.pivots.zigzag_pivots`` (alternating, ordered by
confirmation bar). Every window of consecutive pivots ending at pivot ``j`` is judged with each
enabled kind's geometry (the rules, in percent, are in ``analysis.technical.patterns.chart``; here
tolerances and moves are plain fractions); a window that fits is watched for its breakout, the first
bar ``b`` whose close leaves the pattern, from pivot ``j``'s confirmation bar ``c`` to the earliest of
``c + max_breakout_bars``, the bar before pivot ``j + 1`` is confirmed, and the last bar, so a
detection at ``b`` uses only pivots known at ``b``. Targets are measured moves from the breakout
level. Reference: ``tests/reference/chart_patterns_reference.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

HEAD_SHOULDERS = 0
INVERSE_HEAD_SHOULDERS = 1
DOUBLE_TOP = 2
DOUBLE_BOTTOM = 3
ASCENDING_TRIANGLE = 4
DESCENDING_TRIANGLE = 5
SYMMETRICAL_TRIANGLE = 6
BULL_FLAG = 7
BEAR_FLAG = 8
PENNANT = 9
N_KINDS = 10
# pivots in each kind's window, by kind code
WINDOW = np.array([5, 5, 3, 3, 4, 4, 4, 5, 5, 5], dtype=np.int64)


@njit(cache=True)
def _line(x0: float, y0: float, x1: float, y1: float, x: float) -> float:
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@njit(cache=True)
def _search_end(n: int, p_index: np.ndarray, p_confirmed: np.ndarray, j: int, max_breakout_bars: int) -> int:
    end = p_confirmed[j] + max_breakout_bars
    if j + 1 < len(p_index) and p_confirmed[j + 1] - 1 < end:
        end = p_confirmed[j + 1] - 1
    if n - 1 < end:
        end = n - 1
    return end


@njit(cache=True)
def _first_close_beyond(
    close: np.ndarray, start: int, end: int, x0: float, y0: float, x1: float, y1: float, direction: int
) -> tuple[int, float]:
    """First bar in [start, end] closing above (direction +1) or below (-1) the line; (-1, nan) if none."""
    for b in range(start, end + 1):
        level = _line(x0, y0, x1, y1, b)
        if (direction > 0 and close[b] > level) or (direction < 0 and close[b] < level):
            return b, level
    return -1, np.nan


@njit(cache=True)
def _first_exit(
    close: np.ndarray,
    start: int,
    end: int,
    ux0: float,
    uy0: float,
    ux1: float,
    uy1: float,
    lx0: float,
    ly0: float,
    lx1: float,
    ly1: float,
) -> tuple[int, int, float]:
    """First bar in [start, end] closing outside the upper/lower lines, while the upper is above the lower.

    Answers (bar, +1 above / -1 below, the line's value there), or (-1, 0, nan)."""
    for b in range(start, end + 1):
        upper = _line(ux0, uy0, ux1, uy1, b)
        lower = _line(lx0, ly0, lx1, ly1, b)
        if upper <= lower:
            break
        if close[b] > upper:
            return b, 1, upper
        if close[b] < lower:
            return b, -1, lower
    return -1, 0, np.nan


@njit(cache=True)
def _within(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * 0.5 * (a + b)


@njit(cache=True)
def scan_chart_patterns(
    close: np.ndarray,
    p_index: np.ndarray,
    p_confirmed: np.ndarray,
    p_price: np.ndarray,
    p_kind: np.ndarray,
    enabled: np.ndarray,
    shoulder_tolerance: float,
    shoulder_time_ratio: float,
    top_tolerance: float,
    flat_tolerance: float,
    pole_min_move: float,
    max_pole_bars: int,
    max_flag_retrace: float,
    max_breakout_bars: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Detections as parallel arrays ordered by last pivot, then kind code (the caller sorts by bar):
    (kind int8, last pivot position int64, confirmed bar int64, direction int8 (+1 bullish, -1 bearish),
    breakout level, invalidation level, target), the last three float64."""
    n = len(close)
    m = len(p_index)
    cap = 4 * m + 1  # a window's last pivot fits at most four kinds (see the module docstring)
    kind_out = np.empty(cap, dtype=np.int8)
    last_out = np.empty(cap, dtype=np.int64)
    bar_out = np.empty(cap, dtype=np.int64)
    dir_out = np.empty(cap, dtype=np.int8)
    level_out = np.empty(cap, dtype=np.float64)
    invalid_out = np.empty(cap, dtype=np.float64)
    target_out = np.empty(cap, dtype=np.float64)
    k = 0
    x = p_index.astype(np.float64)
    p = p_price
    for j in range(m):
        start = p_confirmed[j]
        end = _search_end(n, p_index, p_confirmed, j, max_breakout_bars)
        if end < start:
            continue
        up = p_kind[j] == 1
        # --- head and shoulders (last pivot a high) and its inverse (a low)
        if j >= 4 and ((up and enabled[HEAD_SHOULDERS]) or (not up and enabled[INVERSE_HEAD_SHOULDERS])):
            ls, hd, rs = j - 4, j - 2, j
            sign = 1.0 if up else -1.0
            head_out = sign * (p[hd] - p[ls]) > 0.0 and sign * (p[hd] - p[rs]) > 0.0
            left_span = x[hd] - x[ls]
            right_span = x[rs] - x[hd]
            timed = max(left_span, right_span) <= shoulder_time_ratio * min(left_span, right_span)
            if head_out and timed and _within(p[ls], p[rs], shoulder_tolerance):
                direction = -1 if up else 1
                b, level = _first_close_beyond(close, start, end, x[j - 3], p[j - 3], x[j - 1], p[j - 1], direction)
                if b >= 0:
                    height = p[hd] - _line(x[j - 3], p[j - 3], x[j - 1], p[j - 1], x[hd])
                    kind_out[k] = HEAD_SHOULDERS if up else INVERSE_HEAD_SHOULDERS
                    last_out[k] = j
                    bar_out[k] = b
                    dir_out[k] = direction
                    level_out[k] = level
                    invalid_out[k] = p[hd]
                    target_out[k] = level - height
                    k += 1
        # --- double top (last pivot a high) and double bottom (a low)
        top_kind = (up and enabled[DOUBLE_TOP]) or (not up and enabled[DOUBLE_BOTTOM])
        if j >= 2 and top_kind and _within(p[j - 2], p[j], top_tolerance):
            direction = -1 if up else 1
            trough = p[j - 1]
            b, level = _first_close_beyond(close, start, end, 0.0, trough, 1.0, trough, direction)
            if b >= 0:
                extreme = max(p[j - 2], p[j]) if up else min(p[j - 2], p[j])
                kind_out[k] = DOUBLE_TOP if up else DOUBLE_BOTTOM
                last_out[k] = j
                bar_out[k] = b
                dir_out[k] = direction
                level_out[k] = trough
                invalid_out[k] = extreme
                target_out[k] = trough - (extreme - trough)
                k += 1
        # --- triangles: four pivots, two highs (h1, h2) and two lows (l1, l2)
        if j >= 3 and (enabled[ASCENDING_TRIANGLE] or enabled[DESCENDING_TRIANGLE] or enabled[SYMMETRICAL_TRIANGLE]):
            h1, h2, l1, l2 = (j - 2, j, j - 3, j - 1) if up else (j - 3, j - 1, j - 2, j)
            tol_h = flat_tolerance * 0.5 * (p[h1] + p[h2])
            tol_l = flat_tolerance * 0.5 * (p[l1] + p[l2])
            highs_flat = abs(p[h2] - p[h1]) <= tol_h
            highs_falling = p[h1] - p[h2] > tol_h
            lows_flat = abs(p[l2] - p[l1]) <= tol_l
            lows_rising = p[l2] - p[l1] > tol_l
            slope_upper = (p[h2] - p[h1]) / (x[h2] - x[h1])
            slope_lower = (p[l2] - p[l1]) / (x[l2] - x[l1])
            code = -1
            if highs_flat and lows_rising:
                code = ASCENDING_TRIANGLE
            elif highs_falling and lows_flat:
                code = DESCENDING_TRIANGLE
            elif highs_falling and lows_rising:
                code = SYMMETRICAL_TRIANGLE
            if code >= 0 and enabled[code] and slope_upper < slope_lower:
                b, direction, level = _first_exit(
                    close, start, end, x[h1], p[h1], x[h2], p[h2], x[l1], p[l1], x[l2], p[l2]
                )
                wanted = (
                    (code == ASCENDING_TRIANGLE and direction == 1)
                    or (code == DESCENDING_TRIANGLE and direction == -1)
                    or (code == SYMMETRICAL_TRIANGLE and direction != 0)
                )
                if b >= 0 and wanted:
                    height = max(p[h1], p[h2]) - min(p[l1], p[l2])
                    kind_out[k] = code
                    last_out[k] = j
                    bar_out[k] = b
                    dir_out[k] = direction
                    level_out[k] = level
                    invalid_out[k] = p[l2] if direction == 1 else p[h2]
                    target_out[k] = level + direction * height
                    k += 1
        # --- flags and pennants: a pole (j-4 -> j-3) then three flag pivots; bull windows end on a low
        if j >= 4 and (enabled[BULL_FLAG] or enabled[BEAR_FLAG] or enabled[PENNANT]):
            base, top = j - 4, j - 3
            pole = abs(p[top] - p[base])
            sign = 1.0 if not up else -1.0  # +1 bull (pole up), -1 bear
            pole_ok = pole >= pole_min_move * p[base] and x[top] - x[base] <= max_pole_bars
            # bull: lower highs (j-1 < j-3); bear: higher lows (j-1 > j-3)
            against = sign * (p[j - 1] - p[top]) < 0.0
            flag_like = sign * (p[j] - p[j - 2]) < 0.0  # bull: lower lows; bear: higher highs
            pennant_like = sign * (p[j] - p[j - 2]) > 0.0
            deepest = min(p[j - 2], p[j]) if not up else max(p[j - 2], p[j])
            retrace_ok = abs(p[top] - deepest) <= max_flag_retrace * pole
            code = -1
            if flag_like:
                code = BULL_FLAG if not up else BEAR_FLAG
            elif pennant_like:
                code = PENNANT
            if code >= 0 and enabled[code] and pole_ok and against and retrace_ok:
                if not up:  # upper line through the highs top, j-1; lower through the lows j-2, j
                    b, direction, level = _first_exit(
                        close, start, end, x[top], p[top], x[j - 1], p[j - 1], x[j - 2], p[j - 2], x[j], p[j]
                    )
                else:
                    b, direction, level = _first_exit(
                        close, start, end, x[j - 2], p[j - 2], x[j], p[j], x[top], p[top], x[j - 1], p[j - 1]
                    )
                if b >= 0 and direction == int(sign):
                    kind_out[k] = code
                    last_out[k] = j
                    bar_out[k] = b
                    dir_out[k] = direction
                    level_out[k] = level
                    invalid_out[k] = p[j]
                    target_out[k] = level + sign * pole
                    k += 1
    return (
        kind_out[:k].copy(),
        last_out[:k].copy(),
        bar_out[:k].copy(),
        dir_out[:k].copy(),
        level_out[:k].copy(),
        invalid_out[:k].copy(),
        target_out[:k].copy(),
    )
