"""The simulated paper broker with the book fill model: a market buy walks three levels, a resting bid waits for
the queue ahead, a market order's rest is cancelled, and a strategy naming fill_model "book" gets such a broker."""

from __future__ import annotations

import numpy as np
import pytest
from tests.unit.backtest.test_engine import strategy

from quantdesk.backtest.book_fill_model import BookArrays, BookFillModel, TickArrays
from quantdesk.backtest.costs import US_RETAIL
from quantdesk.domain.order_events import OrderAccepted, OrderCancelled, OrderEvent, OrderFilled
from quantdesk.domain.orders import OrderSide, OrderStatus, OrderType
from quantdesk.execution.sim_broker import SimulatedBroker

from .kit import T0, new_order

MS = 1_000_000


def market_book() -> BookArrays:
    return BookArrays(
        ts=np.array([T0, T0 + 300 * MS], dtype=np.int64),
        bid_px=np.array([[99.99, 99.98, 99.97]] * 2),
        bid_sz=np.array([[800.0, 600.0, 900.0]] * 2),
        ask_px=np.array([[100.00, 100.01, 100.02]] * 2),
        ask_sz=np.array([[500.0, 700.0, 1_000.0]] * 2),
    )


def trades() -> TickArrays:
    return TickArrays(
        ts=np.array([T0 + 100 * MS, T0 + 200 * MS, T0 + 400 * MS], dtype=np.int64),
        price=np.array([99.99, 99.99, 99.99]),
        size=np.array([800.0, 200.0, 500.0]),
        side=np.array([-1, -1, -1], dtype=np.int8),
    )


def broker() -> SimulatedBroker:
    return SimulatedBroker(
        "optimistic", commission_schedule=US_RETAIL,
        book_model=BookFillModel(latency_ms=(50.0, 50.0), touch_fill_probability=0.0, seed=1),
    )  # fmt: skip


def filled(events: list[OrderEvent]) -> list[tuple[int, float, float]]:
    return [((e.ts_ns - T0) // MS, round(e.price, 2), e.quantity_units) for e in events if isinstance(e, OrderFilled)]


def test_a_market_buy_fills_level_by_level_from_the_book() -> None:
    b = broker()
    b.submit(new_order(0, qty=1_500.0, submitted_ns=T0))
    b.on_book("AAA", market_book(), trades())
    events = b.poll()
    assert isinstance(events[0], OrderAccepted) and events[0].ts_ns == T0 + 50 * MS
    assert filled(events) == [(50, 100.00, 500.0), (50, 100.01, 700.0), (50, 100.02, 300.0)]
    fill = [e for e in events if isinstance(e, OrderFilled)]
    assert [round(f.commission, 2) for f in fill] == [2.5, 3.5, 1.5]  # USD 0.005 a share
    # the depth walked, from the arrival snapshot's mid (99.995): 500 x 0.005 + 700 x 0.015 + 300 x 0.025
    assert sum(f.spread_slippage for f in fill) == pytest.approx(20.5, abs=1e-6)
    assert b.positions["AAA"] == 1_500.0 and b.open_orders() == []


def test_a_market_sell_larger_than_the_book_has_its_rest_cancelled() -> None:
    b = broker()
    b.submit(new_order(0, side=OrderSide.SELL, qty=3_000.0, submitted_ns=T0))
    b.on_book("AAA", market_book())
    events = b.poll()
    assert filled(events) == [(50, 99.99, 800.0), (50, 99.98, 600.0), (50, 99.97, 900.0)]
    cancel = events[-1]
    assert isinstance(cancel, OrderCancelled) and cancel.filled_units == 2_300.0 and cancel.reason == "book_exhausted"


def test_a_resting_bid_fills_after_the_queue_ahead_and_a_stop_is_left_to_the_bars() -> None:
    b = broker()
    b.submit(new_order(0, order_type=OrderType.LIMIT, qty=300.0, limit=99.99, submitted_ns=T0))
    b.submit(new_order(1, side=OrderSide.SELL, order_type=OrderType.STOP, qty=300.0, stop=95.0, submitted_ns=T0))
    b.on_book("AAA", market_book(), trades())
    events = b.poll()
    # 800 ahead trade at 100 ms; the 200 at 200 ms are ours, then 100 of the 500 at 400 ms
    assert filled(events) == [(200, 99.99, 200.0), (400, 99.99, 100.0)]
    assert all(e.spread_slippage == 0.0 for e in events if isinstance(e, OrderFilled))  # maker fills
    (stop,) = b.open_orders()
    assert stop.order_type is OrderType.STOP and stop.status is OrderStatus.SUBMITTED


def test_a_limit_still_resting_at_the_end_of_a_stream_keeps_working() -> None:
    b = broker()
    b.submit(new_order(0, order_type=OrderType.LIMIT, qty=300.0, limit=99.98, submitted_ns=T0))
    b.on_book("AAA", market_book(), trades())
    (working,) = b.open_orders()
    assert working.status is OrderStatus.ACCEPTED and working.filled_units == 0.0
    later = TickArrays(ts=np.array([T0 + 1_000 * MS]), price=np.array([99.97]), size=np.array([10.0]),
                       side=np.array([-1], dtype=np.int8))  # fmt: skip
    b.on_book("AAA", market_book(), later)  # a trade through 99.98 in the next stream
    assert filled(b.poll()) == [(1_000, 99.98, 300.0)]


def test_a_strategy_with_fill_model_book_gets_a_broker_that_fills_from_books() -> None:
    s = strategy(execution_rules={"mock_trading": {"fill_model": "book", "book": {"latency_ms": [20, 20]}}})
    b = SimulatedBroker.for_strategy(s)
    assert b.book_model == BookFillModel(latency_ms=(20.0, 20.0))
    b.submit(new_order(0, qty=100.0, submitted_ns=T0))
    b.on_book("AAA", market_book())
    assert filled(b.poll()) == [(20, 100.00, 100.0)]
    plain = SimulatedBroker.for_strategy(strategy())  # optimistic: from the bars
    assert plain.book_model is None and plain.fill_model.name == "optimistic"
