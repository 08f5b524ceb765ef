"""The broker interface: what the order manager asks of any market it sends orders to (a ``Protocol``).

A broker takes an order (``submit``), a cancel or a modify of one it holds, lists the orders it holds open,
says whether it has ever seen a client order id (``known``, what a restarted session reconciles with), and
hands back what happened as order events in the order they happened (``poll``, which drains them). It never
raises for a business outcome: a refused order is an ``OrderRejected`` event. The simulated paper broker
(``execution.sim_broker``) is the first; the moomoo adapter implements the same five methods, translating
its SDK's callbacks into ``poll``'s events at its boundary.
"""

from __future__ import annotations

from typing import Protocol

from quantdesk.domain.ids import ClientOrderId
from quantdesk.domain.order_events import OrderEvent
from quantdesk.domain.orders import Order


class Broker(Protocol):
    def submit(self, order: Order) -> None:
        """Send ``order`` (status ``submitted``); what becomes of it arrives through ``poll``."""
        ...

    def cancel(self, client_order_id: ClientOrderId) -> bool:
        """Ask to cancel a working order; False when the broker holds no working order of that id."""
        ...

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity_units: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> bool:
        """Ask to change a working order's size or prices (None: unchanged); False when none of that id works."""
        ...

    def open_orders(self) -> list[Order]:
        """The orders the broker holds that still work."""
        ...

    def known(self, client_order_id: ClientOrderId) -> bool:
        """Whether an order of this id has ever reached the broker (for reconciliation after a restart)."""
        ...

    def poll(self) -> list[OrderEvent]:
        """The events since the last poll, oldest first (each event once)."""
        ...
