"""Plain-Python reference of ``quantdesk.kernels.backtest.simulate_directional``.

Written for clarity, not speed, straight from the kernel's documented rules; the property tests hold
the numba kernel equal to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RefTrade:
    direction: int
    entry_idx: int
    exit_idx: int
    qty: float
    entry_price: float
    exit_price: float
    entry_fee: float
    exit_fee: float
    pnl: float
    return_pct: float


def _trade(position: dict[str, float], exit_idx: int, exit_price: float, exit_fee: float) -> RefTrade:
    side = int(position["side"])
    cost = position["qty"] * position["price"] + position["fee"]
    pnl = side * position["qty"] * (exit_price - position["price"]) - position["fee"] - exit_fee
    return RefTrade(
        side,
        int(position["idx"]),
        exit_idx,
        position["qty"],
        position["price"],
        exit_price,
        position["fee"],
        exit_fee,
        pnl,
        pnl / cost,
    )


def reference_directional(
    open_: list[float],
    close: list[float],
    long_entry: list[bool],
    long_exit: list[bool],
    short_entry: list[bool],
    short_exit: list[bool],
    fraction: float,
    fee_rate: float,
    lot_size: float,
    initial_cash: float,
) -> tuple[list[float], list[RefTrade]]:
    cash = initial_cash
    position: dict[str, float] | None = None  # side, qty (unsigned), price, fee, idx
    close_next = False
    open_next = 0  # +1 buy, -1 sell short
    equity: list[float] = []
    trades: list[RefTrade] = []
    for i in range(len(open_)):
        # 1. fill the previous close's decisions at this open: the close first, then the open
        if close_next and position is not None:
            value = position["qty"] * open_[i]
            fee = value * fee_rate
            cash += position["side"] * value - fee
            trades.append(_trade(position, i, open_[i], fee))
            position = None
        if open_next != 0 and position is None:
            units = math.floor(fraction * cash / (open_[i] * (1 + fee_rate)) / lot_size) * lot_size
            if units > 0:
                fee = units * open_[i] * fee_rate
                cash -= open_next * units * open_[i] + fee
                position = {"side": open_next, "qty": units, "price": open_[i], "fee": fee, "idx": i}
        # 2. mark at the close
        equity.append(cash + (position["side"] * position["qty"] * close[i] if position else 0.0))
        # 3. decide for the next bar
        close_next, open_next = False, 0
        if position is None:
            open_next = 1 if long_entry[i] else (-1 if short_entry[i] else 0)
        elif position["side"] > 0:
            close_next = long_exit[i] or short_entry[i]
            open_next = -1 if short_entry[i] else 0
        else:
            close_next = short_exit[i] or long_entry[i]
            open_next = 1 if long_entry[i] else 0
    if position is not None:
        trades.append(_trade(position, -1, close[-1], 0.0))
    return equity, trades


def reference_long_only(
    open_: list[float],
    close: list[float],
    entry: list[bool],
    exit_: list[bool],
    fraction: float,
    fee_rate: float,
    lot_size: float,
    initial_cash: float,
) -> tuple[list[float], list[RefTrade]]:
    never = [False] * len(open_)
    return reference_directional(open_, close, entry, exit_, never, never, fraction, fee_rate, lot_size, initial_cash)
