"""The optional beta-neutral hedge: a short (or long) position in the benchmark that offsets the
portfolio's beta dollars. A backtest or paper session steps it in the portfolio kernel, row by row
with the portfolio (``kernels/portfolio.py``: ``step_hedge_fill``, ``step_hedge_decide``), so its PnL
is in the equity that the daily loss limit, sizing and margin read; ``beta_neutral_hedge`` here is
the same rules over a given path of position values and equity, on its own.

Rules (the kernel, ``quantdesk.kernels.hedge``, states them formula by formula):

- **Benchmark returns** are close to close on the row grid: ``bench_close[t] / bench_close[t - 1] - 1``,
  NaN on row 0 and wherever either close is NaN.
- **Rolling beta** of instrument j at row t: ``cov / var`` of its returns against the benchmark's over
  the rows ``t - window_bars + 1 .. t`` (row t included, nothing later), on the rows where both are
  known. **Fallback**: until ``min_obs`` such pairs exist, or while the benchmark was flat over the
  window, beta is ``FALLBACK_BETA = 1.0`` (until enough history, a position counts as market
  exposure one for one; it is not left unhedged).
- **Positions**: a NaN position value (no bar) is the instrument's last value, 0 before any.
- **Decision** at row t's close, on rows where ``bench_close[t]`` and ``equity[t]`` are known: beta
  dollars ``B_t = sum_j beta[t, j] * position_value[t, j]``; target units ``-B_t / bench_close[t]``
  **rounded toward zero** to a multiple of ``lot`` (``lot=0``: fractional units, no rounding; a
  tolerance of 1e-9 lot keeps 2.9999999999 lots at 3). A new order is sent only when
  ``|target - working| * bench_close[t] > rebalance_band * equity[t]``, where ``working`` is the
  order still waiting to fill if there is one, else the units held.
- **Fill** at the open of the next row that has a benchmark open (never the decision's row):
  price ``open * (1 + half_spread)`` when buying, ``open * (1 - half_spread)`` when selling;
  commission ``fee_bps`` of the traded value at that price. A newer decision replaces an order
  still waiting. No tick rounding: the benchmark is treated as a unit priced in currency.
- **PnL** at each row's close: the hedge's cash (which starts at 0 and pays for every fill and
  commission) plus its units marked at the last known benchmark price. It is net of all costs, so
  over a given equity path the hedged equity is ``equity + result.pnl``. In the kernel the hedge's
  cash is the account's, the ``equity`` the band is a share of is the account's with the hedge in it,
  and the hedge's value times its margin rate is held against an entry's buying power.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.kernels import hedge as nb
from quantdesk.kernels.portfolio_layout import HEDGE_FILL_RECORD

__all__ = [
    "FALLBACK_BETA",
    "HEDGE_FILL_DTYPE",
    "HedgeResult",
    "benchmark_returns",
    "beta_neutral_hedge",
    "rolling_beta",
]

FALLBACK_BETA = 1.0

# the kernel's hedge fill record: row, decided_row, units, price, commission, spread
HEDGE_FILL_DTYPE = HEDGE_FILL_RECORD


@dataclass(frozen=True, slots=True, kw_only=True)
class HedgeResult:
    """The hedge overlay, one value per row at its close (``units``, ``pnl``, ``costs``, ``beta_dollars``)."""

    units: np.ndarray  # (n,) benchmark units held at each row's close (< 0: short)
    pnl: np.ndarray  # (n,) cumulative hedge PnL at each close, net of costs; hedged equity = equity + pnl
    costs: np.ndarray  # (n,) cumulative commission plus half-spread paid
    fills: np.ndarray  # HEDGE_FILL_DTYPE records, in row order
    beta: np.ndarray  # (n, m) the rolling betas used
    beta_dollars: np.ndarray  # (n,) sum_j beta * position value, the exposure the hedge offsets

    def hedged_equity(self, equity: np.ndarray) -> np.ndarray:
        """``equity + pnl``: the portfolio's equity with the hedge overlay."""
        return np.asarray(equity, dtype=np.float64) + self.pnl


def _int_param(name: str, value: object, low: int, high: int | None, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name}: expected an integer {what}, found {value!r}")
    v = int(value)
    if v < low or (high is not None and v > high):
        raise ConfigError(f"{name}: expected an integer {what}, found {v}")
    return v


def _float_param(name: str, value: object, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}: expected {what}, found {value!r}")
    v = float(value)
    if not (math.isfinite(v) and low <= v <= high):
        raise ConfigError(f"{name}: expected {what}, found {v}")
    return v


def _array(
    name: str, value: object, shape: tuple[int, ...] | None, ndim: int, what: str, like: str = "position_value"
) -> np.ndarray:
    try:
        a = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: expected {what} of numbers, found {type(value).__name__} ({exc})") from None
    if a.ndim != ndim:
        raise ConfigError(f"{name}: expected {what}, found shape {a.shape}")
    if shape is not None and a.shape != shape:
        raise ConfigError(f"{name}: expected shape {shape} to match {like}, found {a.shape}")
    bad = np.isinf(a)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ConfigError(f"{name}: expected finite values or NaN, found {a[tuple(where)]} at index {tuple(where)}")
    return a


def _prices(name: str, value: object, n: int) -> np.ndarray:
    a = _array(name, value, (n,), 1, "a (rows,) array")
    bad = a <= 0.0  # NaN compares False: NaN means no benchmark bar on that row
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ConfigError(f"{name}: expected prices > 0 or NaN, found {a[row]} at row {row}")
    return a


def _window(window_bars: object, min_obs: object) -> tuple[int, int]:
    w = _int_param("window_bars", window_bars, 2, None, ">= 2 rows")
    k = _int_param("min_obs", min_obs, 2, w, f"in 2..window_bars ({w})")
    return w, k


def benchmark_returns(bench_close: np.ndarray) -> np.ndarray:
    """Close-to-close simple returns on the row grid; NaN on row 0 and where either close is NaN."""
    c = np.asarray(bench_close, dtype=np.float64)
    out = np.full(c.shape, np.nan)
    if len(c) > 1:
        out[1:] = c[1:] / c[:-1] - 1.0
    return out


def rolling_beta(
    asset_returns: np.ndarray, bench_returns: np.ndarray, *, window_bars: int = 60, min_obs: int = 20
) -> np.ndarray:
    """(n, m) rolling betas of each column of ``asset_returns`` to ``bench_returns`` (see the module rules)."""
    w, k = _window(window_bars, min_obs)
    x = _array("asset_returns", asset_returns, None, 2, "a (rows, instruments) array")
    y = _array("bench_returns", bench_returns, (x.shape[0],), 1, "a (rows,) array", like="asset_returns")
    return nb.rolling_beta(x, y, w, k, FALLBACK_BETA, np.empty(x.shape))


def beta_neutral_hedge(
    position_value: np.ndarray,
    asset_returns: np.ndarray,
    bench_open: np.ndarray,
    bench_close: np.ndarray,
    equity: np.ndarray,
    *,
    window_bars: int = 60,
    min_obs: int = 20,
    rebalance_band: float = 0.02,
    fee_bps: float = 1.0,
    half_spread_bps: float = 1.0,
    lot: float = 1.0,
) -> HedgeResult:
    """Hedge the portfolio's beta dollars with the benchmark, decided at each close, filled at the next open.

    ``position_value`` (n, m): signed market value of each position at each row's close (NaN: no bar);
    ``asset_returns`` (n, m): simple close-to-close returns (NaN: unknown); ``bench_open``/``bench_close``
    (n,): the benchmark on the same rows (NaN: no bar, no trade); ``equity`` (n,): the portfolio's
    equity at each close, the base of ``rebalance_band`` (NaN: no decision that row). Raises
    ``ConfigError`` naming the argument on a bad shape or value.
    """
    pv = _array("position_value", position_value, None, 2, "a (rows, instruments) array")
    n, m = pv.shape
    rets = _array("asset_returns", asset_returns, (n, m), 2, "a (rows, instruments) array")
    b_open = _prices("bench_open", bench_open, n)
    b_close = _prices("bench_close", bench_close, n)
    eq = _array("equity", equity, (n,), 1, "a (rows,) array")
    w, k = _window(window_bars, min_obs)
    band = _float_param("rebalance_band", rebalance_band, 0.0, math.inf, "a share of equity >= 0")
    fee = _float_param("fee_bps", fee_bps, 0.0, 1000.0, "0..1000 basis points")
    spread = _float_param("half_spread_bps", half_spread_bps, 0.0, 1000.0, "0..1000 basis points")
    lot_size = _float_param("lot", lot, 0.0, math.inf, "a unit size >= 0 (0: fractional units)")

    beta = nb.rolling_beta(rets, benchmark_returns(b_close), w, k, FALLBACK_BETA, np.empty((n, m)))
    units = np.empty(n)
    pnl = np.empty(n)
    costs = np.empty(n)
    beta_dollars = np.empty(n)
    f_row = np.empty(n, dtype=np.int64)
    f_decided = np.empty(n, dtype=np.int64)
    f_units = np.empty(n)
    f_price = np.empty(n)
    f_comm = np.empty(n)
    f_spread = np.empty(n)
    count = nb.hedge_path(
        pv, beta, b_open, b_close, eq, band, fee / 1e4, spread / 1e4, lot_size,
        units, pnl, costs, beta_dollars, f_row, f_decided, f_units, f_price, f_comm, f_spread,
    )  # fmt: skip
    fills = np.empty(count, dtype=HEDGE_FILL_DTYPE)
    fills["row"] = f_row[:count]
    fills["decided_row"] = f_decided[:count]
    fills["units"] = f_units[:count]
    fills["price"] = f_price[:count]
    fills["commission"] = f_comm[:count]
    fills["spread"] = f_spread[:count]
    return HedgeResult(units=units, pnl=pnl, costs=costs, fills=fills, beta=beta, beta_dollars=beta_dollars)
