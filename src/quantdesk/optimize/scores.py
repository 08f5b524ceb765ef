"""A trial's scores straight from the kernel's output: the search's objectives without building a whole result.

A search scores hundreds of backtests of one window; building each one's ``BacktestResult`` (trades and fills as
frames, positions, the benchmark) would cost more than its kernel. ``trial_scores`` computes, from the equity
path and the trade records, the metrics an ``optimization`` block can name, by the definitions of
``analytics.performance`` (the curve with the initial cash in front at the first bar's open, per-bar simple
returns annualised by the run's own bar density, closed trades' R as pnl over initial risk), and a test holds
them equal to ``BacktestResult.metrics``. It also keeps the account's return per session day, for the
overfitting statistics (PBO's matrix of trials by periods, and the deflated Sharpe ratio's moments).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analytics.performance import DAYS_PER_YEAR
from quantdesk.kernels.curve_stats import curve_stats
from quantdesk.strategy.optimization_models import OBJECTIVES

NS_PER_DAY = 86_400 * 10**9
METRICS = (*OBJECTIVES, "cagr", "max_drawdown", "n_trades", "win_rate")


@dataclass(frozen=True, slots=True)
class TrialScores:
    """A backtest's metrics (``METRICS``; None where undefined) and its return per session day."""

    metrics: dict[str, float | None]
    day_returns: np.ndarray

    @property
    def n_trades(self) -> int:
        return int(self.metrics["n_trades"] or 0)

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": dict(self.metrics), "day_returns": [float(x) for x in self.day_returns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialScores:
        return cls(dict(data["metrics"]), np.asarray(data["day_returns"], dtype=np.float64))


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def trial_scores(equity: np.ndarray, trades: np.ndarray, *, initial_cash: float, start_ns: int, known_ns: np.ndarray,
                 day_id: np.ndarray) -> TrialScores:  # fmt: skip
    """The metrics of a kernel run: ``equity`` at each row's close, its ``trades`` (``TRADE_RECORD``), the run's
    first bar's open time ``start_ns``, the rows' known times and session day numbers."""
    curve = np.empty(len(equity) + 1)
    curve[0] = initial_cash
    curve[1:] = equity
    years = (int(known_ns[-1]) - start_ns) / NS_PER_DAY / DAYS_PER_YEAR
    mean, sd, downside, max_dd, days = curve_stats(curve, np.ascontiguousarray(day_id, dtype=np.int64))
    n_rets = len(curve) - 1
    final = float(curve[-1])
    out: dict[str, float | None] = dict.fromkeys(METRICS)
    out["total_return"] = final / initial_cash - 1.0
    if years > 0:
        out["cagr"] = _finite((final / initial_cash) ** (1.0 / years) - 1.0) if final > 0 else -1.0
    if n_rets >= 2 and years > 0:
        per_year = n_rets / years
        out["sharpe"] = _finite(mean / sd * math.sqrt(per_year)) if sd > 0 else None
        out["sortino"] = _finite(mean / downside * math.sqrt(per_year)) if downside > 0 else None
    out["max_drawdown"] = max_dd
    cagr = out["cagr"]
    out["calmar"] = _finite(cagr / abs(max_dd)) if cagr is not None and max_dd < 0 else None
    closed = trades[trades["exit_row"] >= 0]
    pnl = closed["pnl"].astype(np.float64)
    risk = closed["initial_risk"].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(risk > 0, pnl / risk, np.nan)
    r = r[np.isfinite(r)]
    n = len(closed)
    loss = float(-pnl[pnl < 0].sum())
    out["n_trades"] = float(n)
    out["win_rate"] = float(np.mean(pnl > 0)) if n else None
    out["profit_factor"] = float(pnl[pnl > 0].sum()) / loss if loss > 0 else None
    out["expectancy_r"] = _finite(float(r.mean())) if len(r) else None
    return TrialScores(out, days)


def day_returns(curve: np.ndarray, day_id: np.ndarray) -> np.ndarray:
    """The return of each session day: its last row's equity against the day before's (the first day against the
    initial cash, ``curve[0]``)."""
    equity = curve[1:]
    if len(equity) == 0:
        return np.empty(0)
    ids = np.broadcast_to(day_id, equity.shape) if day_id.size == 1 else day_id
    last = np.flatnonzero(np.r_[ids[1:] != ids[:-1], True])
    ends = np.r_[curve[0], equity[last]]
    out: np.ndarray = ends[1:] / ends[:-1] - 1.0
    return out


def objective_value(metrics: Mapping[str, float | None], objective: str | Mapping[str, float]) -> float | None:
    """One objective (a metric's name, or weights of several: their weighted mean); None if any is undefined."""
    if isinstance(objective, str):
        return metrics.get(objective)
    total = sum(objective.values())
    value = 0.0
    for name, weight in objective.items():
        v = metrics.get(name)
        if v is None:
            return None
        value += weight * v
    return value / total
