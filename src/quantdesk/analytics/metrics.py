"""Performance metrics of an equity curve and its trades.

Definitions (all returns are simple returns; no risk-free rate is subtracted):
``total_return`` = final / initial - 1; ``cagr`` = (final / initial) ** (1 / years) - 1 with
``years`` the calendar time from the first bar's start to the last bar's known time;
``volatility`` = standard deviation (ddof 1) of per-bar returns times sqrt(bars per year), where bars
per year = bar returns / years, so daily, weekly and intraday data annualise by their own density;
``sharpe`` = mean per-bar return / its standard deviation times sqrt(bars per year);
``max_drawdown`` = the worst peak-to-trough fall of equity, a negative fraction (-0.25 is 25% down);
``n_trades`` = closed trades; ``win_rate`` = share of closed trades with positive net PnL (None
without closed trades); ``exposure`` = share of bars ending with a position; ``fees_paid`` = all
commission. Values that are undefined (no trades, flat equity) are None, never NaN, in JSON.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

YEAR_NS = 365.25 * 24 * 3600 * 1e9


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    total_return: float
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    max_drawdown: float
    n_trades: int
    win_rate: float | None
    exposure: float
    fees_paid: float
    final_equity: float

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Fractional distance below the running peak at each bar (0 at a new high, negative below)."""
    peak = np.maximum.accumulate(equity)
    return equity / peak - 1.0


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def compute_metrics(
    equity: np.ndarray,
    start_ns: int,
    end_ns: int,
    initial_cash: float,
    trade_pnl_closed: np.ndarray,
    fees_paid: float,
    in_market: np.ndarray,
) -> Metrics:
    """Metrics of ``equity`` (one value per bar, at its close) over ``[start_ns, end_ns]``."""
    n = len(equity)
    final = float(equity[-1]) if n else float(initial_cash)
    total = final / initial_cash - 1.0
    years = (end_ns - start_ns) / YEAR_NS
    cagr = vol = sharpe = None
    if n >= 2 and years > 0:
        cagr = _finite((final / initial_cash) ** (1.0 / years) - 1.0) if final > 0 else -1.0
        rets = np.diff(np.concatenate([[initial_cash], equity])) / np.concatenate([[initial_cash], equity[:-1]])
        per_year = len(rets) / years
        sd = float(np.std(rets, ddof=1))
        vol = _finite(sd * math.sqrt(per_year))
        sharpe = _finite(float(np.mean(rets)) / sd * math.sqrt(per_year)) if sd > 0 else None
    closed = len(trade_pnl_closed)
    return Metrics(
        total_return=total,
        cagr=cagr,
        volatility=vol,
        sharpe=sharpe,
        max_drawdown=float(drawdown(np.concatenate([[initial_cash], equity])).min()) if n else 0.0,
        n_trades=closed,
        win_rate=float(np.mean(trade_pnl_closed > 0)) if closed else None,
        exposure=float(np.mean(in_market)) if n else 0.0,
        fees_paid=float(fees_paid),
        final_equity=final,
    )
