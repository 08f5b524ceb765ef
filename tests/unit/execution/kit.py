"""Orders and bars for the execution tests: one session, ids derived from a step number."""

from __future__ import annotations

import math

from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_HOUR
from quantdesk.domain.ids import ClientOrderId, OrderKind, session_id
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quantdesk.execution.sim_broker import SimBar

T0 = 1_704_186_000_000_000_000  # 2024-01-02T09:00:00Z
SESSION = session_id("strategy-x", ["AAA"], "1h", T0)


def coid(n: int, kind: OrderKind = OrderKind.ENTRY, symbol: str = "AAA") -> ClientOrderId:
    return ClientOrderId.derive(SESSION, symbol, T0 + n * NS_PER_HOUR, kind)


def new_order(
    n: int = 0,
    *,
    symbol: str = "AAA",
    kind: OrderKind = OrderKind.ENTRY,
    side: OrderSide = OrderSide.BUY,
    order_type: OrderType = OrderType.MARKET,
    tif: TimeInForce = TimeInForce.GTC,
    qty: float = 100.0,
    limit: float = math.nan,
    stop: float = math.nan,
    submitted_ns: int | None = None,
) -> Order:
    at = T0 + n * NS_PER_HOUR if submitted_ns is None else submitted_ns
    return Order(
        client_order_id=coid(n, kind, symbol),
        symbol=symbol,
        kind=kind,
        side=side,
        order_type=order_type,
        time_in_force=tif,
        quantity_units=qty,
        filled_units=0.0,
        limit_price=limit,
        stop_price=stop,
        average_price=math.nan,
        status=OrderStatus.NEW,
        reason=kind.value,
        decided_ns=at,
        submitted_ns=at,
        accepted_ns=None,
        closed_ns=None,
    )


def hour_bar(k: int, o: float, h: float, lo: float, c: float, volume: float = 1e6, **extra: float) -> SimBar:
    """The ``k``-th one-hour bar from T0 (all on 2024-01-02 for k < 15)."""
    return SimBar(ts_ns=T0 + k * NS_PER_HOUR, open=o, high=h, low=lo, close=c, volume=volume, **extra)


def day_bar(d: int, o: float, h: float, lo: float, c: float, volume: float = 1e6) -> SimBar:
    return SimBar(ts_ns=T0 + d * NS_PER_DAY, open=o, high=h, low=lo, close=c, volume=volume)
