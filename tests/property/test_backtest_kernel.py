"""The numba backtest kernel equals its plain-Python reference, and conserves cash plus position value."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.kernels.backtest import TRADE_DTYPE, simulate_directional
from tests.reference.backtest_reference import reference_directional, reference_long_only


def run_directional(open_: np.ndarray, close: np.ndarray, long_entry: np.ndarray, long_exit: np.ndarray,
                    short_entry: np.ndarray, short_exit: np.ndarray, *, fraction: float, fee_rate: float,
                    lot_size: float, initial_cash: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The kernel's raw ``(equity, trades)``, as the reference states them."""
    n = len(open_)
    equity = np.empty(n, dtype=np.float64)
    trades = np.zeros(n + 1, dtype=TRADE_DTYPE)  # a reversal closes and opens on one bar
    count = simulate_directional(
        np.ascontiguousarray(open_, dtype=np.float64), np.ascontiguousarray(close, dtype=np.float64),
        np.ascontiguousarray(long_entry, dtype=np.bool_), np.ascontiguousarray(long_exit, dtype=np.bool_),
        np.ascontiguousarray(short_entry, dtype=np.bool_), np.ascontiguousarray(short_exit, dtype=np.bool_),
        float(fraction), float(fee_rate), float(lot_size), float(initial_cash), equity, trades,
    )  # fmt: skip
    return equity, trades[:count].copy()


def run_long_only(open_: np.ndarray, close: np.ndarray, entry: np.ndarray, exit_: np.ndarray,
                  **settings_: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    never = np.zeros(len(open_), dtype=np.bool_)
    return run_directional(open_, close, entry, exit_, never, never, **settings_)


@st.composite
def market(draw: st.DrawFn) -> dict:
    n = draw(st.integers(min_value=2, max_value=120))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    open_ = close * np.exp(rng.normal(0, 0.01, n))
    p_signal = draw(st.floats(min_value=0.0, max_value=0.6))
    return {
        "open_": open_,
        "close": close,
        "entry": rng.random(n) < p_signal,
        "exit_": rng.random(n) < p_signal,
        "fraction": draw(st.floats(min_value=0.05, max_value=1.0)),
        "fee_rate": draw(st.sampled_from([0.0, 0.0005, 0.01])),
        "lot_size": draw(st.sampled_from([1.0, 10.0, 0.5])),
        "initial_cash": draw(st.sampled_from([1_000.0, 100_000.0])),
    }


@settings(max_examples=300, deadline=None)
@given(market())
def test_kernel_equals_python_reference(m: dict) -> None:
    equity, trades = run_long_only(**m)
    ref_equity, ref_trades = reference_long_only(
        list(m["open_"]),
        list(m["close"]),
        list(m["entry"]),
        list(m["exit_"]),
        m["fraction"],
        m["fee_rate"],
        m["lot_size"],
        m["initial_cash"],
    )
    np.testing.assert_allclose(equity, ref_equity, rtol=1e-12, atol=1e-9)
    assert len(trades) == len(ref_trades)
    for got, want in zip(trades, ref_trades, strict=True):
        assert (int(got["entry_idx"]), int(got["exit_idx"])) == (want.entry_idx, want.exit_idx)
        assert int(got["direction"]) == want.direction == 1
        for field in ("qty", "entry_price", "exit_price", "entry_fee", "exit_fee", "pnl", "return_pct"):
            assert np.isclose(got[field], getattr(want, field), rtol=1e-12, atol=1e-9), field


@settings(max_examples=300, deadline=None)
@given(market(), st.integers(min_value=0, max_value=2**31 - 1))
def test_long_and_short_kernel_equals_python_reference(m: dict, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = len(m["open_"])
    short_entry, short_exit = rng.random(n) < 0.3, rng.random(n) < 0.3
    equity, trades = run_directional(
        m["open_"], m["close"], m["entry"], m["exit_"], short_entry, short_exit,
        fraction=m["fraction"], fee_rate=m["fee_rate"], lot_size=m["lot_size"], initial_cash=m["initial_cash"],
    )  # fmt: skip
    ref_equity, ref_trades = reference_directional(
        list(m["open_"]), list(m["close"]), list(m["entry"]), list(m["exit_"]), list(short_entry), list(short_exit),
        m["fraction"], m["fee_rate"], m["lot_size"], m["initial_cash"],
    )  # fmt: skip
    np.testing.assert_allclose(equity, ref_equity, rtol=1e-12, atol=1e-9)
    assert [(int(t["direction"]), int(t["entry_idx"]), int(t["exit_idx"])) for t in trades] == [
        (t.direction, t.entry_idx, t.exit_idx) for t in ref_trades
    ]
    for got, want in zip(trades, ref_trades, strict=True):
        for field in ("qty", "entry_price", "exit_price", "entry_fee", "exit_fee", "pnl", "return_pct"):
            assert np.isclose(got[field], getattr(want, field), rtol=1e-12, atol=1e-9), field
    assert np.isclose(equity[-1], m["initial_cash"] + trades["pnl"].sum(), rtol=1e-12, atol=1e-7)


def test_short_sale_profits_from_a_fall_and_reverses_on_a_long_entry() -> None:
    open_ = np.array([100.0, 100.0, 90.0, 80.0, 85.0, 90.0])
    close = np.array([100.0, 95.0, 85.0, 82.0, 88.0, 90.0])
    never = np.zeros(6, dtype=bool)
    short_entry = np.array([True, False, False, False, False, False])
    long_entry = np.array([False, False, True, False, False, False])
    equity, trades = run_directional(
        open_, close, long_entry, never, short_entry, never,
        fraction=1.0, fee_rate=0.0, lot_size=1.0, initial_cash=1000.0,
    )  # fmt: skip
    first, second = trades
    # short 10 at 100 (bar 1), covered at 80 (bar 3, decided at bar 2's close) and reversed long
    assert (first["direction"], first["entry_idx"], first["exit_idx"], first["qty"]) == (-1, 1, 3, 10.0)
    assert first["pnl"] == 200.0
    # long with the 1200 equity: floor(1200 / 80) = 15 units at 80, still open, marked at 90
    assert (second["direction"], second["entry_idx"], second["exit_idx"], second["qty"]) == (1, 3, -1, 15.0)
    np.testing.assert_allclose(equity, [1000.0, 1050.0, 1150.0, 1230.0, 1320.0, 1350.0])


@settings(max_examples=200, deadline=None)
@given(market())
def test_final_equity_is_initial_cash_plus_trade_pnl(m: dict) -> None:
    """Cash and position value are conserved: every unit of equity change is some trade's net PnL."""
    equity, trades = run_long_only(**m)
    assert np.isclose(equity[-1], m["initial_cash"] + trades["pnl"].sum(), rtol=1e-12, atol=1e-7)
    assert np.all(trades["qty"] % m["lot_size"] == 0)
    assert np.all(equity > 0)


def test_entry_decided_at_close_fills_at_next_open_never_same_bar() -> None:
    open_ = np.array([10.0, 11.0, 12.0, 13.0, 14.0])
    close = np.array([10.5, 11.5, 12.5, 13.5, 14.5])
    entry = np.array([True, False, False, False, False])
    exit_ = np.array([False, False, True, False, False])
    equity, trades = run_long_only(
        open_, close, entry, exit_, fraction=1.0, fee_rate=0.0, lot_size=1.0, initial_cash=1000.0
    )
    assert len(trades) == 1
    t = trades[0]
    assert (t["entry_idx"], t["exit_idx"]) == (1, 3)
    assert (t["entry_price"], t["exit_price"], t["qty"]) == (11.0, 13.0, 90.0)  # floor(1000 / 11) = 90
    assert t["pnl"] == 180.0
    np.testing.assert_allclose(equity, [1000.0, 1000 - 990 + 90 * 11.5, 1000 - 990 + 90 * 12.5, 1180.0, 1180.0])


def test_commission_charged_on_both_sides_and_open_trade_marked_at_last_close() -> None:
    open_ = np.array([100.0, 100.0, 110.0, 120.0])
    close = np.array([100.0, 105.0, 115.0, 125.0])
    entry = np.array([True, False, True, False])
    exit_ = np.array([False, True, False, False])
    _, trades = run_long_only(
        open_, close, entry, exit_, fraction=1.0, fee_rate=0.01, lot_size=1.0, initial_cash=10_000.0
    )
    first, second = trades
    # 10000 / (100 * 1.01) = 99.0099 -> 99 units; fee 99; exit at 110: fee 108.9
    assert (first["qty"], first["entry_fee"], round(first["exit_fee"], 6)) == (99.0, 99.0, 108.9)
    assert round(first["pnl"], 6) == round(99 * 110 - 108.9 - 99 * 100 - 99, 6)
    assert second["exit_idx"] == -1 and second["exit_fee"] == 0.0 and second["exit_price"] == 125.0
    assert second["entry_idx"] == 3
