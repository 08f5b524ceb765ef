"""The beta-neutral hedge: its numba kernels equal the plain-Python reference, a run on the first k rows
equals the first k rows of a run on all of them (no look-ahead), and no fill is on its decision's row."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.kernels import hedge as nb
from quantdesk.risk.hedge import FALLBACK_BETA, benchmark_returns, beta_neutral_hedge
from tests.reference.hedge_reference import reference_hedge_path, reference_rolling_beta


@st.composite
def hedge_case(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=80))
    m = draw(st.integers(min_value=1, max_value=3))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**31 - 1)))
    hole_rate = draw(st.sampled_from([0.0, 0.1, 0.3]))
    bench_ret = rng.normal(0.0, 0.01, n)
    if draw(st.booleans()):
        bench_ret[: n // 2] = 0.002  # a flat stretch: the degenerate-variance fallback
    bench_close = np.round(100.0 * np.cumprod(1.0 + bench_ret), 2)
    bench_open = np.round(np.concatenate([[100.0], bench_close[:-1]]) * (1 + rng.normal(0, 0.003, n)), 2)
    no_bar = rng.random(n) < hole_rate
    bench_open[no_bar] = np.nan
    bench_close[no_bar & (rng.random(n) < 0.8)] = np.nan  # mostly both, sometimes only the open missing
    asset_ret = rng.uniform(-1.0, 2.0, m) * benchmark_returns(bench_close)[:, None] + rng.normal(0, 0.01, (n, m))
    asset_ret[rng.random((n, m)) < hole_rate] = np.nan
    asset_ret[0] = np.nan
    position = rng.choice([-1.0, 0.0, 1.0], (n, m)) * rng.uniform(1_000.0, 50_000.0, (n, m))
    position = np.where(rng.random((n, m)) < 0.7, np.nan, position)  # held for a while: NaN is the last value
    equity = 100_000.0 + np.cumsum(rng.normal(0, 500.0, n))
    equity[rng.random(n) < hole_rate / 3] = np.nan
    window = draw(st.integers(min_value=2, max_value=12))
    return {
        "position_value": position, "asset_returns": asset_ret, "bench_open": bench_open,
        "bench_close": bench_close, "equity": equity, "window_bars": window,
        "min_obs": draw(st.integers(min_value=2, max_value=window)),
        "rebalance_band": draw(st.sampled_from([0.0, 0.005, 0.05])),
        "fee_bps": draw(st.sampled_from([0.0, 1.0, 12.5])),
        "half_spread_bps": draw(st.sampled_from([0.0, 2.0])),
        "lot": draw(st.sampled_from([0.0, 1.0, 0.5, 10.0])),
    }  # fmt: skip


def _conditioning(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """mean(y^2) / var(y) over each window's known pairs (1 where there are none or var(y) is 0)."""
    n, m = x.shape
    out = np.ones((n, m))
    for t in range(n):
        for j in range(m):
            ys = [y[s] for s in range(max(0, t - window + 1), t + 1) if not np.isnan(x[s, j]) and not np.isnan(y[s])]
            if ys:
                var = float(np.var(ys))
                out[t, j] = float(np.mean(np.square(ys))) / var if var > 0.0 else 1.0
    return out


@settings(max_examples=300, deadline=None)
@given(hedge_case())
def test_kernels_equal_the_reference(case: dict[str, Any]) -> None:
    x, y = case["asset_returns"], benchmark_returns(case["bench_close"])
    w, k = case["window_bars"], case["min_obs"]
    beta = nb.rolling_beta(x, y, w, k, FALLBACK_BETA, np.empty(x.shape))
    want = reference_rolling_beta(x, y, w, k, FALLBACK_BETA)
    # running sums against two passes: the error grows with mean(y^2) / var(y), which a nearly flat benchmark
    # (just above the degenerate cut of 1e-12) makes large; the tolerance follows the window's conditioning
    rtol = 1e-7 + 1e-13 * _conditioning(x, y, w)
    assert np.all(np.abs(beta - want) <= 1e-9 + rtol * np.abs(want)), np.max(np.abs(beta - want) / np.abs(want))

    r = beta_neutral_hedge(**case)
    np.testing.assert_array_equal(r.beta, beta)
    args = (case["position_value"], beta, case["bench_open"], case["bench_close"], case["equity"])
    costs = (case["rebalance_band"], case["fee_bps"] / 1e4, case["half_spread_bps"] / 1e4, case["lot"])
    ref = reference_hedge_path(*args, *costs)
    for name in ("units", "pnl", "costs", "beta_dollars"):
        np.testing.assert_allclose(getattr(r, name), ref[name], rtol=1e-12, atol=1e-9, err_msg=name)
    fills = ref["fills"]
    assert isinstance(fills, list)
    assert len(r.fills) == len(fills)
    for got, want in zip(r.fills.tolist(), fills, strict=True):
        assert got[:2] == want[:2]
        np.testing.assert_allclose(got[2:], want[2:], rtol=1e-12, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(hedge_case(), st.data())
def test_a_run_on_the_first_k_rows_equals_the_first_k_rows_of_the_full_run(case: dict[str, Any], data: Any) -> None:
    n = len(case["bench_close"])
    k = data.draw(st.integers(min_value=0, max_value=n))
    full = beta_neutral_hedge(**case)
    cut = beta_neutral_hedge(**{key: v[:k] if isinstance(v, np.ndarray) else v for key, v in case.items()})
    for name in ("units", "pnl", "costs", "beta_dollars", "beta"):
        np.testing.assert_array_equal(getattr(cut, name), getattr(full, name)[:k], err_msg=name)
    np.testing.assert_array_equal(cut.fills, full.fills[full.fills["row"] < k])
    assert np.all(full.fills["row"] > full.fills["decided_row"])  # never filled on the row that decided it
    # the cash identity: pnl is minus what the fills paid, plus the units marked at the last known price
    if len(full.fills):
        paid = np.sum(full.fills["units"] * full.fills["price"] + full.fills["commission"])
        prices = np.column_stack([case["bench_open"], case["bench_close"]]).ravel()  # open, close, open, ...
        last = prices[~np.isnan(prices)][-1]
        np.testing.assert_allclose(full.pnl[-1], -paid + full.units[-1] * last, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(full.units[-1], np.sum(full.fills["units"]), atol=1e-9)
