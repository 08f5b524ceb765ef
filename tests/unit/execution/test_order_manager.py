"""The order manager: a client order id goes out once, broker events go through the state machine into the
log, and after a crash ``reconcile`` re-sends once what was claimed and logged but never reached the broker."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from quantdesk.core.errors import OrderStateError
from quantdesk.domain.order_events import OrderAccepted, OrderDenied, OrderEvent, OrderFilled
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType
from quantdesk.execution.event_log import InMemoryEventLog, JsonlEventLog
from quantdesk.execution.order_manager import OrderManager
from quantdesk.execution.sim_broker import SimulatedBroker
from quantdesk.persistence.live_state import SqliteLiveState

from .kit import SESSION, coid, hour_bar, new_order


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it in the process runs."""


class KilledAtSend:
    """A broker in front of the market whose process dies at the moment it would send ``order_id``."""

    def __init__(self, market: SimulatedBroker, order_id: object) -> None:
        self.market = market
        self.order_id = order_id

    def submit(self, order: Order) -> None:
        if order.client_order_id == self.order_id:
            raise Killed
        self.market.submit(order)

    def __getattr__(self, name: str) -> object:
        return getattr(self.market, name)


def test_a_second_submit_of_the_same_id_never_reaches_the_broker() -> None:
    broker = SimulatedBroker("optimistic")
    manager = OrderManager(broker, InMemoryEventLog())
    assert manager.submit(new_order(0)) is True
    assert manager.submit(new_order(0)) is False
    assert broker.submissions == [coid(0)]
    assert [type(e).__name__ for e in manager.event_log.events()] == ["OrderSubmitted"]
    assert manager.order(coid(0)).status is OrderStatus.SUBMITTED


def test_broker_events_move_the_orders_and_are_logged_in_order() -> None:
    broker = SimulatedBroker("optimistic")
    manager = OrderManager(broker, InMemoryEventLog())
    manager.submit(new_order(0, qty=10.0))
    manager.submit(
        new_order(1, order_type=OrderType.LIMIT, limit=90.0, qty=10.0, submitted_ns=new_order(0).submitted_ns)
    )
    broker.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))
    applied = manager.process()
    assert [type(e).__name__ for e in applied] == ["OrderAccepted", "OrderAccepted", "OrderFilled"]
    filled = manager.order(coid(0))
    assert (filled.status, filled.filled_units, filled.average_price) == (OrderStatus.FILLED, 10.0, 100.0)
    assert [o.client_order_id for o in manager.open_orders()] == [coid(1)]
    assert manager.cancel(coid(1))
    manager.process()
    assert [o.status for o in manager.closed_orders()] == [OrderStatus.FILLED, OrderStatus.CANCELLED]
    assert [type(e).__name__ for e in manager.event_log.events()] == [
        "OrderSubmitted",
        "OrderSubmitted",
        "OrderAccepted",
        "OrderAccepted",
        "OrderFilled",
        "OrderCancelled",
    ]
    with pytest.raises(OrderStateError, match="is cancelled, no longer working"):
        manager.cancel(coid(1))


def test_a_denied_order_is_logged_and_never_sent() -> None:
    broker = SimulatedBroker("optimistic")
    manager = OrderManager(broker, InMemoryEventLog())
    denied = manager.deny(new_order(0), reason="max_positions", value=3.0, limit=3.0, ts_ns=new_order(0).decided_ns)
    assert denied.status is OrderStatus.DENIED
    assert isinstance(manager.event_log.events()[0], OrderDenied)
    assert manager.submit(new_order(0)) is False
    assert broker.submissions == []


def test_an_id_claimed_by_an_earlier_run_and_known_to_the_broker_is_not_sent_again(tmp_path: Path) -> None:
    broker = SimulatedBroker("optimistic")
    first = OrderManager(broker, InMemoryEventLog(), SqliteLiveState(SESSION, tmp_path / "live.db"))
    first.submit(new_order(0))
    again = OrderManager(broker, InMemoryEventLog(), SqliteLiveState(SESSION, tmp_path / "live.db"))
    assert again.submit(new_order(0)) is False
    assert broker.submissions == [coid(0)]


def test_reconcile_after_a_crash_resends_claimed_but_unsent_orders_once_and_sent_ones_never(tmp_path: Path) -> None:
    market = SimulatedBroker("optimistic")  # the market outlives the session's process
    db, log_path = tmp_path / "live.db", tmp_path / "events.jsonl"
    state = SqliteLiveState(SESSION, db)
    log = JsonlEventLog(log_path)
    manager = OrderManager(KilledAtSend(market, coid(1)), log, state)  # type: ignore[arg-type]
    assert manager.submit(new_order(0, qty=10.0))  # (c) reached the broker
    with pytest.raises(Killed):  # (b) claimed and logged, killed at the broker call
        manager.submit(new_order(1, qty=20.0))
    state.claim_send(coid(2).value)  # (a) killed between the claim and the log
    log.close()
    state.close()

    state = SqliteLiveState(SESSION, db)
    restarted = OrderManager(market, JsonlEventLog(log_path), state)
    report = restarted.reconcile()
    assert report.known_to_broker == (coid(0),)
    assert report.resent == (coid(1),)
    assert report.claimed_not_logged == (coid(2).value,)
    assert market.submissions == [coid(0), coid(1)]
    # the session re-derives its decisions: what was sent is refused, what was claimed but never logged goes out
    assert restarted.submit(new_order(0, qty=10.0)) is False
    assert restarted.submit(new_order(2, qty=30.0)) is True
    assert restarted.reconcile().resent == ()
    assert market.submissions == [coid(0), coid(1), coid(2)]
    market.on_bar("AAA", hour_bar(3, 100.0, 100.5, 99.5, 100.0))
    restarted.process()
    assert {o.client_order_id: (o.status, o.filled_units) for o in restarted.closed_orders()} == {
        coid(0): (OrderStatus.FILLED, 10.0),
        coid(1): (OrderStatus.FILLED, 20.0),
        coid(2): (OrderStatus.FILLED, 30.0),
    }
    assert state.claimed() == {coid(0).value, coid(1).value, coid(2).value}


class ScriptedBroker(SimulatedBroker):
    """A broker whose ``poll`` returns what the test scripts (a broker out of step with the manager)."""

    def __init__(self) -> None:
        super().__init__("optimistic")
        self.script: list[OrderEvent] = []

    def poll(self) -> list[OrderEvent]:
        events, self.script = self.script, []
        return events


def test_an_illegal_event_from_the_broker_raises_and_is_not_logged() -> None:
    broker = ScriptedBroker()
    manager = OrderManager(broker, InMemoryEventLog())
    manager.submit(new_order(0, qty=10.0))
    ts = new_order(0).submitted_ns + 1
    fill = OrderFilled(
        ts_ns=ts,
        client_order_id=coid(0),
        symbol="AAA",
        fill_id="f1",
        side=OrderSide.BUY,
        quantity_units=10.0,
        price=100.0,
        commission=0.0,
        spread_slippage=0.0,
        impact=0.0,
        trade_id=None,
    )
    broker.script = [OrderAccepted(ts_ns=ts, client_order_id=coid(0), symbol="AAA"), fill]
    manager.process()
    broker.script = [replace(fill, fill_id="f2")]  # the same fill reported twice
    with pytest.raises(OrderStateError, match="when the order is filled"):
        manager.process()
    assert [type(e).__name__ for e in manager.event_log.events()] == ["OrderSubmitted", "OrderAccepted", "OrderFilled"]


def test_events_for_orders_this_session_never_sent_are_kept_apart() -> None:
    broker = SimulatedBroker("optimistic")
    manager = OrderManager(broker, InMemoryEventLog())
    broker.submit(new_order(5))  # placed at the broker by hand
    broker.on_bar("AAA", hour_bar(6, 100.0, 100.5, 99.5, 100.0))
    assert manager.process() == []
    assert [type(e).__name__ for e in manager.foreign_events] == ["OrderAccepted", "OrderFilled"]
    assert manager.event_log.events() == []


def test_a_restarted_manager_starts_from_its_log_and_reports_orders_whose_closing_events_were_lost(
    tmp_path: Path,
) -> None:
    market = SimulatedBroker("optimistic")
    log_path = tmp_path / "events.jsonl"
    first = OrderManager(market, JsonlEventLog(log_path), SqliteLiveState(SESSION, tmp_path / "live.db"))
    first.submit(new_order(0, qty=10.0))
    first.submit(new_order(1, order_type=OrderType.LIMIT, limit=90.0, qty=5.0, submitted_ns=new_order(0).submitted_ns))
    market.on_bar("AAA", hour_bar(1, 100.0, 100.5, 99.5, 100.0))
    market.poll()  # polled by the first process, which died before it logged them
    market.on_bar("AAA", hour_bar(2, 100.0, 100.5, 89.0, 100.0))  # the limit fills while no session runs

    restarted = OrderManager(market, JsonlEventLog(log_path), SqliteLiveState(SESSION, tmp_path / "live.db"))
    assert [o.status for o in restarted.open_orders()] == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED]
    with pytest.raises(OrderStateError, match="submit expects a new order"):
        restarted.submit(restarted.open_orders()[0])
    assert restarted.submit(new_order(0, qty=10.0)) is False  # held from the log, before any reconcile
    report = restarted.reconcile()
    assert report.known_to_broker == (coid(0), coid(1))
    assert report.resent == ()
    assert report.not_open_at_broker == (coid(0),)  # its accept and fill were lost; the limit's fill was not
    assert restarted.order(coid(1)).status is OrderStatus.FILLED
    assert market.submissions == [coid(0), coid(1)]
