"""Paper replay: a strategy run over stored bars as a paper session, with the backtest's result as its output.

``paper_replay`` takes what ``run_backtest`` takes and runs the same preparation (signals, evidence, the grid,
the kernel's parameters) and the same result building; only the kernel's loop is replaced by a
``runtime.session.PaperSession``, which steps the rows of a ``runtime.feed.StoredBarFeed`` over the same bars
(the same grid), each when its clock (``runtime.clock``; default a ``ReplayClock`` at full speed) reaches the
row's known time, and sends every order through the live limits and the order manager to the simulated broker.
A paper session always sizes orders at the decision, so the strategy is run with
``execution_rules.size_orders_at`` "decision" (the result's strategy says so, and a backtest of that strategy
gives the same orders, fills, trades and equity to the cent).
In a replay the strategy's signals are computed once over the stored bars: each passes the truncation test,
so a row's signal is what the strategy computes when that row's bar closes. The session's id is derived
from the strategy, the symbols, the timeframe and the first bar (``domain.ids.session_id``), so a restarted
replay re-derives every client order id it sent before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quantdesk.backtest.engine import Grid, Progress, run_backtest
from quantdesk.backtest.kernel_io import KernelInputs, KernelOutput, check_inputs, kernel_arrays
from quantdesk.backtest.result import BacktestResult
from quantdesk.domain.bars import Bars
from quantdesk.domain.ids import derived_id, session_id
from quantdesk.domain.instrument import Instrument
from quantdesk.execution.event_log import EventLog
from quantdesk.persistence.live_state import LiveStateStore
from quantdesk.runtime.clock import Clock, ReplayClock
from quantdesk.runtime.feed import StoredBarFeed
from quantdesk.runtime.session import PaperSession, SessionClock
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.models import Strategy

__all__ = ["PaperOutcome", "paper_replay", "paper_strategy", "replay_session_id"]


@dataclass(frozen=True, slots=True)
class PaperOutcome:
    """A replay's result (the backtest's shape) and the session that made it (its orders, events, broker)."""

    result: BacktestResult
    session: PaperSession


def paper_strategy(strategy: Strategy) -> Strategy:
    """``strategy`` as a paper session runs it: orders sized at the decision."""
    rules = strategy.execution_rules
    if rules.size_orders_at == "decision":
        return strategy
    return strategy.model_copy(update={"execution_rules": rules.model_copy(update={"size_orders_at": "decision"})})


def replay_session_id(strategy: Strategy, symbols: Sequence[str], timeframe: str, start_ns: int) -> str:
    """The session id of ``strategy`` replayed on ``symbols`` from the bar known at ``start_ns``."""
    instance = derived_id("strategy/" + strategy.identity_json())
    return session_id(instance, symbols, timeframe, start_ns)


def grid_open_times(grid: Grid, bars: Sequence[Bars]) -> np.ndarray:
    """Each instrument's bar open time on each row of ``grid`` (0 where it has no bar): a ``SessionClock``'s."""
    out = np.zeros((grid.n, len(bars)), dtype=np.int64)
    for j, b in enumerate(bars):
        out[grid.rows[j], j] = np.asarray(b.ts, dtype=np.int64)
    return out


def paper_replay(
    strategy: Strategy,
    bars: Bars | Sequence[Bars],
    *,
    instruments: Mapping[str, Instrument] | None = None,
    initial_cash: float = 100_000.0,
    sources: EvidenceSources | None = None,
    benchmark: Bars | None = None,
    progress: Progress | None = None,
    trade_from_ns: int | None = None,
    event_log: EventLog | None = None,
    live_state: LiveStateStore | None = None,
    on_row: Callable[[PaperSession, int], None] | None = None,
    session_for: Callable[[PaperSession], None] | None = None,
    commit_every_s: float = 0.05,
    session_id: str | None = None,
    benchmark_instrument: Instrument | None = None,
    clock: Clock | None = None,
) -> PaperOutcome:
    """Replay ``bars`` through a paper session of ``strategy`` (see the module docstring). ``event_log`` and
    ``live_state`` make the session durable (default: in memory); ``on_row`` is called after each row;
    ``session_for`` receives the session before its first row (a caller that resumes it, or watches it);
    ``commit_every_s`` is how often (wall time) the live state is committed, with the log synced first;
    ``session_id`` replaces the replay's derived id (``replay_session_id``) where a caller keys the session by more
    than the strategy, symbols and first bar (the CLI's sessions also by capital, trading window and last bar);
    ``benchmark_instrument`` gives the beta hedge's margin rate, as for ``run_backtest``; ``clock`` paces the rows
    (``ReplayClock(start_ns, speed=60.0)``: a minute of data a second; default full speed).

    Given an event log that already holds events (a session that was killed), the session resumes: it re-derives
    its run from the first bar, each event checked against the stored one and not written again, so it ends
    as one run without interruption would have, with every order in the log once."""
    strategy = paper_strategy(strategy)
    made: list[PaperSession] = []

    def runner(inputs: KernelInputs, params: np.ndarray, grid: Grid, bar_list: Sequence[Bars]) -> KernelOutput:
        check_inputs(inputs, params)
        symbols = [b.symbol for b in bar_list]
        sid = session_id or replay_session_id(strategy, symbols, bar_list[0].timeframe.value, int(grid.known_ns[0]))
        session = PaperSession(
            kernel_arrays(inputs), params, symbols=symbols,
            clock=SessionClock(known_ns=np.asarray(grid.known_ns, dtype=np.int64),
                               open_ns=grid_open_times(grid, bar_list)),
            session_id=sid, event_log=event_log, live_state=live_state,
            live_limits=strategy.execution_rules.live_limits, on_row=on_row, commit_every_s=commit_every_s,
            calendars=[b.calendar for b in bar_list],
        )  # fmt: skip
        made.append(session)
        if session_for is not None:
            session_for(session)
        feed = StoredBarFeed(bar_list)
        if not np.array_equal(feed.grid.known_ns, grid.known_ns):
            raise AssertionError("paper replay: the feed's rows are not the run's grid")
        session.run_feed(feed, clock if clock is not None else ReplayClock(int(grid.known_ns[0])))
        return session.finish()

    result = run_backtest(
        strategy, bars, instruments=instruments, initial_cash=initial_cash, sources=sources, benchmark=benchmark,
        progress=progress, trade_from_ns=trade_from_ns, kernel_runner=runner, benchmark_instrument=benchmark_instrument,
    )  # fmt: skip
    return PaperOutcome(result, made[-1])
