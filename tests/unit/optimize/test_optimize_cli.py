"""``quantdesk optimize`` and ``quantdesk walkforward`` end to end: tables, the HTML and JSON reports (a strategy
name with markup shown as text), ``--write-best``, and bad options refused by name with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.cli.test_cli import run
from tests.unit.optimize.conftest import momentum_strategy, momentum_text

from quantdesk.strategy.load import load_strategy


@pytest.fixture
def strategy_file(tmp_path: Path) -> Path:
    path = tmp_path / "momentum.json"
    path.write_text(momentum_text())
    return path


def test_optimize_prints_the_best_trials_and_writes_the_reports_and_the_best_file(
    momentum_home: Path, strategy_file: Path, tmp_path: Path
) -> None:
    html, doc_path, best = tmp_path / "out" / "opt.html", tmp_path / "opt.json", tmp_path / "best.json"
    done = run(momentum_home, "optimize", str(strategy_file), "--symbols", "EDGE", "--workers", "2", "--report",
               str(html), "--json", str(doc_path), "--write-best", str(best))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "trials 192 · PSR" in done.stdout and "best: period=" in done.stdout
    doc = json.loads(doc_path.read_text())
    assert doc["kind"] == "optimization" and doc["n_trials"] == 192 and doc["settings"]["sampler"] == "grid"
    page = html.read_text()
    assert "Momentum &lt;b&gt;test&lt;/b&gt;" in page and "<b>test</b>" not in page
    assert "Overfitting statistics" in page and "Mean sharpe by period and threshold" in page
    chosen = load_strategy(best)
    values = doc["best"]["values"]
    assert chosen.entry_conditions.technical_signals[0].params == {"period": values["period"]}
    assert chosen.entry_conditions.direction == values["direction"]
    assert chosen.optimization is not None  # the block stays, to search again


def test_walkforward_prints_each_window_and_writes_its_report(
    momentum_home: Path, strategy_file: Path, tmp_path: Path
) -> None:
    html = tmp_path / "wf.html"
    done = run(momentum_home, "walkforward", str(strategy_file), "--symbols", "EDGE", "--train", "2y", "--test",
               "1y", "--sampler", "random", "--trials", "6", "--report", str(html), "--write-best",
               str(tmp_path / "last.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stitched out of sample:" in done.stdout and "18 trials over 3 windows" in done.stdout
    page = html.read_text()
    assert "In sample against out of sample" in page and "Stitched out-of-sample equity" in page
    assert "Parameter stability" in page and "by market regime" in page
    assert load_strategy(tmp_path / "last.json").optimization is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sampler", "annealing"], "--sampler: expected one of grid, tpe, nsga2, random, found 'annealing'"),
        (["--trials", "0"], "--trials: expected at least 1, found 0"),
        (["--report", "r.txt"], "--report: expected a file ending in .html or .json"),
        (["--write-best", "b.yaml"], "--write-best: expected a file ending in .json"),
        (["--workers", "0"], "--workers: expected a number of processes >= 1"),
        (["--executor", "dask"], "--executor: expected one of local, celery, found 'dask'"),
    ],
)
def test_bad_optimize_options_are_refused_by_name(
    momentum_home: Path, strategy_file: Path, args: list[str], message: str
) -> None:
    done = run(momentum_home, "optimize", str(strategy_file), "--symbols", "EDGE", *args)
    assert done.returncode == 2 and message in " ".join(done.stderr.split()), done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "monthly"], "--mode: expected one of rolling, expanding, cpcv, found 'monthly'"),
        (["--train", "2 years"], "walkforward: --train: Value error, expected a calendar length"),
        (["--train", "20y"], "hold no training window of 20y followed by a test window"),
    ],
)
def test_bad_walkforward_options_are_refused_by_name(
    momentum_home: Path, strategy_file: Path, args: list[str], message: str
) -> None:
    done = run(momentum_home, "walkforward", str(strategy_file), "--symbols", "EDGE", *args)
    assert done.returncode == 2 and message in " ".join(done.stderr.split()), done.stderr


def test_a_file_without_an_optimization_block_is_refused_with_what_to_add(momentum_home: Path, tmp_path: Path) -> None:
    plain = momentum_strategy()
    del plain["optimization"]
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(plain))
    for command in ("optimize", "walkforward"):
        done = run(momentum_home, command, str(path), "--symbols", "EDGE")
        assert done.returncode == 2 and "has no optimization block" in done.stderr, done.stderr
