"""``execution_rules.size_orders_at``: an entry's quantity from the fill (a backtest's default) or from the close
that decided it (what paper and live send to a broker). The engine probe (tests/unit/backtest/test_engine.py)
decides its entry at AAA's close of 106 on DAYS[6] and fills at the next open, 107.5; 40 % of 100,000."""

from __future__ import annotations

import math

import pytest
from tests.unit.backtest.test_engine import A_CLOSE, A_DAYS, bars, strategy

from quantdesk.backtest.engine import run_backtest
from quantdesk.backtest.settings import kernel_params
from quantdesk.kernels import portfolio_layout as L


@pytest.mark.parametrize(("size_at", "price"), [("fill", 107.5), ("decision", 106.0)])
def test_the_quantity_comes_from_the_price_it_names(size_at: str, price: float) -> None:
    s = strategy(execution_rules={"size_orders_at": size_at})
    assert kernel_params(s, initial_cash=100_000.0)[L.P_SIZE_AT_DECISION] == (1.0 if size_at == "decision" else 0.0)
    result = run_backtest(s, bars("AAA", A_DAYS, A_CLOSE))
    trade = result.trades.iloc[0]
    assert trade["entry_price"] == pytest.approx(107.5)
    assert trade["quantity"] == math.floor(0.4 * 100_000 / price)  # 372 at the fill, 377 at the decision
    order = result.orders.iloc[0]
    assert order["quantity"] == trade["quantity"]


def test_the_default_is_written_out_by_resolve() -> None:
    assert strategy().resolved_document()["execution_rules"]["size_orders_at"] == "fill"
