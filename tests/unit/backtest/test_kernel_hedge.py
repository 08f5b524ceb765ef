"""The beta hedge stepped in the portfolio kernel: its fills and path are ``hedge_path``'s rules fed the run's own
positions and equity, and its PnL reaches the daily loss limit, the sizing and the margin of later entries."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.backtest.kernel_io import KernelInputs, KernelOutput, run_kernel
from quantdesk.core.errors import ConfigError
from quantdesk.kernels import hedge as nb
from quantdesk.kernels import portfolio_layout as L

N = 40
JUMP = 20  # the benchmark gaps up 10 % at this row's open while the two stocks stay where they are


def _market() -> dict[str, np.ndarray]:
    close = np.full((N, 2), 100.0)
    bench = np.full(N, 100.0)
    bench[JUMP:] = 110.0
    long_entry = np.zeros((N, 2), dtype=bool)
    long_entry[0, 0] = True  # A: bought at row 1's open, held to the end
    long_entry[JUMP, 1] = True  # B: decided at the close of the benchmark's jump
    return {"close": close, "bench": bench, "long_entry": long_entry}


def _run(hedge: bool, *, daily_loss: float = 0.0, hedge_margin: float = 0.0, at_decision: bool = True) -> KernelOutput:
    g = _market()
    c = g["close"]
    p = L.default_params()
    p[L.P_FRACTION] = 0.45
    p[L.P_DAILY_LOSS_FRAC] = daily_loss
    p[L.P_SIZE_AT_DECISION] = 1.0 if at_decision else 0.0
    p[L.P_RECORD_PATHS] = 1.0
    p[L.P_HEDGE] = 1.0 if hedge else 0.0
    p[L.P_HEDGE_MARGIN] = hedge_margin
    p[L.P_HEDGE_BAND] = 0.05  # re-set only when off by more than 5 % of equity: the jump's 4,500 leaves it as it is
    inputs = KernelInputs(
        open=c, high=c, low=c, close=c, long_entry=g["long_entry"], long_exit=np.zeros((N, 2), dtype=bool),
        day_id=np.arange(N), beta=np.ones((N, 2)), bench_open=g["bench"], bench_close=g["bench"],
    )  # fmt: skip
    return run_kernel(inputs, p)


def test_the_hedge_shorts_the_beta_dollars_at_the_next_open_and_carries_its_pnl_in_the_equity() -> None:
    out = _run(True)
    # A: 450 shares at 100 (45 % of 100,000) from row 1; the hedge decides at row 1's close, fills at row 2's open
    assert out.trades["qty"][0] == 450.0
    f = out.hedge_fills
    assert (f["row"][0], f["decided_row"][0], f["units"][0], f["price"][0]) == (2, 1, -450.0, 100.0)
    # the benchmark's 10 % gap costs the short 450 * 10 in the account's own equity, from the jump's close
    assert out.equity[JUMP - 1] == 100_000.0
    assert out.equity[JUMP] == 100_000.0 - 4_500.0
    assert out.hedge[JUMP, L.H_PNL] == -4_500.0
    assert out.hedge[JUMP, L.H_UNITS] == -450.0
    plain = _run(False)
    assert plain.equity[JUMP] == 100_000.0


def test_the_hedges_loss_reaches_the_daily_loss_limit() -> None:
    hedged = _run(True, daily_loss=0.03)
    plain = _run(False, daily_loss=0.03)
    # 4.5 % lost on the jump's day by the hedge alone: B's entry decided at that close is refused
    denied = hedged.events[hedged.events["check"] == L.D_DAILY_LOSS]
    assert len(denied) == 1 and (denied["row"][0], denied["inst"][0]) == (JUMP, 1)
    assert denied["value"][0] == pytest.approx(-0.045)
    assert len(hedged.trades) == 1
    assert len(plain.events) == 0 and len(plain.trades) == 2


def test_the_hedges_pnl_reaches_the_sizing_of_a_later_entry() -> None:
    hedged = _run(True)
    plain = _run(False)
    # B sized at its decision close on the account's equity, the hedge's loss included (the hedge holds no margin)
    assert hedged.trades["qty"][1] == np.floor(0.45 * (100_000.0 - 4_500.0) / 100.0) == 429.0
    assert len(hedged.events) == 0
    assert plain.trades["qty"][1] == 450.0


def test_the_hedges_value_is_held_as_margin_against_a_later_entry() -> None:
    # B sized at its fill (row 21's open) on 45 % of the equity, 95,500: 429 shares; held against it: A's 45,000
    # (a cash account) and the hedge's |-450 * 110| = 49,500 times its margin rate
    for rate, room, qty in ((1.0, 1_000.0, 10.0), (0.5, 25_750.0, 257.0)):
        out = _run(True, hedge_margin=rate, at_decision=False)
        margin = out.events[out.events["check"] == L.D_MARGIN]
        assert len(margin) == 1 and margin["action"][0] == L.ACTION_RESIZED, rate
        assert (margin["value"][0], margin["limit"][0]) == (429.0, qty) == (429.0, np.floor(room / 100.0)), rate
        assert out.trades["qty"][1] == qty, rate
    free = _run(True, hedge_margin=0.0, at_decision=False)
    assert len(free.events) == 0 and free.trades["qty"][1] == 429.0


def test_the_kernels_hedge_is_hedge_path_fed_the_runs_own_positions_and_equity() -> None:
    rng = np.random.default_rng(11)
    n, m = 300, 3
    bench_ret = rng.normal(0.0003, 0.01, n)
    bench_close = 100.0 * np.cumprod(1.0 + bench_ret)
    bench_open = np.r_[100.0, bench_close[:-1]] * (1.0 + rng.normal(0, 0.002, n))
    close = 50.0 * np.cumprod(1.0 + 1.2 * bench_ret[:, None] + rng.normal(0, 0.01, (n, m)), axis=0)
    open_ = np.vstack([close[:1], close[:-1]]) * (1.0 + rng.normal(0, 0.002, (n, m)))
    high = np.maximum(open_, close) * 1.002
    low = np.minimum(open_, close) * 0.998
    long_entry = rng.random((n, m)) < 0.1
    long_exit = rng.random((n, m)) < 0.05
    beta = rng.uniform(0.5, 1.8, (n, m))
    p = L.default_params()
    p[L.P_FRACTION] = 0.3
    p[L.P_RECORD_PATHS] = 1.0
    p[L.P_HEDGE] = 1.0
    p[L.P_HEDGE_BAND] = 0.01
    p[L.P_HEDGE_FEE_RATE] = 0.0001
    p[L.P_HEDGE_HALF_SPREAD] = 0.0002
    p[L.P_HEDGE_MARGIN] = 0.5
    out = run_kernel(KernelInputs(open=open_, high=high, low=low, close=close, long_entry=long_entry,
                                  long_exit=long_exit, beta=beta, bench_open=bench_open,
                                  bench_close=bench_close), p)  # fmt: skip
    assert len(out.hedge_fills) > 10
    marks = close  # every instrument has a bar on every row
    value = np.where(out.qty != 0.0, out.qty * marks, 0.0)
    units, pnl, costs, bd = (np.empty(n) for _ in range(4))
    rows, decided, qty, price, comm, spread = (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
                                               *(np.empty(n) for _ in range(4)))  # fmt: skip
    k = nb.hedge_path(value, beta, bench_open, bench_close, out.equity, 0.01, 0.0001, 0.0002, 0.0, units, pnl, costs,
                      bd, rows, decided, qty, price, comm, spread)  # fmt: skip
    assert k == len(out.hedge_fills)
    np.testing.assert_array_equal(out.hedge_fills["row"], rows[:k])
    np.testing.assert_array_equal(out.hedge_fills["decided_row"], decided[:k])
    np.testing.assert_allclose(out.hedge_fills["units"], qty[:k], rtol=1e-12)
    np.testing.assert_allclose(out.hedge_fills["price"], price[:k], rtol=1e-15)
    np.testing.assert_allclose(out.hedge[:, L.H_UNITS], units, rtol=1e-12)
    np.testing.assert_allclose(out.hedge[:, L.H_PNL], pnl, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(out.hedge[:, L.H_COSTS], costs, rtol=1e-12)
    np.testing.assert_allclose(out.hedge[:, L.H_BETA_DOLLARS], bd, rtol=1e-12)


def test_the_hedge_on_without_its_inputs_is_refused() -> None:
    c = np.full((5, 1), 100.0)
    p = L.default_params()
    p[L.P_HEDGE] = 1.0
    with pytest.raises(ConfigError, match="beta, bench_open, bench_close: the beta hedge"):
        run_kernel(KernelInputs(open=c, high=c, low=c, close=c, long_entry=c > 0, long_exit=c < 0), p)
    with pytest.raises(ConfigError, match=r"bench_close: expected shape \(5,\)"):
        run_kernel(KernelInputs(open=c, high=c, low=c, close=c, long_entry=c > 0, long_exit=c < 0,
                                beta=np.ones((5, 1)), bench_open=np.ones(5), bench_close=np.ones(4)), p)  # fmt: skip
