"""No look-ahead: cutting the data at any bar k changes nothing that was decided before k.

Holds for the compiled signals (including a weekly signal aligned onto daily bars and a confirmation
delay), the equity curve, positions, stops, fills, risk events and every trade that closed before k;
and for a three-instrument portfolio on one account (one instrument starting late, one with missing
days) with every exit, Kelly sizing, portfolio limits, limit and stop-limit orders, the realistic and
pessimistic fill models and latency, cut at a random row of its grid.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.backtest.engine import run_backtest
from quantdesk.backtest.result import BacktestResult
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import Instrument
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
        assert_same_before_the_cut(full, result)


def assert_same_before_the_cut(full: BacktestResult, cut: BacktestResult) -> None:
    """Every row, fill, closed trade, risk event and order decided before the cut's end is the same."""
    k = len(cut.known_ns)
    np.testing.assert_array_equal(cut.known_ns, full.known_ns[:k])
    np.testing.assert_array_equal(cut.output.equity, full.output.equity[:k])
    np.testing.assert_array_equal(cut.output.qty, full.output.qty[:k])
    np.testing.assert_array_equal(cut.output.stop, full.output.stop[:k])
    f_full, f_cut = full.output.fills, cut.output.fills
    assert f_cut.tobytes() == f_full[f_full["row"] < k].tobytes()
    t_full, t_cut = full.output.trades, cut.output.trades
    closed_full = t_full[(t_full["exit_row"] >= 0) & (t_full["exit_row"] < k)]
    assert t_cut[t_cut["exit_row"] >= 0].tobytes() == closed_full.tobytes()
    e_full, e_cut = full.output.events, cut.output.events
    assert e_cut.tobytes() == e_full[e_full["row"] < k].tobytes()
    o_full, o_cut = full.output.orders, cut.output.orders
    decided = o_full[o_full["decided_row"] < k - 1]  # decided before the cut's last row: it could arrive
    np.testing.assert_array_equal(o_cut["order_id"][: len(decided)], decided["order_id"])
    np.testing.assert_array_equal(o_cut["arrival_row"][: len(decided)], decided["arrival_row"])


PORTFOLIO = {
    "strategy_meta": {"name": "portfolio truncation probe"},
    "entry_conditions": {
        "direction": "both",
        "technical_signals": [
            {"indicator": "EMA_Cross", "params": {"fast": 3, "slow": 8}, "condition": "greater_than", "weight": 1.0}
        ],
        "confluence_threshold": 1.0,
    },
    "exit_conditions": {
        "take_profit": {"type": "risk_multiple", "ratio": 2.0,
                        "trailing_stop": {"activation": "1_r", "distance": "1.5_atr"}},
        "stop_loss": {"type": "technical", "reference": "recent_swing_low", "offset": "0.5_atr",
                      "max_risk_percent": 0.05, "swing_lookback_bars": 10},
        "time_stop": {"max_bars": 15, "condition": "if_not_profitable"},
        "chandelier": {"multiple": 3.0, "atr_period": 14},
        "signal_exit": {"technical_signals": [{"indicator": "EMA_Cross", "params": {"fast": 3, "slow": 8},
                                               "condition": "less_than"}], "confluence_threshold": 1.0},
    },
    "risk_management": {
        "position_sizing": {"method": "kelly_criterion_modified", "max_kelly_fraction": 0.5,
                            "fixed_fraction_cap": 0.4, "win_probability": "win_rate"},
        "portfolio_limits": {"max_correlated_positions": 2, "correlation_threshold": 0.6,
                             "max_sector_exposure": 0.6, "daily_loss_limit": 0.02, "max_positions": 2},
        "volatility_adjustment": {"measure": "atr_14", "target_risk_per_trade": 0.02},
    },
    "execution_rules": {"order_type": "limit", "slippage_tolerance": 0.003, "time_in_force": "GTC",
                        "mock_trading": {"fill_model": "realistic", "latency_simulation": "50ms"},
                        "commission": {"type": "us_retail"}},
}  # fmt: skip
PORTFOLIO_VARIANT = {
    **PORTFOLIO,
    "exit_conditions": {"stop_loss": {"type": "percent", "reference": "entry", "max_risk_percent": 0.03},
                        "take_profit": {"type": "percent", "percent": 0.04},
                        "signal_exit": PORTFOLIO["exit_conditions"]["signal_exit"]},  # type: ignore[index]
    "risk_management": {"position_sizing": {"method": "volatility_target", "target_risk_per_trade": 0.01,
                                            "fixed_fraction_cap": 0.5},
                        "portfolio_limits": {"daily_loss_limit": 0.01, "max_positions": 3}},
    "execution_rules": {"order_type": "stop_limit", "slippage_tolerance": 0.002, "time_in_force": "DAY",
                        "mock_trading": {"fill_model": "pessimistic"}, "commission": {"fee_bps": 5}},
}  # fmt: skip


COLUMNS = ("ts", "open", "high", "low", "close", "volume")


def portfolio_bars(seed: int, n: int) -> list[Bars]:
    """Three instruments on the New York calendar: one starts late, one misses some days."""
    rng = np.random.default_rng(seed)
    out = []
    for j, symbol in enumerate(("AAA", "BBB", "CCC")):
        b = random_daily_bars(seed * 3 + j, n)
        b = Bars.from_arrays(symbol, Timeframe.D1, {c: getattr(b, c) for c in COLUMNS}, NY)
        if j == 1:
            b = b[int(rng.integers(5, n // 3)) :]
        if j == 2:
            keep = rng.random(len(b)) > 0.1
            keep[0] = True
            b = Bars.from_arrays(symbol, Timeframe.D1, {c: getattr(b, c)[keep] for c in COLUMNS}, NY)
        out.append(b)
    return out


SECTORS = {"AAA": "Tech", "BBB": "Tech", "CCC": "Energy"}


def _instruments(bars: list[Bars]) -> dict[str, Instrument]:
    return {
        b.symbol: Instrument(
            symbol=b.symbol,
            asset_class="equity",
            market="US",
            currency="USD",
            sector=SECTORS[b.symbol],
            lot_size=5 if b.symbol == "CCC" else 1,
        )
        for b in bars
    }


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(80, 200), variant=st.booleans(), data=st.data())
def test_portfolio_backtest_on_cut_data_agrees_with_full_run_before_the_cut(
    seed: int, n: int, variant: bool, data: st.DataObject
) -> None:
    strategy = parse_strategy(json.dumps(PORTFOLIO_VARIANT if variant else PORTFOLIO))
    bars = portfolio_bars(seed, n)
    instruments = _instruments(bars)
    full = run_backtest(strategy, bars, instruments=instruments, initial_cash=100_000.0)
    assert len(full.output.fills) > 0
    known = full.known_ns
    for k in data.draw(st.lists(st.integers(30, len(known)), min_size=1, max_size=3, unique=True)):
        last = known[k - 1]
        cut_bars = [b[: int(np.searchsorted(b.known_ns(), last, side="right"))] for b in bars]
        if any(len(b) < 2 for b in cut_bars):
            continue  # the late starter has not started by the cut: another portfolio
        cut = run_backtest(strategy, cut_bars, instruments=instruments, initial_cash=100_000.0)
        assert_same_before_the_cut(full, cut)


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
