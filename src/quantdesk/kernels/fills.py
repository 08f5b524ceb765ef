"""Fill arithmetic shared by the portfolio kernel: commission, cost-adjusted prices, tick rounding, the stop.

Small ``@njit`` functions, inlined into ``kernels/portfolio.py``; each is a formula the docs state
(docs/backtest.md, "Fills and costs"). Commission is ``rate * value + per_share * qty + fixed``,
raised to the minimum, then capped at ``max_frac * value``. A marketable fill at reference price
``p0`` pays ``half_spread + slip_coef * sigma_bar`` plus, above ``threshold`` of ADV, the square-root
impact ``impact_coef * sigma_daily * sqrt(qty / ADV)``, all as fractions of ``p0``; a price that
carries costs is rounded to the tick against the trader. Imports only numpy and numba.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from quantdesk.kernels.portfolio_layout import (
    P_COMM_FIXED,
    P_COMM_MAX_FRAC,
    P_COMM_MIN,
    P_COMM_PER_SHARE,
    P_COMM_RATE,
    P_HALF_SPREAD,
    P_IMPACT_COEF,
    P_IMPACT_THRESHOLD,
    P_MAX_RISK_FRAC,
    P_SLIP_COEF,
    P_STOP_FROM_SWING,
    P_STOP_OFFSET_ATR,
    P_STOP_TYPE,
    P_TP_TYPE,
    P_TP_VALUE,
    P_WIDEN_MULT,
    STOP_ATR,
    STOP_NONE,
    STOP_PERCENT,
    TP_PERCENT,
    TP_R_MULTIPLE,
)

_EPS = 1e-9


@njit(cache=True, inline="always")
def commission(qty: float, price: float, p: np.ndarray) -> float:
    value = qty * price
    c = p[P_COMM_RATE] * value + p[P_COMM_PER_SHARE] * qty + p[P_COMM_FIXED]
    if c < p[P_COMM_MIN]:
        c = p[P_COMM_MIN]
    if p[P_COMM_MAX_FRAC] > 0.0 and c > p[P_COMM_MAX_FRAC] * value:
        c = p[P_COMM_MAX_FRAC] * value
    return c


@njit(cache=True, inline="always")
def on_tick(k: float, tick: float) -> float:
    """``k`` ticks (or lots) as a price (or quantity): divided by steps-per-unit when that is whole (100.10, not
    100.10000000000001; 0.3 of a 0.1 lot, not 0.30000000000000004)."""
    per_unit = 1.0 / tick
    whole = math.floor(per_unit + 0.5)
    if abs(per_unit - whole) < 1e-9:
        return k / whole
    return k * tick


# Step counts are rounded with np.floor / np.ceil, which stay float64: numba's math.floor returns an int64, which
# wraps negative past 9.2e18 steps (a 1e-8 lot on a large account). Below 2**53 steps a float count is exact;
# backtest.engine refuses a run whose sizes could pass that before it starts.


@njit(cache=True, inline="always")
def floor_tick(x: float, tick: float) -> float:
    return on_tick(np.floor(x / tick + _EPS), tick)


@njit(cache=True, inline="always")
def ceil_tick(x: float, tick: float) -> float:
    return on_tick(np.ceil(x / tick - _EPS), tick)


@njit(cache=True, inline="always")
def round_tick(x: float, tick: float) -> float:
    return on_tick(np.floor(x / tick + 0.5), tick)


@njit(cache=True, inline="always")
def floor_lots(units: float, lot: float) -> float:
    """``units`` down to whole lots (2.9999999999 lots is 3), written exactly where the lot is 1 / a whole number."""
    return on_tick(np.floor(units / lot + _EPS), lot)


@njit(cache=True, inline="always")
def nan_to_zero(x: float) -> float:
    return 0.0 if math.isnan(x) else x


@njit(cache=True, inline="always")
def impact_frac(qty: float, adv: float, sigma_daily: float, p: np.ndarray) -> float:
    if p[P_IMPACT_COEF] <= 0.0 or not adv > 0.0:
        return 0.0
    share = qty / adv
    if share <= p[P_IMPACT_THRESHOLD]:
        return 0.0
    return p[P_IMPACT_COEF] * nan_to_zero(sigma_daily) * math.sqrt(share)


@njit(cache=True, inline="always")
def marketable_price(
    side: int, p0: float, qty: float, sigma_bar: float, sigma_daily: float, adv: float, tick: float, p: np.ndarray
) -> tuple[float, float, float]:
    """(price, spread_slippage money, impact money) of a market fill of ``qty`` against reference ``p0``."""
    slip = p[P_HALF_SPREAD] + p[P_SLIP_COEF] * nan_to_zero(sigma_bar)
    imp = impact_frac(qty, adv, sigma_daily, p)
    if slip == 0.0 and imp == 0.0:
        return p0, 0.0, 0.0
    raw = p0 * (1.0 + side * (slip + imp))
    price = ceil_tick(raw, tick) if side > 0 else floor_tick(raw, tick)
    implicit = qty * abs(price - p0)
    impact = min(qty * p0 * imp, implicit)
    return price, implicit - impact, impact


@njit(cache=True, inline="always")
def bounded_by_limit(
    side: int, p0: float, price: float, spread: float, impact: float, qty: float, limit: float
) -> tuple[float, float, float]:
    """A limit order never fills beyond its limit: clip the price and re-split the implicit cost."""
    if (side > 0 and price > limit) or (side < 0 and price < limit):
        price = limit
        implicit = qty * max(side * (price - p0), 0.0)
        impact = min(impact, implicit)
        spread = implicit - impact
    return price, spread, impact


@njit(cache=True, inline="always")
def initial_stop(
    direction: int, entry: float, swing_low: float, swing_high: float, atr: float, expanded: float, tick: float,
    p: np.ndarray,
) -> float:  # fmt: skip
    """The stop set when an entry fills (NaN without a stop rule); see docs/backtest.md, "Exits"."""
    kind = int(p[P_STOP_TYPE])
    if kind == STOP_NONE:
        return np.nan
    bound = entry * (1.0 - direction * p[P_MAX_RISK_FRAC])
    widen = p[P_WIDEN_MULT] if expanded else 1.0
    offset = p[P_STOP_OFFSET_ATR] * atr * widen
    if kind == STOP_PERCENT:
        stop = bound
    elif kind == STOP_ATR:
        stop = entry - direction * offset
        if math.isnan(stop) or direction * (entry - stop) <= 0.0:
            stop = bound
    else:  # technical: under the recent swing (over it for a short), never further than the bound
        base = entry
        if p[P_STOP_FROM_SWING] > 0.0:
            base = swing_low if direction > 0 else swing_high
        stop = base - direction * offset
        if math.isnan(stop) or direction * (entry - stop) <= 0.0 or direction * (stop - bound) < 0.0:
            stop = bound
    stop = floor_tick(stop, tick) if direction > 0 else ceil_tick(stop, tick)
    if direction * (entry - stop) <= 0.0:  # the tick rounding may not cross the entry
        stop = entry - direction * tick
    return stop


@njit(cache=True, inline="always")
def target_price(direction: int, entry: float, stop: float, tick: float, p: np.ndarray) -> float:
    kind = int(p[P_TP_TYPE])
    if kind == TP_R_MULTIPLE:
        if math.isnan(stop):
            return np.nan
        return round_tick(entry + direction * p[P_TP_VALUE] * abs(entry - stop), tick)
    if kind == TP_PERCENT:
        return round_tick(entry * (1.0 + direction * p[P_TP_VALUE]), tick)
    return np.nan


@njit(cache=True, inline="always")
def reward_to_risk(entry: float, stop: float, p: np.ndarray) -> float:
    """b in Kelly's formula: the target in R (NaN without a target or a stop)."""
    kind = int(p[P_TP_TYPE])
    if kind == TP_R_MULTIPLE:
        return p[P_TP_VALUE]
    if kind == TP_PERCENT and not math.isnan(stop) and entry != stop:
        return p[P_TP_VALUE] * entry / abs(entry - stop)
    return np.nan
