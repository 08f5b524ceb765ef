"""The nouns of trading: instruments, timeframes, calendars and bars; orders, fills, trades, positions and
the order events, with their deterministic ids."""

from quantdesk.domain.bars import BAR_COLUMNS, PRICE_COLUMNS, Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.ids import ClientOrderId, OrderKind, session_id
from quantdesk.domain.instrument import AssetClass, Instrument
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
from quantdesk.domain.orders import (
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    TimeInForce,
    Trade,
)
from quantdesk.domain.timeframe import Timeframe

__all__ = [
    "BAR_COLUMNS",
    "PRICE_COLUMNS",
    "AssetClass",
    "Bars",
    "ClientOrderId",
    "Fill",
    "Instrument",
    "Order",
    "OrderAccepted",
    "OrderAmended",
    "OrderCancelled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderKind",
    "OrderRejected",
    "OrderSide",
    "OrderStatus",
    "OrderSubmitted",
    "OrderType",
    "Position",
    "PositionSide",
    "TimeInForce",
    "Timeframe",
    "Trade",
    "TradingCalendar",
    "session_id",
]
