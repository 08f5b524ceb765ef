"""Hand-built exit scenarios for the portfolio kernel: every stop, target, trail and time rule, to the cent.

Every expected number is worked out by hand in a comment from the rules in the kernel's docstring and
docs/backtest.md. One instrument, 10,000 of cash, fixed fraction 1.0, no costs unless a test says so:
an entry decided at row 0's close of 100.00 fills at row 1's open of 100.00 for floor(10,000 / 100.00) = 100.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.backtest.kernel_io import KernelInputs, KernelOutput, run_kernel
from quantdesk.kernels import portfolio_layout as L

# bar:                 0       1       2       3       4       5
BASE = {
    "open": np.array([100.0, 100.00, 101.00, 102.00, 103.00, 104.00]),
    "high": np.array([100.5, 101.00, 102.00, 103.00, 104.00, 105.00]),
    "low": np.array([99.5, 99.50, 100.50, 101.50, 102.50, 103.50]),
    "close": np.array([100.0, 100.80, 101.80, 102.80, 103.80, 104.80]),
}


def run(params: dict[int, float], *, bars: dict[str, list[float]] | None = None, entry_at: int = 0,
        exit_at: int | None = None, short: bool = False, **evidence: np.ndarray) -> KernelOutput:  # fmt: skip
    """One instrument; an entry signal at ``entry_at`` (long, or short), an exit signal at ``exit_at``."""
    b = BASE | {k: np.asarray(v, dtype=np.float64) for k, v in (bars or {}).items()}
    n = len(b["open"])
    entry = np.zeros(n, dtype=bool)
    entry[entry_at] = True
    exit_ = np.zeros(n, dtype=bool)
    if exit_at is not None:
        exit_[exit_at] = True
    none = np.zeros(n, dtype=bool)
    p = L.default_params()
    p[L.P_INITIAL_CASH] = 10_000.0
    p[L.P_RECORD_PATHS] = 1.0
    for slot, value in params.items():
        p[slot] = value
    return run_kernel(
        KernelInputs(open=b["open"], high=b["high"], low=b["low"], close=b["close"],
                     long_entry=none if short else entry, long_exit=none if short else exit_,
                     short_entry=entry if short else None, short_exit=exit_ if short else None,
                     **evidence),
        p,
    )  # fmt: skip


def only_trade(out: KernelOutput) -> np.void:
    assert len(out.trades) == 1
    return out.trades[0]


def stop_path(out: KernelOutput) -> list[float | None]:
    """The active stop after each row's decisions, None while flat or without a stop."""
    return [None if math.isnan(s) else float(s) for s in out.stop[:, 0]]


# ---- stops ------------------------------------------------------------------------------------------


def test_technical_stop_sits_under_the_swing_low_less_its_atr_offset() -> None:
    # swing low 98.00 at the decision, ATR 2.00, offset 0.5 ATR: 98.00 - 0.5 x 2.00 = 97.00, inside the
    # 5 % bound of 95.00; bar 2 trades down to 96.80 from a 100.50 open: out at the stop, 97.00
    params = {L.P_STOP_TYPE: L.STOP_TECHNICAL, L.P_STOP_FROM_SWING: 1.0, L.P_STOP_OFFSET_ATR: 0.5,
              L.P_MAX_RISK_FRAC: 0.05}  # fmt: skip
    bars = {"open": [100.0, 100.0, 100.5, 99.0, 99.0, 99.0], "low": [99.5, 99.5, 96.8, 98.5, 98.5, 98.5]}
    t = only_trade(run(params, bars=bars, swing_low=np.full(6, 98.0), atr_stop=np.full(6, 2.0)))
    assert (t["entry_row"], t["entry_price"], t["qty"]) == (1, 100.00, 100.0)
    assert (t["initial_stop"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (97.00, 2, 97.00, L.R_STOP_LOSS)
    assert t["initial_risk"] == pytest.approx(100 * 3.00)  # 100 x (100.00 - 97.00)
    assert t["pnl"] == pytest.approx(-300.00)


def test_technical_stop_is_bounded_by_max_risk_frac_when_the_swing_is_too_far() -> None:
    # swing low 90.00 less 0.5 x 2.00 = 89.00 is below the bound 100.00 x (1 - 0.05) = 95.00: the stop is 95.00;
    # bar 2's low of 96.00 does not reach it, bar 3's 94.50 does (open 99.00 above it): out at 95.00
    params = {L.P_STOP_TYPE: L.STOP_TECHNICAL, L.P_STOP_FROM_SWING: 1.0, L.P_STOP_OFFSET_ATR: 0.5,
              L.P_MAX_RISK_FRAC: 0.05}  # fmt: skip
    bars = {"open": [100.0, 100.0, 100.5, 99.0, 99.0, 99.0], "low": [99.5, 99.5, 96.0, 94.5, 98.5, 98.5]}
    t = only_trade(run(params, bars=bars, swing_low=np.full(6, 90.0), atr_stop=np.full(6, 2.0)))
    assert (t["initial_stop"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (95.00, 3, 95.00, L.R_STOP_LOSS)
    assert t["pnl"] == pytest.approx(100 * (95.00 - 100.00))


def test_atr_stop_is_its_multiple_of_the_decision_bar_atr_under_the_entry() -> None:
    # 1.5 x ATR 2.00 (row 0, the decision bar; the later 5.00 is not used) under the 100.00 fill = 97.00
    params = {L.P_STOP_TYPE: L.STOP_ATR, L.P_STOP_OFFSET_ATR: 1.5}
    bars = {"open": [100.0, 100.0, 100.5, 99.0, 99.0, 99.0], "low": [99.5, 99.5, 96.8, 98.5, 98.5, 98.5]}
    t = only_trade(run(params, bars=bars, atr_stop=np.array([2.0, 5.0, 5.0, 5.0, 5.0, 5.0])))
    assert (t["initial_stop"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (97.00, 2, 97.00, L.R_STOP_LOSS)
    assert t["initial_risk"] == pytest.approx(100 * 3.00)


def test_stop_is_widened_by_the_expansion_multiple_when_the_decision_bar_is_expanded() -> None:
    # ATR stop 1.0 x 2.00, widened 1.5 x while the expansion flag is set at the decision: 100.00 - 3.00 = 97.00
    # (unwidened it would be 98.00 and bar 2's low of 97.50 would have taken it); bar 3's 96.80 does: out at 97.00
    params = {L.P_STOP_TYPE: L.STOP_ATR, L.P_STOP_OFFSET_ATR: 1.0, L.P_WIDEN_MULT: 1.5}
    bars = {"open": [100.0, 100.0, 100.0, 99.0, 99.0, 99.0], "low": [99.5, 99.5, 97.5, 96.8, 98.5, 98.5]}
    expansion = np.array([True, False, False, False, False, False])
    t = only_trade(run(params, bars=bars, atr_stop=np.full(6, 2.0), expansion=expansion))
    assert t["qty"] == 100.0  # the expansion size multiplier is left at 1
    assert (t["initial_stop"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (97.00, 3, 97.00, L.R_STOP_LOSS)


def test_short_stop_sits_above_the_entry() -> None:
    # short 100 at 100.00; 2 % stop above: 102.00; target 2 R below: 96.00. Bar 2 trades up to 102.30: out at 102.00
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE, L.P_TP_VALUE: 2.0}
    bars = {"open": [100.0, 100.0, 100.5, 101.0, 101.0, 101.0], "high": [100.5, 101.0, 102.3, 101.5, 101.5, 101.5],
            "low": [99.5, 99.5, 100.0, 100.5, 100.5, 100.5]}  # fmt: skip
    out = run(params, bars=bars, short=True)
    t = only_trade(out)
    assert (t["direction"], t["entry_row"], t["entry_price"], t["qty"]) == (-1, 1, 100.00, 100.0)
    assert (t["initial_stop"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (102.00, 2, 102.00, L.R_STOP_LOSS)
    assert [f["side"] for f in out.fills] == [-1, 1]  # sold short, bought back
    assert t["pnl"] == pytest.approx(100 * (100.00 - 102.00))


def test_short_target_sits_below_the_entry() -> None:
    # the same short: bar 2 trades down to 95.80, through the 96.00 target (100.00 - 2 x 2.00): out at 96.00
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE, L.P_TP_VALUE: 2.0}
    bars = {
        "open": [100.0, 100.0, 99.0, 97.0, 97.0, 97.0],
        "high": [100.5, 101.0, 99.5, 97.5, 97.5, 97.5],
        "low": [99.5, 99.5, 95.8, 96.5, 96.5, 96.5],
        "close": [100.0, 100.8, 97.0, 97.0, 97.0, 97.0],
    }
    t = only_trade(run(params, bars=bars, short=True))
    assert (t["direction"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (-1, 2, 96.00, L.R_TAKE_PROFIT)
    assert t["pnl"] == pytest.approx(100 * (100.00 - 96.00))
    assert t["pnl"] / t["initial_risk"] == pytest.approx(2.0)


# ---- targets ----------------------------------------------------------------------------------------


def test_percent_take_profit() -> None:
    # target 100.00 x 1.03 = 103.00. Bar 1 (the entry bar) reaches 103.20 but on the entry bar only the stop is
    # checked; bar 2's high of 103.50 goes through it: out at 103.00
    params = {L.P_TP_TYPE: L.TP_PERCENT, L.P_TP_VALUE: 0.03}
    bars = {"high": [100.5, 103.2, 103.5, 103.0, 104.0, 105.0]}
    t = only_trade(run(params, bars=bars))
    assert (t["exit_row"], t["exit_price"], t["exit_reason"]) == (2, 103.00, L.R_TAKE_PROFIT)
    assert t["pnl"] == pytest.approx(100 * 3.00)
    assert math.isnan(t["initial_stop"])  # a target without a stop


# ---- trailing and chandelier ------------------------------------------------------------------------


def test_trailing_stop_arms_at_its_activation_r_then_trails_its_atr_distance() -> None:
    # 2 % stop: 98.00, so 1 R = 2.00. Armed once the best high is 1 R up (102.00); then 1.5 x ATR 1.00 under it.
    #   bar 1 close: best 101.00, +1.00 < 1 R: not armed, stop 98.00 (armed it would be 99.50)
    #   bar 2 close: best 103.00, +3.00 >= 2.00: armed; 103.00 - 1.50 = 101.50
    #   bar 3: low 101.80 stays above 101.50; close: best 104.00 -> 102.50
    #   bar 4: low 102.00 <= 102.50 (open 103.50 above): out at 102.50, reason trailing stop
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.02, L.P_TRAIL_ACTIVATION_R: 1.0,
              L.P_TRAIL_DISTANCE_ATR: 1.5}  # fmt: skip
    bars = {
        "open": [100.0, 100.0, 101.0, 102.5, 103.5, 102.0],
        "high": [100.5, 101.0, 103.0, 104.0, 103.8, 102.5],
        "low": [99.5, 99.5, 100.5, 101.8, 102.0, 101.5],
        "close": [100.0, 100.8, 102.5, 103.5, 102.2, 102.0],
    }
    out = run(params, bars=bars, atr_trail=np.full(6, 1.0))
    t = only_trade(out)
    assert stop_path(out) == [None, 98.00, 101.50, 102.50, None, None]
    assert (t["exit_row"], t["exit_price"], t["exit_reason"]) == (4, 102.50, L.R_TRAILING_STOP)
    assert t["initial_stop"] == 98.00
    assert t["pnl"] == pytest.approx(100 * 2.50)


def test_chandelier_hangs_its_atr_multiple_under_the_highest_high_since_entry() -> None:
    # no stop rule; 2.5 x ATR 1.00 = 2.50 under the highest high since the entry:
    #   bar 1: 101.00 -> 98.50; bar 2: 103.50 -> 101.00; bar 3's high 103.00 is lower: still 101.00
    #   bar 4: low 100.80 <= 101.00 (open 102.00): out at 101.00, reason chandelier
    params = {L.P_CHANDELIER_ATR: 2.5}
    bars = {
        "open": [100.0, 100.0, 101.0, 102.5, 102.0, 101.0],
        "high": [100.5, 101.0, 103.5, 103.0, 102.2, 101.5],
        "low": [99.5, 99.5, 100.5, 101.5, 100.8, 100.5],
        "close": [100.0, 100.8, 103.0, 102.2, 101.0, 101.0],
    }
    out = run(params, bars=bars, atr_chandelier=np.full(6, 1.0))
    t = only_trade(out)
    assert stop_path(out) == [None, 98.50, 101.00, 101.00, None, None]
    assert (t["exit_row"], t["exit_price"], t["exit_reason"]) == (4, 101.00, L.R_CHANDELIER)
    assert t["pnl"] == pytest.approx(100 * 1.00)


def test_chandelier_is_widened_only_while_the_expansion_flag_is_set() -> None:
    # 2 x ATR 1.00, times 1.5 on an expanded bar:
    #   bar 1: 101.00 - 2.00 = 99.00; bar 2 (expanded): 103.00 - 3.00 = 100.00 (unwidened 101.00)
    #   bar 3: low 100.50 stays above 100.00 (it would have hit 101.00); not expanded: 103.00 - 2.00 = 101.00
    #   bar 4: low 100.80 <= 101.00: out at 101.00
    params = {L.P_CHANDELIER_ATR: 2.0, L.P_WIDEN_MULT: 1.5}
    bars = {
        "open": [100.0, 100.0, 101.0, 102.5, 102.0, 101.0],
        "high": [100.5, 101.0, 103.0, 102.8, 102.2, 101.5],
        "low": [99.5, 99.5, 100.5, 100.5, 100.8, 100.5],
        "close": [100.0, 100.8, 102.5, 102.2, 101.0, 101.0],
    }
    expansion = np.array([False, False, True, False, False, False])
    out = run(params, bars=bars, atr_chandelier=np.full(6, 1.0), expansion=expansion)
    t = only_trade(out)
    assert stop_path(out) == [None, 99.00, 100.00, 101.00, None, None]
    assert (t["exit_row"], t["exit_price"], t["exit_reason"]) == (4, 101.00, L.R_CHANDELIER)


# ---- time rules -------------------------------------------------------------------------------------


def test_time_stop_if_not_profitable_stays_while_in_profit() -> None:
    # 2 bars held at bar 2's close of 101.80 > 100.00: in profit, it stays, and every later close is higher
    t = only_trade(run({L.P_TIME_MAX_BARS: 2, L.P_TIME_IF_NOT_PROFITABLE: 1.0}))
    assert (t["exit_row"], t["exit_reason"], t["bars_held"]) == (-1, L.R_END_OF_DATA, 5)
    assert t["exit_price"] == 104.80  # marked at the last close


def test_time_stop_if_not_profitable_leaves_when_not_in_profit() -> None:
    # bar 1 closes at 100.80 (1 bar held); bar 2 at 99.80 <= 100.00 with 2 bars held: out at bar 3's open, 99.50
    bars = {"open": [100.0, 100.0, 101.0, 99.5, 99.0, 99.0], "low": [99.5, 99.5, 99.5, 99.0, 98.5, 98.5],
            "close": [100.0, 100.8, 99.8, 99.6, 99.2, 99.2]}  # fmt: skip
    out = run({L.P_TIME_MAX_BARS: 2, L.P_TIME_IF_NOT_PROFITABLE: 1.0}, bars=bars)
    t = only_trade(out)
    assert (t["exit_row"], t["exit_price"], t["exit_reason"], t["bars_held"]) == (3, 99.50, L.R_TIME_STOP, 2)
    assert (out.orders[1]["decided_row"], out.orders[1]["reason"]) == (2, L.R_TIME_STOP)
    assert t["pnl"] == pytest.approx(100 * (99.50 - 100.00))


def test_stop_tightens_after_bars_without_profit() -> None:
    # 5 % stop: 95.00. Every 2 bars held without profit it moves half the way to the close:
    #   bar 1 close 99.50 (1 bar held): unchanged, 95.00
    #   bar 2 close 99.00 (2 bars, 99.00 <= 100.00): 95.00 + 0.5 x (99.00 - 95.00) = 97.00, a time-decay stop
    #   bar 3: low 96.50 (open 98.80 above): out at 97.00, reason time decay stop
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.05, L.P_TIGHTEN_BARS: 2, L.P_TIGHTEN_FRAC: 0.5}
    bars = {
        "open": [100.0, 100.0, 99.5, 98.8, 98.0, 98.0],
        "high": [100.5, 100.5, 99.8, 99.0, 98.5, 98.5],
        "low": [99.5, 99.0, 98.6, 96.5, 97.5, 97.5],
        "close": [100.0, 99.5, 99.0, 97.5, 98.0, 98.0],
    }
    out = run(params, bars=bars)
    t = only_trade(out)
    assert stop_path(out) == [None, 95.00, 97.00, None, None, None]
    assert (t["initial_stop"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (
        95.00,
        3,
        97.00,
        L.R_TIME_DECAY_STOP,
    )
    assert t["pnl"] == pytest.approx(100 * (97.00 - 100.00))


def test_stop_does_not_tighten_while_in_profit() -> None:
    # the same rule on the rising default bars: every close is above 100.00, the stop stays at 95.00
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.05, L.P_TIGHTEN_BARS: 2, L.P_TIGHTEN_FRAC: 0.5}
    out = run(params)
    assert stop_path(out) == [None, 95.00, 95.00, 95.00, 95.00, 95.00]
    assert only_trade(out)["exit_reason"] == L.R_END_OF_DATA


# ---- signal exit ------------------------------------------------------------------------------------


def test_signal_exit_fills_at_the_next_open() -> None:
    # exit signal at bar 2's close: a market exit at bar 3's open, 102.00
    out = run({}, exit_at=2)
    t = only_trade(out)
    assert (t["exit_row"], t["exit_price"], t["exit_reason"], t["bars_held"]) == (3, 102.00, L.R_SIGNAL_EXIT, 2)
    assert (out.fills[1]["side"], out.fills[1]["qty"], out.fills[1]["order_id"]) == (-1, 100.0, 1)
    assert (out.orders[1]["decided_row"], out.orders[1]["status"], out.orders[1]["final_row"]) == (2, L.OS_FILLED, 3)
    assert t["pnl"] == pytest.approx(100 * (102.00 - 100.00))
