"""The overfitting statistics against their papers: the deflated Sharpe ratio's worked numbers, and the probability
of backtest overfitting on pure noise (about one half) and with one real edge (about zero)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from quantdesk.core.errors import ConfigError
from quantdesk.optimize.overfitting import (
    EULER_GAMMA,
    annual_to_period,
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
    sharpe_stats,
)


def test_the_deflated_sharpe_ratio_of_the_papers_example() -> None:
    """N = 100 trials, an annualised Sharpe ratio of 2.5 over T = 1,250 daily observations (250 a year), skewness -3,
    kurtosis 10, an annualised variance of the trials' Sharpe ratios of 0.5: SR0 about 0.1132 (daily), DSR about
    0.9004, each recomputed here from the paper's formulas."""
    sr = annual_to_period(2.5, 250)
    variance = 0.5 / 250  # an annualised variance of Sharpe ratios, per day
    sr0 = expected_max_sharpe(100, variance)
    by_hand = math.sqrt(variance) * ((1 - EULER_GAMMA) * norm.ppf(1 - 1 / 100)
                                     + EULER_GAMMA * norm.ppf(1 - 1 / (100 * math.e)))  # fmt: skip
    assert sr0 == pytest.approx(by_hand, rel=1e-12)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe(sr, 1250, -3.0, 10.0, n_trials=100, sharpe_variance=variance)
    z = (sr - sr0) * math.sqrt(1249) / math.sqrt(1 + 3.0 * sr + (10 - 1) / 4 * sr**2)
    assert dsr == pytest.approx(norm.cdf(z), rel=1e-12)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_the_probabilistic_sharpe_ratio_grows_with_the_track_record_and_falls_with_fat_left_tails() -> None:
    assert probabilistic_sharpe(0.0, 500, 0.0, 3.0) == pytest.approx(0.5)
    short, long_ = probabilistic_sharpe(0.05, 250, 0.0, 3.0), probabilistic_sharpe(0.05, 2500, 0.0, 3.0)
    assert 0.5 < short < long_ < 1.0
    assert probabilistic_sharpe(0.1, 1000, -3.0, 10.0) < probabilistic_sharpe(0.1, 1000, 0.0, 3.0)
    assert expected_max_sharpe(1000, 0.002) > expected_max_sharpe(10, 0.002) > 0.0


def test_sharpe_stats_are_the_series_moments() -> None:
    rng = np.random.default_rng(3)
    r = rng.normal(0.001, 0.01, 100_000)
    stats = sharpe_stats(r)
    assert stats.sharpe == pytest.approx(0.1, abs=0.01) and stats.n_obs == 100_000
    assert stats.skewness == pytest.approx(0.0, abs=0.05) and stats.kurtosis == pytest.approx(3.0, abs=0.1)


def test_pbo_is_about_one_half_on_pure_noise() -> None:
    """T = 1,000 observations of N = 100 strategies with no edge, S = 16 blocks. One sample's PBO swings widely (its
    12,870 splits share their data: 0.42 to 0.75 over the first seeds), so the mean of 20 samples is held to one
    half. It sits a little under it: a strategy whose whole sample happens to be good is good in both halves."""
    results = [pbo_cscv(np.random.default_rng(seed).normal(0.0, 0.01, (1000, 100)), n_blocks=16) for seed in range(20)]
    assert all(r.n_splits == 12_870 for r in results)  # C(16, 8)
    mean = float(np.mean([r.pbo for r in results]))
    assert 0.42 <= mean <= 0.58


def test_pbo_is_about_zero_when_one_strategy_has_a_real_edge() -> None:
    rng = np.random.default_rng(20261207)
    m = rng.normal(0.0, 0.01, (1000, 100))
    m[:, 17] += 0.004  # a Sharpe ratio of 0.4 a day: it is the best in and out of sample on almost every split
    result = pbo_cscv(m, n_blocks=16)
    assert result.pbo <= 0.01
    assert np.median(result.logits) > 3.0


def test_bad_inputs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="even number of blocks"):
        pbo_cscv(np.zeros((100, 4)), n_blocks=5)
    with pytest.raises(ConfigError, match="at least 2 strategies"):
        pbo_cscv(np.zeros((100, 1)))
    with pytest.raises(ConfigError, match="too few"):
        pbo_cscv(np.ones((20, 4)), n_blocks=16)
    with pytest.raises(ConfigError, match="at least 2 trials"):
        expected_max_sharpe(1, 0.1)
    with pytest.raises(ConfigError, match="do not vary"):
        sharpe_stats(np.ones(10))
