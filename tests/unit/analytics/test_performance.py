"""Performance metrics against hand-computed values."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.unit.analytics.conftest import fill

from quantdesk.analytics.inputs import PerformanceInputs, aligned_benchmark
from quantdesk.analytics.performance import (
    benchmark_metrics,
    monthly_returns,
    performance_metrics,
    r_distribution,
    underwater,
)
from quantdesk.core.errors import DataError

START = pd.Timestamp("2021-01-01T00:00:00Z")
QUARTER = pd.Timedelta(days=365.25 / 4)  # four bars spanning exactly one year: bars_per_year = 4
QUARTERS = pd.DatetimeIndex([START + QUARTER * i for i in range(1, 5)])
# curve 100 (cash) -> 110, 99, 118.8, 112.86: returns +10%, -10%, +20%, -5%
CURVE = [110.0, 99.0, 118.8, 112.86]

Make = Callable[..., PerformanceInputs]


def test_return_metrics_of_a_four_bar_curve_spanning_one_year(make_inputs: Make) -> None:
    m = performance_metrics(make_inputs(CURVE, QUARTERS))
    # total = 112.86 / 100 - 1; one year so cagr = total
    assert m.total_return == pytest.approx(0.1286)
    assert m.cagr == pytest.approx(0.1286)
    # mean r = (0.1 - 0.1 + 0.2 - 0.05) / 4 = 0.0375; deviations 0.0625, -0.1375, 0.1625, -0.0875,
    # squares sum 0.056875, / 3 = 0.0189583 -> sd 0.1376893; vol = sd * sqrt(4)
    assert m.volatility == pytest.approx(0.1376893 * 2, rel=1e-6)
    assert m.sharpe == pytest.approx(0.0375 / 0.1376893 * 2, rel=1e-6)
    # downside: min(r, 0) = 0, -0.1, 0, -0.05; mean of squares over ALL 4 bars = 0.0125 / 4 = 0.003125
    # DD = sqrt(0.003125) = 0.0559017; sortino = 0.0375 / 0.0559017 * 2 = 1.3416408
    assert m.sortino == pytest.approx(1.3416408, rel=1e-6)
    # peaks 100, 110, 110, 118.8, 118.8 -> drawdowns 0, 0, -0.1, 0, -0.05
    assert m.max_drawdown == pytest.approx(-0.1)
    assert m.calmar == pytest.approx(0.1286 / 0.1)
    # under water from the 110 peak (bar 1) until back above it (bar 3): 2 quarters = 182.625 days;
    # the open drawdown from bar 3 to bar 4 lasts only 91.3125 days
    assert m.max_drawdown_duration_days == pytest.approx(182.625)
    # trough at bar 2, back above 110 at bar 3: one quarter
    assert m.max_drawdown_recovery_days == pytest.approx(91.3125)
    assert m.final_equity == pytest.approx(112.86)


def test_risk_free_rate_lowers_sharpe_by_its_per_bar_rate(make_inputs: Make) -> None:
    m = performance_metrics(make_inputs(CURVE, QUARTERS), risk_free_rate=0.21550625)
    # per-bar rf = 1.21550625 ** (1/4) - 1 = 0.05 (1.05 ** 4 = 1.21550625); mean excess = 0.0375 - 0.05
    assert m.sharpe == pytest.approx(-0.0125 / 0.1376893 * 2, rel=1e-6)


def test_unrecovered_drawdown_has_no_recovery_and_lasts_until_the_end(make_inputs: Make) -> None:
    # 100 -> 120 -> 90 -> 100: the 120 peak is never regained
    m = performance_metrics(make_inputs([120.0, 90.0, 100.0, 110.0], QUARTERS))
    assert m.max_drawdown == pytest.approx(90 / 120 - 1)
    assert m.max_drawdown_recovery_days is None
    # under water from bar 1 to the last bar (bar 4): 3 quarters
    assert m.max_drawdown_duration_days == pytest.approx(3 * 91.3125)


def test_flat_equity_gives_none_not_nan(make_inputs: Make) -> None:
    m = performance_metrics(make_inputs([100.0] * 4, QUARTERS))
    assert (m.sharpe, m.sortino, m.calmar, m.win_rate, m.profit_factor, m.sqn) == (None,) * 6
    assert (m.total_return, m.max_drawdown, m.max_drawdown_duration_days, m.n_trades) == (0.0, 0.0, 0.0, 0)
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in m.as_dict().values())


def test_trade_statistics_of_five_closed_trades(make_inputs: Make, make_trade: Callable[..., dict[str, Any]]) -> None:
    pnl = [100.0, -50.0, 200.0, -25.0, 0.0]
    r = [2.0, -1.0, 4.0, -0.5, 0.0]
    trades = [make_trade(trade_id=f"t{i}", pnl=p, r_multiple=x) for i, (p, x) in enumerate(zip(pnl, r, strict=True))]
    trades.append(make_trade(trade_id="open", status="open", pnl=999.0, r_multiple=9.0))  # ignored
    m = performance_metrics(make_inputs(CURVE, QUARTERS, trades=trades))
    assert m.n_trades == 5
    assert m.win_rate == pytest.approx(2 / 5)  # 100 and 200; 0 is not a win
    assert m.profit_factor == pytest.approx(300 / 75)  # (100 + 200) / (50 + 25)
    assert m.expectancy == pytest.approx(225 / 5)  # 45 per trade
    assert m.expectancy_r == pytest.approx(0.9)  # 4.5 / 5
    assert m.avg_win_r == pytest.approx(3.0)  # (2 + 4) / 2
    assert m.avg_loss_r == pytest.approx(-0.5)  # (-1 - 0.5 + 0) / 3
    # R deviations from 0.9: 1.1, -1.9, 3.1, -1.4, -0.9; squares sum 17.2; / 4 = 4.3; sd = 2.0736441
    # sqn = sqrt(5) * 0.9 / 2.0736441 = 0.9704950
    assert m.sqn == pytest.approx(0.9704950, rel=1e-6)


def test_profit_factor_and_sqn_are_none_without_losses_or_enough_r(
    make_inputs: Make, make_trade: Callable[..., dict[str, Any]]
) -> None:
    trades = [make_trade(trade_id="a", pnl=10.0, r_multiple=1.0), make_trade(trade_id="b", pnl=5.0)]
    m = performance_metrics(make_inputs(CURVE, QUARTERS, trades=trades))
    assert (m.profit_factor, m.sqn, m.expectancy_r, m.win_rate) == (None, None, 1.0, 1.0)


def test_exposure_turnover_and_fees(make_inputs: Make, make_fill: Callable[..., dict[str, Any]]) -> None:
    positions = pd.DataFrame({"AAA": [0.0, 50.0, 0.0, 0.0], "BBB": [0.0, 0.0, -20.0, 0.0]}, index=QUARTERS)
    fills = [
        make_fill(quantity=10.0, price=100.0, commission=1.0, spread_slippage=0.5, impact=0.25),
        make_fill(side="sell", quantity=-10.0, price=110.0, commission=1.5, spread_slippage=0.5, impact=0.25),
    ]
    m = performance_metrics(make_inputs(CURVE, QUARTERS, positions=positions, fills=fills))
    assert m.exposure == pytest.approx(0.5)  # bars 2 and 3 of 4 hold something
    # traded value 10 * 100 + 10 * 110 = 2100; mean equity (110 + 99 + 118.8 + 112.86) / 4 = 110.165
    assert m.turnover == pytest.approx(2100 / 110.165)
    assert m.turnover_annual == pytest.approx(2100 / 110.165)  # exactly one year
    assert m.fees == pytest.approx(2.5)
    assert m.costs == pytest.approx(2.5 + 1.0 + 0.5)


def _planted(noise: float, seed: int = 7) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    n = 2000
    times = pd.date_range("2021-01-01T21:00:00Z", periods=n, freq="D")
    rb = rng.normal(0.0, 0.01, n)
    rb[0] = 0.0  # the benchmark's first value has no return; the strategy's first is against cash
    rs = 1.5 * rb + 0.0002 + rng.normal(0.0, noise, n)
    years = (times[-1] - START) / pd.Timedelta(days=365.25)
    return times, rb, rs, n / years


def test_alpha_and_beta_recover_a_planted_beta_exactly_without_noise(make_inputs: Make) -> None:
    times, rb, rs, bars_per_year = _planted(noise=0.0)
    bench = pd.Series(100.0 * np.cumprod(1 + rb), index=times)
    m = performance_metrics(make_inputs(100.0 * np.cumprod(1 + rs), times, benchmark=bench, fills=[fill()]))
    assert m.beta == pytest.approx(1.5, abs=1e-9)
    assert m.alpha == pytest.approx(0.0002 * bars_per_year, rel=1e-6)
    assert m.correlation == pytest.approx(1.0, abs=1e-9)
    active = 0.5 * rb[1:] + 0.0002  # r - r_b over the paired bars
    te = np.std(active, ddof=1) * math.sqrt(bars_per_year)
    assert m.tracking_error == pytest.approx(te, rel=1e-6)
    assert m.information_ratio == pytest.approx(active.mean() * bars_per_year / te, rel=1e-6)


def test_alpha_and_beta_recover_a_planted_beta_within_tolerance_under_noise(make_inputs: Make) -> None:
    # noise sd 0.001 per bar: the OLS standard error of beta is about 0.001 / (0.01 * sqrt(2000)) = 0.0022,
    # of the per-bar intercept 0.001 / sqrt(2000) = 2.2e-5; tolerances are ~4.5 standard errors
    times, rb, rs, bars_per_year = _planted(noise=0.001)
    bench = pd.Series(100.0 * np.cumprod(1 + rb), index=times)
    m = performance_metrics(make_inputs(100.0 * np.cumprod(1 + rs), times, benchmark=bench, fills=[fill()]))
    assert m.beta is not None and abs(m.beta - 1.5) < 0.01
    assert m.alpha is not None and abs(m.alpha / bars_per_year - 0.0002) < 1e-4
    assert m.correlation is not None and 0.99 < m.correlation < 1.0


def test_a_run_without_a_fill_has_no_ratios_against_the_benchmark(make_inputs: Make) -> None:
    # the defect: no order, flat cash, yet beta 0, a tracking error and an information ratio were reported
    times, rb, rs, _ = _planted(noise=0.001)
    bench = pd.Series(100.0 * np.cumprod(1 + rb), index=times)
    idle = performance_metrics(make_inputs(np.full(len(times), 100.0), times, benchmark=bench))
    relation = (idle.alpha, idle.beta, idle.correlation, idle.tracking_error, idle.information_ratio)
    assert relation == (None, None, None, None, None)
    assert (idle.n_trades, idle.sharpe, idle.sortino, idle.calmar, idle.total_return) == (0, None, None, None, 0.0)
    # a fill that left the equity where it was (bought and sold at one price, no cost) is no trading record either
    flat = performance_metrics(make_inputs(np.full(len(times), 100.0), times, benchmark=bench, fills=[fill()]))
    assert (flat.beta, flat.information_ratio) == (None, None)
    # the same benchmark with a traded curve: numbers
    traded = performance_metrics(make_inputs(100.0 * np.cumprod(1 + rs), times, benchmark=bench, fills=[fill()]))
    assert traded.beta is not None and traded.information_ratio is not None and traded.tracking_error is not None


def test_benchmark_is_aligned_as_of_each_bar_never_later(make_inputs: Make) -> None:
    # benchmark values at 12:00 on days 1 and 3; equity bars at 21:00 on days 1..4
    times = pd.date_range("2021-01-01T21:00:00Z", periods=4, freq="D")
    bench = pd.Series([10.0, 30.0], index=pd.DatetimeIndex(["2021-01-01T12:00Z", "2021-01-03T12:00Z"]))
    early = pd.Series([5.0], index=pd.DatetimeIndex(["2021-01-02T22:00Z"]))  # first known after bar 2
    inputs = make_inputs([100.0] * 4, times, benchmark=bench, start=pd.Timestamp("2021-01-01T14:00Z"))
    aligned = aligned_benchmark(inputs)
    assert aligned is not None
    assert aligned.tolist() == [10.0, 10.0, 30.0, 30.0]
    late = aligned_benchmark(make_inputs([100.0] * 4, times, benchmark=early, start=pd.Timestamp("2021-01-01T14Z")))
    assert late is not None
    assert np.isnan(late.iloc[0]) and np.isnan(late.iloc[1]) and late.iloc[2] == 5.0


def test_benchmark_metrics_treat_the_benchmark_as_bought_with_the_initial_cash(make_inputs: Make) -> None:
    bench = pd.Series([50.0, 55.0, 44.0, 66.0], index=QUARTERS)  # rescaled: 100, 110, 88, 132
    b = benchmark_metrics(make_inputs(CURVE, QUARTERS, benchmark=bench))
    assert b is not None
    assert b.total_return == pytest.approx(0.32)
    assert b.final_equity == pytest.approx(132.0)
    assert b.max_drawdown == pytest.approx(88 / 110 - 1)
    assert (b.n_trades, b.fees, b.beta) == (0, None, None)


def test_underwater_is_distance_below_running_peak() -> None:
    uw = underwater(pd.Series([100.0, 120.0, 90.0, 130.0, 104.0]))
    np.testing.assert_allclose(uw.to_numpy(), [0, 0, -0.25, 0, -0.2])


def test_monthly_returns_compound_within_months_and_leave_gaps_empty() -> None:
    times = pd.DatetimeIndex(["2021-01-01T00Z", "2021-01-31T21Z", "2021-02-15T21Z", "2021-02-26T21Z", "2021-04-30T21Z"])
    table = monthly_returns(pd.Series([100.0, 110.0, 99.0, 104.5, 114.95], index=times))
    assert table.index.tolist() == [2021]
    assert table.columns.tolist() == list(range(1, 13))
    assert table.loc[2021, 1] == pytest.approx(0.10)  # 110 / 100 - 1
    assert table.loc[2021, 2] == pytest.approx(-0.05)  # 104.5 / 110 - 1 (the 99 inside is compounded through)
    assert np.isnan(table.to_numpy()[0, 2])  # March
    assert table.loc[2021, 4] == pytest.approx(0.10)  # 114.95 / 104.5 - 1


def test_r_distribution_keeps_closed_trades_with_a_finite_r(make_trade: Callable[..., dict[str, Any]]) -> None:
    from quantdesk.analytics.inputs import TRADE_COLUMNS

    rows = [
        make_trade(trade_id="a", r_multiple=1.5),
        make_trade(trade_id="b", r_multiple=np.nan),
        make_trade(trade_id="c", status="open", r_multiple=2.0),
        make_trade(trade_id="d", r_multiple=-1.0),
    ]
    r = r_distribution(pd.DataFrame(rows, columns=list(TRADE_COLUMNS)))
    assert r.to_dict() == {"a": 1.5, "d": -1.0}


def test_inputs_reject_a_naive_equity_index_naming_the_field(make_inputs: Make) -> None:
    with pytest.raises(DataError, match=r"equity.*tz-aware UTC"):
        make_inputs(CURVE, QUARTERS.tz_localize(None))


def test_inputs_reject_a_start_after_the_first_bar(make_inputs: Make) -> None:
    with pytest.raises(DataError, match="start"):
        make_inputs(CURVE, QUARTERS, start=QUARTERS[1])
