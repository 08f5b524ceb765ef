"""Overfitting statistics: how much of a best backtest is the search that found it.

- ``probabilistic_sharpe``: the probability that the true Sharpe ratio exceeds a benchmark ``sr_star``, given the
  observed one over ``t`` observations with their skewness and (non-excess) kurtosis (Bailey and López de Prado,
  "The Sharpe Ratio Efficient Frontier", 2012): ``PSR = Φ((SR - SR*) √(T - 1) / √(1 - γ3 SR + (γ4 - 1)/4 SR²))``.
- ``expected_max_sharpe``: the Sharpe ratio the best of ``n_trials`` unskilled trials reaches by luck, from the
  variance of the trials' Sharpe ratios: ``SR0 = √V ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))``, γ the
  Euler-Mascheroni constant (Bailey and López de Prado, "The Deflated Sharpe Ratio", 2014, eq. 2 from the false
  strategy theorem).
- ``deflated_sharpe``: ``PSR(SR0)``, the probability that the best trial's Sharpe ratio is above what luck gives
  with that many trials.
- ``pbo_cscv``: the probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey,
  Borwein, López de Prado and Zhu, "The Probability of Backtest Overfitting", 2017): the observations are cut into
  ``S`` blocks; for every half of the blocks as the in-sample set (the rest out of sample) the best in-sample
  strategy's out-of-sample rank is turned into a logit; PBO is the share of splits where it ranks at or below the
  median out of sample.

Every Sharpe ratio here is per observation (a daily series: daily units; ``annual_to_period`` converts). Written
by hand: no well-kept library of the field implements them (single-release packages exist; mlfinlab, where they
were, is no longer open source), the papers' formulas are short, and each function's docstring names its
equation. Pure numpy and scipy's normal distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import kurtosis as _kurtosis
from scipy.stats import norm
from scipy.stats import skew as _skew

from quantdesk.core.errors import ConfigError

__all__ = [
    "EULER_GAMMA",
    "PboResult",
    "SharpeStats",
    "annual_to_period",
    "deflated_sharpe",
    "expected_max_sharpe",
    "pbo_cscv",
    "probabilistic_sharpe",
    "sharpe_stats",
]

EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True, slots=True)
class SharpeStats:
    """A return series' Sharpe ratio (per observation), its length, skewness and kurtosis (non-excess: 3 normal)."""

    sharpe: float
    n_obs: int
    skewness: float
    kurtosis: float


def sharpe_stats(returns: np.ndarray) -> SharpeStats:
    """The per-observation Sharpe ratio (mean over sample standard deviation) and the moments PSR needs."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if len(r) < 3:
        raise ConfigError(f"overfitting statistics: expected at least 3 finite returns, found {len(r)}")
    sd = float(r.std(ddof=1))
    if not sd > 0:
        raise ConfigError("overfitting statistics: the returns do not vary (a standard deviation of 0)")
    return SharpeStats(float(r.mean()) / sd, len(r), float(_skew(r)), float(_kurtosis(r, fisher=False)))


def annual_to_period(annual_sharpe: float, periods_per_year: float) -> float:
    """An annualised Sharpe ratio as one per observation: ``SR / √periods``."""
    return float(annual_sharpe) / math.sqrt(periods_per_year)


def probabilistic_sharpe(sharpe: float, n_obs: int, skewness: float, kurtosis: float, sr_star: float = 0.0) -> float:
    """PSR(SR*): the probability that the true Sharpe ratio exceeds ``sr_star`` (both per observation), eq. 1 of the
    deflated Sharpe ratio paper."""
    if n_obs < 2:
        raise ConfigError(f"probabilistic Sharpe ratio: expected at least 2 observations, found {n_obs}")
    var = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not var > 0:
        raise ConfigError(f"probabilistic Sharpe ratio: skewness {skewness} and kurtosis {kurtosis} give a variance "
                          f"of {var:.4g} at a Sharpe ratio of {sharpe:.4g}; expected above 0")  # fmt: skip
    return float(norm.cdf((sharpe - sr_star) * math.sqrt(n_obs - 1) / math.sqrt(var)))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """SR0: the expected largest Sharpe ratio of ``n_trials`` trials with no skill whose Sharpe ratios vary by
    ``sharpe_variance`` (per observation, squared), eq. 2 of the deflated Sharpe ratio paper."""
    if n_trials < 2:
        raise ConfigError(f"deflated Sharpe ratio: expected at least 2 trials, found {n_trials}")
    if not sharpe_variance >= 0:
        raise ConfigError(f"deflated Sharpe ratio: expected a variance of the trials' Sharpe ratios >= 0, found "
                          f"{sharpe_variance}")  # fmt: skip
    g = EULER_GAMMA
    z1 = norm.ppf(1.0 - 1.0 / n_trials)
    z2 = norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(math.sqrt(sharpe_variance) * ((1.0 - g) * z1 + g * z2))


def deflated_sharpe(sharpe: float, n_obs: int, skewness: float, kurtosis: float, *, n_trials: int,
                    sharpe_variance: float) -> float:  # fmt: skip
    """DSR: ``PSR(SR0)`` with SR0 from ``expected_max_sharpe(n_trials, sharpe_variance)``, every Sharpe ratio per
    observation; the true number of trials run, not the ones kept."""
    return probabilistic_sharpe(sharpe, n_obs, skewness, kurtosis, expected_max_sharpe(n_trials, sharpe_variance))


@dataclass(frozen=True, slots=True)
class PboResult:
    """CSCV's outcome: the probability of backtest overfitting, each split's logit (best in-sample strategy's
    out-of-sample rank), and the number of splits."""

    pbo: float
    logits: np.ndarray
    n_splits: int


def pbo_cscv(returns: np.ndarray, n_blocks: int = 16) -> PboResult:
    """PBO of the strategies in the columns of ``returns`` (observations in rows) by CSCV over ``n_blocks`` blocks
    (an even number; every one of the C(S, S/2) halves is a split). Performance is the Sharpe ratio; ranks are
    1 (worst) to N (best), ``ω = rank / (N + 1)``, ``λ = ln(ω / (1 - ω))``; PBO is the share of ``λ <= 0``."""
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ConfigError(f"PBO: expected observations x strategies with at least 2 strategies, found {m.shape}")
    if n_blocks < 2 or n_blocks % 2:
        raise ConfigError(f"PBO: expected an even number of blocks >= 2, found {n_blocks}")
    t, n = m.shape
    if t < 2 * n_blocks:
        raise ConfigError(f"PBO: {t} observations are too few for {n_blocks} blocks (at least 2 each)")
    if not np.isfinite(m).all():
        raise ConfigError("PBO: every return must be finite")
    edges = np.linspace(0, t, n_blocks + 1).astype(np.int64)
    # per block: each strategy's count, sum and sum of squares, so that a split's Sharpe ratios are sums of blocks
    counts = np.diff(edges).astype(np.float64)
    sums = np.add.reduceat(m, edges[:-1], axis=0)
    squares = np.add.reduceat(m * m, edges[:-1], axis=0)
    halves = np.array(list(combinations(range(n_blocks), n_blocks // 2)), dtype=np.int64)
    chosen = np.zeros((len(halves), n_blocks), dtype=np.float64)
    np.put_along_axis(chosen, halves, 1.0, axis=1)
    is_sharpe = _sharpe_of(chosen, counts, sums, squares)
    oos_sharpe = _sharpe_of(1.0 - chosen, counts, sums, squares)
    best = np.argmax(is_sharpe, axis=1)
    best_oos = oos_sharpe[np.arange(len(halves)), best]
    rank = 1.0 + (oos_sharpe < best_oos[:, None]).sum(axis=1)  # 1 = worst out of sample
    omega = rank / (n + 1.0)
    logits = np.log(omega / (1.0 - omega))
    return PboResult(float(np.mean(logits <= 0.0)), logits, len(halves))


def _sharpe_of(weights: np.ndarray, counts: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Each split's (rows of ``weights``: 1 for the blocks it takes) Sharpe ratio of every strategy."""
    k = weights @ counts
    s = weights @ sums
    q = weights @ squares
    mean = s / k[:, None]
    var = (q - k[:, None] * mean**2) / (k[:, None] - 1.0)
    sd = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, mean / sd, 0.0)
