"""The order manager: sends orders to a broker at most once each, applies what the broker reports through the
state machine, and logs every event.

``submit(order)`` takes an order in status ``new``. A client order id the manager already holds is refused
(False) and never reaches the broker. With a live state store (``persistence.live_state``) the id is
claimed first (``claim_send``, durable before the broker call); then the ``OrderSubmitted`` is appended to
the event log, and only then the order goes to the broker. A SIGKILL can therefore stop a session (a)
after the claim, before the log: the restarted session re-derives the same decision and id, ``submit``
finds the id claimed but neither held nor known to the broker, and sends it; (b) after the log, before the
broker call: ``reconcile()`` finds the id claimed, in the log and unknown to the broker, and sends it again,
once; (c) after the broker call: the broker knows the id and nothing is sent again. A manager made on an
event log that already holds events starts from the orders they replay to. ``process()`` drains the broker's
events into the orders (an illegal one raises ``OrderStateError``: the broker and the manager disagree, which
needs a person) and the log; events for ids the manager never sent (orders placed by hand at the broker) are
kept apart in ``foreign_events``. ``deny`` records a pre-trade refusal (``OrderDenied``) of an order that never leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quantdesk.core.errors import OrderStateError
from quantdesk.domain.ids import ClientOrderId
from quantdesk.domain.order_events import OrderDenied, OrderEvent, OrderSubmitted
from quantdesk.domain.orders import Order, OrderStatus
from quantdesk.execution.broker import Broker
from quantdesk.execution.event_log import EventLog, replay
from quantdesk.execution.state_machine import transition
from quantdesk.persistence.live_state import LiveStateStore


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What ``reconcile`` found: ids re-sent (claimed, logged, unknown to the broker), ids the broker already
    had, ids claimed without a logged order (the session sends them when it re-derives the decision), ids open
    in the log that the broker holds no longer (their closing events never reached the log: ask the broker for
    their fills), and the event log's torn last line, if any."""

    resent: tuple[ClientOrderId, ...] = ()
    known_to_broker: tuple[ClientOrderId, ...] = ()
    claimed_not_logged: tuple[str, ...] = ()
    not_open_at_broker: tuple[ClientOrderId, ...] = ()
    torn_line: str | None = field(default=None)


class OrderManager:
    """One session's orders between the strategy and a broker (see the module docstring)."""

    def __init__(self, broker: Broker, event_log: EventLog, live_state: LiveStateStore | None = None) -> None:
        self.broker = broker
        self.event_log = event_log
        self.live_state = live_state
        self._orders: dict[ClientOrderId, Order] = replay(event_log.events())
        # the ids of the open orders, in sending order: read at every commit of a session's live state
        self._open: dict[ClientOrderId, None] = dict.fromkeys(c for c, o in self._orders.items() if o.status.is_open)
        self.foreign_events: list[OrderEvent] = []

    # ---- sending ------------------------------------------------------------------------------------------

    def submit(self, order: Order) -> bool:
        """Send ``order`` (status ``new``) unless its id was sent before; True when it went to the broker."""
        coid = order.client_order_id
        if order.status is not OrderStatus.NEW:
            raise OrderStateError(f"order {coid}: submit expects a new order, found one {order.status.value}")
        if coid in self._orders:
            return False
        claimed_before = self.live_state is not None and not self.live_state.claim_send(coid.value)
        if claimed_before and self.broker.known(coid):
            return False  # claimed by an earlier run of this session and sent: it is sent only if it never got there
        event = OrderSubmitted(
            ts_ns=order.submitted_ns, client_order_id=coid, symbol=order.symbol, kind=order.kind, side=order.side,
            order_type=order.order_type, time_in_force=order.time_in_force, quantity_units=order.quantity_units,
            limit_price=order.limit_price, stop_price=order.stop_price, reason=order.reason,
        )  # fmt: skip
        sent = transition(order, event)
        self.event_log.append(event)
        self._orders[coid] = sent
        self._open[coid] = None
        self.broker.submit(sent)
        return True

    def deny(self, order: Order, *, reason: str, value: float, limit: float, ts_ns: int) -> Order:
        """Record that a pre-trade check refused ``order``: it never leaves, its id is spent."""
        event = OrderDenied(
            ts_ns=ts_ns, client_order_id=order.client_order_id, symbol=order.symbol, reason=reason, value=value,
            limit=limit,
        )  # fmt: skip
        denied = transition(order, event)
        self.event_log.append(event)
        self._orders[order.client_order_id] = denied
        return denied

    def cancel(self, client_order_id: ClientOrderId) -> bool:
        """Ask the broker to cancel a working order; False when it holds none of that id."""
        self._working(client_order_id, "cancel")
        return self.broker.cancel(client_order_id)

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity_units: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> bool:
        """Ask the broker to change a working order; the change takes effect at its ``OrderAmended``."""
        self._working(client_order_id, "modify")
        return self.broker.modify(
            client_order_id, quantity_units=quantity_units, limit_price=limit_price, stop_price=stop_price
        )

    def _working(self, coid: ClientOrderId, what: str) -> Order:
        order = self._orders.get(coid)
        if order is None:
            raise OrderStateError(f"{what}: no order {coid} was sent by this session")
        if not order.status.is_open:
            raise OrderStateError(f"{what}: order {coid} is {order.status.value}, no longer working")
        return order

    # ---- what comes back ----------------------------------------------------------------------------------

    def process(self) -> list[OrderEvent]:
        """Apply the broker's events since the last call to the orders and the log; returns them."""
        applied: list[OrderEvent] = []
        for event in self.broker.poll():
            coid = event.client_order_id
            order = self._orders.get(coid)
            if order is None:
                self.foreign_events.append(event)
                continue
            after = transition(order, event)
            self._orders[coid] = after
            if not after.status.is_open:
                self._open.pop(coid, None)
            self.event_log.append(event)
            applied.append(event)
        return applied

    def reconcile(self) -> ReconcileReport:
        """After a restart (the orders are rebuilt from the log when the manager is made): apply what the broker
        reported meanwhile, send once each id claimed and logged that the broker never saw, and report the
        orders open here that the broker knows but no longer holds open (see the module docstring)."""
        self.process()
        claimed = self.live_state.claimed() if self.live_state is not None else {c.value for c in self._orders}
        resent: list[ClientOrderId] = []
        known: list[ClientOrderId] = []
        for coid, order in self._orders.items():
            if order.status is OrderStatus.DENIED or coid.value not in claimed:
                continue
            if self.broker.known(coid):
                known.append(coid)
            elif order.status is OrderStatus.SUBMITTED:
                self.broker.submit(order)
                resent.append(coid)
        logged = {c.value for c in self._orders}
        at_broker = {o.client_order_id for o in self.broker.open_orders()}
        return ReconcileReport(
            resent=tuple(resent),
            known_to_broker=tuple(known),
            claimed_not_logged=tuple(sorted(claimed - logged)),
            not_open_at_broker=tuple(c for c in known if self._orders[c].status.is_open and c not in at_broker),
            torn_line=getattr(self.event_log, "torn_line", None),
        )

    # ---- reading ------------------------------------------------------------------------------------------

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        return self._orders.get(client_order_id)

    def open_orders(self) -> list[Order]:
        return [self._orders[c] for c in self._open]

    def closed_orders(self) -> list[Order]:
        return [o for o in self._orders.values() if not o.status.is_open]
