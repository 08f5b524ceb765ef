"""Walk-forward: a planted edge survives out of sample and noise does not, a leaked bar is caught, and the
windows' figures are what their own backtests give."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from tests.unit.optimize.conftest import momentum_text

from quantdesk.core.errors import ConfigError, LookAheadError
from quantdesk.optimize.run import run_data, walkforward
from quantdesk.optimize.splits import Span, Split
from quantdesk.optimize.walkforward import make_splits
from quantdesk.runtime.service import prepare
from quantdesk.runtime.spec import RunSpec


def _spec(home: Path, symbol: str, **block: object) -> RunSpec:
    return RunSpec(momentum_text(**block), symbols=(symbol,), data_home=str(home))


def _mean(values: list[float | None]) -> float:
    return float(np.mean([v for v in values if v is not None]))


def test_a_planted_edge_keeps_its_sharpe_out_of_sample_while_noise_loses_its_in_sample_edge(
    momentum_home: Path,
) -> None:
    edge = walkforward(_spec(momentum_home, "EDGE")).document["summary"]
    noise = walkforward(_spec(momentum_home, "NOISE")).document["summary"]
    assert len(edge["windows"]) == len(noise["windows"]) == 7  # 1,600 days: a year to train, 6-month tests
    edge_is = _mean([w["in_sample"]["sharpe"] for w in edge["windows"]])
    edge_oos = _mean([w["out_of_sample"]["sharpe"] for w in edge["windows"]])
    noise_is = _mean([w["in_sample"]["sharpe"] for w in noise["windows"]])
    noise_oos = _mean([w["out_of_sample"]["sharpe"] for w in noise["windows"]])
    # the edge: strong in sample, and most of it is still there out of sample, with a PSR near 1
    assert edge_is > 2.0
    assert edge_oos > 0.5 * edge_is
    assert edge["out_of_sample_statistics"]["psr"] > 0.99
    # noise: the search finds an in-sample Sharpe ratio by luck, and it is gone out of sample
    assert noise_is > 1.0
    assert noise_oos < noise_is - 1.5
    assert abs(noise["out_of_sample_statistics"]["annual_sharpe"]) < 1.0
    assert noise["out_of_sample_statistics"]["psr"] < 0.9
    # the edge's choice is stable: the momentum of one day, every window
    periods = next(s for s in edge["stability"] if s["name"] == "period")["values"]
    assert sum(1 for p in periods if p <= 3) >= 5


def test_a_window_whose_training_reaches_one_bar_into_its_test_is_refused_as_look_ahead(
    momentum_home: Path,
) -> None:
    spec = _spec(momentum_home, "EDGE")
    run = prepare(spec)
    known = run_data(run).known_ns
    honest = make_splits(known, run.strategy.optimization.walk_forward)[0]  # type: ignore[union-attr]
    assert walkforward(run, splits=[honest]).document["windows"][0]["fitted_through_ns"] < honest.test[0].start_ns
    train = honest.train[0]
    leaked = Span(train.first, train.stop + 1, train.start_ns, int(known[train.stop]))
    with pytest.raises(LookAheadError, match="window 0: the parameters were chosen on bars through"):
        walkforward(run, splits=[dataclasses.replace(honest, train=(leaked,))])


def test_each_window_tests_the_parameters_its_own_search_chose_on_bars_it_never_saw(momentum_home: Path) -> None:
    doc = walkforward(_spec(momentum_home, "EDGE", sampler="tpe", trials=6, seed=3)).document
    for w in doc["windows"]:
        trials = w["search"]["trials"]
        assert len(trials) == 6 and w["search"]["n_trials"] == 6
        done = [t for t in trials if t["state"] == "complete"]
        best = max(done, key=lambda t: t["objective"][0])
        assert w["best_values"] == best["values"]
        assert w["fitted_through_ns"] < int(np.datetime64(w["test"][0]["start"].rstrip("Z"), "ns").astype(np.int64))
        oos = w["out_of_sample"][0]
        assert oos["metrics"]["n_trades"] == sum(1 for t in oos["trades"] if t["status"] == "closed")
    stitched = doc["summary"]["stitched"]["paths"][0]
    assert stitched["time_ns"] == sorted(stitched["time_ns"])  # the tests follow each other


def test_walk_forward_settings_from_the_command_line_are_checked_and_recorded(momentum_home: Path) -> None:
    spec = _spec(momentum_home, "EDGE")
    with pytest.raises(ConfigError, match="walkforward: --train"):
        walkforward(spec, train="two years")
    with pytest.raises(ConfigError, match="hold no training window of 10y followed by a test window"):
        walkforward(spec, train="10y")
    doc = walkforward(spec, train="3y", test="1y", mode="expanding").document
    assert doc["settings"]["train"] == "3y" and doc["settings"]["mode"] == "expanding"
    firsts = [w["train"][0]["first"] for w in doc["windows"]]
    assert firsts == [0] * len(firsts)  # expanding: every window trains from the first bar


def test_cpcv_tests_every_group_and_joins_them_into_its_paths(momentum_home: Path) -> None:
    doc = walkforward(_spec(momentum_home, "EDGE"), mode="cpcv", sampler="random", trials=8).document
    assert len(doc["windows"]) == 15  # C(6, 2)
    paths = doc["summary"]["stitched"]["paths"]
    assert len(paths) == 5  # C(5, 1) paths
    for w in doc["windows"]:
        assert len(w["test"]) == 2 and len(w["out_of_sample"]) == 2


def test_splits_as_given_replace_the_files_windows(momentum_home: Path) -> None:
    run = prepare(_spec(momentum_home, "EDGE"))
    known = run_data(run).known_ns
    split = Split(0, (Span(0, 800, int(known[0]), int(known[799])),), (Span(800, 1000, int(known[800]),
                                                                             int(known[999])),))  # fmt: skip
    doc = walkforward(run, splits=[split]).document
    assert [w["test"][0]["first"] for w in doc["windows"]] == [800]
    assert doc["windows"][0]["out_of_sample"][0]["metrics"]["n_trades"] > 0


def test_a_strategy_with_a_posterior_has_the_learned_layer_scored_out_of_sample_in_its_report(
    momentum_home: Path, tmp_path: Path
) -> None:
    from tests.unit.optimize.conftest import momentum_strategy

    from quantdesk.optimize.report import write_report

    doc = momentum_strategy(sampler="random", trials=3)
    doc["entry_conditions"]["inference"] = {"horizon": "5_bars", "min_labels": 50}
    spec = RunSpec(json.dumps(doc), symbols=("EDGE",), data_home=str(momentum_home))
    report = walkforward(spec, train="2y", test="1y").document
    (learned,) = report["learned"]
    models = {p["model"] for p in learned["probabilities"]}
    assert {"bayes_posterior", "learned"} <= models or len(models) >= 2, models
    assert all(p["n"] > 100 and p["log_loss"] > 0.0 for p in learned["probabilities"])
    assert {r["model"] for r in learned["regimes"]} == {"rules", "hmm"}
    page = write_report(report, tmp_path / "wf.html").read_text()
    assert "The learned layer out of sample" in page
    assert (
        walkforward(_spec(momentum_home, "EDGE", sampler="random", trials=2), train="2y", test="1y").document["learned"]
        is None
    )  # no posterior, no regime filter: nothing to compare
