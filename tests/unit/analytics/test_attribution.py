"""PnL attribution, sector exposure and transaction cost analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.analytics.attribution import cost_analysis, exposure_by_sector, pnl_attribution
from quantdesk.analytics.inputs import FILL_COLUMNS, TRADE_COLUMNS, PerformanceInputs
from quantdesk.analytics.performance import performance_metrics

Make = Callable[..., PerformanceInputs]
TIMES = pd.date_range("2021-01-04T21:00:00Z", periods=3, freq="D")


def _ohlc(closes: list[float], times: pd.DatetimeIndex) -> pd.DataFrame:
    c = np.asarray(closes, dtype=float)
    return pd.DataFrame({"open": c, "high": c, "low": c, "close": c}, index=times.normalize())  # opens at 00:00


def test_sector_component_without_benchmark_by_hand(make_inputs: Make) -> None:
    # cash 1000; 500 held in AAA (tech) over bars 2 and 3; tech = AAA and BBB
    # AAA closes 10, 11, 9.9 -> returns -, +10%, -10%; BBB 20, 20, 22 -> -, 0%, +10%
    # tech equal-weighted return: bar 1 undefined (0), bar 2 (10% + 0%) / 2 = 5%, bar 3 (-10% + 10%) / 2 = 0%
    # sector: bar 1 0 (flat before), bar 2 prior 500 * 5% = 25, bar 3 prior 500 * 0% = 0
    inputs = make_inputs(
        [1000.0, 1050.0, 1000.0],
        TIMES,
        initial_cash=1000.0,
        start=pd.Timestamp("2021-01-04T14:30Z"),
        positions=pd.DataFrame({"AAA": [500.0, 500.0, 0.0]}, index=TIMES),
        sectors={"AAA": "tech", "BBB": "tech"},
        prices={"AAA": _ohlc([10.0, 11.0, 9.9], TIMES), "BBB": _ohlc([20.0, 20.0, 22.0], TIMES)},
    )
    a = pnl_attribution(inputs)
    np.testing.assert_allclose(a.per_bar["pnl"], [0.0, 50.0, -50.0], atol=1e-9)
    np.testing.assert_allclose(a.per_bar["market"], [0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(a.per_bar["sector"], [0.0, 25.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(a.per_bar["alpha"], [0.0, 25.0, -50.0], atol=1e-9)
    assert a.totals == pytest.approx({"pnl": 0.0, "market": 0.0, "sector": 25.0, "alpha": -25.0})
    assert a.sector_totals == pytest.approx({"tech": 25.0})
    assert (a.beta, a.benchmark_used) == (0.0, False)
    assert "no benchmark" in a.note


def test_components_sum_exactly_to_total_pnl_with_a_benchmark(make_inputs: Make) -> None:
    rng = np.random.default_rng(3)
    n = 500
    times = pd.date_range("2021-01-04T21:00:00Z", periods=n, freq="D")
    rb = rng.normal(0, 0.01, n)
    bench = pd.Series(100 * np.cumprod(1 + rb), index=times)
    equity = 1000 * np.cumprod(1 + 1.2 * rb + rng.normal(0, 0.002, n))
    symbols = {"AAA": "tech", "BBB": "tech", "CCC": "energy", "DDD": "unknown-sector-missing"}
    prices = {s: _ohlc(list(50 * np.cumprod(1 + rng.normal(0, 0.01, n))), times) for s in symbols}
    positions = pd.DataFrame({s: rng.choice([0.0, 200.0, -150.0], n) for s in symbols}, index=times)
    inputs = make_inputs(
        equity,
        times,
        initial_cash=1000.0,
        start=pd.Timestamp("2021-01-04T14:30Z"),
        benchmark=bench,
        positions=positions,
        sectors={"AAA": "tech", "BBB": "tech", "CCC": "energy"},
        prices=prices,
    )
    a = pnl_attribution(inputs)
    parts = a.per_bar["market"] + a.per_bar["sector"] + a.per_bar["alpha"]
    np.testing.assert_allclose(parts, a.per_bar["pnl"], rtol=0, atol=1e-9)
    assert a.totals["pnl"] == pytest.approx(equity[-1] - 1000.0)
    assert sum(a.sector_totals.values()) == pytest.approx(a.totals["sector"])
    assert set(a.sector_totals) == {"tech", "energy", "unknown"}
    # the beta is the full-sample OLS one, and the market part of bar 2 is beta * r_b * prior equity
    assert a.benchmark_used and a.beta == pytest.approx(performance_metrics(inputs).beta)
    assert a.per_bar["market"].iloc[1] == pytest.approx(a.beta * (bench.iloc[1] / bench.iloc[0] - 1) * equity[0])
    assert a.per_bar["market"].iloc[0] == 0.0  # the benchmark has no return on its first bar


def test_exposure_by_sector_is_gross_value_over_equity() -> None:
    times = TIMES[:2]
    positions = pd.DataFrame({"AAA": [500.0, 0.0], "BBB": [-300.0, 100.0], "CCC": [200.0, 0.0]}, index=times)
    equity = pd.Series([1000.0, 500.0], index=times)
    exposure = exposure_by_sector(positions, {"AAA": "tech", "BBB": "tech"}, equity)
    assert exposure.columns.tolist() == ["tech", "unknown"]  # CCC has no sector
    np.testing.assert_allclose(exposure["tech"], [0.8, 0.2])  # (500 + 300) / 1000, 100 / 500
    np.testing.assert_allclose(exposure["unknown"], [0.2, 0.0])  # 200 / 1000


def test_cost_totals_equal_the_sum_of_fills_costs_and_bps_by_hand(
    make_trade: Callable[..., dict[str, Any]], make_fill: Callable[..., dict[str, Any]]
) -> None:
    trades = pd.DataFrame(
        [
            # traded value 10 * 100 + 10 * 110 = 2100; costs 2.1 + 1.05 + 0.21 = 3.36
            make_trade(
                trade_id="a",
                quantity=10.0,
                entry_price=100.0,
                exit_price=110.0,
                pnl=96.64,
                commission=2.1,
                spread_slippage=1.05,
                impact=0.21,
            ),
            # open short: traded value 5 * 40 = 200 (no exit yet); costs 0.2 + 0.1 + 0
            make_trade(
                trade_id="b",
                side="sell_short",
                status="open",
                quantity=5.0,
                entry_price=40.0,
                exit_price=np.nan,
                pnl=-10.3,
                commission=0.2,
                spread_slippage=0.1,
            ),
        ],
        columns=list(TRADE_COLUMNS),
    )
    fills = pd.DataFrame(
        [
            make_fill(quantity=10.0, price=100.0, commission=1.0, spread_slippage=0.5, impact=0.1),
            make_fill(side="sell", quantity=10.0, price=110.0, commission=1.1, spread_slippage=0.55, impact=0.11),
            make_fill(symbol="BBB", side="sell", quantity=5.0, price=40.0, commission=0.2, spread_slippage=0.1),
        ],
        columns=list(FILL_COLUMNS),
    )
    c = cost_analysis(trades, fills)
    assert c.totals["commission"] == pytest.approx(fills["commission"].sum())  # 2.3
    assert c.totals["spread_slippage"] == pytest.approx(fills["spread_slippage"].sum())  # 1.15
    assert c.totals["impact"] == pytest.approx(fills["impact"].sum())  # 0.21
    assert c.totals["explicit"] == pytest.approx(2.3)
    assert c.totals["implicit"] == pytest.approx(1.36)
    assert c.totals["total"] == pytest.approx(3.66)
    assert c.totals["traded_value"] == pytest.approx(2300.0)  # 1000 + 1100 + 200
    assert c.totals["total_bps"] == pytest.approx(3.66 / 2300 * 1e4)
    # gross = net + costs per trade: (96.64 + 3.36) + (-10.3 + 0.3) = 90; share = 3.66 / 90
    assert c.totals["gross_pnl"] == pytest.approx(90.0)
    assert c.totals["share_of_gross_pnl"] == pytest.approx(3.66 / 90)
    a = c.per_trade.set_index("trade_id")
    assert a.loc["a", "traded_value"] == pytest.approx(2100.0)
    assert a.loc["a", "explicit_bps"] == pytest.approx(10.0)  # 2.1 / 2100 * 1e4
    assert a.loc["a", "implicit_bps"] == pytest.approx(6.0)  # 1.26 / 2100 * 1e4
    assert a.loc["b", "traded_value"] == pytest.approx(200.0)
    assert a.loc["b", "total_bps"] == pytest.approx(15.0)  # 0.3 / 200 * 1e4


def test_cost_share_is_none_when_gross_pnl_is_not_positive(make_trade: Callable[..., dict[str, Any]]) -> None:
    trades = pd.DataFrame([make_trade(pnl=-5.0, commission=1.0)], columns=list(TRADE_COLUMNS))
    c = cost_analysis(trades, pd.DataFrame(columns=list(FILL_COLUMNS)))
    assert c.totals["share_of_gross_pnl"] is None
    assert c.totals["total_bps"] is None  # no fills, no traded value
    assert c.totals["gross_pnl"] == pytest.approx(-4.0)
