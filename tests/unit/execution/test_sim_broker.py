"""The simulated paper broker fills from bars with the kernel's rules and costs: arrival on a later bar,
market at the open with the fill model's costs, limits traded through, stops, DAY, IOC, FOK and latency."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.backtest.costs import US_RETAIL, CommissionSchedule
from quantdesk.backtest.settings import kernel_params
from quantdesk.core.timestamps import NS_PER_HOUR, NS_PER_MINUTE
from quantdesk.domain.ids import OrderKind
from quantdesk.domain.order_events import (
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from quantdesk.domain.orders import OrderSide, OrderType, TimeInForce
from quantdesk.execution.sim_broker import SimulatedBroker, cost_params
from quantdesk.kernels import portfolio_layout as L
from quantdesk.kernels.fills import commission, marketable_price
from quantdesk.strategy.templates import load_template

from .kit import T0, coid, hour_bar, new_order

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def names(events: list[OrderEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def fills(events: list[OrderEvent]) -> list[OrderFilled]:
    return [e for e in events if isinstance(e, OrderFilled)]


def test_a_market_order_fills_at_the_next_bars_open_with_the_realistic_costs_the_kernel_computes() -> None:
    broker = SimulatedBroker("realistic", commission_schedule=US_RETAIL)
    broker.on_bar("AAA", hour_bar(0, 99.0, 100.5, 98.5, 100.0))
    broker.submit(new_order(1, qty=20_000.0))  # decided at bar 0's close
    assert broker.poll() == []
    evidence = {"sigma_bar": 0.01, "sigma_daily": 0.02, "adv": 1_000_000.0}
    broker.on_bar("AAA", hour_bar(1, 100.0, 101.0, 99.0, 100.5, volume=1_000_000.0, **evidence))
    events = broker.poll()
    assert names(events) == ["OrderAccepted", "OrderFilled"]
    assert events[0].ts_ns == T0 + NS_PER_HOUR
    (f,) = fills(events)
    # by hand: 1 bp + 0.1 x 1 % slippage, 0.5 x 2 % x sqrt(2 %) impact: 100 x 1.0025142 up to the cent
    assert f.price == 100.26
    assert f.impact == pytest.approx(20_000 * 100.0 * 0.5 * 0.02 * math.sqrt(0.02))  # 2828.43
    assert f.spread_slippage == pytest.approx(20_000 * 0.26 - f.impact)  # 2371.57
    assert f.commission == pytest.approx(100.0)  # USD 0.005 a share
    # and exactly what the kernel computes with a strategy's own parameters for that bar
    strategy = load_template("ema_cross")
    p = kernel_params(strategy, initial_cash=1e6)
    p[L.P_COMM_RATE], p[L.P_COMM_PER_SHARE], p[L.P_COMM_MIN], p[L.P_COMM_MAX_FRAC] = 0.0, 0.005, 1.0, 0.01
    price, spread, impact = marketable_price(1, 100.0, 20_000.0, 0.01, 0.02, 1_000_000.0, 0.01, p)
    assert (f.price, f.spread_slippage, f.impact, f.commission) == (
        price,
        spread,
        impact,
        commission(20_000.0, price, p),
    )


def test_the_broker_for_a_strategy_reads_the_cost_slots_the_backtest_reads() -> None:
    strategy = load_template("ema_cross")
    broker = SimulatedBroker.for_strategy(strategy)
    kernel = kernel_params(strategy, initial_cash=1e6)
    mine = cost_params(broker.fill_model, broker.commission_schedule)
    slots = [
        L.P_HALF_SPREAD,
        L.P_SLIP_COEF,
        L.P_IMPACT_COEF,
        L.P_IMPACT_THRESHOLD,
        L.P_PARTICIPATION,
        L.P_THROUGH_TICKS,
        L.P_COMM_RATE,
        L.P_COMM_PER_SHARE,
        L.P_COMM_FIXED,
        L.P_COMM_MIN,
        L.P_COMM_MAX_FRAC,
    ]
    np.testing.assert_array_equal(mine[slots], kernel[slots])
    assert broker.partial_fills is (strategy.execution_rules.partial_fills == "accept")


def test_a_buy_limit_fills_at_the_limit_only_when_the_bar_trades_through_it() -> None:
    broker = SimulatedBroker("realistic", commission_schedule=CommissionSchedule(rate=0.001))
    broker.submit(new_order(0, order_type=OrderType.LIMIT, limit=99.0, qty=100.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.0, 100.2))  # touches 99.00, does not trade through
    assert names(broker.poll()) == ["OrderAccepted"]
    broker.on_bar("AAA", hour_bar(2, 99.8, 100.0, 98.9, 99.5))
    (f,) = fills(broker.poll())
    assert (f.price, f.spread_slippage, f.impact, f.ts_ns) == (99.0, 0.0, 0.0, T0 + 2 * NS_PER_HOUR)
    assert f.commission == pytest.approx(0.001 * 100 * 99.0)
    assert broker.open_orders() == []


def test_a_limit_the_open_is_better_than_fills_at_the_open_with_costs_bounded_by_the_limit() -> None:
    broker = SimulatedBroker("pessimistic")  # 2 bp half spread
    broker.submit(new_order(0, order_type=OrderType.LIMIT, limit=100.01, qty=10.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.2))
    (f,) = fills(broker.poll())
    assert f.price == 100.01  # 100.02 with costs, held to the limit
    assert f.spread_slippage == pytest.approx(0.1)


def test_a_pessimistic_resting_limit_needs_one_tick_through() -> None:
    broker = SimulatedBroker("pessimistic")
    broker.submit(new_order(0, side=SELL, order_type=OrderType.LIMIT, limit=101.0, qty=10.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 101.01, 99.5, 100.2))  # one tick over: not through by one tick
    assert fills(broker.poll()) == []
    broker.on_bar("AAA", hour_bar(2, 100.0, 101.02, 99.5, 100.2))
    assert [f.price for f in fills(broker.poll())] == [101.0]


def test_a_stop_fills_at_the_stop_when_touched_and_at_the_open_when_gapped() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, side=SELL, kind=OrderKind.EXIT, order_type=OrderType.STOP, stop=95.0, qty=10.0))
    broker.submit(
        new_order(1, side=SELL, kind=OrderKind.EXIT, order_type=OrderType.STOP, stop=97.0, qty=10.0, submitted_ns=T0)
    )
    broker.on_bar("AAA", hour_bar(1, 96.0, 96.5, 94.5, 95.5))  # 95 touched; 97 gapped through at the open
    by_id = {f.client_order_id: f.price for f in fills(broker.poll())}
    assert by_id == {coid(0, OrderKind.EXIT): 95.0, coid(1, OrderKind.EXIT): 96.0}


def test_a_stop_limit_triggered_beyond_its_limit_rests_at_the_limit() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, order_type=OrderType.STOP_LIMIT, stop=101.0, limit=101.5, qty=10.0))
    broker.on_bar("AAA", hour_bar(1, 102.0, 102.5, 101.6, 102.2))  # gaps over the stop and the limit
    assert fills(broker.poll()) == []
    broker.on_bar("AAA", hour_bar(2, 101.9, 102.0, 101.2, 101.4))  # trades through 101.50
    assert [f.price for f in fills(broker.poll())] == [101.5]


def test_a_day_order_expires_when_the_session_day_changes() -> None:
    broker = SimulatedBroker("optimistic")
    broker.on_bar("AAA", hour_bar(0, 100.0, 100.5, 99.5, 100.0))
    broker.submit(new_order(1, order_type=OrderType.LIMIT, tif=TimeInForce.DAY, limit=95.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))  # same day, not reached
    assert names(broker.poll()) == ["OrderAccepted"]
    next_day = hour_bar(24, 96.0, 96.5, 90.0, 92.0)  # 2024-01-03: it would fill here, but it is a new day
    broker.on_bar("AAA", next_day)
    events = broker.poll()
    assert names(events) == ["OrderExpired"]
    assert (events[0].ts_ns, events[0].filled_units) == (next_day.ts_ns, 0.0)
    assert broker.open_orders() == []


def test_an_ioc_order_fills_what_the_bar_allows_and_the_rest_is_cancelled() -> None:
    broker = SimulatedBroker("realistic")  # participation 10 % of the bar's volume
    broker.submit(new_order(0, tif=TimeInForce.IOC, qty=250.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0, volume=1_000.0))
    events = broker.poll()
    assert names(events) == ["OrderAccepted", "OrderFilled", "OrderCancelled"]
    assert events[1].quantity_units == 100.0
    assert events[2].filled_units == 100.0


def test_an_ioc_limit_does_not_rest_for_the_bar_to_trade_through() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, order_type=OrderType.LIMIT, tif=TimeInForce.IOC, limit=99.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 98.0, 100.0))
    assert names(broker.poll()) == ["OrderAccepted", "OrderCancelled"]


def test_a_fok_order_fills_all_or_nothing() -> None:
    broker = SimulatedBroker("realistic")
    broker.submit(new_order(0, tif=TimeInForce.FOK, qty=250.0))
    broker.submit(new_order(1, tif=TimeInForce.FOK, qty=80.0, submitted_ns=T0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0, volume=1_000.0))
    events = broker.poll()
    assert names(events) == ["OrderAccepted", "OrderAccepted", "OrderCancelled", "OrderFilled"]
    assert (events[2].client_order_id, events[2].filled_units) == (coid(0), 0.0)
    assert (events[3].client_order_id, events[3].quantity_units) == (coid(1), 80.0)


def test_a_gtc_order_larger_than_the_cap_fills_over_several_bars() -> None:
    broker = SimulatedBroker("realistic")
    broker.submit(new_order(0, qty=250.0))
    for k in (1, 2, 3):
        broker.on_bar("AAA", hour_bar(k, 100.0, 100.5, 99.5, 100.0, volume=1_000.0))
    assert [f.quantity_units for f in fills(broker.poll())] == [100.0, 100.0, 50.0]
    unfilled_waits = SimulatedBroker("realistic", partial_fills=False)
    unfilled_waits.submit(new_order(0, qty=250.0))
    unfilled_waits.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0, volume=1_000.0))
    unfilled_waits.on_bar("AAA", hour_bar(2, 100.0, 100.5, 99.5, 100.0, volume=3_000.0))
    assert [(f.ts_ns, f.quantity_units) for f in fills(unfilled_waits.poll())] == [(T0 + 2 * NS_PER_HOUR, 250.0)]


def test_latency_delays_the_arrival_to_the_first_bar_at_or_after_it() -> None:
    broker = SimulatedBroker("optimistic", latency_ns=90 * NS_PER_MINUTE)
    broker.on_bar("AAA", hour_bar(0, 100.0, 100.5, 99.5, 100.0))
    broker.submit(new_order(1))  # sent at bar 0's close (T0 + 1 h): ready at T0 + 2.5 h
    broker.on_bar("AAA", hour_bar(1, 101.0, 101.5, 100.5, 101.0))
    broker.on_bar("AAA", hour_bar(2, 102.0, 102.5, 101.5, 102.0))
    assert broker.poll() == []
    broker.on_bar("AAA", hour_bar(3, 103.0, 103.5, 102.5, 103.0))
    events = broker.poll()
    assert names(events) == ["OrderAccepted", "OrderFilled"]
    assert (events[0].ts_ns, events[1].price) == (T0 + 3 * NS_PER_HOUR, 103.0)


def test_a_stop_that_flattens_the_position_cancels_its_target() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, qty=10.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))
    broker.submit(new_order(1, kind=OrderKind.STOP, side=SELL, order_type=OrderType.STOP, stop=98.0, qty=10.0))
    broker.submit(new_order(1, kind=OrderKind.TARGET, side=SELL, order_type=OrderType.LIMIT, limit=103.0, qty=10.0))
    broker.on_bar("AAA", hour_bar(2, 99.0, 104.0, 97.0, 100.0))  # both reached: the stop is assumed first
    events = broker.poll()
    assert names(events)[-4:] == ["OrderAccepted", "OrderAccepted", "OrderFilled", "OrderCancelled"]
    assert (events[-2].client_order_id, events[-2].price) == (coid(1, OrderKind.STOP), 98.0)
    assert events[-1].client_order_id == coid(1, OrderKind.TARGET)
    assert broker.positions == {"AAA": 0.0}
    assert broker.open_orders() == []


def test_a_stop_is_tried_before_a_target_sent_earlier() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, qty=10.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))
    broker.submit(new_order(1, kind=OrderKind.TARGET, side=SELL, order_type=OrderType.LIMIT, limit=103.0, qty=10.0))
    broker.submit(new_order(1, kind=OrderKind.STOP, side=SELL, order_type=OrderType.STOP, stop=98.0, qty=10.0))
    broker.on_bar("AAA", hour_bar(2, 99.0, 104.0, 97.0, 100.0))
    (_, exit_fill) = fills(broker.poll())
    assert (exit_fill.client_order_id, exit_fill.price) == (coid(1, OrderKind.STOP), 98.0)


def test_a_target_gapped_through_fills_at_the_open_without_spread_as_in_the_kernel() -> None:
    broker = SimulatedBroker("realistic")
    broker.submit(new_order(0, kind=OrderKind.TARGET, side=SELL, order_type=OrderType.LIMIT, limit=103.0, qty=10.0))
    broker.on_bar("AAA", hour_bar(1, 104.0, 104.5, 103.5, 104.0, sigma_bar=0.01))
    (f,) = fills(broker.poll())
    assert (f.price, f.spread_slippage) == (104.0, 0.0)


def test_a_modified_stop_fills_at_its_new_price_and_cancel_closes_an_order() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, kind=OrderKind.STOP, side=SELL, order_type=OrderType.STOP, stop=95.0, qty=10.0))
    broker.submit(new_order(1, order_type=OrderType.LIMIT, limit=90.0, qty=10.0, submitted_ns=T0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))
    assert broker.modify(coid(0, OrderKind.STOP), stop_price=99.0)
    assert broker.cancel(coid(1))
    assert not broker.cancel(coid(1))
    broker.on_bar("AAA", hour_bar(2, 99.6, 99.8, 98.5, 99.0))
    events = broker.poll()
    assert names(events) == ["OrderAccepted", "OrderAccepted", "OrderAmended", "OrderCancelled", "OrderFilled"]
    assert isinstance(events[2], OrderAmended) and events[2].stop_price == 99.0
    assert isinstance(events[3], OrderCancelled) and events[3].ts_ns == T0 + NS_PER_HOUR
    assert events[4].price == 99.0


def test_an_order_without_its_price_is_rejected_and_a_resend_of_a_known_id_is_ignored() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, order_type=OrderType.LIMIT))  # no limit price
    broker.submit(new_order(0, order_type=OrderType.LIMIT, limit=99.0))
    events = broker.poll()
    assert len(events) == 1 and isinstance(events[0], OrderRejected)
    assert "needs a positive limit price, found nan" in events[0].reason
    assert broker.submissions == [coid(0), coid(0)]
    assert broker.known(coid(0)) and not broker.known(coid(1))
    broker.on_bar("AAA", hour_bar(1, 98.0, 98.5, 97.5, 98.0))
    assert broker.poll() == []


def test_orders_of_another_instrument_wait_for_its_bars() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, symbol="BBB"))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))
    assert broker.poll() == []
    broker.on_bar("BBB", hour_bar(1, 50.0, 50.5, 49.5, 50.0))
    assert [type(e) for e in broker.poll()] == [OrderAccepted, OrderFilled]


def test_expired_and_cancelled_events_are_the_only_closes_of_working_orders() -> None:
    broker = SimulatedBroker("optimistic")
    broker.submit(new_order(0, order_type=OrderType.LIMIT, tif=TimeInForce.DAY, limit=50.0))
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))
    broker.on_bar("AAA", hour_bar(2, 100.0, 100.5, 99.5, 100.0))
    assert [type(e) for e in broker.poll()] == [OrderAccepted]
    broker.on_bar("AAA", hour_bar(30, 100.0, 100.5, 99.5, 100.0))
    assert [type(e) for e in broker.poll()] == [OrderExpired]
