"""The live limits and the kill switch: what a paper or live session checks before an order or a modify leaves.

``LiveRiskGate`` holds a strategy's ``execution_rules.live_limits`` and the session's trading state
(``domain.trading_state``) and answers each order with a ``GateDecision``: allowed (perhaps resized), or
denied with the check's name, the value that met the limit, the limit and a reason a person can read. An
order *reduces* the position when it is against it (a sell while long, a buy while short) and no larger than
it. The checks, in this order, the first that fails deciding (each later one sees the units an earlier one
resized to):

1. ``order_quantity``: the units to send are a finite number above zero.
2. ``trading_state``: ``ACTIVE`` allows any order; ``REDUCING`` and ``HALTED`` allow only an order against
   the position. One larger than the position is *resized* to the position, so it closes it and never flips
   through zero (the part that would open the other side is new exposure); an order on a flat instrument or
   on the position's own side is denied. The position alone is the measure: resting stops and targets are
   the order manager's to cancel when the position closes.
3. ``market_hours`` (``market_hours_only``): while the caller says the instrument is outside its regular
   session (``in_market_hours=False``; None is not known, and not checked), only an order against the
   position goes out, resized to close it as in 2 (value: the units asked, limit: 0 new units, or the
   position when resized). A reducing order outside the session is allowed: a protective close is never
   blocked.
4. ``stale_data`` (``max_quote_age_s``): while the instrument's last quote is older than the limit, or of
   unknown age (``quote_age_s`` None or NaN while the limit is on), likewise only an order against the
   position, resized to close it (value: the age in seconds, NaN when unknown; limit: the largest age). An
   age at the limit is fresh, and so is a negative one (a quote stamped a little after the session clock).
5. ``max_position_notional``: |position + the order's signed units| x price x ``quote_to_account`` at
   most the limit (equal is allowed). A reducing order always passes, unvalued. A larger one is *resized*
   down to the most units that fit (whole lots when the caller gives ``lot_units``; an order against the
   position may still close it and open the other side up to the limit), or denied when nothing fits (the
   position is at or over the limit on the order's side already, or less than one lot fits). A price that
   cannot be valued is denied (``price``) while the limit is on, unless the order reduces. Only the position
   is measured, not the instrument's other resting orders.
6. ``max_order_notional``: units x price x ``quote_to_account`` at most the limit (equal is allowed); the
   resized quantity is the one valued. A price that is not finite and above zero cannot be valued and is
   denied (``price``) while the limit is on. Reducing orders are held to it too: a position worth more
   than the limit closes in several orders.
7. ``max_orders_per_minute`` / ``max_modifies_per_minute``: sliding windows of 60 seconds over the times
   given to ``record_submit`` / ``record_modify``; an order at ``now_ns`` is allowed while fewer than the
   limit were recorded in ``(now_ns - 60 s, now_ns]`` (one sent at t counts until t + 60 s, exclusive).
   ``check`` records nothing, so a denied order, or one another check refuses later, uses no room; cancels
   are never throttled (the kill switch must always get its cancels out).

So no reducing order is stopped by market hours, stale data or the position limit; only the order notional
limit (a close in several orders) and the throttles hold one back.

``max_daily_loss`` is not a check of an order: the caller gives the gate its equity (``check_daily_loss``,
with the trading day's id). The first equity of a day is that day's start; when the start less the equity
now reaches the limit, the gate halts through ``halt`` (so the halt is written to the store first, and the
record lists the open orders given, to cancel) with a reason naming the loss and the limit, and the caller
flattens: a halted gate lets only orders that reduce a position through. While halted it halts no second
time (None); after an explicit ``resume`` the same day, a loss still at the limit halts again at the next
call; a new day starts a new baseline (it does not lift a halt). With the limit off the call does nothing.
With a store the day and its start are written there when first seen (``LiveStateStore.set_day_start``),
and ``restore`` takes them back, so a restarted session keeps the day's start; without one a restart takes
the first equity it sees that day as the start.

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
from numbers import Real
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

    ``quantity_units`` is what may go out: the order's own size, or a smaller one when a check resized it
    (``resized``: to the position's size, or to what fits under ``max_position_notional``), 0.0 when denied.
    ``check`` names the check that denied or resized it (the last one that resized, None when allowed as
    asked); ``value`` is what that check measured and ``limit`` what it allows (NaN when allowed as asked).
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


def _reduces(side: OrderSide, units: float, position_qty: float) -> bool:
    """Against the position and no larger than it (float noise aside)."""
    return side.sign * position_qty < 0 and units <= abs(position_qty) * (1.0 + _SAME_SIZE_TOLERANCE)


def _holding(position_qty: float) -> str:
    if position_qty == 0.0:
        return "no position"
    return f"a {abs(position_qty):g}-unit {'long' if position_qty > 0 else 'short'}"


def _valuable(price: float, quote_to_account: float) -> bool:
    return math.isfinite(price) and price > 0 and math.isfinite(quote_to_account) and quote_to_account > 0


def _floor_lots(units: float, lot_units: float) -> float:
    """``units`` down to whole lots (2.9999999999 lots is 3), as ``kernels.fills.floor_lots`` rounds them, written
    exactly where the lot is 1 / a whole number (0.3 of a 0.1 lot, not 0.30000000000000004)."""
    lots = math.floor(units / lot_units + 1e-9)
    per_unit = 1.0 / lot_units
    whole = math.floor(per_unit + 0.5)
    return lots / whole if abs(per_unit - whole) < 1e-9 else lots * lot_units


def _finite(x: object, name: str, unit: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(x):
        raise ConfigError(f"live risk gate: {name} must be a finite number ({unit}), found {x!r}")
    return float(x)


def _day_key(day: int | str) -> str:
    if isinstance(day, bool) or not isinstance(day, int | str) or day == "":
        raise ConfigError(f"live risk gate: day must be a trading day's id (an int or a non-empty text), found {day!r}")
    return str(day)


def _reduce_only(
    decision: GateDecision,
    side: OrderSide,
    position_qty: float,
    check: str,
    rule: str,
    close_rule: str,
    *,
    measured: tuple[float, float] | None = None,
) -> GateDecision:
    """Only an order against the position passes ``check``: as it is when no larger than the position (with an
    earlier check's resize kept), resized to the position when larger, denied on a flat instrument or on the
    position's side. ``measured`` is the (value, limit) to report; None: the units asked and those allowed."""
    units = decision.quantity_units
    held = abs(position_qty)
    if position_qty == 0.0 or side.sign * position_qty > 0:
        value, limit = measured if measured is not None else (units, 0.0)
        return _deny(check, value, limit, f"{rule}; a {side} with {_holding(position_qty)} adds exposure")
    if units <= held * (1.0 + _SAME_SIZE_TOLERANCE):
        return decision
    value, limit = measured if measured is not None else (units, held)
    return GateDecision(
        allowed=True,
        quantity_units=held,
        check=check,
        value=value,
        limit=limit,
        reason=f"resized from {units:g} to {held:g} units: {close_rule}",
    )


def _position_limit(
    decision: GateDecision,
    side: OrderSide,
    position_qty: float,
    price: float,
    quote_to_account: float,
    cap: float,
    lot_units: float | None,
) -> GateDecision:
    """``max_position_notional``: a reducing order as it is; else the position once it fills at most ``cap``,
    the order resized down to the most units (whole lots with ``lot_units``) that keep it so, or denied."""
    units = decision.quantity_units
    if _reduces(side, units, position_qty):
        return decision
    if not _valuable(price, quote_to_account):
        return _deny(
            "price", price, cap, f"cannot value the position against max_position_notional {cap:g}: price "
            f"{price!r} x quote_to_account {quote_to_account!r} (both must be finite and above 0)"
        )  # fmt: skip
    unit_value = price * quote_to_account

    def worth(k: float) -> float:
        return abs(position_qty + side.sign * k) * unit_value

    after = worth(units)
    if after <= cap:
        return decision
    room = cap / unit_value - side.sign * position_qty  # the most units that keep |position after| x value <= cap
    fit = room if lot_units is None else _floor_lots(room, lot_units)
    while fit > 0 and worth(fit) > cap:  # float noise at the limit: a lot (or an ulp) less
        fit = _floor_lots(fit - 0.5 * lot_units, lot_units) if lot_units is not None else math.nextafter(fit, 0.0)
    if not fit > 0:  # with a lot, fit is whole lots: above 0 is at least one
        room_text = "no room" if room <= 0 or lot_units is None else f"{room:g} units, under one lot of {lot_units:g}"
        return _deny(
            "max_position_notional", after, cap,
            f"a {side} of {units:g} units at {price:g} would make the position worth {after:,.2f}, above the "
            f"limit of {cap:,.2f} per instrument; {_holding(position_qty)} leaves {room_text}",
        )  # fmt: skip
    return GateDecision(
        allowed=True,
        quantity_units=fit,
        check="max_position_notional",
        value=after,
        limit=cap,
        reason=f"resized from {units:g} to {fit:g} units: {units:g} at {price:g} would make the position worth "
        f"{after:,.2f}, above the limit of {cap:,.2f} per instrument; {fit:g} makes it {worth(fit):,.2f}",
    )


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
        day_start: tuple[str, float] | None = None,
    ) -> None:
        if not isinstance(limits, LiveLimits):
            raise ConfigError(f"live risk gate: limits must be execution_rules.live_limits, found {limits!r}")
        self.limits = limits
        self._state = TradingState(state)
        self._store = store
        self._submits = _Window()
        self._modifies = _Window()
        self._last_ns: int | None = None
        self._day_start = (
            None if day_start is None else (_day_key(day_start[0]), _finite(day_start[1], "day_start", "equity"))
        )

    @classmethod
    def restore(cls, limits: LiveLimits, store: LiveStateStore) -> LiveRiskGate:
        """A gate in the trading state ``store`` kept (``ACTIVE`` for a new session), with the trading day and
        its starting equity kept there (the daily loss limit's baseline), writing its changes there."""
        snapshot = store.snapshot()
        return cls(limits, snapshot.trading_state, store=store, day_start=snapshot.day_start)

    @property
    def state(self) -> TradingState:
        return self._state

    @property
    def day_start(self) -> tuple[str, float] | None:
        """(the trading day, the equity at its start) the daily loss limit measures from; None before the first."""
        return self._day_start

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
        self,
        order: Order,
        *,
        position_qty: float,
        price: float,
        now_ns: int,
        quote_to_account: float = 1.0,
        lot_units: float | None = None,
        in_market_hours: bool | None = None,
        quote_age_s: float | None = None,
    ) -> GateDecision:
        """May ``order`` go out now? ``position_qty`` is the instrument's signed position in units (long > 0),
        ``price`` values one unit in its quote currency (the limit or stop price, or the last price of a
        market order), ``quote_to_account`` one unit of quote currency in the account's (1.0 when the same).
        ``lot_units`` is the instrument's lot (a ``max_position_notional`` resize is whole lots; None: any
        units), ``in_market_hours`` whether it is inside its regular session now (None: not known, not
        checked), ``quote_age_s`` the age of its last quote at ``now_ns`` in seconds (None: not known, which
        is stale while ``max_quote_age_s`` is on)."""
        now_ns = self._advance(now_ns)
        decision = self._size(
            order.side, order.quantity_units, position_qty, price, quote_to_account,
            lot_units=lot_units, in_market_hours=in_market_hours, quote_age_s=quote_age_s,
        )  # fmt: skip
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
        lot_units: float | None = None,
        in_market_hours: bool | None = None,
        quote_age_s: float | None = None,
    ) -> GateDecision:
        """May resting ``order`` be amended to ``new_quantity_units`` (its whole size, filled units included)
        at ``new_price``? The same checks as ``check`` (with the same arguments) on what the amended order
        could still fill, with the modify throttle; ``quantity_units`` is the whole size the amend may ask for."""
        now_ns = self._advance(now_ns)
        filled = order.filled_units
        leaves = new_quantity_units - filled
        decision = self._size(
            order.side, leaves, position_qty, new_price, quote_to_account,
            lot_units=lot_units, in_market_hours=in_market_hours, quote_age_s=quote_age_s, amend=True,
        )  # fmt: skip
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
        lot_units: float | None,
        in_market_hours: bool | None,
        quote_age_s: float | None,
        amend: bool = False,
    ) -> GateDecision:
        if not math.isfinite(position_qty):
            raise ConfigError(f"live risk gate: position_qty must be a finite number of units, found {position_qty!r}")
        if lot_units is not None and not (math.isfinite(lot_units) and lot_units > 0):
            raise ConfigError(f"live risk gate: lot_units must be a finite number above 0, found {lot_units!r}")
        what = "the amended order's unfilled units" if amend else "an order's units"
        if not (math.isfinite(units) and units > 0):
            return _deny("order_quantity", units, 0.0, f"{what} must be a finite number above 0, found {units!r}")
        position = float(position_qty)
        decision = GateDecision(allowed=True, quantity_units=float(units))
        limits = self.limits
        if self._state is not TradingState.ACTIVE:
            state = self._state
            decision = _reduce_only(
                decision, side, position, "trading_state", f"{state} allows only orders that reduce a position",
                f"{state} allows closing the position, not reversing through zero",
            )  # fmt: skip
            if not decision.allowed:
                return decision
        if limits.market_hours_only and in_market_hours is False:
            decision = _reduce_only(
                decision, side, position, "market_hours",
                "outside the instrument's regular session only orders that reduce a position go out",
                "outside the instrument's regular session a position may close, not reverse through zero",
            )  # fmt: skip
            if not decision.allowed:
                return decision
        max_age = limits.max_quote_age_s
        if max_age is not None and (quote_age_s is None or math.isnan(quote_age_s) or quote_age_s > max_age):
            age = math.nan if quote_age_s is None else float(quote_age_s)
            stale = (
                f"the last quote's age is not known (max_quote_age_s {max_age:g} s is on)" if math.isnan(age)
                else f"the last quote is {age:g} s old, above the limit of {max_age:g} s"
            )  # fmt: skip
            decision = _reduce_only(
                decision, side, position, "stale_data", f"{stale}: only orders that reduce a position go out",
                f"{stale}: a position may close, not reverse through zero", measured=(age, max_age),
            )  # fmt: skip
            if not decision.allowed:
                return decision
        position_cap = limits.max_position_notional
        if position_cap is not None:
            decision = _position_limit(decision, side, position, price, quote_to_account, position_cap, lot_units)
            if not decision.allowed:
                return decision
        cap = limits.max_order_notional
        if cap is not None:
            if not _valuable(price, quote_to_account):
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

    # ---- the daily loss limit -------------------------------------------------------------------------------

    def check_daily_loss(
        self, *, now_ns: int, day: int | str, equity: float, open_orders: Iterable[Order] = ()
    ) -> TradingStateChanged | None:
        """``max_daily_loss``: the account's ``equity`` (its currency) at ``now_ns`` on trading day ``day`` (an id,
        compared as text: the caller's calendar decides when a day starts). The first equity of a day is its
        start (written to the store first, when there is one); when the start less ``equity`` reaches the limit
        the gate halts (``halt``, listing ``open_orders`` to cancel) and returns the change, which the caller
        acts on: cancel, then flatten. None when nothing changed: the limit is off, the loss is under it, or
        the gate is halted already."""
        now_ns = self._advance(now_ns)
        cap = self.limits.max_daily_loss
        if cap is None:
            return None
        key = _day_key(day)
        now = _finite(equity, "equity", "the account's currency")
        if self._day_start is None or self._day_start[0] != key:
            if self._store is not None:
                self._store.set_day_start(key, now)  # first: a restart the same day keeps this start
            self._day_start = (key, now)
        start = self._day_start[1]
        loss = start - now
        if loss < cap or self._state is TradingState.HALTED:
            return None
        reason = (
            f"max_daily_loss: day {key}'s loss of {loss:,.2f} (equity {start:,.2f} at the day's start, "
            f"{now:,.2f} now) reached the limit of {cap:,.2f}; flatten"
        )
        return self.halt(now_ns=now_ns, open_orders=open_orders, reason=reason)
