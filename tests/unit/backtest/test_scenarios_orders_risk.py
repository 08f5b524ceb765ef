"""Hand-built order and risk scenarios for the portfolio kernel: order types, time in force, latency, lots and
ticks, commission schedules, and the portfolio limits, each with its fills and risk events to the cent.

Every expected number is worked out by hand in a comment from the rules in the kernel's docstring and
docs/backtest.md. 10,000 of cash and no costs unless a test says so; an entry decided at row 0's close of
100.00 arrives on row 1.
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


def params_with(params: dict[int, float]) -> np.ndarray:
    p = L.default_params()
    p[L.P_INITIAL_CASH] = 10_000.0
    for slot, value in params.items():
        p[slot] = value
    return p


def run(params: dict[int, float], *, bars: dict[str, list[float]] | None = None, entry_at: int = 0,
        exit_at: int | None = None, **evidence: np.ndarray) -> KernelOutput:  # fmt: skip
    """One instrument; a long entry signal at ``entry_at``, an exit signal at ``exit_at``."""
    b = BASE | {k: np.asarray(v, dtype=np.float64) for k, v in (bars or {}).items()}
    n = len(b["open"])
    entry = np.arange(n) == entry_at
    exit_ = np.arange(n) == (-1 if exit_at is None else exit_at)
    return run_kernel(
        KernelInputs(open=b["open"], high=b["high"], low=b["low"], close=b["close"], long_entry=entry,
                     long_exit=exit_, **evidence),
        params_with(params),
    )  # fmt: skip


def run2(params: dict[int, float], bars: tuple[dict[str, list[float]], dict[str, list[float]]],
         entries: tuple[int, int], **evidence: np.ndarray) -> KernelOutput:  # fmt: skip
    """Two instruments on one account; a long entry signal for instrument j at row ``entries[j]``."""
    grid = {k: np.c_[np.asarray(bars[0][k], dtype=np.float64), np.asarray(bars[1][k], dtype=np.float64)]
            for k in ("open", "high", "low", "close")}  # fmt: skip
    n = grid["open"].shape[0]
    entry = np.c_[np.arange(n) == entries[0], np.arange(n) == entries[1]]
    return run_kernel(
        KernelInputs(**grid, long_entry=entry, long_exit=np.zeros((n, 2), dtype=bool), **evidence),
        params_with(params),
    )


def px(price: float) -> object:
    """A volume-weighted trade price, equal to the cent up to float noise (fill prices are compared exactly)."""
    return pytest.approx(price, abs=1e-9)


def only_trade(out: KernelOutput) -> np.void:
    assert len(out.trades) == 1
    return out.trades[0]


def event(out: KernelOutput, k: int = 0) -> tuple[int, int, int, int, float, float]:
    e = out.events[k]
    return (int(e["row"]), int(e["inst"]), int(e["check"]), int(e["action"]), float(e["value"]), float(e["limit"]))


# ---- order types ------------------------------------------------------------------------------------


def test_stop_limit_entry_fills_at_its_stop_within_its_limit() -> None:
    # decided at 100.00 with 0.1 % tolerance: stop 100.10 (ceil of 100.10), limit 100.10 x 1.001 = 100.2001 -> 100.20
    # bar 1 opens at 100.00 under the stop and trades up to 101.00: triggered at the stop, inside the limit: 100.10
    out = run({L.P_ORDER_TYPE: L.ORDER_STOP_LIMIT, L.P_TOLERANCE: 0.001})
    t = only_trade(out)
    assert (out.orders[0]["stop_price"], out.orders[0]["limit_price"]) == (100.10, 100.20)
    assert (t["entry_row"], t["entry_price"], t["order_type"]) == (1, 100.10, L.ORDER_STOP_LIMIT)
    assert t["qty"] == 99.0  # floor(10,000 / 100.10) = floor(99.90)
    assert (out.fills[0]["price"], out.fills[0]["reference_price"]) == (100.10, 100.10)


def test_stop_limit_entry_gapped_through_its_stop_but_inside_its_limit_fills_at_the_open() -> None:
    # stop 100.10, limit 100.20; bar 1 opens at 100.15, past the stop and inside the limit: filled at the open,
    # floor(10,000 / 100.15) = floor(99.85) = 99
    bars = {"open": [100.0, 100.15, 101.0, 102.0, 103.0]}
    out = run({L.P_ORDER_TYPE: L.ORDER_STOP_LIMIT, L.P_TOLERANCE: 0.001}, bars=bars)
    assert (out.fills[0]["row"], out.fills[0]["price"], out.fills[0]["qty"]) == (1, 100.15, 99.0)


def test_stop_entry_touched_inside_the_bar_fills_at_the_stop() -> None:
    # buy stop 100.10; bar 1 opens at 100.00 under it and trades up to 101.00: filled at the stop, 100.10
    out = run({L.P_ORDER_TYPE: L.ORDER_STOP, L.P_TOLERANCE: 0.001})
    assert (out.fills[0]["row"], out.fills[0]["price"], out.fills[0]["qty"]) == (1, 100.10, 99.0)


def test_stop_limit_entry_is_not_filled_when_the_bar_gaps_beyond_its_limit() -> None:
    # stop 100.10, limit 100.20. Bar 1 opens at 100.50, past the limit, and never trades back to it (low 100.30):
    # triggered, but nothing fills. Bar 2 opens at 100.60 and trades down to 100.10, through the limit: it fills
    # at the limit, 100.20, for floor(10,000 / 100.20) = floor(99.80) = 99
    bars = {"open": [100.0, 100.5, 100.6, 102.0, 103.0], "low": [99.5, 100.3, 100.1, 101.5, 102.5]}
    out = run({L.P_ORDER_TYPE: L.ORDER_STOP_LIMIT, L.P_TOLERANCE: 0.001}, bars=bars)
    t = only_trade(out)
    assert list(out.fills["row"]) == [2]
    assert (t["entry_row"], t["entry_price"], t["qty"]) == (2, px(100.20), 99.0)
    assert out.fills[0]["price"] == 100.20
    assert (out.orders[0]["status"], out.orders[0]["final_row"]) == (L.OS_FILLED, 2)


def test_stop_limit_entry_that_never_returns_to_its_limit_stays_open() -> None:
    # the same gap past the 100.20 limit, and no bar after it trades back down to it: open at the end, no trade
    bars = {"open": [100.0, 100.5, 101.0, 102.0, 103.0], "low": [99.5, 100.3, 100.5, 101.5, 102.5]}
    out = run({L.P_ORDER_TYPE: L.ORDER_STOP_LIMIT, L.P_TOLERANCE: 0.001}, bars=bars)
    assert len(out.trades) == 0 and len(out.fills) == 0
    assert (out.orders[0]["status"], out.orders[0]["final_row"]) == (L.OS_OPEN, -1)


def test_gtc_limit_rests_and_fills_on_a_later_bar() -> None:
    # buy limit 100.10 (100.00 + 0.1 %); bar 1's low of 100.90 stays above it; bar 2 opens at 101.00 and trades
    # down to 100.00, through the limit: filled at 100.10 on bar 2, floor(10,000 / 100.10) = 99
    bars = {"open": [100.0, 101.0, 101.0, 102.0, 103.0], "low": [99.5, 100.9, 100.0, 101.5, 102.5]}
    out = run({L.P_ORDER_TYPE: L.ORDER_LIMIT, L.P_TOLERANCE: 0.001, L.P_TIF: L.TIF_GTC}, bars=bars)
    t = only_trade(out)
    assert (t["decided_row"], t["entry_row"], t["entry_price"], t["qty"]) == (0, 2, 100.10, 99.0)
    o = out.orders[0]
    assert (o["arrival_row"], o["status"], o["final_row"], o["limit_price"]) == (1, L.OS_FILLED, 2, 100.10)


def test_ioc_market_order_fills_what_it_can_on_arrival_and_cancels_the_rest() -> None:
    # 10 % of bar 1's 400 shares = 40 of the 100 wanted fill at 100.00; the other 60 are cancelled, not carried
    out = run({L.P_TIF: L.TIF_IOC, L.P_PARTICIPATION: 0.1}, volume=np.full(5, 400.0))
    t = only_trade(out)
    assert list(out.fills["qty"]) == [40.0]
    assert (t["qty"], t["entry_price"], t["partial"]) == (40.0, 100.00, 1)
    assert (out.orders[0]["qty"], out.orders[0]["status"], out.orders[0]["final_row"]) == (100.0, L.OS_PARTIAL, 1)


def test_ioc_limit_marketable_on_arrival_fills_at_the_open() -> None:
    # limit 100.10; bar 1 opens at 100.05, at or better than the limit: filled at the open, floor(10,000 / 100.05) = 99
    bars = {"open": [100.0, 100.05, 101.0, 102.0, 103.0]}
    out = run({L.P_ORDER_TYPE: L.ORDER_LIMIT, L.P_TOLERANCE: 0.001, L.P_TIF: L.TIF_IOC}, bars=bars)
    t = only_trade(out)
    assert (t["entry_row"], t["entry_price"], t["qty"]) == (1, px(100.05), 99.0)
    assert out.fills[0]["price"] == 100.05
    assert out.orders[0]["status"] == L.OS_FILLED


def test_ioc_limit_not_marketable_on_arrival_is_cancelled() -> None:
    # limit 100.10; bar 1 opens at 100.50 above it. A resting order would fill when the bar trades down to 99.50,
    # but an IOC does not rest: cancelled on its arrival bar, nothing filled
    bars = {"open": [100.0, 100.5, 101.0, 102.0, 103.0]}
    out = run({L.P_ORDER_TYPE: L.ORDER_LIMIT, L.P_TOLERANCE: 0.001, L.P_TIF: L.TIF_IOC}, bars=bars)
    assert len(out.trades) == 0 and len(out.fills) == 0
    assert (out.orders[0]["status"], out.orders[0]["final_row"]) == (L.OS_CANCELLED, 1)


def test_latency_delays_the_entry_and_the_exit_to_their_arrival_rows() -> None:
    # decided at row 0, arriving on row 2: filled at 101.00, floor(10,000 / 101.00) = 99; the exit decided at
    # row 2's close arrives on row 4: sold at 103.00 (not row 3's 102.00)
    arrival = np.array([2, 2, 4, 4, -1])
    out = run({}, exit_at=2, arrival=arrival)
    t = only_trade(out)
    assert (t["decided_row"], t["entry_row"], t["entry_price"], t["qty"]) == (0, 2, 101.00, 99.0)
    assert (t["exit_row"], t["exit_price"], t["exit_reason"]) == (4, 103.00, L.R_SIGNAL_EXIT)
    assert list(out.orders["arrival_row"]) == [2, 4]
    assert t["pnl"] == pytest.approx(99 * (103.00 - 101.00))


# ---- lots, ticks, commissions, tolerance --------------------------------------------------------------


def test_lot_size_and_tick_rounding_per_instrument() -> None:
    # half the equity each, 1 bp half-spread, 1.3 % stop. Instrument 0: lot 1, tick 0.01; instrument 1: lot 10,
    # tick 0.05.
    #   inst 0: floor(5,000 / (100.00 x 1.0001)) = floor(49.995) = 49; 100.01 rounds up to 100.01;
    #           stop 100.01 x 0.987 = 98.70987 -> 98.70
    #   inst 1 (equity 10,000 - 49 x 100.01 + 49 x 100.00 = 9,999.51, inst 0 marked at its last close):
    #           5,000 / (33.00 x 1.0001) = 151.49 -> 150 in lots of 10; 33.0033 rounds up to the tick: 33.05;
    #           stop 33.05 x 0.987 = 32.62035 -> down to the tick: 32.60
    a = {"open": [100.0] * 4, "high": [100.5] * 4, "low": [99.5] * 4, "close": [100.0] * 4}
    b = {"open": [33.0] * 4, "high": [33.5] * 4, "low": [32.8] * 4, "close": [33.0] * 4}
    params = {L.P_FRACTION: 0.5, L.P_HALF_SPREAD: 0.0001, L.P_STOP_TYPE: L.STOP_PERCENT, L.P_MAX_RISK_FRAC: 0.013}
    out = run2(params, (a, b), (0, 0), lot=np.array([1.0, 10.0]), tick=np.array([0.01, 0.05]))
    t0, t1 = out.trades[out.trades["inst"] == 0][0], out.trades[out.trades["inst"] == 1][0]
    assert (t0["qty"], t0["entry_price"], t0["initial_stop"]) == (49.0, px(100.01), 98.70)
    assert (t1["qty"], t1["entry_price"], t1["initial_stop"]) == (150.0, px(33.05), 32.60)
    assert list(out.fills["price"]) == [100.01, 33.05]
    assert out.fills[1]["spread_slippage"] == pytest.approx(150 * 0.05)  # 150 x (33.05 - 33.00)


def test_per_share_commission_is_raised_to_its_minimum() -> None:
    # 0.005 a share, at least 1.00 an order: floor(10,000 / (100.00 + 0.005)) = 99 shares pay 0.495 -> 1.00;
    # out at bar 3's open of 102.00, again 1.00. PnL 99 x 2.00 - 2.00 = 196.00
    out = run({L.P_COMM_PER_SHARE: 0.005, L.P_COMM_MIN: 1.0}, exit_at=2)
    t = only_trade(out)
    assert t["qty"] == 99.0
    assert list(out.fills["commission"]) == [1.00, 1.00]
    assert t["pnl"] == pytest.approx(99 * 2.00 - 2.00)


def test_per_share_commission_is_capped_at_its_maximum_share_of_value() -> None:
    # 0.05 a share, at most 0.02 % of value: floor(10,000 / 100.05) = 99 shares; 99 x 0.05 = 4.95 is capped at
    # 0.0002 x 9,900.00 = 1.98; the exit at 102.00: 4.95 capped at 0.0002 x 10,098.00 = 2.0196
    out = run({L.P_COMM_PER_SHARE: 0.05, L.P_COMM_MAX_FRAC: 0.0002, L.P_COMM_MIN: 1.0}, exit_at=2)
    assert only_trade(out)["qty"] == 99.0
    assert out.fills["commission"] == pytest.approx([1.98, 2.0196])
    assert only_trade(out)["commission"] == pytest.approx(1.98 + 2.0196)


def test_fixed_commission_per_order() -> None:
    # 5.00 an order whatever the size: half the equity buys floor(5,000 / 100.00) = 50; out at 102.00;
    # PnL 50 x 2.00 - 2 x 5.00 = 90.00
    out = run({L.P_FRACTION: 0.5, L.P_COMM_FIXED: 5.0}, exit_at=2)
    t = only_trade(out)
    assert t["qty"] == 50.0
    assert list(out.fills["commission"]) == [5.00, 5.00]
    assert t["pnl"] == pytest.approx(90.00)
    assert len(out.events) == 0


def test_fixed_commission_the_account_cannot_carry_resizes_the_order() -> None:
    # the whole equity buys floor(10,000 / 100.00) = 100, but 100 x 100.00 + 5.00 exceeds the 10,000 of buying
    # power: the order shrinks to floor((10,000 - 5.00) / 100.00) = 99, a margin resize
    out = run({L.P_COMM_FIXED: 5.0})
    assert only_trade(out)["qty"] == 99.0
    assert event(out) == (1, 0, L.D_MARGIN, L.ACTION_RESIZED, 100.0, 99.0)


def test_slippage_tolerance_bounds_a_limit_price() -> None:
    # limit 100.10 (0.1 % over the 100.00 decision close); bar 1 opens at 100.05, marketable. A 0.1 % half-spread
    # would price it at 100.05 x 1.001 = 100.15005 -> 100.16, beyond the limit: it fills at the limit, 100.10.
    # Size: floor(10,000 / (100.05 x 1.001)) = floor(99.85) = 99; spread paid 99 x (100.10 - 100.05) = 4.95
    bars = {"open": [100.0, 100.05, 101.0, 102.0, 103.0]}
    out = run({L.P_ORDER_TYPE: L.ORDER_LIMIT, L.P_TOLERANCE: 0.001, L.P_HALF_SPREAD: 0.001}, bars=bars)
    f = out.fills[0]
    assert (f["qty"], f["price"], f["reference_price"]) == (99.0, 100.10, 100.05)
    assert f["spread_slippage"] == pytest.approx(4.95)


# ---- portfolio limits ---------------------------------------------------------------------------------

FLAT = {"open": [100.0] * 5, "high": [100.5] * 5, "low": [99.5] * 5, "close": [100.0] * 5}
FIFTY = {"open": [50.0] * 5, "high": [50.5] * 5, "low": [49.5] * 5, "close": [50.0] * 5}


def test_max_positions_denies_an_entry_beyond_the_limit() -> None:
    # one position at most: instrument 0 holds 50 (half the equity) from row 1; instrument 1's entry at row 1's close
    # meets 1 position held against a limit of 1: denied
    out = run2({L.P_FRACTION: 0.5, L.P_MAX_POSITIONS: 1}, (FLAT, FLAT), (0, 1))
    assert list(out.trades["inst"]) == [0] and out.trades[0]["qty"] == 50.0
    assert event(out) == (1, 1, L.D_MAX_POSITIONS, L.ACTION_DENIED, 1.0, 1.0)
    assert len(out.orders) == 1


def test_max_positions_lets_an_entry_within_the_limit_through() -> None:
    out = run2({L.P_FRACTION: 0.5, L.P_MAX_POSITIONS: 2}, (FLAT, FLAT), (0, 1))
    assert list(out.trades["inst"]) == [0, 1] and len(out.events) == 0


# instrument 1's returns are 2 x instrument 0's + 0.001 (correlation +1) or -instrument 0's (correlation -1)
R0 = np.array([np.nan, 0.01, -0.02, 0.015, 0.005, -0.01])


def six(bars: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: v + v[-1:] for k, v in bars.items()}


@pytest.mark.parametrize(("r1", "denied"), [(2 * R0 + 0.001, True), (-R0, False)])
def test_correlated_positions_are_denied_over_the_threshold(r1: np.ndarray, denied: bool) -> None:
    # one correlated position at most; returns over a 4-row window (rows 1-4 at the decision on row 4, 4 >= 3 rows):
    # instrument 0 is held from row 1; instrument 1's entry at row 4 meets a correlation of +1 > 0.7: 1 correlated
    # position against a limit of 1, denied; at -1 it goes through
    params = {L.P_FRACTION: 0.5, L.P_MAX_CORRELATED: 1, L.P_CORR_WINDOW: 4, L.P_CORR_THRESHOLD: 0.7}
    out = run2(params, (six(FLAT), six(FLAT)), (0, 4), returns=np.c_[R0, r1])
    if denied:
        assert list(out.trades["inst"]) == [0]
        assert event(out) == (4, 1, L.D_CORRELATION, L.ACTION_DENIED, 1.0, 1.0)
    else:
        assert list(out.trades["inst"]) == [0, 1] and len(out.events) == 0
        assert out.trades[1]["entry_row"] == 5


@pytest.mark.parametrize(("sector", "denied"), [((0, 0), True), ((0, 1), False)])
def test_sector_exposure_denies_an_entry_over_the_limit(sector: tuple[int, int], denied: bool) -> None:
    # 40 % of the equity an entry, 60 % a sector at most. Instrument 0 holds floor(4,000 / 100.00) = 40 from row 1;
    # instrument 1's entry at row 1 (equity 10,000): 40 x 100.00 + 40 x 100.00 = 8,000 = 0.8 of the equity in one
    # sector > 0.6: denied; in another sector it goes through
    params = {L.P_FRACTION: 0.4, L.P_MAX_SECTOR_FRAC: 0.6}
    out = run2(params, (FLAT, FLAT), (0, 1), sector=np.array(sector))
    if denied:
        assert list(out.trades["inst"]) == [0]
        assert event(out) == (1, 1, L.D_SECTOR, L.ACTION_DENIED, pytest.approx(0.8), 0.6)
    else:
        assert list(out.trades["qty"]) == [40.0, 40.0] and len(out.events) == 0


def test_liquidity_resizes_an_order_over_its_share_of_adv() -> None:
    # 1 % of the decision bar's ADV of 5,000 (row 0; the later 100,000 is not used): at most 50 of the 100 wanted
    adv = np.array([5_000.0, 100_000.0, 100_000.0, 100_000.0, 100_000.0])
    out = run({L.P_MAX_ADV_FRAC: 0.01}, adv=adv)
    assert only_trade(out)["qty"] == 50.0
    assert event(out) == (1, 0, L.D_LIQUIDITY, L.ACTION_RESIZED, 100.0, 50.0)


def test_liquidity_denies_an_order_when_no_lot_fits_under_its_share_of_adv() -> None:
    # 1 % of an ADV of 50 is 0.5 share: floor(0.5) = 0 lots fit, so the order is refused by the liquidity limit
    # (the margin check records the same case as ACTION_DENIED)
    out = run({L.P_MAX_ADV_FRAC: 0.01}, adv=np.full(5, 50.0))
    assert len(out.trades) == 0
    assert (out.orders[0]["status"], out.orders[0]["final_row"]) == (L.OS_CANCELLED, 1)
    assert event(out) == (1, 0, L.D_LIQUIDITY, L.ACTION_DENIED, 100.0, 0.0)


def test_margin_resizes_an_order_the_account_cannot_carry() -> None:
    # margin rates 0.5 and 1.0. Instrument 0 buys floor(10,000 / 100.00) = 100 at row 1 (5,000 of margin).
    # Instrument 1 (price 50.00) wants floor(10,000 / 50.00) = 200 at row 2; buying power left:
    # 10,000 - 100 x 100.00 x 0.5 = 5,000, which carries floor(5,000 / (50.00 x 1.0)) = 100: resized to 100
    out = run2({}, (FLAT, FIFTY), (0, 1), margin=np.array([0.5, 1.0]))
    assert list(out.trades["qty"]) == [100.0, 100.0]
    assert event(out) == (2, 1, L.D_MARGIN, L.ACTION_RESIZED, 200.0, 100.0)
    assert out.trades[1]["entry_price"] == 50.00


def test_margin_denies_an_order_when_no_buying_power_is_left() -> None:
    # margin 1.0 for both: instrument 0's 100 x 100.00 uses all 10,000; instrument 1's 200 get 0: denied, cancelled
    out = run2({}, (FLAT, FIFTY), (0, 1), margin=np.array([1.0, 1.0]))
    assert list(out.trades["inst"]) == [0]
    assert event(out) == (2, 1, L.D_MARGIN, L.ACTION_DENIED, 200.0, 0.0)
    assert (out.orders[1]["status"], out.orders[1]["final_row"]) == (L.OS_CANCELLED, 2)
