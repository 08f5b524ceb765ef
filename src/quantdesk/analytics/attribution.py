"""Where the PnL came from (market, sectors, the rest) and what trading cost.

PnL attribution, per bar t of ``equity`` (with ``initial_cash`` in front at ``start``, so the first
bar's PnL is E_1 - initial_cash):

- ``pnl_t`` = E_t - E_{t-1}.
- ``market_t`` = beta × r_b,t × E_{t-1}: r_b is the benchmark's simple return (aligned as of each
  bar; 0 where undefined, e.g. the first bar) and beta the full-sample OLS beta of
  ``performance.benchmark_relation``. A full-sample beta is an after-the-fact description, not
  something the strategy could have known; it is used because a rolling beta would make the split
  depend on a window choice. Without a benchmark (or an undefined beta) ``market_t`` = 0 and the
  result says so in ``note``.
- ``sector_t`` = Σ over sectors s of P_s,t-1 × (R_s,t - beta × r_b,t), where P_s,t-1 is the signed
  market value held in s at the previous bar (0 before the first bar) and R_s,t the equal-weighted
  mean return of the universe's symbols in s (the universe = the symbols in ``prices``; a symbol's
  close on bar t is that of its latest bar that opened before t's known time, the bar itself when it
  shares the portfolio's schedule). A sector with no defined return in a bar counts R_s,t = 0.
- ``alpha_t`` = pnl_t - market_t - sector_t: the remainder (stock selection within sectors, timing
  inside bars, and costs). The three parts sum to the PnL exactly by construction.

Gross exposure by sector = Σ |position value| of the sector's symbols / equity, per bar.

Transaction costs: explicit = commission; implicit = spread_slippage + impact (money, ≥ 0, both
sides). Per trade, traded value = |quantity| × (entry price + exit price when closed) and costs in
bps = cost / traded value × 10,000. Totals are summed over ``fills`` (the record of every execution,
including open trades' entries), their traded value = Σ |quantity| × price. Gross PnL = Σ over trades
of (net pnl + the trade's costs); the cost share of gross PnL is defined only when gross PnL > 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.analytics.inputs import UNKNOWN_SECTOR, PerformanceInputs, aligned_benchmark
from quantdesk.analytics.performance import bar_returns, benchmark_relation, equity_curve, years_between

BPS = 10_000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    """``per_bar``: columns pnl, market, sector, alpha on equity's index; ``by_sector``: the sector
    component per sector per bar; ``totals``/``sector_totals``: their sums; ``beta``: the beta used
    (0 without a benchmark); ``note``: how the market part was obtained."""

    per_bar: pd.DataFrame
    by_sector: pd.DataFrame
    totals: dict[str, float]
    sector_totals: dict[str, float]
    beta: float
    benchmark_used: bool
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CostAnalysis:
    """``per_trade``: one row per trade (costs in money and bps of traded value, gross PnL);
    ``totals``: from fills (money, bps of fills' traded value, share of gross PnL; None if undefined)."""

    per_trade: pd.DataFrame
    totals: dict[str, float | None]


def _sector_closes_on(index: pd.DatetimeIndex, prices: pd.DataFrame) -> np.ndarray:
    """Close of the latest bar that opened strictly before each time of ``index`` (NaN before any)."""
    opens = prices.index
    pos = opens.searchsorted(index, side="left") - 1
    close = prices["close"].to_numpy(dtype=float)
    if len(close) == 0:
        return np.full(len(index), np.nan)
    return np.where(pos >= 0, close[np.maximum(pos, 0)], np.nan)


def sector_returns(inputs: PerformanceInputs) -> pd.DataFrame:
    """Equal-weighted per-bar return of the universe's symbols in each sector (NaN where none)."""
    idx = pd.DatetimeIndex(inputs.equity.index)
    by_sector: dict[str, list[np.ndarray]] = {}
    for symbol, frame in inputs.prices.items():
        close = _sector_closes_on(idx, frame)
        prev = np.concatenate([[np.nan], close[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            ret = close / prev - 1.0
        by_sector.setdefault(inputs.sector_of(symbol), []).append(ret)
    out = {}
    for sector, rets in sorted(by_sector.items()):
        stack = np.vstack(rets)
        finite = np.isfinite(stack)
        count = finite.sum(axis=0)
        total = np.where(finite, stack, 0.0).sum(axis=0)
        out[sector] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return pd.DataFrame(out, index=idx, dtype=float)


def _sector_positions(positions: pd.DataFrame, sectors: dict[str, str], *, gross: bool) -> pd.DataFrame:
    values = positions.fillna(0.0).astype(float)
    if gross:
        values = values.abs()
    names = [sectors.get(str(c), UNKNOWN_SECTOR) for c in values.columns]
    if not names:
        return pd.DataFrame(index=positions.index, dtype=float)
    grouped = values.T.groupby(names).sum().T
    return grouped.reindex(columns=sorted(grouped.columns))


def exposure_by_sector(positions: pd.DataFrame, sectors: dict[str, str], equity: pd.Series) -> pd.DataFrame:
    """Gross exposure per sector (Σ |position value| of its symbols) as a share of equity, per bar.
    Symbols missing from ``sectors`` count as ``unknown``."""
    gross = _sector_positions(positions, sectors, gross=True)
    return gross.div(equity.astype(float), axis=0)


def pnl_attribution(inputs: PerformanceInputs) -> Attribution:
    """Market, sector and alpha parts of each bar's PnL (definitions in the module docstring)."""
    curve = equity_curve(inputs)
    values = curve.to_numpy(dtype=float)
    idx = inputs.equity.index
    pnl = np.diff(values)
    prior_equity = values[:-1]
    bench = aligned_benchmark(inputs)
    beta = 0.0
    benchmark_used = False
    if bench is None:
        note = "no benchmark: the market component is 0"
        rb = np.zeros(len(idx))
    else:
        rb_series = bench.pct_change(fill_method=None)
        years = years_between(curve.index[0], curve.index[-1])
        strategy_returns = bar_returns(curve)
        fitted = (
            benchmark_relation(strategy_returns, rb_series, len(strategy_returns) / years).beta if years > 0 else None
        )
        rb = np.nan_to_num(rb_series.to_numpy(dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        if fitted is None:
            note = "beta undefined (under 3 paired returns or a constant benchmark): the market component is 0"
        else:
            beta = fitted
            benchmark_used = True
            note = "market = full-sample OLS beta × benchmark return × prior equity"
    market = beta * rb * prior_equity
    held = _sector_positions(inputs.positions, inputs.sectors, gross=False)
    held_prior = held.shift(1).fillna(0.0)
    sector_ret = sector_returns(inputs).reindex(columns=held.columns)
    excess = sector_ret.fillna(0.0).sub(beta * rb, axis=0)
    by_sector = (held_prior * excess).astype(float)
    sector = by_sector.sum(axis=1).to_numpy(dtype=float) if by_sector.shape[1] else np.zeros(len(idx))
    alpha = pnl - market - sector
    per_bar = pd.DataFrame({"pnl": pnl, "market": market, "sector": sector, "alpha": alpha}, index=idx)
    return Attribution(
        per_bar=per_bar,
        by_sector=by_sector,
        totals={str(k): float(v) for k, v in per_bar.sum().items()},
        sector_totals={str(k): float(v) for k, v in by_sector.sum().items()},
        beta=float(beta),
        benchmark_used=benchmark_used,
        note=note,
    )


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def cost_analysis(trades: pd.DataFrame, fills: pd.DataFrame) -> CostAnalysis:
    """Explicit and implicit costs per trade and in total (definitions in the module docstring)."""
    commission = _num(trades, "commission").fillna(0.0)
    spread = _num(trades, "spread_slippage").fillna(0.0)
    impact = _num(trades, "impact").fillna(0.0)
    qty = _num(trades, "quantity").abs()
    closed = (trades["status"] == "closed").to_numpy()
    exit_value = (qty * _num(trades, "exit_price")).where(closed, 0.0).fillna(0.0)
    traded = qty * _num(trades, "entry_price") + exit_value
    implicit = spread + impact
    total = commission + implicit
    safe = traded.where(traded > 0)
    per_trade = pd.DataFrame(
        {
            "trade_id": trades["trade_id"].astype(str).to_numpy(),
            "symbol": trades["symbol"].astype(str).to_numpy(),
            "status": trades["status"].astype(str).to_numpy(),
            "traded_value": traded.to_numpy(),
            "commission": commission.to_numpy(),
            "spread_slippage": spread.to_numpy(),
            "impact": impact.to_numpy(),
            "explicit": commission.to_numpy(),
            "implicit": implicit.to_numpy(),
            "total": total.to_numpy(),
            "explicit_bps": (commission / safe * BPS).to_numpy(),
            "implicit_bps": (implicit / safe * BPS).to_numpy(),
            "total_bps": (total / safe * BPS).to_numpy(),
            "net_pnl": _num(trades, "pnl").to_numpy(),
            "gross_pnl": (_num(trades, "pnl") + total).to_numpy(),
        }
    )
    f_commission = float(_num(fills, "commission").fillna(0.0).sum())
    f_spread = float(_num(fills, "spread_slippage").fillna(0.0).sum())
    f_impact = float(_num(fills, "impact").fillna(0.0).sum())
    f_traded = float((_num(fills, "quantity").abs() * _num(fills, "price")).fillna(0.0).sum())
    f_implicit = f_spread + f_impact
    f_total = f_commission + f_implicit
    gross = float(per_trade["gross_pnl"].fillna(0.0).sum())

    def bps(x: float) -> float | None:
        return x / f_traded * BPS if f_traded > 0 else None

    totals: dict[str, float | None] = {
        "commission": f_commission,
        "spread_slippage": f_spread,
        "impact": f_impact,
        "explicit": f_commission,
        "implicit": f_implicit,
        "total": f_total,
        "traded_value": f_traded,
        "explicit_bps": bps(f_commission),
        "implicit_bps": bps(f_implicit),
        "total_bps": bps(f_total),
        "gross_pnl": gross,
        "net_pnl": float(per_trade["net_pnl"].fillna(0.0).sum()),
        "share_of_gross_pnl": f_total / gross if gross > 0 else None,
        "trades_total": float(total.sum()),
    }
    return CostAnalysis(per_trade=per_trade, totals=totals)
