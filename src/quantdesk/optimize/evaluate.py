"""Backtests of many candidate strategies over one window's bars, sharing what a parameter does not change.

A ``WindowEvaluator`` holds one window's data: each instrument's bars up to the window's last bar (the bars
before ``trade_from_ns`` only warm the indicators), the instrument master, the evidence sources and the capital.
``scores(strategy)`` runs the portfolio kernel for a candidate and returns its ``TrialScores``, optionally fold
by fold (``folds`` contiguous parts of the window's rows, each a fresh account trading from its first row, the
rows before it its warm-up), so that a search can prune a poor trial after its first folds. Everything before
the kernel goes through ``prepare_kernel``'s cache: the signals are compiled once per distinct set of the
rules they read (each indicator output once per instrument), the evidence once per set of exit and risk rules,
and the grid, the prices and the per-row arrays once. ``fitted_through_ns`` is the known time of the last bar the
evaluator was given: what anything chosen by its scores has seen.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.backtest.engine import KernelCache, PreparedKernel, prepare_kernel, run_backtest
from quantdesk.backtest.kernel_io import KernelInputs, run_kernel
from quantdesk.backtest.result import BacktestResult
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.optimize.scores import TrialScores, trial_scores
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.models import Strategy

MIN_FOLD_ROWS = 20
_PER_INSTRUMENT = ("lot", "tick", "margin", "sector")


@dataclass(frozen=True, slots=True)
class WindowData:
    """One window's inputs: the bars up to its last bar, and from ``trade_from_ns`` on it trades."""

    bars: tuple[Bars, ...]
    instruments: Mapping[str, Instrument]
    sources: EvidenceSources
    initial_cash: float
    trade_from_ns: int | None = None
    benchmark: Bars | None = None
    benchmark_instrument: Instrument | None = None

    @property
    def fitted_through_ns(self) -> int:
        """The known time of the latest bar in the window (any instrument's, the benchmark's included)."""
        last = [int(b.known_ns()[-1]) for b in self.bars if len(b)]
        if self.benchmark is not None and len(self.benchmark):
            last.append(int(self.benchmark.known_ns()[-1]))
        return max(last)


def slice_rows(inputs: KernelInputs, first: int, stop: int) -> KernelInputs:
    """The kernel's inputs for rows ``first:stop`` only (a fold): each per-row grid cut, the arrival rows moved to
    the fold's numbering (an order that would arrive after the fold's last row does not arrive)."""
    n = inputs.shape[0]
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(inputs):
        value = getattr(inputs, f.name)
        if value is None or f.name in _PER_INSTRUMENT or np.ndim(value) == 0 or np.shape(value)[0] != n or n == 1:
            continue
        if f.name == "arrival":
            moved = np.asarray(value[first:stop]) - first
            changes[f.name] = np.where((moved < 0) | (moved >= stop - first), -1, moved)
        else:
            changes[f.name] = value[first:stop]
    return dataclasses.replace(inputs, **changes)


class WindowEvaluator:
    """Scores candidate strategies on one window (``WindowData``), computing what they share once."""

    def __init__(self, data: WindowData) -> None:
        if not data.bars:
            raise ConfigError("window: no bars to evaluate on")
        self.data = data
        self._cache = KernelCache()

    @property
    def fitted_through_ns(self) -> int:
        return self.data.fitted_through_ns

    def prepare(self, strategy: Strategy) -> PreparedKernel:
        d = self.data
        return prepare_kernel(
            strategy, list(d.bars), instruments=dict(d.instruments), initial_cash=d.initial_cash, sources=d.sources,
            benchmark=d.benchmark, trade_from_ns=d.trade_from_ns, benchmark_instrument=d.benchmark_instrument,
            cache=self._cache,
        )  # fmt: skip

    def scores(self, strategy: Strategy) -> TrialScores:
        """The candidate's scores over the whole window."""
        prep = self.prepare(strategy)
        out = run_kernel(prep.inputs, prep.params)
        start = min(int(b.ts[0]) for b in prep.bars)
        return trial_scores(out.equity, out.trades, initial_cash=self.data.initial_cash, start_ns=start,
                            known_ns=prep.grid.known_ns, day_id=day_ids(prep))  # fmt: skip

    def fold_scores(self, strategy: Strategy, folds: int) -> Iterator[TrialScores]:
        """The candidate's scores on each of ``folds`` contiguous parts of the window's rows, in order (a fresh
        account on each, the rows before it its warm-up); computed as they are asked for."""
        prep = self.prepare(strategy)
        n = prep.grid.n
        if folds < 1 or n // folds < MIN_FOLD_ROWS:
            raise ConfigError(
                f"optimization.folds: {folds} folds of {n} rows leave fewer than {MIN_FOLD_ROWS} rows in each; "
                "use fewer folds or a longer window"
            )
        bounds = np.linspace(0, n, folds + 1).round().astype(int)
        days = day_ids(prep)
        for first, stop in itertools.pairwise(bounds):
            out = run_kernel(slice_rows(prep.inputs, int(first), int(stop)), prep.params)
            start = first_open(prep, int(first))
            yield trial_scores(out.equity, out.trades, initial_cash=self.data.initial_cash, start_ns=start,
                               known_ns=prep.grid.known_ns[first:stop], day_id=days[first:stop])  # fmt: skip

    def backtest(self, strategy: Strategy) -> BacktestResult:
        """The whole result of a candidate on the window (the chosen one's, for the report)."""
        d = self.data
        return run_backtest(
            strategy, list(d.bars), instruments=dict(d.instruments), initial_cash=d.initial_cash, sources=d.sources,
            benchmark=d.benchmark, trade_from_ns=d.trade_from_ns, benchmark_instrument=d.benchmark_instrument,
        )  # fmt: skip


def day_ids(prep: PreparedKernel) -> np.ndarray:
    day = prep.inputs.day_id
    if day is None or np.size(day) != prep.grid.n:
        return np.zeros(prep.grid.n, dtype=np.int64)
    return np.asarray(day)


def first_open(prep: PreparedKernel, row: int) -> int:
    """The earliest open time among the bars on rows ``row`` on (a fold's start: its capital is there)."""
    opens = []
    for j, b in enumerate(prep.bars):
        k = int(np.searchsorted(prep.grid.rows[j], row, side="left"))
        if k < len(b):
            opens.append(int(b.ts[k]))
    return min(opens)


def window_data(bars: Sequence[Bars], *, stop_ns: int, trade_from_ns: int | None, instruments: Mapping[str, Instrument],
                sources: EvidenceSources, initial_cash: float, benchmark: Bars | None = None,
                benchmark_instrument: Instrument | None = None) -> WindowData:  # fmt: skip
    """A window of a run's bars: every bar known at or before ``stop_ns`` (the span's last known time), the bars
    before ``trade_from_ns`` its warm-up. An instrument with no bar in the window is left out."""
    cut = []
    for b in bars:
        k = int(np.searchsorted(b.known_ns(), stop_ns, side="right"))
        if k >= 2:
            cut.append(b[:k])
    if not cut:
        raise ConfigError("window: no instrument has bars in it")
    bench = None
    if benchmark is not None:
        bench = benchmark[: int(np.searchsorted(benchmark.known_ns(), stop_ns, side="right"))]
    return WindowData(tuple(cut), {s: i for s, i in instruments.items() if any(b.symbol == s for b in cut)},
                      sources, initial_cash, trade_from_ns, bench, benchmark_instrument)  # fmt: skip
