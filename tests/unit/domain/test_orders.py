"""The trading nouns and events: deterministic ids, JSON-ready dicts, the order status sets."""

from __future__ import annotations

import dataclasses
import json
import math
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantdesk.core.errors import DataError
from quantdesk.domain import (
    ClientOrderId,
    Fill,
    Order,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderKind,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Position,
    PositionSide,
    TimeInForce,
    session_id,
)
from quantdesk.domain.ids import ID_NAMESPACE, derived_id
from quantdesk.domain.order_events import ORDER_EVENT_TYPES

SESSION = session_id("strategy-a", ["AAA", "BBB"], "1d", 1_704_153_600_000_000_000)
T0 = 1_704_229_200_000_000_000  # 2024-01-02T21:00:00Z


def test_the_namespace_is_the_trade_logs_so_existing_ids_do_not_change() -> None:
    trade_log_namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/quantdesk/quantdesk/trade-log")
    assert trade_log_namespace == ID_NAMESPACE
    assert derived_id("instrument/AAA") == str(uuid.uuid5(trade_log_namespace, "instrument/AAA"))


@given(st.text())
def test_derived_id_is_the_standard_uuid5_of_the_name(name: str) -> None:
    assert derived_id(name) == str(uuid.uuid5(ID_NAMESPACE, name))


def test_client_order_id_is_the_same_for_the_same_inputs_and_differs_for_any_other() -> None:
    one = ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.ENTRY)
    assert one == ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.ENTRY, 0)
    assert one.value == str(uuid.uuid5(ID_NAMESPACE, f"{SESSION}/order/AAA/{T0}/entry/0"))
    others = {
        ClientOrderId.derive(session_id("strategy-b", ["AAA", "BBB"], "1d", 1_704_153_600_000_000_000), "AAA", T0,
                             OrderKind.ENTRY),
        ClientOrderId.derive(session_id("strategy-a", ["AAA"], "1d", 1_704_153_600_000_000_000), "AAA", T0,
                             OrderKind.ENTRY),
        ClientOrderId.derive(session_id("strategy-a", ["AAA", "BBB"], "1h", 1_704_153_600_000_000_000), "AAA", T0,
                             OrderKind.ENTRY),
        ClientOrderId.derive(session_id("strategy-a", ["AAA", "BBB"], "1d", 1_704_240_000_000_000_000), "AAA", T0,
                             OrderKind.ENTRY),
        ClientOrderId.derive(SESSION, "BBB", T0, OrderKind.ENTRY),
        ClientOrderId.derive(SESSION, "AAA", T0 + 1, OrderKind.ENTRY),
        ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.EXIT),
        ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.ENTRY, 1),
    }  # fmt: skip
    assert len(others) == 8 and one not in others
    assert str(one) == one.value and len(one.value) == 36


@pytest.mark.parametrize(
    "text", ["", "QD-1", "b4c4887c-e4a1-40da-adae-457f0a8390b7", str(uuid.uuid5(ID_NAMESPACE, "x")).upper()]
)
def test_client_order_id_refuses_text_that_is_not_a_derived_id(text: str) -> None:
    with pytest.raises(DataError, match=r"client_order_id.*expected a quantdesk uuid5.*found"):
        ClientOrderId(text)
    assert ClientOrderId.from_text(text) is None  # a broker's remark that holds none


def test_from_text_reads_the_id_a_remark_holds() -> None:
    one = ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.STOP, 2)
    assert ClientOrderId.from_text(one.value) == one


def _order(**changes: object) -> Order:
    base = Order(
        client_order_id=ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.ENTRY), symbol="AAA",
        kind=OrderKind.ENTRY, side=OrderSide.BUY, order_type=OrderType.LIMIT, time_in_force=TimeInForce.DAY,
        quantity_units=100.0, filled_units=40.0, limit_price=100.1, stop_price=math.nan, average_price=100.05,
        status=OrderStatus.PARTIALLY_FILLED, reason="entry", decided_ns=T0, submitted_ns=T0,
        accepted_ns=T0 + 3_600_000_000_000, closed_ns=None, order_number=3,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_order_to_dict_is_strict_json_with_iso_times_beside_the_nanoseconds() -> None:
    d = _order().to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["client_order_id"] == ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.ENTRY).value
    assert (d["side"], d["order_type"], d["time_in_force"], d["status"], d["kind"]) == (
        "buy", "limit", "DAY", "partially_filled", "entry",
    )  # fmt: skip
    assert d["stop_price"] is None and d["limit_price"] == 100.1
    assert (d["decided_ns"], d["decided_time"]) == (T0, "2024-01-02T21:00:00Z")
    assert d["accepted_time"] == "2024-01-02T22:00:00Z"
    assert (d["closed_ns"], d["closed_time"]) == (None, None)


def test_leaves_units_is_what_a_working_order_still_wants() -> None:
    assert _order().leaves_units == 60.0
    assert _order(status=OrderStatus.CANCELLED, closed_ns=T0 + 1).leaves_units == 0.0
    assert {s for s in OrderStatus if s.is_open} == {
        OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED,
    }  # fmt: skip


def test_evolve_is_dataclasses_replace_for_every_field() -> None:
    order = _order()
    other = _order(status=OrderStatus.CANCELLED, closed_ns=T0 + 7)
    changes = {
        "client_order_id": ClientOrderId.derive(SESSION, "BBB", T0, OrderKind.EXIT), "symbol": "BBB",
        "kind": OrderKind.EXIT, "side": OrderSide.SELL, "order_type": OrderType.STOP, "time_in_force": TimeInForce.GTC,
        "quantity_units": 7.0, "filled_units": 3.0, "limit_price": 1.5, "stop_price": 2.5, "average_price": 3.5,
        "status": OrderStatus.FILLED, "reason": "stop_loss", "decided_ns": 1, "submitted_ns": 2, "accepted_ns": 3,
        "closed_ns": 4, "order_number": 9,
    }  # fmt: skip
    assert set(changes) == {f.name for f in dataclasses.fields(Order)}
    for name, value in changes.items():
        evolved = order.evolve(**{name: value})
        assert evolved == dataclasses.replace(order, **{name: value}) and getattr(evolved, name) == value
    assert order.evolve(**changes) == dataclasses.replace(order, **changes)
    assert other.evolve() == other and other.evolve() is not other
    with pytest.raises(TypeError, match=r"Order\.evolve: no field colour"):
        order.evolve(colour="red")


def test_nouns_and_events_are_frozen() -> None:
    order = _order()
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.filled_units = 100.0  # type: ignore[misc]
    event = OrderAccepted(ts_ns=T0, client_order_id=order.client_order_id, symbol="AAA")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.ts_ns = 0  # type: ignore[misc]


def test_every_event_names_itself_and_round_trips_through_json() -> None:
    coid = ClientOrderId.derive(SESSION, "AAA", T0, OrderKind.ENTRY)
    base = {"ts_ns": T0, "client_order_id": coid, "symbol": "AAA"}
    fill = Fill(fill_id=derived_id(f"{coid}/fill/0"), client_order_id=coid, symbol="AAA", ts_ns=T0, side=OrderSide.SELL,
                quantity_units=40.0, price=99.5, reference_price=99.6, commission=1.0, spread_slippage=4.0,
                impact=0.0, reason="signal_exit", trade_id=None)  # fmt: skip
    events = [
        OrderSubmitted(**base, kind=OrderKind.ENTRY, side=OrderSide.BUY, order_type=OrderType.MARKET,
                       time_in_force=TimeInForce.GTC, quantity_units=0.0, limit_price=math.nan, stop_price=math.nan,
                       reason="entry"),
        OrderAccepted(**base),
        OrderRejected(**base, reason="insufficient buying power"),
        OrderDenied(**base, reason="max_positions", value=1.0, limit=1.0),
        OrderFilled.from_fill(fill),
        OrderCancelled(**base, filled_units=40.0),
        OrderExpired(**base, filled_units=0.0),
        OrderAmended(**base, quantity_units=40.0, limit_price=math.nan, stop_price=98.0),
    ]  # fmt: skip
    assert [type(e) for e in events] == list(ORDER_EVENT_TYPES)
    for e in events:
        d = e.to_dict()
        assert d["event"] == type(e).__name__
        assert (d["ts_ns"], d["ts_time"], d["client_order_id"], d["symbol"]) == (T0, "2024-01-02T21:00:00Z",
                                                                                  coid.value, "AAA")  # fmt: skip
        assert json.loads(json.dumps(d, allow_nan=False)) == d
    filled = events[4].to_dict()
    assert (filled["side"], filled["quantity_units"], filled["price"], filled["trade_id"]) == ("sell", 40.0, 99.5, None)
    assert fill.signed_units == -40.0


def test_a_short_position_has_negative_signed_units() -> None:
    p = Position(symbol="AAA", side=PositionSide.SHORT, quantity_units=30.0, average_price=100.0, mark_price=95.0,
                 pnl=150.0, ts_ns=T0, opened_ns=T0 - 1, trade_id=derived_id("t"))  # fmt: skip
    assert p.signed_units == -30.0
    assert p.to_dict()["side"] == "short"
