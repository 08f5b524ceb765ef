"""Multi-timeframe indicators: computed on the coarser bars, reaching the base bars only once known."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from tests.property.minute_bars import NYSE

from quantdesk.analysis.technical.mtf import compute_on_timeframe
from quantdesk.core.errors import ConfigError
from quantdesk.data.resample import resample
from quantdesk.data.sources.sample import sample_bars
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe

SPX = sample_bars("SPX")


def test_weekly_rsi_on_daily_bars_holds_last_fridays_value_until_the_next_friday() -> None:
    weekly = resample(SPX, Timeframe.W1)
    expected_weekly = talib.RSI(weekly.close, 14)
    out = compute_on_timeframe("RSI", SPX, "1w", {"period": 14})["value"]
    known_daily = SPX.known_ns()
    known_weekly = weekly.known_ns()
    for i in (400, 1234, 3000, len(SPX) - 1):
        # the last weekly bar known by the daily bar's own close
        j = int(np.searchsorted(known_weekly, known_daily[i], side="right")) - 1
        assert out[i] == expected_weekly[j]
    # a Thursday still sees the week before; that Friday sees its own week
    days = SPX.to_frame().index
    thursday = next(i for i in range(2000, 2100) if days[i].day_of_week == 3 and days[i + 1].day_of_week == 4)
    assert out[thursday] != out[thursday + 1]
    assert (
        out[thursday + 1] == expected_weekly[int(np.searchsorted(known_weekly, known_daily[thursday + 1], "right")) - 1]
    )


def test_same_timeframe_is_the_plain_indicator_and_a_finer_one_is_refused() -> None:
    np.testing.assert_array_equal(
        compute_on_timeframe("SMA", SPX, "1d", {"period": 5})["value"], talib.SMA(SPX.close, 5)
    )
    with pytest.raises(ConfigError, match="timeframe: 1h is finer than the base timeframe 1d"):
        compute_on_timeframe("SMA", SPX, "1h")


def test_hourly_sma_on_minute_bars_is_nan_until_the_first_hour_closes() -> None:
    ts0 = np.int64(1_709_303_400) * 10**9  # 2024-03-01 14:30 UTC = 09:30 New York
    n = 180
    ts = ts0 + np.arange(n, dtype=np.int64) * 60 * 10**9
    close = np.arange(1.0, n + 1)

    bars = Bars.from_arrays(
        "X",
        Timeframe.M1,
        {"ts": ts, "open": close, "high": close, "low": close, "close": close, "volume": np.ones(n)},
        NYSE,
    )
    out = compute_on_timeframe("SMA", bars, "1h", {"period": 2})["value"]
    # hours close at minute 60 and 120: the 2-hour SMA of hourly closes (60 and 120) = 90 is known at the
    # close of the bar that ends at 11:30, the minute bar opening 11:29 (index 119)
    assert np.isnan(out[:119]).all()
    assert out[119] == 90.0 and out[178] == 90.0
    assert out[179] == 150.0  # (120 + 180) / 2 once the third hour closes
