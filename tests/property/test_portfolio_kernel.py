"""The portfolio kernel equals its plain-Python reference over random portfolios, settings and data, and
conserves cash plus position value through every fill net of costs."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.backtest.arrays import run_signals
from quantdesk.backtest.kernel_io import KernelInputs, run_kernel
from quantdesk.kernels import portfolio_layout as L
from tests.reference.portfolio_reference import reference_portfolio


def _next_rows(valid: np.ndarray, delay: int) -> np.ndarray:
    """Per row, the ``delay``-th next row on which the instrument has a bar (-1 when none)."""
    n, m = valid.shape
    out = np.full((n, m), -1, dtype=np.int64)
    for j in range(m):
        rows = np.flatnonzero(valid[:, j])
        pos = np.searchsorted(rows, np.arange(n), side="right") + delay
        ok = pos < len(rows)
        out[ok, j] = rows[pos[ok]]
    return out


@st.composite
def portfolio_case(draw: st.DrawFn) -> tuple[dict[str, np.ndarray], np.ndarray]:
    n = draw(st.integers(min_value=3, max_value=90))
    m = draw(st.integers(min_value=1, max_value=3))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**31 - 1)))
    vol = draw(st.sampled_from([0.005, 0.02, 0.05]))
    close = np.round(40 * np.exp(np.cumsum(rng.normal(0, vol, (n, m)), axis=0)), 2)
    open_ = np.round(close * np.exp(rng.normal(0, vol / 2, (n, m))), 2)
    spread = np.abs(rng.normal(0, vol, (n, m))) * close
    high = np.round(np.maximum(open_, close) + spread, 2)
    low = np.round(np.maximum(np.minimum(open_, close) - spread, 0.05), 2)
    volume = np.round(rng.uniform(0, 5000, (n, m)))
    holes = rng.random((n, m)) < (0.15 if m > 1 else 0.0)
    holes[0, 0] = False  # instrument 0 starts the grid; the others may start later (NaN marks until then)
    holes[-1] = False
    for a in (open_, high, low, close, volume):
        a[holes] = np.nan
    valid = ~holes
    p_sig = draw(st.floats(min_value=0.05, max_value=0.5))

    def sig() -> np.ndarray:
        return (rng.random((n, m)) < p_sig) & valid

    both = draw(st.booleans())
    atr = close * rng.uniform(0.005, 0.05, (n, m))
    atr[:2] = np.nan
    g = dict(
        open=open_, high=high, low=low, close=close, volume=volume,
        long_entry=sig(), long_exit=sig(),
        short_entry=sig() if both else np.zeros((n, m), bool), short_exit=sig() if both else np.zeros((n, m), bool),
        atr_stop=atr, atr_trail=atr * 1.1, atr_chandelier=atr * 0.9, vol_measure=atr,
        expansion=(rng.random((n, m)) < 0.2) & valid,
        swing_low=low * (1 - rng.uniform(0, 0.03, (n, m))), swing_high=high * (1 + rng.uniform(0, 0.03, (n, m))),
        adv=rng.uniform(1000, 200_000, (n, m)), sigma_bar=rng.uniform(0, 0.02, (n, m)),
        sigma_daily=rng.uniform(0, 0.04, (n, m)), win_probability=rng.uniform(0.2, 0.8, (n, m)),
        returns=rng.normal(0, 0.01, (n, m)) + rng.normal(0, 0.01, (n, 1)),
        arrival=_next_rows(valid, draw(st.sampled_from([0, 0, 1]))),
        day_id=np.arange(n) // draw(st.sampled_from([1, 3, 1000])),
        lot=np.array([draw(st.sampled_from([1.0, 10.0, 0.5])) for _ in range(m)]),
        tick=np.array([draw(st.sampled_from([0.01, 0.05])) for _ in range(m)]),
        margin=np.array([draw(st.sampled_from([1.0, 0.5, 0.25])) for _ in range(m)]),
        sector=np.array([draw(st.sampled_from([-1, 0, 1])) for _ in range(m)], dtype=np.int64),
    )  # fmt: skip
    p = L.default_params()
    p[L.P_INITIAL_CASH] = draw(st.sampled_from([5_000.0, 100_000.0]))
    p[L.P_SIZING] = draw(st.sampled_from([0, 1, 2]))
    p[L.P_FRACTION] = draw(st.sampled_from([0.2, 0.5, 1.0]))
    p[L.P_FRACTION_CAP] = draw(st.sampled_from([0.1, 0.5, 1.0]))
    p[L.P_TARGET_RISK] = draw(st.sampled_from([0.005, 0.02]))
    p[L.P_KELLY_SCALE] = draw(st.sampled_from([0.25, 1.0]))
    p[L.P_KELLY_SOURCE] = draw(st.sampled_from([0, 1]))
    p[L.P_INVVOL_RISK] = draw(st.sampled_from([0.0, 0.0, 0.01]))
    p[L.P_LOSS_STREAK] = draw(st.sampled_from([0, 2, 3]))
    p[L.P_LOSS_MULT] = 0.5
    p[L.P_EXPANSION_MULT] = draw(st.sampled_from([1.0, 0.5]))
    p[L.P_STOP_TYPE] = draw(st.sampled_from([0, 1, 2, 3]))
    p[L.P_STOP_FROM_SWING] = draw(st.sampled_from([0, 1]))
    p[L.P_STOP_OFFSET_ATR] = draw(st.sampled_from([0.0, 1.0, 2.0]))
    p[L.P_MAX_RISK_FRAC] = draw(st.sampled_from([0.01, 0.02, 0.1]))
    p[L.P_TP_TYPE] = draw(st.sampled_from([0, 1, 2]))
    p[L.P_TP_VALUE] = draw(st.sampled_from([0.02, 1.5, 2.0]))
    p[L.P_TRAIL_ACTIVATION_R] = draw(st.sampled_from([0.0, 0.5, 1.5]))
    p[L.P_TRAIL_DISTANCE_ATR] = draw(st.sampled_from([1.0, 2.0]))
    p[L.P_CHANDELIER_ATR] = draw(st.sampled_from([0.0, 3.0]))
    p[L.P_TIME_MAX_BARS] = draw(st.sampled_from([0, 2, 5]))
    p[L.P_TIME_IF_NOT_PROFITABLE] = draw(st.sampled_from([0, 1]))
    p[L.P_TIGHTEN_BARS] = draw(st.sampled_from([0, 2]))
    p[L.P_TIGHTEN_FRAC] = 0.5
    p[L.P_WIDEN_MULT] = draw(st.sampled_from([1.0, 1.5]))
    p[L.P_ORDER_TYPE] = draw(st.sampled_from([0, 1, 2, 3]))
    p[L.P_TOLERANCE] = draw(st.sampled_from([0.0, 0.001, 0.01]))
    p[L.P_PARTIAL_ACCEPT] = draw(st.sampled_from([0, 1]))
    p[L.P_TIF] = draw(st.sampled_from([0, 1, 2, 3]))
    p[L.P_HALF_SPREAD] = draw(st.sampled_from([0.0, 0.0002]))
    p[L.P_SLIP_COEF] = draw(st.sampled_from([0.0, 0.1]))
    p[L.P_IMPACT_COEF] = draw(st.sampled_from([0.0, 0.5]))
    p[L.P_PARTICIPATION] = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    p[L.P_THROUGH_TICKS] = draw(st.sampled_from([0, 1]))
    p[L.P_COMM_RATE] = draw(st.sampled_from([0.0, 0.0005]))
    p[L.P_COMM_PER_SHARE] = draw(st.sampled_from([0.0, 0.005]))
    p[L.P_COMM_FIXED] = draw(st.sampled_from([0.0, 1.0]))
    p[L.P_COMM_MIN] = draw(st.sampled_from([0.0, 1.0]))
    p[L.P_COMM_MAX_FRAC] = draw(st.sampled_from([0.0, 0.01]))
    p[L.P_MAX_POSITIONS] = draw(st.sampled_from([0, 1, 2]))
    p[L.P_MAX_CORRELATED] = draw(st.sampled_from([0, 1]))
    p[L.P_CORR_WINDOW] = 10
    p[L.P_MAX_SECTOR_FRAC] = draw(st.sampled_from([0.0, 0.3, 0.8]))
    p[L.P_DAILY_LOSS_FRAC] = draw(st.sampled_from([0.0, 0.01]))
    p[L.P_MAX_ADV_FRAC] = draw(st.sampled_from([0.0, 0.01]))
    p[L.P_SIZE_AT_DECISION] = draw(st.sampled_from([0.0, 1.0]))
    p[L.P_RECORD_PATHS] = 1.0
    # the beta hedge, on in a third of the cases: a benchmark with rows of its own missing, betas of either sign
    bench_close = np.round(100 * np.exp(np.cumsum(rng.normal(0, vol, n))), 2)
    bench_open = np.round(bench_close * np.exp(rng.normal(0, vol / 2, n)), 2)
    bench_holes = rng.random(n) < 0.1
    bench_open[bench_holes] = np.nan
    bench_close[bench_holes] = np.nan
    g.update(beta=rng.uniform(-0.5, 2.0, (n, m)), bench_open=bench_open, bench_close=bench_close)
    p[L.P_HEDGE] = draw(st.sampled_from([0.0, 1.0]))
    p[L.P_HEDGE_BAND] = draw(st.sampled_from([0.0, 0.005, 0.05]))
    p[L.P_HEDGE_FEE_RATE] = draw(st.sampled_from([0.0, 0.0005]))
    p[L.P_HEDGE_HALF_SPREAD] = draw(st.sampled_from([0.0, 0.001]))
    p[L.P_HEDGE_LOT] = draw(st.sampled_from([0.0, 1.0, 5.0]))
    p[L.P_HEDGE_MARGIN] = draw(st.sampled_from([1.0, 0.5]))
    return g, p


def _inputs(g: dict[str, np.ndarray]) -> KernelInputs:
    return KernelInputs(
        open=g["open"], high=g["high"], low=g["low"], close=g["close"], volume=g["volume"],
        long_entry=g["long_entry"], long_exit=g["long_exit"], short_entry=g["short_entry"], short_exit=g["short_exit"],
        atr_stop=g["atr_stop"], atr_trail=g["atr_trail"], atr_chandelier=g["atr_chandelier"],
        vol_measure=g["vol_measure"], expansion=g["expansion"], swing_low=g["swing_low"], swing_high=g["swing_high"],
        adv=g["adv"], sigma_bar=g["sigma_bar"], sigma_daily=g["sigma_daily"], win_probability=g["win_probability"],
        returns=g["returns"], arrival=g["arrival"], day_id=g["day_id"], lot=g["lot"], tick=g["tick"],
        margin=g["margin"], sector=g["sector"], beta=g["beta"], bench_open=g["bench_open"],
        bench_close=g["bench_close"],
    )  # fmt: skip


def _same(a: float, b: float) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-7))


def _assert_records_equal(got: np.ndarray, want: list[dict], what: str) -> None:
    assert len(got) == len(want), f"{what}: {len(got)} vs reference {len(want)}"
    for k, (g_rec, w_rec) in enumerate(zip(got, want, strict=True)):
        for name, value in w_rec.items():
            assert _same(float(g_rec[name]), float(value)), f"{what}[{k}].{name}: {g_rec[name]} vs {value}"


@settings(max_examples=400, deadline=None)
@given(portfolio_case())
def test_portfolio_kernel_equals_reference(case: tuple[dict[str, np.ndarray], np.ndarray]) -> None:
    g, p = case
    out = run_kernel(_inputs(g), p)
    ref = reference_portfolio(g, p)
    np.testing.assert_allclose(out.equity, ref["equity"], rtol=1e-9, atol=1e-6)
    _assert_records_equal(out.trades, ref["trades"], "trades")
    _assert_records_equal(out.fills, ref["fills"], "fills")
    _assert_records_equal(out.orders, ref["orders"], "orders")
    _assert_records_equal(out.events, ref["events"], "events")
    _assert_records_equal(out.hedge_fills, ref["hedge_fills"], "hedge_fills")
    if p[L.P_HEDGE] > 0:
        np.testing.assert_allclose(out.hedge, np.array(ref["hedge_path"]).reshape(-1, L.N_H), rtol=1e-9, atol=1e-6)
    else:
        assert out.hedge.shape == (0, L.N_H) and ref["hedge_path"] == []


@settings(max_examples=200, deadline=None)
@given(portfolio_case())
def test_every_fill_conserves_value_net_of_costs(case: tuple[dict[str, np.ndarray], np.ndarray]) -> None:
    """Cash plus positions marked at the fill's reference price moves by exactly minus the fill's costs."""
    g, p = case
    out = run_kernel(_inputs(g), p)
    m = g["open"].shape[1]
    cash = p[L.P_INITIAL_CASH]
    qty = np.zeros(m)
    for f in out.fills:
        side, q, price, ref = int(f["side"]), float(f["qty"]), float(f["price"]), float(f["reference_price"])
        j = int(f["inst"])
        before = cash + qty[j] * ref
        cash += -side * q * price - float(f["commission"])
        qty[j] += side * q
        after = cash + qty[j] * ref
        implicit = float(f["spread_slippage"]) + float(f["impact"])
        if not math.isnan(float(f["reference_price"])):
            # a limit filled at its price or better carries no implicit cost; otherwise price - ref is the cost
            assert np.isclose(before - after, float(f["commission"]) + q * side * (price - ref), atol=1e-6)
            assert implicit >= -1e-9
            assert np.isclose(implicit, max(q * side * (price - ref), 0.0), atol=1e-6)
    # the hedge's fills pay out of the same cash
    hedge_units = float(out.hedge_fills["units"].sum())
    cash -= float((out.hedge_fills["units"] * out.hedge_fills["price"] + out.hedge_fills["commission"]).sum())
    # and the kernel's own cash path ends where the fills say
    assert np.isclose(out.cash[-1], cash, rtol=1e-12, atol=1e-6)
    marks = np.array([g["close"][~np.isnan(g["close"][:, j]), j][-1] for j in range(m)])
    bench = np.column_stack([g["bench_open"], g["bench_close"]]).ravel()
    bench_mark = bench[~np.isnan(bench)][-1] if hedge_units else 0.0
    assert np.isclose(out.equity[-1], cash + float(qty @ marks) + hedge_units * bench_mark, rtol=1e-12, atol=1e-6)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=2, max_value=150), st.integers(min_value=0, max_value=2**31 - 1), st.booleans(),
       st.sampled_from([0.3, 1.0]), st.sampled_from([0.0, 5.0, 100.0]), st.sampled_from([1.0, 10.0]))  # fmt: skip
def test_fast_path_equals_portfolio_kernel(n: int, seed: int, both: bool, fraction: float, fee_bps: float,
                                           lot: float) -> None:  # fmt: skip
    """The fast path (``run_signals``) and the portfolio kernel agree trade for trade under the settings they share."""
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    open_ = close * np.exp(rng.normal(0, 0.01, n))
    sig = [rng.random(n) < 0.3 for _ in range(4)]
    if not both:
        sig[2][:] = False
        sig[3][:] = False
    fast = run_signals(open_, close, *sig, fraction=fraction, fee_bps=fee_bps, lot_size=lot, initial_cash=10_000.0)
    p = L.default_params()
    p[L.P_INITIAL_CASH] = 10_000.0
    p[L.P_FRACTION] = fraction
    p[L.P_COMM_RATE] = fee_bps / 10_000.0
    full = run_kernel(
        KernelInputs(open=open_, high=np.maximum(open_, close), low=np.minimum(open_, close), close=close,
                     long_entry=sig[0], long_exit=sig[1], short_entry=sig[2], short_exit=sig[3], lot=np.array([lot])),
        p,
    )  # fmt: skip
    np.testing.assert_allclose(fast.equity, full.equity, rtol=1e-12, atol=1e-8)
    assert len(fast.trades) == len(full.trades)
    for name in ("direction", "decided_row", "entry_row", "exit_row", "exit_reason", "bars_held"):
        np.testing.assert_array_equal(fast.trades[name], full.trades[name], err_msg=name)
    for name in ("qty", "entry_price", "exit_price", "commission", "pnl"):
        np.testing.assert_allclose(fast.trades[name], full.trades[name], rtol=1e-12, atol=1e-8, err_msg=name)
