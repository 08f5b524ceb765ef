"""A flaky gateway, as a trader who has lost money to one would test it: 120 orders through the order manager and the
moomoo adapter (the real SDK) while the emulator drops every connection five times, restarts once, delays and
reorders its pushes and rejects some orders. Afterwards the adapter's account equals the emulator's (positions and
cash, and both equal what the reported fills add up to), no client order id reached the emulator twice, and every
rejection is an event with its reason."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from types import ModuleType

import pytest

from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.order_events import OrderFilled, OrderRejected
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quantdesk.execution.event_log import InMemoryEventLog
from quantdesk.execution.moomoo.broker import MoomooBroker
from quantdesk.execution.moomoo.gateway import Gateway
from quantdesk.execution.order_manager import OrderManager
from quantdesk.opend_emulator.server import Emulator
from quantdesk.opend_emulator.trade_handlers import register_trading
from quantdesk.opend_emulator.trading import Broker
from tests.integration.opend.test_trading import FixedBooks

CASH_USD = 1_000_000.0
N_ORDERS = 120
DROPS_AT = (15, 35, 55, 75, 95)
RESTART_AT = 60
REJECT_AT = (10, 40, 70, 100, 110)


@pytest.fixture
def desk(emulator: Emulator) -> Iterator[tuple[Emulator, Broker, FixedBooks]]:
    books = FixedBooks()
    broker = Broker(books, starting_cash_usd=CASH_USD)
    register_trading(emulator, broker)
    yield emulator, broker, books


def _book(rng: random.Random, mid: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    bid = round(mid - 0.01 * rng.randint(1, 3), 2)
    ask = round(mid + 0.01 * rng.randint(1, 3), 2)
    bids = [(round(bid - 0.01 * k, 2), float(rng.randint(1, 4) * 100)) for k in range(4)]
    asks = [(round(ask + 0.01 * k, 2), float(rng.randint(1, 4) * 100)) for k in range(4)]
    return bids, asks


def _order(k: int, symbol: str, side: OrderSide, otype: OrderType, qty: float, limit: float) -> Order:
    coid = ClientOrderId.derive("fault-soak", symbol, 1_700_000_000_000_000_000 + k * 60_000_000_000, OrderKind.ENTRY)
    return Order(
        client_order_id=coid, symbol=symbol, kind=OrderKind.ENTRY, side=side, order_type=otype,
        time_in_force=TimeInForce.DAY, quantity_units=qty, filled_units=0.0,
        limit_price=limit if otype is OrderType.LIMIT else math.nan, stop_price=math.nan, average_price=math.nan,
        status=OrderStatus.NEW, reason="entry", decided_ns=0, submitted_ns=0, accepted_ns=None, closed_ns=None,
    )  # fmt: skip


def test_a_flaky_gateway_loses_no_order_sends_none_twice_and_ends_equal_to_the_broker(
    sdk: ModuleType, desk: tuple[Emulator, Broker, FixedBooks]
) -> None:
    emu, broker, books = desk
    rng = random.Random(17)
    mids = {"AAPL": 190.0, "MSFT": 410.0}

    def faults() -> None:
        emu.faults.push_delay_s = 0.05
        emu.faults.reorder_pushes = True
        emu.faults.seed = 5

    emu.call(faults)
    log = InMemoryEventLog()
    with Gateway(port=emu.port) as gateway:
        mb = MoomooBroker(gateway)
        manager = OrderManager(mb, log)
        held = {"AAPL": 0.0, "MSFT": 0.0}
        for k in range(N_ORDERS):
            if k in DROPS_AT:
                assert emu.drop_connections() >= 1
            if k == RESTART_AT:
                emu.restart(down_s=1.0)
            if k in REJECT_AT:
                emu.call(broker.reject_next, 1, f"emulated risk check {k}")
            symbol = rng.choice(["AAPL", "MSFT"])
            mids[symbol] = round(mids[symbol] * (1 + rng.gauss(0, 0.002)), 2)
            bids, asks = _book(rng, mids[symbol])
            books.set(f"US.{symbol}", bids, asks)
            emu.call(broker.on_market, f"US.{symbol}")
            sell = held[symbol] >= 200 and rng.random() < 0.4
            side = OrderSide.SELL if sell else OrderSide.BUY
            otype = OrderType.MARKET if rng.random() < 0.5 else OrderType.LIMIT
            limit = bids[1][0] if side is OrderSide.BUY else asks[1][0]  # a limit one level away: it may rest
            qty = float(rng.randint(1, 2) * 100)
            assert manager.submit(_order(k, symbol, side, otype, qty, limit))
            manager.process()
            held = _net(log)
            if k % 7 == 0:  # cancel something still working
                working = [o for o in manager.open_orders() if o.status is OrderStatus.ACCEPTED]
                if working:
                    manager.cancel(working[0].client_order_id)
        # quiesce: the books move once more (resting orders may fill), then everything still working is cancelled
        for symbol in mids:
            bids, asks = _book(rng, mids[symbol])
            books.set(f"US.{symbol}", bids, asks)
            emu.call(broker.on_market, f"US.{symbol}")
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            manager.process()
            for o in manager.open_orders():
                if o.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
                    manager.cancel(o.client_order_id)
            if not manager.open_orders():
                break
            time.sleep(0.1)
        assert not manager.open_orders(), [(o.client_order_id, o.status) for o in manager.open_orders()]
        # the account as the adapter reads it equals the emulator's, and both equal what the fills add up to
        fills = [e for e in log.events() if isinstance(e, OrderFilled)]
        net = _net(log)
        spent = sum(f.quantity_units * f.price * (1 if f.side is OrderSide.BUY else -1) for f in fills)
        assert mb.positions() == {s: q for s, q in net.items() if q}
        sim = broker.accounts[broker.sim_acc_id]
        assert {c.partition(".")[2]: p.qty for c, p in sim.positions.items() if p.qty} == mb.positions()
        assert mb.cash() == pytest.approx(sim.cash_usd, abs=1e-6)
        assert mb.cash() == pytest.approx(CASH_USD - spent, abs=1e-6)
    # no client order id reached the emulator twice
    remarks = [o.remark for o in broker.orders.values()]
    assert len(remarks) == len(set(remarks))
    # every refusal is an event with its reason: the injected ones by name
    rejected = [e for e in log.events() if isinstance(e, OrderRejected)]
    reasons = " | ".join(e.reason for e in rejected)
    for k in REJECT_AT:
        assert f"emulated risk check {k}" in reasons
    assert all(e.reason for e in rejected)
    assert len(fills) > 50 and emu.requests.count(1001) >= 7  # it traded, and reconnected after every drop


def _net(log: InMemoryEventLog) -> dict[str, float]:
    net = {"AAPL": 0.0, "MSFT": 0.0}
    for e in log.events():
        if isinstance(e, OrderFilled):
            net[e.symbol] += e.quantity_units * (1 if e.side is OrderSide.BUY else -1)
    return net
