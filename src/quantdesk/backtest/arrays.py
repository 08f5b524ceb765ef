"""Backtests straight from arrays: one signal set (``run_signals``) or many in one call (``sweep_signals``).

For studies and parameter sweeps where the signals are already computed: market orders at the next
open, fixed-fraction sizing, commission in basis points of traded value, long, short or
stop-and-reverse. Both run the fast-path kernel (``kernels/backtest.py``), which a property test
holds equal to the portfolio kernel with the same settings; ``run_signals`` returns its trades in
the portfolio kernel's ``TRADE_RECORD`` shape, so the two are interchangeable downstream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.kernels.backtest import TRADE_DTYPE, simulate_directional, sweep_directional
from quantdesk.kernels.portfolio_layout import R_END_OF_DATA, R_REVERSE, R_SIGNAL_EXIT, TRADE_RECORD


@dataclass(frozen=True, slots=True)
class SignalRun:
    equity: np.ndarray  # at each bar's close
    trades: np.ndarray  # TRADE_RECORD

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1])


@dataclass(frozen=True, slots=True)
class SweepRun:
    final_equity: np.ndarray  # one per signal set
    n_trades: np.ndarray
    max_drawdown: np.ndarray  # negative fractions


def _check(fraction: float, fee_bps: float, lot_size: float, initial_cash: float) -> None:
    if not 0 < fraction <= 1:
        raise ConfigError(f"fraction: expected a share of equity in (0, 1], found {fraction}")
    if not 0 <= fee_bps <= 1000:
        raise ConfigError(f"fee_bps: expected 0..1000 basis points, found {fee_bps}")
    if not lot_size > 0:
        raise ConfigError(f"lot_size: expected > 0, found {lot_size}")
    if not initial_cash > 0:
        raise ConfigError(f"initial_cash: expected > 0, found {initial_cash}")


def _bools(a: np.ndarray | None, shape: tuple[int, ...], name: str) -> np.ndarray:
    if a is None:
        return np.zeros(shape, dtype=np.bool_)
    a = np.ascontiguousarray(a, dtype=np.bool_)
    if a.shape != shape:
        raise ConfigError(f"{name}: expected shape {shape}, found {a.shape}")
    return a


def run_signals(
    open_: np.ndarray,
    close: np.ndarray,
    long_entry: np.ndarray,
    long_exit: np.ndarray,
    short_entry: np.ndarray | None = None,
    short_exit: np.ndarray | None = None,
    *,
    fraction: float = 1.0,
    fee_bps: float = 0.0,
    lot_size: float = 1.0,
    initial_cash: float = 100_000.0,
) -> SignalRun:
    """Backtest one signal set: decided at each bar's close, filled at the next bar's open."""
    _check(fraction, fee_bps, lot_size, initial_cash)
    o = np.ascontiguousarray(open_, dtype=np.float64)
    c = np.ascontiguousarray(close, dtype=np.float64)
    n = len(o)
    if c.shape != (n,):
        raise ConfigError(f"close: expected shape {(n,)}, found {c.shape}")
    equity = np.empty(n)
    entries = int(np.count_nonzero(long_entry)) + (0 if short_entry is None else int(np.count_nonzero(short_entry)))
    raw = np.empty(entries + 2, dtype=TRADE_DTYPE)  # a trade needs an entry signal
    count = simulate_directional(
        o, c, _bools(long_entry, (n,), "long_entry"), _bools(long_exit, (n,), "long_exit"),
        _bools(short_entry, (n,), "short_entry"), _bools(short_exit, (n,), "short_exit"),
        float(fraction), fee_bps / 10_000.0, float(lot_size), float(initial_cash), equity, raw,
    )  # fmt: skip
    return SignalRun(equity=equity, trades=to_trade_records(raw[:count], n))


def to_trade_records(raw: np.ndarray, n_bars: int) -> np.ndarray:
    """The fast path's trades in ``TRADE_RECORD`` form (exit reasons: signal exit, reverse, end of data)."""
    out = np.zeros(len(raw), dtype=TRADE_RECORD)
    out["trade_id"] = np.arange(len(raw))
    out["direction"] = raw["direction"]
    out["decided_row"] = raw["entry_idx"] - 1
    out["entry_row"] = raw["entry_idx"]
    out["exit_row"] = raw["exit_idx"]
    out["qty"] = raw["qty"]
    out["entry_price"] = raw["entry_price"]
    out["exit_price"] = raw["exit_price"]
    out["commission"] = raw["entry_fee"] + raw["exit_fee"]
    out["pnl"] = raw["pnl"]
    out["initial_stop"] = np.nan
    out["initial_risk"] = np.nan
    # a trade that closes on the bar the next one opens, in the other direction, was reversed
    reversed_ = np.zeros(len(raw), dtype=bool)
    if len(raw) > 1:
        reversed_[:-1] = (raw["exit_idx"][:-1] == raw["entry_idx"][1:]) & (
            raw["direction"][:-1] != raw["direction"][1:]
        )
    out["exit_reason"] = np.where(raw["exit_idx"] < 0, R_END_OF_DATA, np.where(reversed_, R_REVERSE, R_SIGNAL_EXIT))
    out["bars_held"] = np.where(raw["exit_idx"] < 0, n_bars, raw["exit_idx"]) - raw["entry_idx"]
    return out


def sweep_signals(
    open_: np.ndarray,
    close: np.ndarray,
    long_entry: np.ndarray,
    long_exit: np.ndarray,
    short_entry: np.ndarray | None = None,
    short_exit: np.ndarray | None = None,
    *,
    fraction: float = 1.0,
    fee_bps: float = 0.0,
    lot_size: float = 1.0,
    initial_cash: float = 100_000.0,
) -> SweepRun:
    """Backtest ``k`` signal sets (``(k, n)`` matrices) on the same bars in one parallel kernel call."""
    _check(fraction, fee_bps, lot_size, initial_cash)
    o = np.ascontiguousarray(open_, dtype=np.float64)
    c = np.ascontiguousarray(close, dtype=np.float64)
    le = np.ascontiguousarray(long_entry, dtype=np.bool_)
    if le.ndim != 2 or le.shape[1] != len(o):
        raise ConfigError(f"long_entry: expected a (sets, {len(o)}) matrix, found shape {le.shape}")
    shape = le.shape
    final = np.empty(shape[0])
    trades = np.empty(shape[0], dtype=np.int64)
    mdd = np.empty(shape[0])
    sweep_directional(
        o, c, le, _bools(long_exit, shape, "long_exit"), _bools(short_entry, shape, "short_entry"),
        _bools(short_exit, shape, "short_exit"), float(fraction), fee_bps / 10_000.0, float(lot_size),
        float(initial_cash), final, trades, mdd,
    )  # fmt: skip
    return SweepRun(final_equity=final, n_trades=trades, max_drawdown=mdd)
