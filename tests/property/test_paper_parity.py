"""Parity: a paper session (the kernel stepped from Python, its orders through the live limits and the order
manager to the simulated broker, the broker's fills booked back) gives the kernel's own records, byte for byte:
orders, fills, trades, risk events, equity, cash, positions and stops, on the reference test's random
multi-instrument cases with orders sized at the decision."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from quantdesk.backtest import kernel_io
from quantdesk.backtest.kernel_io import run_kernel
from quantdesk.domain.order_events import OrderSubmitted
from quantdesk.kernels import portfolio_layout as L
from quantdesk.runtime.session import PaperSession, SessionClock
from tests.property.test_portfolio_kernel import _inputs, portfolio_case

SESSION = "paper-parity"


def paper_stand_in(sessions: list[PaperSession]) -> Any:
    """A stand-in for ``simulate_portfolio`` (same arguments) that runs a paper session over the grids."""

    def run(*args: np.ndarray) -> None:
        arrays, p = args[:30], args[30]
        equity_out, cash_out, qty_path, stop_path, hedge_out = args[31:36]
        trades, fills, orders, events, hedge_fills, counts = args[36:]
        n, m = arrays[0].shape
        rows = np.arange(n, dtype=np.int64)
        clock = SessionClock(known_ns=rows * 2 + 1, open_ns=np.repeat((rows * 2)[:, None], m, axis=1))
        session = PaperSession(arrays, p, symbols=[f"I{j}" for j in range(m)], clock=clock, session_id=SESSION)
        session.run()
        out = session.finish()
        sessions.append(session)
        equity_out[:] = out.equity
        cash_out[:] = out.cash
        if out.qty.size:
            qty_path[:] = out.qty
            stop_path[:] = out.stop
        if out.hedge.size:
            hedge_out[:] = out.hedge
        over = False
        for buf, rec in ((trades, out.trades), (fills, out.fills), (orders, out.orders), (events, out.events),
                         (hedge_fills, out.hedge_fills)):  # fmt: skip
            if len(rec) > len(buf):
                over = True
            else:
                buf[: len(rec)] = rec
        counts[:] = (1 if over else 0, len(out.trades), len(out.fills), len(out.orders), len(out.events),
                     len(out.hedge_fills))  # fmt: skip

    return run


@settings(max_examples=250, deadline=None)
@given(portfolio_case())
def test_a_paper_session_gives_the_kernels_records_to_the_cent(case: tuple[dict[str, np.ndarray], np.ndarray]) -> None:
    g, p = case
    p = p.copy()
    p[L.P_SIZE_AT_DECISION] = 1.0
    whole = run_kernel(_inputs(g), p)
    sessions: list[PaperSession] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kernel_io, "simulate_portfolio", paper_stand_in(sessions))
        paper = run_kernel(_inputs(g), p)
    for name in ("equity", "cash", "qty", "stop", "trades", "fills", "orders", "events", "hedge", "hedge_fills"):
        assert getattr(paper, name).tobytes() == getattr(whole, name).tobytes(), name
    # every order the kernel placed left for the broker once, under one client order id
    log = sessions[-1].manager.event_log.events()
    submitted = [e.client_order_id for e in log if isinstance(e, OrderSubmitted)]
    assert len(submitted) == len(set(submitted))
    kernel_orders = {
        e.client_order_id for e in log if isinstance(e, OrderSubmitted) and e.kind.value in ("entry", "exit")
    }
    assert len(kernel_orders) == len(whole.orders)
