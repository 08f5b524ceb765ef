"""The beta-neutral hedge laid over a run: it removes the planted beta, its costs and fills are the
account's, and it refuses to run without a benchmark it can trade on the run's rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.engine import run_backtest
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import Instrument, MarginRequirements
from quantdesk.domain.timeframe import Timeframe
from quantdesk.kernels import portfolio_layout as L
from quantdesk.strategy.load import parse_strategy

NY = TradingCalendar(
    timezone="America/New_York",
    session_open=pd.Timestamp("09:30").time(),
    session_close=pd.Timestamp("16:00").time(),
)
N = 400
BETA = 1.5


def _bars(symbol: str, log_returns: np.ndarray, calendar: TradingCalendar = NY) -> Bars:
    close = 100 * np.exp(np.cumsum(log_returns))
    open_ = np.r_[100.0, close[:-1]]
    return Bars.from_arrays(
        symbol,
        Timeframe.D1,
        {
            "ts": pd.bdate_range("2020-01-06", periods=len(close)).as_unit("ns").asi8,
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": np.full(len(close), 1e7),
        },
        calendar,
    )


def _market() -> tuple[Bars, Bars]:
    rng = np.random.default_rng(5)
    bench = rng.normal(0.0003, 0.01, N)
    asset = BETA * bench + rng.normal(0, 0.002, N)
    return _bars("STOCK", asset), _bars("INDEX", bench)


def _strategy(hedge: bool) -> object:
    doc = {
        "strategy_meta": {"name": "always long"},
        "entry_conditions": {
            "technical_signals": [{"indicator": "RSI", "params": {"period": 2}, "condition": "between",
                                   "values": [0, 100]}],
            "confluence_threshold": 1.0,
        },
        "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.9}},
        "execution_rules": {"mock_trading": {"fill_model": "optimistic"}, "commission": {"fee_bps": 1}},
    }  # fmt: skip
    if hedge:
        doc["risk_management"]["beta_hedge"] = {"window_bars": 60, "min_obs": 20, "rebalance_band": 0.01}  # type: ignore[index]
    return parse_strategy(json.dumps(doc))


def test_the_hedge_removes_the_planted_beta_and_pays_its_costs() -> None:
    stock, index = _market()
    plain = run_backtest(_strategy(False), stock, benchmark=index)  # type: ignore[arg-type]
    hedged = run_backtest(_strategy(True), stock, benchmark=index)  # type: ignore[arg-type]
    # 90 % of equity in a 1.5-beta stock: beta about 1.35 unhedged, about 0 hedged (band 1 % of equity)
    assert plain.metrics.beta == pytest.approx(0.9 * BETA, abs=0.1)
    assert abs(hedged.metrics.beta or 0.0) < 0.1
    assert hedged.hedge is not None
    # the stock's entry comes before the first hedge decision, so the stock position is the plain run's and the
    # hedged account is the plain one plus the hedge's PnL, which the kernel carried in its equity
    np.testing.assert_array_equal(hedged.equity.to_numpy(), hedged.output.equity)
    np.testing.assert_allclose(hedged.equity.to_numpy(), plain.equity.to_numpy() + hedged.hedge.result.pnl,
                               rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(hedged.unhedged_equity.to_numpy(), plain.equity.to_numpy(), rtol=1e-12)
    assert abs(hedged.hedge.result.pnl).max() > 100.0
    fills = hedged.fills[hedged.fills["reason"] == "beta_hedge"]
    assert len(fills) == len(hedged.hedge.result.fills) > 1
    assert (fills["side"].iloc[0], fills["symbol"].iloc[0]) == ("sell", "INDEX (hedge)")  # short the index first
    assert hedged.metrics.costs == pytest.approx(
        plain.metrics.costs + float(fills["commission"].sum() + fills["spread_slippage"].sum())
    )
    held = hedged.positions["INDEX (hedge)"].iloc[-1]
    assert held < 0 and abs(held + BETA * hedged.positions["STOCK"].iloc[-1]) < 0.05 * hedged.equity.iloc[-1]


def test_the_hedge_needs_a_benchmark_on_the_runs_calendar() -> None:
    stock, index = _market()
    with pytest.raises(ConfigError, match="beta_hedge: needs a benchmark"):
        run_backtest(_strategy(True), stock)  # type: ignore[arg-type]
    utc_index = _bars("INDEX", np.diff(np.log(index.close), prepend=np.log(100.0)), TradingCalendar())
    with pytest.raises(ConfigError, match="no bar of the benchmark INDEX closes when the run's bars do"):
        run_backtest(_strategy(True), stock, benchmark=utc_index)  # type: ignore[arg-type]


def test_the_hedges_margin_rate_is_the_benchmark_instruments_and_a_cash_account_without_one() -> None:
    stock, index = _market()
    bench = Instrument(symbol="INDEX", asset_class="equity", market="US", currency="USD", tick_size=0.01, lot_size=1,
                       margin_requirements=MarginRequirements(initial=0.25, maintenance=0.2))  # fmt: skip
    cash = run_backtest(_strategy(True), stock, benchmark=index)  # type: ignore[arg-type]
    margined = run_backtest(_strategy(True), stock, benchmark=index, benchmark_instrument=bench)  # type: ignore[arg-type]
    assert cash.params[L.P_HEDGE_MARGIN] == 1.0
    assert margined.params[L.P_HEDGE_MARGIN] == 0.25
    assert run_backtest(_strategy(False), stock, benchmark=index).params[L.P_HEDGE] == 0.0  # type: ignore[arg-type]
