"""The learned layer inside a strategy, on the bundled S&P 500: the gradient-boosting posterior is what
min_posterior and Kelly sizing read; a regime filter lets entries through only in its allowed regimes, the
HMM's as known at each close; compiling on bars[:k] gives the full compile's arrays up to k; ``strategy explain``
shows both; templates that name none of it backtest exactly as before; loading and compiling a strategy imports
no scikit-learn or hmmlearn until a learned model fits."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from tests.unit.strategy.test_learned_format import BAYES_INFERENCE, TEMPLATE_IDS, ema_cross

from quantdesk.backtest.engine import run_backtest
from quantdesk.backtest.evidence import build_evidence
from quantdesk.backtest.lookahead import signal_arrays
from quantdesk.core.timestamps import to_utc_ns
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.sample import load_sample
from quantdesk.domain.bars import Bars
from quantdesk.strategy.compile import SignalArrays, compile_signals
from quantdesk.strategy.explain import explain_at
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.templates import load_template

KELLY = {"method": "kelly_criterion_modified", "max_kelly_fraction": 0.25, "fixed_fraction_cap": 0.2}
GB = {"horizon": "10_bars", "model": "gradient_boosting", "refit_every_bars": 500, "min_posterior": 0.55}
HMM = {"model": "hmm", "allowed": ["calm"], "refit_every_bars": 500, "train_bars": 750}


def learned_strategy(**entry: Any) -> Any:
    doc = ema_cross(**entry)
    doc["entry_conditions"]["technical_signals"][0]["condition"] = "greater_than"  # a vote on most bars
    doc["exit_conditions"]["take_profit"] = {"type": "risk_multiple", "ratio": 2.0}
    doc["risk_management"]["position_sizing"] = KELLY
    return parse_strategy(json.dumps(doc))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    catalog = Catalog(tmp_path_factory.mktemp("learned_home") / "catalog")
    load_sample(catalog)
    return catalog


@pytest.fixture(scope="module")
def spx(catalog: Catalog) -> Bars:
    """2010-2018: 2,264 bars, enough for a handful of walk-forward fits."""
    return catalog.read_bars("SPX", "1d", to_utc_ns("2010-01-01", what="start"))


@pytest.fixture(scope="module")
def learned(spx: Bars) -> SignalArrays:
    return compile_signals(learned_strategy(inference=GB, regime_filter=HMM), spx)


def test_the_learned_posterior_is_what_min_posterior_and_kelly_sizing_read(spx: Bars, learned: SignalArrays) -> None:
    assert learned.posterior is None and learned.learned_posterior is not None
    p = learned.learned_posterior.probability
    assert learned.p_up is p
    first_fit = learned.learned_posterior.fits[0].fit_bar
    assert np.isnan(p[: first_fit + 1]).all() and np.isfinite(p[first_fit + 1 :]).all()
    strategy = learned_strategy(inference=GB, regime_filter=HMM)
    evidence = build_evidence(strategy, spx, learned, {"posterior": True})
    np.testing.assert_array_equal(evidence.win_probability, p)
    unfloored = compile_signals(learned_strategy(inference={**GB, "min_posterior": None}, regime_filter=HMM), spx)
    floor = np.nan_to_num(p, nan=0.0) >= 0.55
    np.testing.assert_array_equal(learned.long_entry, unfloored.long_entry & floor)
    assert 0 < learned.long_entry.sum() < unfloored.long_entry.sum()


def test_a_regime_filter_lets_entries_through_only_in_its_allowed_regimes(spx: Bars, learned: SignalArrays) -> None:
    assert learned.regime is not None and learned.regime.model == "hmm"
    series = learned.regime.regimes
    names = series.regime_names()  # type: ignore[union-attr]
    np.testing.assert_array_equal(learned.regime.allowed, names == "calm")
    unfiltered = compile_signals(learned_strategy(inference=GB), spx)
    np.testing.assert_array_equal(learned.long_entry, unfiltered.long_entry & learned.regime.allowed)
    assert 0 < learned.long_entry.sum() < unfiltered.long_entry.sum()
    known_ns = spx.known_ns()
    for t in np.flatnonzero(learned.regime.allowed):
        assert series.fits[series.fit_index[t]].fitted_through_ns < known_ns[t]  # type: ignore[union-attr]
    rules = compile_signals(learned_strategy(regime_filter={"model": "rules", "allowed": ["trending_up"]}), spx)
    assert rules.regime is not None
    np.testing.assert_array_equal(rules.regime.allowed, rules.regime.regimes.codes == 1)
    assert rules.long_entry.sum() > 0 and not (rules.long_entry & ~rules.regime.allowed).any()


def test_compiling_the_bars_up_to_a_cut_gives_the_full_compile_up_to_it(spx: Bars, learned: SignalArrays) -> None:
    strategy = learned_strategy(inference=GB, regime_filter=HMM)
    full = signal_arrays(learned)
    assert {"learned_posterior", "regime", "regime_allowed"} <= set(full)
    assert learned.learned_posterior is not None and learned.regime is not None
    assert [f.fit_bar for f in learned.learned_posterior.fits] == [129, 629, 1129, 1629, 2129]
    assert [f.fit_bar for f in learned.regime.regimes.fits] == [269, 769, 1269, 1769]  # type: ignore[union-attr]
    for k in (1200, 1630, 1770):  # between refits; the classifier's fit bar + 1; the HMM's fit bar + 1
        cut = signal_arrays(compile_signals(strategy, spx[:k]))
        assert set(cut) == set(full)
        for name, values in cut.items():
            np.testing.assert_array_equal(values, full[name][..., :k], err_msg=f"{name} at cut {k}")


def test_explain_shows_the_learned_posterior_and_the_regime(spx: Bars) -> None:
    strategy = learned_strategy(inference=GB, regime_filter=HMM)
    ex = explain_at(strategy, spx[:1800])
    learned, regime = ex["learned_posterior"], ex["regime_filter"]
    assert learned["model"] == "gradient_boosting" and learned["calibration"] == "isotonic"
    assert 0 < learned["p_up"] < 1 and learned["fitted_through"] < ex["bar"]["known_at"]
    assert regime["model"] == "hmm" and regime["regime"] in ("calm", "high_volatility")
    assert regime["passed"] == (regime["regime"] == "calm")
    assert sum(regime["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    if not ex["entry"]["fires"] and not regime["passed"]:
        assert any("is not one of calm" in why for why in ex["entry"]["why_not"])


def test_templates_without_the_learned_layer_backtest_exactly_as_before(catalog: Catalog) -> None:
    spx = catalog.read_bars("SPX", "1d")
    instrument = catalog.find_instrument("SPX")
    trend = run_backtest(load_template("trend_following"), spx, instrument=instrument)
    assert trend.strategy_instance_id == TEMPLATE_IDS["trend_following"]
    assert trend.session_id == "fdcb1396-fb5a-5124-bbc5-516760f49dba"
    assert (len(trend.trades), float(trend.equity.iloc[-1])) == (13, 105864.24025199999)
    bayes = run_backtest(parse_strategy(json.dumps(ema_cross(inference=BAYES_INFERENCE))), spx, instrument=instrument)
    assert bayes.strategy_instance_id == "9b3fed69-6731-5858-8f71-0f23537c7986"
    assert (len(bayes.trades), float(bayes.equity.iloc[-1])) == (95, 97596.9563449999)


def test_loading_and_compiling_a_strategy_imports_no_learning_library() -> None:
    code = (
        "import sys, json\n"
        "from quantdesk.strategy.load import parse_strategy\n"
        "import quantdesk.strategy.compile, quantdesk.backtest.engine\n"
        f"parse_strategy({json.dumps(json.dumps(ema_cross(regime_filter=HMM, inference=GB)))})\n"
        "print(sorted({'sklearn', 'hmmlearn'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]"]
