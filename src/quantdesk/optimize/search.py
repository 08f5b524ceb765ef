"""The search over a strategy's ``optimization`` block on one window: grid, random, TPE or NSGA-II, every trial kept.

``run_search(space, evaluator, ...)`` asks the sampler for points (``grid``: every grid point in order; the
others through optuna, seeded, so a search is the same on every run), skips a point that breaks a constraint
(it is not a trial: nothing was backtested), backtests each of the others on the window and records it as a
``Trial``: its values, its in-sample metrics, its objective value(s), its state (``complete``;
``too_few_trades`` when it closed fewer than ``min_trades``, which scores nothing; ``pruned`` when TPE's median
pruner stopped it after a fold; ``invalid`` when the values make no valid strategy) and its day returns. Every
backtested trial counts toward the number of trials the deflated Sharpe ratio and PBO need. With ``folds`` > 1
each trial is scored fold by fold (the mean of the folds' objective), and a trial whose running mean is below
the median of earlier trials at the same fold is pruned (single objective only). The best trial is the complete
one with the highest objective; with several ``objectives`` the Pareto front is kept and the best is the front's
trial with the highest first objective. ``points`` evaluates a given list of points (a grid's share, sent to a
worker) the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.optimize.evaluate import WindowEvaluator
from quantdesk.optimize.scores import TrialScores, objective_value
from quantdesk.optimize.space import SearchSpace, Values
from quantdesk.strategy.optimization_models import Optimization

TrialState = Literal["complete", "too_few_trades", "pruned", "invalid"]
OnTrial = Callable[["Trial"], None]
MAX_ASKS_PER_TRIAL = 50  # asks that break a constraint before a search gives up


@dataclass(frozen=True, slots=True)
class Trial:
    number: int
    values: Values
    state: TrialState
    objective: tuple[float, ...] | None  # one per objective (None: scored nothing)
    scores: TrialScores | None  # the whole window's (None when pruned or invalid)
    fold_objectives: tuple[float | None, ...] = ()
    message: str = ""

    @property
    def counted(self) -> bool:
        """Backtested: one of the N trials the overfitting statistics count."""
        return self.state != "invalid"

    def to_dict(self, *, with_day_returns: bool = False) -> dict[str, Any]:
        out = {
            "number": self.number,
            "values": dict(self.values),
            "state": self.state,
            "objective": None if self.objective is None else list(self.objective),
            "fold_objectives": list(self.fold_objectives),
            "metrics": None if self.scores is None else dict(self.scores.metrics),
            "message": self.message,
        }
        if with_day_returns:
            out["day_returns"] = None if self.scores is None else [float(x) for x in self.scores.day_returns]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], day_returns: Sequence[float] | None = None) -> Trial:
        scores = None
        if data["metrics"] is not None:
            scores = TrialScores(dict(data["metrics"]), np.asarray(day_returns or [], dtype=np.float64))
        objective = None if data["objective"] is None else tuple(float(x) for x in data["objective"])
        return cls(int(data["number"]), dict(data["values"]), data["state"], objective, scores,
                   tuple(data.get("fold_objectives", ())), data.get("message", ""))  # fmt: skip


@dataclass(frozen=True, slots=True)
class SearchResult:
    sampler: str
    objectives: tuple[str, ...]  # names (a weighted mix is shown as "0.7*sharpe+0.3*calmar")
    trials: tuple[Trial, ...]
    best: Trial | None
    pareto: tuple[int, ...] = ()  # trial numbers on the front (several objectives)
    skipped: int = 0  # points that broke a constraint (not trials)
    notes: tuple[str, ...] = field(default=())

    @property
    def n_trials(self) -> int:
        return sum(1 for t in self.trials if t.counted)

    def day_return_matrix(self) -> np.ndarray:
        """(days, trials) of every trial scored over the whole window: PBO's input."""
        cols = [t.scores.day_returns for t in self.trials if t.scores is not None and t.state != "pruned"]
        if not cols:
            return np.empty((0, 0))
        n = min(len(c) for c in cols)
        return np.column_stack([c[:n] for c in cols])


def objective_names(opt: Optimization) -> tuple[str, ...]:
    if opt.objectives is not None:
        return tuple(opt.objectives)
    if isinstance(opt.objective, str):
        return (opt.objective,)
    return ("+".join(f"{w:g}*{k}" for k, w in opt.objective.items()),)


def _objectives(opt: Optimization) -> list[str | dict[str, float]]:
    if opt.objectives is not None:
        return list(opt.objectives)
    return [opt.objective if isinstance(opt.objective, str) else dict(opt.objective)]


def evaluate_point(space: SearchSpace, evaluator: WindowEvaluator, number: int, values: Values,
                   report: Callable[[float, int], bool] | None = None) -> Trial:  # fmt: skip
    """Backtest one point on the evaluator's window; ``report(running value, fold)`` returns True to prune."""
    opt = space.settings
    objectives = _objectives(opt)
    try:
        strategy = space.strategy(values)
    except ConfigError as exc:
        return Trial(number, values, "invalid", None, None, message=str(exc))
    folds: list[float | None] = []
    if opt.folds > 1:
        for k, fold in enumerate(evaluator.fold_scores(strategy, opt.folds)):
            folds.append(objective_value(fold.metrics, objectives[0]) if fold.n_trades >= 1 else None)
            known = [v for v in folds if v is not None]
            if report is not None and known and report(float(np.mean(known)), k):
                return Trial(number, values, "pruned", None, None, tuple(folds), f"pruned after fold {k + 1}")
    scores = evaluator.scores(strategy)
    if scores.n_trades < opt.min_trades:
        msg = f"{scores.n_trades} closed trades, fewer than min_trades {opt.min_trades}"
        return Trial(number, values, "too_few_trades", None, scores, tuple(folds), msg)
    if opt.folds > 1:
        known = [v for v in folds if v is not None]
        value: tuple[float, ...] | None = (float(np.mean(known)),) if known else None
    else:
        vals = [objective_value(scores.metrics, o) for o in objectives]
        value = None if any(v is None for v in vals) else tuple(float(v) for v in vals if v is not None)
    if value is None:
        return Trial(number, values, "too_few_trades", None, scores, tuple(folds), "the objective is undefined")
    return Trial(number, values, "complete", value, scores, tuple(folds))


def evaluate_points(space: SearchSpace, evaluator: WindowEvaluator, points: Sequence[tuple[int, Values]],
                    on_trial: OnTrial | None = None) -> list[Trial]:  # fmt: skip
    """Backtest given points (numbered) on the window, in order: a grid's share of a worker's."""
    out = []
    for number, values in points:
        trial = evaluate_point(space, evaluator, number, values)
        out.append(trial)
        if on_trial is not None:
            on_trial(trial)
    return out


def finish(space: SearchSpace, sampler: str, trials: Sequence[Trial], skipped: int = 0,
           notes: Sequence[str] = ()) -> SearchResult:  # fmt: skip
    """The search's result from its trials: the best and, with several objectives, the Pareto front."""
    opt = space.settings
    done = [t for t in trials if t.state == "complete" and t.objective is not None]
    pareto: tuple[int, ...] = ()
    best = None
    if done:
        if opt.objectives is not None:
            front = [t for t in done if not any(_dominates(_obj(o), _obj(t)) for o in done)]
            pareto = tuple(sorted(t.number for t in front))
            best = max(front, key=lambda t: (_obj(t), -t.number))
        else:
            best = max(done, key=lambda t: (_obj(t), -t.number))
    return SearchResult(sampler, objective_names(opt), tuple(sorted(trials, key=lambda t: t.number)), best, pareto,
                        skipped, tuple(notes))  # fmt: skip


def _obj(t: Trial) -> tuple[float, ...]:
    assert t.objective is not None
    return t.objective


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


def run_search(
    space: SearchSpace,
    evaluator: WindowEvaluator,
    *,
    sampler: str | None = None,
    trials: int | None = None,
    seed: int | None = None,
    on_trial: OnTrial | None = None,
) -> SearchResult:
    """Search the space on the evaluator's window (the block's sampler, trials and seed unless given)."""
    opt = space.settings
    sampler = sampler or opt.sampler
    n_trials = trials if trials is not None else opt.trials
    seed = opt.seed if seed is None else seed
    if sampler in ("grid", "random"):
        points, skipped, notes = sample_points(space, sampler, n_trials, seed)
        return finish(space, sampler, evaluate_points(space, evaluator, points, on_trial), skipped, notes)
    if sampler == "nsga2" and opt.objectives is None:
        raise ConfigError("--sampler nsga2: searches several objectives; give optimization.objectives")
    return _optuna_search(space, evaluator, sampler, n_trials, seed, on_trial)


def sample_points(
    space: SearchSpace, sampler: str, n_trials: int, seed: int
) -> tuple[list[tuple[int, Values]], int, list[str]]:
    """The numbered points of a search whose points do not depend on earlier results (``grid``: every grid point;
    ``random``: optuna's random sampler, seeded, skipping points that break a constraint), the number skipped, and
    notes: what a pool of workers can share out."""
    if sampler == "grid":
        return list(enumerate(space.grid())), 0, []
    import optuna

    logging.getLogger("optuna").setLevel(logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    points: list[tuple[int, Values]] = []
    skipped = asks = 0
    while len(points) < n_trials and asks < MAX_ASKS_PER_TRIAL * n_trials:
        asks += 1
        values = space.suggest(study.ask())
        if space.satisfies(values):
            points.append((len(points), values))
        else:
            skipped += 1
    notes = (
        []
        if len(points) == n_trials
        else [f"stopped after {len(points)} trials: {skipped} asked points broke the constraints"]
    )
    return points, skipped, notes


def signal_group(space: SearchSpace, values: Values) -> tuple[Any, ...]:
    """The values of the parameters that change a point's signals (paths in the entry rules, the drill-down or the
    signal exit): points of one group share their compiled signals, so a worker should get them together."""
    prefixes = ("entry_conditions", "harvesting_rules", "exit_conditions.signal_exit")
    return tuple(values[n] for p, n in zip(space.parameters, space.names, strict=True)
                 if p.path.startswith(prefixes))  # fmt: skip


def chunk_points(space: SearchSpace, points: Sequence[tuple[int, Values]], max_chunk: int = 100,
                 min_chunks: int = 2) -> list[list[tuple[int, Values]]]:  # fmt: skip
    """``points`` as tasks: each signal group together, a group of more than ``max_chunk`` points cut into pieces,
    and at least ``min_chunks`` tasks when there are enough points (so a pool has something to share)."""
    groups: dict[tuple[Any, ...], list[tuple[int, Values]]] = {}
    for point in points:
        groups.setdefault(signal_group(space, point[1]), []).append(point)
    size = max_chunk
    if len(groups) < min_chunks:
        size = max(1, min(max_chunk, -(-len(points) // min_chunks)))
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


def _optuna_search(space: SearchSpace, evaluator: WindowEvaluator, sampler: str, n_trials: int, seed: int,
                   on_trial: OnTrial | None) -> SearchResult:  # fmt: skip
    import optuna

    logging.getLogger("optuna").setLevel(logging.WARNING)
    opt = space.settings
    n_obj = len(opt.objectives) if opt.objectives is not None else 1
    chosen: Any
    if sampler == "tpe":
        chosen = optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=min(10, n_trials))
    elif sampler == "nsga2":
        chosen = optuna.samplers.NSGAIISampler(seed=seed)
    else:
        raise ConfigError(f"--sampler: expected one of grid, random, tpe, nsga2, found {sampler!r}")
    pruner: Any = optuna.pruners.MedianPruner(n_startup_trials=5) if opt.folds > 1 else optuna.pruners.NopPruner()
    study = optuna.create_study(directions=["maximize"] * n_obj, sampler=chosen, pruner=pruner)
    out: list[Trial] = []
    skipped = 0
    asks = 0
    while len(out) < n_trials:
        asks += 1
        if asks > MAX_ASKS_PER_TRIAL * n_trials:
            break
        ot = study.ask()
        values = space.suggest(ot)
        if not space.satisfies(values):
            skipped += 1
            study.tell(ot, state=optuna.trial.TrialState.FAIL)
            continue

        def report(value: float, fold: int, ot: Any = ot) -> bool:
            ot.report(value, fold)
            return bool(ot.should_prune())

        trial = evaluate_point(space, evaluator, len(out), values, report if opt.folds > 1 else None)
        out.append(trial)
        if trial.state == "complete" and trial.objective is not None:
            study.tell(ot, list(trial.objective) if n_obj > 1 else trial.objective[0])
        elif trial.state == "pruned":
            study.tell(ot, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(ot, state=optuna.trial.TrialState.FAIL)
        if on_trial is not None:
            on_trial(trial)
    notes = []
    if len(out) < n_trials:
        notes.append(f"stopped after {len(out)} trials: {skipped} asked points broke the constraints")
    return finish(space, sampler, out, skipped, notes)
