"""The simulated paper broker: holds orders and fills them from bars with the backtest kernel's rules and costs.

``SimulatedBroker`` implements ``execution.broker.Broker``. An order arrives at the market on the first bar of
its instrument after the bar it was sent on whose open time is at or after ``submitted_ns + latency_ns`` (the
kernel's ``arrival_bars`` with the strategy's ``latency_simulation``), and is accepted there. On each bar
(``on_bar``) the working orders of that instrument are tried in the kernel's order (market exits, then stops,
then targets, then entries; within a kind, oldest first), each by the rules of docs/backtest.md, "The rules
the kernel applies": market at the open; a limit at the open when the open is at or better than it, else at
the limit when the bar trades through it (by ``through_ticks`` of the fill model); a stop when touched, at the
stop or at the open when it gapped through, after which it is a market order (a stop-limit a limit);
GTC rests, DAY expires when the session day differs from the day it arrived on, IOC fills what it can on
its arrival bar and the rest is cancelled, FOK fills all there or is cancelled. A marketable fill pays the
fill model's half spread, slippage and square-root impact and the commission through the kernel's own
functions (``kernels.fills.marketable_price``, ``bounded_by_limit``, ``commission``), on the parameters the
kernel reads (``FillModel`` and ``CommissionSchedule`` of ``backtest.costs``). As in the kernel: a target
(``OrderKind.TARGET``) that the open gaps through fills at the open without spread costs; stops and targets
fill in full, other orders up to the participation cap a bar (entries then wait for a bar that takes the
rest when ``partial_fills`` is False); and when a stop, target or exit leaves the position flat
(``flat_cancels``), the instrument's other stops, targets and exits are cancelled, and a partly filled entry.
With ``position_rules`` (a paper session's broker, ``for_kernel_params``) the broker also keeps the kernel's
rules about the position: an exit, stop or target fills at most the position it reduces, and an entry waits
while an exit of its instrument works or a position on the other side is held (a reversal's entry fills once
the exit has closed the position). An order sent while its instrument's bar trades (``SimBar.end_ns`` given;
the session places a new position's stop on the entry's fill) works on the rest of that bar: a stop fills at
its price if the bar reached it (the open was before it: no gap), as the kernel checks a new position's stop
on its entry bar; a target so sent waits for the next bar. ``account`` (``BrokerAccount``) is asked how much
of each entry fill the account can carry: the order shrinks to that (an ``OrderAmended``) or is cancelled
(reason ``margin``) when not one lot fits. ``on_event`` sees each event as it happens, before ``poll``.
Every outcome is an event, drained by ``poll``; nothing raises for a business outcome.

With a ``book_model`` (``backtest.book_fill_model.BookFillModel``; ``for_strategy`` with ``fill_model: "book"``)
the working market and limit orders of an instrument fill from its order book instead of its bars:
``on_book(symbol, book, ticks)`` replays a stream of snapshots and trades through the model's order simulator
(``kernels.book_fills``: latency drawn per order, the snapshot known at arrival walked level by level, a resting
limit's queue, touches filled with the model's probability). Each order is accepted at its arrival and fills as
the simulator says (a taker fill pays the commission and, as ``spread_slippage``, its distance from the
arrival snapshot's mid; a maker fill pays the commission only); a market order's unfilled rest is cancelled, a
limit's rest keeps working for the next stream (where it joins the queue again). ``on_bar`` then leaves market
and limit orders alone and works only stops and stop-limits, and the account check and position rules of a
paper session are not applied to book fills.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from quantdesk.backtest.book_fill_model import BookFillModel, BookLike, TicksLike
from quantdesk.backtest.costs import FILL_MODELS, CommissionSchedule, FillModel, commission_schedule
from quantdesk.backtest.evidence import NS_PER_MS
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.ids import ClientOrderId, OrderKind
from quantdesk.domain.order_events import (
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from quantdesk.domain.orders import Order, OrderStatus, OrderType, TimeInForce
from quantdesk.execution.state_machine import transition
from quantdesk.kernels import book_fills as BK
from quantdesk.kernels import portfolio_layout as L
from quantdesk.kernels.fills import bounded_by_limit, commission, floor_lots, marketable_price
from quantdesk.strategy.models import Strategy

# the order a bar tries them in: the stop before the target, as the kernel assumes when a bar reaches both
_PRIORITY = {OrderKind.EXIT: 0, OrderKind.STOP: 1, OrderKind.TARGET: 2, OrderKind.ENTRY: 3}
_REDUCING = frozenset({OrderKind.EXIT, OrderKind.STOP, OrderKind.TARGET})
_PROTECTIVE = frozenset({OrderKind.STOP, OrderKind.TARGET})


@dataclass(frozen=True, slots=True, kw_only=True)
class SimBar:
    """One bar of one instrument as the broker sees it: opened at ``ts_ns``; ``day`` is its session day number
    (None: the UTC date); ``sigma_bar``, ``sigma_daily`` and ``adv`` are the evidence the kernel prices
    slippage and impact with (NaN: none)."""

    ts_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float = math.nan
    day: int | None = None
    sigma_bar: float = math.nan
    sigma_daily: float = math.nan
    adv: float = math.nan
    end_ns: int | None = None  # when the bar is complete (its close is known); None: not given


class BrokerAccount(Protocol):
    """The account behind a simulated broker: how much of an entry fill it can carry (buying power)."""

    def entry_fit(self, order: Order, units: float, price: float) -> float:
        """``units`` when an entry fill of ``units`` at ``price`` fits, else the most that does (0: none)."""
        ...


@dataclass(slots=True)
class _Working:
    order: Order
    after_bar: int  # the instrument's bar count when it was sent: it arrives on a later bar
    ready_ns: int
    day: int | None  # the session day it arrived on
    seq: int
    triggered: bool = False


def cost_params(fill_model: FillModel, commission_schedule: CommissionSchedule) -> np.ndarray:
    """The kernel's parameter vector with the fill model's and commission's slots set (the rest unused here)."""
    p = L.default_params()
    p[L.P_HALF_SPREAD] = fill_model.half_spread_bps / 10_000.0
    p[L.P_SLIP_COEF] = fill_model.slippage_vol_coef
    p[L.P_IMPACT_COEF] = fill_model.impact_coef
    p[L.P_IMPACT_THRESHOLD] = fill_model.impact_threshold
    p[L.P_PARTICIPATION] = fill_model.participation
    p[L.P_THROUGH_TICKS] = fill_model.through_ticks
    p[L.P_COMM_RATE] = commission_schedule.rate
    p[L.P_COMM_PER_SHARE] = commission_schedule.per_share
    p[L.P_COMM_FIXED] = commission_schedule.fixed
    p[L.P_COMM_MIN] = commission_schedule.minimum
    p[L.P_COMM_MAX_FRAC] = commission_schedule.max_frac
    return p


class SimulatedBroker:
    """A paper broker over bars (see the module docstring); one per session, its state in this process."""

    def __init__(
        self,
        fill_model: FillModel | str = "realistic",
        *,
        commission_schedule: CommissionSchedule | None = None,
        latency_ns: int = 0,
        tick_size: float | Mapping[str, float] = 0.01,
        lot_size: float | Mapping[str, float] = 1.0,
        partial_fills: bool = True,
        flat_cancels: bool = True,
        position_rules: bool = False,
        account: BrokerAccount | None = None,
        arrival_ns: Callable[[Order], int] | None = None,
        on_event: Callable[[OrderEvent], None] | None = None,
        book_model: BookFillModel | None = None,
    ) -> None:
        if isinstance(fill_model, str):
            if fill_model not in FILL_MODELS:
                raise ConfigError(f"fill_model: expected one of {sorted(FILL_MODELS)}, found {fill_model!r}")
            fill_model = FILL_MODELS[fill_model]
        if latency_ns < 0:
            raise ConfigError(f"latency_ns: expected 0 or more nanoseconds, found {latency_ns}")
        self.fill_model = fill_model
        self.commission_schedule = commission_schedule or CommissionSchedule()
        self.latency_ns = int(latency_ns)
        self.partial_fills = partial_fills
        self.flat_cancels = flat_cancels
        self._tick = tick_size
        self._lot = lot_size
        self._p = cost_params(fill_model, self.commission_schedule)
        self.position_rules = position_rules
        self.account = account
        self._arrival_ns = arrival_ns
        self._on_event = on_event
        self.book_model = book_model
        self._bar: dict[str, SimBar] = {}
        self._working: dict[ClientOrderId, _Working] = {}
        self._by_symbol: dict[str, dict[ClientOrderId, _Working]] = {}  # each in the order sent
        self._known: set[ClientOrderId] = set()
        self._events: list[OrderEvent] = []
        self._bars: dict[str, int] = {}
        self._last_ts: dict[str, int] = {}
        self._fills: dict[ClientOrderId, int] = {}
        self._seq = 0
        self.positions: dict[str, float] = {}
        self.submissions: list[ClientOrderId] = []  # every submit call, duplicates included

    @classmethod
    def for_strategy(
        cls,
        strategy: Strategy,
        *,
        tick_size: float | Mapping[str, float] = 0.01,
        lot_size: float | Mapping[str, float] = 1.0,
    ) -> SimulatedBroker:
        """The broker a strategy file's ``execution_rules`` describe: its fill model, commission, latency and
        partial fills, as the backtest reads them (``backtest.settings.kernel_params``)."""
        rules = strategy.execution_rules
        mock = rules.mock_trading
        if mock.fill_model == "book":  # fills from books; the bars only work stops (without spread costs)
            return cls(
                FILL_MODELS["optimistic"],
                commission_schedule=commission_schedule(rules.commission),
                tick_size=tick_size,
                lot_size=lot_size,
                partial_fills=rules.partial_fills == "accept",
                book_model=BookFillModel.from_mock_trading(mock),
            )
        return cls(
            FILL_MODELS[mock.fill_model],
            commission_schedule=commission_schedule(rules.commission),
            latency_ns=round(rules.mock_trading.latency_simulation * NS_PER_MS),
            tick_size=tick_size,
            lot_size=lot_size,
            partial_fills=rules.partial_fills == "accept",
        )

    @classmethod
    def for_kernel_params(
        cls,
        p: np.ndarray,
        *,
        tick_size: float | Mapping[str, float],
        lot_size: float | Mapping[str, float],
        account: BrokerAccount | None = None,
        arrival_ns: Callable[[Order], int] | None = None,
        on_event: Callable[[OrderEvent], None] | None = None,
    ) -> SimulatedBroker:
        """The broker that fills with a run's own kernel parameter vector (``kernels/portfolio_layout.py``): the
        same cost slots, participation, through ticks and partial-fill rule, so a paper replay prices every fill
        with the numbers the backtest used. ``arrival_ns`` gives each order's arrival time (the backtest's
        latency grid) in place of a fixed latency."""
        model = FillModel(
            "kernel", float(p[L.P_HALF_SPREAD]) * 10_000.0, float(p[L.P_SLIP_COEF]), float(p[L.P_IMPACT_COEF]),
            float(p[L.P_IMPACT_THRESHOLD]), float(p[L.P_PARTICIPATION]), int(p[L.P_THROUGH_TICKS]),
        )  # fmt: skip
        broker = cls(
            model, tick_size=tick_size, lot_size=lot_size, partial_fills=p[L.P_PARTIAL_ACCEPT] > 0.0,
            position_rules=True, account=account, arrival_ns=arrival_ns, on_event=on_event,
        )  # fmt: skip
        broker._p = np.array(p, dtype=np.float64)
        return broker

    def _size(self, table: float | Mapping[str, float], symbol: str, default: float) -> float:
        return float(table) if isinstance(table, int | float) else float(table.get(symbol, default))

    # ---- the Broker interface -----------------------------------------------------------------------------

    def submit(self, order: Order) -> None:
        self.submissions.append(order.client_order_id)
        coid = order.client_order_id
        if coid in self._known:
            return  # an id is taken once; a resend of one already held changes nothing
        self._known.add(coid)
        problem = _invalid(order)
        if problem:
            self._emit(OrderRejected(ts_ns=order.submitted_ns, client_order_id=coid, symbol=order.symbol,
                                     reason=problem))  # fmt: skip
            return
        self._seq += 1
        bar = self._bar.get(order.symbol)
        in_bar = (
            bar is not None and bar.end_ns is not None and bar.ts_ns <= order.submitted_ns < bar.end_ns
        )  # sent while the instrument's current bar trades (a stop placed on an entry's fill)
        count = self._bars.get(order.symbol, 0)
        ready = self._arrival_ns(order) if self._arrival_ns is not None else order.submitted_ns + self.latency_ns
        w = self._working[coid] = self._by_symbol.setdefault(order.symbol, {})[coid] = _Working(
            order=order.evolve(status=OrderStatus.SUBMITTED),
            after_bar=count - 1 if in_bar else count,
            ready_ns=order.submitted_ns if in_bar else ready,
            day=None,
            seq=self._seq,
        )
        if in_bar and bar is not None:
            self._apply(w, OrderAccepted(ts_ns=order.submitted_ns, client_order_id=coid, symbol=order.symbol))
            w.day = bar.day if bar.day is not None else bar.ts_ns // NS_PER_DAY
            self._try_in_bar(w, bar)

    def cancel(self, client_order_id: ClientOrderId) -> bool:
        w = self._working.get(client_order_id)
        if w is None:
            return False
        self._close(w, OrderCancelled, self._last_ts.get(w.order.symbol, w.order.submitted_ns))
        return True

    def modify(
        self,
        client_order_id: ClientOrderId,
        *,
        quantity_units: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> bool:
        w = self._working.get(client_order_id)
        if w is None:
            return False
        o = w.order
        event = OrderAmended(
            ts_ns=self._last_ts.get(o.symbol, o.submitted_ns), client_order_id=client_order_id, symbol=o.symbol,
            quantity_units=o.quantity_units if quantity_units is None else float(quantity_units),
            limit_price=o.limit_price if limit_price is None else float(limit_price),
            stop_price=o.stop_price if stop_price is None else float(stop_price),
        )  # fmt: skip
        if not event.quantity_units > o.filled_units or _invalid(o.evolve(limit_price=event.limit_price,
                                                                         stop_price=event.stop_price)):  # fmt: skip
            return False
        w.order = transition(o, event)
        self._emit(event)
        return True

    def open_orders(self) -> list[Order]:
        return [w.order for w in sorted(self._working.values(), key=lambda w: w.seq)]

    def known(self, client_order_id: ClientOrderId) -> bool:
        return client_order_id in self._known

    def poll(self) -> list[OrderEvent]:
        events, self._events = self._events, []
        return events

    # ---- the market -------------------------------------------------------------------------------------

    def on_bar(self, symbol: str, bar: SimBar) -> None:
        """The bar ``bar`` of ``symbol`` has traded: its orders arrive, fill, expire or are cancelled by it."""
        count = self._bars.get(symbol, 0) + 1
        self._bars[symbol] = count
        day = bar.day if bar.day is not None else bar.ts_ns // NS_PER_DAY
        self._last_ts[symbol] = bar.ts_ns
        self._bar[symbol] = bar
        mine = self._by_symbol.get(symbol)
        if not mine:
            return
        arrived = [w for w in mine.values() if count > w.after_bar and bar.ts_ns >= w.ready_ns]
        for w in arrived:  # every order that reaches the market on this bar is accepted before any fills
            if w.order.accepted_ns is None:
                self._apply(w, OrderAccepted(ts_ns=bar.ts_ns, client_order_id=w.order.client_order_id, symbol=symbol))
                w.day = day  # a DAY order works through the session day it reaches the market on
        if len(arrived) > 1:
            arrived.sort(key=lambda w: self._turn(w, bar))
        for w in arrived:
            if w.order.client_order_id not in self._working:
                continue  # cancelled by an earlier fill on this bar
            if self.book_model is not None and w.order.order_type in (OrderType.MARKET, OrderType.LIMIT):
                continue  # filled from the book (on_book)
            if self.position_rules and w.order.kind is OrderKind.ENTRY and self._entry_waits(symbol, w.order):
                continue
            if w.order.time_in_force is TimeInForce.DAY and day != w.day:
                self._close(w, OrderExpired, bar.ts_ns)
                continue
            self._try_fill(w, bar)

    def quiet_bar(self, symbol: str, ts_ns: int, high: float, low: float) -> bool:
        """When a bar of ``symbol`` from ``low`` to ``high`` can do nothing to its working orders (each is an
        accepted GTC stop or target the range does not reach), count it as seen and say True: the caller may
        skip ``on_bar``, which would do nothing. False (and nothing counted) otherwise."""
        for w in self._by_symbol.get(symbol, {}).values():
            o = w.order
            if o.accepted_ns is None or o.kind not in _PROTECTIVE or o.time_in_force is not TimeInForce.GTC:
                return False
            sell = o.side.sign < 0
            if o.kind is OrderKind.STOP:
                touched = low <= o.stop_price if sell else high >= o.stop_price
            else:
                touched = high >= o.limit_price if sell else low <= o.limit_price
            if touched or o.order_type not in (OrderType.STOP, OrderType.LIMIT):
                return False
        self._bars[symbol] = self._bars.get(symbol, 0) + 1
        self._last_ts[symbol] = ts_ns
        return True

    def pass_bars(self, symbols: Sequence[str], ts_ns: Sequence[int]) -> None:
        """Count a bar of each of ``symbols`` (at the matching ``ts_ns``) as seen without looking at its orders:
        for a caller that has itself found the bar quiet (see ``quiet_bar``), many instruments at once."""
        bars, last = self._bars, self._last_ts
        for symbol, ts in zip(symbols, ts_ns, strict=True):
            bars[symbol] = bars.get(symbol, 0) + 1
            last[symbol] = ts

    @staticmethod
    def _turn(w: _Working, bar: SimBar) -> tuple[int, int, int]:
        """The kernel's order on a bar: a market exit; then a stop or a target the open gapped through (the stop
        first), then a stop the bar reaches, then a target; then the entry (in sending order within each)."""
        o = w.order
        if o.kind not in _PROTECTIVE:
            return (_PRIORITY[o.kind], 0, w.seq)
        level = o.stop_price if o.kind is OrderKind.STOP else o.limit_price
        gapped = o.side.sign * ((bar.open - level) if o.kind is OrderKind.STOP else (level - bar.open)) >= 0.0
        return (_PRIORITY[OrderKind.STOP], (0 if gapped else 1) * 2 + _PRIORITY[o.kind], w.seq)

    def _entry_waits(self, symbol: str, order: Order) -> bool:
        """An entry waits while the instrument's exit order works or a position on the other side is held (a
        reversal's entry fills once the exit has closed the position), as the kernel's entries do."""
        held = self.positions.get(symbol, 0.0)
        if held != 0.0 and (held > 0.0) != (order.side.sign > 0):
            return True
        return any(o.order.kind is OrderKind.EXIT for o in self._by_symbol.get(symbol, {}).values())

    def _try_in_bar(self, w: _Working, bar: SimBar) -> None:
        """A stop sent while ``bar`` trades (on an entry's fill) works for the rest of it: the open was before it,
        so it cannot have gapped; it fills at its stop when the bar reached it (the worse case, as the kernel
        checks a new position's stop on its entry bar). A target sent so waits for the next bar."""
        o = w.order
        if o.kind is not OrderKind.STOP or o.order_type is not OrderType.STOP:
            return
        if (o.side.sign < 0 and bar.low <= o.stop_price) or (o.side.sign > 0 and bar.high >= o.stop_price):
            q = self._reducible(o, o.quantity_units - o.filled_units)
            if q > 0.0:
                w.triggered = True
                self._fill(w, bar, q, o.stop_price, False, self._size(self._tick, o.symbol, 0.01))

    def _reducible(self, o: Order, q: float) -> float:
        """A reducing order fills at most the position it reduces (none when flat or on its own side)."""
        if not self.position_rules or o.kind not in _REDUCING:
            return q
        held = self.positions.get(o.symbol, 0.0)
        if held == 0.0 or (held > 0.0) == (o.side.sign > 0):
            return 0.0
        return min(q, abs(held))

    def _try_fill(self, w: _Working, bar: SimBar) -> None:
        o = w.order
        side = o.side.sign
        tif = o.time_in_force
        immediate = tif in (TimeInForce.IOC, TimeInForce.FOK)
        tick = self._size(self._tick, o.symbol, 0.01)
        through = self.fill_model.through_ticks * tick
        limit, stp = o.limit_price, o.stop_price
        op, hi, lo = bar.open, bar.high, bar.low

        # the reference price this bar fills it at (NaN: none), and whether that is the open
        ref = math.nan
        at_open = True
        if o.order_type is OrderType.MARKET:
            ref = op
        elif o.order_type is OrderType.LIMIT:
            if side * (limit - op) >= 0.0:
                ref = op
            elif not immediate and _through(side, limit, hi, lo, through):
                ref, at_open = limit, False
        else:
            triggered = w.triggered
            if not triggered and side * (op - stp) >= 0.0:
                triggered, ref = True, op
            elif not triggered and ((side > 0 and hi >= stp) or (side < 0 and lo <= stp)):
                if not immediate:
                    triggered, ref, at_open = True, stp, False
            elif triggered:
                ref = op
            w.triggered = triggered
            if triggered and o.order_type is OrderType.STOP_LIMIT and side * (limit - ref) < 0.0:
                if _through(side, limit, hi, lo, through):
                    ref, at_open = limit, False
                else:
                    ref = math.nan
        if not math.isnan(ref):
            remaining = o.quantity_units - o.filled_units
            q = remaining if o.kind in _PROTECTIVE else min(remaining, self._cap(o.symbol, bar))
            q = self._reducible(o, q)
            all_or_wait = tif is TimeInForce.FOK or (o.kind is OrderKind.ENTRY and not self.partial_fills)
            if all_or_wait and q < remaining:
                if tif is TimeInForce.FOK:
                    self._close(w, OrderCancelled, bar.ts_ns, reason="fill_or_kill")
                    return
                q = 0.0
            if q > 0.0:
                self._fill(w, bar, q, ref, at_open, tick)
        if immediate and o.client_order_id in self._working:
            self._close(w, OrderCancelled, bar.ts_ns)

    def _cap(self, symbol: str, bar: SimBar) -> float:
        """The most one order takes of this bar: the fill model's share of its volume in whole lots."""
        part = self.fill_model.participation
        if part > 0.0 and bar.volume > 0.0:
            return float(floor_lots(part * bar.volume, self._size(self._lot, symbol, 1.0)))
        return math.inf

    def _fill(self, w: _Working, bar: SimBar, q: float, ref: float, at_open: bool, tick: float) -> None:
        o = w.order
        marketable = (
            at_open or o.order_type is OrderType.STOP or (o.order_type is OrderType.STOP_LIMIT and ref == o.stop_price)
        )
        if o.kind is OrderKind.TARGET and at_open:
            marketable = False  # the kernel books a target gapped through at the open, without spread
        price, spread, impact = self._price(o, q, ref, marketable, bar, tick)
        if o.kind is OrderKind.ENTRY and self.account is not None:
            fit = self.account.entry_fit(o, q, price)
            if fit < q:
                if not fit > 0.0:
                    self._close(w, OrderCancelled, bar.ts_ns, reason="margin")
                    return
                # the order shrinks to what the account can carry, and that fills
                self._apply(w, OrderAmended(
                    ts_ns=bar.ts_ns, client_order_id=o.client_order_id, symbol=o.symbol,
                    quantity_units=o.filled_units + fit, limit_price=o.limit_price, stop_price=o.stop_price,
                ))  # fmt: skip
                o = w.order
                q = fit
                price, spread, impact = self._price(o, q, ref, marketable, bar, tick)
        self._record_fill(w, bar.ts_ns, q, price, ref, spread, impact)

    def _record_fill(self, w: _Working, ts_ns: int, q: float, price: float, ref: float, spread: float,
                     impact: float) -> None:  # fmt: skip
        """Book one fill of ``w``: the event, the position, and the cancellations a flat position brings."""
        o = w.order
        side = o.side.sign
        n = self._fills.get(o.client_order_id, 0) + 1
        self._fills[o.client_order_id] = n
        event = OrderFilled(
            ts_ns=ts_ns, client_order_id=o.client_order_id, symbol=o.symbol, fill_id=f"{o.client_order_id}/{n}",
            side=o.side, quantity_units=q, price=float(price), commission=float(commission(q, price, self._p)),
            spread_slippage=float(spread), impact=float(impact), trade_id=None, reference_price=float(ref),
        )  # fmt: skip
        self._apply(w, event)
        before = self.positions.get(o.symbol, 0.0)
        after = before + side * q
        self.positions[o.symbol] = 0.0 if abs(after) < 1e-9 * max(1.0, abs(before)) else after
        if not w.order.status.is_open:
            self._remove(o.client_order_id)
        if self.flat_cancels and o.kind in _REDUCING and self.positions[o.symbol] == 0.0:
            for other in list(self._by_symbol.get(o.symbol, {}).values()):
                oo = other.order
                if oo.symbol == o.symbol and (
                    oo.kind in _REDUCING or (oo.kind is OrderKind.ENTRY and oo.filled_units > 0)
                ):
                    self._close(other, OrderCancelled, ts_ns)

    def on_book(self, symbol: str, book: BookLike, ticks: TicksLike | None = None) -> None:
        """Replay ``book`` (snapshots) and ``ticks`` (trades) of ``symbol`` through the book model for its working
        market and limit orders (see the module docstring); nothing without a ``book_model``."""
        model = self.book_model
        if model is None:
            return
        ws = [w for w in self._by_symbol.get(symbol, {}).values()
              if w.order.order_type in (OrderType.MARKET, OrderType.LIMIT)]  # fmt: skip
        if not ws or len(book.ts) == 0:
            return
        orders = [w.order for w in ws]
        # an order still resting from an earlier stream joins this one's queue again at its start
        start = int(book.ts[0])
        decided = np.array([max(o.submitted_ns, start) if o.accepted_ns is not None else o.submitted_ns
                            for o in orders], dtype=np.int64)  # fmt: skip
        out = model.simulate(
            decided, np.array([o.side.sign for o in orders]), np.array([o.quantity_units - o.filled_units
                                                                       for o in orders]),
            np.array([o.limit_price if o.order_type is OrderType.LIMIT else math.nan for o in orders]), book, ticks,
        )  # fmt: skip
        self._last_ts[symbol] = max(self._last_ts.get(symbol, 0), int(book.ts[-1]))
        k = 0
        for i, w in enumerate(ws):
            if out.status[i] == BK.ORDER_NO_BOOK:
                continue
            coid = w.order.client_order_id
            arrival = int(out.arrival_ns[i])
            if w.order.accepted_ns is None:
                self._apply(w, OrderAccepted(ts_ns=arrival, client_order_id=coid, symbol=symbol))
            s = int(out.snapshot[i])
            mid = 0.5 * (float(book.bid_px[s][0]) + float(book.ask_px[s][0]))
            while k < len(out.fill_order) and out.fill_order[k] == i:
                if coid in self._working:
                    q, px = float(out.fill_qty[k]), float(out.fill_px[k])
                    taker = out.fill_liquidity[k] == BK.LIQ_TAKER and math.isfinite(mid)
                    spread = q * max(w.order.side.sign * (px - mid), 0.0) if taker else 0.0
                    self._record_fill(w, int(out.fill_ts[k]), q, px, mid if taker else px, spread, 0.0)
                k += 1
            if coid in self._working and w.order.order_type is OrderType.MARKET:
                self._close(w, OrderCancelled, arrival, reason="book_exhausted")

    def _price(self, o: Order, q: float, ref: float, marketable: bool, bar: SimBar,
               tick: float) -> tuple[float, float, float]:  # fmt: skip
        """(price, spread money, impact money) of ``q`` units at ``ref``: with the market's costs when marketable."""
        if not marketable:
            return ref, 0.0, 0.0
        side = o.side.sign
        price, spread, impact = marketable_price(side, ref, q, bar.sigma_bar, bar.sigma_daily, bar.adv, tick, self._p)
        if not math.isnan(o.limit_price):
            price, spread, impact = bounded_by_limit(side, ref, price, spread, impact, q, o.limit_price)
        return price, spread, impact

    def _emit(self, event: OrderEvent) -> None:
        self._events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    def _apply(self, w: _Working, event: OrderEvent) -> None:
        w.order = transition(w.order, event)
        self._emit(event)

    def _close(self, w: _Working, kind: type[OrderCancelled] | type[OrderExpired], ts_ns: int,
               reason: str = "") -> None:  # fmt: skip
        o = w.order
        closing: OrderEvent
        if kind is OrderCancelled:
            closing = OrderCancelled(ts_ns=ts_ns, client_order_id=o.client_order_id, symbol=o.symbol,
                                     filled_units=o.filled_units, reason=reason)  # fmt: skip
        else:
            closing = kind(ts_ns=ts_ns, client_order_id=o.client_order_id, symbol=o.symbol, filled_units=o.filled_units)
        self._apply(w, closing)
        self._remove(o.client_order_id)

    def _remove(self, coid: ClientOrderId) -> None:
        w = self._working.pop(coid)
        del self._by_symbol[w.order.symbol][coid]


def _through(side: int, level: float, high: float, low: float, by: float) -> bool:
    """Whether the bar traded through ``level`` by more than ``by`` on the side that fills a resting order."""
    return (side > 0 and low < level - by) or (side < 0 and high > level + by)


def _invalid(order: Order) -> str:
    """Why the broker refuses ``order`` ('' when it takes it)."""
    q = order.quantity_units
    if not (q > 0.0 and math.isfinite(q)):
        return f"quantity must be a positive number of units, found {q}"
    needs_limit = order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if needs_limit and not (order.limit_price > 0.0 and math.isfinite(order.limit_price)):
        return f"a {order.order_type.value} order needs a positive limit price, found {order.limit_price}"
    if needs_stop and not (order.stop_price > 0.0 and math.isfinite(order.stop_price)):
        return f"a {order.order_type.value} order needs a positive stop price, found {order.stop_price}"
    return ""
