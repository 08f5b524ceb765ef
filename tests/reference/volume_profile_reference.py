"""Plain references for ``kernels.volume_profile``: each profile built from scratch from its bars."""

from __future__ import annotations

import math

import numpy as np

TIE = 1e-9


def reference_rows(
    high: list[float], low: list[float], volume: list[float], rows: int
) -> tuple[list[float], float, float]:
    """Equal rows from the lowest low to the highest high; each bar's volume shared by overlap."""
    base, top = min(low), max(high)
    hist = [0.0] * rows
    edges = [base + (top - base) * j / rows for j in range(rows + 1)]
    for h, lo, v in zip(high, low, volume, strict=True):
        if not v > 0:
            continue
        if h == lo or top == base:
            j = 0 if top == base else min(int((lo - base) * rows / (top - base)), rows - 1)
            hist[j] += v
            continue
        for j in range(rows):
            overlap = min(h, edges[j + 1]) - max(lo, edges[j])
            if overlap > 0:
                hist[j] += v * overlap / (h - lo)
    return hist, base, top


def reference_value_area_rows(hist: list[float], value_area_pct: float) -> tuple[int, int, int] | None:
    total = sum(hist)
    if not total > 0:
        return None
    most = max(hist)
    tied = [j for j in range(len(hist)) if hist[j] >= most - TIE * most]
    poc = min(tied, key=lambda j: (abs(2 * j + 1 - len(hist)), j))  # nearest the middle, then the lower
    lo = hi = poc
    held = hist[poc]
    while held < value_area_pct / 100 * total - TIE * total and (lo > 0 or hi < len(hist) - 1):
        above = hist[hi + 1] if hi < len(hist) - 1 else -math.inf
        below = hist[lo - 1] if lo > 0 else -math.inf
        if above >= below - TIE * total:
            hi += 1
            held += above
        else:
            lo -= 1
            held += below
    return poc, lo, hi


def reference_row_height(price_range: float, rows: int) -> float:
    x = price_range / rows
    unit = 10.0 ** math.floor(math.log10(x))
    for factor in (1.0, 2.0, 2.5, 5.0):
        if x / unit <= factor:
            return factor * unit
    return 10.0 * unit


def reference_lattice_profile(
    high: list[float], low: list[float], volume: list[float], rows: int, value_area_pct: float
) -> tuple[float, float, float]:
    """(poc, vah, val) on the round lattice of ``reference_row_height``; NaN without volume."""
    if not any(v > 0 for v in volume):
        return math.nan, math.nan, math.nan
    base, top = min(low), max(high)
    if top == base:
        return base, base, base
    height = reference_row_height(top - base, rows)
    k_lo, k_hi = math.floor(base / height), math.floor(top / height)
    hist = [0.0] * (k_hi - k_lo + 1)
    for h, lo, v in zip(high, low, volume, strict=True):
        if not v > 0:
            continue
        a, b = lo / height, h / height
        if math.floor(a) == math.floor(b):
            hist[math.floor(a) - k_lo] += v
            continue
        for k in range(math.floor(a), math.floor(b) + 1):
            overlap = min(b, k + 1) - max(a, k)
            hist[k - k_lo] += v * overlap / (b - a)
    found = reference_value_area_rows(hist, value_area_pct)
    assert found is not None
    poc, lo_row, hi_row = found
    return (k_lo + poc + 0.5) * height, (k_lo + hi_row + 1) * height, (k_lo + lo_row) * height


def reference_rolling(
    high: np.ndarray, low: np.ndarray, volume: np.ndarray, period: int, rows: int, value_area_pct: float
) -> np.ndarray:
    """(n, 3) poc, vah, val of the last ``period`` bars."""
    out = np.full((len(high), 3), np.nan)
    for t in range(period - 1, len(high)):
        w = slice(t - period + 1, t + 1)
        out[t] = reference_lattice_profile(list(high[w]), list(low[w]), list(volume[w]), rows, value_area_pct)
    return out


def reference_session(
    high: np.ndarray, low: np.ndarray, volume: np.ndarray, session: np.ndarray, rows: int, value_area_pct: float
) -> np.ndarray:
    """(n, 6) developing poc, vah, val of the session so far, then the previous session's final ones."""
    n = len(high)
    out = np.full((n, 6), np.nan)
    start = 0
    previous = (math.nan, math.nan, math.nan)
    for t in range(n):
        if t > 0 and session[t] != session[t - 1]:
            previous = tuple(out[t - 1, :3])
            start = t
        w = slice(start, t + 1)
        out[t, :3] = reference_lattice_profile(list(high[w]), list(low[w]), list(volume[w]), rows, value_area_pct)
        out[t, 3:] = previous
    return out
