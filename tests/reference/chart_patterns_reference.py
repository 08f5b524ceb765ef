"""Plain-Python references for ``kernels.chart_patterns`` and ``kernels.structure``, written the obvious way.

Pivots are ``(index, confirmed, price, kind)`` tuples as ``tests.reference.pivots_reference`` gives them.
A detection is ``(kind_code, last_pivot, bar, direction, breakout_level, invalidation_level, target)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Pivot = tuple[int, int, float, int]
Detection = tuple[int, int, int, int, float, float, float]

KINDS = (
    "head_and_shoulders",
    "inverse_head_and_shoulders",
    "double_top",
    "double_bottom",
    "ascending_triangle",
    "descending_triangle",
    "symmetrical_triangle",
    "bull_flag",
    "bear_flag",
    "pennant",
)


def _line(a: tuple[float, float], b: tuple[float, float], x: float) -> float:
    return a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0])


def _close_enough(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * (a + b) / 2


def _bars_to_watch(close: Sequence[float], pivots: Sequence[Pivot], j: int, max_breakout_bars: int) -> range:
    last = pivots[j][1] + max_breakout_bars
    if j + 1 < len(pivots):
        last = min(last, pivots[j + 1][1] - 1)
    return range(pivots[j][1], min(last, len(close) - 1) + 1)


Line = tuple[tuple[float, float], tuple[float, float]]


def _first_exit(close: Sequence[float], watch: range, upper: Line, lower: Line) -> tuple[int, int, float] | None:
    for b in watch:
        u, lo = _line(upper[0], upper[1], b), _line(lower[0], lower[1], b)
        if u <= lo:
            return None
        if close[b] > u:
            return b, 1, u
        if close[b] < lo:
            return b, -1, lo
    return None


def reference_chart_patterns(
    close: Sequence[float],
    pivots: Sequence[Pivot],
    kinds: Sequence[str],
    shoulder_tolerance: float,
    shoulder_time_ratio: float,
    top_tolerance: float,
    flat_tolerance: float,
    pole_min_move: float,
    max_pole_bars: int,
    max_flag_retrace: float,
    max_breakout_bars: int,
) -> list[Detection]:
    """Every detection, sorted by (bar, kind code)."""
    found: list[Detection] = []
    pt = [(float(p[0]), p[2]) for p in pivots]  # (bar, price) points
    for j in range(len(pivots)):
        watch = _bars_to_watch(close, pivots, j, max_breakout_bars)
        last_is_high = pivots[j][3] == 1

        if j >= 4 and KINDS[0 if last_is_high else 1] in kinds:
            ls, t1, head, t2, rs = pt[j - 4 : j + 1]
            sign = 1 if last_is_high else -1
            halves = (head[0] - ls[0], rs[0] - head[0])
            if (
                sign * (head[1] - ls[1]) > 0
                and sign * (head[1] - rs[1]) > 0
                and max(halves) <= shoulder_time_ratio * min(halves)
                and _close_enough(ls[1], rs[1], shoulder_tolerance)
            ):
                for b in watch:
                    neck = _line(t1, t2, b)
                    if (last_is_high and close[b] < neck) or (not last_is_high and close[b] > neck):
                        height = head[1] - _line(t1, t2, head[0])
                        found.append((0 if last_is_high else 1, j, b, -sign, neck, head[1], neck - height))
                        break

        if j >= 2 and KINDS[2 if last_is_high else 3] in kinds and _close_enough(pt[j - 2][1], pt[j][1], top_tolerance):
            trough = pt[j - 1][1]
            extreme = max(pt[j - 2][1], pt[j][1]) if last_is_high else min(pt[j - 2][1], pt[j][1])
            for b in watch:
                if (last_is_high and close[b] < trough) or (not last_is_high and close[b] > trough):
                    code = 2 if last_is_high else 3
                    found.append((code, j, b, -1 if last_is_high else 1, trough, extreme, 2 * trough - extreme))
                    break

        if j >= 3:
            window = list(range(j - 3, j + 1))
            hs = [pt[i] for i in window if pivots[i][3] == 1]
            ls_ = [pt[i] for i in window if pivots[i][3] == -1]
            tol_h = flat_tolerance * (hs[0][1] + hs[1][1]) / 2
            tol_l = flat_tolerance * (ls_[0][1] + ls_[1][1]) / 2
            shape = None
            if abs(hs[1][1] - hs[0][1]) <= tol_h and ls_[1][1] - ls_[0][1] > tol_l:
                shape = 4
            elif hs[0][1] - hs[1][1] > tol_h and abs(ls_[1][1] - ls_[0][1]) <= tol_l:
                shape = 5
            elif hs[0][1] - hs[1][1] > tol_h and ls_[1][1] - ls_[0][1] > tol_l:
                shape = 6
            slope_h = (hs[1][1] - hs[0][1]) / (hs[1][0] - hs[0][0])
            slope_l = (ls_[1][1] - ls_[0][1]) / (ls_[1][0] - ls_[0][0])
            if shape is not None and KINDS[shape] in kinds and slope_h < slope_l:
                hit = _first_exit(close, watch, (hs[0], hs[1]), (ls_[0], ls_[1]))
                if hit is not None and (shape == 6 or hit[1] == (1 if shape == 4 else -1)):
                    b, direction, level = hit
                    height = max(hs[0][1], hs[1][1]) - min(ls_[0][1], ls_[1][1])
                    invalid = ls_[1][1] if direction == 1 else hs[1][1]
                    found.append((shape, j, b, direction, level, invalid, level + direction * height))

        if j >= 4:
            base, top, a, c, d = pt[j - 4 : j + 1]  # bull: L0 H1 L2 H3 L4; bear: H0 L1 H2 L3 H4
            bull = not last_is_high
            sign = 1 if bull else -1
            pole = abs(top[1] - base[1])
            pole_ok = pole >= pole_min_move * base[1] and top[0] - base[0] <= max_pole_bars
            against = sign * (c[1] - top[1]) < 0
            deepest = min(a[1], d[1]) if bull else max(a[1], d[1])
            retrace_ok = abs(top[1] - deepest) <= max_flag_retrace * pole
            if sign * (d[1] - a[1]) < 0:
                shape = 7 if bull else 8
            elif sign * (d[1] - a[1]) > 0:
                shape = 9
            else:
                shape = None
            if shape is not None and KINDS[shape] in kinds and pole_ok and against and retrace_ok:
                upper, lower = ((top, c), (a, d)) if bull else ((a, d), (top, c))
                hit = _first_exit(close, watch, upper, lower)
                if hit is not None and hit[1] == sign:
                    b, direction, level = hit
                    found.append((shape, j, b, direction, level, d[1], level + sign * pole))
    return sorted(found, key=lambda f: (f[2], f[0]))


def reference_nearest_levels(
    close: Sequence[float],
    pivots: Sequence[Pivot],
    lookback_bars: int,
    tolerance: float,
    min_touches: int,
) -> list[tuple[float, float, float, float]]:
    """Per bar (support, support touches, resistance, resistance touches), NaN where none."""
    out = []
    for t in range(len(close)):
        prices = sorted(p[2] for p in pivots if p[1] <= t and p[0] > t - lookback_bars)
        levels = []
        i = 0
        while i < len(prices):
            group = [q for q in prices[i:] if q <= prices[i] * (1 + tolerance)]
            if len(group) >= min_touches:
                levels.append((sum(group) / len(group), len(group)))
            i += len(group)
        below = [lv for lv in levels if lv[0] <= close[t]]
        above = [lv for lv in levels if lv[0] > close[t]]
        s = max(below) if below else (math.nan, math.nan)
        r = min(above) if above else (math.nan, math.nan)
        out.append((s[0], float(s[1]), r[0], float(r[1])))
    return out
