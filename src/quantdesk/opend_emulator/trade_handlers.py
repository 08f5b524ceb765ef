"""The emulator's trade protos: ``register_trading(emu, broker)`` answers them on an ``Emulator`` from a broker.

2001 accounts, 2005 unlock, 2008 push subscription, 2202 place, 2205 modify/cancel, 2201 orders, 2211 fills, 2102
positions, 2101 funds; and the order and deal pushes (2208, 2218) to every connection that subscribed the order's
account. This module is the wire side only (the SDK's ``Trd_*`` messages filled from the broker's state and back);
the broker's rules are in ``trading``. Hand-written for the same reason: no library emulates OpenD.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from quantdesk.core.errors import ConfigError
from quantdesk.opend_emulator import wire
from quantdesk.opend_emulator.server import Connection, Emulator, Refused
from quantdesk.opend_emulator.trading import (
    ACC_ROLE_NORMAL,
    ACC_STATUS_ACTIVE,
    ACC_TYPE_CASH,
    CURRENCY_USD,
    FILL_STATUS_OK,
    MODIFY_CANCEL,
    MODIFY_NORMAL,
    POSITION_SIDE_LONG,
    SEC_MARKETS,
    SECURITY_FIRM_FUTU_INC,
    SIM_ACC_TYPE_STOCK,
    STOP_TYPES,
    TIF_DAY,
    TRD_ENV_REAL,
    TRD_ENV_SIMULATE,
    Account,
    Broker,
    Event,
    Fill,
    Order,
    OrderRequest,
)

# ---- the protos -----------------------------------------------------------------------------------------------------


def _time_text(epoch_s: float, sec_market: int) -> str:
    """OpenD's time text in the market's own clock, ``YYYY-MM-DD HH:MM:SS.mmm``."""
    zone = ZoneInfo(SEC_MARKETS.get(sec_market, ("", "UTC"))[1])
    return datetime.fromtimestamp(epoch_s, zone).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def order_pb(order: Order) -> Any:
    """The ``Trd_Common.Order`` of ``order``."""
    msg = wire.pb("Trd_Common").Order()
    msg.trdSide, msg.orderType, msg.orderStatus = order.side, order.order_type, order.status
    msg.orderID, msg.orderIDEx = order.order_id, order.order_id_ex
    msg.code, msg.name, msg.qty = order.code, order.code, order.qty
    msg.price = order.price
    msg.createTime, msg.updateTime = (
        _time_text(order.created_s, order.sec_market),
        _time_text(order.updated_s, order.sec_market),
    )
    msg.createTimestamp, msg.updateTimestamp = order.created_s, order.updated_s
    msg.fillQty, msg.fillAvgPrice = order.fill_qty, order.avg_fill_price
    msg.lastErrMsg = order.last_err
    msg.secMarket, msg.trdMarket, msg.currency = order.sec_market, order.trd_market, CURRENCY_USD
    if order.remark is not None:
        msg.remark = order.remark
    msg.timeInForce, msg.fillOutsideRTH = order.time_in_force, order.fill_outside_rth
    if order.order_type in STOP_TYPES:
        msg.auxPrice = order.aux_price
    if order.session is not None:
        msg.session = order.session
    return msg


def fill_pb(fill: Fill) -> Any:
    """The ``Trd_Common.OrderFill`` of ``fill``."""
    msg = wire.pb("Trd_Common").OrderFill()
    msg.trdSide, msg.fillID, msg.fillIDEx = fill.side, fill.fill_id, str(fill.fill_id)
    msg.orderID, msg.orderIDEx = fill.order_id, str(fill.order_id)
    msg.code, msg.name, msg.qty, msg.price = fill.code, fill.code, fill.qty, fill.price
    msg.createTime = _time_text(fill.time_s, fill.sec_market)
    msg.createTimestamp = msg.updateTimestamp = fill.time_s
    msg.secMarket, msg.trdMarket, msg.status = fill.sec_market, fill.trd_market, FILL_STATUS_OK
    return msg


def _header(msg: Any, acc: Account) -> None:
    msg.trdEnv, msg.accID, msg.trdMarket = acc.trd_env, acc.acc_id, acc.trd_market


class _LoopGuard:
    """The emulator's loop, learnt from the first handler that runs on it (a handler always does), and the check
    that the broker is driven from it (its pushes are written there)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def seen(self) -> None:
        self.loop = asyncio.get_running_loop()

    def check(self) -> asyncio.AbstractEventLoop:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is None or (self.loop is not None and running is not self.loop):
            raise ConfigError(
                "opend emulator: the broker runs on the emulator's loop thread; from another thread call "
                "it through emu.call(broker.on_market, code)"
            )
        return running


def _filter_time(conditions: Any, text: str) -> bool:
    begin = conditions.beginTime if conditions.HasField("beginTime") else ""
    end = conditions.endTime if conditions.HasField("endTime") else ""
    return (not begin or text[: len(begin)] >= begin) and (not end or text[: len(end)] <= end)


def register_trading(emu: Emulator, broker: Broker) -> None:
    """Answer the trade protos on ``emu`` from ``broker`` and push its order and deal changes (module docstring)."""
    guard = _LoopGuard()

    def deliver(event: Event) -> None:
        # built now (the order as it is at this moment), sent after the reply the handler is writing
        if isinstance(event, Fill):
            if broker.paper_account_limits:
                return
            proto_id, s2c = 2218, wire.pb("Trd_UpdateOrderFill").S2C()
            s2c.orderFill.CopyFrom(fill_pb(event))
        else:
            proto_id, s2c = 2208, wire.pb("Trd_UpdateOrder").S2C()
            s2c.order.CopyFrom(order_pb(event))
        _header(s2c.header, broker.accounts[event.acc_id])
        acc_id = event.acc_id

        def send() -> None:
            for conn in list(emu.connections.values()):
                if conn.initialised and not conn.closed and acc_id in conn.push_accounts:
                    emu.push(conn, proto_id, s2c)

        guard.check().call_soon(send)

    broker.subscribe(deliver)
    broker.thread_check = guard.check

    def acc_list(conn: Connection, c2s: Any) -> Any:
        s2c = wire.pb("Trd_GetAccList").S2C()
        for acc in sorted(broker.accounts.values(), key=lambda a: -a.trd_env):  # REAL first, as OpenD lists them
            entry = s2c.accList.add()
            entry.trdEnv, entry.accID = acc.trd_env, acc.acc_id
            entry.trdMarketAuthList.append(acc.trd_market)  # one market: it becomes header.trdMarket in the SDK
            entry.accType, entry.accStatus = ACC_TYPE_CASH, ACC_STATUS_ACTIVE
            if acc.trd_env == TRD_ENV_REAL:
                entry.securityFirm, entry.accRole = SECURITY_FIRM_FUTU_INC, ACC_ROLE_NORMAL
                entry.cardNum = entry.uniCardNum = f"1001{acc.acc_id}"
            else:
                entry.simAccType = SIM_ACC_TYPE_STOCK
        return s2c

    def unlock(conn: Connection, c2s: Any) -> Any:
        if c2s.unlock:
            if c2s.pwdMD5.lower() != broker.pwd_md5:
                raise Refused("emulator: unlock failed: wrong trade password")
            broker.unlocked = True
        else:
            broker.unlocked = False
        return wire.pb("Trd_UnlockTrade").S2C()

    def sub_acc_push(conn: Connection, c2s: Any) -> Any:
        conn.push_accounts = set(c2s.accIDList)  # the whole list each time, not a delta
        return wire.pb("Trd_SubAccPush").S2C()

    def place(conn: Connection, c2s: Any) -> Any:
        req = OrderRequest(
            acc_id=c2s.header.accID,
            trd_env=c2s.header.trdEnv,
            trd_market=c2s.header.trdMarket,
            sec_market=c2s.secMarket if c2s.HasField("secMarket") else 0,
            code=c2s.code,
            side=c2s.trdSide,
            order_type=c2s.orderType,
            qty=c2s.qty,
            price=c2s.price if c2s.HasField("price") else 0.0,
            aux_price=c2s.auxPrice if c2s.HasField("auxPrice") else 0.0,
            time_in_force=c2s.timeInForce if c2s.HasField("timeInForce") else TIF_DAY,
            remark=c2s.remark if c2s.HasField("remark") else None,
            fill_outside_rth=c2s.fillOutsideRTH,
            session=c2s.session if c2s.HasField("session") else None,
        )
        key = (2202, c2s.packetID.connID, c2s.packetID.serialNo)
        order_id: int = broker.once(key, lambda: broker.place(req).order_id)
        s2c = wire.pb("Trd_PlaceOrder").S2C()
        s2c.header.CopyFrom(c2s.header)
        s2c.orderID, s2c.orderIDEx = order_id, str(order_id)
        return s2c

    def modify(conn: Connection, c2s: Any) -> Any:
        header = c2s.header
        if header.trdEnv != TRD_ENV_SIMULATE:
            raise Refused("emulator: orders in the REAL environment are refused; this emulator never trades real money")
        acc = broker.account(header.accID, header.trdEnv, header.trdMarket)
        ref = c2s.orderIDEx if c2s.HasField("orderIDEx") and c2s.orderIDEx else str(c2s.orderID)

        def act() -> int:
            if c2s.forAll:
                broker.cancel_all(acc, c2s.trdMarket if c2s.HasField("trdMarket") else 0)
                return 0
            if c2s.modifyOrderOp == MODIFY_CANCEL:
                return broker.cancel(acc, ref).order_id
            if c2s.modifyOrderOp == MODIFY_NORMAL:
                return broker.modify(
                    acc,
                    ref,
                    qty=c2s.qty if c2s.HasField("qty") else None,
                    price=c2s.price if c2s.HasField("price") else None,
                    aux_price=c2s.auxPrice if c2s.HasField("auxPrice") else None,
                ).order_id
            raise Refused(f"emulator: modifyOrderOp {c2s.modifyOrderOp} is not emulated (1 NORMAL, 2 CANCEL)")

        order_id: int = broker.once((2205, c2s.packetID.connID, c2s.packetID.serialNo), act)
        s2c = wire.pb("Trd_ModifyOrder").S2C()
        s2c.header.CopyFrom(header)
        s2c.orderID = order_id
        s2c.orderIDEx = str(order_id) if order_id else ""
        return s2c

    def order_list(conn: Connection, c2s: Any) -> Any:
        acc = broker.account(c2s.header.accID, c2s.header.trdEnv, c2s.header.trdMarket)
        cond = c2s.filterConditions
        statuses = set(c2s.filterStatusList)
        s2c = wire.pb("Trd_GetOrderList").S2C()
        s2c.header.CopyFrom(c2s.header)
        for order in sorted(broker.orders.values(), key=lambda o: o.order_id):
            msg = order_pb(order)
            if (
                order.acc_id == acc.acc_id
                and (not cond.codeList or order.code in cond.codeList)
                and (not cond.idList or order.order_id in cond.idList)
                and (not cond.orderIDExList or order.order_id_ex in cond.orderIDExList)
                and cond.filterMarket in (0, order.trd_market)
                and (not statuses or order.status in statuses)
                and _filter_time(cond, msg.createTime)
            ):
                s2c.orderList.append(msg)
        return s2c

    def fill_list(conn: Connection, c2s: Any) -> Any:
        if broker.paper_account_limits:
            raise Refused("emulator: paper trading does not support deals (today's deals, deal pushes)")
        acc = broker.account(c2s.header.accID, c2s.header.trdEnv, c2s.header.trdMarket)
        cond = c2s.filterConditions
        s2c = wire.pb("Trd_GetOrderFillList").S2C()
        s2c.header.CopyFrom(c2s.header)
        for fill in broker.fills:
            msg = fill_pb(fill)
            if (
                fill.acc_id == acc.acc_id
                and (not cond.codeList or fill.code in cond.codeList)
                and (not cond.idList or fill.fill_id in cond.idList)
                and cond.filterMarket in (0, fill.trd_market)
                and _filter_time(cond, msg.createTime)
            ):
                s2c.orderFillList.append(msg)
        return s2c

    def position_list(conn: Connection, c2s: Any) -> Any:
        acc = broker.account(c2s.header.accID, c2s.header.trdEnv, c2s.header.trdMarket)
        cond = c2s.filterConditions
        s2c = wire.pb("Trd_GetPositionList").S2C()
        s2c.header.CopyFrom(c2s.header)
        for code, pos in sorted(acc.positions.items()):
            mark = broker.mark_price(code, pos.last_fill_price)
            avg = pos.avg_cost
            pl_ratio = mark / avg - 1.0 if avg > 0 else 0.0  # a fraction on the wire (the SDK shows 100 ×)
            if (
                (cond.codeList and pos.code not in cond.codeList)
                or (cond.idList and pos.position_id not in cond.idList)
                or cond.filterMarket not in (0, acc.trd_market)
                or (c2s.HasField("filterPLRatioMin") and pl_ratio < c2s.filterPLRatioMin)
                or (c2s.HasField("filterPLRatioMax") and pl_ratio > c2s.filterPLRatioMax)
            ):
                continue
            msg = s2c.positionList.add()
            msg.positionID, msg.positionSide = pos.position_id, POSITION_SIDE_LONG
            msg.code, msg.name, msg.qty = pos.code, pos.code, pos.qty
            msg.canSellQty = broker.sellable(acc, code)
            msg.price, msg.val = mark, pos.qty * mark
            msg.costPrice = msg.averageCostPrice = msg.dilutedCostPrice = avg
            msg.plVal = msg.unrealizedPL = pos.qty * mark - pos.cost_usd
            msg.plRatio = pl_ratio
            msg.realizedPL = pos.realized_pl_usd
            msg.td_buyQty, msg.td_buyVal = pos.td_buy_qty, pos.td_buy_usd
            msg.td_sellQty, msg.td_sellVal = pos.td_sell_qty, pos.td_sell_usd
            msg.td_trdVal = pos.td_buy_usd + pos.td_sell_usd
            msg.secMarket, msg.trdMarket, msg.currency, msg.accID = (
                pos.sec_market,
                acc.trd_market,
                CURRENCY_USD,
                acc.acc_id,
            )
        return s2c

    def funds(conn: Connection, c2s: Any) -> Any:
        acc = broker.account(c2s.header.accID, c2s.header.trdEnv, c2s.header.trdMarket)
        f = broker.funds(acc)
        s2c = wire.pb("Trd_GetFunds").S2C()
        s2c.header.CopyFrom(c2s.header)
        m = s2c.funds
        m.power, m.totalAssets, m.cash, m.marketVal = f.power_usd, f.total_assets_usd, f.cash_usd, f.market_val_usd
        m.frozenCash, m.debtCash, m.avlWithdrawalCash = f.frozen_usd, max(-f.cash_usd, 0.0), max(f.power_usd, 0.0)
        m.currency, m.netCashPower, m.maxPowerShort = CURRENCY_USD, f.power_usd, 0.0
        m.longMv, m.shortMv, m.securitiesAssets = f.market_val_usd, 0.0, f.total_assets_usd
        m.unrealizedPL, m.realizedPL = f.unrealized_pl_usd, f.realized_pl_usd
        cash_info = m.cashInfoList.add()
        cash_info.currency, cash_info.cash, cash_info.availableBalance = CURRENCY_USD, f.cash_usd, max(f.power_usd, 0.0)
        return s2c

    for proto_id, handler in (
        (2001, acc_list),
        (2005, unlock),
        (2008, sub_acc_push),
        (2202, place),
        (2205, modify),
        (2201, order_list),
        (2211, fill_list),
        (2102, position_list),
        (2101, funds),
    ):
        emu.register(proto_id, _seen_by(guard, handler))


def _seen_by(guard: _LoopGuard, handler: Callable[[Connection, Any], Any]) -> Callable[[Connection, Any], Any]:
    def run(conn: Connection, c2s: Any) -> Any:
        guard.seen()
        return handler(conn, c2s)

    return run
