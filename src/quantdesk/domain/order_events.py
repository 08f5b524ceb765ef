"""What happens to an order, in the past tense: submitted, accepted, rejected, denied, filled, cancelled,
expired, amended.

An order's life is a sequence of these events; its state (``domain.orders.Order``) is what they add up to.
Every event names its order (``client_order_id``), its instrument (``symbol``) and when it happened
(``ts_ns``, UTC nanoseconds), and carries only what changed. ``OrderDenied`` is quantdesk's own refusal
(a pre-trade check), ``OrderRejected`` a broker's. Frozen dataclasses with slots like the nouns, for the
same reason; ``to_dict()`` is JSON-ready and names the event (``"event": "OrderFilled"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.orders import Fill, OrderSide, OrderType, TimeInForce, record_dict


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    ts_ns: int
    client_order_id: ClientOrderId
    symbol: str

    def to_dict(self) -> dict[str, Any]:
        return {"event": type(self).__name__, **record_dict(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(OrderEvent):
    """The order left for the market, with everything a broker needs to hold it."""

    kind: OrderKind
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    quantity_units: float
    limit_price: float
    stop_price: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(OrderEvent):
    """The market holds the order: from here it can fill."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(OrderEvent):
    """A broker refused the order (``reason`` in its words)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied(OrderEvent):
    """A pre-trade check refused the order: ``reason`` names the check, ``value`` met ``limit``."""

    reason: str
    value: float
    limit: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(OrderEvent):
    """Part or all of the order executed (one ``Fill``)."""

    fill_id: str
    side: OrderSide
    quantity_units: float
    price: float
    commission: float
    spread_slippage: float
    impact: float
    trade_id: str | None
    reference_price: float = math.nan  # the open, limit or stop price before spread, slippage and impact

    @classmethod
    def from_fill(cls, fill: Fill) -> OrderFilled:
        return cls(
            ts_ns=fill.ts_ns, client_order_id=fill.client_order_id, symbol=fill.symbol, fill_id=fill.fill_id,
            side=fill.side, quantity_units=fill.quantity_units, price=fill.price, commission=fill.commission,
            spread_slippage=fill.spread_slippage, impact=fill.impact, trade_id=fill.trade_id,
            reference_price=fill.reference_price,
        )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(OrderEvent):
    """The order stopped working before it filled in full; ``filled_units`` of it had filled. ``reason`` says why
    when the broker cancelled it itself ('' when asked to): ``fill_or_kill`` (not all of a FOK order could
    fill), ``margin`` (the account could not carry one lot of it)."""

    filled_units: float
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(OrderEvent):
    """The order's time in force ran out; ``filled_units`` of it had filled."""

    filled_units: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAmended(OrderEvent):
    """The working order was modified (a trailing stop moved): its new size and prices."""

    quantity_units: float
    limit_price: float
    stop_price: float


ORDER_EVENT_TYPES: tuple[type[OrderEvent], ...] = (
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderDenied,
    OrderFilled,
    OrderCancelled,
    OrderExpired,
    OrderAmended,
)
