"""Outputs derived from TA-Lib lines in one pass each (numba): cross events, Bollinger %B and
bandwidth, the volume-spike ratio, and candlestick directions.

Each is simple arithmetic that numpy would spread over several temporary arrays; on a million bars
the temporaries (fresh pages) cost more than the arithmetic, so each kernel writes its outputs into
one block ``out`` that the caller allocates with ``np.empty`` (numpy's large allocations fault far
fewer pages than numba's). Plain references: ``tests/reference/derived_reference.py``.

- ``cross_events``: up[i] = 1 where fast[i] > slow[i] and fast[i-1] <= slow[i-1]; down mirrors it;
  NaN for the first ``warmup + 1`` bars, 0 elsewhere (a NaN comparison is false).
- ``bollinger_extras``: %B = (close - lower) / (upper - lower), 0.5 where the bands touch;
  bandwidth = (upper - lower) / middle; NaN where the bands are NaN.
- ``volume_ratio``: ratio = volume / average (0 where the average is 0, NaN where it is NaN); the
  threshold line; spike = 1 where ratio >= threshold; NaN for the first ``warmup`` bars.
- ``candle_direction``: the sign of TA-Lib's output (+-100; +-80 for a weaker engulfing; +-200 for
  a confirmed Hikkake) as +1/-1, 0 for none, NaN
  for the first ``lookback`` bars.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def cross_events(fast: np.ndarray, slow: np.ndarray, warmup: int, out: np.ndarray) -> np.ndarray:
    n = len(fast)
    for i in range(n):
        if i < warmup + 1:
            out[0, i] = np.nan
            out[1, i] = np.nan
        else:
            out[0, i] = 1.0 if (fast[i] > slow[i] and fast[i - 1] <= slow[i - 1]) else 0.0
            out[1, i] = 1.0 if (fast[i] < slow[i] and fast[i - 1] >= slow[i - 1]) else 0.0
    return out


@njit(cache=True)
def bollinger_extras(
    close: np.ndarray, upper: np.ndarray, middle: np.ndarray, lower: np.ndarray, out: np.ndarray
) -> np.ndarray:
    n = len(close)
    for i in range(n):
        span = upper[i] - lower[i]
        if np.isnan(span):
            out[0, i] = np.nan
            out[1, i] = np.nan
            continue
        out[0, i] = (close[i] - lower[i]) / span if span > 0.0 else 0.5
        out[1, i] = span / middle[i]
    return out


@njit(cache=True)
def volume_ratio(volume: np.ndarray, average: np.ndarray, threshold: float, warmup: int, out: np.ndarray) -> np.ndarray:
    n = len(volume)
    for i in range(n):
        if i < warmup:
            out[0, i] = np.nan
            out[1, i] = np.nan
            out[2, i] = np.nan
            continue
        a = average[i]
        if np.isnan(a):
            ratio = np.nan
        elif a > 0.0:
            ratio = volume[i] / a
        else:
            ratio = 0.0
        out[0, i] = ratio
        out[1, i] = threshold
        out[2, i] = 1.0 if ratio >= threshold else 0.0
    return out


@njit(cache=True)
def candle_direction(raw: np.ndarray, lookback: int, out: np.ndarray) -> np.ndarray:
    n = len(raw)
    for i in range(n):
        if i < lookback:
            out[i] = np.nan
        elif raw[i] > 0:
            out[i] = 1.0
        elif raw[i] < 0:
            out[i] = -1.0
        else:
            out[i] = 0.0
    return out
