"""The order state machine: which event may move an order from which status, and what the order becomes.

``TRANSITIONS`` is the whole table, one row per (status, event type) that is allowed; anything not in it is
illegal and ``transition`` raises ``OrderStateError`` naming the order, its status and the event (a fill
after a cancel, an accept after a reject, a second submit). ``new`` goes to ``submitted`` (or ``denied``, a
pre-trade check that kept it home); ``submitted`` to ``accepted`` or ``rejected``; a working order
(``submitted``, ``accepted``, ``partially_filled``) fills in part or in full, is cancelled, expires or is
amended. A fill before the acceptance is allowed, as brokers report them in that order now and then; the
order counts as accepted at that fill. Fills accumulate ``filled_units`` and the volume-weighted
``average_price``; a fill beyond the order's quantity, on the wrong side or of another instrument is
illegal, and so is a cancel or expiry whose ``filled_units`` disagrees with the fills seen. ``denied``,
``rejected``, ``filled``, ``cancelled`` and ``expired`` are final.
"""

from __future__ import annotations

import math

from quantdesk.core.errors import OrderStateError
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
from quantdesk.domain.orders import Order, OrderStatus

S = OrderStatus
_WORKING = (S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED)
_FILL_TO = frozenset({S.PARTIALLY_FILLED, S.FILLED})

TRANSITIONS: dict[tuple[OrderStatus, type[OrderEvent]], frozenset[OrderStatus]] = {
    (S.NEW, OrderSubmitted): frozenset({S.SUBMITTED}),
    (S.NEW, OrderDenied): frozenset({S.DENIED}),
    (S.SUBMITTED, OrderAccepted): frozenset({S.ACCEPTED}),
    (S.SUBMITTED, OrderRejected): frozenset({S.REJECTED}),
    **{(s, OrderFilled): _FILL_TO for s in _WORKING},
    **{(s, OrderCancelled): frozenset({S.CANCELLED}) for s in _WORKING},
    **{(s, OrderExpired): frozenset({S.EXPIRED}) for s in _WORKING},
    **{(s, OrderAmended): frozenset({s}) for s in _WORKING},
}
"""(status, event type) -> the statuses the order may be in after it; a fill's is decided by its quantity."""

FINAL_STATUSES = frozenset({S.DENIED, S.REJECTED, S.FILLED, S.CANCELLED, S.EXPIRED})


def _tolerance(quantity: float) -> float:
    return 1e-9 * max(1.0, abs(quantity))


def _illegal(order: Order, event: OrderEvent, why: str) -> OrderStateError:
    return OrderStateError(
        f"order {order.client_order_id} ({order.symbol}): {type(event).__name__} at {event.ts_ns} is not allowed "
        f"when the order is {order.status.value}: {why}"
    )


def transition(order: Order, event: OrderEvent) -> Order:
    """The order after ``event``; ``OrderStateError`` when the table or the quantities do not allow it."""
    if event.client_order_id != order.client_order_id:
        raise _illegal(order, event, f"the event is for order {event.client_order_id}")
    if event.symbol != order.symbol:
        raise _illegal(order, event, f"the event is for {event.symbol!r}, the order for {order.symbol!r}")
    allowed = TRANSITIONS.get((order.status, type(event)))
    if allowed is None:
        final = " (a final status)" if order.status in FINAL_STATUSES else ""
        raise _illegal(order, event, f"no transition from {order.status.value}{final} on {type(event).__name__}")
    ts = event.ts_ns
    if isinstance(event, OrderSubmitted):
        return order.evolve(
            status=S.SUBMITTED, submitted_ns=ts, kind=event.kind, side=event.side, order_type=event.order_type,
            time_in_force=event.time_in_force, quantity_units=event.quantity_units, limit_price=event.limit_price,
            stop_price=event.stop_price, reason=event.reason,
        )  # fmt: skip
    if isinstance(event, OrderDenied):
        return order.evolve(status=S.DENIED, closed_ns=ts)
    if isinstance(event, OrderAccepted):
        return order.evolve(status=S.ACCEPTED, accepted_ns=ts)
    if isinstance(event, OrderRejected):
        return order.evolve(status=S.REJECTED, closed_ns=ts)
    if isinstance(event, OrderFilled):
        return _filled(order, event)
    if isinstance(event, OrderCancelled | OrderExpired):
        if abs(event.filled_units - order.filled_units) > _tolerance(order.quantity_units):
            raise _illegal(
                order, event, f"it reports {event.filled_units} filled, the fills add up to {order.filled_units}"
            )
        status = S.CANCELLED if isinstance(event, OrderCancelled) else S.EXPIRED
        return order.evolve(status=status, closed_ns=ts)
    if isinstance(event, OrderAmended):
        if not event.quantity_units > order.filled_units:
            raise _illegal(
                order, event, f"the new quantity {event.quantity_units} is not above the {order.filled_units} filled"
            )
        return order.evolve(
            quantity_units=event.quantity_units, limit_price=event.limit_price, stop_price=event.stop_price
        )
    raise _illegal(order, event, "an event type the state machine does not know")  # pragma: no cover


def _filled(order: Order, event: OrderFilled) -> Order:
    q = event.quantity_units
    if not (q > 0.0 and math.isfinite(q)):
        raise _illegal(order, event, f"a fill of {q} units (expected a positive number)")
    if not (event.price > 0.0 and math.isfinite(event.price)):
        raise _illegal(order, event, f"a fill at price {event.price} (expected a positive number)")
    if event.side != order.side:
        raise _illegal(order, event, f"a {event.side.value} fill of a {order.side.value} order")
    total = order.filled_units + q
    if total > order.quantity_units + _tolerance(order.quantity_units):
        raise _illegal(
            order, event, f"{q} units would fill {total} of an order for {order.quantity_units} (beyond its quantity)"
        )
    average = (
        event.price
        if order.filled_units == 0.0
        else (order.average_price * order.filled_units + event.price * q) / total
    )
    done = total >= order.quantity_units - _tolerance(order.quantity_units)
    return order.evolve(
        filled_units=order.quantity_units if done else total,
        average_price=average,
        status=S.FILLED if done else S.PARTIALLY_FILLED,
        accepted_ns=order.accepted_ns if order.accepted_ns is not None else event.ts_ns,
        closed_ns=event.ts_ns if done else None,
    )
