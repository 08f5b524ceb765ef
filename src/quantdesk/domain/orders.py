"""The nouns of trading: ``Order``, ``Fill``, ``Trade``, ``Position`` and the enums they are spelt in.

Each is a frozen dataclass with slots, not a pydantic model: they are built in bulk from records that are
already checked (a backtest's kernel output, later a broker's reports translated at its adapter), so they
carry no validation of their own and cost a tuple each; the one value that comes from outside unchecked,
the ``ClientOrderId``, checks itself (``domain.ids``). Quantities are units of the instrument
(``*_units``), prices are in its quote currency, money (``commission``, ``spread_slippage``, ``impact``,
``pnl``) in the account's; a missing price is NaN. Times are int64 nanoseconds since the epoch, UTC
(``*_ns``, ``core.timestamps``). ``to_dict()`` is JSON-ready: enums as their text, NaN as None, each
``*_ns`` time kept as an integer and written beside it as ISO 8601 (``*_time``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import Enum, StrEnum
from typing import Any

from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.ids import ClientOrderId, OrderKind


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is OrderSide.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    GTC = "GTC"
    DAY = "DAY"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    """Where an order is in its life; ``DENIED`` never left quantdesk, ``REJECTED`` was refused by a broker."""

    NEW = "new"
    DENIED = "denied"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        """Still working at a broker (or on its way there)."""
        return self in _OPEN_STATUSES


_OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


class PositionSide(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


def json_value(value: Any) -> Any:
    """One field as JSON: enums and ids as text, NaN and infinities as None, tuples as lists."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is int or kind is str or value is None:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, ClientOrderId):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    return value


def record_dict(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as JSON, each ``*_ns`` time followed by its ISO 8601 text (``*_time``, None if unset)."""
    out: dict[str, Any] = {}
    for name, time_key in _RECORD_PLANS.get(type(obj)) or _record_plan(type(obj)):
        value = getattr(obj, name)
        out[name] = json_value(value)
        if time_key is not None:
            out[time_key] = None if value is None else ns_to_iso(int(value))
    return out


_RECORD_PLANS: dict[type, tuple[tuple[str, str | None], ...]] = {}  # a memo of ``_record_plan`` by class


def _record_plan(cls: type) -> tuple[tuple[str, str | None], ...]:
    """A class's field names, each with its ``*_time`` key when it is a ``*_ns`` time (worked out once a class: the
    event log writes every order event through ``record_dict``)."""
    plan = tuple((f.name, f.name[:-3] + "_time" if f.name.endswith("_ns") else None) for f in fields(cls))
    _RECORD_PLANS[cls] = plan
    return plan


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order as it stands: what was asked (side, type, size, prices), how much filled, and its status.

    ``quantity_units`` is the order's size when it was last sized; a backtest that sizes at the fill
    (the kernel's default) leaves 0.0 on an order that never reached a fill attempt. ``reason`` is why it
    was sent (``entry``, or an exit's reason such as ``signal_exit`` or ``stop_loss``). ``order_number`` is
    the backtest kernel's own number for it (None for an order the kernel does not hold as a record).
    """

    client_order_id: ClientOrderId
    symbol: str
    kind: OrderKind
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    quantity_units: float
    filled_units: float
    limit_price: float
    stop_price: float
    average_price: float  # volume-weighted over its fills, NaN before the first
    status: OrderStatus
    reason: str
    decided_ns: int  # the close that decided it
    submitted_ns: int  # when it left for the market
    accepted_ns: int | None  # when it reached the market; None if it never did
    closed_ns: int | None  # when it was filled, cancelled or expired; None while it works
    order_number: int | None = None

    @property
    def leaves_units(self) -> float:
        """What is still to fill while the order works; 0 once it is done."""
        return max(self.quantity_units - self.filled_units, 0.0) if self.status.is_open else 0.0

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)

    def evolve(self, **changes: Any) -> Order:
        """This order with ``changes``, as ``dataclasses.replace`` makes it at half its cost (the order manager and
        the simulated broker make a new order on every event: a fifth of a paper session's time went to
        ``replace``). Every field is written out; a test holds it equal to ``replace`` field by field."""
        if not _ORDER_FIELD_SET.issuperset(changes):
            raise TypeError(f"Order.evolve: no field {', '.join(sorted(changes.keys() - _ORDER_FIELD_SET))}")
        get = changes.get
        new = object.__new__(Order)
        put = object.__setattr__
        put(new, "client_order_id", get("client_order_id", self.client_order_id))
        put(new, "symbol", get("symbol", self.symbol))
        put(new, "kind", get("kind", self.kind))
        put(new, "side", get("side", self.side))
        put(new, "order_type", get("order_type", self.order_type))
        put(new, "time_in_force", get("time_in_force", self.time_in_force))
        put(new, "quantity_units", get("quantity_units", self.quantity_units))
        put(new, "filled_units", get("filled_units", self.filled_units))
        put(new, "limit_price", get("limit_price", self.limit_price))
        put(new, "stop_price", get("stop_price", self.stop_price))
        put(new, "average_price", get("average_price", self.average_price))
        put(new, "status", get("status", self.status))
        put(new, "reason", get("reason", self.reason))
        put(new, "decided_ns", get("decided_ns", self.decided_ns))
        put(new, "submitted_ns", get("submitted_ns", self.submitted_ns))
        put(new, "accepted_ns", get("accepted_ns", self.accepted_ns))
        put(new, "closed_ns", get("closed_ns", self.closed_ns))
        put(new, "order_number", get("order_number", self.order_number))
        return new


_ORDER_FIELD_SET = frozenset(f.name for f in fields(Order))


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution of an order: units at a price, with its costs (money, already in the price but commission)."""

    fill_id: str
    client_order_id: ClientOrderId
    symbol: str
    ts_ns: int
    side: OrderSide
    quantity_units: float
    price: float
    reference_price: float  # the open, limit or stop price before spread, slippage and impact
    commission: float
    spread_slippage: float
    impact: float
    reason: str
    trade_id: str | None  # the trade it opened, added to or closed

    @property
    def signed_units(self) -> float:
        return self.side.sign * self.quantity_units

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """A round trip: the fills that opened a position and those that closed it, with its result.

    An open trade (``is_open``) has no exit time; its ``exit_price`` is its mark at the last close and its
    ``pnl`` is unrealised. Prices are volume-weighted over the fills, costs of spread and impact included;
    ``pnl`` is net of every cost.
    """

    trade_id: str
    symbol: str
    side: OrderSide  # the side of its entry
    is_open: bool
    quantity_units: float
    decided_ns: int
    entry_ns: int
    entry_price: float
    exit_ns: int | None
    exit_price: float
    exit_reason: str
    pnl: float
    commission: float
    spread_slippage: float
    impact: float
    initial_stop: float
    initial_risk: float
    bars_held: int
    entry_order_ids: tuple[ClientOrderId, ...]
    exit_order_ids: tuple[ClientOrderId, ...]

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """What is held of one instrument at ``ts_ns``: units, their average entry price and the mark."""

    symbol: str
    side: PositionSide
    quantity_units: float
    average_price: float
    mark_price: float
    pnl: float  # the open trade's result so far, net of costs, what is held marked at ``mark_price``
    ts_ns: int
    opened_ns: int
    trade_id: str

    @property
    def signed_units(self) -> float:
        return {PositionSide.LONG: 1.0, PositionSide.SHORT: -1.0, PositionSide.FLAT: 0.0}[self.side] * (
            self.quantity_units
        )

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)
