"""Every curated indicator that TA-Lib also has agrees with TA-Lib to 1e-9 relative on the sample S&P 500."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import talib

from quantdesk.analysis.technical.registry import compute_indicator
from quantdesk.data.sources.sample import sample_bars

SPX = sample_bars("SPX")
H, L, C, V = SPX.high, SPX.low, SPX.close, SPX.volume

CASES: list[tuple[str, dict, str, Callable[[], np.ndarray]]] = [
    ("SMA", {"period": 50}, "value", lambda: talib.SMA(C, 50)),
    ("EMA", {"period": 20}, "value", lambda: talib.EMA(C, 20)),
    ("WMA", {"period": 20}, "value", lambda: talib.WMA(C, 20)),
    ("KAMA", {"period": 10}, "value", lambda: talib.KAMA(C, 10)),
    ("ADX", {"period": 14}, "adx", lambda: talib.ADX(H, L, C, 14)),
    ("ADX", {"period": 14}, "plus_di", lambda: talib.PLUS_DI(H, L, C, 14)),
    ("ADX", {"period": 14}, "minus_di", lambda: talib.MINUS_DI(H, L, C, 14)),
    ("Parabolic_SAR", {}, "value", lambda: talib.SAR(H, L, 0.02, 0.2)),
    ("RSI", {"period": 14}, "value", lambda: talib.RSI(C, 14)),
    ("MACD", {}, "macd", lambda: talib.MACD(C, 12, 26, 9)[0]),
    ("MACD", {}, "signal", lambda: talib.MACD(C, 12, 26, 9)[1]),
    ("MACD", {}, "histogram", lambda: talib.MACD(C, 12, 26, 9)[2]),
    ("Stochastic", {}, "k", lambda: talib.STOCH(H, L, C, 14, 3, 0, 3, 0)[0]),
    ("Stochastic", {}, "d", lambda: talib.STOCH(H, L, C, 14, 3, 0, 3, 0)[1]),
    ("Stochastic_Fast", {}, "k", lambda: talib.STOCHF(H, L, C, 14, 3, 0)[0]),
    ("ROC", {"period": 10}, "value", lambda: talib.ROC(C, 10)),
    ("Momentum", {"period": 10}, "value", lambda: talib.MOM(C, 10)),
    ("Bollinger", {}, "upper", lambda: talib.BBANDS(C, 20, 2.0, 2.0, 0)[0]),
    ("Bollinger", {}, "lower", lambda: talib.BBANDS(C, 20, 2.0, 2.0, 0)[2]),
    ("ATR", {"period": 14}, "value", lambda: talib.ATR(H, L, C, 14)),
    ("OBV", {}, "value", lambda: talib.OBV(C, V)),
    ("MFI", {"period": 14}, "value", lambda: talib.MFI(H, L, C, V, 14)),
    ("CCI", {"timeperiod": 20}, "value", lambda: talib.CCI(H, L, C, 20)),
    ("BBANDS", {}, "middleband", lambda: talib.BBANDS(C)[1]),
]


@pytest.mark.parametrize(("name", "params", "column", "expected"), CASES, ids=[f"{c[0]}.{c[2]}" for c in CASES])
def test_agrees_with_talib(name: str, params: dict, column: str, expected: Callable[[], np.ndarray]) -> None:
    ours = compute_indicator(name, SPX, params)[column]
    theirs = expected()
    assert np.isnan(ours).sum() == np.isnan(theirs).sum() < len(ours) // 10
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0, equal_nan=True)


def test_bollinger_percent_b_and_bandwidth_follow_from_the_bands() -> None:
    out = compute_indicator("Bollinger", SPX, {"period": 20, "std_dev": 2.0})
    upper, middle, lower = talib.BBANDS(C, 20, 2.0, 2.0, 0)
    np.testing.assert_allclose(out["percent_b"][19:], ((C - lower) / (upper - lower))[19:], rtol=1e-9)
    np.testing.assert_allclose(out["bandwidth"][19:], ((upper - lower) / middle)[19:], rtol=1e-9)
    # the close sits at the lower band exactly when %B is 0: check one hand-made point
    i = 1000
    assert out["percent_b"][i] == pytest.approx((C[i] - lower[i]) / (upper[i] - lower[i]), rel=1e-12)
