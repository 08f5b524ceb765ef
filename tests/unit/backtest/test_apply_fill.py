"""``apply_fill`` books a fill that arrives from outside the kernel (a broker's) into the kernel's state, to the
cent: cash, the position, the trade's values and costs, the fill and order records, the trade when it closes."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.kernels import portfolio_layout as L
from quantdesk.kernels.portfolio import apply_fill, init_state


def test_a_fill_from_outside_opens_adds_to_reduces_and_closes_a_trade() -> None:
    p = L.default_params()
    p[L.P_INITIAL_CASH] = 10_000.0
    fs, is_, af, ai = init_state(2, p)
    trades = np.zeros(4, dtype=L.TRADE_RECORD)
    fills = np.zeros(8, dtype=L.FILL_RECORD)
    orders = np.zeros(2, dtype=L.ORDER_RECORD)
    j = 1

    def book(t: int, side: int, q: float, price: float, comm: float, oid: int, reason: int = L.R_ENTRY) -> bool:
        return bool(apply_fill(fs, is_, af, ai, j, t, side, q, price, price, comm, 0.0, 0.0, reason, oid, 3,
                               L.ORDER_LIMIT, trades, fills, orders))  # fmt: skip

    # a buy of 10 at 100.00 with 1.00 commission opens a long trade, decided on row 3, order 0
    assert not book(4, +1, 10.0, 100.0, 1.0, 0)
    assert af[L.A_CASH] == pytest.approx(10_000.0 - 1_000.0 - 1.0)
    assert fs[j, L.F_QTY] == 10.0 and is_[j, L.I_DIR] == 1 and is_[j, L.I_TRADE_ID] == 0
    assert (is_[j, L.I_ENTRY_ROW], is_[j, L.I_DECIDED_ROW], is_[j, L.I_ORDER_TYPE]) == (4, 3, L.ORDER_LIMIT)
    assert fs[0, L.F_QTY] == 0.0 and ai[L.A_NEXT_TRADE_ID] == 1
    # 5 more at 102.00 add to it: the trade is now partial, its entry 1,510.00 for 15
    assert not book(5, +1, 5.0, 102.0, 0.5, 0)
    assert orders[0]["filled"] == 15.0
    assert (fs[j, L.F_ENTRY_QTY], fs[j, L.F_ENTRY_VALUE], is_[j, L.I_PARTIAL]) == (15.0, 1_510.0, 1)
    # a sell of 5 at 110.00 (order 1) reduces it; the trade stays open
    assert not book(6, -1, 5.0, 110.0, 0.25, 1, L.R_SIGNAL_EXIT)
    assert fs[j, L.F_QTY] == 10.0 and ai[L.A_N_TRADES] == 0 and orders[1]["filled"] == 5.0
    # the last 10 at 111.00 close it: the trade is written with its reason, the instrument is flat
    assert book(7, -1, 10.0, 111.0, 0.25, 1, L.R_SIGNAL_EXIT)
    pnl = 5 * 110.0 + 10 * 111.0 - 1_510.0 - (1.0 + 0.5 + 0.25 + 0.25)
    assert af[L.A_CASH] == pytest.approx(10_000.0 + pnl)
    assert fs[j, L.F_QTY] == 0.0 and is_[j, L.I_DIR] == 0
    assert (ai[L.A_N_TRADES], ai[L.A_N_FILLS], ai[L.A_CLOSED], ai[L.A_WINS], ai[L.A_STREAK]) == (1, 4, 1, 1, 0)
    t = trades[0]
    assert (t["trade_id"], t["inst"], t["direction"], t["decided_row"], t["entry_row"], t["exit_row"]) == (
        0, 1, 1, 3, 4, 7,
    )  # fmt: skip
    assert t["qty"] == 15.0 and t["entry_price"] == pytest.approx(1_510.0 / 15)
    assert t["exit_price"] == pytest.approx((550.0 + 1_110.0) / 15)
    assert t["commission"] == pytest.approx(2.0) and t["pnl"] == pytest.approx(pnl)
    assert (t["exit_reason"], t["partial"], t["order_type"]) == (L.R_SIGNAL_EXIT, 1, L.ORDER_LIMIT)
    assert list(fills["side"][:4]) == [1, 1, -1, -1] and list(fills["order_id"][:4]) == [0, 0, 1, 1]
    assert list(fills["trade_id"][:4]) == [0, 0, 0, 0] and list(fills["row"][:4]) == [4, 5, 6, 7]


def test_a_losing_short_from_outside_counts_as_a_loss_in_the_streak() -> None:
    p = L.default_params()
    fs, is_, af, ai = init_state(1, p)
    trades = np.zeros(2, dtype=L.TRADE_RECORD)
    fills = np.zeros(4, dtype=L.FILL_RECORD)
    orders = np.zeros(0, dtype=L.ORDER_RECORD)  # order id -1: a stop on the position, no order record
    apply_fill(fs, is_, af, ai, 0, 1, -1, 20.0, 50.0, 50.0, 0.0, 0.0, 0.0, L.R_ENTRY, -1, 0, L.ORDER_MARKET, trades,
               fills, orders)  # fmt: skip
    assert fs[0, L.F_QTY] == -20.0 and af[L.A_CASH] == pytest.approx(100_000.0 + 1_000.0)
    closed = apply_fill(fs, is_, af, ai, 0, 2, +1, 20.0, 51.0, 51.0, 0.0, 0.0, 0.0, L.R_STOP_LOSS, -1, 0,
                        L.ORDER_MARKET, trades, fills, orders)  # fmt: skip
    assert closed
    assert trades[0]["pnl"] == pytest.approx(-20.0) and trades[0]["exit_reason"] == L.R_STOP_LOSS
    assert (ai[L.A_CLOSED], ai[L.A_WINS], ai[L.A_STREAK]) == (1, 0, 1)
    assert af[L.A_CASH] == pytest.approx(100_000.0 - 20.0)
