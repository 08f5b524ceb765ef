"""The live limits and the kill switch: what a paper or live session checks before an order or a modify leaves.

``LiveRiskGate`` holds a strategy's ``execution_rules.live_limits`` and the session's trading state
(``domain.trading_state``) and answers each order with a ``GateDecision``: allowed (perhaps resized), or
denied with the check's name, the value that met the limit, the limit and a reason a person can read. The
checks, in this order, the first that fails deciding:

1. ``order_quantity``: the units to send are a finite number above zero.
2. ``trading_state``: ``ACTIVE`` allows any order; ``REDUCING`` and ``HALTED`` allow only an order against
   the position (a sell while long, a buy while short). One larger than the position is *resized* to the
   position, so it closes it and never flips through zero (the part that would open the other side is new
   exposure); an order on a flat instrument or on the position's own side is denied. The position alone is
   the measure: resting stops and targets are the order manager's to cancel when the position closes.
3. ``max_order_notional``: units x price x ``quote_to_account`` at most the limit (equal is allowed); the
   resized quantity is the one valued. A price that is not finite and above zero cannot be valued and is
   denied (``price``) while the limit is on. Reducing orders are held to it too: a position worth more
   than the limit closes in several orders.
4. ``max_orders_per_minute`` / ``max_modifies_per_minute``: sliding windows of 60 seconds over the times
   given to ``record_submit`` / ``record_modify``; an order at ``now_ns`` is allowed while fewer than the
   limit were recorded in ``(now_ns - 60 s, now_ns]`` (one sent at t counts until t + 60 s, exclusive).
   ``check`` records nothing, so a denied order, or one another check refuses later, uses no room; cancels
   are never throttled (the kill switch must always get its cancels out).

Time is passed in (UTC ns), never read from a clock, so a replay decides the same way every run; it must
not go back (``ConfigError``). The trading state changes only by ``reduce``, ``halt`` and ``resume``,
each returning a ``TradingStateChanged`` record: ``halt`` (the kill switch) is allowed from any state,
again from ``HALTED`` too, and lists the client order ids of the open orders given to it, which the
session must cancel; ``reduce`` goes from ``ACTIVE`` to ``REDUCING`` (a halted gate refuses it: only an
explicit ``resume`` lifts a halt); ``resume`` returns to ``ACTIVE``. With a ``LiveStateStore`` the new
state is written there before the gate takes it, so a session that dies after a halt restarts halted
(``LiveRiskGate.restore``). The throttle windows are not kept: a restart begins them empty.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.ids import ClientOrderId
from quantdesk.domain.order_events import OrderDenied
from quantdesk.domain.orders import Order, OrderSide
from quantdesk.domain.trading_state import TradingState
from quantdesk.strategy.execution_models import LiveLimits

if TYPE_CHECKING:
    from quantdesk.persistence.live_state import LiveStateStore

__all__ = ["THROTTLE_WINDOW_NS", "GateDecision", "LiveRiskGate", "TradingStateChanged"]

THROTTLE_WINDOW_NS = 60 * 1_000_000_000
# an order this close to the position (relative) is the position: float noise must not resize a close
_SAME_SIZE_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class GateDecision:
    """The gate's answer to one order or modify.

    ``quantity_units`` is what may go out: the order's own size, or the position's when a reducing state
    resized it (``resized``), 0.0 when denied. ``check`` names the check that denied or resized it (None
    when allowed as asked); ``value`` is what that check measured and ``limit`` what it allows (NaN when
    allowed as asked).
    """

    allowed: bool
    quantity_units: float
    check: str | None = None
    value: float = math.nan
    limit: float = math.nan
    reason: str = ""

    @property
    def resized(self) -> bool:
        return self.allowed and self.check is not None

    def denied_event(self, order: Order, ts_ns: int) -> OrderDenied:
        """The ``OrderDenied`` event of a denied order (the session records it; nothing is sent)."""
        if self.allowed or self.check is None:
            raise ConfigError(f"order {order.client_order_id}: the gate allowed it, so there is no denial to record")
        return OrderDenied(
            ts_ns=int(ts_ns),
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            reason=f"{self.check}: {self.reason}",
            value=self.value,
            limit=self.limit,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingStateChanged:
    """One transition of the trading state: when, from what, to what, why, and the orders to cancel (a halt's)."""

    ts_ns: int
    previous: TradingState
    state: TradingState
    reason: str
    cancel_client_order_ids: tuple[ClientOrderId, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": "TradingStateChanged",
            "ts_ns": self.ts_ns,
            "time": ns_to_iso(self.ts_ns),
            "previous": str(self.previous),
            "state": str(self.state),
            "reason": self.reason,
            "cancel_client_order_ids": [c.value for c in self.cancel_client_order_ids],
        }


def _deny(check: str, value: float, limit: float, reason: str) -> GateDecision:
    return GateDecision(allowed=False, quantity_units=0.0, check=check, value=value, limit=limit, reason=reason)


@dataclass(slots=True)
class _Window:
    """Event times in the last 60 seconds, oldest first."""

    times_ns: deque[int] = field(default_factory=deque)

    def count(self, now_ns: int) -> int:
        while self.times_ns and self.times_ns[0] <= now_ns - THROTTLE_WINDOW_NS:
            self.times_ns.popleft()
        return len(self.times_ns)


class LiveRiskGate:
    """A session's live limits and trading state (see the module docstring for every rule)."""

    def __init__(
        self,
        limits: LiveLimits,
        state: TradingState = TradingState.ACTIVE,
        *,
        store: LiveStateStore | None = None,
    ) -> None:
        if not isinstance(limits, LiveLimits):
            raise ConfigError(f"live risk gate: limits must be execution_rules.live_limits, found {limits!r}")
        self.limits = limits
        self._state = TradingState(state)
        self._store = store
        self._submits = _Window()
        self._modifies = _Window()
        self._last_ns: int | None = None

    @classmethod
    def restore(cls, limits: LiveLimits, store: LiveStateStore) -> LiveRiskGate:
        """A gate in the trading state ``store`` kept (``ACTIVE`` for a new session), writing its changes there."""
        return cls(limits, store.snapshot().trading_state, store=store)

    @property
    def state(self) -> TradingState:
        return self._state

    @property
    def last_ns(self) -> int | None:
        """The latest time the gate was given (None before the first)."""
        return self._last_ns

    # ---- time -----------------------------------------------------------------------------------------------

    def _advance(self, now_ns: int) -> int:
        if not isinstance(now_ns, int) or isinstance(now_ns, bool):
            raise ConfigError(f"live risk gate: now_ns must be an int of UTC ns, found {now_ns!r}")
        if self._last_ns is not None and now_ns < self._last_ns:
            raise ConfigError(
                f"live risk gate: time went back, {ns_to_iso(now_ns)} after {ns_to_iso(self._last_ns)}; "
                "the gate is given a session clock, which never goes back"
            )
        self._last_ns = now_ns
        return now_ns

    # ---- orders ---------------------------------------------------------------------------------------------

    def check(
        self, order: Order, *, position_qty: float, price: float, now_ns: int, quote_to_account: float = 1.0
    ) -> GateDecision:
        """May ``order`` go out now? ``position_qty`` is the instrument's signed position in units (long > 0),
        ``price`` values one unit in its quote currency (the limit or stop price, or the last price of a
        market order), ``quote_to_account`` one unit of quote currency in the account's (1.0 when the same)."""
        now_ns = self._advance(now_ns)
        decision = self._size(order.side, order.quantity_units, position_qty, price, quote_to_account)
        if not decision.allowed:
            return decision
        throttle = self._throttle(
            self._submits, self.limits.max_orders_per_minute, "max_orders_per_minute", "orders", now_ns
        )
        return decision if throttle is None else throttle

    def check_modify(
        self,
        order: Order,
        *,
        new_quantity_units: float,
        new_price: float,
        position_qty: float,
        now_ns: int,
        quote_to_account: float = 1.0,
    ) -> GateDecision:
        """May resting ``order`` be amended to ``new_quantity_units`` (its whole size, filled units included)
        at ``new_price``? The same checks as ``check`` on what the amended order could still fill, with the
        modify throttle; ``quantity_units`` is the whole size the amend may ask for."""
        now_ns = self._advance(now_ns)
        filled = order.filled_units
        leaves = new_quantity_units - filled
        decision = self._size(order.side, leaves, position_qty, new_price, quote_to_account, amend=True)
        if not decision.allowed:
            return decision
        throttle = self._throttle(
            self._modifies, self.limits.max_modifies_per_minute, "max_modifies_per_minute", "modifies", now_ns
        )
        if throttle is not None:
            return throttle
        whole = new_quantity_units if not decision.resized else filled + decision.quantity_units
        return GateDecision(
            allowed=True,
            quantity_units=whole,
            check=decision.check,
            value=decision.value,
            limit=decision.limit,
            reason=decision.reason,
        )

    def record_submit(self, now_ns: int) -> None:
        """An order left for the broker at ``now_ns``: it counts against ``max_orders_per_minute`` for 60 s."""
        self._submits.times_ns.append(self._advance(now_ns))

    def record_modify(self, now_ns: int) -> None:
        """A modify left for the broker at ``now_ns``: it counts against ``max_modifies_per_minute`` for 60 s."""
        self._modifies.times_ns.append(self._advance(now_ns))

    def _size(
        self,
        side: OrderSide,
        units: float,
        position_qty: float,
        price: float,
        quote_to_account: float,
        *,
        amend: bool = False,
    ) -> GateDecision:
        if not math.isfinite(position_qty):
            raise ConfigError(f"live risk gate: position_qty must be a finite number of units, found {position_qty!r}")
        what = "the amended order's unfilled units" if amend else "an order's units"
        if not (math.isfinite(units) and units > 0):
            return _deny("order_quantity", units, 0.0, f"{what} must be a finite number above 0, found {units!r}")
        decision = GateDecision(allowed=True, quantity_units=float(units))
        if self._state is not TradingState.ACTIVE:
            decision = self._reduce_only(side, float(units), float(position_qty))
            if not decision.allowed:
                return decision
        cap = self.limits.max_order_notional
        if cap is not None:
            if not (math.isfinite(price) and price > 0 and math.isfinite(quote_to_account) and quote_to_account > 0):
                return _deny(
                    "price", price, cap, f"cannot value the order against max_order_notional {cap:g}: price "
                    f"{price!r} x quote_to_account {quote_to_account!r} (both must be finite and above 0)"
                )  # fmt: skip
            notional = decision.quantity_units * price * quote_to_account
            if notional > cap:
                return _deny(
                    "max_order_notional", notional, cap,
                    f"{decision.quantity_units:g} units at {price:g} are worth {notional:,.2f}, above the "
                    f"limit of {cap:,.2f} per order",
                )  # fmt: skip
        return decision

    def _reduce_only(self, side: OrderSide, units: float, position_qty: float) -> GateDecision:
        state = self._state
        held = abs(position_qty)
        if position_qty == 0.0 or side.sign * position_qty > 0:
            holding = (
                "no position" if position_qty == 0.0 else f"a {held:g}-unit {'long' if position_qty > 0 else 'short'}"
            )
            return _deny(
                "trading_state", units, 0.0,
                f"{state} allows only orders that reduce a position; a {side} with {holding} adds exposure",
            )  # fmt: skip
        if units <= held * (1.0 + _SAME_SIZE_TOLERANCE):
            return GateDecision(allowed=True, quantity_units=units)
        return GateDecision(
            allowed=True,
            quantity_units=held,
            check="trading_state",
            value=units,
            limit=held,
            reason=f"resized from {units:g} to {held:g} units: {state} allows closing the position, not "
            "reversing through zero",
        )

    def _throttle(self, window: _Window, cap: int | None, check: str, what: str, now_ns: int) -> GateDecision | None:
        if cap is None:
            return None
        sent = window.count(now_ns)
        if sent < cap:
            return None
        retry_ns = window.times_ns[sent - cap] + THROTTLE_WINDOW_NS
        return _deny(
            check, float(sent), float(cap),
            f"{sent} {what} went out in the last 60 seconds, the limit is {cap}; room again at {ns_to_iso(retry_ns)}",
        )  # fmt: skip

    # ---- trading state --------------------------------------------------------------------------------------

    def _change(
        self, now_ns: int, state: TradingState, reason: str, cancels: tuple[ClientOrderId, ...] = ()
    ) -> TradingStateChanged:
        record = TradingStateChanged(
            ts_ns=now_ns, previous=self._state, state=state, reason=reason, cancel_client_order_ids=cancels
        )
        if self._store is not None:
            self._store.set_trading_state(state, now_ns)  # first: a crash from here on restarts in the new state
        self._state = state
        return record

    def reduce(self, *, now_ns: int, reason: str = "reduce only") -> TradingStateChanged:
        """``ACTIVE`` -> ``REDUCING``: from now on only orders that reduce a position (a no-op change if reducing)."""
        now_ns = self._advance(now_ns)
        if self._state is TradingState.HALTED:
            raise ConfigError(
                "trading state: HALTED cannot go to REDUCING; a halt is lifted only by an explicit resume()"
            )
        return self._change(now_ns, TradingState.REDUCING, reason)

    def halt(
        self, *, now_ns: int, open_orders: Iterable[Order] = (), reason: str = "kill switch"
    ) -> TradingStateChanged:
        """The kill switch: -> ``HALTED`` from any state; the record lists every open order given, to cancel."""
        now_ns = self._advance(now_ns)
        cancels = tuple(dict.fromkeys(o.client_order_id for o in open_orders if o.status.is_open))
        return self._change(now_ns, TradingState.HALTED, reason, cancels)

    def resume(self, *, now_ns: int, reason: str = "resume") -> TradingStateChanged:
        """-> ``ACTIVE`` from ``REDUCING`` or ``HALTED`` (the only way out of a halt)."""
        now_ns = self._advance(now_ns)
        return self._change(now_ns, TradingState.ACTIVE, reason)
