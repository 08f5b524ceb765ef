"""The real SDK trades with the emulator's broker: accounts, unlock, place/modify/cancel, matching against a Level 2
book, fills, positions, funds, the order and deal pushes, REAL refused, injected rejections, replayed packets.

The market is ``FixedBooks``, a test double of the market replay: a fixed, realistic book per code (US tick 0.01,
lot 1) that a test moves by hand before calling ``broker.on_market``. The broker charges 0.005 USD a share.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.opend_emulator import wire
from quantdesk.opend_emulator.server import Emulator
from quantdesk.opend_emulator.trade_handlers import register_trading
from quantdesk.opend_emulator.trading import Broker

PASSWORD = "314159"
RATE_USD = 0.005  # commission per share
CASH_USD = 1_000_000.0
SIM_ACC = 9_000_001
Level = tuple[float, float]

AAPL_BIDS = [(190.00, 300.0), (189.99, 400.0), (189.97, 600.0)]
AAPL_ASKS = [(190.02, 200.0), (190.03, 300.0), (190.05, 500.0)]


class FixedBooks:
    """A ``BookSource`` test double: a fixed book per code, moved by ``set``."""

    def __init__(self) -> None:
        self.books: dict[str, tuple[list[Level], list[Level]]] = {
            "US.AAPL": (list(AAPL_BIDS), list(AAPL_ASKS)),
            "US.MSFT": ([(410.10, 200.0), (410.05, 300.0)], [(410.15, 100.0), (410.20, 400.0)]),
        }

    def set(self, code: str, bids: list[Level], asks: list[Level]) -> None:
        self.books[code] = (bids, asks)

    def book(self, code: str, depth: int) -> tuple[Sequence[Level], Sequence[Level]]:
        bids, asks = self.books[code]
        return bids[:depth], asks[:depth]

    def _known(self, code: str) -> None:
        if code not in self.books:
            raise KeyError(code)

    def lot_size(self, code: str) -> int:
        self._known(code)
        return 1

    def tick_size(self, code: str) -> float:
        self._known(code)
        return 0.01


class Desk:
    """An emulator with a broker, and the pushes the SDK's handlers received."""

    def __init__(self, emu: Emulator, broker: Broker, books: FixedBooks) -> None:
        self.emu, self.broker, self.books = emu, broker, books
        self.order_pushes: list[dict[str, Any]] = []
        self.deal_pushes: list[dict[str, Any]] = []

    def statuses(self, order_id: str) -> list[str]:
        return [p["order_status"] for p in self.order_pushes if p["order_id"] == order_id]


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s} s")
        time.sleep(0.02)


@pytest.fixture
def desk(emulator: Emulator) -> Desk:
    books = FixedBooks()
    broker = Broker(books, starting_cash_usd=CASH_USD, trade_password=PASSWORD, commission_per_share_usd=RATE_USD)
    register_trading(emulator, broker)
    return Desk(emulator, broker, books)


@contextmanager
def trade_context(sdk: ModuleType, desk: Desk) -> Iterator[Any]:
    """An ``OpenSecTradeContext`` on the emulator with order and deal handlers recording into ``desk``, once the
    SDK has subscribed the account's pushes (2008); always closed."""

    class Orders(sdk.TradeOrderHandlerBase):  # type: ignore[misc, name-defined]
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            if ret == sdk.RET_OK:
                desk.order_pushes.append(data.iloc[0].to_dict())
            return ret, data

    class Deals(sdk.TradeDealHandlerBase):  # type: ignore[misc, name-defined]
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            if ret == sdk.RET_OK:
                desk.deal_pushes.append(data.iloc[0].to_dict())
            return ret, data

    ctx = sdk.OpenSecTradeContext(
        filter_trdmarket=sdk.TrdMarket.US, host="127.0.0.1", port=desk.emu.port, security_firm=sdk.SecurityFirm.FUTUINC
    )
    try:
        ctx.set_handler(Orders())
        ctx.set_handler(Deals())

        def subscribed() -> bool:
            return desk.emu.call(lambda: any(SIM_ACC in c.push_accounts for c in desk.emu.connections.values()))

        wait_for(subscribed)
        yield ctx
    finally:
        ctx.close()


def place(sdk: ModuleType, ctx: Any, **kwargs: Any) -> dict[str, Any]:
    ret, data = ctx.place_order(trd_env=sdk.TrdEnv.SIMULATE, **kwargs)
    assert ret == sdk.RET_OK, data
    return dict(data.iloc[0].to_dict())


def order_row(sdk: ModuleType, ctx: Any, order_id: str) -> dict[str, Any]:
    ret, data = ctx.order_list_query(order_id=order_id, trd_env=sdk.TrdEnv.SIMULATE)
    assert ret == sdk.RET_OK, data
    assert len(data) == 1
    return dict(data.iloc[0].to_dict())


def funds(sdk: ModuleType, ctx: Any) -> dict[str, Any]:
    ret, data = ctx.accinfo_query(trd_env=sdk.TrdEnv.SIMULATE)
    assert ret == sdk.RET_OK, data
    return dict(data.iloc[0].to_dict())


def test_the_account_list_shows_the_simulate_us_account_and_a_real_one(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        ret, accounts = ctx.get_acc_list()
    assert ret == sdk.RET_OK
    sim = accounts[accounts.trd_env == sdk.TrdEnv.SIMULATE]
    real = accounts[accounts.trd_env == sdk.TrdEnv.REAL]
    assert list(sim.acc_id) == [SIM_ACC] and list(sim.trdmarket_auth) == [["US"]]
    assert list(real.security_firm) == [sdk.SecurityFirm.FUTUINC] and list(real.trdmarket_auth) == [["US"]]


def test_unlock_trade_needs_the_configured_password(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        assert ctx.unlock_trade(password="wrong") == (sdk.RET_ERROR, "emulator: unlock failed: wrong trade password")
        assert not desk.emu.call(lambda: desk.broker.unlocked)
        assert ctx.unlock_trade(password=PASSWORD) == (sdk.RET_OK, None)
        assert desk.emu.call(lambda: desk.broker.unlocked)
        md5 = hashlib.md5(PASSWORD.encode()).hexdigest()
        assert ctx.unlock_trade(password_md5=md5) == (sdk.RET_OK, None)
    assert desk.emu.requests.count(2005) == 3


def test_a_resting_limit_order_keeps_its_remark_and_is_modified_then_cancelled(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        placed = place(sdk, ctx, price=189.50, qty=100, code="US.AAPL", trd_side=sdk.TrdSide.BUY, remark="qd-0001")
        assert placed["order_status"] == sdk.OrderStatus.SUBMITTED and placed["remark"] == "qd-0001"
        oid = placed["order_id"]
        row = order_row(sdk, ctx, oid)
        assert (row["code"], row["qty"], row["price"], row["remark"]) == ("US.AAPL", 100.0, 189.50, "qd-0001")
        assert row["order_status"] == sdk.OrderStatus.SUBMITTED and row["dealt_qty"] == 0.0
        assert funds(sdk, ctx)["frozen_cash"] == pytest.approx(100 * (189.50 + RATE_USD))

        ret, data = ctx.modify_order(sdk.ModifyOrderOp.NORMAL, oid, qty=150, price=189.60, trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK and list(data.order_id) == [oid]
        row = order_row(sdk, ctx, oid)
        assert (row["qty"], row["price"], row["order_status"]) == (150.0, 189.60, sdk.OrderStatus.SUBMITTED)

        ret, _ = ctx.modify_order(sdk.ModifyOrderOp.CANCEL, oid, qty=0, price=0, trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK
        assert order_row(sdk, ctx, oid)["order_status"] == sdk.OrderStatus.CANCELLED_ALL
        assert funds(sdk, ctx)["frozen_cash"] == 0.0

        ret, msg = ctx.modify_order(sdk.ModifyOrderOp.NORMAL, oid, qty=150, price=189.7, trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_ERROR and "is CANCELLED_ALL; only an open order" in msg
        wait_for(lambda: len(desk.statuses(oid)) >= 3)
        assert desk.statuses(oid) == ["SUBMITTED", "SUBMITTED", "CANCELLED_ALL"]
        assert desk.order_pushes[0]["remark"] == "qd-0001" and desk.order_pushes[1]["price"] == 189.60


def test_cancel_all_cancels_every_open_order(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        a = place(sdk, ctx, price=189.00, qty=10, code="US.AAPL", trd_side=sdk.TrdSide.BUY)["order_id"]
        b = place(sdk, ctx, price=409.00, qty=5, code="US.MSFT", trd_side=sdk.TrdSide.BUY)["order_id"]
        assert ctx.cancel_all_order(trd_env=sdk.TrdEnv.SIMULATE) == (sdk.RET_OK, "success")
        assert order_row(sdk, ctx, a)["order_status"] == sdk.OrderStatus.CANCELLED_ALL
        assert order_row(sdk, ctx, b)["order_status"] == sdk.OrderStatus.CANCELLED_ALL


def test_a_market_order_walks_the_book_at_the_exact_vwap_and_moves_cash_and_position(
    sdk: ModuleType, desk: Desk
) -> None:
    notional = 200 * 190.02 + 300 * 190.03 + 150 * 190.05  # 123520.5 over three levels
    with trade_context(sdk, desk) as ctx:
        placed = place(sdk, ctx, price=0.0, qty=650, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                       order_type=sdk.OrderType.MARKET)  # fmt: skip
        oid = placed["order_id"]
        assert placed["order_status"] == sdk.OrderStatus.FILLED_ALL and placed["dealt_qty"] == 650.0
        assert placed["dealt_avg_price"] == pytest.approx(notional / 650, rel=1e-12)

        ret, deals = ctx.deal_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK
        assert list(zip(deals.qty, deals.price, strict=True)) == [(200.0, 190.02), (300.0, 190.03), (150.0, 190.05)]
        assert set(deals.order_id) == {oid} and set(deals.code) == {"US.AAPL"}

        ret, positions = ctx.position_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK and list(positions.code) == ["US.AAPL"]
        pos = positions.iloc[0]
        mid = (190.00 + 190.02) / 2
        assert pos.qty == 650.0 and pos.can_sell_qty == 650.0
        assert pos.cost_price == pytest.approx(notional / 650, rel=1e-12)
        assert pos.nominal_price == pytest.approx(mid) and pos.market_val == pytest.approx(650 * mid)

        f = funds(sdk, ctx)
        cash = CASH_USD - notional - 650 * RATE_USD
        assert f["cash"] == pytest.approx(cash, abs=1e-6) and f["power"] == pytest.approx(cash, abs=1e-6)
        assert f["market_val"] == pytest.approx(650 * mid, abs=1e-6)
        assert f["total_assets"] == pytest.approx(cash + 650 * mid, abs=1e-6) and f["frozen_cash"] == 0.0

        wait_for(lambda: len(desk.deal_pushes) == 3 and "FILLED_ALL" in desk.statuses(oid))
        assert [(d["qty"], d["price"]) for d in desk.deal_pushes] == [(200.0, 190.02), (300.0, 190.03), (150.0, 190.05)]
        assert desk.statuses(oid) == ["SUBMITTED", "FILLED_PART", "FILLED_PART", "FILLED_ALL"]
        assert desk.order_pushes[-1]["dealt_avg_price"] == pytest.approx(notional / 650, rel=1e-12)


def test_a_limit_that_partly_crosses_is_filled_part_then_all_after_the_market_moves(
    sdk: ModuleType, desk: Desk
) -> None:
    with trade_context(sdk, desk) as ctx:
        placed = place(sdk, ctx, price=190.03, qty=800, code="US.AAPL", trd_side=sdk.TrdSide.BUY)
        oid = placed["order_id"]
        assert placed["order_status"] == sdk.OrderStatus.FILLED_PART and placed["dealt_qty"] == 500.0
        assert placed["dealt_avg_price"] == pytest.approx((200 * 190.02 + 300 * 190.03) / 500, rel=1e-12)
        assert funds(sdk, ctx)["frozen_cash"] == pytest.approx(300 * (190.03 + RATE_USD))

        # the crossing liquidity of this book is taken: a second order at the same limit finds none
        second = place(sdk, ctx, price=190.03, qty=100, code="US.AAPL", trd_side=sdk.TrdSide.BUY)
        assert second["order_status"] == sdk.OrderStatus.SUBMITTED and second["dealt_qty"] == 0.0

        desk.books.set("US.AAPL", [(189.99, 500.0)], [(190.01, 200.0), (190.02, 400.0), (190.04, 100.0)])
        desk.emu.call(desk.broker.on_market, "US.AAPL")
        row = order_row(sdk, ctx, oid)
        assert row["order_status"] == sdk.OrderStatus.FILLED_ALL and row["dealt_qty"] == 800.0
        # the resting remainder fills at its own limit, 190.03, across the two crossing levels
        assert row["dealt_avg_price"] == pytest.approx((200 * 190.02 + 600 * 190.03) / 800, rel=1e-12)
        # then the younger order, from what is left of the 190.02 level
        assert order_row(sdk, ctx, second["order_id"])["order_status"] == sdk.OrderStatus.FILLED_ALL
        ret, deals = ctx.deal_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK
        assert list(zip(deals.order_id, deals.qty, deals.price, strict=True)) == [
            (oid, 200.0, 190.02), (oid, 300.0, 190.03), (oid, 200.0, 190.03), (oid, 100.0, 190.03),
            (second["order_id"], 100.0, 190.03),
        ]  # fmt: skip
        wait_for(lambda: "FILLED_ALL" in desk.statuses(oid))
        assert desk.statuses(oid) == ["SUBMITTED", "FILLED_PART", "FILLED_PART", "FILLED_PART", "FILLED_ALL"]
        f = funds(sdk, ctx)
        assert f["cash"] == pytest.approx(CASH_USD - (200 * 190.02 + 700 * 190.03) - 900 * RATE_USD, abs=1e-6)
        assert f["frozen_cash"] == 0.0


def test_a_market_order_beyond_the_visible_book_rests_until_the_next_book(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        placed = place(sdk, ctx, price=0.0, qty=1200, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                       order_type=sdk.OrderType.MARKET)  # fmt: skip
        assert placed["order_status"] == sdk.OrderStatus.FILLED_PART and placed["dealt_qty"] == 1000.0
        desk.books.set("US.AAPL", [(190.04, 100.0)], [(190.06, 500.0)])
        desk.emu.call(desk.broker.on_market, "US.AAPL")
        row = order_row(sdk, ctx, placed["order_id"])
        assert row["order_status"] == sdk.OrderStatus.FILLED_ALL and row["dealt_qty"] == 1200.0
        notional = 200 * 190.02 + 300 * 190.03 + 500 * 190.05 + 200 * 190.06
        assert row["dealt_avg_price"] == pytest.approx(notional / 1200, rel=1e-12)


def test_an_ioc_limit_cancels_what_it_cannot_fill_at_once(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        placed = place(sdk, ctx, price=190.03, qty=800, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                       time_in_force=sdk.TimeInForce.IOC)  # fmt: skip
        assert placed["order_status"] == sdk.OrderStatus.CANCELLED_PART and placed["dealt_qty"] == 500.0
        assert funds(sdk, ctx)["frozen_cash"] == 0.0
        wait_for(lambda: "CANCELLED_PART" in desk.statuses(placed["order_id"]))
        assert desk.statuses(placed["order_id"]) == ["SUBMITTED", "FILLED_PART", "FILLED_PART", "CANCELLED_PART"]


def test_a_stop_rests_until_its_trigger_is_reached_then_fills_as_a_market_order(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        placed = place(sdk, ctx, price=0.0, qty=100, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                       order_type=sdk.OrderType.STOP, aux_price=190.50)  # fmt: skip
        oid = placed["order_id"]
        assert placed["order_status"] == sdk.OrderStatus.SUBMITTED and placed["aux_price"] == 190.50
        desk.books.set("US.AAPL", [(190.30, 100.0)], [(190.40, 100.0)])  # below the trigger
        desk.emu.call(desk.broker.on_market, "US.AAPL")
        assert order_row(sdk, ctx, oid)["dealt_qty"] == 0.0
        desk.books.set("US.AAPL", [(190.50, 100.0)], [(190.55, 60.0), (190.60, 100.0)])
        desk.emu.call(desk.broker.on_market, "US.AAPL")
        row = order_row(sdk, ctx, oid)
        assert row["order_status"] == sdk.OrderStatus.FILLED_ALL
        assert row["dealt_avg_price"] == pytest.approx((60 * 190.55 + 40 * 190.60) / 100, rel=1e-12)


def test_a_sell_stop_limit_triggers_fills_what_crosses_and_the_rest_at_its_limit(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        assert place(sdk, ctx, price=0.0, qty=100, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                     order_type=sdk.OrderType.MARKET)["dealt_avg_price"] == 190.02  # fmt: skip
        placed = place(sdk, ctx, price=189.85, qty=100, code="US.AAPL", trd_side=sdk.TrdSide.SELL,
                       order_type=sdk.OrderType.STOP_LIMIT, aux_price=189.90)  # fmt: skip
        oid = placed["order_id"]
        assert placed["order_status"] == sdk.OrderStatus.SUBMITTED and placed["dealt_qty"] == 0.0
        assert ctx.position_list_query(trd_env=sdk.TrdEnv.SIMULATE)[1].can_sell_qty[0] == 0.0  # held by the stop

        desk.books.set("US.AAPL", [(189.88, 60.0), (189.84, 100.0)], [(189.90, 100.0)])
        desk.emu.call(desk.broker.on_market, "US.AAPL")  # triggered: sells down to its limit, 189.85
        row = order_row(sdk, ctx, oid)
        assert (row["order_status"], row["dealt_qty"], row["dealt_avg_price"]) == (
            sdk.OrderStatus.FILLED_PART, 60.0, 189.88,
        )  # fmt: skip
        ret, positions = ctx.position_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK and positions.qty[0] == 40.0 and positions.cost_price[0] == pytest.approx(190.02)
        assert positions.realized_pl[0] == pytest.approx((189.88 - 190.02) * 60)

        desk.books.set("US.AAPL", [(189.86, 100.0)], [(189.89, 100.0)])
        desk.emu.call(desk.broker.on_market, "US.AAPL")  # resting now: the rest fills at its own limit
        row = order_row(sdk, ctx, oid)
        assert row["order_status"] == sdk.OrderStatus.FILLED_ALL
        assert row["dealt_avg_price"] == pytest.approx((60 * 189.88 + 40 * 189.85) / 100, rel=1e-12)
        ret, positions = ctx.position_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK and positions.empty
        f = funds(sdk, ctx)
        cash = CASH_USD - 100 * 190.02 + 60 * 189.88 + 40 * 189.85 - 200 * RATE_USD
        assert f["cash"] == pytest.approx(cash, abs=1e-6) and f["total_assets"] == pytest.approx(cash, abs=1e-6)
        assert f["market_val"] == 0.0
        assert f["realized_pl"] == pytest.approx((189.88 - 190.02) * 60 + (189.85 - 190.02) * 40, abs=1e-9)

        ret, msg = ctx.modify_order(sdk.ModifyOrderOp.CANCEL, oid, qty=0, price=0, trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_ERROR and f"order {oid} is FILLED_ALL; only an open order" in msg


def test_reset_restores_the_starting_account_and_keeps_counting_ids(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        first = place(sdk, ctx, price=0.0, qty=10, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                      order_type=sdk.OrderType.MARKET)["order_id"]  # fmt: skip
        assert funds(sdk, ctx)["cash"] < CASH_USD
        desk.emu.call(desk.broker.reset)
        assert funds(sdk, ctx)["cash"] == CASH_USD
        assert ctx.order_list_query(trd_env=sdk.TrdEnv.SIMULATE)[1].empty
        assert ctx.position_list_query(trd_env=sdk.TrdEnv.SIMULATE)[1].empty
        second = place(sdk, ctx, price=189.0, qty=10, code="US.AAPL", trd_side=sdk.TrdSide.BUY)["order_id"]
        assert int(second) > int(first)


def test_an_order_in_the_real_environment_is_refused(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:
        assert ctx.unlock_trade(password=PASSWORD) == (sdk.RET_OK, None)
        ret, msg = ctx.place_order(price=190.0, qty=1, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                                   trd_env=sdk.TrdEnv.REAL)  # fmt: skip
        assert ret == sdk.RET_ERROR and msg.startswith("emulator: orders in the REAL environment are refused")
        ret, orders = ctx.order_list_query(trd_env=sdk.TrdEnv.REAL)
        assert ret == sdk.RET_OK and orders.empty
    assert desk.emu.call(lambda: len(desk.broker.orders)) == 0


def test_reject_next_gives_the_reason_to_the_caller_and_lists_a_failed_order(sdk: ModuleType, desk: Desk) -> None:
    reason = "insufficient buying power (injected)"
    with trade_context(sdk, desk) as ctx:
        desk.emu.call(desk.broker.reject_next, 1, reason)
        ret, msg = ctx.place_order(price=189.5, qty=10, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                                   trd_env=sdk.TrdEnv.SIMULATE, remark="qd-rej")  # fmt: skip
        assert (ret, msg) == (sdk.RET_ERROR, reason)
        ret, orders = ctx.order_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert list(zip(orders.order_status, orders.last_err_msg, orders.remark, strict=True)) == [
            (sdk.OrderStatus.FAILED, reason, "qd-rej")
        ]
        wait_for(lambda: [p["order_status"] for p in desk.order_pushes] == ["FAILED"])
        assert (desk.order_pushes[0]["last_err_msg"], desk.order_pushes[0]["remark"]) == (reason, "qd-rej")
        assert place(sdk, ctx, price=189.5, qty=10, code="US.AAPL", trd_side=sdk.TrdSide.BUY)["order_status"] == (
            sdk.OrderStatus.SUBMITTED
        )
        desk.emu.call(lambda: desk.broker.reject_next(1, reason, record=False))
        ret, msg = ctx.place_order(price=189.5, qty=10, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                                   trd_env=sdk.TrdEnv.SIMULATE)  # fmt: skip
        assert (ret, msg) == (sdk.RET_ERROR, reason)
        assert len(ctx.order_list_query(trd_env=sdk.TrdEnv.SIMULATE)[1]) == 2
        assert funds(sdk, ctx)["cash"] == CASH_USD


def test_bad_orders_are_refused_with_what_is_wrong(sdk: ModuleType, desk: Desk) -> None:
    with trade_context(sdk, desk) as ctx:

        def refusal(**kwargs: Any) -> str:
            kwargs.setdefault("trd_side", sdk.TrdSide.BUY)
            ret, msg = ctx.place_order(trd_env=sdk.TrdEnv.SIMULATE, **kwargs)
            assert ret == sdk.RET_ERROR
            return str(msg)

        assert refusal(price=10.0, qty=1, code="US.NOPE") == "emulator: unknown code US.NOPE"
        assert refusal(price=190.0, qty=0.5, code="US.AAPL") == "emulator: qty 0.5 is not a multiple of the lot size 1"
        assert refusal(price=190.0, qty=0, code="US.AAPL") == "emulator: qty must be > 0, got 0"
        assert refusal(price=190.005, qty=1, code="US.AAPL") == (
            "emulator: price 190.005 is not a multiple of the tick size 0.01"
        )
        assert refusal(price=0.0, qty=1, code="US.AAPL") == "emulator: price must be > 0 for this order type, got 0"
        assert refusal(price=190.0, qty=10, code="US.AAPL", trd_side=sdk.TrdSide.SELL) == (
            "emulator: insufficient position: selling 10 US.AAPL, can sell 0 (short selling is not emulated)"
        )
        assert refusal(price=190.0, qty=6000, code="US.AAPL").startswith(
            "emulator: insufficient buying power: 6000 US.AAPL at 190 needs 1140030.00 USD, power is 1000000.00 USD"
        )
        assert refusal(price=190.0, qty=1, code="HK.00700").startswith("emulator: account 9000001 has no trading")
    assert desk.emu.call(lambda: len(desk.broker.orders)) == 0


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("emulator closed the connection")
        data += chunk
    return data


def _raw_call(sock: socket.socket, proto_id: int, serial_no: int, body: bytes) -> Any:
    sock.sendall(wire.pack(proto_id, serial_no, body))
    header = wire.unpack_header(_recv_exact(sock, wire.HEADER_LEN))
    assert (header.proto_id, header.serial_no) == (proto_id, serial_no)
    reply = wire.module_of(proto_id).Response()
    reply.ParseFromString(_recv_exact(sock, header.body_len))
    return reply


def test_the_same_place_or_cancel_packet_twice_acts_once(sdk: ModuleType, desk: Desk) -> None:
    with socket.create_connection(("127.0.0.1", desk.emu.port), timeout=5.0) as sock:
        init = wire.pb("InitConnect").Request()
        init.c2s.clientVer, init.c2s.clientID, init.c2s.packetEncAlgo = 300, "raw-test", -1
        conn_id = _raw_call(sock, 1001, 1, init.SerializeToString()).s2c.connID

        req = wire.pb("Trd_PlaceOrder").Request()
        c2s = req.c2s
        c2s.packetID.connID, c2s.packetID.serialNo = conn_id, 4242
        c2s.header.trdEnv, c2s.header.accID, c2s.header.trdMarket = 0, SIM_ACC, 2
        c2s.trdSide, c2s.orderType, c2s.code, c2s.qty, c2s.price = 1, 1, "AAPL", 10.0, 189.5
        c2s.secMarket, c2s.remark = 2, "qd-once"
        body = req.SerializeToString()
        first = _raw_call(sock, 2202, 4242, body)
        again = _raw_call(sock, 2202, 4242, body)  # the same packet, replayed
        assert first.retType == 0 and again.retType == 0
        assert first.s2c.orderIDEx == again.s2c.orderIDEx

        cancel = wire.pb("Trd_ModifyOrder").Request()
        cancel.c2s.packetID.connID, cancel.c2s.packetID.serialNo = conn_id, 4243
        cancel.c2s.header.CopyFrom(c2s.header)
        cancel.c2s.orderID, cancel.c2s.orderIDEx, cancel.c2s.modifyOrderOp = 0, first.s2c.orderIDEx, 2
        body = cancel.SerializeToString()
        replies = [_raw_call(sock, 2205, 4243, body) for _ in range(2)]  # a replayed cancel is not a second one
        assert [(r.retType, r.s2c.orderIDEx) for r in replies] == [(0, first.s2c.orderIDEx)] * 2
        cancel.c2s.packetID.serialNo = 4244  # a new cancel of the same order is refused
        refused = _raw_call(sock, 2205, 4244, cancel.SerializeToString())
        assert refused.retType == -1 and "is CANCELLED_ALL" in refused.retMsg

    with trade_context(sdk, desk) as ctx:
        ret, orders = ctx.order_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_OK
        assert list(zip(orders.order_id, orders.remark, orders.order_status, strict=True)) == [
            (first.s2c.orderIDEx, "qd-once", sdk.OrderStatus.CANCELLED_ALL)
        ]


def test_paper_account_limits_refuse_stops_and_deals(sdk: ModuleType, emulator: Emulator) -> None:
    books = FixedBooks()
    broker = Broker(books, trade_password=PASSWORD, paper_account_limits=True)
    register_trading(emulator, broker)
    desk = Desk(emulator, broker, books)
    with trade_context(sdk, desk) as ctx:
        ret, msg = ctx.place_order(price=0.0, qty=1, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                                   order_type=sdk.OrderType.STOP, aux_price=191.0,
                                   trd_env=sdk.TrdEnv.SIMULATE)  # fmt: skip
        assert (ret, msg) == (sdk.RET_ERROR, "emulator: order type 10 is not emulated for a paper account "
                                             "(only NORMAL, MARKET)")  # fmt: skip
        placed = place(sdk, ctx, price=0.0, qty=1, code="US.AAPL", trd_side=sdk.TrdSide.BUY,
                       order_type=sdk.OrderType.MARKET)  # fmt: skip
        assert placed["order_status"] == sdk.OrderStatus.FILLED_ALL
        ret, msg = ctx.deal_list_query(trd_env=sdk.TrdEnv.SIMULATE)
        assert ret == sdk.RET_ERROR and "does not support deals" in msg
        wait_for(lambda: "FILLED_ALL" in desk.statuses(placed["order_id"]))
        time.sleep(0.2)
        assert desk.deal_pushes == []


def test_the_broker_refuses_calls_from_outside_the_emulators_loop(sdk: ModuleType, desk: Desk) -> None:
    with pytest.raises(ConfigError, match=r"emu\.call\(broker\.on_market"):
        desk.broker.on_market("US.AAPL")  # the test's thread: no loop at all

    async def on_another_loop() -> None:
        desk.broker.on_market("US.AAPL")

    with trade_context(sdk, desk):  # a handler has run: the broker knows the emulator's loop
        with pytest.raises(ConfigError, match=r"emu\.call\(broker\.on_market"):
            asyncio.run(on_another_loop())
        desk.emu.call(desk.broker.on_market, "US.AAPL")
