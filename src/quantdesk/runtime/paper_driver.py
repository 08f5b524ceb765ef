"""A durable paper session of a ``RunSpec``: ``paper_replay`` over the spec's bars, kept in a session folder.

``run_paper(run, folder=..., live_state=...)`` (``runtime.service.paper`` is its entry point) replays the
prepared bars through a paper session whose event log is the folder's ``events.jsonl`` (appends synced at each
commit of the live state, ``JsonlEventLog(sync_each=False)``), whose status and control file are the folder's
(``runtime.session_dir.SessionWatch``), and whose live state is the store given. A folder that already holds
events is a session that was stopped or killed: the rerun resumes it (``resume_row`` says from where).
``speed`` paces the replay at that many bars per second of wall time, each row due at ``start + k / speed``
from the first row paced (a late row does not push the later ones back); rows the session re-derives while
resuming go at full speed. The session's id (``paper_session_id``) is the replay's id
(``runtime.paper.replay_session_id``: strategy, symbols, timeframe, first bar) made specific to the capital,
the trading window's start and the last bar, so a run with other money or other bars is another session.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.ids import derived_id
from quantdesk.domain.trading_state import TradingState
from quantdesk.execution.event_log import JsonlEventLog
from quantdesk.persistence.live_state import LiveStateStore
from quantdesk.runtime.paper import paper_replay, paper_strategy, replay_session_id
from quantdesk.runtime.session import PaperSession
from quantdesk.runtime.session_dir import SessionDir, SessionFacts, SessionStatus, SessionWatch

if TYPE_CHECKING:
    from quantdesk.runtime.service import PreparedRun

__all__ = ["PaperRunOutcome", "check_speed", "paper_session_id", "resume_row", "run_paper"]

_SLEEP_SLICE_S = 0.1  # a paced wait sleeps in slices this long, looking at the control file in between


@dataclass(frozen=True, slots=True)
class PaperRunOutcome:
    """A durable session's end: the replay's result (its metrics are whole only when ``finished``), the session,
    its last status, the row it resumed from (None for a new session), the notes of the run's preparation, and
    the id of its recorded run (``recorded``: recorded by this run, not by an earlier run of the session)."""

    result: BacktestResult
    session: PaperSession
    status: SessionStatus
    resumed_from: int | None
    notes: tuple[str, ...]
    run_id: str | None = None
    recorded: bool = False

    @property
    def finished(self) -> bool:
        """The session stepped its last bar (a stopped one has rows left: rerun it to resume)."""
        return self.session.next_row >= self.session.n


def paper_session_id(run: PreparedRun) -> str:
    """The session id of a prepared run (see the module docstring): the same command, the same session."""
    strategy = paper_strategy(run.strategy)
    first = min(int(b.known_ns()[0]) for b in run.bars)
    last = max(int(b.known_ns()[-1]) for b in run.bars)
    replay = replay_session_id(strategy, run.symbols, run.timeframe.value, first)
    trade_from = run.spec.ns("trade_from")
    return derived_id(f"paper/{replay}/{float(run.spec.capital)!r}/{trade_from}/{last}")


def check_speed(speed: float | None) -> float:
    """Bars per second of wall time; 0 for full speed (None or 0)."""
    if speed is None:
        return 0.0
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not math.isfinite(speed) or speed < 0:
        raise ConfigError(f"--speed: expected bars per second >= 0 (0: full speed), found {speed!r}")
    return float(speed)


def resume_row(session: PaperSession) -> int | None:
    """The row a restarted session continues from (its live state's last bar, plus one); None for a new one."""
    stored = session.live_state.snapshot().last_bar_ns if session.live_state is not None else {}
    if not stored and not session.resuming:
        return None
    last = max(stored.values(), default=-1)
    return int(np.searchsorted(session.clock.known_ns, last, side="right"))


class _Pacer:
    """Rows due at ``start + k / speed``; while it waits, the watch looks at the control file."""

    def __init__(self, speed: float, watch: SessionWatch) -> None:
        self.period_s = 1.0 / speed if speed > 0 else 0.0
        self.watch = watch
        self.start_s: float | None = None
        self.start_row = 0

    def after_row(self, session: PaperSession, t: int) -> None:
        if self.period_s == 0.0 or session.resuming or t + 1 >= session.n:
            return
        if self.start_s is None:
            self.start_s, self.start_row = time.monotonic(), t
        due = self.start_s + (t + 1 - self.start_row) * self.period_s
        while not session.stop_requested:
            left = due - time.monotonic()
            if left <= 0.0:
                return
            time.sleep(min(left, _SLEEP_SLICE_S))
            self.watch.poll(session)


def final_state(session: PaperSession) -> str:
    """ "halted" (its trading state), "finished" (its last bar stepped) or "stopped"."""
    if session.gate.state is TradingState.HALTED:
        return "halted"
    return "finished" if session.next_row >= session.n else "stopped"


def run_paper(
    run: PreparedRun,
    *,
    folder: SessionDir,
    live_state: LiveStateStore,
    on_row: Callable[[PaperSession, int], None] | None = None,
    session_for: Callable[[PaperSession, int | None], None] | None = None,
    speed: float | None = None,
    command: str | None = None,
    record: bool = False,
    fresh: bool = False,
    status_every_s: float = 0.5,
    control_every_s: float = 0.2,
    commit_every_s: float = 0.05,
) -> PaperRunOutcome:
    """Run (or resume) the durable session of ``run`` in ``folder`` (see the module docstring). ``session_for``
    receives the session and the row it resumes from (None: a new session) before its first row; ``on_row``
    is called after each row (after the status, the control file and the pacing); ``command`` is the command
    line the status shows for a rerun; ``fresh`` deletes the folder and clears the live state first (under the
    session's lock, ``SessionDir.held``, which the whole run holds: a second process of the session is
    refused). With ``record``, a session that reaches its last bar is recorded
    (``persistence.runs.RunStore.record``, mode "paper") unless an earlier run of it was; the status keeps the id."""
    pace = check_speed(speed)
    if live_state.session_id != folder.session_id:
        raise ConfigError(f"paper session: the live state is of session {live_state.session_id}, "
                          f"the folder of {folder.session_id}")  # fmt: skip
    with folder.held():
        if fresh:
            folder.remove()
            live_state.clear()
        _check_state_has_its_log(folder, live_state)
        return _run_held(run, folder, live_state, on_row, session_for, pace, command, record, status_every_s,
                         control_every_s, commit_every_s)  # fmt: skip


def _check_state_has_its_log(folder: SessionDir, live_state: LiveStateStore) -> None:
    """A live state with bars or claimed orders, and no event log beside it, is another run's: a folder deleted by
    hand, or another data home sharing the Redis server. Resuming from it would skip bars; refuse instead."""
    if folder.events_path.exists():  # made when the session first opened it, before any commit (perhaps empty)
        return
    stored = live_state.snapshot()
    if stored.last_bar_ns or live_state.claimed():
        raise ConfigError(
            f"paper session {folder.session_id}: its live state holds bars up to "
            f"{ns_to_iso(max(stored.last_bar_ns.values()))} but it has no event log at {folder.events_path} "
            "(a deleted session folder, or another data home on the same Redis); `--fresh` starts it over"
            if stored.last_bar_ns else
            f"paper session {folder.session_id}: its live state has claimed orders but it has no event log at "
            f"{folder.events_path}; `--fresh` starts it over"
        )  # fmt: skip


def _run_held(run: PreparedRun, folder: SessionDir, live_state: LiveStateStore,
              on_row: Callable[[PaperSession, int], None] | None,
              session_for: Callable[[PaperSession, int | None], None] | None, pace: float, command: str | None,
              record: bool, status_every_s: float, control_every_s: float,
              commit_every_s: float) -> PaperRunOutcome:  # fmt: skip
    facts = SessionFacts(strategy=run.strategy.strategy_meta.name, symbols=run.symbols,
                         timeframe=run.timeframe.value, capital=float(run.spec.capital), command=command)  # fmt: skip
    watch = SessionWatch(folder, facts, status_every_s=status_every_s, control_every_s=control_every_s)
    pacer = _Pacer(pace, watch)
    made: list[PaperSession] = []
    resumed: list[int | None] = []

    def started(session: PaperSession) -> None:
        made.append(session)
        resumed.append(resume_row(session))
        watch.start(session)
        if session_for is not None:
            session_for(session, resumed[0])

    def row(session: PaperSession, t: int) -> None:
        watch.poll(session)
        pacer.after_row(session, t)
        if on_row is not None:
            on_row(session, t)

    log = JsonlEventLog(folder.events_path, sync_each=False)
    try:
        outcome = paper_replay(
            run.strategy, list(run.bars), instruments=run.instruments, initial_cash=float(run.spec.capital),
            sources=run.sources, benchmark=run.benchmark, trade_from_ns=run.spec.ns("trade_from"), event_log=log,
            live_state=live_state, on_row=row, session_for=started, commit_every_s=commit_every_s,
            session_id=folder.session_id, benchmark_instrument=run.benchmark_instrument,
        )  # fmt: skip
    except Exception as exc:
        if made:
            watch.finish(made[0], "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        log.close()
    session = outcome.session
    status = watch.finish(session, final_state(session))
    recorded = False
    if record and session.next_row >= session.n and watch.run_id is None:
        from quantdesk.persistence.runs import RunStore

        status = watch.recorded(RunStore().record(outcome.result, spec=run.spec, mode="paper"))
        recorded = True
    return PaperRunOutcome(outcome.result, session, status, resumed[0], run.notes, status.run_id, recorded)
