"""Hand-built scenarios for the portfolio kernel: each order type, exit, sizing rule and risk limit, to the cent."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.backtest.kernel_io import KernelInputs, KernelOutput, run_kernel
from quantdesk.core.errors import ConfigError
from quantdesk.kernels import portfolio_layout as L

# bar:            0       1       2       3       4
OPEN = np.array([100.0, 100.00, 101.00, 102.00, 103.00])
HIGH = np.array([100.5, 101.00, 102.00, 103.00, 104.00])
LOW = np.array([99.5, 99.50, 100.50, 101.50, 102.50])
CLOSE = np.array([100.0, 100.80, 101.80, 102.80, 103.80])


def run(params: dict[int, float], *, bars: dict[str, np.ndarray] | None = None, entry_at: int = 0,
        **evidence: np.ndarray) -> KernelOutput:  # fmt: skip
    b = {"open": OPEN, "high": HIGH, "low": LOW, "close": CLOSE} | (bars or {})
    n = len(b["open"])
    entry = np.zeros(n, dtype=bool)
    entry[entry_at] = True
    p = L.default_params()
    p[L.P_INITIAL_CASH] = 10_000.0
    for slot, value in params.items():
        p[slot] = value
    return run_kernel(
        KernelInputs(open=b["open"], high=b["high"], low=b["low"], close=b["close"], long_entry=entry,
                     long_exit=np.zeros(n, dtype=bool), **evidence),  # type: ignore[arg-type]
        p,
    )  # fmt: skip


def only_trade(out: KernelOutput) -> np.void:
    assert len(out.trades) == 1
    return out.trades[0]


def test_market_order_fills_at_the_next_open() -> None:
    t = only_trade(run({}))
    assert (t["entry_row"], t["entry_price"], t["qty"]) == (1, 100.00, 100.0)  # floor(10,000 / 100.00)
    assert t["exit_row"] == -1 and t["exit_reason"] == L.R_END_OF_DATA
    assert t["pnl"] == pytest.approx(100 * (103.80 - 100.00))


def test_limit_order_fills_at_its_limit_when_traded_through() -> None:
    # decided at 100.00 close with 0.1 % tolerance: buy limit 100.10; bar 1 opens above it at 100.50 and trades
    # down to 99.50, through the limit, so it fills at 100.10
    bars = {"open": np.array([100.0, 100.50, 101.0, 102.0, 103.0])}
    out = run({L.P_ORDER_TYPE: L.ORDER_LIMIT, L.P_TOLERANCE: 0.001}, bars=bars)
    t = only_trade(out)
    assert (t["entry_row"], t["entry_price"]) == (1, 100.10)
    assert t["qty"] == 99.0  # floor(10,000 / 100.50): sized at the open, the reference before the fill
    assert out.fills[0]["reference_price"] == 100.10


def test_limit_order_that_is_not_reached_rests_and_a_day_order_expires() -> None:
    bars = {"open": np.array([100.0, 101.0, 101.0, 102.0, 103.0]), "low": np.array([99.5, 100.9, 100.5, 101.5, 102.5])}
    gtc = run({L.P_ORDER_TYPE: L.ORDER_LIMIT, L.P_TOLERANCE: 0.001}, bars=bars)
    assert len(gtc.trades) == 0 and gtc.orders[0]["status"] == L.OS_OPEN  # the low never trades through 100.10
    day = run({L.P_ORDER_TYPE: L.ORDER_LIMIT, L.P_TOLERANCE: 0.001, L.P_TIF: L.TIF_DAY}, bars=bars,
              day_id=np.array([0, 1, 2, 3, 4]))  # fmt: skip
    assert day.orders[0]["status"] == L.OS_EXPIRED and day.orders[0]["final_row"] == 2


def test_stop_entry_fills_at_the_open_when_gapped_through() -> None:
    # buy stop at 100.10 (close 100.00 + 0.1 %): bar 1 opens at 101.00, above it: filled at the open
    bars = {"open": np.array([100.0, 101.0, 101.0, 102.0, 103.0])}
    t = only_trade(run({L.P_ORDER_TYPE: L.ORDER_STOP, L.P_TOLERANCE: 0.001}, bars=bars))
    assert t["entry_price"] == 101.00


def test_stop_loss_gap_exits_at_the_open() -> None:
    # entry 100.00, 2 % stop at 98.00; bar 2 opens at 97.00 below it: out at 97.00
    bars = {"open": np.array([100.0, 100.0, 97.0, 97.0, 97.0]), "low": np.array([99.5, 99.5, 96.5, 96.5, 96.5])}
    t = only_trade(run({L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.02}, bars=bars))
    assert (t["initial_stop"], t["exit_row"], t["exit_price"], t["exit_reason"]) == (98.00, 2, 97.00, L.R_STOP_LOSS)
    assert t["initial_risk"] == pytest.approx(100 * 2.00)


def test_stop_and_target_in_one_bar_assume_the_stop() -> None:
    # stop 98.00, target 2 R = 104.00; bar 2 reaches both: the worse, the stop, is assumed first
    bars = {"high": np.array([100.5, 101.0, 105.0, 103.0, 104.0]), "low": np.array([99.5, 99.5, 97.5, 101.5, 102.5])}
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE, L.P_TP_VALUE: 2.0}
    t = only_trade(run(params, bars=bars))
    assert (t["exit_row"], t["exit_price"], t["exit_reason"]) == (2, 98.00, L.R_STOP_LOSS)


def test_take_profit_at_two_r() -> None:
    bars = {"high": np.array([100.5, 101.0, 104.5, 103.0, 104.0])}
    params = {L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE, L.P_TP_VALUE: 2.0}
    t = only_trade(run(params, bars=bars))
    assert (t["exit_row"], t["exit_price"], t["exit_reason"]) == (2, 104.00, L.R_TAKE_PROFIT)
    assert t["pnl"] / t["initial_risk"] == pytest.approx(2.0)  # the R multiple


def test_time_stop_leaves_after_max_bars() -> None:
    t = only_trade(run({L.P_TIME_MAX_BARS: 2}))
    # entered at bar 1's open; held through bars 1 and 2; leaves at bar 3's open
    assert (t["exit_row"], t["exit_price"], t["exit_reason"], t["bars_held"]) == (3, 102.00, L.R_TIME_STOP, 2)


def test_kelly_size_from_posterior_and_the_target() -> None:
    # p = 0.6, b = 2 R: f = (0.6 * 2 - 0.4) / 2 = 0.4; a quarter Kelly = 0.10 of 10,000 = 1,000 -> 10 shares at 100.00
    params = {L.P_SIZING: L.SIZING_KELLY, L.P_KELLY_SCALE: 0.25, L.P_FRACTION_CAP: 0.5, L.P_STOP_TYPE: L.STOP_PERCENT,
              L.P_MAX_RISK_FRAC: 0.02, L.P_TP_TYPE: L.TP_R_MULTIPLE, L.P_TP_VALUE: 2.0}  # fmt: skip
    t = only_trade(run(params, win_probability=np.full(5, 0.6)))
    assert t["qty"] == 10.0


def test_kelly_without_edge_is_denied() -> None:
    params = {L.P_SIZING: L.SIZING_KELLY, L.P_STOP_TYPE: L.STOP_PERCENT, L.P_TP_TYPE: L.TP_R_MULTIPLE,
              L.P_TP_VALUE: 1.0}  # fmt: skip
    out = run(params, win_probability=np.full(5, 0.5))  # f = (0.5 - 0.5) / 1 = 0
    assert len(out.trades) == 0
    assert (out.events[0]["check"], out.events[0]["action"]) == (L.D_KELLY_NO_EDGE, L.ACTION_DENIED)


def test_volatility_target_sizes_by_the_stop_distance() -> None:
    # 1 % of 10,000 = 100 at risk over a 2.00 stop distance = 50 shares
    params = {L.P_SIZING: L.SIZING_VOLATILITY_TARGET, L.P_TARGET_RISK: 0.01, L.P_STOP_TYPE: L.STOP_PERCENT,
              L.P_MAX_RISK_FRAC: 0.02}  # fmt: skip
    assert only_trade(run(params))["qty"] == 50.0


def test_fill_or_kill_beyond_the_participation_cap_is_refused() -> None:
    out = run({L.P_TIF: L.TIF_FOK, L.P_PARTICIPATION: 0.1}, volume=np.full(5, 500.0))  # cap 50 < 100 wanted
    assert len(out.trades) == 0
    assert (out.events[0]["check"], out.events[0]["value"], out.events[0]["limit"]) == (L.D_FOK_UNFILLABLE, 100, 50)


def test_partial_fills_over_bars_under_the_participation_cap() -> None:
    out = run({L.P_PARTICIPATION: 0.1}, volume=np.full(5, 400.0))  # 40 a bar
    t = only_trade(out)
    # the last 20 at 102.00 would need 2,040; the account carries 19: cash 1,960 + 80 x 101.80 - 80 x 102.00 = 1,944
    assert list(out.fills["qty"]) == [40.0, 40.0, 19.0]
    assert (out.events[0]["check"], out.events[0]["action"], out.events[0]["limit"]) == (
        L.D_MARGIN,
        L.ACTION_RESIZED,
        19,
    )
    assert t["qty"] == 99.0 and t["partial"] == 1
    assert t["entry_price"] == pytest.approx((40 * 100.00 + 40 * 101.00 + 19 * 102.00) / 99)


def test_realistic_costs_split_into_spread_and_impact() -> None:
    # half-spread 1 bp on 100.00: 100.01 after rounding up to the cent; 100 shares pay 1.00 of spread
    out = run({L.P_HALF_SPREAD: 0.0001, L.P_COMM_RATE: 0.0005})
    f = out.fills[0]
    assert (f["price"], f["reference_price"]) == (100.01, 100.00)
    assert f["qty"] == 99.0  # floor(10,000 / (100.00 x 1.0001 x 1.0005))
    assert f["spread_slippage"] == pytest.approx(0.99) and f["impact"] == 0.0
    assert f["commission"] == pytest.approx(f["qty"] * 100.01 * 0.0005)


def test_daily_loss_limit_denies_new_entries_for_the_day() -> None:
    # half the account in instrument 0 loses 1.5 % of equity on day 0; a 1 % limit refuses instrument 1's entry
    n = 5
    bars = {"open": np.full(n, 100.0), "high": np.full(n, 100.0), "low": np.full(n, 97.0),
            "close": np.array([100.0, 97.0, 97.0, 97.0, 97.0])}  # fmt: skip
    entry = np.array([False, False, True, False, False])
    p = L.default_params()
    p[L.P_DAILY_LOSS_FRAC] = 0.01
    out = run_kernel(
        KernelInputs(open=np.c_[bars["open"], bars["open"]], high=np.c_[bars["high"], bars["high"]],
                     low=np.c_[bars["low"], bars["low"]], close=np.c_[bars["close"], np.full(n, 100.0)],
                     long_entry=np.c_[np.array([True, False, False, False, False]), entry],
                     long_exit=np.zeros((n, 2), dtype=bool), day_id=np.zeros(n, dtype=np.int64)),
        np.where(np.arange(L.N_PARAMS) == L.P_FRACTION, 0.5, p),
    )  # fmt: skip
    denied = [e for e in out.events if e["check"] == L.D_DAILY_LOSS]
    assert len(denied) == 1 and (denied[0]["row"], denied[0]["inst"]) == (2, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"high": HIGH[:4]}, r"high: expected shape \(5, 1\)"),
        ({"atr_stop": np.ones((2, 1))}, r"atr_stop: expected shape \(5, 1\) or broadcastable"),
        ({"lot": np.ones(2)}, r"lot: expected shape \(1,\)"),
        ({"day_id": np.array([0, 1, 0, 1, 2])}, "day_id: expected session days that never decrease"),
        ({"arrival": np.array([1, 2, 3, 4, 5])}, r"arrival: expected row numbers in \[-1, 4\]"),
    ],
)
def test_grids_the_kernel_cannot_read_are_refused(change: dict[str, np.ndarray], message: str) -> None:
    base = {"open": OPEN, "high": HIGH, "low": LOW, "close": CLOSE, "long_entry": np.zeros(5, dtype=bool),
            "long_exit": np.zeros(5, dtype=bool)}  # fmt: skip
    with pytest.raises(ConfigError, match=message):
        run_kernel(KernelInputs(**(base | change)), L.default_params())  # type: ignore[arg-type]
