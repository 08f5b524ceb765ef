"""A live session: the strategy's kernel stepped on bars as they close, its orders sent to a broker outside the process.

``LiveSession`` is what ``quantdesk paper run --broker moomoo`` runs: a strategy on OpenD's simulated account (REAL
only behind every opt-in, ``execution.moomoo.live``), or on any ``Broker`` whose events come back through its
``poll``. It holds each instrument's bars known so far: the history read before the session (the strategy's warm-up)
and every completed bar a ``BarSource`` gives (``poll() -> list[LiveBar]``: ``execution.moomoo.live_bars.KlineFeed``
on OpenD's kline pushes). A row of the grid is complete when every instrument has given a bar known at or after its
time. For the new complete rows the kernel's inputs are prepared from every bar known then
(``backtest.engine.prepare_kernel``, a backtest's own preparation, with the session's start as the trade-from
time, so the history only warms up), the ``runtime.session.PaperSession`` grows by them (``extend``) and steps
each one's close (``close_row``): the kernel's mark and decisions, each order through the live limits and the order
manager to the broker. Between closes ``pump`` books what the broker reported (an entry's fill in the row being
formed, so the new position's stop goes out at its fill and works on the rest of the bar). By the truncation
property each row is the row a backtest of the same bars steps, so with a broker that fills as the backtest's fill
model does (the OpenD emulator's ``matching="bar"``) the session's trades are that backtest's
(``tests/integration/opend/test_live_session.py``). ``result()`` is the backtest-shaped result of the rows stepped,
built by ``run_backtest`` itself with the session as its kernel.

The beta hedge is refused: its orders are filled by the kernel's hedge rules in the process, and a live hedge needs
them at the broker. A killed live session is not resumed from its event log yet (a rerun starts a new session over
the account as it finds it; the orders it sent stay at the broker, tied to their decisions by their remarks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from quantdesk.backtest.engine import PreparedKernel, prepare_kernel, run_backtest
from quantdesk.backtest.kernel_io import KernelInputs, KernelOutput, kernel_arrays
from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.execution.broker import Broker
from quantdesk.execution.event_log import EventLog
from quantdesk.execution.moomoo.live_bars import LiveBar
from quantdesk.persistence.live_state import LiveStateStore
from quantdesk.runtime.paper import grid_open_times, paper_strategy, replay_session_id
from quantdesk.runtime.session import PaperSession, SessionClock
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.models import Strategy

__all__ = ["BarSource", "LiveSession"]


class BarSource(Protocol):
    """Completed bars as they close: each bar once, per instrument in time order."""

    def poll(self) -> list[LiveBar]: ...


@dataclass(slots=True)
class _Series:
    """One instrument's bars known so far (history, then live), appended as they close."""

    history: Bars
    ts: list[int] = field(default_factory=list)
    ohlcv: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    arrived_s: float = field(default_factory=time.monotonic)  # when its latest bar came (monotonic seconds)
    _bars: Bars | None = None

    @property
    def last_ts(self) -> int:
        return self.ts[-1] if self.ts else int(self.history.ts[-1])

    def add(self, bar: LiveBar) -> bool:
        if bar.ts_ns <= self.last_ts:
            return False  # the history already holds it (the first push repeats the latest bar)
        self.ts.append(bar.ts_ns)
        self.arrived_s = time.monotonic()
        self.ohlcv.append((bar.open, bar.high, bar.low, bar.close, bar.volume))
        self._bars = None
        return True

    def bars(self) -> Bars:
        if self._bars is None:
            h = self.history
            if not self.ts:
                self._bars = h
            else:
                live = np.asarray(self.ohlcv, dtype=np.float64)
                cols = {"ts": np.concatenate([h.ts, np.asarray(self.ts, dtype=np.int64)])}
                for k, name in enumerate(("open", "high", "low", "close", "volume")):
                    cols[name] = np.concatenate([getattr(h, name), live[:, k]])
                self._bars = Bars.from_arrays(h.symbol, h.timeframe, cols, h.calendar)
        return self._bars


class LiveSession:
    """A strategy stepped on bars as they close, trading through ``broker`` (see the module docstring).

    ``history``: each instrument's bars before the session (its warm-up; the session's instruments, in order);
    ``source``: the completed bars from then on; ``trade_from_ns``: the first bar the session trades (default: just
    after the latest history bar); ``on_row(session, t)`` after each row's close; ``now_ns`` the wall clock."""

    def __init__(
        self,
        strategy: Strategy,
        history: Sequence[Bars],
        source: BarSource,
        broker: Broker,
        *,
        instruments: Mapping[str, Instrument] | None = None,
        initial_cash: float = 100_000.0,
        sources: EvidenceSources | None = None,
        trade_from_ns: int | None = None,
        session_id: str | None = None,
        event_log: EventLog | None = None,
        live_state: LiveStateStore | None = None,
        on_row: Callable[[PaperSession, int], None] | None = None,
        commit_every_s: float = 0.5,
    ) -> None:
        if not history:
            raise ConfigError("live session: expected the history of at least one instrument, found none")
        strategy = paper_strategy(strategy)
        if strategy.risk_management.beta_hedge is not None:
            raise ConfigError(
                "risk_management.beta_hedge: a live session cannot hedge yet (the hedge's orders are filled by the "
                "kernel in the process, not sent to the broker); remove it for paper or live trading on a broker"
            )
        self.strategy = strategy
        self.source = source
        self.broker = broker
        self.instruments = dict(instruments or {})
        self.initial_cash = float(initial_cash)
        self.sources = sources if sources is not None else EvidenceSources()
        # the bars as the backtest reads them: on each instrument's own calendar (its sessions, its days)
        self._series = {
            h.symbol: _Series(replace(h, calendar=self.instruments[h.symbol].calendar)
                              if h.symbol in self.instruments else h)
            for h in history
        }  # fmt: skip
        if len(self._series) != len(history):
            raise ConfigError("live session: an instrument's history is given twice")
        self.symbols = tuple(self._series)
        self.timeframe = history[0].timeframe
        self.trade_from_ns = (
            int(trade_from_ns) if trade_from_ns is not None else max(int(h.ts[-1]) for h in history) + 1
        )
        self.session_id = session_id or replay_session_id(strategy, self.symbols, self.timeframe.value,
                                                          self.trade_from_ns)  # fmt: skip
        self.event_log = event_log
        self.live_state = live_state
        self.on_row = on_row
        self.commit_every_s = commit_every_s
        self.session: PaperSession | None = None
        self.bars_received = 0
        self.last_bar_s = time.monotonic()
        self.stop_requested = False
        self._complete_upto = -1  # the rows known by this time are stepped

    # ---- the loop -------------------------------------------------------------------------------------------------

    def pump(self) -> int:
        """Take what came in: the broker's events (booked in the row being formed) and the bars that closed; step
        every row now complete. Returns the number of rows stepped."""
        if self.session is not None:
            self.session.book_broker_events()
        new = 0
        for bar in self.source.poll():
            series = self._series.get(bar.symbol)
            if series is not None and series.add(bar):
                new += 1
        if not new:
            return 0
        self.bars_received += new
        self.last_bar_s = time.monotonic()
        return self._step_complete_rows()

    def run(self, *, until: Callable[[LiveSession], bool] | None = None, poll_s: float = 0.02) -> None:
        """``pump`` every ``poll_s`` seconds until ``until(self)`` says so or a stop is asked (``request_stop``)."""
        while not self.stop_requested and not (until is not None and until(self)):
            if not self.pump():
                time.sleep(poll_s)
        if self.session is not None:
            self.session.commit()

    def request_stop(self) -> None:
        self.stop_requested = True
        if self.session is not None:
            self.session.request_stop()

    # ---- rows -----------------------------------------------------------------------------------------------------

    def _complete_ns(self) -> int:
        """The latest time up to which every instrument has given its bars: the rows known by then are complete."""
        return min(
            int(s.history.calendar.known_ns(np.asarray([s.last_ts], dtype=np.int64), self.timeframe)[0])
            for s in self._series.values()
        )

    def _prepare(self, upto_ns: int) -> PreparedKernel | None:
        cut = []
        for s in self._series.values():
            b = s.bars()
            cut.append(b[: int(np.searchsorted(b.known_ns(), upto_ns, side="right"))])
        if any(int(b.ts[-1]) < self.trade_from_ns for b in cut if len(b)):
            return None  # an instrument has no bar to trade yet
        return prepare_kernel(self.strategy, cut, instruments=self.instruments, initial_cash=self.initial_cash,
                              sources=self.sources, trade_from_ns=self.trade_from_ns, min_trading_bars=1)  # fmt: skip

    def _step_complete_rows(self) -> int:
        upto = self._complete_ns()
        if upto <= self._complete_upto:
            return 0  # an instrument's bar came, the row waits for the others: nothing to prepare yet
        prep = self._prepare(upto)
        if prep is None:
            return 0
        self._complete_upto = upto
        self._prepared = prep
        arrays = kernel_arrays(prep.inputs)
        clock = SessionClock(known_ns=np.asarray(prep.grid.known_ns, dtype=np.int64),
                             open_ns=grid_open_times(prep.grid, prep.bars))  # fmt: skip
        session = self.session
        if session is None:
            session = self.session = PaperSession(
                arrays, prep.params, symbols=self.symbols, clock=clock, session_id=self.session_id,
                event_log=self.event_log, live_state=self.live_state,
                live_limits=self.strategy.execution_rules.live_limits, on_row=self.on_row,
                commit_every_s=self.commit_every_s, broker=self.broker,
                calendars=[b.calendar for b in prep.bars],
            )  # fmt: skip
            series = [self._series[s] for s in self.symbols]
            session.quote_age_s = lambda j: time.monotonic() - series[j].arrived_s
        elif prep.grid.n > session.n:
            session.extend(arrays, clock)
        stepped = 0
        for t in range(session.next_row, session.n):
            session.close_row(t)
            stepped += 1
            if session.stop_requested:
                break
        return stepped

    # ---- the outcome ----------------------------------------------------------------------------------------------

    def result(self) -> BacktestResult:
        """The rows stepped so far as a backtest's result (open positions reported at their last close): run by
        ``run_backtest`` on the bars the session knows, with the session as its kernel. Ends the session."""
        session = self.session
        if session is None:
            raise ConfigError("live session: no bar has closed since the session began; there is no result yet")
        session.book_broker_events()
        upto = int(session.clock.known_ns[session.next_row - 1])
        bars = []
        for s in self._series.values():
            b = s.bars()
            bars.append(b[: int(np.searchsorted(b.known_ns(), upto, side="right"))])

        def runner(inputs: KernelInputs, params: np.ndarray, grid: object, bar_list: object) -> KernelOutput:
            if getattr(grid, "n", None) != session.next_row:
                raise AssertionError("live session: the result's grid is not the rows the session stepped")
            return session.finish()

        return run_backtest(self.strategy, bars, instruments=self.instruments, initial_cash=self.initial_cash,
                            sources=self.sources, trade_from_ns=self.trade_from_ns, kernel_runner=runner)  # fmt: skip
