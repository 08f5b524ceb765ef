"""The calibrated classifier P(up | evidence): on returns that a planted vote predicts, its out-of-sample log loss
beats the 0.5 constant's; every fit trains only on outcomes known at its bar and scores only later bars; NaN
until min_labels outcomes are known; the calibration method changes the output; one-class training data gives the
smoothed share; runs repeat exactly; bad settings are a ConfigError naming the field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.analysis.inference import (
    PROBABILITY_FLOOR,
    ClassifierSettings,
    LearnedProbabilitySeries,
    Outcome,
    bar_features,
    forward_labels,
    learned_probability,
)
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY

N = 2000
OUTCOME = Outcome(horizon_bars=1)
SETTINGS = ClassifierSettings(refit_every_bars=400, min_labels=200, max_iter=30)


def planted(seed: int = 0, edge: float = 0.6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two votes, the first predictive: the next bar's return is N(+-edge * 1 %, 1 %) as it fired or not; the
    second is noise. P(up | fired) = Phi(0.6) = 0.73."""
    rng = np.random.default_rng(seed)
    signal, noise = rng.random(N) < 0.5, rng.random(N) < 0.5
    log_return = np.r_[0.0, 0.01 * rng.normal(np.where(signal[:-1], edge, -edge), 1.0)]
    close = 100.0 * np.exp(np.cumsum(log_return))
    known_ns = (17_000 + np.arange(N, dtype=np.int64)) * NS_PER_DAY
    return np.vstack([signal, noise]), close, known_ns


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return planted()


@pytest.fixture(scope="module")
def isotonic(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> LearnedProbabilitySeries:
    return learned_probability(*data, OUTCOME, names=["planted", "noise"], settings=SETTINGS)


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_a_planted_predictive_vote_beats_the_constant_half_out_of_sample(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], isotonic: LearnedProbabilitySeries
) -> None:
    labels = forward_labels(data[1], OUTCOME)
    scored = np.isfinite(isotonic.probability) & np.isfinite(labels)
    assert scored.sum() == N - 221 - 1  # scored from bar 221 (the first fit at 220); the last bar has no label
    loss = _log_loss(isotonic.probability[scored], labels[scored])
    assert loss < math.log(2) - 0.07  # 0.600 measured against 0.693
    fired = data[0][0][scored]
    assert isotonic.probability[scored][fired].mean() > 0.65 > 0.35 > isotonic.probability[scored][~fired].mean()
    assert isotonic.feature_names == ("planted", "noise", "log_return_1", "log_return_horizon", "volatility_20",
                                      "distance_from_mean_20")  # fmt: skip


def test_every_fit_learns_only_known_outcomes_and_scores_only_later_bars(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], isotonic: LearnedProbabilitySeries
) -> None:
    known_ns = data[2]
    h = OUTCOME.horizon_bars
    # usable from bar 20 (the 20-bar volatility); 200 outcomes known at bar 220's close (bars 20..219)
    assert [f.fit_bar for f in isotonic.fits] == [220, 620, 1020, 1420, 1820]
    assert np.isnan(isotonic.probability[:221]).all() and (isotonic.n_labels[:221] == 0).all()
    for j, fit in enumerate(isotonic.fits):
        assert fit.fitted_through_ns == known_ns[fit.fit_bar]
        assert fit.last_label_bar + h <= fit.fit_bar  # its last outcome was known by the fit's close
        assert (fit.first_label_bar, fit.n_labels) == (20, fit.fit_bar - h - 19)
        scored = np.flatnonzero(isotonic.fit_index == j)
        assert (known_ns[scored] > fit.fitted_through_ns).all()
        assert scored[0] == fit.fit_bar + 1
        assert (isotonic.n_labels[scored] == fit.n_labels).all()


def test_the_calibration_method_changes_the_probabilities(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], isotonic: LearnedProbabilitySeries
) -> None:
    platt = learned_probability(*data, OUTCOME, settings=ClassifierSettings(**{**SETTINGS.to_dict(),
                                                                              "calibration": "sigmoid"}))  # fmt: skip
    both = np.isfinite(platt.probability) & np.isfinite(isotonic.probability)
    assert both.sum() == N - 221
    assert np.abs(platt.probability[both] - isotonic.probability[both]).max() > 0.05
    assert {f.calibration for f in platt.fits} == {"sigmoid"}
    # isotonic steps give few distinct values per fit; Platt's sigmoid of the booster's scores gives many
    first = isotonic.fit_index == 0
    assert len(np.unique(isotonic.probability[first])) < len(np.unique(platt.probability[first]))


def test_runs_repeat_exactly_and_a_rolling_window_caps_the_labels(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], isotonic: LearnedProbabilitySeries
) -> None:
    again = learned_probability(*data, OUTCOME, names=["planted", "noise"], settings=SETTINGS)
    np.testing.assert_array_equal(again.probability, isotonic.probability)
    rolling = learned_probability(*data, OUTCOME, settings=ClassifierSettings(**{**SETTINGS.to_dict(),
                                                                                "window_labels": 500}))  # fmt: skip
    assert [f.n_labels for f in rolling.fits] == [200, 500, 500, 500, 500]
    assert [f.first_label_bar for f in rolling.fits] == [20, 120, 520, 920, 1320]


def test_one_class_of_outcome_gives_the_smoothed_share() -> None:
    close = 100.0 * 1.001 ** np.arange(400)  # always up
    votes = np.vstack([np.arange(400) % 2 == 0])
    known = (17_000 + np.arange(400, dtype=np.int64)) * NS_PER_DAY
    series = learned_probability(votes, close, known, OUTCOME, settings=ClassifierSettings(min_labels=100))
    fit = series.fits[0]
    assert fit.single_class and (fit.fit_bar, fit.n_up, fit.n_labels) == (120, 100, 100)
    np.testing.assert_allclose(series.probability[121:371], 101 / 102)  # until the next fit's bar, 370
    assert PROBABILITY_FLOOR == 1e-3


def test_bar_features_are_known_at_the_close() -> None:
    close = 100.0 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 60)))
    features = bar_features(close, 5)
    full = bar_features(np.r_[close, close[-1] * 3.0], 5)  # a later bar changes nothing before it
    np.testing.assert_array_equal(features, full[:60])
    assert np.isnan(features[:20]).any(axis=1).all() and np.isfinite(features[20:]).all()
    assert features[30, 1] == pytest.approx(math.log(close[30] / close[25]))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"calibration": "beta"}, "calibration"),
        ({"refit_every_bars": 0}, "refit_every_bars"),
        ({"min_labels": 20}, "min_labels"),
        ({"window_labels": 50}, "window_labels"),
        ({"learning_rate": 0.0}, "learning_rate"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=f"^{field}: expected"):
        ClassifierSettings(**options)  # type: ignore[arg-type]
