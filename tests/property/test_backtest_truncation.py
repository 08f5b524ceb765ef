"""No look-ahead: cutting the data at any bar k changes nothing that was decided before k.

Holds for the compiled signals (including a weekly signal aligned onto daily bars and a confirmation
delay), the equity curve, and every trade that closed before k.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.backtest.engine import run_backtest
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.compile import compile_signals
from quantdesk.strategy.load import parse_strategy

NY = TradingCalendar(
    timezone="America/New_York",
    session_open=pd.Timestamp("09:30").time(),
    session_close=pd.Timestamp("16:00").time(),
)

STRATEGY = parse_strategy(
    json.dumps(
        {
            "strategy_meta": {"name": "truncation probe"},
            "entry_conditions": {
                "technical_signals": [
                    {
                        "indicator": "EMA_Cross",
                        "params": {"fast": 3, "slow": 8},
                        "condition": "greater_than",
                        "weight": 0.5,
                    },
                    {
                        "indicator": "SMA_Cross",
                        "params": {"fast": 2, "slow": 4},
                        "condition": "greater_than",
                        "timeframe": "1w",
                        "weight": 0.5,
                    },
                ],
                "confluence_threshold": 0.5,
                "confirmation_delay": "1_bars",
            },
            "exit_conditions": {
                "signal_exit": {
                    "technical_signals": [
                        {
                            "indicator": "EMA_Cross",
                            "params": {"fast": 3, "slow": 8},
                            "condition": "crossunder",
                        }
                    ],
                    "confluence_threshold": 1.0,
                }
            },
            "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.9}},
            "execution_rules": {"commission": {"fee_bps": 10}},
        }
    )
)


def random_daily_bars(seed: int, n: int) -> Bars:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-06", periods=n)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = close * np.exp(rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * (1 + rng.random(n) * 0.01)
    low = np.minimum(open_, close) * (1 - rng.random(n) * 0.01)
    return Bars.from_arrays(
        "PROBE",
        Timeframe.D1,
        {
            "ts": dates.as_unit("ns").asi8,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.integers(1000, 5000, n).astype(float),
        },
        NY,
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(60, 250), data=st.data())
def test_backtest_on_cut_data_agrees_with_full_run_before_the_cut(seed: int, n: int, data: st.DataObject) -> None:
    bars = random_daily_bars(seed, n)
    full_signals = compile_signals(STRATEGY, bars)
    full = run_backtest(STRATEGY, bars, initial_cash=50_000.0)
    for k in data.draw(st.lists(st.integers(2, n), min_size=1, max_size=4, unique=True)):
        cut = bars[:k]
        signals = compile_signals(STRATEGY, cut)
        np.testing.assert_array_equal(signals.entry, full_signals.entry[:k])
        np.testing.assert_array_equal(signals.exit, full_signals.exit[:k])
        np.testing.assert_array_equal(signals.entry_confluence, full_signals.entry_confluence[:k])
        result = run_backtest(STRATEGY, cut, initial_cash=50_000.0)
        np.testing.assert_array_equal(result.equity, full.equity[:k])
        closed_before_k = full.trades[(full.trades["exit_idx"] >= 0) & (full.trades["exit_idx"] < k)]
        closed_in_cut = result.trades[result.trades["exit_idx"] >= 0]
        assert closed_in_cut.tobytes() == closed_before_k.tobytes()


def test_weekly_vote_reaches_daily_bars_only_after_friday_close() -> None:
    bars = random_daily_bars(3, 120)
    from quantdesk.strategy.signals import signal_votes

    weekly = STRATEGY.entry_conditions.technical_signals[1]
    votes = signal_votes(weekly, bars)
    dates = pd.DatetimeIndex(bars.ts.view("datetime64[ns]"))
    # a weekly bar is known at Friday's close, so its vote can only change on a Friday daily bar
    changes = np.flatnonzero(np.diff(votes.astype(int))) + 1
    assert len(changes) > 0
    assert set(dates[changes].day_of_week) == {4}
