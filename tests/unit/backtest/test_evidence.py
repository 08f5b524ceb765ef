"""The kernel's evidence from one instrument's bars.

Expected values by hand or by an independent numpy/pandas computation, never by the function itself.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.engine import _needs
from quantdesk.backtest.evidence import (
    Evidence,
    arrival_bars,
    atr,
    build_evidence,
    daily_cost_inputs,
    expansion_flag,
    shifted,
)
from quantdesk.backtest.settings import kernel_params
from quantdesk.core.timestamps import NS_PER_MINUTE, to_utc_ns
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.compile import compile_signals
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy

NY = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))
OPEN_0116 = to_utc_ns("2024-01-16T14:30:00Z")  # Tuesday 09:30 New York (EST)
DAY_NS = 24 * 60 * NS_PER_MINUTE


def make_bars(ts: np.ndarray, tf: Timeframe, close: np.ndarray, volume: np.ndarray | None = None,
              low: np.ndarray | None = None) -> Bars:  # fmt: skip
    n = len(ts)
    close = np.asarray(close, dtype=np.float64)
    lo = close - 1.0 if low is None else np.asarray(low, dtype=np.float64)
    return Bars.from_arrays(
        "AAA",
        tf,
        {
            "ts": np.asarray(ts, dtype=np.int64),
            "open": close,
            "high": close + 1.0,
            "low": lo,
            "close": close,
            "volume": np.full(n, 100.0) if volume is None else np.asarray(volume, dtype=np.float64),
        },
        NY,
    )


def daily(close: np.ndarray, volume: np.ndarray | None = None, low: np.ndarray | None = None) -> Bars:
    dates = pd.bdate_range("2024-01-02", periods=len(close))
    return make_bars(dates.as_unit("ns").asi8, Timeframe.D1, close, volume, low)


def random_close(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))


def strategy(**blocks: Any) -> Strategy:
    doc = {
        "strategy_meta": {"name": "evidence probe"},
        "entry_conditions": {
            "technical_signals": [
                {"indicator": "SMA", "params": {"period": 2}, "condition": "crossover", "values": [105.0]}
            ],
            "confluence_threshold": 1.0,
        },
    } | blocks
    return parse_strategy(json.dumps(doc))


# ---- shifted ----------------------------------------------------------------------------------------


def test_shifted_moves_every_value_one_bar_later_with_nan_first() -> None:
    out = shifted(np.array([1.0, 2.0, 3.0, np.nan, 5.0]))
    np.testing.assert_array_equal(out, [np.nan, 1.0, 2.0, 3.0, np.nan])


def test_shifted_of_one_value_is_nan_and_of_none_is_empty() -> None:
    np.testing.assert_array_equal(shifted(np.array([7.0])), [np.nan])
    assert len(shifted(np.empty(0))) == 0


def test_shifted_does_not_change_its_input() -> None:
    a = np.array([1.0, 2.0])
    shifted(a)
    np.testing.assert_array_equal(a, [1.0, 2.0])


# ---- daily cost inputs ------------------------------------------------------------------------------


def test_adv_on_intraday_bars_is_the_mean_of_complete_days_before_the_bar() -> None:
    # 3 sessions of 4 five-minute bars from 09:30 New York; daily volumes 100, 300, 500
    ts = np.concatenate([OPEN_0116 + d * DAY_NS + np.arange(4) * 5 * NS_PER_MINUTE for d in range(3)])
    volume = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 90.0, 100.0, 200.0, 100.0, 100.0, 100.0])
    bars = make_bars(ts, Timeframe.M5, np.full(12, 100.0), volume)
    adv, sigma = daily_cost_inputs(bars)
    # day 1: no complete day yet; day 2: day 1's 100 (not day 2's partial volume); day 3: (100 + 300) / 2
    np.testing.assert_array_equal(adv, [np.nan] * 4 + [100.0] * 4 + [200.0] * 4)
    assert np.isnan(sigma).all()  # 20 completed daily returns are needed


def test_weekly_and_monthly_bars_give_adv_and_sigma_on_a_daily_scale() -> None:
    # weekly bars: 5 trading days each, volume 5,000 a week = 1,000 a day; each weekly log return is
    # divided by sqrt(5) before the 20-bar standard deviation
    n = 26
    weeks = pd.date_range("2024-01-01", periods=n, freq="7D").as_unit("ns").asi8  # Mondays
    close = random_close(n, seed=8)
    adv, sigma = daily_cost_inputs(make_bars(weeks, Timeframe.W1, close, np.full(n, 5000.0)))
    assert np.isnan(adv[0]) and adv[1:] == pytest.approx(1000.0)
    daily_scale = np.diff(np.log(close)) / np.sqrt(5.0)
    assert sigma[25] == pytest.approx(np.std(daily_scale[4:24], ddof=0), rel=1e-9)
    # months: January 2024 has 23 weekdays, February 21, March 21
    months = pd.DatetimeIndex(["2024-01-01", "2024-02-01", "2024-03-01"]).as_unit("ns").asi8
    adv, _ = daily_cost_inputs(make_bars(months, Timeframe.MN1, np.full(3, 100.0), np.array([2300.0, 4200.0, 0.0])))
    np.testing.assert_allclose(adv, [np.nan, 100.0, 150.0])  # (2300 / 23 + 4200 / 21) / 2


def test_daily_sigma_on_intraday_bars_uses_each_day_last_close_and_completed_days_only() -> None:
    # 23 sessions of 2 five-minute bars; a session's close is its second bar's close
    n_days = 23
    first = 100.0 * np.exp(np.cumsum(np.random.default_rng(5).normal(0.0, 0.01, n_days)))
    last = first * np.exp(np.random.default_rng(6).normal(0.0, 0.02, n_days))
    ts = np.concatenate([OPEN_0116 + d * DAY_NS + np.arange(2) * 5 * NS_PER_MINUTE for d in range(n_days)])
    close = np.column_stack([first, last]).ravel()
    _, sigma = daily_cost_inputs(make_bars(ts, Timeframe.M5, close))
    log_ret = np.diff(np.log(last))  # log_ret[k] is day k + 1 over day k
    expected_day = np.full(n_days, np.nan)
    for d in range(21, n_days):  # known before day d opens: returns of days d - 20 .. d - 1
        expected_day[d] = np.std(log_ret[d - 21 : d - 1], ddof=0)
    np.testing.assert_allclose(sigma, np.repeat(expected_day, 2), rtol=1e-9, equal_nan=True)


def test_adv_and_daily_sigma_on_daily_bars() -> None:
    n = 26
    close = random_close(n)
    volume = np.arange(1.0, n + 1) * 1000.0
    adv, sigma = daily_cost_inputs(daily(close, volume))
    assert np.isnan(adv[0])
    assert adv[1] == 1000.0
    assert adv[2] == pytest.approx(1500.0)  # (1000 + 2000) / 2
    assert adv[20] == pytest.approx(np.mean(volume[0:20]))  # a full 20-day window
    assert adv[25] == pytest.approx(np.mean(volume[5:25]))  # the window rolls, today excluded
    log_ret = np.diff(np.log(close))
    assert np.isnan(sigma[:21]).all()
    for d in range(21, n):
        assert sigma[d] == pytest.approx(np.std(log_ret[d - 21 : d - 1], ddof=0), rel=1e-9)


# ---- expansion --------------------------------------------------------------------------------------


def test_expansion_flag_is_true_only_above_mean_plus_two_sd_over_the_lookback() -> None:
    base = np.tile([1.0, 1.2], 25)  # mean 1.1, sd 0.1 over any even window
    atr = np.r_[np.full(3, np.nan), base]
    # each bump's window of 10 holds four or five 1.0 and 1.2 besides it (bumps 11 bars apart):
    atr[15] = 3.0  # five 1.2, four 1.0: mean 1.3, sd 0.5745 -> 2.449 < 3.0: flagged
    atr[26] = 1.45  # five 1.0, four 1.2: mean 1.125, sd 0.1436 -> 1.412 < 1.45: flagged
    atr[37] = 1.5  # five 1.2, four 1.0: mean 1.15, sd 0.15 -> 1.45 < 1.5: flagged
    atr[48] = 1.3  # five 1.0, four 1.2: mean 1.11, sd 0.1136 -> 1.337 > 1.3: above 1 sd, not 2: not flagged
    flag = expansion_flag(atr, lookback=10, sd=2.0)
    s = pd.Series(atr)
    mean = s.rolling(10).mean()
    sd = s.rolling(10).std(ddof=0)
    expected = (s > mean + 2.0 * sd).to_numpy()
    np.testing.assert_array_equal(flag, expected)
    assert np.flatnonzero(flag).tolist() == [15, 26, 37]
    assert not flag[:12].any()  # the first full window of 10 valid values ends at bar 12


def test_expansion_flag_needs_lookback_valid_values() -> None:
    atr = np.r_[np.full(5, np.nan), 1.0, 1.0, 9.0]
    assert not expansion_flag(atr, lookback=10, sd=2.0).any()
    assert expansion_flag(atr, lookback=10, sd=2.0).dtype == bool


def test_a_constant_atr_is_never_an_expansion() -> None:
    atr = np.r_[np.full(5, np.nan), np.full(300, 1.1)]
    assert not expansion_flag(atr, lookback=100, sd=2.0).any()


# ---- arrival ----------------------------------------------------------------------------------------


def minute_bars(n: int, holes: tuple[int, ...] = ()) -> Bars:
    minutes = np.array([k for k in range(n + len(holes)) if k not in holes])
    return make_bars(OPEN_0116 + minutes * NS_PER_MINUTE, Timeframe.M1, np.full(len(minutes), 100.0))


def test_arrival_without_latency_is_the_next_bar_and_minus_one_after_the_last() -> None:
    assert arrival_bars(minute_bars(5), 0.0).tolist() == [1, 2, 3, 4, -1]
    assert arrival_bars(daily(np.arange(100.0, 104.0)), 0.0).tolist() == [1, 2, 3, -1]


def test_arrival_with_latency_skips_the_bar_that_opens_before_the_order_is_ready() -> None:
    # decided at bar i's close (open + 60 s) plus 30 s: bar i + 1 opens at +60 s, too early; i + 2 at +120 s
    assert arrival_bars(minute_bars(6), 30_000.0).tolist() == [2, 3, 4, 5, -1, -1]
    # ready exactly at a bar's open (60 s latency: +120 s) reaches that bar
    assert arrival_bars(minute_bars(6), 60_000.0).tolist() == [2, 3, 4, 5, -1, -1]
    # 61 s: ready at +121 s, bar i + 3 opens at +180 s
    assert arrival_bars(minute_bars(6), 61_000.0).tolist() == [3, 4, 5, -1, -1, -1]


def test_arrival_with_latency_over_a_missing_minute_takes_the_next_bar_there_is() -> None:
    # minutes 0, 1, 3, 4 (minute 2 missing): bar 0 ready at minute 1.5 and bar 1 at 2.5 -> minute 3 (bar 2);
    # bar 2 (minute 3) ready at 4.5: no bar opens at or after it
    assert arrival_bars(minute_bars(4, holes=(2,)), 30_000.0).tolist() == [2, 2, -1, -1]


# ---- build_evidence ---------------------------------------------------------------------------------


def evidence_for(strat: Strategy, bars: Bars, need: dict[str, bool] | None = None) -> Evidence:
    if need is None:
        need = _needs(kernel_params(strat, initial_cash=100_000.0))
    return build_evidence(strat, bars, compile_signals(strat, bars), need)


def test_swing_low_and_high_are_the_rolling_extremes_over_swing_lookback_bars() -> None:
    close = random_close(30)
    low = close - np.random.default_rng(9).uniform(0.1, 3.0, 30)
    bars = daily(close, low=low)
    strat = strategy(exit_conditions={"stop_loss": {"type": "technical", "swing_lookback_bars": 3}})
    ev = evidence_for(strat, bars)
    assert ev.swing_low is not None and ev.swing_high is not None
    np.testing.assert_allclose(ev.swing_low, pd.Series(low).rolling(3).min(), equal_nan=True)
    np.testing.assert_allclose(ev.swing_high, pd.Series(close + 1.0).rolling(3).max(), equal_nan=True)
    assert np.isnan(ev.swing_low[:2]).all()
    assert ev.swing_low[2] == min(low[0], low[1], low[2])


def test_no_swing_for_a_stop_from_the_entry_and_no_cost_inputs_for_the_optimistic_model() -> None:
    bars = daily(random_close(40))
    strat = strategy(
        exit_conditions={"stop_loss": {"type": "percent", "reference": "entry", "max_risk_percent": 0.05}},
        execution_rules={"mock_trading": {"fill_model": "optimistic"}},
    )
    ev = evidence_for(strat, bars)
    assert ev.swing_low is None and ev.swing_high is None
    assert ev.adv is None and ev.sigma_bar is None and ev.sigma_daily is None
    assert ev.returns is None and ev.win_probability is None and ev.vol_measure is None
    assert ev.atr_trail is None and ev.atr_chandelier is None
    assert ev.atr_stop is not None  # always read at a decision
    assert ev.expansion is None  # no risk_management.volatility_expansion: no expansion rule


def test_the_expansion_flag_follows_the_files_volatility_expansion_block() -> None:
    bars = daily(random_close(300))
    rule = {"atr_period": 5, "lookback_bars": 30, "threshold_sd": 1.0, "size_multiplier": 0.5}
    ev = evidence_for(strategy(risk_management={"volatility_expansion": rule}), bars)
    want = expansion_flag(atr(bars, 5), lookback=30, sd=1.0)
    assert ev.expansion is not None and want.any()
    np.testing.assert_array_equal(ev.expansion, want)


def test_the_realistic_model_gets_per_bar_sigma_known_before_the_bar_and_daily_inputs() -> None:
    n = 30
    close = random_close(n)
    bars = daily(close, volume=np.full(n, 500.0))
    strat = strategy(execution_rules={"mock_trading": {"fill_model": "realistic"}})
    ev = evidence_for(strat, bars)
    assert ev.returns is None
    assert ev.sigma_bar is not None and ev.adv is not None and ev.sigma_daily is not None
    log_ret = np.diff(np.log(close))  # log_ret[k]: bar k + 1 over bar k
    assert np.isnan(ev.sigma_bar[:21]).all()
    for t in range(21, n):  # the 20 returns up to bar t - 1's close
        assert ev.sigma_bar[t] == pytest.approx(np.std(log_ret[t - 21 : t - 1], ddof=0), rel=1e-9)
    assert np.isnan(ev.adv[0]) and (ev.adv[1:] == 500.0).all()


def test_returns_only_with_max_correlated_positions() -> None:
    close = np.array([100.0, 102.0, 99.96, 100.9596, 100.9596])  # +2 %, -2 %, +1 %, 0
    bars = daily(close)
    optimistic = {"mock_trading": {"fill_model": "optimistic"}}
    with_corr = strategy(
        risk_management={"portfolio_limits": {"max_correlated_positions": 2}}, execution_rules=optimistic
    )
    ev = evidence_for(with_corr, bars)
    assert ev.returns is not None
    np.testing.assert_allclose(ev.returns, [np.nan, 0.02, -0.02, 0.01, 0.0], equal_nan=True, atol=1e-12)
    assert ev.adv is None  # no max_adv_fraction: no liquidity check, no ADV read
    liquid = {"portfolio_limits": {"max_correlated_positions": 2, "max_adv_fraction": 0.01}}
    assert evidence_for(strategy(risk_management=liquid, execution_rules=optimistic), bars).adv is not None
    without = strategy(risk_management={"portfolio_limits": {"max_sector_exposure": 0.3}}, execution_rules=optimistic)
    assert evidence_for(without, bars).returns is None


def test_build_evidence_reads_only_what_params_need_says() -> None:
    bars = daily(random_close(25))
    strat = strategy()
    none = evidence_for(strat, bars, {})
    assert none.adv is None and none.sigma_bar is None and none.returns is None
    liquidity = evidence_for(strat, bars, {"liquidity": True})
    assert liquidity.adv is not None and liquidity.sigma_daily is not None and liquidity.returns is None
    corr = evidence_for(strat, bars, {"correlation": True})
    assert corr.returns is not None and corr.adv is None


def test_trailing_and_chandelier_atr_use_their_own_periods() -> None:
    import talib

    close = random_close(40)
    bars = daily(close)
    strat = strategy(
        exit_conditions={
            "stop_loss": {"type": "atr", "reference": "entry", "offset": "2_atr", "atr_period": 5},
            "take_profit": {"ratio": 2.0, "trailing_stop": {"activation": "1_r", "distance": "1_atr", "atr_period": 7}},
            "chandelier": {"multiple": 3.0, "atr_period": 9},
        }
    )
    ev = evidence_for(strat, bars)
    high, low = close + 1.0, close - 1.0
    for got, period in ((ev.atr_stop, 5), (ev.atr_trail, 7), (ev.atr_chandelier, 9)):
        assert got is not None
        np.testing.assert_allclose(got, talib.ATR(high, low, close, timeperiod=period), equal_nan=True)
        assert np.isnan(got[:period]).all() and np.isfinite(got[period:]).all()
