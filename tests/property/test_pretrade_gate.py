"""The pre-trade gate decides what the kernel decides: stepping the portfolio kernel row by row from Python, every
entry the kernel decides at a close is asked of ``PreTradeGate`` on the state the kernel held at that moment, and
the gate's answer is the kernel's record (the denial's check, value and limit; the liquidity resize's event; the
order placed, with its size when orders are sized at the decision)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from quantdesk.backtest import kernel_io
from quantdesk.backtest.kernel_io import run_kernel
from quantdesk.kernels import portfolio_layout as L
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
from quantdesk.risk.pretrade import KernelState, PreTradeDecision, PreTradeGate
from tests.property.test_portfolio_kernel import _inputs, portfolio_case


def _at(a: np.ndarray, t: int, j: int) -> float:
    return float(a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0])


def _checked(seen: list[str | None]) -> Any:
    """A stand-in for ``simulate_portfolio`` (same arguments) that steps each row from Python and holds every
    entry decided at a close to the gate's answer; ``seen`` gets each compared entry's deciding check (None when
    allowed as asked)."""

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
        gate = PreTradeGate(p, lot, tick, sector)
        m = open_.shape[1]
        fs, is_, af, ai = init_state(m, p)

        def decide(state: KernelState, t: int, close_: np.ndarray, o: np.ndarray, e: np.ndarray) -> None:
            step_decide(*state, t, high, low, close_, long_entry, long_exit, short_entry, short_exit,
                        atr_stop, atr_trail, atr_chand, vol_measure, expansion, swing_low, swing_high, win_p, ret,
                        arrival, day_id, lot, tick, sector, adv, p, o, e)  # fmt: skip

        for t in range(open_.shape[0]):
            step_hedge_fill(af, ai, t, bench_open, p, hedge_fills)
            step_fills(fs, is_, af, ai, t, open_, high, low, volume, atr_stop, expansion, swing_low, swing_high,
                       adv, sigma_bar, sigma_daily, day_id, lot, tick, margin, p, trades, fills, orders,
                       events)  # fmt: skip
            step_mark(fs, af, ai, t, close, bench_close, day_id, p, equity_out, cash_out)
            step_hedge_decide(fs, af, ai, t, beta, bench_close, p, hedge_out)
            before = (fs.copy(), is_.copy(), af.copy(), ai.copy())
            n_ev, n_ord = int(ai[L.A_N_EVENTS]), int(ai[L.A_N_ORDERS])
            decide((fs, is_, af, ai), t, close, orders, events)
            # what the kernel recorded at this close, per instrument: its decision events and its entry order
            ev_by: dict[int, list[np.void]] = {}
            for k in range(n_ev, min(int(ai[L.A_N_EVENTS]), events.shape[0])):
                ev_by.setdefault(int(events[k]["inst"]), []).append(events[k])
            ord_by = {
                int(orders[k]["inst"]): orders[k]
                for k in range(n_ord, min(int(ai[L.A_N_ORDERS]), orders.shape[0]))
                if orders[k]["reason"] == L.R_ENTRY
            }
            if int(ai[L.A_N_EVENTS]) > events.shape[0] or int(ai[L.A_N_ORDERS]) > orders.shape[0]:
                continue  # buffers too small: the kernel's status asks for a retry with larger ones
            for j in sorted(set(ev_by) | set(ord_by)):
                want = 1 if long_entry[t, j] and before[1][j, L.I_DIR] <= 0 else -1
                # the state the kernel held on reaching instrument j: this close decided for instruments before j
                state = (before[0].copy(), before[1].copy(), before[2].copy(), before[3].copy())
                close_prefix = close.copy()
                close_prefix[t, j:] = np.nan
                decide(state, t, close_prefix, orders.copy(), events.copy())
                got = gate.check_entry(
                    state, j, t, want, close=float(close[t, j]), atr_stop=_at(atr_stop, t, j),
                    vol_measure=_at(vol_measure, t, j), expansion=_at(expansion, t, j),
                    swing_low=_at(swing_low, t, j), swing_high=_at(swing_high, t, j), win_probability=_at(win_p, t, j),
                    adv=_at(adv, t, j), returns=ret,
                )  # fmt: skip
                _assert_same(got, ev_by.get(j, []), ord_by.get(j), want, p[L.P_SIZE_AT_DECISION] > 0.0, (t, j))
                seen.append(got.check)
            record_paths(fs, t, p, qty_path, stop_path)
        end_of_data(fs, is_, ai, trades, fills, orders, events, hedge_fills, counts)

    return run


def _assert_same(
    got: PreTradeDecision, evs: list[np.void], order: np.void | None, want: int, sized: bool, where: Any
) -> None:
    assert len(evs) <= 1, where
    if evs:
        e = evs[0]
        assert got.check == L.CHECK_NAMES[int(e["check"])], where
        assert got.allowed == (int(e["action"]) == L.ACTION_RESIZED), where
        np.testing.assert_array_equal([got.value, got.limit], [e["value"], e["limit"]], err_msg=str(where))
    else:
        assert got.check is None, where
    assert got.allowed == (order is not None), where
    if order is not None:
        assert order["side"] == want, where
        if sized:
            assert got.units == order["qty"], where


@settings(max_examples=40, deadline=None)
@given(portfolio_case())
def test_the_gate_decides_every_entry_as_the_kernel(case: tuple[dict[str, np.ndarray], np.ndarray]) -> None:
    g, p = case
    whole = run_kernel(_inputs(g), p)
    seen: list[str | None] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kernel_io, "simulate_portfolio", _checked(seen))
        stepped = run_kernel(_inputs(g), p)
    assert stepped.events.tobytes() == whole.events.tobytes()
    assert stepped.orders.tobytes() == whole.orders.tobytes()
