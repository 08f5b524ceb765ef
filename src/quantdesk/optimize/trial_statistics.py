"""The overfitting statistics of one search, from its trials: PSR and DSR of the best trial, and PBO of them all.

Computed on day returns (each trial's account return per session day, ``TrialScores.day_returns``), so every
Sharpe ratio here is daily, not annualised. ``N`` is the number of trials actually backtested (complete, too few
trades and pruned: each was a look at the data), the variance is that of the daily Sharpe ratios of every trial
scored over the whole window, and PBO is CSCV over the (days x trials) matrix of those trials with
``n_blocks`` blocks (fewer when the window has too few days: the largest even number with at least 2 days in a
block, at least 4 blocks). A statistic that cannot be computed (one trial, flat returns, too few days) is None
with the reason in ``notes``: a report says why a figure is missing rather than inventing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.optimize.overfitting import deflated_sharpe, pbo_cscv, probabilistic_sharpe, sharpe_stats
from quantdesk.optimize.search import SearchResult

DEFAULT_BLOCKS = 16
MIN_BLOCKS = 4


@dataclass(frozen=True, slots=True)
class SearchStatistics:
    n_trials: int
    sharpe_variance: float | None  # of the trials' daily Sharpe ratios
    best_daily_sharpe: float | None
    psr: float | None  # P(true Sharpe > 0) of the best trial
    dsr: float | None  # P(true Sharpe > SR0 of N trials)
    pbo: float | None
    pbo_blocks: int | None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_trials": self.n_trials, "sharpe_variance": self.sharpe_variance,
            "best_daily_sharpe": self.best_daily_sharpe, "psr": self.psr, "dsr": self.dsr, "pbo": self.pbo,
            "pbo_blocks": self.pbo_blocks, "notes": list(self.notes),
        }  # fmt: skip


def _blocks(days: int, wanted: int) -> int | None:
    blocks = min(wanted, days // 2)
    blocks -= blocks % 2
    return blocks if blocks >= MIN_BLOCKS else None


def search_statistics(search: SearchResult, *, n_blocks: int = DEFAULT_BLOCKS) -> SearchStatistics:
    notes: list[str] = []
    n = search.n_trials
    matrix = search.day_return_matrix()
    sharpes = []
    for k in range(matrix.shape[1]):
        col = matrix[:, k]
        sd = float(np.std(col, ddof=1)) if len(col) >= 2 else 0.0
        sharpes.append(float(col.mean()) / sd if sd > 0 else 0.0)
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) >= 2 else None
    best_sr = psr = dsr = None
    if search.best is None or search.best.scores is None:
        notes.append("no trial completed: no best trial to test")
    else:
        try:
            st = sharpe_stats(search.best.scores.day_returns)
            best_sr = st.sharpe
            psr = probabilistic_sharpe(st.sharpe, st.n_obs, st.skewness, st.kurtosis)
            if n >= 2 and variance is not None:
                dsr = deflated_sharpe(st.sharpe, st.n_obs, st.skewness, st.kurtosis, n_trials=n,
                                      sharpe_variance=variance)  # fmt: skip
            else:
                notes.append("DSR needs at least 2 trials scored over the whole window")
        except ConfigError as exc:
            notes.append(f"PSR and DSR: {exc}")
    pbo = None
    blocks = _blocks(matrix.shape[0], n_blocks) if matrix.size else None
    if matrix.shape[1] < 2:
        notes.append("PBO needs at least 2 trials scored over the whole window")
    elif blocks is None:
        notes.append(f"PBO: {matrix.shape[0]} days are too few for {MIN_BLOCKS} blocks of 2 days")
    else:
        try:
            pbo = pbo_cscv(matrix, blocks).pbo
        except ConfigError as exc:
            notes.append(str(exc))
    return SearchStatistics(n, variance, best_sr, psr, dsr, pbo, blocks if pbo is not None else None, tuple(notes))
