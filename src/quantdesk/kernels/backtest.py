"""The fast path: one instrument, market orders at the next open, fixed-fraction sizing, commission in bps (numba).

This is the portfolio kernel (``kernels/portfolio.py``) specialised to the settings a signal study
uses: no stops or targets, no fill costs beyond commission, no risk limits. It gives the same
equity and trades as the portfolio kernel with those settings (a property test holds the two
equal) at the speed of a hand-written loop, and ``sweep_directional`` runs many signal sets through
it in one parallel call.

Equivalent plain-Python reference: ``tests/reference/backtest_reference.py`` (a property test holds
the two equal on random data). Semantics, per ``DESIGN.md`` section 2: signals are decided at bar
``i``'s close and filled at bar ``i + 1``'s open; nothing fills on the bar that decided it. On each
bar the kernel (1) fills the orders decided on the bar before at this bar's open: first a close, then
an open, (2) marks equity at this bar's close (cash plus the signed position times the close), (3)
reads this bar's signals to decide the next orders: flat, a long entry opens long (else a short entry
opens short); long, a long exit closes, and a short entry closes and reverses; short, the mirror. An
open trades ``floor(fraction * cash / (open * (1 + fee_rate)) / lot_size) * lot_size`` units (nothing
when that is zero): bought for a long, sold short for a short (the proceeds credited to cash); a close
trades the whole position back. Commission is ``fee_rate`` times the traded value, on both sides.
A position still open after the last bar is reported with ``exit_idx == -1``, marked at the
last close, and no exit commission. Trades are written to a structured ``TRADE_DTYPE`` array.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

TRADE_DTYPE = np.dtype(
    [
        ("direction", np.int8),  # +1 long, -1 short
        ("entry_idx", np.int64),
        ("exit_idx", np.int64),  # -1 while open at the end of the data
        ("qty", np.float64),
        ("entry_price", np.float64),
        ("exit_price", np.float64),  # last close when still open
        ("entry_fee", np.float64),
        ("exit_fee", np.float64),
        ("pnl", np.float64),  # net of both fees (unrealised for an open trade)
        ("return_pct", np.float64),  # pnl / (qty * entry_price + entry_fee)
    ]
)


@njit(cache=True, inline="always")
def _record_trade(
    trades_out: np.ndarray,
    k: int,
    entry_idx: int,
    exit_idx: int,
    qty: float,
    entry_price: float,
    exit_price: float,
    entry_fee: float,
    exit_fee: float,
) -> None:
    t = trades_out[k]
    side = 1 if qty > 0.0 else -1
    qty = abs(qty)
    t["direction"] = side
    t["entry_idx"] = entry_idx
    t["exit_idx"] = exit_idx
    t["qty"] = qty
    t["entry_price"] = entry_price
    t["exit_price"] = exit_price
    t["entry_fee"] = entry_fee
    t["exit_fee"] = exit_fee
    t["pnl"] = side * qty * (exit_price - entry_price) - entry_fee - exit_fee
    t["return_pct"] = t["pnl"] / (qty * entry_price + entry_fee)


@njit(cache=True, nogil=True)
def simulate_directional(
    open_: np.ndarray,
    close: np.ndarray,
    long_entry: np.ndarray,
    long_exit: np.ndarray,
    short_entry: np.ndarray,
    short_exit: np.ndarray,
    fraction: float,
    fee_rate: float,
    lot_size: float,
    initial_cash: float,
    equity_out: np.ndarray,
    trades_out: np.ndarray,
) -> int:
    """Fill ``equity_out`` (per bar, at the close) and ``trades_out``; return the number of trades."""
    n = open_.shape[0]
    cash = initial_cash
    qty = 0.0  # signed: > 0 long, < 0 short
    pending_close = False
    pending_open = 0  # +1 buy to open, -1 sell short to open
    n_trades = 0
    entry_idx = -1
    entry_price = 0.0
    entry_fee = 0.0
    for i in range(n):
        price = open_[i]
        if pending_close and qty != 0.0:
            value = qty * price
            fee = abs(value) * fee_rate
            cash += value - fee
            _record_trade(trades_out, n_trades, entry_idx, i, qty, entry_price, price, entry_fee, fee)
            n_trades += 1
            qty = 0.0
        if pending_open != 0 and qty == 0.0:
            units = np.floor(fraction * cash / (price * (1.0 + fee_rate)) / lot_size + 1e-9) * lot_size
            if units > 0.0:
                value = units * price
                fee = value * fee_rate
                cash -= pending_open * value + fee
                qty = pending_open * units
                entry_idx = i
                entry_price = price
                entry_fee = fee
        pending_close = False
        pending_open = 0
        equity_out[i] = cash + qty * close[i]
        if qty > 0.0:
            pending_close = long_exit[i] or short_entry[i]
            if short_entry[i]:
                pending_open = -1
        elif qty < 0.0:
            pending_close = short_exit[i] or long_entry[i]
            if long_entry[i]:
                pending_open = 1
        elif long_entry[i]:
            pending_open = 1
        elif short_entry[i]:
            pending_open = -1
    if qty != 0.0:
        _record_trade(trades_out, n_trades, entry_idx, -1, qty, entry_price, close[n - 1], entry_fee, 0.0)
        n_trades += 1
    return n_trades


@njit(cache=True, parallel=True)
def sweep_directional(
    open_: np.ndarray,
    close: np.ndarray,
    long_entry: np.ndarray,
    long_exit: np.ndarray,
    short_entry: np.ndarray,
    short_exit: np.ndarray,
    fraction: float,
    fee_rate: float,
    lot_size: float,
    initial_cash: float,
    final_equity: np.ndarray,
    n_trades: np.ndarray,
    max_drawdown: np.ndarray,
) -> None:
    """Run ``simulate_directional`` once per row of the ``(k, n)`` signal matrices, in parallel; write each run's
    final equity, trade count and max drawdown (a negative fraction)."""
    k, n = long_entry.shape
    for c in prange(k):
        equity = np.empty(n)
        cap = 2
        for i in range(n):
            cap += long_entry[c, i] + short_entry[c, i]
        trades = np.empty(cap, dtype=TRADE_DTYPE)  # a trade needs an entry signal
        count = simulate_directional(
            open_, close, long_entry[c], long_exit[c], short_entry[c], short_exit[c],
            fraction, fee_rate, lot_size, initial_cash, equity, trades,
        )  # fmt: skip
        peak = initial_cash
        worst = 0.0
        for i in range(n):
            if equity[i] > peak:
                peak = equity[i]
            dd = equity[i] / peak - 1.0
            if dd < worst:
                worst = dd
        final_equity[c] = equity[n - 1]
        n_trades[c] = count
        max_drawdown[c] = worst
