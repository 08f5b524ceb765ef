"""The search on one window: the space's points, scores equal to the backtest's metrics, every trial kept, the
samplers reproducible, pruning across folds, and the overfitting statistics of a search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pytest
from tests.unit.optimize.conftest import momentum_strategy, momentum_text

from quantdesk.backtest.engine import run_backtest
from quantdesk.core.errors import ConfigError
from quantdesk.optimize.evaluate import WindowEvaluator
from quantdesk.optimize.run import optimize, run_data
from quantdesk.optimize.search import run_search
from quantdesk.optimize.space import SearchSpace, grid_values
from quantdesk.runtime.service import prepare
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.optimization_models import SearchParameter

PATH = "entry_conditions.technical_signals[0].params.period"


def _evaluator(home: Path, symbol: str = "EDGE", stop: int = 500) -> tuple[SearchSpace, WindowEvaluator, object]:
    run = prepare(RunSpec(momentum_text(), symbols=(symbol,), data_home=str(home)))
    data = run_data(run)
    return SearchSpace(run.strategy), WindowEvaluator(data.window(first=100, stop=stop)), data


@pytest.mark.parametrize(
    ("parameter", "values"),
    [
        ({"range": [2, 10], "step": 4}, [2, 6, 10]),
        ({"range": [1, 4]}, [1, 2, 3, 4]),
        ({"range": [1.0, 2.0], "step": 0.25}, [1.0, 1.25, 1.5, 1.75, 2.0]),
        ({"range": [1.0, 100.0], "n": 3, "log": True}, [1.0, 10.0, 100.0]),
        ({"range": [1, 10], "n": 4}, [1, 4, 7, 10]),
        ({"choices": ["long", "short"]}, ["long", "short"]),
    ],
)
def test_each_kind_of_parameter_has_its_grid(parameter: dict, values: list) -> None:
    assert grid_values(SearchParameter(path=PATH, **parameter), "p") == values


def test_a_grid_over_decimals_without_a_step_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"optimization.parameters\[0\]: a grid over the decimals 1 to 2 needs"):
        grid_values(SearchParameter(path=PATH, range=(1.0, 2.0)), "optimization.parameters[0]")


def test_the_grid_keeps_the_points_that_meet_the_constraints_and_candidates_carry_their_values() -> None:
    doc = momentum_strategy(constraints=["exit_period < period", "threshold != 0.5"])
    space = SearchSpace(parse_strategy(json.dumps(doc)))
    points = space.grid()
    assert points and all(p["exit_period"] < p["period"] and p["threshold"] != 0.5 for p in points)
    assert len(points) == 2 * sum(1 for a in range(1, 9) for b in range(1, 5) if b < a) * 2
    chosen = space.strategy({"period": 6, "threshold": -0.5, "exit_period": 3, "direction": "short"})
    signal = chosen.entry_conditions.technical_signals[0]
    assert signal.params == {"period": 6} and signal.values == [-0.5]
    assert chosen.exit_conditions.signal_exit.technical_signals[0].params == {"period": 3}  # type: ignore[union-attr]
    assert chosen.entry_conditions.direction == "short" and chosen.optimization is None
    written = space.document({"period": 6, "threshold": -0.5, "exit_period": 3, "direction": "short"})
    assert written["optimization"] == doc["optimization"] | written["optimization"]  # the block is kept
    assert parse_strategy(json.dumps(written)).entry_conditions.technical_signals[0].params == {"period": 6}
    fixed = optuna.trial.FixedTrial({"period": 3, "threshold": 0.0, "exit_period": 2, "direction": "long"})
    assert space.suggest(fixed) == {"period": 3, "threshold": 0.0, "exit_period": 2, "direction": "long"}


def test_a_trials_scores_are_its_backtests_metrics_on_the_window(momentum_home: Path) -> None:
    doc = momentum_strategy()
    doc["exit_conditions"]["stop_loss"] = {"type": "percent", "reference": "entry", "max_risk_percent": 0.02}
    run = prepare(RunSpec(json.dumps(doc), symbols=("EDGE",), data_home=str(momentum_home)))
    space = SearchSpace(run.strategy)
    evaluator = WindowEvaluator(run_data(run).window(first=100, stop=500))
    checked = 0
    for values in space.grid()[::23]:
        strategy = space.strategy(values)
        scores = evaluator.scores(strategy)
        metrics = evaluator.backtest(strategy).metrics.as_dict()
        for name, value in scores.metrics.items():
            if metrics[name] is None:
                assert value is None, name
            else:
                assert value == pytest.approx(metrics[name], rel=1e-12, abs=1e-15), name
                checked += 1
    assert checked > 50


def test_fold_scores_are_fresh_accounts_trading_each_fold_after_the_rows_before_it(momentum_home: Path) -> None:
    space, evaluator, data = _evaluator(momentum_home)
    strategy = space.strategy({"period": 2, "threshold": 0.0, "exit_period": 1, "direction": "long"})
    folds = list(evaluator.fold_scores(strategy, 2))
    prep = evaluator.prepare(strategy)
    half = prep.grid.n // 2
    bars = data.bars[0][: 100 + prep.grid.n]  # type: ignore[attr-defined]
    second = run_backtest(strategy, bars, trade_from_ns=int(bars.ts[100 + half]))
    assert folds[1].metrics["sharpe"] == pytest.approx(second.metrics.sharpe, rel=1e-12)
    assert folds[1].n_trades == second.metrics.n_trades


def test_every_trial_is_kept_and_the_best_is_the_highest_objective_among_complete_trials(momentum_home: Path) -> None:
    space, evaluator, _ = _evaluator(momentum_home)
    result = run_search(space, evaluator, sampler="grid")
    assert len(result.trials) == result.n_trials == len(space.grid()) == 192
    complete = [t for t in result.trials if t.state == "complete"]
    assert result.best is not None and result.best.objective == max(t.objective for t in complete)  # type: ignore[type-var]
    few = [t for t in result.trials if t.state == "too_few_trades"]
    assert all(t.scores is not None and t.scores.n_trades < 5 for t in few)
    assert result.day_return_matrix().shape[1] == len(result.trials)


def test_tpe_and_random_searches_are_the_same_on_every_run_with_the_same_seed(momentum_home: Path) -> None:
    space, evaluator, _ = _evaluator(momentum_home)
    for sampler in ("tpe", "random"):
        a = run_search(space, evaluator, sampler=sampler, trials=15, seed=4)
        b = run_search(space, evaluator, sampler=sampler, trials=15, seed=4)
        assert [t.values for t in a.trials] == [t.values for t in b.trials]
        assert [t.objective for t in a.trials] == [t.objective for t in b.trials]
        assert len(a.trials) == 15
    other = run_search(space, evaluator, sampler="random", trials=15, seed=5)
    assert [t.values for t in other.trials] != [t.values for t in a.trials]


def test_a_search_scored_over_folds_prunes_trials_below_the_median(momentum_home: Path) -> None:
    doc = momentum_strategy(folds=3, min_trades=1)
    run = prepare(RunSpec(json.dumps(doc), symbols=("NOISE",), data_home=str(momentum_home)))
    space = SearchSpace(run.strategy)
    evaluator = WindowEvaluator(run_data(run).window(first=100, stop=900))
    result = run_search(space, evaluator, sampler="tpe", trials=40, seed=1)
    states = [t.state for t in result.trials]
    assert states.count("pruned") >= 5 and states.count("complete") >= 10
    for t in result.trials:
        if t.state == "complete":
            assert len(t.fold_objectives) == 3
            assert t.objective == (pytest.approx(np.mean([v for v in t.fold_objectives if v is not None])),)
    assert result.n_trials == 40  # pruned trials were looks at the data too


def test_a_multi_objective_search_keeps_its_pareto_front(momentum_home: Path) -> None:
    doc = momentum_strategy(objectives=["sharpe", "calmar"], sampler="nsga2", objective="sharpe")
    del doc["optimization"]["objective"]
    run = prepare(RunSpec(json.dumps(doc), symbols=("EDGE",), data_home=str(momentum_home)))
    result = optimize(run, trials=24, seed=2).document
    front = [t for t in result["trials"] if t["number"] in result["pareto"]]
    done = [t for t in result["trials"] if t["state"] == "complete"]
    assert front
    for t in front:  # nothing complete beats a front trial on both objectives
        assert not any(all(o > p for o, p in zip(u["objective"], t["objective"], strict=True)) for u in done)
    assert result["best"]["number"] in result["pareto"]


def test_an_optimisation_reports_the_overfitting_statistics_of_its_trials(momentum_home: Path) -> None:
    report = optimize(RunSpec(momentum_text(), symbols=("NOISE",), data_home=str(momentum_home))).document
    stats = report["statistics"]
    assert stats["n_trials"] == report["n_trials"] == 192
    assert 0.0 <= stats["dsr"] <= stats["psr"] <= 1.0  # deflating by 192 trials can only lower it
    assert 0.0 <= stats["pbo"] <= 1.0 and stats["pbo_blocks"] == 16
    block = report["best_file"]["optimization"]
    searched = [p["path"] for p in momentum_strategy()["optimization"]["parameters"]]
    assert [p["path"] for p in block["parameters"]] == searched
    # a real edge survives the deflation by its trials (long only: the short half of the grid would be other
    # strategies, whose Sharpe ratios widen the variance the deflation uses); noise does not
    long_only = momentum_strategy()
    long_only["optimization"]["parameters"] = long_only["optimization"]["parameters"][:3]
    edge = optimize(RunSpec(json.dumps(long_only), symbols=("EDGE",), data_home=str(momentum_home))).document
    assert edge["n_trials"] == 96
    assert edge["statistics"]["dsr"] > 0.95 > stats["dsr"]


def test_a_grid_or_random_search_shared_among_a_pool_of_workers_is_the_search_in_process(momentum_home: Path) -> None:
    from quantdesk.optimize.executors import LocalExecutor

    spec = RunSpec(momentum_text(), symbols=("NOISE",), data_home=str(momentum_home))
    for sampler in ("grid", "random"):
        here = optimize(spec, sampler=sampler, trials=30, seed=8).document
        with LocalExecutor(max_workers=2) as pool:
            shared = optimize(spec, sampler=sampler, trials=30, seed=8, executor=pool).document
        assert json.dumps(shared, sort_keys=True) == json.dumps(here, sort_keys=True)
        assert shared["n_trials"] == (192 if sampler == "grid" else 30)
