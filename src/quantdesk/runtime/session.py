"""The paper session: the backtest's kernel stepped bar by bar, its orders sent through the live limits and the
order manager to a broker, and the broker's fills booked back into the kernel's state.

``PaperSession`` holds the kernel state (``kernels.portfolio.init_state``) and the kernel's record buffers,
and on each row of the run's grid does what ``simulate_portfolio`` does, with the market's part handed to a
broker (``execution.sim_broker.SimulatedBroker``, made with the run's own parameter vector):

1. The open: each instrument's bar goes to the broker (``on_bar``; a bar that can touch none of the working
   orders is passed over: the session's own test when the instrument's only orders are its accepted stop and
   target, ``SimulatedBroker.quiet_bar`` otherwise). Every event it reports is booked as it happens by the
   kernel's own functions: an entry fill by ``book_entry_fill`` (a new trade's stop and target from its first
   fill's price), an exit fill by ``book_exit_fill``, a stop or target fill by ``book_close_out``; the broker asks
   the account (``entry_fit``, the kernel's ``margin_fit``) how much of an entry fill it can carry; a FOK order the
   bar cannot fill whole, an IOC remainder and a DAY order that expires close the kernel's order as the kernel
   closes it. Then the instrument's protective orders follow the position: a new position's stop is sent at
   its fill and works on the rest of the bar (the kernel checks a new position's stop on its entry bar), its
   target from the next bar; an entry that fills in pieces amends their size.
2. The close: ``step_mark`` and ``step_decide``, the kernel's own steps. Every order the kernel placed becomes
   a domain ``Order`` with a deterministic ``ClientOrderId`` and goes out through ``LiveRiskGate`` (the
   strategy's ``execution_rules.live_limits`` and the trading state) and ``OrderManager.submit``; an order
   the kernel closed (an entry cancelled by an exit signal) is cancelled at the broker; a stop that moved
   (trailing, the chandelier, time decay) is amended (a modify).
3. ``finish`` is the kernel's ``end_of_data``: what is still open is reported marked at its last close.

The beta hedge (``risk_management.beta_hedge``) is stepped by the kernel's own hedge steps: its fill at the
benchmark's open before the instruments' bars (``step_hedge_fill``), its decision at the close
(``step_hedge_decide``, in ``step_close``), so its PnL is in the equity every check reads. Its orders are filled
by the kernel's hedge rules in this process; they do not go through the order manager to a broker (the
benchmark is not one of the session's instruments), which a live hedge will need.

Orders are sized at the decision (``execution_rules.size_orders_at`` "decision"; the session refuses a
parameter vector that sizes at the fill, which no broker can hold). With the live limits off, the session's
records are the backtest's to the cent (``tests/property/test_paper_parity.py``): the same kernel code
computes every decision and books every fill, and the broker prices fills with the kernel's fill functions.
A live limit or a halt is where paper and backtest part: a denied order closes the kernel's order and
stays in the event log as ``OrderDenied``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from quantdesk.backtest.kernel_io import KernelOutput
from quantdesk.core.errors import ConfigError
from quantdesk.domain.calendar import TradingCalendar
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
from quantdesk.domain.orders import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quantdesk.domain.trading_state import TradingState
from quantdesk.execution.broker import Broker
from quantdesk.execution.event_log import EventLog, InMemoryEventLog, ResumedEventLog
from quantdesk.execution.order_manager import OrderManager
from quantdesk.execution.sim_broker import SimBar, SimulatedBroker
from quantdesk.kernels import portfolio_layout as L
from quantdesk.kernels.fills import floor_lots
from quantdesk.kernels.portfolio import (
    apply_fill,
    book_close_out,
    book_entry_fill,
    book_exit_fill,
    end_of_data,
    init_state,
    margin_fit,
    step_close,
    step_hedge_fill,
)
from quantdesk.kernels.session_rows import (
    FOLLOWED_COLUMNS,
    OPEN_LEVELS,
    OPEN_QUIET,
    OPEN_VISIT,
    close_visits,
    open_visits,
)
from quantdesk.persistence.live_state import LiveStateStore, StateStep
from quantdesk.risk.live_limits import GateDecision, LiveRiskGate, TradingStateChanged
from quantdesk.strategy.execution_models import LiveLimits

if TYPE_CHECKING:
    from quantdesk.runtime.clock import Clock
    from quantdesk.runtime.feed import BarFeed

__all__ = ["PaperSession", "SessionClock"]

_NEVER_NS = 2**62
_TIF = (TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK)
_OTYPE = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)
_HEADROOM_PER_INST = 8  # records one row can add per instrument (fills, orders, events), with room to spare


@dataclass(frozen=True, slots=True)
class SessionClock:
    """The times of the grid a session steps: each row's known time (its close, UTC ns) and each instrument's
    bar open time on each row (``open_ns[t, j]``; anything where it has no bar)."""

    known_ns: np.ndarray
    open_ns: np.ndarray


@dataclass(slots=True)
class _Tracked:
    kind: OrderKind
    inst: int
    oid: int  # the kernel's order id (-1: a stop or target, which the kernel holds as state)
    leaves: float
    price: float = math.nan  # a stop's or target's working price
    sell: bool = False  # a stop or target that sells (it protects a long position)
    accepted: bool = False  # the broker has it working in the market
    reason: int = -1  # an order of the session's own (no kernel order): the reason its fills close a trade with


@dataclass(slots=True)
class _Protect:
    stop: ClientOrderId | None = None
    target: ClientOrderId | None = None
    extra: list[ClientOrderId] = field(default_factory=list)
    target_refused: int = -1  # the trade whose target the broker refused: not sent again for it


class PaperSession:
    """One paper session over the kernel's grids (see the module docstring)."""

    def __init__(
        self,
        arrays: Sequence[np.ndarray],
        params: np.ndarray,
        *,
        symbols: Sequence[str],
        clock: SessionClock,
        session_id: str,
        event_log: EventLog | None = None,
        live_state: LiveStateStore | None = None,
        live_limits: LiveLimits | None = None,
        on_row: Callable[[PaperSession, int], None] | None = None,
        commit_every_s: float = 0.05,
        broker: Broker | None = None,
        calendars: Sequence[TradingCalendar] | None = None,
    ) -> None:
        p = np.ascontiguousarray(params, dtype=np.float64)
        if p[L.P_SIZE_AT_DECISION] <= 0.0:
            raise ConfigError(
                'paper session: orders must be sized at the decision (execution_rules.size_orders_at "decision"); '
                "a broker holds an order's quantity from the moment it is sent"
            )
        self.p = p
        self._set_arrays(arrays)
        n, m = self.n, self.m
        if len(symbols) != m:
            raise ConfigError(f"paper session: expected {m} symbols for the grid's columns, found {len(symbols)}")
        self.symbols = tuple(symbols)
        self._index = {s: j for j, s in enumerate(self.symbols)}
        self.clock = clock
        self.session_id = session_id
        self.fs, self.is_, self.af, self.ai = init_state(m, p)
        record = p[L.P_RECORD_PATHS] > 0.0
        self.equity = np.full(n, np.nan)
        self.cash = np.empty(n if record else 0)
        self.qty_path = np.zeros((n, m) if record else (1, 1))
        self.stop_path = np.full((n, m) if record else (1, 1), np.nan)
        cap = 16 * m + 64
        self.trades = np.empty(cap, dtype=L.TRADE_RECORD)
        self.fills = np.empty(2 * cap, dtype=L.FILL_RECORD)
        self.orders = np.empty(2 * cap, dtype=L.ORDER_RECORD)
        self.events = np.empty(2 * cap, dtype=L.RISK_EVENT_RECORD)
        self.hedged = p[L.P_HEDGE] > 0.0
        if self.hedged and broker is not None:
            raise ConfigError("paper session: the beta hedge is filled by the kernel in this process; a session on a "
                              "broker outside it cannot hedge yet")  # fmt: skip
        self.hedge_path = np.full((n, L.N_H) if self.hedged else (1, L.N_H), np.nan)
        self.hedge_fills = np.empty(n if self.hedged else 0, dtype=L.HEDGE_FILL_RECORD)  # at most one a row
        log: EventLog = event_log if event_log is not None else InMemoryEventLog()
        self.event_log: EventLog = ResumedEventLog(log) if log.events() else log
        # a broker outside the process reports what it did through the order manager's poll (``_process``);
        # the simulated broker reports each event as it happens, to ``_on_event``
        self.external = broker is not None
        self.broker: Broker = broker if broker is not None else SimulatedBroker.for_kernel_params(
            p, tick_size=dict(zip(self.symbols, self.tick.tolist(), strict=True)),
            lot_size=dict(zip(self.symbols, self.lot.tolist(), strict=True)), account=self,
            arrival_ns=self._arrival_ns, on_event=self._on_event,
        )  # fmt: skip
        # the simulated broker lives in this process: a restart rebuilds it with the session, so ids are not
        # claimed one by one; a broker outside the process must never get an order twice, so each id is claimed
        # in the live state before it is sent
        self.manager = OrderManager(self.broker, self.event_log, live_state if self.external else None)
        self.live_state = live_state
        self.commit_every_s = float(commit_every_s)
        snapshot = live_state.snapshot() if live_state is not None else None
        self._stored_last_ns = max(snapshot.last_bar_ns.values(), default=-1) if snapshot is not None else -1
        # every stored change of the trading state (a halt, a reduce, a resume) is made again where the session
        # made it: before the first row known after its time (a store without the history: the latest state,
        # after the stored last bar)
        self._restore: list[tuple[TradingState, int]] = []
        if snapshot is not None:
            self._restore = list(snapshot.trading_state_history)
            if not self._restore and snapshot.trading_state is not TradingState.ACTIVE:
                self._restore = [(snapshot.trading_state, self._stored_last_ns)]
        limits = live_limits or LiveLimits()
        self.gate = LiveRiskGate(limits, store=live_state)
        # market hours come from each instrument's calendar; a quote's age from the live session (a replay's bar
        # has just closed on the session's clock: age 0)
        self.calendars = tuple(calendars) if calendars is not None else ()
        if limits.market_hours_only and (len(self.calendars) != m or not all(c.has_session for c in self.calendars)):
            raise ConfigError(
                "execution_rules.live_limits.market_hours_only: the session needs each instrument's trading hours "
                "(its calendar's session open and close), and at least one has none"
            )
        self.quote_age_s: Callable[[int], float] | None = None
        self._last_bar_ns = np.full(m, -1, dtype=np.int64)
        self._last_commit_s = -math.inf
        self.stop_requested = False
        self.on_row = on_row
        self._tracked: dict[ClientOrderId, _Tracked] = {}
        self._leaving: dict[ClientOrderId, _Tracked] = {}  # cancels asked of a broker outside the process
        self._coid_of_oid: dict[int, ClientOrderId] = {}
        self._working: list[dict[ClientOrderId, _Tracked]] = [{} for _ in range(m)]
        # which instruments a row must visit in Python: at the open, those with orders working at the broker
        # (``_busy``); at the close, those with a kernel entry or exit working (the kernel may have closed it),
        # those whose orders the broker changed (``_stale``) and those whose position, stop or target moved from
        # what their stop and target orders were last made to follow (``_seen``); the others have nothing to do
        self._busy = np.zeros(m, dtype=np.bool_)
        self._kernel_working = np.zeros(m, dtype=np.int64)  # of those, the kernel's entries and exits
        self._stale = np.zeros(m, dtype=np.bool_)
        self._seen = np.full((m, 3), np.nan)
        self._seen[:, 0] = 0.0
        # the range a bar must stay inside to leave an instrument's accepted stop and target alone (``_quiet_ok``:
        # those are all it has working); worked out again when its orders change (``_levels_stale``)
        self._quiet_lo = np.full(m, -np.inf)
        self._quiet_hi = np.full(m, np.inf)
        self._quiet_ok = np.zeros(m, dtype=np.bool_)
        self._levels_stale = np.zeros(m, dtype=np.bool_)
        self._visit_idx = np.zeros(m, dtype=np.int64)
        self._visit_code = np.zeros(m, dtype=np.int8)
        self._protect = [_Protect() for _ in range(m)]
        self._t = -1
        self.next_row = 0
        self.denied: list[Order] = []

    def _set_arrays(self, arrays: Sequence[np.ndarray]) -> None:
        (self.open, self.high, self.low, self.close, self.volume, self.long_entry, self.long_exit, self.short_entry,
         self.short_exit, self.atr_stop, self.atr_trail, self.atr_chand, self.vol_measure, self.expansion,
         self.swing_low, self.swing_high, self.adv, self.sigma_bar, self.sigma_daily, self.win_p, self.ret,
         self.arrival, self.day_id, self.lot, self.tick, self.margin, self.sector, self.beta, self.bench_open,
         self.bench_close) = arrays  # fmt: skip
        self.arrays = tuple(arrays)
        self.n, self.m = self.open.shape
        self._volume_grid = self.volume.shape[0] > 1
        self._day_grid = self.day_id.shape[0] > 1

    def extend(self, arrays: Sequence[np.ndarray], clock: SessionClock) -> None:
        """The grid grown by the rows of bars that have closed since (a live session): ``arrays`` are the kernel's
        inputs prepared from every bar known now, whose earlier rows are the ones the session holds (each row
        depends only on bars known by it), and ``clock`` their times. The rows already stepped must be the same."""
        n_old = self.n
        n = int(np.asarray(arrays[0]).shape[0])
        if n < n_old or np.asarray(arrays[0]).shape[1] != self.m:
            raise ConfigError(f"paper session: a grid of {n} rows cannot extend one of {n_old} rows")
        if not np.array_equal(clock.known_ns[:n_old], self.clock.known_ns[:n_old]):
            raise ConfigError("paper session: the grown grid's earlier rows are not the session's rows")
        self._set_arrays(arrays)
        self.clock = clock
        grow = n - n_old

        def padded(a: np.ndarray, fill: float) -> np.ndarray:
            if a.shape[0] != n_old or grow == 0:
                return a
            return np.concatenate([a, np.full((grow, *a.shape[1:]), fill, dtype=a.dtype)])

        self.equity = padded(self.equity, np.nan)
        record = self.p[L.P_RECORD_PATHS] > 0.0
        if record:
            self.cash = padded(self.cash, np.nan)
            self.qty_path = padded(self.qty_path, 0.0)
            self.stop_path = padded(self.stop_path, np.nan)
        if self.hedged:
            self.hedge_path = padded(self.hedge_path, np.nan)
            grown = np.empty(n, dtype=self.hedge_fills.dtype)
            grown[: self.hedge_fills.shape[0]] = self.hedge_fills
            self.hedge_fills = grown

    @property
    def _sim(self) -> SimulatedBroker:
        broker = self.broker
        if not isinstance(broker, SimulatedBroker):
            raise AssertionError("paper session: the bar-by-bar open is the simulated broker's")
        return broker

    def _process(self) -> None:
        """The broker's events since the last call, through the order manager (its log, its orders); a broker
        outside the process reports them here, so they are booked here (the simulated one booked each already)."""
        events = self.manager.process()
        if self.external and events:
            self._on_broker_events(events)

    def _on_broker_events(self, events: Sequence[OrderEvent]) -> None:
        """A broker outside the process reported ``events`` (in the row being formed, ``self._t``): each booked as
        the simulated broker's are, then each instrument that filled gets its protective orders (a new position's
        stop goes out at its fill and works on the rest of the bar)."""
        touched: dict[int, None] = {}
        for event in events:
            tr = self._tracked.get(event.client_order_id)
            self._on_event(event)
            if tr is not None and isinstance(event, OrderFilled):
                touched[tr.inst] = None
        if not touched:
            return
        ts = int(self.clock.known_ns[self.next_row - 1]) if self.next_row > 0 else int(self.clock.known_ns[0]) - 1
        for j in touched:
            self._cancel_closed(j)
            self._follow_position(j, ts)

    def book_broker_events(self) -> None:
        """Book what a broker outside the process has reported since the last call (a live session's pump)."""
        self._process()

    def close_row(self, t: int) -> None:
        """Row ``t`` of a session on a broker outside the process (``broker`` given): its bar has closed; the fills
        of the bar were booked as the broker reported them. The kernel's close and decisions, as in ``step``."""
        if not self.external:
            raise ConfigError("paper session: close_row is for a broker outside the process; use step")
        self._process()  # what the broker did during the bar, before the close reads the position
        self._begin_row(t)
        self._close_row(t)

    # ---- stepping -----------------------------------------------------------------------------------------

    def run(self, rows: range | None = None) -> None:
        """Step every row of ``rows`` (default: from the next unstepped row to the end), or until a stop is
        asked (``request_stop``, after the row it is asked in)."""
        for t in rows if rows is not None else range(self.next_row, self.n):
            self.step(t)
            if self.stop_requested:
                break
        self.commit()

    def run_feed(self, feed: BarFeed, clock: Clock) -> None:
        """Step the rows ``feed`` yields, each once ``clock`` has reached its known time (``wait_until``; a row
        re-derived while resuming only moves the clock, ``skip_to``), from the next unstepped row, or until a stop is
        asked; a row of the feed must be a row of the session's grid at the same known time."""
        for row in feed.rows():
            if row.row < self.next_row:
                continue
            if row.row >= self.n or int(self.clock.known_ns[row.row]) != row.known_ns:
                raise ConfigError(f"paper session: the feed's row {row.row} (known at {row.known_ns}) is not a row "
                                  "of the session's grid")  # fmt: skip
            if self.resuming:
                clock.skip_to(row.known_ns)
            else:
                clock.wait_until(row.known_ns)
            self.step(row.row)
            if self.stop_requested:
                break
        self.commit()

    def request_stop(self) -> None:
        """End ``run`` after the current row (its state committed)."""
        self.stop_requested = True

    @property
    def resuming(self) -> bool:
        """True while a restarted session re-derives what it did before: the events its log already holds, and
        the rows up to the last bar its live state holds (a stretch with no order leaves no event to go by)."""
        log = self.event_log
        if isinstance(log, ResumedEventLog) and not log.caught_up:
            return True
        if self._stored_last_ns < 0:
            return False
        return self.next_row == 0 or int(self.clock.known_ns[self.next_row - 1]) < self._stored_last_ns

    def halt(self, reason: str = "kill switch", *, now_ns: int | None = None) -> TradingStateChanged:
        """The kill switch: the trading state becomes HALTED (written to the live state first), every resting
        order is cancelled at the broker, and from now on only orders that reduce a position go out (no new
        entry, no new stop or target: the position is left to the person who halted it). ``now_ns``: when (default:
        the last row's known time, or just before the first row's); a restarted session halts again at the time
        the live state kept, so its re-derived run cancels what the first run cancelled."""
        now = self._state_change_ns() if now_ns is None else now_ns
        change = self.gate.halt(now_ns=now, open_orders=self.manager.open_orders(), reason=reason)
        self._cancel_all(change.cancel_client_order_ids)
        self.commit()
        return change

    def resume_trading(self, reason: str = "resume", *, now_ns: int | None = None) -> TradingStateChanged:
        """Lift a halt (or a reduce): the trading state becomes ``ACTIVE`` (written to the live state first, with
        its time), entries go out again from the next close, and each held position gets its stop and target
        again at the next close."""
        now = self._state_change_ns() if now_ns is None else now_ns
        change = self.gate.resume(now_ns=now, reason=reason)
        self._stale[:] = True  # every instrument's protective orders follow its position again
        self.commit()
        return change

    def _state_change_ns(self) -> int:
        """When a halt or a lift made now takes place: the last row's known time (just before the first row's when
        none was stepped), never before the gate's clock."""
        last = int(self.clock.known_ns[self.next_row - 1]) if self.next_row > 0 else int(self.clock.known_ns[0]) - 1
        return max(last, self._gate_now())

    def _cancel_all(self, coids: Sequence[ClientOrderId]) -> None:
        t = max(self.next_row - 1, 0)
        for coid in coids:
            tr = self._tracked.get(coid)
            if tr is None:
                continue
            if tr.oid >= 0 and int(self.orders[tr.oid]["status"]) == L.OS_OPEN:
                self._kernel_cancel(tr.inst, tr.oid, tr.kind is OrderKind.ENTRY, t)
            self._cancel(coid)
        self._process()

    def state_step(self) -> StateStep:
        """What the session holds after its last row: positions, the orders open at the broker, each
        instrument's last bar (its known time)."""
        positions: dict[str, dict[str, float]] = {}
        for j, sym in enumerate(self.symbols):
            qty = float(self.fs[j, L.F_QTY])
            if qty != 0.0:
                avg = float(self.fs[j, L.F_ENTRY_VALUE] / self.fs[j, L.F_ENTRY_QTY])
                positions[sym] = {"units": qty, "average_price": avg, "mark": float(self.fs[j, L.F_MARK])}
        orders = {o.client_order_id.value: o.to_dict() for o in self.manager.open_orders()}
        bars = {sym: int(ns) for sym, ns in zip(self.symbols, self._last_bar_ns.tolist(), strict=True) if ns >= 0}
        return StateStep(positions=positions, open_orders=orders, bar_ns=bars)

    def commit(self) -> None:
        """Make the session durable now: the event log synced, then the live state committed (a resumed session
        commits nothing until it has passed the bars its store already holds)."""
        if self.live_state is None:
            self.event_log.sync()
            return
        if self.next_row == 0 or int(self.clock.known_ns[self.next_row - 1]) <= self._stored_last_ns:
            return
        self.event_log.sync()
        self.live_state.commit(self.state_step())
        self._last_commit_s = time.monotonic()

    def step(self, t: int) -> None:
        """Row ``t``: the open through the broker, then the kernel's close and the orders it decided."""
        self._begin_row(t)
        if self.hedged:
            step_hedge_fill(self.af, self.ai, t, self.bench_open, self.p, self.hedge_fills)
        self._open_phase(t)
        self._close_row(t)

    def _begin_row(self, t: int) -> None:
        """Row ``t`` is next: room for its records, and the stored changes of the trading state made before it."""
        if t != self.next_row:
            raise ConfigError(f"paper session: expected row {self.next_row} next, found {t}")
        self._ensure_room()
        self._t = t
        known = int(self.clock.known_ns[t])
        while self._restore and known > self._restore[0][1]:
            state, since = self._restore.pop(0)
            at = max(since, self._gate_now())
            if state is TradingState.HALTED:
                # a halt the re-derived run made again itself (the daily loss limit's) is not made twice: a second
                # one would cancel the orders the first sent (its flatten)
                if self.gate.state is not TradingState.HALTED:
                    self.halt("restarted halted", now_ns=at)
            elif state is TradingState.REDUCING:
                self.gate.reduce(now_ns=at, reason="restarted reducing")
            else:
                self.resume_trading("restarted active", now_ns=at)

    def _open_phase(self, t: int) -> None:
        """The open of row ``t`` at the simulated broker: each instrument with orders that its bar may touch."""
        idx, code = self._visit_idx, self._visit_code
        n_visit = open_visits(t, self.open, self.low, self.high, self._busy, self._levels_stale, self._quiet_ok,
                              self._quiet_lo, self._quiet_hi, idx, code)  # fmt: skip
        if n_visit:
            quiet: list[int] = []
            for j, c in zip(idx[:n_visit].tolist(), code[:n_visit].tolist(), strict=True):
                if c == OPEN_LEVELS:
                    self._quiet_levels(j)
                    quiet_now = self._quiet_ok[j] and self._quiet_lo[j] < self.low[t, j]
                    c = OPEN_QUIET if quiet_now and self.high[t, j] < self._quiet_hi[j] else OPEN_VISIT
                if c == OPEN_QUIET:
                    quiet.append(j)
                else:
                    self._open_bar(t, j)
            if quiet:
                self._sim.pass_bars([self.symbols[j] for j in quiet], self.clock.open_ns[t, quiet].tolist())

    def _close_row(self, t: int) -> None:
        """The close of row ``t``: the kernel's mark and decisions, the protective orders following each position,
        the kernel's new orders out; then the row is done."""
        known = int(self.clock.known_ns[t])
        idx = self._visit_idx
        n_orders = int(self.ai[L.A_N_ORDERS])  # the orders the close decides are those numbered from here
        step_close(  # type: ignore[call-arg]  # mypy cannot count the grids spread into the call
            self.fs, self.is_, self.af, self.ai, t, *self.arrays[1:4], *self.arrays[5:23], self.lot, self.tick,
            self.sector, self.beta, self.bench_close, self.p, self.equity, self.cash, self.qty_path, self.stop_path,
            self.hedge_path, self.orders, self.events,
        )  # fmt: skip
        n_visit = close_visits(t, self.close, known, self._last_bar_ns, self.fs, self._seen, self._kernel_working,
                               self._stale, idx)  # fmt: skip
        for j in idx[:n_visit].tolist():
            self._cancel_closed(j)
            self._follow_position(j, known)
        flatten = self.gate.limits.max_daily_loss is not None and self._daily_loss(t, known)
        for oid in range(n_orders, int(self.ai[L.A_N_ORDERS])):
            self._send_kernel_order(oid, t, known)
        if flatten:
            self._flatten(t, known, n_orders)
        self.next_row = t + 1
        if self.external:  # what the broker reports from now on happens during the next row's bar
            self._t = t + 1
            self._ensure_room()
        self._process()
        if self.live_state is not None and time.monotonic() - self._last_commit_s >= self.commit_every_s:
            self.commit()
        if self.on_row is not None:
            self.on_row(self, t)

    def _open_bar(self, t: int, j: int) -> None:
        sym = self.symbols[j]
        h, lo = float(self.high[t, j]), float(self.low[t, j])
        ts = int(self.clock.open_ns[t, j])
        sim = self._sim
        if sim.quiet_bar(sym, ts, h, lo):
            return
        sim.on_bar(sym, SimBar(
            ts_ns=ts, open=float(self.open[t, j]), high=h, low=lo, close=float(self.close[t, j]),
            volume=float(self.volume[t, j]) if self._volume_grid else math.nan,
            day=int(self.day_id[t]) if self._day_grid else 0,
            sigma_bar=_at(self.sigma_bar, t, j), sigma_daily=_at(self.sigma_daily, t, j), adv=_at(self.adv, t, j),
            end_ns=int(self.clock.known_ns[t]),
        ))  # fmt: skip
        self._cancel_closed(j)
        self._follow_position(j, ts)

    def finish(self) -> KernelOutput:
        """The end of the data: open positions reported at their last close (the kernel's ``end_of_data``); the
        session's records as the kernel's output. Resting orders stay with the broker."""
        self._process()
        counts = np.zeros(6, dtype=np.int64)
        end_of_data(self.fs, self.is_, self.ai, self.trades, self.fills, self.orders, self.events, self.hedge_fills,
                    counts)  # fmt: skip
        if counts[0] != 0:
            raise AssertionError("paper session: a record buffer overflowed despite the headroom kept per row")
        record = self.p[L.P_RECORD_PATHS] > 0.0
        return KernelOutput(
            equity=self.equity.copy(), cash=self.cash.copy(),
            qty=self.qty_path.copy() if record else np.empty((0, self.m)),
            stop=self.stop_path.copy() if record else np.empty((0, self.m)),
            trades=self.trades[: counts[1]].copy(), fills=self.fills[: counts[2]].copy(),
            orders=self.orders[: counts[3]].copy(), events=self.events[: counts[4]].copy(),
            hedge=self.hedge_path.copy() if self.hedged else np.empty((0, L.N_H)),
            hedge_fills=self.hedge_fills[: counts[5]].copy(),
        )  # fmt: skip

    def _ensure_room(self) -> None:
        need = _HEADROOM_PER_INST * self.m + 8
        for name, count in (("trades", L.A_N_TRADES), ("fills", L.A_N_FILLS), ("orders", L.A_N_ORDERS),
                            ("events", L.A_N_EVENTS)):  # fmt: skip
            buf = getattr(self, name)
            if int(self.ai[count]) + need > buf.shape[0]:
                grown = np.empty(2 * buf.shape[0] + need, dtype=buf.dtype)
                grown[: buf.shape[0]] = buf
                setattr(self, name, grown)

    # ---- orders out ---------------------------------------------------------------------------------------

    def _send_kernel_order(self, oid: int, t: int, known: int) -> None:
        rec = self.orders[oid]
        j = int(rec["inst"])
        entry = int(rec["reason"]) == L.R_ENTRY
        kind = OrderKind.ENTRY if entry else OrderKind.EXIT
        sym = self.symbols[j]
        order = Order(
            client_order_id=ClientOrderId.derive(self.session_id, sym, known, kind),
            symbol=sym, kind=kind, side=OrderSide.BUY if rec["side"] > 0 else OrderSide.SELL,
            order_type=_OTYPE[int(rec["order_type"])], time_in_force=_TIF[int(rec["tif"])],
            quantity_units=float(rec["qty"]), filled_units=0.0, limit_price=float(rec["limit_price"]),
            stop_price=float(rec["stop_price"]), average_price=math.nan, status=OrderStatus.NEW,
            reason=L.REASON_NAMES[int(rec["reason"])], decided_ns=known, submitted_ns=known, accepted_ns=None,
            closed_ns=None,
        )  # fmt: skip
        price = order.limit_price if not math.isnan(order.limit_price) else order.stop_price
        if math.isnan(price):
            price = float(self.close[t, j])
        limits = self.gate.limits
        hours = self._in_market_hours(j, known) if limits.market_hours_only else None
        age = None
        if limits.max_quote_age_s is not None:
            age = self.quote_age_s(j) if self.quote_age_s is not None else 0.0
        decision = self.gate.check(order, position_qty=float(self.fs[j, L.F_QTY]), price=price, now_ns=known,
                                   lot_units=float(self.lot[j]), in_market_hours=hours, quote_age_s=age)  # fmt: skip
        if not decision.allowed:
            self._deny(order, decision, known)
            self._kernel_cancel(j, oid, entry, t)
            return
        if decision.quantity_units != order.quantity_units:
            order = order.evolve(quantity_units=decision.quantity_units)
        if self.external and kind is OrderKind.EXIT:
            self._withdraw_protection(j)
        tracked = _Tracked(kind=kind, inst=j, oid=oid, leaves=order.quantity_units)
        self._track(order.client_order_id, tracked)
        self._coid_of_oid[oid] = order.client_order_id
        self.gate.record_submit(known)
        self.manager.submit(order)

    def _deny(self, order: Order, decision: GateDecision, ts_ns: int) -> None:
        """A live limit refused ``order``: its ``OrderDenied`` (the check's name first, then why) is logged."""
        self.denied.append(self.manager.deny(order, reason=f"{decision.check}: {decision.reason}",
                                             value=decision.value, limit=decision.limit, ts_ns=ts_ns))  # fmt: skip

    def _kernel_cancel(self, j: int, oid: int, entry: bool, t: int) -> None:
        """A refused order leaves the kernel as cancelled, so the kernel decides again on a later bar."""
        self.orders[oid]["status"] = L.OS_CANCELLED
        self.orders[oid]["final_row"] = t
        flag = L.I_E_ACTIVE if entry else L.I_X_ACTIVE
        if self.is_[j, L.I_E_ORDER_ID if entry else L.I_X_ORDER_ID] == oid:
            self.is_[j, flag] = 0

    def _track(self, coid: ClientOrderId, tracked: _Tracked) -> None:
        self._tracked[coid] = tracked
        self._working[tracked.inst][coid] = tracked
        self._busy[tracked.inst] = True
        self._stale[tracked.inst] = True
        self._levels_stale[tracked.inst] = True
        if tracked.oid >= 0:
            self._kernel_working[tracked.inst] += 1

    def _cancel(self, coid: ClientOrderId) -> None:
        """Ask the broker to cancel ``coid`` and stop following it. A broker outside the process may still fill it
        before the cancel lands: it is kept aside (``_leaving``) until its terminal event, so such a fill is booked."""
        self.manager.cancel(coid)
        tracked = self._untrack(coid)
        if self.external and tracked is not None:
            self._leaving[coid] = tracked

    def _untrack(self, coid: ClientOrderId) -> _Tracked | None:
        tracked = self._tracked.pop(coid, None)
        if tracked is not None:
            self._working[tracked.inst].pop(coid, None)
            self._busy[tracked.inst] = bool(self._working[tracked.inst])
            self._stale[tracked.inst] = True
            self._levels_stale[tracked.inst] = True
            if tracked.oid >= 0:
                self._kernel_working[tracked.inst] -= 1
            prot = self._protect[tracked.inst]
            if prot.stop == coid:
                prot.stop = None
            if prot.target == coid:
                prot.target = None
        return tracked

    def _quiet_levels(self, j: int) -> None:
        """The range inside which a bar leaves instrument ``j``'s orders alone, when they are only its accepted
        stop and target (a sell stop or a buy target below, a sell target or a buy stop above): the broker's
        ``quiet_bar`` test, kept as two numbers so a row tests every instrument at once."""
        self._levels_stale[j] = False
        lo, hi, ok = -math.inf, math.inf, True
        for tr in self._working[j].values():
            if tr.oid >= 0 or not tr.accepted or math.isnan(tr.price):
                ok = False
                break
            if (tr.kind is OrderKind.STOP) == tr.sell:
                lo = max(lo, tr.price)
            else:
                hi = min(hi, tr.price)
        self._quiet_ok[j] = ok
        self._quiet_lo[j] = lo
        self._quiet_hi[j] = hi

    def _cancel_closed(self, j: int) -> None:
        """Entries and exits the kernel has closed (cancelled by a signal, or with the position) leave the broker."""
        for coid, tr in list(self._working[j].items()):
            if tr.oid >= 0 and int(self.orders[tr.oid]["status"]) != L.OS_OPEN:
                self._cancel(coid)

    def _follow_position(self, j: int, ts: int) -> None:
        """The instrument's stop and target orders follow the kernel's position and its stop (sent, amended or
        cancelled); ``ts`` is when (a fill's time: the order works on the rest of that bar)."""
        self._stale[j] = False
        self._seen[j] = self.fs[j, FOLLOWED_COLUMNS]
        qty = float(self.fs[j, L.F_QTY])
        prot = self._protect[j]
        if self.external and qty != 0.0 and any(tr.kind is OrderKind.EXIT for tr in self._working[j].values()):
            self._withdraw_protection(j)
            return
        if qty == 0.0:
            for coid in (prot.stop, prot.target):
                if coid is not None:
                    self._cancel(coid)
            return
        direction = int(self.is_[j, L.I_DIR])
        units = abs(qty)
        stop = float(self.fs[j, L.F_STOP])
        target = float(self.fs[j, L.F_TARGET])
        prot.stop = self._protective(j, prot.stop, OrderKind.STOP, direction, units, stop, ts)
        prot.target = self._protective(j, prot.target, OrderKind.TARGET, direction, units, target, ts)

    def _in_market_hours(self, j: int, now_ns: int) -> bool:
        return not bool(self.calendars[j].outside_hours(np.asarray([now_ns], dtype=np.int64))[0])

    def _daily_loss(self, t: int, known: int) -> bool:
        """``max_daily_loss`` at row ``t``'s close: True when the loss of the day reached it now (the gate halted,
        its open orders are cancelled; the caller flattens)."""
        day = int(self.day_id[t]) if self._day_grid else known // 86_400_000_000_000
        change = self.gate.check_daily_loss(
            now_ns=max(known, self._gate_now()), day=day, equity=float(self.equity[t]),
            open_orders=self.manager.open_orders(),
        )  # fmt: skip
        if change is None:
            return False
        self._cancel_all(change.cancel_client_order_ids)
        self.commit()
        return True

    def _flatten(self, t: int, known: int, n_orders: int) -> None:
        """After the daily loss limit halted the session: a market order closes each position the kernel is not
        closing already at this close (a halted gate lets an order that reduces a position out)."""
        exiting = {int(self.orders[oid]["inst"]) for oid in range(n_orders, int(self.ai[L.A_N_ORDERS]))
                   if int(self.orders[oid]["reason"]) != L.R_ENTRY}  # fmt: skip
        for j, sym in enumerate(self.symbols):
            qty = float(self.fs[j, L.F_QTY])
            if qty == 0.0 or j in exiting or any(tr.kind is OrderKind.EXIT for tr in self._working[j].values()):
                continue
            order = Order(
                client_order_id=ClientOrderId.derive(self.session_id, sym, known, OrderKind.EXIT,
                                                     1 + int(self.is_[j, L.I_TRADE_ID])),
                symbol=sym, kind=OrderKind.EXIT, side=OrderSide.SELL if qty > 0 else OrderSide.BUY,
                order_type=OrderType.MARKET, time_in_force=TimeInForce.GTC, quantity_units=abs(qty),
                filled_units=0.0, limit_price=math.nan, stop_price=math.nan, average_price=math.nan,
                status=OrderStatus.NEW, reason="max_daily_loss", decided_ns=known, submitted_ns=known,
                accepted_ns=None, closed_ns=None,
            )  # fmt: skip
            decision = self.gate.check(order, position_qty=qty, price=float(self.close[t, j]), now_ns=known,
                                       lot_units=float(self.lot[j]))  # fmt: skip
            if not decision.allowed:
                self._deny(order, decision, known)
                continue
            if self.external:
                self._withdraw_protection(j)
            self._track(order.client_order_id, _Tracked(kind=OrderKind.EXIT, inst=j, oid=-1, leaves=abs(qty),
                                                        reason=L.R_DAILY_LOSS))  # fmt: skip
            self.gate.record_submit(known)
            self.manager.submit(order)

    def _withdraw_protection(self, j: int) -> None:
        """A market exit is going out on a broker outside the process: the position's stop and target leave first.
        A cash account holds the shares a resting sell may take, so the exit would be refused beside them; and the
        kernel fills an exit at the open, before a stop or target could, so nothing it does is lost."""
        prot = self._protect[j]
        for coid in (prot.stop, prot.target):
            if coid is not None:
                self._cancel(coid)

    def _protective(self, j: int, coid: ClientOrderId | None, kind: OrderKind, direction: int, units: float,
                    price: float, ts: int) -> ClientOrderId | None:  # fmt: skip
        wanted = price == price and price > 0.0
        if coid is not None:
            tr = self._tracked[coid]
            if not wanted:
                self._cancel(coid)
                return None
            if tr.price != price or abs(tr.leaves - units) > 1e-12:
                change = {"stop_price": price} if kind is OrderKind.STOP else {"limit_price": price}
                self.gate.record_modify(max(ts, self._gate_now()))
                self.manager.modify(coid, quantity_units=units, **change)
            return coid
        if not wanted or self.gate.state is TradingState.HALTED:
            return None
        trade_id = int(self.is_[j, L.I_TRADE_ID])
        if kind is OrderKind.TARGET and self._protect[j].target_refused == trade_id:
            return None
        sym = self.symbols[j]
        coid = ClientOrderId.derive(self.session_id, sym, ts, kind, trade_id)
        if self.manager.order(coid) is not None:
            return None  # this id went out already (refused, or done): a broker refusal is not answered by a resend
        order = Order(
            client_order_id=coid,
            symbol=sym, kind=kind, side=OrderSide.SELL if direction > 0 else OrderSide.BUY,
            order_type=OrderType.STOP if kind is OrderKind.STOP else OrderType.LIMIT,
            time_in_force=TimeInForce.GTC, quantity_units=units, filled_units=0.0,
            limit_price=price if kind is OrderKind.TARGET else math.nan,
            stop_price=price if kind is OrderKind.STOP else math.nan, average_price=math.nan,
            status=OrderStatus.NEW, reason=kind.value, decided_ns=ts, submitted_ns=ts, accepted_ns=None,
            closed_ns=None,
        )  # fmt: skip
        self._track(order.client_order_id, _Tracked(kind=kind, inst=j, oid=-1, leaves=units, price=price,
                                                    sell=direction > 0))  # fmt: skip
        self.gate.record_submit(max(ts, self._gate_now()))
        self.manager.submit(order)
        return order.client_order_id if order.client_order_id in self._tracked else None

    def _gate_now(self) -> int:
        """The gate's clock, which never goes back (an instrument's fill time may be before another's)."""
        last = self.gate.last_ns
        return last if last is not None else 0

    # ---- what the broker reports ----------------------------------------------------------------------------

    def _arrival_ns(self, order: Order) -> int:
        """When an order reaches the market: the kernel's arrival row for its orders (latency), else the next bar."""
        tr = self._tracked.get(order.client_order_id)
        if tr is None or tr.oid < 0 or self.arrival.shape[0] <= 1:
            return order.submitted_ns
        row = int(self.orders[tr.oid]["arrival_row"])
        return int(self.clock.open_ns[row, tr.inst]) if row >= 0 else _NEVER_NS

    def entry_fit(self, order: Order, units: float, price: float) -> float:
        """The broker's question at an entry fill: the kernel's buying-power check, its event and resize."""
        j = self._index[order.symbol]
        fit = float(margin_fit(self.fs, self.af, j, units, price, self.margin, float(self.lot[j]), self.p))
        if fit < units:
            t = self._t
            self._add_event(t, j, L.D_MARGIN, L.ACTION_DENIED if fit <= 0.0 else L.ACTION_RESIZED, units, fit)
            oid = int(self.is_[j, L.I_E_ORDER_ID])
            filled = float(self.fs[j, L.F_E_FILLED])
            if fit > 0.0:
                self.fs[j, L.F_E_QTY] = filled + fit
                self.orders[oid]["qty"] = filled + fit
            else:
                self.orders[oid]["status"] = L.OS_PARTIAL if filled > 0 else L.OS_CANCELLED
                self.orders[oid]["final_row"] = t
                self.is_[j, L.I_E_ACTIVE] = 0
        return fit

    def _add_event(self, t: int, j: int, check: int, action: int, value: float, limit: float) -> None:
        n_ev = int(self.ai[L.A_N_EVENTS])
        e = self.events[n_ev]
        e["row"], e["inst"], e["check"], e["action"], e["value"], e["limit"] = t, j, check, action, value, limit
        self.ai[L.A_N_EVENTS] = n_ev + 1

    def _on_event(self, event: OrderEvent) -> None:
        tr = self._tracked.get(event.client_order_id)
        if tr is None:
            if self._leaving:
                self._on_leaving_event(event)
            return
        self._stale[tr.inst] = True
        self._levels_stale[tr.inst] = True
        if isinstance(event, OrderAccepted):
            tr.accepted = True
        elif isinstance(event, OrderFilled):
            self._book_fill(tr, event)
            tr.leaves -= event.quantity_units
            if tr.leaves <= 1e-12:
                self._untrack(event.client_order_id)
        elif isinstance(event, OrderAmended):
            tr.leaves = event.quantity_units - (self._filled(event.client_order_id, tr))
            tr.price = event.stop_price if tr.kind is OrderKind.STOP else event.limit_price
        elif isinstance(event, OrderCancelled | OrderExpired | OrderRejected):
            self._untrack(event.client_order_id)
            if isinstance(event, OrderRejected) and tr.kind is OrderKind.TARGET:
                # a broker that will not hold a target beside the stop (a cash account's sellable shares): the
                # position keeps its stop, and the refusal (an event with its reason) is not repeated every bar
                self._protect[tr.inst].target_refused = int(self.is_[tr.inst, L.I_TRADE_ID])
            if tr.kind is OrderKind.ENTRY and int(self.orders[tr.oid]["status"]) == L.OS_OPEN:
                self._entry_closed_by_broker(tr, event)

    def _filled(self, coid: ClientOrderId, tr: _Tracked) -> float:
        """Units of a working order filled so far (a stop or target fills whole, so none while it works)."""
        return float(self.orders[tr.oid]["filled"]) if tr.oid >= 0 else 0.0

    def _entry_closed_by_broker(self, tr: _Tracked, event: OrderEvent) -> None:
        """The broker closed an entry on its own: the kernel's order closes as the kernel closes it."""
        j, oid, t = tr.inst, tr.oid, self._t
        filled = float(self.fs[j, L.F_E_FILLED])
        if isinstance(event, OrderExpired):
            status = L.OS_PARTIAL if filled > 0 else L.OS_EXPIRED
        else:
            if isinstance(event, OrderCancelled) and event.reason == "fill_or_kill":
                remaining = float(self.fs[j, L.F_E_QTY]) - filled
                part = self.p[L.P_PARTICIPATION]
                vol = float(self.volume[t, j]) if self._volume_grid else math.nan
                cap = float(floor_lots(part * vol, float(self.lot[j]))) if part > 0.0 and vol > 0.0 else math.inf
                self._add_event(t, j, L.D_FOK_UNFILLABLE, L.ACTION_DENIED, remaining, cap)
            if filled > 0.0:
                self.is_[j, L.I_PARTIAL] = 1
            status = L.OS_PARTIAL if filled > 0 else L.OS_CANCELLED
        self.orders[oid]["status"] = status
        self.orders[oid]["final_row"] = t
        self.is_[j, L.I_E_ACTIVE] = 0

    def _on_leaving_event(self, event: OrderEvent) -> None:
        """An event of an order the session asked to cancel (a broker outside the process): a fill that came first
        is booked against the position as it is now, the terminal event ends it."""
        tr = self._leaving.get(event.client_order_id)
        if tr is None:
            return
        if isinstance(event, OrderFilled):
            self._stale[tr.inst] = True
            self._book_outside_fill(tr, event)
            tr.leaves -= event.quantity_units
            if tr.leaves <= 1e-12:
                del self._leaving[event.client_order_id]
        elif isinstance(event, OrderCancelled | OrderExpired | OrderRejected):
            del self._leaving[event.client_order_id]

    def _book_outside_fill(self, tr: _Tracked, f: OrderFilled) -> None:
        """A broker's fill of an order the kernel no longer holds (cancelled here before the broker filled it):
        booked as a plain fill of its side, so the kernel's position is the broker's; a fill against the position
        closes at most what is held (the trade ends with the order's reason)."""
        j, t = tr.inst, self._t
        side = 1 if f.side is OrderSide.BUY else -1
        qty = float(self.fs[j, L.F_QTY])
        q = f.quantity_units
        if qty * side < 0.0:
            q = min(q, abs(qty))
        if q <= 0.0:
            return
        reason = {OrderKind.ENTRY: L.R_ENTRY, OrderKind.TARGET: L.R_TAKE_PROFIT}.get(tr.kind, L.R_SIGNAL_EXIT)
        if tr.kind is OrderKind.STOP:
            reason = int(self.is_[j, L.I_STOP_KIND])
        if tr.reason >= 0:
            reason = tr.reason
        apply_fill(self.fs, self.is_, self.af, self.ai, j, t, side, q, f.price, f.reference_price, f.commission,
                   f.spread_slippage, f.impact, reason, -1, -1, L.ORDER_MARKET, self.trades, self.fills,
                   self.orders)  # fmt: skip

    def _book_fill(self, tr: _Tracked, f: OrderFilled) -> None:
        j, t = tr.inst, self._t
        args = (f.quantity_units, f.price, f.reference_price, f.commission, f.spread_slippage, f.impact)
        if tr.kind is OrderKind.ENTRY:
            dec = int(self.is_[j, L.I_E_DECIDED])
            book_entry_fill(self.fs, self.is_, self.af, self.ai, j, t, *args, _at(self.atr_stop, dec, j),
                            _at(self.expansion, dec, j), _at(self.swing_low, dec, j), _at(self.swing_high, dec, j),
                            float(self.tick[j]), self.p, self.trades, self.fills, self.orders)  # fmt: skip
        elif tr.oid < 0 and tr.kind is OrderKind.EXIT:  # the daily loss limit's flatten: no kernel order
            self._book_outside_fill(tr, f)
        elif tr.kind is OrderKind.EXIT:
            book_exit_fill(self.fs, self.is_, self.af, self.ai, j, t, *args, self.trades, self.fills, self.orders)
        else:
            if tr.kind is OrderKind.STOP:
                reason = int(self.is_[j, L.I_STOP_KIND])
                if int(self.is_[j, L.I_ENTRY_ROW]) == t and self.is_[j, L.I_E_ACTIVE] == 1:
                    self.is_[j, L.I_PARTIAL] = 1  # stopped on its entry bar while the entry still filled
            else:
                reason = L.R_TAKE_PROFIT
            if self.external and f.quantity_units < abs(float(self.fs[j, L.F_QTY])) - 1e-9:
                # a broker outside the process filled part of the stop or target: that part closes, the rest is
                # held (and keeps its order at the broker)
                apply_fill(self.fs, self.is_, self.af, self.ai, j, t, -int(self.is_[j, L.I_DIR]), f.quantity_units,
                           f.price, f.reference_price, f.commission, f.spread_slippage, f.impact, reason, -1, -1,
                           L.ORDER_MARKET, self.trades, self.fills, self.orders)  # fmt: skip
                return
            book_close_out(self.fs, self.is_, self.af, self.ai, j, t, reason, *args[1:], self.trades, self.fills,
                           self.orders)  # fmt: skip
            # the close-out takes a pending entry with it (a reversal's too): it leaves the broker before its turn
            self._cancel_closed(j)


def _at(a: np.ndarray, t: int, j: int) -> float:
    """``a[t, j]`` with the kernel's broadcasting of ``(1, m)``, ``(n, 1)`` and ``(1, 1)`` arrays."""
    return float(a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0])
