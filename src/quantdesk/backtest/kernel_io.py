"""The portfolio kernel's inputs and outputs as Python objects, and the one call that runs it.

``KernelInputs`` holds the ``(n_rows, n_instruments)`` grids the kernel reads. Evidence a run does
not use may be left out: it is passed as a ``(1, 1)`` NaN array that the kernel broadcasts, so a
plain crossover pays for no ATR, volume or volatility arrays. ``run_kernel`` sizes the record
buffers from the number of entry signals (a trade needs an entry order, an entry order needs an
entry signal), runs the kernel, and retries with larger buffers in the rare case partial fills
overflow them. With the beta hedge on (``P_HEDGE``), ``beta`` and the benchmark's ``bench_open`` and
``bench_close`` on the run's rows are inputs too, and the hedge's path and fills are outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.kernels.portfolio import simulate_portfolio
from quantdesk.kernels.portfolio_layout import (
    FILL_RECORD,
    HEDGE_FILL_RECORD,
    N_H,
    N_PARAMS,
    ORDER_RECORD,
    P_HEDGE,
    P_RECORD_PATHS,
    RISK_EVENT_RECORD,
    TRADE_RECORD,
)

_NAN11 = np.full((1, 1), np.nan)
_FALSE11 = np.zeros((1, 1), dtype=np.bool_)
_NO_ARRIVAL = np.zeros((1, 1), dtype=np.int64)
_NO_DAYS = np.zeros(1, dtype=np.int64)
_NO_BENCH = np.full(1, np.nan)


def _grid(a: np.ndarray | None, dtype: type = np.float64) -> np.ndarray:
    if a is None:
        return _FALSE11 if dtype is np.bool_ else _NAN11
    a = np.asarray(a, dtype=dtype)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    return np.ascontiguousarray(a)


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelInputs:
    """The kernel's grids; 1-D arrays are taken as one instrument. ``None`` evidence is broadcast NaN."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    long_entry: np.ndarray
    long_exit: np.ndarray
    short_entry: np.ndarray | None = None
    short_exit: np.ndarray | None = None
    volume: np.ndarray | None = None
    atr_stop: np.ndarray | None = None
    atr_trail: np.ndarray | None = None
    atr_chandelier: np.ndarray | None = None
    vol_measure: np.ndarray | None = None
    expansion: np.ndarray | None = None
    swing_low: np.ndarray | None = None
    swing_high: np.ndarray | None = None
    adv: np.ndarray | None = None
    sigma_bar: np.ndarray | None = None
    sigma_daily: np.ndarray | None = None
    win_probability: np.ndarray | None = None
    returns: np.ndarray | None = None
    arrival: np.ndarray | None = None  # row each decision's order arrives on; None: the next row
    day_id: np.ndarray | None = None  # session day per row; None: one day
    lot: np.ndarray | None = None
    tick: np.ndarray | None = None
    margin: np.ndarray | None = None
    sector: np.ndarray | None = None
    beta: np.ndarray | None = None  # (n, m) each instrument's beta to the benchmark, known at each row (the hedge)
    bench_open: np.ndarray | None = None  # (n,) the benchmark's open on each row, NaN without a bar (the hedge)
    bench_close: np.ndarray | None = None  # (n,) the benchmark's close on each row, NaN without a bar

    @property
    def shape(self) -> tuple[int, int]:
        o = np.asarray(self.open)
        return (o.shape[0], 1 if o.ndim == 1 else o.shape[1])


@dataclass(frozen=True, slots=True)
class KernelOutput:
    equity: np.ndarray  # (n,) at each row's close
    cash: np.ndarray  # (n,) or empty when paths were not recorded
    qty: np.ndarray  # (n, m) signed units, or empty
    stop: np.ndarray  # (n, m) active stop price (NaN flat), or empty
    trades: np.ndarray  # TRADE_RECORD
    fills: np.ndarray  # FILL_RECORD
    orders: np.ndarray  # ORDER_RECORD
    events: np.ndarray  # RISK_EVENT_RECORD
    hedge: np.ndarray  # (n, N_H) the hedge's path at each close (columns H_*), or (0, N_H) without the hedge
    hedge_fills: np.ndarray  # HEDGE_FILL_RECORD


_PER_INSTRUMENT = ("lot", "tick", "margin", "sector")
_REQUIRED = ("open", "high", "low", "close", "long_entry", "long_exit")
_HEDGE = ("beta", "bench_open", "bench_close")


def check_inputs(inputs: KernelInputs, params: np.ndarray) -> None:
    """Refuse grids the kernel cannot read: it does no bounds checks, so a wrong shape must stop here."""
    n, m = inputs.shape
    if n == 0 or m == 0:
        raise ConfigError(f"open: expected at least one row and one instrument, found shape {(n, m)}")
    if np.shape(params) != (N_PARAMS,):
        raise ConfigError(f"params: expected {N_PARAMS} values, found shape {np.shape(params)}")
    for f in fields(inputs):
        value = getattr(inputs, f.name)
        if value is None:
            continue
        shape = np.shape(value)
        if f.name in _PER_INSTRUMENT:
            ok = shape == (m,)
            want = f"({m},)"
        elif f.name in ("day_id", "bench_open", "bench_close"):
            ok = shape == (n,)
            want = f"({n},)"
        elif f.name in _REQUIRED or f.name in ("arrival", "beta"):
            ok = shape == (n, m) or (m == 1 and shape == (n,))
            want = f"({n}, {m})"
        else:  # evidence broadcasts like numpy: (n, m), (1, m), (n, 1) or (1, 1)
            rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (shape[0], 1) if len(shape) == 1 else (0, 0)
            ok = len(shape) in (1, 2) and rows in (1, n) and cols in (1, m)
            want = f"({n}, {m}) or broadcastable to it"
        if not ok:
            raise ConfigError(f"{f.name}: expected shape {want}, found {shape}")
    if params[P_HEDGE] > 0:
        missing = [name for name in _HEDGE if getattr(inputs, name) is None]
        if missing:
            raise ConfigError(f"{', '.join(missing)}: the beta hedge (params P_HEDGE) needs them, found none")
    if inputs.arrival is not None:
        arrival = np.asarray(inputs.arrival)
        if arrival.size and (arrival.max() >= n or arrival.min() < -1):
            raise ConfigError(f"arrival: expected row numbers in [-1, {n - 1}], found {arrival.min()}..{arrival.max()}")
    if inputs.day_id is not None and n > 1 and np.any(np.diff(np.asarray(inputs.day_id)) < 0):
        raise ConfigError("day_id: expected session days that never decrease along the rows")


def kernel_arrays(inputs: KernelInputs) -> tuple[np.ndarray, ...]:
    """The grids as the kernel reads them, in ``simulate_portfolio``'s argument order from ``open_`` to
    ``bench_close`` (contiguous, typed, absent evidence as the broadcast sentinels, no hedge as NaN sentinels); a
    paper session steps the same arrays."""
    n, m = inputs.shape
    never = np.zeros((n, m), dtype=np.bool_)
    arrival = _NO_ARRIVAL if inputs.arrival is None else np.ascontiguousarray(inputs.arrival, dtype=np.int64)
    if arrival.ndim == 1:
        arrival = arrival.reshape(-1, 1)
    return (
        _grid(inputs.open), _grid(inputs.high), _grid(inputs.low), _grid(inputs.close), _grid(inputs.volume),
        _grid(inputs.long_entry, np.bool_), _grid(inputs.long_exit, np.bool_),
        never if inputs.short_entry is None else _grid(inputs.short_entry, np.bool_),
        never if inputs.short_exit is None else _grid(inputs.short_exit, np.bool_),
        _grid(inputs.atr_stop), _grid(inputs.atr_trail), _grid(inputs.atr_chandelier), _grid(inputs.vol_measure),
        _grid(inputs.expansion, np.bool_), _grid(inputs.swing_low), _grid(inputs.swing_high), _grid(inputs.adv),
        _grid(inputs.sigma_bar), _grid(inputs.sigma_daily), _grid(inputs.win_probability), _grid(inputs.returns),
        arrival,
        _NO_DAYS if inputs.day_id is None else np.ascontiguousarray(inputs.day_id, dtype=np.int64),
        np.ones(m) if inputs.lot is None else np.ascontiguousarray(inputs.lot, dtype=np.float64),
        np.full(m, 0.01) if inputs.tick is None else np.ascontiguousarray(inputs.tick, dtype=np.float64),
        np.ones(m) if inputs.margin is None else np.ascontiguousarray(inputs.margin, dtype=np.float64),
        np.full(m, -1, dtype=np.int64) if inputs.sector is None
        else np.ascontiguousarray(inputs.sector, dtype=np.int64),
        _NAN11 if inputs.beta is None else np.ascontiguousarray(inputs.beta, dtype=np.float64).reshape(n, m),
        _NO_BENCH if inputs.bench_open is None else np.ascontiguousarray(inputs.bench_open, dtype=np.float64),
        _NO_BENCH if inputs.bench_close is None else np.ascontiguousarray(inputs.bench_close, dtype=np.float64),
    )  # fmt: skip


def run_kernel(inputs: KernelInputs, params: np.ndarray) -> KernelOutput:
    """Run the portfolio kernel once with the parameter vector ``params`` (shapes checked first)."""
    check_inputs(inputs, params)
    n, m = inputs.shape
    record = params[P_RECORD_PATHS] > 0
    arrays = kernel_arrays(inputs)
    long_entry, short_entry = arrays[5], arrays[7]
    entries = int(np.count_nonzero(long_entry)) + int(np.count_nonzero(short_entry))
    cap = entries + m + 8
    fill_cap = 2 * cap + 16
    p = np.ascontiguousarray(params, dtype=np.float64)
    hedged = p[P_HEDGE] > 0
    while True:
        equity = np.empty(n)
        cash = np.empty(n if record else 0)
        qty = np.empty((n, m) if record else (1, 1))
        stop = np.empty((n, m) if record else (1, 1))
        trades = np.empty(cap, dtype=TRADE_RECORD)
        fills = np.empty(fill_cap, dtype=FILL_RECORD)
        orders = np.empty(2 * cap, dtype=ORDER_RECORD)
        events = np.empty(3 * cap, dtype=RISK_EVENT_RECORD)
        hedge = np.empty((n, N_H) if hedged else (1, N_H))
        hedge_fills = np.empty(n if hedged else 0, dtype=HEDGE_FILL_RECORD)  # at most one a row
        counts = np.zeros(6, dtype=np.int64)
        simulate_portfolio(  # type: ignore[call-arg]  # mypy cannot count a tuple of grids spread into the call
            *arrays, p, equity, cash, qty, stop, hedge, trades, fills, orders, events, hedge_fills, counts
        )
        if counts[0] == 0:
            break
        fill_cap = max(fill_cap * 4, int(counts[2]) + 16)
        cap = max(cap, int(counts[1]) + 8, int(counts[3]) // 2 + 8, int(counts[4]) // 3 + 8)
    return KernelOutput(
        equity=equity,
        cash=cash,
        qty=qty if record else np.empty((0, m)),
        stop=stop if record else np.empty((0, m)),
        trades=trades[: counts[1]].copy(),
        fills=fills[: counts[2]].copy(),
        orders=orders[: counts[3]].copy(),
        events=events[: counts[4]].copy(),
        hedge=hedge if hedged else np.empty((0, N_H)),
        hedge_fills=hedge_fills[: counts[5]].copy(),
    )
