"""Plain references for ``kernels.channels``: TA-Lib's EMA and Wilder ATR as loops, Donchian and Ichimoku
with pandas rolling windows and shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd


def reference_ema(close: np.ndarray, period: int) -> np.ndarray:
    """SMA of the first ``period`` closes, then ema += (close - ema) * 2 / (period + 1)."""
    out = np.full(len(close), np.nan)
    if len(close) < period:
        return out
    ema = sum(close[:period]) / period
    out[period - 1] = ema
    for t in range(period, len(close)):
        ema = ema + (close[t] - ema) * 2.0 / (period + 1)
        out[t] = ema
    return out


def reference_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """True range from bar 1; the mean of the first ``period`` of them at bar ``period``, then Wilder."""
    out = np.full(len(close), np.nan)
    tr = [max(high[t] - low[t], abs(high[t] - close[t - 1]), abs(low[t] - close[t - 1])) for t in range(1, len(close))]
    if len(tr) < period:
        return out
    atr = sum(tr[:period]) / period
    out[period] = atr
    for t in range(period + 1, len(close)):
        atr = (atr * (period - 1) + tr[t - 1]) / period
        out[t] = atr
    return out


def reference_keltner(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int, atr_period: int, multiplier: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    middle = reference_ema(close, period)
    atr = reference_atr(high, low, close, atr_period)
    return middle, middle + multiplier * atr, middle - multiplier * atr


def reference_donchian(high: np.ndarray, low: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    upper = pd.Series(high).rolling(period).max().to_numpy()
    lower = pd.Series(low).rolling(period).min().to_numpy()
    return upper, (upper + lower) / 2, lower


def reference_ichimoku(
    high: np.ndarray, low: np.ndarray, tenkan: int, kijun: int, senkou_b: int, displacement: int
) -> dict[str, np.ndarray]:
    h, lo = pd.Series(high), pd.Series(low)

    def mid(n: int) -> pd.Series:
        return (h.rolling(n).max() + lo.rolling(n).min()) / 2

    a_ahead = (mid(tenkan) + mid(kijun)) / 2
    b_ahead = mid(senkou_b)
    return {
        "tenkan": mid(tenkan).to_numpy(),
        "kijun": mid(kijun).to_numpy(),
        "senkou_a": a_ahead.shift(displacement).to_numpy(),
        "senkou_b": b_ahead.shift(displacement).to_numpy(),
        "senkou_a_ahead": a_ahead.to_numpy(),
        "senkou_b_ahead": b_ahead.to_numpy(),
    }
