"""Plain numpy references for ``kernels.derived``: the definitions written with array operations."""

from __future__ import annotations

import numpy as np


def reference_cross_events(fast: np.ndarray, slow: np.ndarray, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(fast)
    up = np.zeros(n)
    down = np.zeros(n)
    up[1:] = (fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])
    down[1:] = (fast[1:] < slow[1:]) & (fast[:-1] >= slow[:-1])
    up[: warmup + 1] = np.nan
    down[: warmup + 1] = np.nan
    return up, down


def reference_bollinger_extras(close, upper, middle, lower) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    span = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        percent_b = np.where(span > 0, (close - lower) / span, np.where(np.isnan(span), np.nan, 0.5))
        bandwidth = span / middle
    return percent_b, bandwidth


def reference_volume_ratio(volume, average, threshold: float, warmup: int):  # type: ignore[no-untyped-def]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(average > 0, volume / average, np.where(np.isnan(average), np.nan, 0.0))
    line = np.full(len(volume), threshold)
    spike = (ratio >= threshold).astype(float)
    for arr in (ratio, line, spike):
        arr[:warmup] = np.nan
    return ratio, line, spike


def reference_candle_direction(raw: np.ndarray, lookback: int) -> np.ndarray:
    out = np.sign(raw).astype(np.float64)
    out[:lookback] = np.nan
    return out
