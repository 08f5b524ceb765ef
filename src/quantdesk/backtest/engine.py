"""Running a strategy over bars: prepare arrays, call the kernel, assemble the result.

This is the layer between a validated ``Strategy`` plus ``Bars`` and the numba kernel: it compiles
the signals, reads sizing and commission from the strategy, the lot size from the instrument, runs
the kernel, and computes metrics. A buy-and-hold run of the same instrument through the same kernel
(enter on the first bar's signal, so filled at the second bar's open, with the same costs) is kept as
the benchmark.
"""

from __future__ import annotations

import numpy as np

from quantdesk.analytics.metrics import compute_metrics
from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.kernels.backtest import run_long_only
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.signals import compile_signals

MIN_BARS = 2


def run_backtest(
    strategy: Strategy,
    bars: Bars,
    *,
    instrument: Instrument | None = None,
    initial_cash: float = 100_000.0,
) -> BacktestResult:
    """Backtest ``strategy`` on ``bars`` (long only, decided at the close, filled at the next open)."""
    if initial_cash <= 0 or not np.isfinite(initial_cash):
        raise ConfigError(f"capital: expected an amount > 0, found {initial_cash}")
    if len(bars) < MIN_BARS:
        raise ConfigError(
            f"{bars.symbol} {bars.timeframe.value}: need at least {MIN_BARS} bars to backtest, found {len(bars)}"
        )
    signals = compile_signals(strategy, bars)
    fraction = strategy.risk_management.position_sizing.fraction
    fee_rate = strategy.execution_rules.commission.fee_rate
    lot = float(instrument.lot_size) if instrument else 1.0
    equity, trades = run_long_only(
        bars.open,
        bars.close,
        signals.entry,
        signals.exit,
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
    )
