"""The emulator's broker with ``matching="bar"``: the backtest's optimistic fill rules, called per bar as
``on_bar_open`` then ``on_bar_range``; and the book matching left as it was.

The broker is driven directly (no emulator, no SDK): ``FixedBook`` is a fixed book for ``US.AAPL`` (tick 0.01,
lot 1) that prices market orders at placement only; the broker charges 0.005 USD a share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.opend_emulator.server import Refused
from quantdesk.opend_emulator.trading import (
    ORDER_TYPE_MARKET,
    ORDER_TYPE_NORMAL,
    ORDER_TYPE_STOP,
    ORDER_TYPE_STOP_LIMIT,
    SIDE_BUY,
    SIDE_SELL,
    STATUS_CANCELLED_ALL,
    STATUS_FAILED,
    STATUS_FILLED_ALL,
    STATUS_FILLED_PART,
    STATUS_SUBMITTED,
    TIF_GTC,
    TIF_IOC,
    TRD_ENV_SIMULATE,
    TRD_MARKET_US,
    Broker,
    Event,
    Fill,
    Order,
    OrderRequest,
)

CODE = "US.AAPL"
RATE_USD = 0.005
CASH_USD = 1_000_000.0
Level = tuple[float, float]


class FixedBook:
    """A ``BookSource`` test double: one code, one fixed book."""

    def book(self, code: str, depth: int) -> tuple[Sequence[Level], Sequence[Level]]:
        self.lot_size(code)
        bids = [(190.00, 300.0), (189.99, 400.0), (189.97, 600.0)]
        asks = [(190.02, 200.0), (190.03, 300.0), (190.05, 500.0)]
        return bids[:depth], asks[:depth]

    def lot_size(self, code: str) -> int:
        if code != CODE:
            raise KeyError(code)
        return 1

    def tick_size(self, code: str) -> float:
        self.lot_size(code)
        return 0.01


def make_broker(matching: str = "bar") -> tuple[Broker, list[Event]]:
    broker = Broker(FixedBook(), starting_cash_usd=CASH_USD, commission_per_share_usd=RATE_USD,
                    clock=lambda: 1_700_000_000.0, matching=matching)  # type: ignore[arg-type]  # fmt: skip
    events: list[Event] = []
    broker.subscribe(lambda e: events.append(replace(e) if isinstance(e, Order) else e))  # as it was then
    return broker, events


def place(broker: Broker, side: int, order_type: int, qty: float, *, price: float = 0.0, aux: float = 0.0,
          tif: int = TIF_GTC) -> Order:  # fmt: skip
    return broker.place(OrderRequest(
        acc_id=broker.sim_acc_id, trd_env=TRD_ENV_SIMULATE, trd_market=TRD_MARKET_US, sec_market=2, code="AAPL",
        side=side, order_type=order_type, qty=qty, price=price, aux_price=aux, time_in_force=tif,
    ))  # fmt: skip


def bar(broker: Broker, open_: float, high: float, low: float) -> None:
    broker.on_bar_open(CODE, open_)
    broker.on_bar_range(CODE, high, low)


def fills(broker: Broker, order: Order) -> list[tuple[float, float]]:
    return [(f.qty, f.price) for f in broker.fills if f.order_id == order.order_id]


def held(broker: Broker) -> float:
    pos = broker.accounts[broker.sim_acc_id].positions.get(CODE)
    return pos.qty if pos else 0.0


def holding(broker: Broker, qty: float, at: float = 190.0) -> Order:
    """A long position of ``qty`` bought by a market order at the open ``at`` (the bar's open phase only)."""
    entry = place(broker, SIDE_BUY, ORDER_TYPE_MARKET, qty)
    broker.on_bar_open(CODE, at)
    broker.on_bar_range(CODE, at, at)
    assert held(broker) == qty
    return entry


def test_a_market_order_rests_on_arrival_and_fills_whole_at_the_next_open_with_the_book_modes_pushes() -> None:
    broker, events = make_broker()
    order = place(broker, SIDE_BUY, ORDER_TYPE_MARKET, 2_000)  # twice the visible book's asks
    assert (order.status, broker.fills) == (STATUS_SUBMITTED, [])
    broker.on_market(CODE)  # nothing in bar matching
    assert (order.status, broker.fills) == (STATUS_SUBMITTED, [])
    broker.on_bar_open(CODE, 191.37)
    assert fills(broker, order) == [(2_000.0, 191.37)]
    assert order.status == STATUS_FILLED_ALL and order.avg_fill_price == 191.37
    cash = broker.accounts[broker.sim_acc_id].cash_usd
    assert cash == pytest.approx(CASH_USD - 2_000 * 191.37 - 2_000 * RATE_USD, abs=1e-6)
    assert broker.funds(broker.accounts[broker.sim_acc_id]).frozen_usd == 0.0
    kinds = [("fill", e.price) if isinstance(e, Fill) else ("order", e.status) for e in events]
    assert kinds == [("order", STATUS_SUBMITTED), ("order", STATUS_FILLED_ALL), ("fill", 191.37)]


def test_a_crossing_limit_does_not_fill_on_arrival_and_fills_at_the_open_it_is_through() -> None:
    broker, _ = make_broker()
    order = place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 100, price=190.50)  # crosses the book's asks
    assert order.status == STATUS_SUBMITTED
    broker.on_bar_open(CODE, 190.10)  # the open is below the limit: filled there, not at the limit
    assert fills(broker, order) == [(100.0, 190.10)]


def test_a_stop_the_open_gapped_through_fills_at_the_open() -> None:
    broker, _ = make_broker()
    holding(broker, 100)
    sell_stop = place(broker, SIDE_SELL, ORDER_TYPE_STOP, 100, aux=188.00)
    buy_stop = place(broker, SIDE_BUY, ORDER_TYPE_STOP, 50, aux=188.50)
    bar(broker, 187.40, 187.90, 186.00)  # opens below the sell stop; the buy stop is never reached
    assert fills(broker, sell_stop) == [(100.0, 187.40)]
    assert fills(broker, buy_stop) == []
    bar(broker, 189.00, 189.50, 188.70)  # gapped above the buy stop
    assert fills(broker, buy_stop) == [(50.0, 189.00)]


def test_a_stop_the_range_reaches_fills_at_its_stop_price_and_one_it_misses_rests() -> None:
    broker, _ = make_broker()
    holding(broker, 100)
    stop = place(broker, SIDE_SELL, ORDER_TYPE_STOP, 100, aux=188.00)
    bar(broker, 189.00, 189.40, 188.01)  # a cent short of the stop
    assert (stop.status, fills(broker, stop), stop.triggered) == (STATUS_SUBMITTED, [], False)
    bar(broker, 189.00, 189.40, 188.00)  # touches it: low <= stop
    assert fills(broker, stop) == [(100.0, 188.00)] and stop.status == STATUS_FILLED_ALL
    buy_stop = place(broker, SIDE_BUY, ORDER_TYPE_STOP, 10, aux=191.00)
    bar(broker, 190.00, 191.00, 189.50)  # high >= stop
    assert fills(broker, buy_stop) == [(10.0, 191.00)]


def test_a_limit_fills_at_its_price_only_when_the_range_trades_through_it_strictly() -> None:
    broker, _ = make_broker()
    holding(broker, 100)
    sell = place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 100, price=195.00)
    buy = place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 10, price=185.00)
    bar(broker, 190.00, 195.00, 185.00)  # both touched, neither traded through
    assert (fills(broker, sell), fills(broker, buy)) == ([], [])
    bar(broker, 190.00, 195.01, 184.99)
    assert fills(broker, sell) == [(100.0, 195.00)] and fills(broker, buy) == [(10.0, 185.00)]


def test_when_one_bar_reaches_a_positions_stop_and_target_the_stop_fills_and_the_target_stays_unfilled() -> None:
    broker, events = make_broker()
    holding(broker, 100)
    stop = place(broker, SIDE_SELL, ORDER_TYPE_STOP, 100, aux=188.00)
    target = place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 100, price=195.00)  # each covers the whole position
    bar(broker, 190.00, 196.00, 187.00)
    assert fills(broker, stop) == [(100.0, 188.00)]
    assert (target.status, fills(broker, target), held(broker)) == (STATUS_SUBMITTED, [], 0.0)
    bar(broker, 196.00, 197.00, 195.50)  # the target's open: nothing to sell, it stays open unfilled
    assert (target.status, fills(broker, target)) == (STATUS_SUBMITTED, [])
    assert [e.order_id for e in events if isinstance(e, Fill)][-1] == stop.order_id


def test_a_gapped_stop_beats_a_target_and_a_gapped_target_leaves_the_stop_untriggered() -> None:
    broker, _ = make_broker()
    holding(broker, 100)
    target = place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 100, price=195.00)  # the older of the two
    stop = place(broker, SIDE_SELL, ORDER_TYPE_STOP, 100, aux=188.00)
    bar(broker, 187.50, 196.00, 187.00)  # opens through the stop, then trades through the target
    assert fills(broker, stop) == [(100.0, 187.50)] and fills(broker, target) == []

    broker, _ = make_broker()
    holding(broker, 100)
    stop = place(broker, SIDE_SELL, ORDER_TYPE_STOP, 100, aux=188.00)
    target = place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 100, price=195.00)
    bar(broker, 195.20, 196.00, 187.00)  # opens through the target, then reaches the stop with nothing to sell
    assert fills(broker, target) == [(100.0, 195.20)]
    assert (stop.status, stop.triggered, fills(broker, stop)) == (STATUS_SUBMITTED, False, [])


def test_a_stop_placed_between_the_open_and_the_range_fills_at_its_stop_on_that_bar() -> None:
    broker, _ = make_broker()
    entry = place(broker, SIDE_BUY, ORDER_TYPE_MARKET, 100)
    broker.on_bar_open(CODE, 190.00)
    assert fills(broker, entry) == [(100.0, 190.00)]
    stop = place(broker, SIDE_SELL, ORDER_TYPE_STOP, 100, aux=189.00)  # the session's reaction to the fill
    broker.on_bar_range(CODE, 190.40, 188.50)  # the bar went below the stop after the open
    assert fills(broker, stop) == [(100.0, 189.00)] and held(broker) == 0.0


def test_a_limit_placed_between_the_open_and_the_range_waits_for_the_next_bar() -> None:
    broker, _ = make_broker()
    place(broker, SIDE_BUY, ORDER_TYPE_MARKET, 100)
    broker.on_bar_open(CODE, 190.00)
    target = place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 100, price=190.50)
    broker.on_bar_range(CODE, 191.00, 189.80)  # traded through it, but it was sent on this bar
    assert (target.status, fills(broker, target)) == (STATUS_SUBMITTED, [])
    bar(broker, 190.20, 190.80, 190.10)  # the next bar trades through it
    assert fills(broker, target) == [(100.0, 190.50)]

    broker, _ = make_broker()  # a limit modified between the two calls arrives again: it waits too
    holding(broker, 100)
    target = place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 100, price=199.00)
    broker.on_bar_open(CODE, 190.00)
    broker.modify(broker.accounts[broker.sim_acc_id], target.order_id_ex, qty=None, price=190.50, aux_price=None)
    broker.on_bar_range(CODE, 191.00, 189.80)
    assert fills(broker, target) == []


def test_a_stop_limit_triggered_in_the_range_becomes_a_limit_that_rests_until_traded_through() -> None:
    broker, _ = make_broker()
    holding(broker, 100)
    order = place(broker, SIDE_SELL, ORDER_TYPE_STOP_LIMIT, 100, price=189.00, aux=188.00)
    bar(broker, 188.80, 188.90, 187.90)  # triggered (low <= 188), never above its limit 189
    assert (order.triggered, order.status, fills(broker, order)) == (True, STATUS_SUBMITTED, [])
    bar(broker, 188.70, 189.01, 188.60)  # a limit now: the range trades through 189
    assert fills(broker, order) == [(100.0, 189.00)]

    broker, _ = make_broker()
    buy = place(broker, SIDE_BUY, ORDER_TYPE_STOP_LIMIT, 10, price=192.50, aux=192.00)
    bar(broker, 193.00, 193.50, 192.80)  # gapped over the stop and the limit: triggered, no fill
    assert (buy.triggered, fills(broker, buy)) == (True, [])
    bar(broker, 192.40, 192.90, 192.30)  # a limit the open is through
    assert fills(broker, buy) == [(10.0, 192.40)]


def test_a_sell_never_fills_beyond_the_shares_held() -> None:
    broker, _ = make_broker()
    holding(broker, 100)
    market_sell = place(broker, SIDE_SELL, ORDER_TYPE_MARKET, 60)
    stop = place(broker, SIDE_SELL, ORDER_TYPE_STOP, 100, aux=188.00)
    bar(broker, 189.00, 189.20, 187.50)  # the market sell at the open, then the stop in the range
    assert fills(broker, market_sell) == [(60.0, 189.00)]
    assert fills(broker, stop) == [(40.0, 188.00)] and stop.status == STATUS_FILLED_PART
    assert held(broker) == 0.0
    bar(broker, 187.00, 187.50, 186.00)  # a triggered stop is a market order: nothing left to sell
    assert (fills(broker, stop), stop.status, held(broker)) == ([(40.0, 188.00)], STATUS_FILLED_PART, 0.0)
    with pytest.raises(Refused, match=r"insufficient position: selling 10 US\.AAPL, can sell 0"):
        place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 10, price=190.00)


def test_placements_are_still_checked_and_refused_at_placement() -> None:
    broker, events = make_broker()
    with pytest.raises(Refused, match=r"insufficient buying power: 6000 US\.AAPL at 190 needs 1140030\.00 USD"):
        place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 6_000, price=190.00)
    with pytest.raises(Refused, match=r"not a multiple of the tick size 0\.01"):
        place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 1, price=190.005)
    with pytest.raises(Refused, match="not a multiple of the lot size 1"):
        place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 0.5, price=190.00)
    with pytest.raises(Refused, match=r"insufficient position: selling 10 US\.AAPL, can sell 0"):
        place(broker, SIDE_SELL, ORDER_TYPE_STOP, 10, aux=188.00)
    held_back = place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 5_000, price=190.00)  # power held by a resting buy
    with pytest.raises(Refused, match="insufficient buying power"):
        place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 1_000, price=190.00)
    broker.cancel(broker.accounts[broker.sim_acc_id], held_back.order_id_ex)
    broker.reject_next(1, "risk check (injected)")
    with pytest.raises(Refused, match=r"risk check \(injected\)"):
        place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 1, price=190.00)
    assert [o.status for o in broker.orders.values()] == [STATUS_CANCELLED_ALL, STATUS_FAILED]
    bar(broker, 150.00, 150.00, 150.00)  # nothing open: nothing fills
    assert broker.fills == [] and broker.accounts[broker.sim_acc_id].cash_usd == CASH_USD
    assert not any(isinstance(e, Fill) for e in events)


def test_an_ioc_order_has_the_next_open_only() -> None:
    broker, _ = make_broker()
    missed = place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 10, price=189.00, tif=TIF_IOC)
    taken = place(broker, SIDE_BUY, ORDER_TYPE_NORMAL, 10, price=191.00, tif=TIF_IOC)
    broker.on_bar_open(CODE, 190.00)
    assert (missed.status, taken.status) == (STATUS_CANCELLED_ALL, STATUS_FILLED_ALL)
    broker.on_bar_range(CODE, 190.50, 188.00)
    assert fills(broker, missed) == []


def test_book_matching_is_unchanged_and_has_no_bar_calls() -> None:
    broker, _ = make_broker("book")
    order = place(broker, SIDE_BUY, ORDER_TYPE_MARKET, 650)  # walks the book on arrival
    assert order.status == STATUS_FILLED_ALL
    assert fills(broker, order) == [(200.0, 190.02), (300.0, 190.03), (150.0, 190.05)]
    place(broker, SIDE_SELL, ORDER_TYPE_STOP, 650, aux=180.00)
    with pytest.raises(Refused, match="can sell 0"):  # open sells hold the shares they sell
        place(broker, SIDE_SELL, ORDER_TYPE_NORMAL, 650, price=200.00)
    with pytest.raises(ConfigError, match="on_bar_open is bar matching's"):
        broker.on_bar_open(CODE, 190.00)
    with pytest.raises(ConfigError, match="on_bar_range is bar matching's"):
        broker.on_bar_range(CODE, 191.00, 189.00)
    with pytest.raises(ConfigError, match="matching: expected one of book, bar, found 'tick'"):
        make_broker("tick")
