"""The out-of-sample comparison: log loss, Brier and reliability by hand on the bars every model defines; forward
returns per regime by hand; and end to end on a market whose outcome is the XOR of two votes, which naive Bayes
cannot see and the classifier can, so the learned log loss beats the posterior's and the base rate's."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from tests.unit.analysis.inference.test_learned_regime import planted_bars

from quantdesk.analysis.inference import (
    ClassifierSettings,
    HmmSettings,
    Outcome,
    compare_inference,
    forward_returns,
    regime_returns,
    score_probabilities,
)
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars

NAN = math.nan


def test_probabilities_are_scored_on_the_bars_every_model_and_the_label_define() -> None:
    labels = np.array([1.0, 0.0, 1.0, NAN, 0.0])
    a = np.array([0.8, 0.3, NAN, 0.5, 0.4])
    b = np.array([0.6, 0.6, 0.6, 0.6, 0.6])
    first, second = score_probabilities({"a": a, "b": b}, labels)
    assert (first.model, first.n, second.n) == ("a", 3, 3)  # bars 0, 1 and 4
    assert first.log_loss == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.6)) / 3)
    assert first.brier == pytest.approx((0.2**2 + 0.3**2 + 0.4**2) / 3)
    assert second.log_loss == pytest.approx(-(math.log(0.6) + 2 * math.log(0.4)) / 3)
    doc = first.to_dict()
    assert [(row["low"], row["count"]) for row in doc["reliability"] if row["count"]] == [
        (pytest.approx(0.3), 1), (0.4, 1), (0.8, 1),
    ]  # fmt: skip
    assert doc["reliability"][8] == {"low": 0.8, "high": 0.9, "mean_predicted": 0.8, "observed_frequency": 1.0,
                                     "count": 1}  # fmt: skip
    with pytest.raises(ConfigError, match="expected 5 values"):
        score_probabilities({"a": a[:4]}, labels)


def test_forward_returns_per_regime_on_the_bars_both_regimes_know() -> None:
    close = np.array([100.0, 110.0, 99.0, 99.0, 120.0, NAN])
    returns = forward_returns(close, 1)
    np.testing.assert_allclose(returns, [0.1, -0.1, 0.0, 120 / 99 - 1, NAN, NAN])
    labels = np.where(np.isfinite(returns), (returns > 0).astype(float), NAN)
    rules = np.array(["unknown", "calm", "calm", "wild", "calm", "calm"], dtype=object)
    hmm = np.array(["x", "x", "y", "y", "x", "x"], dtype=object)
    by_rules, by_hmm = regime_returns({"rules": (("calm", "wild"), rules), "hmm": (("x", "y"), hmm)}, returns, labels)
    assert by_rules.n == by_hmm.n == 3  # bar 0: a regime unknown; bars 4 and 5: no forward return
    calm, wild = by_rules.regimes
    assert (calm.count, calm.mean_return, calm.hit_rate) == (2, pytest.approx(-0.05), 0.0)
    assert calm.stdev_return == pytest.approx(np.std([-0.1, 0.0], ddof=1))
    assert (wild.count, wild.hit_rate) == (1, 1.0) and math.isnan(wild.stdev_return)
    assert [(r.regime, r.count) for r in by_hmm.regimes] == [("x", 1), ("y", 2)]


@pytest.fixture(scope="module")
def xor_market() -> tuple[Bars, np.ndarray]:
    """The planted-volatility bars re-priced so that the next bar rises when exactly one of two votes fired."""
    bars, _ = planted_bars(11, 1500)
    rng = np.random.default_rng(11)
    votes = rng.random((2, len(bars))) < 0.5
    xor = votes[0] ^ votes[1]
    step = 0.01 * rng.normal(np.where(xor, 0.7, -0.7), 1.0)
    close = 100.0 * np.exp(np.cumsum(np.r_[0.0, step[:-1]]))
    columns = {"ts": bars.ts, "open": close, "high": close, "low": close, "close": close, "volume": bars.volume}
    return Bars.from_arrays("XOR", bars.timeframe, columns), votes


def test_the_classifier_sees_an_interaction_naive_bayes_cannot(xor_market: tuple[Bars, np.ndarray]) -> None:
    bars, votes = xor_market
    classifier = ClassifierSettings(refit_every_bars=300, min_labels=200, max_iter=40, learning_rate=0.2)
    hmm = HmmSettings(train_bars=600, min_train_bars=250, refit_every_bars=400)
    result = compare_inference(bars, votes, Outcome(horizon_bars=1), names=["a", "b"], classifier=classifier, hmm=hmm)
    bayes, learned, base = (result.probability(m) for m in ("bayes", "gradient_boosting", "base_rate"))
    assert bayes.n == learned.n == base.n == 1500 - 221 - 1  # the classifier scores from bar 221; last: no label
    assert learned.log_loss < bayes.log_loss - 0.03  # 0.659 against 0.695 measured (0.553 knowing the rule)
    assert abs(bayes.log_loss - base.log_loss) < 0.01  # each vote alone says nothing
    assert learned.brier < bayes.brier
    assert [s.model for s in result.regimes] == ["rules", "hmm"]
    assert [r.regime for r in result.regime("hmm").regimes] == ["calm", "high_volatility"]
    assert result.regime("rules").n == result.regime("hmm").n > 1000
    doc = json.loads(json.dumps(result.to_dict()))  # JSON-ready
    assert doc["outcome"] == {"horizon_bars": 1, "min_return": 0.0}
    assert len(doc["classifier"]["fits"]) == len(result.classifier_fits) == 5
    assert doc["hmm"]["n_states"] == 2 and len(doc["hmm"]["fits"]) == len(result.hmm_fits)
    with pytest.raises(ConfigError, match="expected one of"):
        result.probability("svm")
