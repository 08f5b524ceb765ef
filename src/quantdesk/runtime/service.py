"""The service that carries out a ``RunSpec``: the one place a run's data is gathered and its backtest made.

``prepare(spec)`` opens the catalog of the spec's data home, resolves the symbols (a universe's instruments
outside the strategy's ``asset_classes`` are left out, each with a note), reads the bars (the window from
``start``, so the warm-up before ``trade_from`` is there), the benchmark and the instruments, and builds the
``EvidenceSources`` whose fundamentals store opens inside the worker, only when a strategy reads it.
``backtest(spec)`` runs it and returns the result with the notes; ``paper(spec)`` runs it as a durable paper
session in its folder under ``<data home>/sessions/`` (``runtime.paper_driver``), resuming one that was stopped
or killed. The CLI's ``backtest``, ``paper``, ``strategy lookahead`` and ``demo`` call these; later the API and
a process pool call the same with the same specs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.core.paths import data_home
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.models import Strategy

if TYPE_CHECKING:
    from quantdesk.persistence.live_state import LiveStateStore
    from quantdesk.runtime.paper_driver import PaperRunOutcome
    from quantdesk.runtime.session import PaperSession
    from quantdesk.runtime.session_dir import SessionDir

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A spec's data, read: what ``run_backtest`` (or a look-ahead analysis) takes."""

    spec: RunSpec
    strategy: Strategy
    symbols: tuple[str, ...]
    timeframe: Timeframe
    bars: tuple[Bars, ...]
    benchmark: Bars | None
    instruments: dict[str, Instrument]
    sources: EvidenceSources
    notes: tuple[str, ...]  # the universe's members left out, and why
    benchmark_instrument: Instrument | None = None  # the benchmark in the instrument master (the hedge's margin)

    @property
    def label(self) -> str:
        names = ", ".join(self.symbols[:5]) + (" ..." if len(self.symbols) > 5 else "")
        return f"{self.strategy.strategy_meta.name} on {names} {self.timeframe.value}"


@dataclass(frozen=True, slots=True)
class RunOutcome:
    result: BacktestResult
    notes: tuple[str, ...]


def evidence_sources(home: Path | None, *, fundamentals_in_home: bool = False) -> EvidenceSources:
    """The catalog of ``home`` (default: the data home; its bars in the store ``QUANTDESK_BAR_STORE_URL``
    selects) and its fundamentals store, opened on first use: the database of ``QUANTDESK_DATABASE_URL`` if set
    (unless ``fundamentals_in_home``), else ``home``'s SQLite."""
    from quantdesk.data.bar_store import open_catalog

    root = home if home is not None else data_home()

    def open_store() -> Any:

        from quantdesk.data.fundamentals.store import FundamentalStore
        from quantdesk.persistence.db import URL_ENV, open_database

        url = os.environ.get(URL_ENV, "").strip()
        if fundamentals_in_home or not url:
            url = f"sqlite:///{root / 'quantdesk.db'}"
        return FundamentalStore(open_database(url))

    precomputed = root / "indicators"  # `quantdesk indicators precompute` made it
    cache = None
    if precomputed.is_dir():
        from quantdesk.analysis.technical.precomputed import IndicatorCache

        cache = IndicatorCache(precomputed)
    return EvidenceSources(catalog=open_catalog(root / "catalog"), open_fundamentals=open_store,
                           indicator_cache=cache)  # fmt: skip


def resolve_symbols(catalog: Any, symbols: Sequence[str], universe: str | None, timeframe: str,
                    asset_classes: Sequence[str] = ()) -> tuple[list[str], list[str]]:  # fmt: skip
    """The run's symbols, and notes on the universe members left out: those outside the strategy's
    ``asset_classes`` (a synthetic FX pair in an equity strategy's ``--universe synthetic``)."""
    from quantdesk.data.universe import resolve_universe

    chosen = list(dict.fromkeys(symbols))
    notes: list[str] = []
    if universe is not None:
        members = [s for s in resolve_universe(catalog, universe, timeframe) if s not in chosen]
        if asset_classes:
            outside = {}
            for s in members:
                inst = catalog.find_instrument(s)
                if inst is not None and inst.asset_class not in asset_classes:
                    outside[s] = str(inst.asset_class)
            if outside and len(outside) == len(members) and not chosen:
                raise ConfigError(
                    f"--universe {universe}: none of its instruments is of the strategy's asset_classes "
                    f"({', '.join(asset_classes)}); found {', '.join(sorted(set(outside.values())))}"
                )
            for s, kind in outside.items():
                notes.append(f"{s} left out: a {kind} instrument, not one of the strategy's asset_classes "
                             f"({', '.join(asset_classes)})")  # fmt: skip
            members = [s for s in members if s not in outside]
        chosen += members
    return chosen, notes


def prepare(spec: RunSpec) -> PreparedRun:
    strategy = spec.strategy()
    tf = Timeframe.parse(spec.timeframe)
    start_ns, end_ns = spec.ns("start"), spec.ns("end")
    sources = evidence_sources(spec.home, fundamentals_in_home=spec.fundamentals_in_home)
    catalog = sources.catalog
    assert catalog is not None  # evidence_sources always opens one
    names, notes = resolve_symbols(catalog, spec.symbols, spec.universe, tf.value,
                                   [str(a) for a in strategy.strategy_meta.asset_classes])  # fmt: skip
    bars = tuple(catalog.read_many(names, tf, start_ns, end_ns))
    for b in bars:
        if len(b) == 0:
            raise ConfigError(f"{b.symbol} {tf.value}: no bars between --start and --end")
    bench = catalog.read_bars(spec.benchmark, tf, start_ns, end_ns) if spec.benchmark else None
    instruments = {s: i for s in names if (i := catalog.find_instrument(s)) is not None}
    bench_inst = catalog.find_instrument(spec.benchmark) if spec.benchmark else None
    return PreparedRun(spec, strategy, tuple(names), tf, bars, bench, instruments, sources, tuple(notes), bench_inst)


def backtest(spec: RunSpec | PreparedRun, progress: Progress | None = None) -> RunOutcome:
    """Backtest a spec (or one already prepared): the result and the notes on what was left out."""

    run = spec if isinstance(spec, PreparedRun) else prepare(spec)
    return RunOutcome(_run_backtest(run, run.strategy, progress), run.notes)


def _run_backtest(run: PreparedRun, strategy: Strategy, progress: Progress | None = None) -> BacktestResult:
    """``run_backtest`` of ``strategy`` on a prepared run's data and settings (written once for every caller)."""
    from quantdesk.backtest.engine import run_backtest

    return run_backtest(
        strategy, list(run.bars), instruments=run.instruments, initial_cash=float(run.spec.capital),
        sources=run.sources, benchmark=run.benchmark, progress=progress, trade_from_ns=run.spec.ns("trade_from"),
        benchmark_instrument=run.benchmark_instrument,
    )  # fmt: skip


def open_session_state(session_id: str, home: Path | None = None) -> LiveStateStore:
    """A paper session's live state: Redis when ``QUANTDESK_REDIS_URL`` is set, else ``<home>/live_state.db``."""
    from quantdesk.persistence.live_state import REDIS_URL_ENV, SqliteLiveState, open_live_state

    if os.environ.get(REDIS_URL_ENV, "") or home is None:
        return open_live_state(session_id)
    return SqliteLiveState(session_id, home / "live_state.db")


def session_folder(run: PreparedRun) -> SessionDir:
    """The folder of a prepared run's paper session: ``<data home>/sessions/<session id>/``."""
    from quantdesk.runtime.paper_driver import paper_session_id
    from quantdesk.runtime.session_dir import SessionDir, sessions_root

    return SessionDir(paper_session_id(run), sessions_root(run.spec.home))


def paper_backtest(run: PreparedRun) -> BacktestResult:
    """The backtest a paper session of ``run`` is held to: the same bars and settings, orders sized at the decision
    as the session sizes them (``runtime.paper.paper_strategy``)."""
    from quantdesk.runtime.paper import paper_strategy

    return _run_backtest(run, paper_strategy(run.strategy))


def session_alerts(run: PreparedRun, *, webhook_url: str | None = None) -> Any:
    """A ``monitoring.SessionAlerts`` for the paper session of ``run``: its band from ``paper_backtest``, its alerts
    to the log, the session folder's ``alerts.jsonl`` and, when given, a webhook."""
    from quantdesk.monitoring.alerts import Band
    from quantdesk.monitoring.session_alerts import SessionAlerts, default_notifiers

    folder = session_folder(run)
    band = Band.from_backtest(paper_backtest(run))
    first = min(int(b.known_ns()[0]) for b in run.bars)
    return SessionAlerts(band, run.symbols, notifiers=default_notifiers(folder.path, webhook_url),
                         session_id=folder.session_id, start_ns=first)  # fmt: skip


def paper(
    spec: RunSpec | PreparedRun,
    *,
    session_dir: SessionDir | None = None,
    live_state: LiveStateStore | None = None,
    fresh: bool = False,
    on_row: Callable[[PaperSession, int], None] | None = None,
    session_for: Callable[[PaperSession, int | None], None] | None = None,
    speed: float | None = None,
    record: bool = False,
    command: str | None = None,
    status_every_s: float = 0.5,
    control_every_s: float = 0.2,
    commit_every_s: float = 0.05,
) -> PaperRunOutcome:
    """Run a spec as a durable paper session (``runtime.paper_driver.run_paper``; the options are its own):
    ``session_dir`` defaults to the run's folder (``session_folder``), ``live_state`` to ``open_session_state``
    (opened and closed here); ``fresh`` deletes the folder and the live state first, so the session starts over."""
    from quantdesk.runtime.paper_driver import check_speed, run_paper

    check_speed(speed)
    run = spec if isinstance(spec, PreparedRun) else prepare(spec)
    folder = session_dir if session_dir is not None else session_folder(run)
    state = live_state if live_state is not None else open_session_state(folder.session_id, run.spec.home)
    try:
        return run_paper(run, folder=folder, live_state=state, on_row=on_row, session_for=session_for, speed=speed,
                         command=command, record=record, fresh=fresh, status_every_s=status_every_s,
                         control_every_s=control_every_s, commit_every_s=commit_every_s)  # fmt: skip
    finally:
        if live_state is None:
            close = getattr(state, "close", None)
            if close is not None:
                close()
