"""The order state machine: its table, every legal transition, illegal ones refused, fills accumulated."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest

from quantdesk.core.errors import OrderStateError
from quantdesk.domain.order_events import (
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from quantdesk.domain.orders import Order, OrderSide, OrderStatus
from quantdesk.execution.state_machine import FINAL_STATUSES, TRANSITIONS, transition

from .kit import T0, new_order

S = OrderStatus
ORDER = new_order(qty=100.0)
ID = ORDER.client_order_id


def at(status: OrderStatus, filled: float = 0.0, average: float = math.nan) -> Order:
    return replace(ORDER, status=status, filled_units=filled, average_price=average)


def fill(qty: float, price: float, ts: int = T0 + 1, side: OrderSide = OrderSide.BUY) -> OrderFilled:
    return OrderFilled(
        ts_ns=ts,
        client_order_id=ID,
        symbol="AAA",
        fill_id=f"f{ts}",
        side=side,
        quantity_units=qty,
        price=price,
        commission=1.0,
        spread_slippage=0.0,
        impact=0.0,
        trade_id=None,
    )


def event_of(kind: type[OrderEvent], filled: float = 0.0) -> OrderEvent:
    base = {"ts_ns": T0 + 5, "client_order_id": ID, "symbol": "AAA"}
    if kind is OrderSubmitted:
        return OrderSubmitted(
            **base,
            kind=ORDER.kind,
            side=ORDER.side,
            order_type=ORDER.order_type,
            time_in_force=ORDER.time_in_force,
            quantity_units=100.0,
            limit_price=math.nan,
            stop_price=math.nan,
            reason="entry",
        )
    if kind is OrderDenied:
        return OrderDenied(**base, reason="max_positions", value=3.0, limit=3.0)
    if kind is OrderRejected:
        return OrderRejected(**base, reason="market closed")
    if kind is OrderFilled:
        return fill(10.0, 50.0, T0 + 5)
    if kind in (OrderCancelled, OrderExpired):
        return kind(**base, filled_units=filled)
    if kind is OrderAmended:
        return OrderAmended(**base, quantity_units=120.0, limit_price=math.nan, stop_price=49.0)
    return kind(**base)


def test_the_table_is_the_documented_one() -> None:
    table = {(s.value, e.__name__): sorted(x.value for x in to) for (s, e), to in TRANSITIONS.items()}
    working = ("submitted", "accepted", "partially_filled")
    expected = {
        ("new", "OrderSubmitted"): ["submitted"],
        ("new", "OrderDenied"): ["denied"],
        ("submitted", "OrderAccepted"): ["accepted"],
        ("submitted", "OrderRejected"): ["rejected"],
        **{(w, "OrderFilled"): ["filled", "partially_filled"] for w in working},
        **{(w, "OrderCancelled"): ["cancelled"] for w in working},
        **{(w, "OrderExpired"): ["expired"] for w in working},
        **{(w, "OrderAmended"): [w] for w in working},
    }
    assert table == expected
    assert not any(s in FINAL_STATUSES for s, _ in TRANSITIONS)


@pytest.mark.parametrize(
    ("status", "kind"),
    sorted(TRANSITIONS, key=lambda k: (k[0].value, k[1].__name__)),
    ids=lambda x: getattr(x, "value", getattr(x, "__name__", "")),
)
def test_every_legal_transition_lands_in_its_table_row(status: OrderStatus, kind: type[OrderEvent]) -> None:
    filled = 30.0 if status is S.PARTIALLY_FILLED else 0.0
    order = at(status, filled, 50.0 if filled else math.nan)
    after = transition(order, event_of(kind, filled))
    assert after.status in TRANSITIONS[(status, kind)]
    if kind is OrderFilled:
        assert after.status is S.PARTIALLY_FILLED
        assert after.filled_units == filled + 10.0
    if after.status in FINAL_STATUSES:
        assert after.closed_ns == T0 + 5


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (S.CANCELLED, OrderFilled),  # a fill after a cancel
        (S.REJECTED, OrderAccepted),  # an accept after a reject
        (S.FILLED, OrderFilled),
        (S.EXPIRED, OrderCancelled),
        (S.DENIED, OrderSubmitted),
        (S.SUBMITTED, OrderSubmitted),  # the same order sent twice
        (S.ACCEPTED, OrderAccepted),
        (S.ACCEPTED, OrderRejected),
        (S.SUBMITTED, OrderDenied),
        (S.NEW, OrderFilled),  # a fill of an order never sent
        (S.NEW, OrderAccepted),
        (S.FILLED, OrderAmended),
    ],
    ids=lambda x: getattr(x, "value", getattr(x, "__name__", "")),
)
def test_an_illegal_transition_raises_naming_the_order_status_and_event(
    status: OrderStatus, kind: type[OrderEvent]
) -> None:
    with pytest.raises(OrderStateError) as err:
        transition(at(status), event_of(kind))
    assert str(ID) in str(err.value)
    assert f"when the order is {status.value}" in str(err.value)
    assert kind.__name__ in str(err.value)


def test_partial_fills_accumulate_quantity_and_the_volume_weighted_price() -> None:
    order = transition(at(S.SUBMITTED), OrderAccepted(ts_ns=T0, client_order_id=ID, symbol="AAA"))
    order = transition(order, fill(40.0, 10.0, T0 + 1))
    assert (order.status, order.filled_units, order.average_price, order.closed_ns) == (
        S.PARTIALLY_FILLED,
        40.0,
        10.0,
        None,
    )
    assert order.leaves_units == 60.0
    order = transition(order, fill(60.0, 11.0, T0 + 2))
    assert order.status is S.FILLED
    assert order.filled_units == 100.0
    assert order.average_price == pytest.approx(10.6)
    assert order.closed_ns == T0 + 2
    assert order.leaves_units == 0.0


def test_a_fill_beyond_the_quantity_is_illegal() -> None:
    order = transition(at(S.ACCEPTED), fill(40.0, 10.0))
    with pytest.raises(OrderStateError, match=re.escape("would fill 110.0 of an order for 100.0")):
        transition(order, fill(70.0, 10.0))


def test_a_fill_before_the_acceptance_counts_as_accepted_at_that_fill() -> None:
    order = transition(at(S.SUBMITTED), fill(100.0, 10.0, T0 + 9))
    assert (order.status, order.accepted_ns, order.closed_ns) == (S.FILLED, T0 + 9, T0 + 9)


def test_a_fill_on_the_wrong_side_or_instrument_is_illegal() -> None:
    with pytest.raises(OrderStateError, match="a sell fill of a buy order"):
        transition(at(S.ACCEPTED), fill(10.0, 10.0, side=OrderSide.SELL))
    other = replace(fill(10.0, 10.0), symbol="BBB")
    with pytest.raises(OrderStateError, match="for 'BBB', the order for 'AAA'"):
        transition(at(S.ACCEPTED), other)


def test_a_cancel_reporting_other_fills_than_seen_is_illegal() -> None:
    order = transition(at(S.ACCEPTED), fill(40.0, 10.0))
    with pytest.raises(OrderStateError, match=re.escape("reports 0.0 filled, the fills add up to 40.0")):
        transition(order, OrderCancelled(ts_ns=T0 + 3, client_order_id=ID, symbol="AAA", filled_units=0.0))
    done = transition(order, OrderCancelled(ts_ns=T0 + 3, client_order_id=ID, symbol="AAA", filled_units=40.0))
    assert (done.status, done.filled_units, done.closed_ns) == (S.CANCELLED, 40.0, T0 + 3)


def test_an_amend_to_no_more_than_the_filled_quantity_is_illegal() -> None:
    order = transition(at(S.ACCEPTED), fill(40.0, 10.0))
    with pytest.raises(OrderStateError, match=re.escape("new quantity 40.0 is not above the 40.0 filled")):
        transition(
            order,
            OrderAmended(
                ts_ns=T0,
                client_order_id=ID,
                symbol="AAA",
                quantity_units=40.0,
                limit_price=math.nan,
                stop_price=math.nan,
            ),
        )
    moved = transition(
        order,
        OrderAmended(
            ts_ns=T0, client_order_id=ID, symbol="AAA", quantity_units=80.0, limit_price=math.nan, stop_price=9.5
        ),
    )
    assert (moved.status, moved.quantity_units, moved.stop_price) == (S.PARTIALLY_FILLED, 80.0, 9.5)
