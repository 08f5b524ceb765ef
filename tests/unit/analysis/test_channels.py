"""Keltner, Donchian and Ichimoku: kernels against the references, TA-Lib and hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
import talib
from tests.reference.channels_reference import reference_donchian, reference_ichimoku, reference_keltner

from quantdesk.analysis.technical.channels import SPECS
from quantdesk.analysis.technical.registry import compute_indicator, get_indicator, resolve_params
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.kernels import channels as nb


def random_bars(n: int = 400, seed: int = 3) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    ts = np.arange(n, dtype=np.int64) * 86_400 * 10**9
    cols = {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": rng.uniform(1, 9, n)}
    return Bars.from_arrays("RND", Timeframe.D1, cols)


@pytest.mark.parametrize(("period", "atr_period", "multiplier"), [(20, 10, 2.0), (1, 1, 1.5), (5, 30, 0.5), (30, 5, 3)])
def test_keltner_is_talib_ema_plus_minus_multiplier_talib_atr(period: int, atr_period: int, multiplier: float) -> None:
    b = random_bars()
    middle, upper, lower = nb.keltner(b.high, b.low, b.close, period, atr_period, multiplier)
    ema = talib.EMA(b.close, period)
    atr = talib.ATR(b.high, b.low, b.close, atr_period)
    np.testing.assert_allclose(middle, ema, rtol=1e-9, atol=0)
    np.testing.assert_allclose(upper, ema + multiplier * atr, rtol=1e-9, atol=0)
    np.testing.assert_allclose(lower, ema - multiplier * atr, rtol=1e-9, atol=0)
    ref = reference_keltner(b.high, b.low, b.close, period, atr_period, multiplier)
    for got, want in zip((middle, upper, lower), ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)
    warm = max(period - 1, atr_period)
    assert np.isnan(upper[:warm]).all() and not np.isnan(upper[warm:]).any()


def test_keltner_hand_computed_on_five_bars() -> None:
    # period 3, atr_period 2, multiplier 2
    high = np.array([11.0, 12.0, 13.0, 12.0, 14.0])
    low = np.array([9.0, 10.0, 11.0, 10.0, 11.0])
    close = np.array([10.0, 11.0, 12.0, 11.0, 13.0])
    middle, upper, lower = nb.keltner(high, low, close, 3, 2, 2.0)
    # EMA: seed (10 + 11 + 12) / 3 = 11 at bar 2; k = 2 / 4 = 0.5: bar 3 11 + (11 - 11) * .5 = 11,
    # bar 4 11 + (13 - 11) * .5 = 12
    np.testing.assert_allclose(middle, [np.nan, np.nan, 11.0, 11.0, 12.0])
    # TR: bar1 max(2, |12-10|, |10-10|) = 2; bar2 max(2, 2, 0) = 2; bar3 max(2, 0, 2) = 2; bar4 max(3, 3, 0) = 3
    # ATR(2): bar 2 = (2 + 2) / 2 = 2; bar 3 = (2 * 1 + 2) / 2 = 2; bar 4 = (2 + 3) / 2 = 2.5
    np.testing.assert_allclose(upper, [np.nan, np.nan, 15.0, 15.0, 17.0])
    np.testing.assert_allclose(lower, [np.nan, np.nan, 7.0, 7.0, 7.0])


@pytest.mark.parametrize("period", [2, 3, 20, 57])
def test_donchian_equals_talib_max_min_and_pandas(period: int) -> None:
    b = random_bars()
    upper, middle, lower = nb.donchian(b.high, b.low, period)
    np.testing.assert_array_equal(upper, talib.MAX(b.high, period))
    np.testing.assert_array_equal(lower, talib.MIN(b.low, period))
    for got, want in zip((upper, middle, lower), reference_donchian(b.high, b.low, period), strict=True):
        np.testing.assert_array_equal(got, want)


def test_donchian_hand_computed_with_a_falling_series() -> None:
    high = np.array([5.0, 4.0, 6.0, 3.0, 2.0, 1.0])
    low = high - 1.0
    upper, middle, lower = nb.donchian(high, low, 3)
    np.testing.assert_array_equal(upper, [np.nan, np.nan, 6.0, 6.0, 6.0, 3.0])
    np.testing.assert_array_equal(lower, [np.nan, np.nan, 3.0, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(middle, [np.nan, np.nan, 4.5, 4.0, 3.5, 1.5])


@pytest.mark.parametrize(
    "periods",
    [(9, 26, 52, 26), (5, 20, 31, 7), (5, 10, 33, 12)],  # senkou B from two kijun windows; the last, its own pass
)
def test_ichimoku_matches_the_reference(periods: tuple[int, int, int, int]) -> None:
    b = random_bars(300)
    tenkan, kijun, senkou_b, displacement = periods
    params = {"tenkan_period": tenkan, "kijun_period": kijun, "senkou_b_period": senkou_b, "displacement": displacement}
    out = compute_indicator("Ichimoku", b, params)
    ref = reference_ichimoku(b.high, b.low, tenkan, kijun, senkou_b, displacement)
    for name, want in ref.items():
        np.testing.assert_allclose(out[name], want, rtol=1e-12, atol=0, err_msg=f"{periods} {name}")


def test_ichimoku_lines_are_talib_midprice() -> None:
    b = random_bars(300)
    out = compute_indicator("Ichimoku", b)
    np.testing.assert_array_equal(out["tenkan"], talib.MIDPRICE(b.high, b.low, 9))
    np.testing.assert_array_equal(out["kijun"], talib.MIDPRICE(b.high, b.low, 26))
    np.testing.assert_array_equal(out["chikou"], b.close)
    assert get_indicator("Ichimoku").warmup({"tenkan_period": 9, "kijun_period": 26, "senkou_b_period": 52,
                                            "displacement": 26}) == 77  # fmt: skip
    assert np.isnan(out["senkou_b"][76]) and not np.isnan(out["senkou_b"][77:]).any()


def test_ichimoku_cloud_at_t_reads_only_bars_up_to_t_minus_displacement() -> None:
    b = random_bars(200)
    full = compute_indicator("Ichimoku", b, {"displacement": 26})
    # raising every high after bar 120 changes the lines computed at t only from t = 121 on, and the cloud
    # in force at t (senkou_a/b) only from t = 121 + 26 on
    high = b.high.copy()
    high[121:] *= 1.5
    changed = Bars.from_arrays("RND", Timeframe.D1, {"ts": b.ts, "open": b.open, "high": high, "low": b.low,
                                                     "close": b.close, "volume": b.volume})  # fmt: skip
    moved = compute_indicator("Ichimoku", changed, {"displacement": 26})
    for name in ("tenkan", "kijun", "senkou_a_ahead", "senkou_b_ahead", "chikou"):
        np.testing.assert_array_equal(moved[name][:121], full[name][:121], err_msg=name)
    for name in ("senkou_a", "senkou_b"):
        np.testing.assert_array_equal(moved[name][: 121 + 26], full[name][: 121 + 26], err_msg=name)
        assert moved[name][121 + 26] != full[name][121 + 26]
    np.testing.assert_array_equal(full["senkou_a"][26:], full["senkou_a_ahead"][:-26])


def test_ichimoku_periods_must_increase_and_specs_are_numba() -> None:
    spec = get_indicator("Ichimoku")
    with pytest.raises(ConfigError, match="expected tenkan_period < kijun_period < senkou_b_period"):
        resolve_params(spec, {"tenkan_period": 30})
    assert {s.name for s in SPECS} == {"Keltner", "Donchian", "Ichimoku"}
    assert all(s.source == "numba" for s in SPECS)
    with pytest.raises(ConfigError, match="expected 2 <= period <= 100000, found 1"):
        resolve_params(get_indicator("Donchian"), {"period": 1})


def test_registry_warmups_match_first_values() -> None:
    b = random_bars(200)
    for spec in SPECS:
        out = spec.compute(b, spec.defaults())
        warm = spec.warmup(spec.defaults())
        assert tuple(out) == spec.outputs
        assert any(np.isnan(out[c][warm - 1]) for c in spec.outputs), spec.name
        assert not any(np.isnan(out[c][warm:]).any() for c in spec.outputs), spec.name
    keltner = compute_indicator("Keltner", b)
    np.testing.assert_allclose(keltner["width"], (keltner["upper"] - keltner["lower"]) / keltner["middle"])
