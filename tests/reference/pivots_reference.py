"""Plain-Python references for ``kernels.pivots``: the definitions, written the obvious way."""

from __future__ import annotations


def reference_fractal(high: list[float], low: list[float], left: int, right: int) -> list[tuple[int, int, float, int]]:
    out: list[tuple[int, int, float, int]] = []
    for i in range(left, len(high) - right):
        if all(high[j] < high[i] for j in range(i - left, i)) and all(
            high[j] <= high[i] for j in range(i + 1, i + right + 1)
        ):
            out.append((i, i + right, high[i], 1))
        if all(low[j] > low[i] for j in range(i - left, i)) and all(
            low[j] >= low[i] for j in range(i + 1, i + right + 1)
        ):
            out.append((i, i + right, low[i], -1))
    return out


def reference_zigzag(high: list[float], low: list[float], threshold: float) -> list[tuple[int, int, float, int]]:
    """Walk the bars keeping the running extreme; a reversal of ``threshold`` confirms it."""
    out: list[tuple[int, int, float, int]] = []
    if not high:
        return out
    seeking = None  # "high" or "low" once the first pivot is known
    hi, hi_at, lo, lo_at = high[0], 0, low[0], 0
    for t in range(1, len(high)):
        if seeking is None:
            hi, hi_at = (high[t], t) if high[t] > hi else (hi, hi_at)
            lo, lo_at = (low[t], t) if low[t] < lo else (lo, lo_at)
            if hi_at < t and low[t] <= hi * (1 - threshold):
                out.append((hi_at, t, hi, 1))
                seeking, lo, lo_at = "low", low[t], t
            elif lo_at < t and high[t] >= lo * (1 + threshold):
                out.append((lo_at, t, lo, -1))
                seeking, hi, hi_at = "high", high[t], t
        elif seeking == "high":
            if high[t] > hi:
                hi, hi_at = high[t], t
            elif low[t] <= hi * (1 - threshold):
                out.append((hi_at, t, hi, 1))
                seeking, lo, lo_at = "low", low[t], t
        else:
            if low[t] < lo:
                lo, lo_at = low[t], t
            elif high[t] >= lo * (1 + threshold):
                out.append((lo_at, t, lo, -1))
                seeking, hi, hi_at = "high", high[t], t
    return out
