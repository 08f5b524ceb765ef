"""Hand-built sizing scenarios for the portfolio kernel: every sizing rule and size multiplier, to the share.

Every expected number is worked out by hand in a comment from the rules in the kernel's docstring and
docs/backtest.md ("Sizing"). One instrument, 10,000 of cash, no costs: the budget is a share of the
equity at the fill, divided by the fill's reference price (the open of a market order), down to whole lots.
"""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.backtest.kernel_io import KernelInputs, KernelOutput, run_kernel
from quantdesk.kernels import portfolio_layout as L

# bar:                 0       1       2       3       4
BASE = {
    "open": np.array([100.0, 100.00, 101.00, 102.00, 103.00]),
    "high": np.array([100.5, 101.00, 102.00, 103.00, 104.00]),
    "low": np.array([99.5, 99.50, 100.50, 101.50, 102.50]),
    "close": np.array([100.0, 100.80, 101.80, 102.80, 103.80]),
}


def run(params: dict[int, float], *, bars: dict[str, list[float]] | None = None, entries: tuple[int, ...] = (0,),
        exits: tuple[int, ...] = (), **evidence: np.ndarray) -> KernelOutput:  # fmt: skip
    """One instrument; long entry signals at the rows ``entries``, exit signals at ``exits``."""
    b = BASE | {k: np.asarray(v, dtype=np.float64) for k, v in (bars or {}).items()}
    n = len(b["open"])
    entry = np.isin(np.arange(n), entries)
    exit_ = np.isin(np.arange(n), exits)
    p = L.default_params()
    p[L.P_INITIAL_CASH] = 10_000.0
    for slot, value in params.items():
        p[slot] = value
    return run_kernel(
        KernelInputs(open=b["open"], high=b["high"], low=b["low"], close=b["close"], long_entry=entry,
                     long_exit=exit_, **evidence),
        p,
    )  # fmt: skip


def only_trade(out: KernelOutput) -> np.void:
    assert len(out.trades) == 1
    return out.trades[0]


def test_fixed_fraction_below_one() -> None:
    # a third of the equity: floor(0.3333 x 10,000 / 100.00) = floor(33.33) = 33
    out = run({L.P_FRACTION: 0.3333})
    t = only_trade(out)
    assert (t["entry_row"], t["entry_price"], t["qty"]) == (1, 100.00, 33.0)
    assert out.equity[1] == pytest.approx(10_000 + 33 * (100.80 - 100.00))  # the rest stays in cash


def test_fixed_fraction_is_a_share_of_the_equity_at_the_fill() -> None:
    # first trade: floor(0.5 x 10,000 / 100.00) = 50, out at bar 2's open of 101.00: +50.00, equity 10,050;
    # second, decided at bar 2, filled at bar 3's open of 102.00: floor(0.5 x 10,050 / 102.00) = floor(49.26) = 49
    out = run({L.P_FRACTION: 0.5}, entries=(0, 2), exits=(1,))
    assert list(out.trades["qty"]) == [50.0, 49.0]
    assert out.trades[0]["pnl"] == pytest.approx(50.00)


def test_kelly_takes_p_from_the_running_win_rate_with_a_laplace_prior() -> None:
    # b = 2 R (target 2 R over a 2 % stop); half Kelly.
    #   first entry, no closed trade yet: p = (0 + 1) / (0 + 2) = 0.5; f = (0.5 x 2 - 0.5) / 2 = 0.25; half: 0.125
    #     -> floor(0.125 x 10,000 / 100.00) = floor(12.5) = 12; out at bar 2's open 101.00: a win of 12.00
    #   second entry, one win in one trade: p = (1 + 1) / (1 + 2) = 2/3; f = (2/3 x 2 - 1/3) / 2 = 0.5; half: 0.25
    #     -> floor(0.25 x 10,012 / 101.00) = floor(24.78) = 24 (the posterior array's 0.9 is ignored)
    params = {L.P_SIZING: L.SIZING_KELLY, L.P_KELLY_SOURCE: 1.0, L.P_KELLY_SCALE: 0.5, L.P_STOP_TYPE: L.STOP_PERCENT,
              L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE, L.P_TP_VALUE: 2.0}  # fmt: skip
    bars = {"open": [100.0, 100.0, 101.0, 101.0, 101.0], "high": [100.5, 101.0, 101.5, 101.5, 101.5],
            "low": [99.5, 99.5, 100.5, 100.5, 100.5], "close": [100.0, 101.0, 101.0, 101.0, 101.0]}  # fmt: skip
    out = run(params, bars=bars, entries=(0, 2), exits=(1,), win_probability=np.full(5, 0.9))
    assert list(out.trades["qty"]) == [12.0, 24.0]
    assert list(out.trades["entry_row"]) == [1, 3]
    assert out.trades[0]["pnl"] == pytest.approx(12 * (101.00 - 100.00))


def test_kelly_is_capped_at_the_fraction_cap() -> None:
    # p = 0.6, b = 2: f = (0.6 x 2 - 0.4) / 2 = 0.4, full Kelly 0.4 capped at 0.2 -> floor(0.2 x 10,000 / 100.00) = 20
    params = {L.P_SIZING: L.SIZING_KELLY, L.P_KELLY_SCALE: 1.0, L.P_FRACTION_CAP: 0.2, L.P_STOP_TYPE: L.STOP_PERCENT,
              L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE, L.P_TP_VALUE: 2.0}  # fmt: skip
    assert only_trade(run(params, win_probability=np.full(5, 0.6)))["qty"] == 20.0


def test_inverse_volatility_caps_the_size() -> None:
    # 1 % of equity per unit of the volatility measure at the decision bar (2.50; the later 0.10 is not used):
    # 10,000 x 0.01 / 2.50 = 40 units, under the value budget's 100
    vol = np.array([2.5, 0.1, 0.1, 0.1, 0.1])
    assert only_trade(run({L.P_INVVOL_RISK: 0.01}, vol_measure=vol))["qty"] == 40.0


def test_size_is_cut_after_a_streak_of_losses() -> None:
    # every bar opens at 100.00 and trades down to 98.50 through the 1 % stop at 99.00: each trade is stopped out
    # on its entry bar. Cut by 0.5 after 2 consecutive losses:
    #   trade 1: floor(10,000 / 100.00) = 100, loses 100 x 1.00 -> 9,900 (streak 1)
    #   trade 2: decided after one loss, full size: floor(9,900 / 100.00) = 99, loses 99.00 -> 9,801 (streak 2)
    #   trade 3: decided after two: floor(9,801 / 100.00 x 0.5) = floor(49.005) = 49
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.01, L.P_LOSS_STREAK: 2, L.P_LOSS_MULT: 0.5}
    bars = {"open": [100.0] * 4, "high": [100.5] * 4, "low": [98.5] * 4, "close": [100.0] * 4}
    out = run(params, bars=bars, entries=(0, 1, 2))
    assert list(out.trades["qty"]) == [100.0, 99.0, 49.0]
    assert list(out.trades["exit_price"]) == [99.00, 99.00, 99.00]
    assert list(out.trades["exit_reason"]) == [L.R_STOP_LOSS] * 3


def test_size_is_cut_in_atr_expansion() -> None:
    # the expansion flag at the decision bar: 100 x 0.5 = 50
    expansion = np.array([True, False, False, False, False])
    assert only_trade(run({L.P_EXPANSION_MULT: 0.5}, expansion=expansion))["qty"] == 50.0


def test_size_is_not_cut_without_expansion_at_the_decision() -> None:
    # the flag set only after the decision bar leaves the size alone: floor(10,000 / 100.00) = 100
    expansion = np.array([False, True, True, True, True])
    assert only_trade(run({L.P_EXPANSION_MULT: 0.5}, expansion=expansion))["qty"] == 100.0
