"""No look-ahead in the learned layer: the HMM regime (``hmm_regime``) and the calibrated classifier
(``learned_probability``) on ``bars[:k]`` equal their output on every bar up to k, at cuts before the first fit,
at a fit's bar, just after it, between refits and at the end; the fits of the cut run are the full run's fits
made before the cut. Fitting is expensive, so the cuts are chosen rather than drawn."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.analysis.inference import (
    ClassifierSettings,
    HmmSettings,
    LearnedProbabilitySeries,
    LearnedRegimeSeries,
    Outcome,
    hmm_regime,
    learned_probability,
)
from tests.unit.analysis.inference.test_learned_regime import planted_bars

N = 1500
HMM = HmmSettings(n_states=3, train_bars=600, min_train_bars=200, refit_every_bars=250)
CLASSIFIER = ClassifierSettings(refit_every_bars=250, min_labels=150, max_iter=20, window_labels=800)
OUTCOME = Outcome(horizon_bars=3, min_return=0.001)


def _votes(close: np.ndarray) -> np.ndarray:
    """Two votes known at each close: the close above its 10-bar mean, and the last return positive."""
    mean = np.convolve(close, np.ones(10) / 10, mode="full")[: len(close)]
    mean[:9] = np.nan
    up = np.r_[False, close[1:] > close[:-1]]
    return np.vstack([close > mean, up])


@pytest.fixture(scope="module")
def bars_and_votes() -> tuple:
    bars, _ = planted_bars(5, N)
    return bars, _votes(np.asarray(bars.close))


def _cuts(fit_bars: list[int]) -> list[int]:
    first, second = fit_bars[0], fit_bars[1]
    return [first - 5, first + 1, second, second + 1, (second + fit_bars[2]) // 2, N - 1]


def _same_fits(full: tuple, cut: tuple, k: int) -> None:
    before = [f for f in full if f.fit_bar < k]
    assert [f.to_dict() for f in cut] == [f.to_dict() for f in before]


def test_hmm_regime_on_a_prefix_equals_the_full_run_up_to_the_cut(bars_and_votes: tuple) -> None:
    bars, _ = bars_and_votes
    full: LearnedRegimeSeries = hmm_regime(bars, HMM)
    fit_bars = [f.fit_bar for f in full.fits]
    assert len(fit_bars) >= 5
    for k in _cuts(fit_bars):
        cut = hmm_regime(bars[:k], HMM)
        np.testing.assert_array_equal(cut.probabilities, full.probabilities[:, :k], err_msg=f"cut {k}")
        np.testing.assert_array_equal(cut.codes, full.codes[:k])
        np.testing.assert_array_equal(cut.fit_index, full.fit_index[:k])
        _same_fits(full.fits, cut.fits, k)


def test_learned_probability_on_a_prefix_equals_the_full_run_up_to_the_cut(bars_and_votes: tuple) -> None:
    bars, votes = bars_and_votes
    close, known = np.asarray(bars.close), bars.known_ns()
    full: LearnedProbabilitySeries = learned_probability(votes, close, known, OUTCOME, settings=CLASSIFIER)
    fit_bars = [f.fit_bar for f in full.fits]
    assert len(fit_bars) >= 5 and np.isfinite(full.probability[fit_bars[0] + 1 :]).all()
    for k in _cuts(fit_bars):
        cut = learned_probability(votes[:, :k], close[:k], known[:k], OUTCOME, settings=CLASSIFIER)
        np.testing.assert_array_equal(cut.probability, full.probability[:k], err_msg=f"cut {k}")
        np.testing.assert_array_equal(cut.n_labels, full.n_labels[:k])
        np.testing.assert_array_equal(cut.fit_index, full.fit_index[:k])
        _same_fits(full.fits, cut.fits, k)
