"""Plain-Python reference of ``quantdesk.kernels.backtest.simulate_long_only``.

Written for clarity, not speed, straight from the kernel's documented rules; the property tests hold
the numba kernel equal to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RefTrade:
    entry_idx: int
    exit_idx: int
    qty: float
    entry_price: float
    exit_price: float
    entry_fee: float
    exit_fee: float
    pnl: float
    return_pct: float


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
    cash = initial_cash
    position: dict[str, float] | None = None  # qty, price, fee, idx
    decided: str | None = None  # "buy" or "sell", decided at the previous close
    equity: list[float] = []
    trades: list[RefTrade] = []
    for i in range(len(open_)):
        # 1. fill yesterday's decision at today's open
        if decided == "sell" and position is not None:
            value = position["qty"] * open_[i]
            fee = value * fee_rate
            cash += value - fee
            cost = position["qty"] * position["price"] + position["fee"]
            pnl = value - fee - cost
            trades.append(
                RefTrade(
                    int(position["idx"]),
                    i,
                    position["qty"],
                    position["price"],
                    open_[i],
                    position["fee"],
                    fee,
                    pnl,
                    pnl / cost,
                )
            )
            position = None
        elif decided == "buy" and position is None:
            units = math.floor(fraction * cash / (open_[i] * (1 + fee_rate)) / lot_size) * lot_size
            if units > 0:
                fee = units * open_[i] * fee_rate
                cash -= units * open_[i] + fee
                position = {"qty": units, "price": open_[i], "fee": fee, "idx": i}
        # 2. mark at the close
        equity.append(cash + (position["qty"] * close[i] if position else 0.0))
        # 3. decide for tomorrow
        if position is not None:  # noqa: SIM108 (kept as the plain rule it states)
            decided = "sell" if exit_[i] else None
        else:
            decided = "buy" if entry[i] else None
    if position is not None:
        last = close[-1]
        cost = position["qty"] * position["price"] + position["fee"]
        pnl = position["qty"] * (last - position["price"]) - position["fee"]
        trades.append(
            RefTrade(
                int(position["idx"]),
                -1,
                position["qty"],
                position["price"],
                last,
                position["fee"],
                0.0,
                pnl,
                pnl / cost,
            )
        )
    return equity, trades
