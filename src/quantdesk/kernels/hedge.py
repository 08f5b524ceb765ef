"""The beta-neutral benchmark hedge: rolling betas and the hedge's path through the rows (numba).

``rolling_beta(x, y, window, min_obs, fallback, out)`` writes into ``out`` (shape ``(n, m)``) the OLS
slope of ``x[:, j]`` on ``y[:, j]`` over the rows ``t - window + 1 .. t`` (row t included), using only
the rows where both are non-NaN. With ``c`` such pairs, ``beta = cov(x, y) / var(y)`` (population
moments), and ``fallback`` where ``c < min_obs`` or ``var(y) <= DEGENERATE_VAR_REL * mean(y**2)`` (a
flat benchmark over the window). The pandas expression it equals, column by column, where neither
side has NaN and the window is full: ``x.rolling(window).cov(y) / y.rolling(window).var()``. Running
sums (add row t, drop row t - window), recomputed from scratch every ``window`` rows so rounding
cannot drift over a million rows; the recompute schedule depends on t only, so a run on ``x[:k]``
equals the first k rows of a run on all of them.

``hedge_path(...)`` steps the hedge row by row (plain reference: ``tests/reference/hedge_reference.py``):

1. at row t's open: a pending order (decided at an earlier row's close) fills at ``bench_open[t]``
   when that is not NaN, else it waits for the next row that has one; quantity ``target - units``,
   price ``open * (1 +/- half_spread)`` against the trader, commission ``fee_rate * |qty| * price``;
2. at row t's close: positions are forward-filled (0 before any value), beta dollars
   ``B_t = sum_j beta[t, j] * pv[t, j]``, the hedge is marked at the last known benchmark price
   (this row's close, else its open, else earlier) and ``pnl = cash + units * price``;
3. decision at t's close, where ``bench_close[t]`` and ``equity[t]`` are not NaN:
   ``target = -B_t / bench_close[t]`` rounded toward zero to a multiple of ``lot`` (no rounding when
   ``lot == 0``); it replaces the working position (the pending target, else the units held) when
   ``|target - working| * bench_close[t] > band * equity[t]``.

A fill is never on the row of its decision, so outputs at row t depend only on rows up to t.
Imports only numpy and numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

DEGENERATE_VAR_REL = 1e-12  # var(y) at or below this share of mean(y**2): a flat benchmark, no beta
LOT_EPS = 1e-9  # tolerance in lots before rounding toward zero (2.9999999999 lots is 3 lots)


@njit(cache=True, inline="always")
def to_lot(x: float, lot: float) -> float:
    """``x`` rounded toward zero to a multiple of ``lot``; ``x`` itself when ``lot == 0``."""
    if lot <= 0.0:
        return x
    k = np.floor(abs(x) / lot + LOT_EPS)  # a float count: math.floor's int64 wraps past 9.2e18 lots
    if k == 0.0:
        return 0.0
    return k * lot if x > 0.0 else -k * lot


@njit(cache=True)
def rolling_beta(
    x: np.ndarray, y: np.ndarray, window: int, min_obs: int, fallback: float, out: np.ndarray
) -> np.ndarray:
    n, m = x.shape
    cnt = np.zeros(m, dtype=np.int64)
    sx = np.zeros(m)
    sy = np.zeros(m)
    sxy = np.zeros(m)
    syy = np.zeros(m)
    for t in range(n):
        if t % window == 0:
            cnt[:] = 0
            sx[:] = 0.0
            sy[:] = 0.0
            sxy[:] = 0.0
            syy[:] = 0.0
            start = t - window + 1 if t >= window else 0
            for s in range(start, t + 1):
                b = y[s]
                if np.isnan(b):
                    continue
                for j in range(m):
                    a = x[s, j]
                    if not np.isnan(a):
                        cnt[j] += 1
                        sx[j] += a
                        sy[j] += b
                        sxy[j] += a * b
                        syy[j] += b * b
        else:
            b = y[t]
            if not np.isnan(b):
                for j in range(m):
                    a = x[t, j]
                    if not np.isnan(a):
                        cnt[j] += 1
                        sx[j] += a
                        sy[j] += b
                        sxy[j] += a * b
                        syy[j] += b * b
            s = t - window
            if s >= 0:
                b = y[s]
                if not np.isnan(b):
                    for j in range(m):
                        a = x[s, j]
                        if not np.isnan(a):
                            cnt[j] -= 1
                            sx[j] -= a
                            sy[j] -= b
                            sxy[j] -= a * b
                            syy[j] -= b * b
        for j in range(m):
            c = cnt[j]
            beta = fallback
            if c >= min_obs and c > 0:
                my = sy[j] / c
                ms = syy[j] / c
                vy = ms - my * my
                if ms > 0.0 and vy > DEGENERATE_VAR_REL * ms:
                    beta = (sxy[j] / c - (sx[j] / c) * my) / vy
            out[t, j] = beta
    return out


@njit(cache=True)
def hedge_path(
    position_value: np.ndarray,
    beta: np.ndarray,
    bench_open: np.ndarray,
    bench_close: np.ndarray,
    equity: np.ndarray,
    band: float,
    fee_rate: float,
    half_spread: float,
    lot: float,
    units_out: np.ndarray,
    pnl_out: np.ndarray,
    costs_out: np.ndarray,
    beta_dollars_out: np.ndarray,
    fill_row: np.ndarray,
    fill_decided: np.ndarray,
    fill_units: np.ndarray,
    fill_price: np.ndarray,
    fill_commission: np.ndarray,
    fill_spread: np.ndarray,
) -> int:
    """Steps the hedge; writes the per-row outputs and up to one fill per row; returns the fill count."""
    n, m = position_value.shape
    last_pv = np.zeros(m)
    cash = 0.0
    units = 0.0
    costs = 0.0
    last_price = np.nan
    pending = False
    pending_target = 0.0
    pending_from = -1
    k = 0
    for t in range(n):
        o = bench_open[t]
        if pending and not np.isnan(o):
            qty = pending_target - units
            if qty != 0.0:
                side = 1.0 if qty > 0.0 else -1.0
                price = o * (1.0 + side * half_spread)
                spread = abs(qty) * o * half_spread
                comm = abs(qty) * price * fee_rate
                cash -= qty * price + comm
                costs += spread + comm
                units = pending_target
                fill_row[k] = t
                fill_decided[k] = pending_from
                fill_units[k] = qty
                fill_price[k] = price
                fill_commission[k] = comm
                fill_spread[k] = spread
                k += 1
            pending = False
        if not np.isnan(o):
            last_price = o
        c = bench_close[t]
        if not np.isnan(c):
            last_price = c
        bd = 0.0
        for j in range(m):
            v = position_value[t, j]
            if not np.isnan(v):
                last_pv[j] = v
            bd += beta[t, j] * last_pv[j]
        beta_dollars_out[t] = bd
        units_out[t] = units
        costs_out[t] = costs
        pnl_out[t] = cash + units * last_price if units != 0.0 else cash
        e = equity[t]
        if not np.isnan(c) and not np.isnan(e):
            target = to_lot(-bd / c, lot)
            working = pending_target if pending else units
            if abs(target - working) * c > band * e:
                pending = True
                pending_target = target
                pending_from = t
    return k
