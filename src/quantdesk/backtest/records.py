"""The portfolio kernel's records as pandas tables: trades, fills, orders, risk events, positions.

The kernel speaks in grid rows, instrument numbers and codes; these functions put times, symbols and
names on them. Times: a fill, an entry and an exit carry the stored time of the bar they happened on
(its open time, or the date label of a daily bar); a decision, an order's submission and a risk
event carry the known time of the row that decided them (the close). An open trade's exit is its
mark at the last row's known time. Sides are ``buy`` and ``sell`` (a trade's side is the side of its
entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.backtest.kernel_io import KernelOutput
from quantdesk.core.timestamps import ns_to_index
from quantdesk.domain.bars import Bars
from quantdesk.kernels import portfolio_layout as L

_REASONS = np.array(L.REASON_NAMES, dtype=object)
_CHECKS = np.array(L.CHECK_NAMES, dtype=object)
_STATUS = np.array(L.ORDER_STATUS_NAMES, dtype=object)
_ORDER_TYPES = np.array(L.ORDER_TYPE_NAMES, dtype=object)
_TIFS = np.array(L.TIF_NAMES, dtype=object)
_ACTIONS = np.array(("denied", "resized"), dtype=object)


@dataclass(frozen=True, slots=True)
class GridTimes:
    """Maps kernel rows to times: ``known_ns`` per grid row, and per instrument its bars' rows and times."""

    known_ns: np.ndarray
    rows: tuple[np.ndarray, ...]
    bars: tuple[Bars, ...]

    @property
    def symbols(self) -> np.ndarray:
        return np.array([b.symbol for b in self.bars], dtype=object)

    def bar_index(self, inst: np.ndarray, row: np.ndarray) -> np.ndarray:
        """The instrument's own bar number on each grid row (the bar at or before it)."""
        out = np.zeros(len(row), dtype=np.int64)
        for j, rows in enumerate(self.rows):
            sel = inst == j
            if sel.any():
                out[sel] = np.maximum(np.searchsorted(rows, row[sel], side="right") - 1, 0)
        return out

    def bar_time(self, inst: np.ndarray, row: np.ndarray) -> pd.DatetimeIndex:
        """Stored time of the instrument's bar on each grid row; NaT where ``row`` is -1."""
        idx = self.bar_index(inst, row)
        ns = np.zeros(len(row), dtype=np.int64)
        for j, b in enumerate(self.bars):
            sel = inst == j
            if sel.any():
                ns[sel] = b.ts[idx[sel]]
        return pd.DatetimeIndex(ns_to_index(ns).where(row >= 0))

    def row_time(self, row: np.ndarray) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(ns_to_index(self.known_ns[np.maximum(row, 0)]).where(row >= 0))


def _side(direction: np.ndarray) -> np.ndarray:
    return np.where(direction > 0, "buy", "sell").astype(object)


def trades_frame(out: KernelOutput, times: GridTimes) -> pd.DataFrame:
    """One row per trade with the analytics' columns (``analytics.inputs.TRADE_COLUMNS``) and more."""
    t = out.trades
    inst = t["inst"].astype(np.int64)
    is_open = t["exit_row"] < 0
    last_row = np.full(len(t), len(times.known_ns) - 1)
    exit_time = times.bar_time(inst, t["exit_row"])
    if is_open.any():
        exit_time = exit_time.where(~is_open, times.row_time(last_row))
    entry_value = t["qty"] * t["entry_price"]
    with np.errstate(invalid="ignore", divide="ignore"):
        r_multiple = np.where(t["initial_risk"] > 0, t["pnl"] / t["initial_risk"], np.nan)
        return_pct = np.where(entry_value > 0, t["pnl"] / entry_value, np.nan)
        dd = np.where(t["peak_equity"] > 0, t["mae"] / t["peak_equity"], np.nan)
    return pd.DataFrame(
        {
            "trade_id": t["trade_id"].astype(np.int64),
            "symbol": times.symbols[inst] if len(t) else np.empty(0, dtype=object),
            "side": _side(t["direction"]),
            "status": np.where(is_open, "open", "closed").astype(object),
            "quantity": t["qty"],
            "decided_time": times.row_time(t["decided_row"]),
            "entry_time": times.bar_time(inst, t["entry_row"]),
            "entry_price": t["entry_price"],
            "order_type": _ORDER_TYPES[t["order_type"]],
            "fill_quality": np.where(t["partial"] > 0, "partial", "full").astype(object),
            "exit_time": exit_time,
            "exit_price": t["exit_price"],
            "exit_reason": _REASONS[t["exit_reason"]],
            "initial_stop": t["initial_stop"],
            "initial_risk": t["initial_risk"],
            "r_multiple": r_multiple,
            "mae": t["mae"],
            "drawdown_contribution": dd,
            "pnl": t["pnl"],
            "return_pct": return_pct,
            "commission": t["commission"],
            "spread_slippage": t["spread_slippage"],
            "impact": t["impact"],
            "bars_held": t["bars_held"].astype(np.int64),
        }
    )


def fills_frame(out: KernelOutput, times: GridTimes) -> pd.DataFrame:
    f = out.fills
    inst = f["inst"].astype(np.int64)
    return pd.DataFrame(
        {
            "time": times.bar_time(inst, f["row"]),
            "symbol": times.symbols[inst] if len(f) else np.empty(0, dtype=object),
            "side": _side(f["side"]),
            "quantity": f["qty"],
            "price": f["price"],
            "reference_price": f["reference_price"],
            "commission": f["commission"],
            "spread_slippage": f["spread_slippage"],
            "impact": f["impact"],
            "reason": _REASONS[f["reason"]],
            "trade_id": f["trade_id"].astype(np.int64),
            "order_id": f["order_id"].astype(np.int64),
        }
    )


def hedge_fills_frame(fills: np.ndarray, symbol: str, bar_ns: np.ndarray) -> pd.DataFrame:
    """The beta hedge's fills (``risk.hedge.HEDGE_FILL_DTYPE``) with the fill table's columns, each at the
    stored time of the benchmark bar whose open filled it (``bar_ns`` per row)."""
    return pd.DataFrame(
        {
            "time": ns_to_index(bar_ns[fills["row"]]),
            "symbol": np.full(len(fills), symbol, dtype=object),
            "side": _side(np.sign(fills["units"])),
            "quantity": np.abs(fills["units"]),
            "price": fills["price"],
            "reference_price": fills["price"] - np.sign(fills["units"]) * fills["spread"] / np.abs(fills["units"]),
            "commission": fills["commission"],
            "spread_slippage": fills["spread"],
            "impact": np.zeros(len(fills)),
            "reason": np.full(len(fills), "beta_hedge", dtype=object),
            "trade_id": np.full(len(fills), -1, dtype=np.int64),
            "order_id": np.full(len(fills), -1, dtype=np.int64),
        }
    )


def orders_frame(out: KernelOutput, times: GridTimes) -> pd.DataFrame:
    o = out.orders
    inst = o["inst"].astype(np.int64)
    return pd.DataFrame(
        {
            "order_id": o["order_id"].astype(np.int64),
            "symbol": times.symbols[inst] if len(o) else np.empty(0, dtype=object),
            "decided_time": times.row_time(o["decided_row"]),
            "arrival_time": times.bar_time(inst, o["arrival_row"]),
            "side": _side(o["side"]),
            "order_type": _ORDER_TYPES[o["order_type"]],
            "time_in_force": _TIFS[o["tif"]],
            "reason": _REASONS[o["reason"]],
            "quantity": o["qty"],
            "filled": o["filled"],
            "limit_price": o["limit_price"],
            "stop_price": o["stop_price"],
            "status": _STATUS[o["status"]],
            "final_time": times.row_time(o["final_row"]),
        }
    )


def events_frame(out: KernelOutput, times: GridTimes) -> pd.DataFrame:
    """Every refusal and resize by a pre-trade check, with the analytics' denial columns first."""
    e = out.events
    inst = e["inst"].astype(np.int64)
    checks = _CHECKS[e["check"]]
    actions = _ACTIONS[e["action"]]
    reasons = [
        f"{a}: {c} {v:.6g} against limit {lim:.6g}"
        for a, c, v, lim in zip(actions, checks, e["value"], e["limit"], strict=True)
    ]
    return pd.DataFrame(
        {
            "time": times.row_time(e["row"]),
            "symbol": times.symbols[inst] if len(e) else np.empty(0, dtype=object),
            "check": checks,
            "reason": np.array(reasons, dtype=object),
            "action": actions,
            "value": e["value"],
            "limit": e["limit"],
        }
    )


def positions_frame(out: KernelOutput, times: GridTimes, index: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Signed units and signed market value of each instrument at each row's close (last known close)."""
    symbols = list(times.symbols)
    qty = out.qty
    if qty.shape[0] != len(index):
        qty = np.zeros((len(index), len(symbols)))
    close = np.full((len(index), len(symbols)), np.nan)
    for j, b in enumerate(times.bars):
        close[times.rows[j], j] = b.close
    close = pd.DataFrame(close).ffill().to_numpy()
    value = np.where(qty != 0.0, qty * close, 0.0)
    return (pd.DataFrame(qty, index=index, columns=symbols), pd.DataFrame(value, index=index, columns=symbols))


def stop_levels(out: KernelOutput, times: GridTimes, index: pd.DatetimeIndex) -> dict[str, pd.Series]:
    if out.stop.shape[0] != len(index):
        return {}
    return {str(s): pd.Series(out.stop[:, j], index=index, name=str(s)) for j, s in enumerate(times.symbols)}


def price_frames(bars: Sequence[Bars]) -> dict[str, pd.DataFrame]:
    return {b.symbol: b.to_frame() for b in bars}
