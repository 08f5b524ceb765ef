"""The portfolio kernel steps: driving ``init_state`` and the steps one row at a time from Python, with the state
copied away and back between two rows, gives the same records as ``simulate_portfolio`` in one call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.backtest import kernel_io
from quantdesk.backtest.kernel_io import run_kernel
from quantdesk.kernels.portfolio import (
    end_of_data,
    init_state,
    record_paths,
    step_decide,
    step_fills,
    step_hedge_decide,
    step_hedge_fill,
    step_mark,
)
from tests.property.test_portfolio_kernel import _inputs, portfolio_case


def _stepped(pause_at: int) -> Any:
    """A stand-in for ``simulate_portfolio`` (same arguments) that steps each row from Python and, before row
    ``pause_at``, carries on from a copy of the state, as a session holding it between bars would."""

    def run(
        open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray,
        long_entry: np.ndarray, long_exit: np.ndarray, short_entry: np.ndarray, short_exit: np.ndarray,
        atr_stop: np.ndarray, atr_trail: np.ndarray, atr_chand: np.ndarray, vol_measure: np.ndarray,
        expansion: np.ndarray, swing_low: np.ndarray, swing_high: np.ndarray, adv: np.ndarray,
        sigma_bar: np.ndarray, sigma_daily: np.ndarray, win_p: np.ndarray, ret: np.ndarray,
        arrival: np.ndarray, day_id: np.ndarray, lot: np.ndarray, tick: np.ndarray, margin: np.ndarray,
        sector: np.ndarray, beta: np.ndarray, bench_open: np.ndarray, bench_close: np.ndarray, p: np.ndarray,
        equity_out: np.ndarray, cash_out: np.ndarray, qty_path: np.ndarray, stop_path: np.ndarray,
        hedge_out: np.ndarray, trades: np.ndarray, fills: np.ndarray, orders: np.ndarray, events: np.ndarray,
        hedge_fills: np.ndarray, counts: np.ndarray,
    ) -> None:  # fmt: skip
        fs, is_, af, ai = init_state(open_.shape[1], p)
        for t in range(open_.shape[0]):
            if t == pause_at:
                fs, is_, af, ai = fs.copy(), is_.copy(), af.copy(), ai.copy()
            step_hedge_fill(af, ai, t, bench_open, p, hedge_fills)
            step_fills(fs, is_, af, ai, t, open_, high, low, volume, atr_stop, expansion, swing_low, swing_high,
                       adv, sigma_bar, sigma_daily, day_id, lot, tick, margin, p, trades, fills, orders,
                       events)  # fmt: skip
            step_mark(fs, af, ai, t, close, bench_close, day_id, p, equity_out, cash_out)
            step_hedge_decide(fs, af, ai, t, beta, bench_close, p, hedge_out)
            step_decide(fs, is_, af, ai, t, high, low, close, long_entry, long_exit, short_entry, short_exit,
                        atr_stop, atr_trail, atr_chand, vol_measure, expansion, swing_low, swing_high, win_p, ret,
                        arrival, day_id, lot, tick, sector, adv, p, orders, events)  # fmt: skip
            record_paths(fs, t, p, qty_path, stop_path)
        end_of_data(fs, is_, ai, trades, fills, orders, events, hedge_fills, counts)

    return run


@settings(max_examples=60, deadline=None)
@given(portfolio_case(), st.integers(min_value=0, max_value=100))
def test_stepping_row_by_row_with_a_held_state_equals_one_call(
    case: tuple[dict[str, np.ndarray], np.ndarray], pause_at: int
) -> None:
    g, p = case
    whole = run_kernel(_inputs(g), p)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kernel_io, "simulate_portfolio", _stepped(pause_at))
        stepped = run_kernel(_inputs(g), p)
    for name in ("equity", "cash", "qty", "stop", "trades", "fills", "orders", "events", "hedge", "hedge_fills"):
        assert getattr(stepped, name).tobytes() == getattr(whole, name).tobytes(), name
