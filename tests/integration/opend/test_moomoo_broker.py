"""The moomoo adapter's broker through quantdesk's ``Broker`` interface, against the emulator's broker with the real
SDK in between: orders placed in SIMULATE with the client order id as remark, fills and cancels reported as order
events in an order the order manager accepts (also when pushes are delayed and reordered), modify as OrderAmended,
a broker refusal as OrderRejected with its reason, and a restarted adapter that finds its orders by remark and
never sends one twice."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from quantdesk.core.errors import BrokerUnavailableError, ConfigError
from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.order_events import (
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderEvent,
    OrderFilled,
    OrderRejected,
)
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quantdesk.execution.event_log import InMemoryEventLog
from quantdesk.execution.moomoo.broker import MoomooBroker
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.moomoo.live import Secret, TradingEnv
from quantdesk.execution.order_manager import OrderManager
from quantdesk.opend_emulator.server import Emulator
from quantdesk.opend_emulator.trade_handlers import register_trading
from quantdesk.opend_emulator.trading import Broker
from tests.integration.opend.test_trading import FixedBooks


@pytest.fixture
def desk(emulator: Emulator) -> Iterator[tuple[Emulator, Broker, FixedBooks]]:
    books = FixedBooks()
    broker = Broker(books, starting_cash_usd=1_000_000.0)
    register_trading(emulator, broker)
    yield emulator, broker, books


def _order(n: int, *, side: OrderSide = OrderSide.BUY, otype: OrderType = OrderType.LIMIT, qty: float = 100.0,
           limit: float = 189.50, symbol: str = "AAPL") -> Order:  # fmt: skip
    coid = ClientOrderId.derive("adapter-test", symbol, 1_700_000_000_000_000_000 + n, OrderKind.ENTRY)
    return Order(
        client_order_id=coid, symbol=symbol, kind=OrderKind.ENTRY, side=side, order_type=otype,
        time_in_force=TimeInForce.DAY, quantity_units=qty, filled_units=0.0,
        limit_price=limit if otype is OrderType.LIMIT else math.nan, stop_price=math.nan, average_price=math.nan,
        status=OrderStatus.NEW, reason="entry", decided_ns=0, submitted_ns=0, accepted_ns=None, closed_ns=None,
    )  # fmt: skip


def _events(source: MoomooBroker | OrderManager, until: Callable[[list[OrderEvent]], bool],
            timeout_s: float = 5.0) -> list[OrderEvent]:  # fmt: skip
    """The events ``source`` reports (the broker's ``poll``, or the manager's ``process``, which applies them
    through the state machine) until ``until`` holds."""
    got: list[OrderEvent] = []
    deadline = time.monotonic() + timeout_s
    while not until(got):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; events so far: {got}")
        got += source.poll() if isinstance(source, MoomooBroker) else source.process()
        time.sleep(0.02)
    return got


def test_orders_fills_amends_and_cancels_become_order_events(sdk: ModuleType, desk: tuple) -> None:
    emu, broker, _books = desk
    with Gateway(port=emu.port) as gateway:
        mb = MoomooBroker(gateway)
        manager = OrderManager(mb, InMemoryEventLog())
        resting, market = _order(1), _order(2, otype=OrderType.MARKET, qty=450.0)
        assert manager.submit(resting) and manager.submit(market)
        # the market order walks the book: 200 @ 190.02 and 250 @ 190.03
        evs = _events(manager, lambda e: sum(isinstance(x, OrderFilled) for x in e) >= 2)
        fills = [e for e in evs if isinstance(e, OrderFilled)]
        assert [(f.quantity_units, f.price) for f in fills] == [(200.0, 190.02), (250.0, 190.03)]
        assert all(f.client_order_id == market.client_order_id for f in fills)
        kinds = [type(e) for e in evs if e.client_order_id == market.client_order_id]
        assert kinds[0] is OrderAccepted  # accepted before its first fill
        assert manager.order(market.client_order_id).status is OrderStatus.FILLED
        assert manager.order(resting.client_order_id).status is OrderStatus.ACCEPTED
        # the resting order: its remark is its client order id at the broker
        held = [o for o in broker.orders.values() if o.remark == str(resting.client_order_id)]
        assert len(held) == 1 and held[0].qty == 100.0
        assert manager.modify(resting.client_order_id, limit_price=189.60)
        assert manager.cancel(resting.client_order_id)
        evs = _events(manager, lambda e: any(isinstance(x, OrderCancelled) for x in e))
        assert next(type(e) for e in evs) is OrderAmended
        assert manager.order(resting.client_order_id).status is OrderStatus.CANCELLED
        assert manager.order(resting.client_order_id).limit_price == 189.60


def test_a_refusal_is_an_order_rejected_with_the_brokers_reason(sdk: ModuleType, desk: tuple) -> None:
    emu, broker, _ = desk
    with Gateway(port=emu.port) as gateway:
        mb = MoomooBroker(gateway)
        emu.call(broker.reject_next, 1, "emulated risk check: order too large")
        order = _order(3)
        mb.submit(order)
        evs = _events(mb, lambda e: any(isinstance(x, OrderRejected) for x in e))
        rejected = [e for e in evs if isinstance(e, OrderRejected)]
        assert len(rejected) == 1 and "emulated risk check: order too large" in rejected[0].reason
        assert not any(isinstance(e, OrderAccepted) for e in evs)
        odd = _order(4, qty=10.5)  # not a whole lot
        mb.submit(odd)
        evs = _events(mb, lambda e: any(isinstance(x, OrderRejected) for x in e))
        assert "lot" in next(e for e in evs if isinstance(e, OrderRejected)).reason


def test_a_restarted_adapter_finds_its_orders_by_remark_and_sends_none_twice(sdk: ModuleType, desk: tuple) -> None:
    emu, broker, _ = desk
    order = _order(5)
    with Gateway(port=emu.port) as gateway:
        MoomooBroker(gateway).submit(order)
    with Gateway(port=emu.port) as gateway:  # a new process: nothing in memory
        again = MoomooBroker(gateway)
        assert again.known(order.client_order_id)
        assert not again.known(_order(6).client_order_id)
        again.submit(order)  # a restarted session re-derives the same decision
        assert sum(o.remark == str(order.client_order_id) for o in broker.orders.values()) == 1
        assert [o.client_order_id for o in again.open_orders()] == [order.client_order_id]


def test_delayed_and_reordered_pushes_still_give_fills_before_the_cancel(sdk: ModuleType, desk: tuple) -> None:
    emu, broker, books = desk
    with Gateway(port=emu.port) as gateway:
        mb = MoomooBroker(gateway)
        manager = OrderManager(mb, InMemoryEventLog())

        def faults() -> None:
            emu.faults.push_delay_s = 0.3
            emu.faults.reorder_pushes = True
            emu.faults.seed = 3

        emu.call(faults)
        order = _order(7, limit=190.02, qty=500.0)  # 200 cross now, the rest rests
        assert manager.submit(order)
        time.sleep(0.1)
        books.set("US.AAPL", [(190.00, 300.0)], [(190.01, 150.0), (190.02, 100.0)])
        emu.call(broker.on_market, "US.AAPL")  # 250 more fill at its limit
        time.sleep(0.1)
        assert manager.cancel(order.client_order_id)
        # the state machine takes them (it raises on a fill after the cancel): accepted, fills, then the cancel
        evs = _events(manager, lambda e: any(isinstance(x, OrderCancelled) for x in e), timeout_s=8.0)
        done = manager.order(order.client_order_id)
        assert done.status is OrderStatus.CANCELLED and done.filled_units == 450.0
        cancelled = [e for e in evs if isinstance(e, OrderCancelled)]
        assert cancelled[0].filled_units == 450.0


def test_no_code_path_reaches_the_real_environment_in_a_test(sdk: ModuleType, desk: tuple) -> None:
    emu, broker, _ = desk
    with Gateway(port=emu.port) as gateway:
        # the broker asks for every opt-in itself: under pytest REAL is refused before any packet leaves
        before = list(emu.requests)
        with pytest.raises(ConfigError, match="refused in a test run"):
            MoomooBroker(gateway, env=TradingEnv.REAL, password=Secret("123456"))
        assert 2005 not in emu.requests[len(before) :] and 2202 not in emu.requests[len(before) :]
        # and the SDK itself, called straight, meets the emulator's refusal
        ctx = gateway.trade("US")
        ret, msg = ctx.place_order(price=190.0, qty=1, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                                   order_type=sdk.OrderType.NORMAL, trd_env=sdk.TrdEnv.REAL)  # fmt: skip
        assert ret == sdk.RET_ERROR and "REAL environment are refused" in msg and not broker.orders


def test_a_placement_opend_never_answered_is_sent_by_the_next_submit_once(
    sdk: ModuleType, desk: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, broker, _ = desk
    with Gateway(port=emu.port) as gateway:
        mb = MoomooBroker(gateway)
        real_place = mb.ctx.place_order
        calls: list[int] = []

        def flaky(**kwargs: object) -> object:
            calls.append(1)
            if len(calls) <= 3:
                return sdk.RET_ERROR, "Connection lost"
            return real_place(**kwargs)

        monkeypatch.setattr(mb.ctx, "place_order", flaky)
        monkeypatch.setattr("quantdesk.execution.moomoo.broker.time.sleep", lambda _s: None)
        order = _order(950)
        with pytest.raises(BrokerUnavailableError, match="did not answer three times"):
            mb.submit(order)
        assert not broker.orders and not mb.known(order.client_order_id)  # not lost: not placed, and known so
        mb.submit(order)  # the manager sends it again: the remark is looked for first, then it goes, once
        mb.submit(order)
        assert len(calls) == 4
        assert sum(o.remark == str(order.client_order_id) for o in broker.orders.values()) == 1
        assert mb.known(order.client_order_id)
