"""Performance metrics of a portfolio backtest, as pure functions of ``PerformanceInputs``.

Definitions. The curve is ``equity`` with ``initial_cash`` put in front at ``start`` (the first
bar's open), so the first bar's return is against the initial cash. Returns are simple per-bar
returns ``r_t = E_t / E_{t-1} - 1``. ``years`` = calendar time from ``start`` to the last bar's known
time / 365.25 days; ``bars_per_year`` = number of returns / years, so each data density annualises
by itself (as ``metrics.py`` does). ``rf`` = ``risk_free_rate`` (annual, default 0) converted to a
per-bar rate ``(1 + rf) ** (1 / bars_per_year) - 1``.

- ``total_return`` = E_final / initial_cash - 1.
- ``cagr`` = (E_final / initial_cash) ** (1 / years) - 1 (-1 when equity ends at or below 0).
- ``volatility`` = std(r, ddof=1) × sqrt(bars_per_year).
- ``sharpe`` = mean(r - rf) / std(r, ddof=1) × sqrt(bars_per_year).
- ``sortino`` = mean(r - rf) / DD × sqrt(bars_per_year), DD = sqrt(mean(min(r - rf, 0) ** 2)) with
  the mean over ALL bars (zero for up bars), the standard Sortino downside deviation.
- ``max_drawdown`` = min(E / running peak - 1): a negative fraction (-0.25 is 25% down).
- ``calmar`` = cagr / |max_drawdown|.
- ``max_drawdown_duration_days`` = the longest calendar time under water: from the last time at a
  peak to the first time back at or above it (or to the last bar if never), in days.
- ``max_drawdown_recovery_days`` = days from the max drawdown's trough to the first bar at or above
  its prior peak; None if not recovered by the last bar.
- Trades (closed only): ``n_trades``; ``win_rate`` = share with pnl > 0; ``profit_factor`` = sum of
  positive pnl / |sum of negative pnl| (None without losses); ``expectancy`` = mean pnl (money);
  ``expectancy_r`` = mean R over trades with a finite R (this is the "average R");
  ``avg_win_r`` / ``avg_loss_r`` = mean R of trades with R > 0 / R <= 0; ``sqn`` = sqrt(N) × mean R /
  std(R, ddof=1) (Van Tharp's System Quality Number, N not capped), None under 2 trades with R.
- ``exposure`` = share of bars ending with any non-zero position.
- ``turnover`` = sum over fills of |quantity| × price / mean(equity); ``turnover_annual`` = turnover
  / years.
- ``fees`` = sum of fills' commission; ``costs`` = commission + spread_slippage + impact of fills.
- Against a benchmark (aligned as of each bar, see ``inputs.aligned_benchmark``), over the bars where
  the benchmark's return is defined: ``beta`` and the per-bar intercept from OLS of r on the
  benchmark's return r_b; ``alpha`` = intercept × bars_per_year (simple, not compounded);
  ``correlation`` = Pearson of r and r_b; active a = r - r_b; ``tracking_error`` = std(a, ddof=1) ×
  sqrt(bars_per_year); ``information_ratio`` = mean(a) × bars_per_year / tracking_error. None with
  fewer than 3 paired returns or a constant benchmark, and None when the run has no fill and never holds
  a position, or its equity never moves: a run that never traded has no active returns, and a beta of 0
  or an information ratio of minus the benchmark's own would describe cash, not the strategy.

Undefined values are None, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.analytics.inputs import PerformanceInputs, aligned_benchmark

DAYS_PER_YEAR = 365.25
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceMetrics:
    total_return: float
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float
    max_drawdown_duration_days: float
    max_drawdown_recovery_days: float | None
    n_trades: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: float | None
    expectancy_r: float | None
    avg_win_r: float | None
    avg_loss_r: float | None
    sqn: float | None
    exposure: float | None
    turnover: float | None
    turnover_annual: float | None
    fees: float | None
    costs: float | None
    final_equity: float
    alpha: float | None = None
    beta: float | None = None
    correlation: float | None = None
    tracking_error: float | None = None
    information_ratio: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchmarkRelation:
    """OLS of per-bar strategy returns on benchmark returns and the active-return statistics."""

    alpha: float | None
    beta: float | None
    correlation: float | None
    tracking_error: float | None
    information_ratio: float | None


def _finite(x: float | np.floating | None) -> float | None:
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def equity_curve(inputs: PerformanceInputs) -> pd.Series:
    """``equity`` with ``initial_cash`` at ``start`` in front: the curve every metric is computed on."""
    head = pd.Series([float(inputs.initial_cash)], index=pd.DatetimeIndex([inputs.start]).tz_convert("UTC"))
    curve = pd.concat([head, inputs.equity.astype(float)])
    curve.name = "equity"
    return curve


def bar_returns(curve: pd.Series) -> pd.Series:
    """Simple per-bar returns of a curve (one fewer than its points)."""
    values = curve.to_numpy(dtype=float)
    return pd.Series(values[1:] / values[:-1] - 1.0, index=curve.index[1:], name="return")


def years_between(start: pd.Timestamp, end: pd.Timestamp) -> float:
    return float((end - start) / _DAY) / DAYS_PER_YEAR


def underwater(equity: pd.Series) -> pd.Series:
    """Fraction below the running peak at each point (0 at a new high, negative below)."""
    return pd.Series(_underwater(equity.to_numpy(dtype=float)), index=equity.index, name="underwater")


def _underwater(values: np.ndarray) -> np.ndarray:
    return values / np.maximum.accumulate(values) - 1.0


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Compounded returns per calendar month (UTC): rows are years, columns months 1..12, NaN where
    there is no data. Each month is its last value / the previous month's last value - 1; the first
    month is measured from the curve's first value (pass ``equity_curve(...)`` to start from cash)."""
    values = equity.astype(float)
    when = pd.DatetimeIndex(values.index)
    month_end = values.groupby([when.year, when.month]).last()
    previous = month_end.shift(1)
    previous.iloc[0] = values.iloc[0]
    rets = month_end / previous - 1.0
    table = rets.unstack()
    table.index.name = "year"
    table.columns.name = "month"
    table = table.reindex(columns=range(1, 13))
    return table.astype(float)


def r_distribution(trades: pd.DataFrame) -> pd.Series:
    """R multiples of closed trades with a finite R, indexed by trade_id (for the histogram)."""
    closed = trades[trades["status"] == "closed"]
    r = pd.to_numeric(closed["r_multiple"], errors="coerce").astype(float)
    r.index = pd.Index(closed["trade_id"].astype(str), name="trade_id")
    return r[np.isfinite(r.to_numpy())].rename("r_multiple")


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawdownStats:
    max_drawdown: float
    peak_time: pd.Timestamp
    trough_time: pd.Timestamp
    recovery_time: pd.Timestamp | None
    longest_underwater_days: float


def drawdown_stats(curve: pd.Series) -> DrawdownStats:
    """Depth, peak, trough and recovery of the worst drawdown, and the longest time under water
    (from the last point at a peak to the first point back at or above it, or to the end)."""
    values = curve.to_numpy(dtype=float)
    uw = _underwater(values)
    times = pd.DatetimeIndex(curve.index)
    trough = int(np.argmin(uw))
    peak_value = values[: trough + 1].max()
    peak = int(np.flatnonzero(values[: trough + 1] >= peak_value)[-1])
    after = np.flatnonzero(values[trough:] >= peak_value)
    recovery = times[trough + int(after[0])] if uw[trough] < 0 and len(after) else None
    at_high = uw >= 0
    ns = times.as_unit("ns").asi8
    last_high_ns = np.maximum.accumulate(np.where(at_high, ns, np.iinfo(np.int64).min))
    back = np.flatnonzero(at_high[1:] & ~at_high[:-1]) + 1  # first points back at a high
    spans = [ns[back] - last_high_ns[back - 1]]
    if not at_high[-1]:
        spans.append(np.array([ns[-1] - last_high_ns[-1]]))
    joined = np.concatenate(spans)
    longest = float(joined.max()) / _DAY.value if len(joined) else 0.0
    return DrawdownStats(
        max_drawdown=float(uw[trough]),
        peak_time=times[peak],
        trough_time=times[trough],
        recovery_time=recovery,
        longest_underwater_days=longest,
    )


def benchmark_relation(
    strategy_returns: pd.Series, benchmark_returns: pd.Series, bars_per_year: float
) -> BenchmarkRelation:
    """OLS of strategy on benchmark per-bar returns, over the bars where both are finite."""
    if strategy_returns.index.equals(benchmark_returns.index):  # the run's own grid: no alignment to do
        both = np.column_stack([strategy_returns.to_numpy(dtype=float), benchmark_returns.to_numpy(dtype=float)])
    else:
        both = pd.concat([strategy_returns, benchmark_returns], axis=1).to_numpy(dtype=float)
    both = both[np.isfinite(both).all(axis=1)]
    none = BenchmarkRelation(alpha=None, beta=None, correlation=None, tracking_error=None, information_ratio=None)
    if len(both) < 3:
        return none
    rs, rb = both[:, 0], both[:, 1]
    var_b = float(np.var(rb, ddof=1))
    if var_b <= 0:
        return none
    beta = float(np.cov(rs, rb, ddof=1)[0, 1]) / var_b
    intercept = float(rs.mean() - beta * rb.mean())
    sd_s = float(np.std(rs, ddof=1))
    corr = float(np.corrcoef(rs, rb)[0, 1]) if sd_s > 0 else None
    active = rs - rb
    sd_a = float(np.std(active, ddof=1))
    te = sd_a * math.sqrt(bars_per_year)
    ir = float(active.mean()) * bars_per_year / te if te > 0 else None
    return BenchmarkRelation(
        alpha=_finite(intercept * bars_per_year),
        beta=_finite(beta),
        correlation=_finite(corr),
        tracking_error=_finite(te),
        information_ratio=_finite(ir),
    )


def _return_metrics(curve: pd.Series, risk_free_rate: float, dd: DrawdownStats) -> dict[str, Any]:
    values = curve.to_numpy(dtype=float)
    initial, final = values[0], values[-1]
    years = years_between(curve.index[0], curve.index[-1])
    rets = bar_returns(curve).to_numpy()
    out: dict[str, Any] = {
        "total_return": float(final / initial - 1.0),
        "cagr": None,
        "volatility": None,
        "sharpe": None,
        "sortino": None,
        "calmar": None,
    }
    if years > 0:
        out["cagr"] = _finite((final / initial) ** (1.0 / years) - 1.0) if final > 0 else -1.0
    if len(rets) >= 2 and years > 0:
        per_year = len(rets) / years
        rf_bar = (1.0 + risk_free_rate) ** (1.0 / per_year) - 1.0
        excess = rets - rf_bar
        sd = float(np.std(rets, ddof=1))
        out["volatility"] = _finite(sd * math.sqrt(per_year))
        out["sharpe"] = _finite(float(excess.mean()) / sd * math.sqrt(per_year)) if sd > 0 else None
        downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
        out["sortino"] = _finite(float(excess.mean()) / downside * math.sqrt(per_year)) if downside > 0 else None
    cagr = out["cagr"]
    out["calmar"] = _finite(cagr / abs(dd.max_drawdown)) if cagr is not None and dd.max_drawdown < 0 else None
    return out


def _drawdown_metrics(dd: DrawdownStats) -> dict[str, Any]:
    recovery = None if dd.recovery_time is None else float((dd.recovery_time - dd.trough_time) / _DAY)
    return {
        "max_drawdown": dd.max_drawdown,
        "max_drawdown_duration_days": dd.longest_underwater_days,
        "max_drawdown_recovery_days": recovery,
    }


def _trade_metrics(trades: pd.DataFrame) -> dict[str, Any]:
    closed = trades[trades["status"] == "closed"]
    pnl = pd.to_numeric(closed["pnl"], errors="coerce").astype(float).to_numpy()
    r = r_distribution(trades).to_numpy()
    n = len(closed)
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = float(-pnl[pnl < 0].sum())
    sd_r = float(np.std(r, ddof=1)) if len(r) >= 2 else 0.0
    wins, losses = r[r > 0], r[r <= 0]
    return {
        "n_trades": n,
        "win_rate": float(np.mean(pnl > 0)) if n else None,
        "profit_factor": gross_profit / gross_loss if gross_loss > 0 else None,
        "expectancy": _finite(pnl.mean()) if n else None,
        "expectancy_r": _finite(r.mean()) if len(r) else None,
        "avg_win_r": _finite(wins.mean()) if len(wins) else None,
        "avg_loss_r": _finite(losses.mean()) if len(losses) else None,
        "sqn": _finite(math.sqrt(len(r)) * float(r.mean()) / sd_r) if len(r) >= 2 and sd_r > 0 else None,
    }


def _money(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(0.0).to_numpy()


def performance_metrics(inputs: PerformanceInputs, *, risk_free_rate: float = 0.0) -> PerformanceMetrics:
    """Every metric of the module docstring for the strategy in ``inputs``."""
    curve = equity_curve(inputs)
    years = years_between(curve.index[0], curve.index[-1])
    fills = inputs.fills
    traded = float(np.sum(np.abs(_money(fills, "quantity")) * _money(fills, "price")))
    mean_equity = float(inputs.equity.mean())
    turnover = traded / mean_equity if mean_equity > 0 else None
    in_market = (inputs.positions.fillna(0.0).abs() > 0).any(axis=1).to_numpy() if inputs.positions.shape[1] else None
    fees = float(_money(fills, "commission").sum())
    costs = fees + float(_money(fills, "spread_slippage").sum() + _money(fills, "impact").sum())
    relation = BenchmarkRelation(alpha=None, beta=None, correlation=None, tracking_error=None, information_ratio=None)
    bench = aligned_benchmark(inputs)
    held = bool(np.any(_money(fills, "quantity") != 0)) or (in_market is not None and bool(in_market.any()))
    has_traded = held and bool(np.any(curve.to_numpy() != curve.iloc[0]))
    if bench is not None and years > 0 and has_traded:
        strategy_returns = bar_returns(curve)
        relation = benchmark_relation(
            strategy_returns, bench.pct_change(fill_method=None), len(strategy_returns) / years
        )
    return PerformanceMetrics(
        **_return_metrics(curve, risk_free_rate, dd := drawdown_stats(curve)),
        **_drawdown_metrics(dd),
        **_trade_metrics(inputs.trades),
        exposure=float(np.mean(in_market)) if in_market is not None else 0.0,
        turnover=_finite(turnover),
        turnover_annual=_finite(turnover / years) if turnover is not None and years > 0 else None,
        fees=fees,
        costs=costs,
        final_equity=float(inputs.equity.iloc[-1]),
        **asdict(relation),
    )


def benchmark_metrics(inputs: PerformanceInputs, *, risk_free_rate: float = 0.0) -> PerformanceMetrics | None:
    """The benchmark's own return and drawdown metrics, as if ``initial_cash`` bought it at its first
    known value on the equity index (``initial_cash × B_t / B_first``); trade, cost and benchmark
    fields are None (exposure 1). None without a benchmark or with fewer than 2 known values."""
    bench = aligned_benchmark(inputs)
    if bench is None:
        return None
    known = bench.dropna()
    if len(known) < 2 or known.iloc[0] <= 0:
        return None
    full = known / known.iloc[0] * inputs.initial_cash
    return PerformanceMetrics(
        **_return_metrics(full, risk_free_rate, dd := drawdown_stats(full)),
        **_drawdown_metrics(dd),
        n_trades=0,
        win_rate=None,
        profit_factor=None,
        expectancy=None,
        expectancy_r=None,
        avg_win_r=None,
        avg_loss_r=None,
        sqn=None,
        exposure=1.0,
        turnover=None,
        turnover_annual=None,
        fees=None,
        costs=None,
        final_equity=float(full.iloc[-1]),
    )


def rescaled_benchmark(inputs: PerformanceInputs) -> pd.Series | None:
    """The aligned benchmark scaled so its first known value equals ``initial_cash`` (for charts)."""
    bench = aligned_benchmark(inputs)
    if bench is None:
        return None
    known = bench.dropna()
    if known.empty or known.iloc[0] <= 0:
        return None
    return (bench / known.iloc[0] * inputs.initial_cash).rename("benchmark")
