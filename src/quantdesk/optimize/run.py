"""``optimize`` and ``walkforward`` of a ``RunSpec``: the search and the walk-forward as a user runs them.

``optimize(spec)`` searches the strategy file's ``optimization`` block on the spec's whole window and reports
every trial, the best, and the overfitting statistics of the search (PSR, DSR with the trials actually run, PBO).
``walkforward(spec)`` cuts the window into the block's (or the caller's) walk-forward windows and runs each
(``optimize.walkforward.run_window``): in this process, or as tasks on an executor (``optimize.executors``: a
local process pool or Celery), each task carrying the spec and the window's rows, never data, so that the outcome
is the same wherever it ran. Both return JSON-ready reports (``OptimizationReport``, ``WalkForwardReport``) that
``optimize.report`` renders as HTML; ``best_document`` is the strategy file with the chosen values written in.
The sampler, number of trials, seed and walk-forward settings default to the file's and every one used is in the
report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from quantdesk.core.errors import ConfigError
from quantdesk.optimize.evaluate import WindowEvaluator, window_data
from quantdesk.optimize.overfitting import probabilistic_sharpe, sharpe_stats
from quantdesk.optimize.search import Trial, chunk_points, evaluate_points, finish, run_search, sample_points
from quantdesk.optimize.space import SearchSpace
from quantdesk.optimize.splits import Split
from quantdesk.optimize.trial_statistics import search_statistics
from quantdesk.optimize.walkforward import WINDOW_TASK, RunData, make_splits, run_window, split_rows, summarize
from quantdesk.runtime.service import PreparedRun, prepare
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.optimization_models import WalkForwardSettings

if TYPE_CHECKING:
    from quantdesk.optimize.executors import Executor

Progress = Callable[[int, int], None]  # (done, total)
POINTS_TASK = "optimize_points"


@dataclass(frozen=True, slots=True)
class OptimizationReport:
    document: dict[str, Any]

    @property
    def best_values(self) -> dict[str, Any] | None:
        best = self.document["best"]
        return None if best is None else dict(best["values"])


@dataclass(frozen=True, slots=True)
class WalkForwardReport:
    document: dict[str, Any]


def run_data(run: PreparedRun) -> RunData:
    return RunData(run.bars, run.instruments, run.sources, float(run.spec.capital), run.benchmark,
                   run.benchmark_instrument)  # fmt: skip


def whole_window(run: PreparedRun) -> WindowEvaluator:
    """The evaluator of a run's whole window (trading from its spec's ``trade_from``): what ``optimize`` searches."""
    data = run_data(run)
    return WindowEvaluator(window_data(
        data.bars, stop_ns=int(data.known_ns[-1]), trade_from_ns=run.spec.ns("trade_from"),
        instruments=data.instruments, sources=data.sources, initial_cash=data.initial_cash,
        benchmark=data.benchmark, benchmark_instrument=data.benchmark_instrument,
    ))  # fmt: skip


def _space(run: PreparedRun) -> SearchSpace:
    return SearchSpace(run.strategy)


def _header(run: PreparedRun, kind: str) -> dict[str, Any]:
    s = run.strategy
    return {
        "kind": kind,
        "strategy": s.strategy_meta.name,
        "symbols": list(run.symbols),
        "timeframe": run.timeframe.value,
        "capital": float(run.spec.capital),
        "spec": run.spec.to_dict(),
        "optimization": None if s.optimization is None else s.optimization.model_dump(mode="json"),
        "notes": list(run.notes),
        "synthetic": any(i.synthetic for i in run.instruments.values()),
    }


def optimize(
    spec: RunSpec | PreparedRun,
    *,
    sampler: str | None = None,
    trials: int | None = None,
    seed: int | None = None,
    on_trial: Callable[[Trial], None] | None = None,
    executor: Executor | None = None,
) -> OptimizationReport:
    """Search the block on the spec's window (trading from its ``trade_from``) and report every trial. With an
    ``executor``, a grid's or a random search's points go out as tasks (``POINTS_TASK``), each signal group to one
    worker; TPE and NSGA-II, whose next point depends on the last, run here."""
    run = spec if isinstance(spec, PreparedRun) else prepare(spec)
    space = _space(run)
    opt = space.settings
    evaluator = whole_window(run)
    chosen_sampler = sampler or opt.sampler
    n_trials = trials if trials is not None else opt.trials
    chosen_seed = opt.seed if seed is None else seed
    used = {"sampler": chosen_sampler, "trials": n_trials, "seed": chosen_seed, "folds": opt.folds,
            "min_trades": opt.min_trades}  # fmt: skip
    if executor is not None and chosen_sampler in ("grid", "random"):
        points, skipped, notes = sample_points(space, chosen_sampler, n_trials, chosen_seed)
        payloads = [{"spec": run.spec.to_payload(), "points": [[n, v] for n, v in chunk]}
                    for chunk in chunk_points(space, points)]  # fmt: skip

        def done(_i: int, result: dict[str, Any]) -> None:
            if on_trial is not None:
                for t in result["trials"]:
                    on_trial(Trial.from_dict(t, t["day_returns"]))

        results = executor.map(POINTS_TASK, payloads, on_done=done)
        trials_run = [Trial.from_dict(t, t["day_returns"]) for r in results for t in r["trials"]]
        search = finish(space, chosen_sampler, trials_run, skipped, notes)
    else:
        search = run_search(space, evaluator, sampler=chosen_sampler, trials=n_trials, seed=chosen_seed,
                            on_trial=on_trial)  # fmt: skip
    stats = search_statistics(search)
    best = search.best
    doc = _header(run, "optimization")
    doc.update(
        settings=used,
        parameters=list(space.names),
        objectives=list(search.objectives),
        n_trials=search.n_trials,
        skipped=search.skipped,
        search_notes=list(search.notes),
        trials=[t.to_dict() for t in search.trials],
        pareto=list(search.pareto),
        best=None
        if best is None
        else {
            "number": best.number,
            "values": dict(best.values),
            "metrics": None if best.scores is None else dict(best.scores.metrics),
        },
        statistics=stats.to_dict(),
        fitted_through_ns=evaluator.fitted_through_ns,
        best_file=None if best is None else space.document(best.values),
    )
    return OptimizationReport(doc)


def _settings(run: PreparedRun, overrides: Mapping[str, Any]) -> WalkForwardSettings:
    base = _space(run).settings.walk_forward
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return WalkForwardSettings.model_validate({**base.model_dump(), **given})
    except ValidationError as exc:
        problems = "; ".join(f"--{'.'.join(str(x) for x in e['loc'])}: {e['msg']}, found {e.get('input')!r}"
                             for e in exc.errors())  # fmt: skip
        raise ConfigError(f"walkforward: {problems}") from exc


def walkforward(
    spec: RunSpec | PreparedRun,
    *,
    mode: str | None = None,
    train: str | None = None,
    test: str | None = None,
    step: str | None = None,
    sampler: str | None = None,
    trials: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    splits: Sequence[Split] | None = None,
) -> WalkForwardReport:
    """The walk-forward of the spec: every window searched in sample and tested out of sample, then stitched.
    ``splits`` replaces the block's windows (a test's own)."""
    run = spec if isinstance(spec, PreparedRun) else prepare(spec)
    space = _space(run)
    opt = space.settings
    settings = _settings(run, {"mode": mode, "train": train, "test": test, "step": step})
    data = run_data(run)
    chosen = list(splits) if splits is not None else make_splits(data.known_ns, settings)
    if not chosen:
        raise ConfigError(
            f"walkforward: the window ({settings.train} training, {settings.test} test) gives no split over the "
            "run's bars; use shorter lengths or more data"
        )
    used = {"sampler": sampler or opt.sampler, "trials": trials if trials is not None else opt.trials,
            "seed": opt.seed if seed is None else seed, **settings.model_dump(mode="json")}  # fmt: skip
    rows = [split_rows(s) for s in chosen]
    total = len(rows)
    done = 0

    def tick(_i: int = 0, _r: Any = None) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    if executor is None:
        windows = []
        for i, r in enumerate(rows):
            windows.append(run_window(data, space, i, r, sampler=used["sampler"], trials=used["trials"],
                                      seed=used["seed"], mode=settings.mode))  # fmt: skip
            tick()
        windows = [json.loads(json.dumps(w)) for w in windows]  # as a task's result comes back
    else:
        payloads = [window_payload(run.spec, i, r, used, settings.mode) for i, r in enumerate(rows)]
        windows = executor.map(WINDOW_TASK, payloads, on_done=tick)
    doc = _header(run, "walkforward")
    doc.update(settings=used, parameters=list(space.names), windows=list(windows))
    doc["summary"] = summarize(windows, space.names, data.initial_cash, settings.mode, _oos_statistics)
    doc["learned"] = learned_comparison(run)
    return WalkForwardReport(doc)


def learned_comparison(run: PreparedRun) -> list[dict[str, Any]] | None:
    """For a strategy with a posterior (``entry_conditions.inference``) or a regime filter: on each instrument (the
    first 3), the learned P(up) against the Bayesian posterior and the base rate (log loss, Brier score,
    reliability) and the HMM regime against the rule-based one (forward returns per regime), every model fitted
    walk-forward, so each is scored out of sample (``strategy.learned.compare_strategy_inference``)."""
    entry = run.strategy.entry_conditions
    if entry.inference is None and entry.regime_filter is None:
        return None
    from quantdesk.strategy.learned import compare_strategy_inference

    return [compare_strategy_inference(run.strategy, b, benchmark=run.benchmark).to_dict() for b in run.bars[:3]]


def window_payload(spec: RunSpec, index: int, rows: Mapping[str, Any], used: Mapping[str, Any],
                   mode: str) -> dict[str, Any]:  # fmt: skip
    """What a window's task carries: the spec, the window's rows and the search settings."""
    return {"spec": spec.to_payload(), "index": index, "rows": dict(rows), "sampler": used["sampler"],
            "trials": used["trials"], "seed": used["seed"], "mode": mode}  # fmt: skip


def window_task(payload: dict[str, Any]) -> dict[str, Any]:
    """The walk-forward window task (``WINDOW_TASK``) a worker runs: its spec prepared (or this process's prepared
    run of it), the window run."""
    from quantdesk.optimize.tasks import PREPARED_RUNS, spec_of

    run = PREPARED_RUNS.get(spec_of(payload, WINDOW_TASK))
    return run_window(run_data(run), _space(run), int(payload["index"]), payload["rows"],
                      sampler=str(payload["sampler"]), trials=int(payload["trials"]), seed=int(payload["seed"]),
                      mode=str(payload["mode"]))  # fmt: skip


def points_task(payload: dict[str, Any]) -> dict[str, Any]:
    """The optimisation points task (``POINTS_TASK``): ``{"spec", "points": [[number, values], ...]}`` backtested on
    the spec's whole window; every trial with its day returns (the statistics need them)."""
    from quantdesk.optimize.tasks import PREPARED_RUNS, spec_of

    run = PREPARED_RUNS.get(spec_of(payload, POINTS_TASK))
    points = [(int(n), dict(v)) for n, v in payload["points"]]
    trials = evaluate_points(_space(run), whole_window(run), points)
    return {"trials": [t.to_dict(with_day_returns=True) for t in trials]}


def _oos_statistics(day_returns: Sequence[float], n_trials: int) -> dict[str, Any]:
    """PSR of the stitched out-of-sample day returns (the chance its true Sharpe ratio is above 0)."""
    out: dict[str, Any] = {"days": len(day_returns), "daily_sharpe": None, "psr": None, "n_trials": n_trials}
    try:
        st = sharpe_stats(np.asarray(day_returns, dtype=float))
        out["daily_sharpe"] = st.sharpe
        out["annual_sharpe"] = st.sharpe * 252**0.5
        out["psr"] = probabilistic_sharpe(st.sharpe, st.n_obs, st.skewness, st.kurtosis)
    except ConfigError as exc:
        out["note"] = str(exc)
    return out
