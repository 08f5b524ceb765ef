"""Plain-Python reference for ``kernels.hedge``: the rolling beta and the hedge's path, one row at a time."""

from __future__ import annotations

import math

import numpy as np

DEGENERATE_VAR_REL = 1e-12


def reference_rolling_beta(x: np.ndarray, y: np.ndarray, window: int, min_obs: int, fallback: float) -> np.ndarray:
    """Per row and column, cov/var (two-pass, population moments) over the known pairs in the last ``window`` rows."""
    n, m = x.shape
    out = np.full((n, m), fallback)
    for t in range(n):
        for j in range(m):
            pairs = [
                (float(x[s, j]), float(y[s]))
                for s in range(max(0, t - window + 1), t + 1)
                if not math.isnan(x[s, j]) and not math.isnan(y[s])
            ]
            if len(pairs) < min_obs or not pairs:
                continue
            mx = sum(a for a, _ in pairs) / len(pairs)
            my = sum(b for _, b in pairs) / len(pairs)
            var = sum((b - my) ** 2 for _, b in pairs) / len(pairs)
            mean_sq = sum(b * b for _, b in pairs) / len(pairs)
            if mean_sq <= 0.0 or var <= DEGENERATE_VAR_REL * mean_sq:
                continue
            out[t, j] = sum((a - mx) * (b - my) for a, b in pairs) / len(pairs) / var
    return out


def _to_lot(x: float, lot: float) -> float:
    if lot <= 0.0:
        return x
    k = math.floor(abs(x) / lot + 1e-9)
    return 0.0 if k == 0 else math.copysign(k * lot, x)


def reference_hedge_path(
    position_value: np.ndarray,
    beta: np.ndarray,
    bench_open: np.ndarray,
    bench_close: np.ndarray,
    equity: np.ndarray,
    band: float,
    fee_rate: float,
    half_spread: float,
    lot: float,
) -> dict[str, object]:
    """units, pnl, costs, beta_dollars per row and the fills as (row, decided_row, units, price, commission, spread)."""
    n, m = position_value.shape
    held = [0.0] * m
    cash = units = costs = 0.0
    price_now = math.nan
    order: tuple[int, float] | None = None  # (decided row, target units), waiting for a benchmark open
    out: dict[str, list[float]] = {"units": [], "pnl": [], "costs": [], "beta_dollars": []}
    fills: list[tuple[int, int, float, float, float, float]] = []
    for t in range(n):
        o, c, e = float(bench_open[t]), float(bench_close[t]), float(equity[t])
        if order is not None and not math.isnan(o):
            decided, target = order
            qty = target - units
            if qty != 0.0:
                px = o * (1.0 + half_spread) if qty > 0 else o * (1.0 - half_spread)
                spread = abs(qty) * o * half_spread
                commission = abs(qty) * px * fee_rate
                cash -= qty * px + commission
                costs += spread + commission
                units = target
                fills.append((t, decided, qty, px, commission, spread))
            order = None
        for p in (o, c):
            if not math.isnan(p):
                price_now = p
        for j in range(m):
            if not math.isnan(position_value[t, j]):
                held[j] = float(position_value[t, j])
        exposure = 0.0
        for j in range(m):
            exposure += float(beta[t, j]) * held[j]
        out["beta_dollars"].append(exposure)
        out["units"].append(units)
        out["costs"].append(costs)
        out["pnl"].append(cash + units * price_now if units != 0.0 else cash)
        if math.isnan(c) or math.isnan(e):
            continue
        target = _to_lot(-exposure / c, lot)
        working = order[1] if order is not None else units
        if abs(target - working) * c > band * e:
            order = (t, target)
    result: dict[str, object] = {k: np.array(v, dtype=np.float64) for k, v in out.items()}
    result["fills"] = fills
    return result
