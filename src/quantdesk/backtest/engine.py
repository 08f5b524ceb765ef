"""Running a strategy over bars: prepare arrays, call the kernel, assemble the result.

This is the layer between a validated ``Strategy`` plus ``Bars`` and the numba kernel: it compiles
the signals (with the evidence ``sources``: the catalog and the fundamentals store), reads sizing and
commission from the strategy, the lot size from the instrument, runs the kernel (long, short, or
stop-and-reverse), and computes metrics. This version simulates market orders at the next open with
fixed-fraction sizing and the signal exit; the blocks it does not simulate yet (R-multiple targets,
stops, time stops, Kelly and volatility sizing, portfolio limits, limit orders and fill models) are
listed in the result's ``not_simulated`` and shown by the CLI, never silently dropped.
A buy-and-hold run of the same instrument through the same kernel
(enter on the first bar's signal, so filled at the second bar's open, with the same costs) is kept as
the benchmark.
"""

from __future__ import annotations

import numpy as np

from quantdesk.analysis.inference.regime import classify_regime
from quantdesk.analytics.metrics import compute_metrics
from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.kernels.backtest import run_directional, run_long_only
from quantdesk.strategy.compile import EvidenceSources, compile_signals
from quantdesk.strategy.models import Strategy

MIN_BARS = 2


def run_backtest(
    strategy: Strategy,
    bars: Bars,
    *,
    instrument: Instrument | None = None,
    initial_cash: float = 100_000.0,
    sources: EvidenceSources | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``bars`` (decided at the close, filled at the next open)."""
    if initial_cash <= 0 or not np.isfinite(initial_cash):
        raise ConfigError(f"capital: expected an amount > 0, found {initial_cash}")
    if len(bars) < MIN_BARS:
        raise ConfigError(
            f"{bars.symbol} {bars.timeframe.value}: need at least {MIN_BARS} bars to backtest, found {len(bars)}"
        )
    signals = compile_signals(strategy, bars, sources)
    regime = classify_regime(bars)
    sizing = strategy.risk_management.position_sizing
    fraction = sizing.fraction_of_equity if sizing.method == "fixed_fraction" else (sizing.fixed_fraction_cap or 1.0)
    fee_rate = strategy.execution_rules.commission.fee_rate
    lot = float(instrument.lot_size) if instrument else 1.0
    equity, trades = run_directional(
        bars.open,
        bars.close,
        signals.long_entry,
        signals.long_exit,
        signals.short_entry,
        signals.short_exit,
        fraction=fraction,
        fee_rate=fee_rate,
        lot_size=lot,
        initial_cash=initial_cash,
    )
    hold_entry = np.zeros(len(bars), dtype=bool)
    hold_entry[0] = True
    bench, _ = run_long_only(
        bars.open,
        bars.close,
        hold_entry,
        np.zeros(len(bars), dtype=bool),
        fraction=fraction,
        fee_rate=fee_rate,
        lot_size=lot,
        initial_cash=initial_cash,
    )
    closed = trades[trades["exit_idx"] >= 0]
    in_market = np.zeros(len(bars), dtype=bool)
    for t in trades:
        stop = len(bars) if t["exit_idx"] < 0 else int(t["exit_idx"])
        in_market[int(t["entry_idx"]) : stop] = True
    metrics = compute_metrics(
        equity,
        start_ns=int(bars.ts[0]),
        end_ns=int(bars.known_ns()[-1]),
        initial_cash=initial_cash,
        trade_pnl_closed=closed["pnl"],
        fees_paid=float(trades["entry_fee"].sum() + trades["exit_fee"].sum()),
        in_market=in_market,
    )
    return BacktestResult(
        strategy_name=strategy.strategy_meta.name,
        bars=bars,
        initial_cash=initial_cash,
        equity=equity,
        trades=trades,
        metrics=metrics,
        benchmark_equity=bench,
        instrument=instrument,
        signals=signals,
        regime=regime,
        not_simulated=not_simulated(strategy),
    )


def not_simulated(strategy: Strategy) -> tuple[str, ...]:
    """The blocks of ``strategy`` this engine version does not simulate yet, each with what it does instead."""
    out = []
    exits = strategy.exit_conditions
    for name in ("take_profit", "stop_loss", "time_stop", "chandelier"):
        if getattr(exits, name) is not None:
            out.append(f"exit_conditions.{name}: not simulated yet; positions leave on the signal exit or stay open")
    sizing = strategy.risk_management.position_sizing
    if sizing.method != "fixed_fraction":
        cap = sizing.fixed_fraction_cap or 1.0
        out.append(
            f"risk_management.position_sizing.method {sizing.method!r}: not simulated yet; "
            f"each entry commits fixed_fraction_cap ({cap:g}) of equity"
        )
    risk = strategy.risk_management
    if risk.portfolio_limits is not None:
        out.append("risk_management.portfolio_limits: not simulated yet (single-instrument runs)")
    if risk.volatility_adjustment is not None:
        out.append("risk_management.volatility_adjustment: not simulated yet")
    rules = strategy.execution_rules
    if rules.order_type != "market":
        out.append(f"execution_rules.order_type {rules.order_type!r}: not simulated yet; filled as market at the open")
    if rules.mock_trading.fill_model != "optimistic" or rules.mock_trading.latency_simulation > 0:
        out.append("execution_rules.mock_trading: fill models and latency not simulated yet; fills at the open")
    return tuple(out)
