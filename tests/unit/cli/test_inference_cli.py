"""``quantdesk inference compare`` end to end on the bundled S&P 500: the learned P(up) against the posterior
and the base rate on the same bars, the HMM regime against the rules, as JSON and as tables; bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.cli.test_cli import STRATEGY, run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("inference_home")
    assert run(home, "data", "sample").returncode == 0
    return home


def test_compare_reports_scores_on_the_same_bars_and_regime_returns_as_json(home: Path) -> None:
    result = run(home, "inference", "compare", str(STRATEGY), "--symbol", "SPX", "--start", "2012-01-01", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["symbol"], report["timeframe"], report["first_bar"][:10]) == ("SPX", "1d", "2012-01-03")
    assert report["outcome"] == {"horizon_bars": 10, "min_return": 0.0}  # the defaults: the file sets no inference
    scores = {s["model"]: s for s in report["probabilities"]}
    assert set(scores) == {"bayes", "gradient_boosting", "base_rate"}
    assert len({s["n"] for s in scores.values()}) == 1 and scores["bayes"]["n"] > 1000
    for s in scores.values():
        assert 0.5 < s["log_loss"] < 1.0 and 0.15 < s["brier"] < 0.35
        assert len(s["reliability"]) == 10 and sum(b["count"] for b in s["reliability"]) == s["n"]
    regimes = {r["model"]: r for r in report["regimes"]}
    assert [r["regime"] for r in regimes["hmm"]["regimes"]] == ["calm", "high_volatility"]
    assert [r["regime"] for r in regimes["rules"]["regimes"]] == ["trending_up", "trending_down", "mean_reverting",
                                                                   "high_volatility"]  # fmt: skip
    assert regimes["hmm"]["n"] == sum(r["count"] for r in regimes["hmm"]["regimes"])
    calm, wild = regimes["hmm"]["regimes"]
    assert wild["stdev_return"] > calm["stdev_return"]  # the high-volatility state's returns vary more
    # 1,760 bars: the HMM fits at bars 269, 519, ... (250 feature rows first), the classifier at 129, 379, ...
    # (100 outcomes of 10 bars first, its features known from bar 20)
    hmm_fits, classifier_fits = report["hmm"]["fits"], report["classifier"]["fits"]
    assert report["bars"] == 1760 and (len(hmm_fits), len(classifier_fits)) == (6, 7)
    assert hmm_fits[0]["fitted_through"].startswith("2013-01-30") and classifier_fits[0]["n_labels"] == 100


def test_compare_prints_tables_and_refuses_bad_input(home: Path) -> None:
    text = run(home, "inference", "compare", str(STRATEGY), "--symbol", "SPX", "--start", "2016-01-01")
    assert text.returncode == 0, text.stderr
    for title in ("P(up | evidence) out of sample", "reliability", "rules regimes", "hmm regimes", "walk-forward fits"):
        assert title in text.stdout, title
    assert "gradient_boosting" in text.stdout and "high_volatility" in text.stdout
    missing = run(home, "inference", "compare", str(STRATEGY), "--symbol", "NOPE")
    assert missing.returncode == 2 and "NOPE" in missing.stderr
    bad = home / "bad.json"
    doc = json.loads(STRATEGY.read_text())
    doc["entry_conditions"]["regime_filter"] = {"model": "hmm", "allowed": ["bull"]}
    bad.write_text(json.dumps(doc))
    refused = run(home, "inference", "compare", str(bad), "--symbol", "SPX")
    assert refused.returncode == 2 and "entry_conditions.regime_filter.allowed" in refused.stderr
