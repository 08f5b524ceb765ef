"""The beta-neutral benchmark hedge: hand-built paths to the cent, the rolling beta, the neutrality it buys,
and the input checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.risk.hedge import (
    FALLBACK_BETA,
    HedgeResult,
    benchmark_returns,
    beta_neutral_hedge,
    rolling_beta,
)

NAN = np.nan


def hedge(pv: list[float], bench_open: list[float], bench_close: list[float], equity: float, **kw: Any) -> HedgeResult:
    """One instrument, beta at its fallback (min_obs larger than the data), the asset's returns unknown."""
    n = len(pv)
    args: dict[str, Any] = {"window_bars": 60, "min_obs": 60} | kw
    return beta_neutral_hedge(
        np.array(pv, dtype=float)[:, None], np.full((n, 1), NAN), np.array(bench_open), np.array(bench_close),
        np.full(n, equity), **args,
    )  # fmt: skip


def test_hand_built_hedge_units_fills_and_pnl_to_the_cent() -> None:
    # band 2% of 20,000 = 400; commission 10 bp of value; half-spread 5 bp; whole units.
    r = hedge(
        pv=[10_000.0, 10_050.0, 10_050.0, 9_000.0, 9_000.0],
        bench_open=[100.0, 100.5, 100.0, 99.5, 101.0],
        bench_close=[100.0, 101.0, 99.0, 100.0, 102.0],
        equity=20_000.0, rebalance_band=0.02, fee_bps=10.0, half_spread_bps=5.0, lot=1.0,
    )  # fmt: skip
    # row 0 close: target -10000/100 = -100, |-100 * 100| > 400 -> sell 100 at row 1's open.
    # row 1 close: target trunc(-10050/101 = -99.50) = -99; 1 unit * 101 < 400: hold.
    # row 2 close: target trunc(-10050/99 = -101.52) = -101; 1 unit * 99 < 400: hold.
    # row 3 close: target -9000/100 = -90; 10 units * 100 = 1000 > 400 -> buy 10 at row 4's open.
    # row 4 close: target trunc(-9000/102 = -88.24) = -88; 2 units * 102 < 400: hold.
    np.testing.assert_array_equal(r.units, [0.0, -100.0, -100.0, -100.0, -90.0])
    np.testing.assert_array_equal(r.fills["row"], [1, 4])
    np.testing.assert_array_equal(r.fills["decided_row"], [0, 3])
    np.testing.assert_array_equal(r.fills["units"], [-100.0, 10.0])
    # sell at 100.5 * (1 - 0.0005); buy at 101 * (1 + 0.0005)
    np.testing.assert_allclose(r.fills["price"], [100.44975, 101.0505], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.fills["commission"], [10.044975, 1.010505], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.fills["spread"], [5.025, 0.505], rtol=0, atol=1e-9)
    # cash after the sale: 10044.975 - 10.044975 = 10034.930025; after the buy: - 1010.505 - 1.010505
    expected_pnl = [
        0.0,
        10_034.930025 - 100 * 101.0,  # -65.069975
        10_034.930025 - 100 * 99.0,  # 134.930025
        10_034.930025 - 100 * 100.0,  # 34.930025
        9_023.41452 - 90 * 102.0,  # -156.58548
    ]
    np.testing.assert_allclose(r.pnl, expected_pnl, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.round(r.pnl, 2), [0.0, -65.07, 134.93, 34.93, -156.59])
    np.testing.assert_allclose(r.costs, [0.0, 15.069975, 15.069975, 15.069975, 16.58548], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(r.beta, np.full((5, 1), FALLBACK_BETA))
    np.testing.assert_array_equal(r.beta_dollars, [10_000.0, 10_050.0, 10_050.0, 9_000.0, 9_000.0])
    np.testing.assert_allclose(r.hedged_equity(np.full(5, 20_000.0)), 20_000.0 + np.array(expected_pnl), atol=1e-9)


def test_order_waits_for_the_next_benchmark_bar_and_a_missing_position_keeps_its_last_value() -> None:
    r = hedge(
        pv=[5_000.0, NAN, NAN, 5_000.0],
        bench_open=[100.0, NAN, 102.0, 103.0],
        bench_close=[100.0, NAN, 101.0, 104.0],
        equity=10_000.0, rebalance_band=0.0, fee_bps=0.0, half_spread_bps=0.0,
    )  # fmt: skip
    # row 0: target -50, no benchmark bar on row 1 -> fills at row 2's open (102); no decision on row 1.
    # row 2: position still 5000 (last value): target trunc(-5000/101 = -49.5) = -49 -> buy 1 at 103.
    np.testing.assert_array_equal(r.fills["row"], [2, 3])
    np.testing.assert_array_equal(r.fills["decided_row"], [0, 2])
    np.testing.assert_array_equal(r.fills["units"], [-50.0, 1.0])
    np.testing.assert_array_equal(r.fills["price"], [102.0, 103.0])
    np.testing.assert_array_equal(r.units, [0.0, 0.0, -50.0, -49.0])
    np.testing.assert_allclose(r.pnl, [0.0, 0.0, 5_100.0 - 50 * 101.0, 4_997.0 - 49 * 104.0], atol=1e-9)
    np.testing.assert_array_equal(r.costs, np.zeros(4))
    np.testing.assert_array_equal(r.beta_dollars, [5_000.0, 5_000.0, 5_000.0, 5_000.0])


def test_position_nan_before_any_value_counts_as_flat() -> None:
    r = hedge(pv=[NAN, NAN, 2_000.0], bench_open=[100.0] * 3, bench_close=[100.0] * 3, equity=1e4, rebalance_band=0.0)
    np.testing.assert_array_equal(r.beta_dollars, [0.0, 0.0, 2_000.0])
    assert len(r.fills) == 0  # the order decided on the last row has no next open


@pytest.mark.parametrize(
    ("exposure", "lot", "units"),
    [
        (1_050.0, 1.0, -10.0),  # -10.5 toward zero
        (-1_050.0, 1.0, 10.0),  # a short portfolio is hedged long; 10.5 toward zero
        (-1_050.0, 4.0, 8.0),
        (-1_050.0, 0.0, 10.5),  # lot 0: fractional units
        (1_234.5, 0.1, -12.3),
        (90.0, 1.0, 0.0),  # under one unit: no hedge, no fill
    ],
)
def test_target_units_are_rounded_toward_zero_to_the_lot(exposure: float, lot: float, units: float) -> None:
    r = hedge(pv=[exposure, exposure], bench_open=[100.0, 100.0], bench_close=[100.0, 100.0], equity=1e4,
              rebalance_band=0.0, lot=lot)  # fmt: skip
    assert r.units[1] == pytest.approx(units, abs=1e-12)
    assert len(r.fills) == (0 if units == 0.0 else 1)


def test_band_is_a_share_of_equity_and_strict() -> None:
    # target -10 from flat at 100: 1000 of hedge value; band 10% of 10,000 is exactly 1000 -> no trade.
    kw: dict[str, Any] = {"bench_open": [100.0, 100.0], "bench_close": [100.0, 100.0], "equity": 10_000.0}
    assert len(hedge(pv=[1_000.0, 1_000.0], rebalance_band=0.10, **kw).fills) == 0
    assert len(hedge(pv=[1_000.0, 1_000.0], rebalance_band=0.0999, **kw).fills) == 1


def test_rolling_beta_by_hand() -> None:
    bench = benchmark_returns(np.array([100.0, 110.0, 99.0, 108.9]))
    np.testing.assert_allclose(bench, [NAN, 0.1, -0.1, 0.1], atol=1e-12)
    x = np.array([[NAN, 0.05], [0.2, NAN], [-0.2, 0.1], [0.2, -0.1]])
    beta = rolling_beta(x, bench, window_bars=3, min_obs=2)
    # column 0: twice the benchmark once two pairs exist (rows 1, 2); column 1: one pair on row 2 (fallback),
    # then (0.1, -0.1) and (-0.1, 0.1) on rows 2..3: slope -1.
    np.testing.assert_allclose(beta[:, 0], [1.0, 1.0, 2.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(beta[:, 1], [1.0, 1.0, 1.0, -1.0], atol=1e-12)


def test_rolling_beta_forgets_rows_older_than_the_window() -> None:
    bench = np.array([0.01, -0.02, 0.03, -0.01, 0.02, -0.03, 0.01])
    x = np.concatenate([3.0 * bench[:3], -1.0 * bench[3:]])[:, None]
    beta = rolling_beta(x, bench, window_bars=3, min_obs=3)
    np.testing.assert_allclose(beta[[2, 5, 6], 0], [3.0, -1.0, -1.0], atol=1e-12)


def test_flat_benchmark_over_the_window_falls_back_to_beta_one() -> None:
    bench = np.full(10, 0.01)
    x = np.linspace(-0.02, 0.02, 10)[:, None]
    np.testing.assert_array_equal(rolling_beta(x, bench, window_bars=5, min_obs=3), np.full((10, 1), 1.0))


def test_one_and_a_half_beta_asset_is_neutralised_by_the_hedge() -> None:
    n = 1500
    rng = np.random.default_rng(7)
    bench_close = 100.0 * np.cumprod(1.0 + rng.normal(0.0003, 0.01, n))
    bench_ret = benchmark_returns(bench_close)
    asset_ret = 1.5 * bench_ret  # exactly 1.5 x the benchmark, NaN on row 0
    bench_open = np.concatenate([[100.0], bench_close[:-1]]) * (1.0 + rng.normal(0.0, 0.002, n))
    price = 50.0 * np.cumprod(np.where(np.isnan(asset_ret), 1.0, 1.0 + asset_ret))
    position = 1e6 / price[0] * price  # buy and hold 1,000,000 of the asset, fully invested
    equity = position.copy()

    def beta_to_bench(e: np.ndarray) -> float:
        x, y = e[101:] / e[100:-1] - 1.0, bench_ret[101:]  # after the 60-row window has filled
        return float(np.cov(x, y, bias=True)[0, 1] / np.var(y))

    for band, tolerance in ((0.02, 0.02), (0.0, 1e-3)):
        r = beta_neutral_hedge(position[:, None], asset_ret[:, None], bench_open, bench_close, equity,
                               window_bars=60, min_obs=20, rebalance_band=band)  # fmt: skip
        # 20 return pairs exist from row 20 on (row 0 has none); before that the fallback 1.0
        np.testing.assert_array_equal(r.beta[:20, 0], 1.0)
        np.testing.assert_allclose(r.beta[20:, 0], 1.5, rtol=1e-9)
        assert beta_to_bench(equity) == pytest.approx(1.5, abs=1e-9)
        # the band lets beta dollars drift up to band x equity before a re-hedge: |beta| stays under it
        assert abs(beta_to_bench(r.hedged_equity(equity))) < tolerance
        assert np.all(r.fills["row"] > r.fills["decided_row"])
        assert r.units[-1] < 0.0
        assert r.costs[-1] > 0.0


def test_empty_inputs_give_empty_outputs() -> None:
    r = beta_neutral_hedge(np.empty((0, 2)), np.empty((0, 2)), np.empty(0), np.empty(0), np.empty(0))
    assert r.units.shape == (0,) and r.beta.shape == (0, 2) and len(r.fills) == 0


def _good() -> dict[str, Any]:
    n, m = 5, 2
    return {
        "position_value": np.zeros((n, m)), "asset_returns": np.zeros((n, m)), "bench_open": np.full(n, 100.0),
        "bench_close": np.full(n, 100.0), "equity": np.full(n, 1e4),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"position_value": np.zeros(5)},
         r"position_value: expected a \(rows, instruments\) array, found shape \(5,\)"),
        ({"asset_returns": np.zeros((5, 3))},
         r"asset_returns: expected shape \(5, 2\) to match position_value, found \(5, 3\)"),
        ({"asset_returns": np.zeros((4, 2))}, r"asset_returns: expected shape \(5, 2\) .*found \(4, 2\)"),
        ({"bench_open": np.full(6, 100.0)}, r"bench_open: expected shape \(5,\) .*found \(6,\)"),
        ({"bench_close": np.full((5, 1), 100.0)}, r"bench_close: expected a \(rows,\) array, found shape \(5, 1\)"),
        ({"equity": np.full(4, 1e4)}, r"equity: expected shape \(5,\) .*found \(4,\)"),
        ({"bench_close": np.array([100.0, 0.0, 100.0, 100.0, 100.0])},
         r"bench_close: expected prices > 0 or NaN, found 0.0 at row 1"),
        ({"asset_returns": np.array([[0.0, np.inf]] * 5)}, r"asset_returns: expected finite values or NaN, found inf"),
        ({"position_value": [["a", "b"]] * 5}, r"position_value: expected .* of numbers"),
        ({"window_bars": 1}, r"window_bars: expected an integer >= 2 rows, found 1"),
        ({"window_bars": 10.0}, r"window_bars: expected an integer >= 2 rows, found 10.0"),
        ({"window_bars": 10, "min_obs": 11}, r"min_obs: expected an integer in 2..window_bars \(10\), found 11"),
        ({"rebalance_band": -0.01}, r"rebalance_band: expected a share of equity >= 0, found -0.01"),
        ({"fee_bps": np.nan}, r"fee_bps: expected 0..1000 basis points, found nan"),
        ({"half_spread_bps": 2000}, r"half_spread_bps: expected 0..1000 basis points, found 2000"),
        ({"lot": -1.0}, r"lot: expected a unit size >= 0 \(0: fractional units\), found -1.0"),
    ],
)  # fmt: skip
def test_bad_inputs_raise_config_error_naming_the_argument(change: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        beta_neutral_hedge(**(_good() | change))


def test_rolling_beta_checks_its_inputs() -> None:
    with pytest.raises(ConfigError, match=r"bench_returns: expected shape \(5,\) to match asset_returns, found \(4,\)"):
        rolling_beta(np.zeros((5, 1)), np.zeros(4))
