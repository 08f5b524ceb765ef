"""Beta against hand-computed OLS, factor exposures recovering planted loadings, the rolling regression's
truncation property, alignment and the errors of too little data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from quantdesk.analysis.fundamental.factors import beta, factor_exposure, fama_french_factors
from quantdesk.core.errors import ConfigError, DataError
from quantdesk.data.sources.sample import sample_bars, sample_series
from quantdesk.domain.series import MacroSeries

PLANTED = {"Mkt-RF": 1.2, "SMB": 0.5, "HML": -0.3}
PLANTED_ALPHA = 0.0002
DAILY_RF = 0.0001
# Each loading must come back within 3 of its standard errors and within 0.05 absolute. With factor volatility
# 1 % a day, noise 0.5 % a day and 2,000 days the standard errors are about 0.005 / (0.01 × sqrt(2000)) = 0.011.
SE_TOLERANCE = 3.0
ABS_TOLERANCE = 0.05


def synthetic(n: int = 2000, seed: int = 7) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2015-01-02", periods=n, tz="UTC")
    factors = pd.DataFrame(rng.normal(0.0, 0.01, size=(n, 3)), index=days, columns=list(PLANTED))
    noise = rng.normal(0.0, 0.005, size=n)
    rf = pd.Series(DAILY_RF, index=days)
    excess = PLANTED_ALPHA + factors @ pd.Series(PLANTED) + noise
    return (excess + rf).rename("asset"), factors, rf


def test_beta_matches_hand_computed_ols() -> None:
    # x = -1, 0, 1, 2, 3 (mean 1, deviations -2..2, Sxx = 10); y = -1, 1, 2, 2, 6 (mean 2, deviations -3, -1, 0, 0, 4)
    # Sxy = 6 + 1 + 0 + 0 + 8 = 15 -> beta = 1.5, alpha = 2 - 1.5 × 1 = 0.5
    # fitted -1, 0.5, 2, 3.5, 5 -> residuals 0, 0.5, 0, -1.5, 1 -> SSR = 3.5, s² = 3.5 / (5 - 2) = 7/6
    # se(beta) = sqrt(s² / Sxx) = sqrt(7/60); se(alpha) = sqrt(s² × (1/5 + 1²/10)) = sqrt(0.35)
    # SST = 9 + 1 + 0 + 0 + 16 = 26 -> R² = 1 - 3.5 / 26
    est = beta([-1.0, 1.0, 2.0, 2.0, 6.0], [-1.0, 0.0, 1.0, 2.0, 3.0])
    assert est.beta == pytest.approx(1.5)
    assert est.alpha == pytest.approx(0.5)
    assert est.beta_std_error == pytest.approx(math.sqrt(7 / 60))
    assert est.beta_t_stat == pytest.approx(1.5 / math.sqrt(7 / 60))
    assert est.alpha_std_error == pytest.approx(math.sqrt(0.35))
    assert est.r_squared == pytest.approx(1 - 3.5 / 26)
    assert est.n == 5
    assert est.to_dict()["beta"] == pytest.approx(1.5)


def test_beta_inner_joins_misaligned_series() -> None:
    asset = pd.Series([-1.0, 1.0, 2.0, 2.0, 6.0, 99.0], index=[1, 2, 3, 4, 5, 6])
    bench = pd.Series([50.0, -1.0, 0.0, 1.0, 2.0, 3.0], index=[0, 1, 2, 3, 4, 5])
    est = beta(asset, bench)
    assert est.n == 5 and est.beta == pytest.approx(1.5)
    assert (est.start, est.end) == ("1", "5")


def test_beta_with_too_few_observations_is_a_data_error() -> None:
    with pytest.raises(DataError, match="expected at least 3, found 2"):
        beta(pd.Series([0.01, 0.02, 0.03], index=[0, 1, 2]), pd.Series([0.01, 0.02, 0.03], index=[1, 2, 3]))
    with pytest.raises(DataError, match="differ in length"):
        beta([0.01, 0.02, 0.03], [0.01, 0.02])


def test_factor_exposure_recovers_planted_loadings() -> None:
    asset, factors, rf = synthetic()
    exposure = factor_exposure(asset, factors, risk_free=rf)
    assert exposure.factors == ("Mkt-RF", "SMB", "HML")
    assert exposure.n == 2000
    for name, planted in PLANTED.items():
        error = abs(exposure.loadings[name] - planted)
        assert error <= SE_TOLERANCE * exposure.std_errors[name], name
        assert error <= ABS_TOLERANCE, name
        assert exposure.t_stats[name] == pytest.approx(exposure.loadings[name] / exposure.std_errors[name])
    assert abs(exposure.alpha - PLANTED_ALPHA) <= SE_TOLERANCE * exposure.alpha_std_error
    assert exposure.r_squared > 0.85  # planted signal variance 1.78e-4 vs noise 0.25e-4: R² ≈ 0.88
    # a constant risk-free rate given as a number gives the same fit
    assert factor_exposure(asset, factors, risk_free=DAILY_RF).loadings == pytest.approx(exposure.loadings)


def test_factor_exposure_matches_a_direct_least_squares_fit() -> None:
    asset, factors, rf = synthetic(300, seed=3)
    exposure = factor_exposure(asset - rf, factors)
    x = np.column_stack([np.ones(300), factors.to_numpy()])
    coef = np.linalg.lstsq(x, (asset - rf).to_numpy(), rcond=None)[0]
    assert [exposure.alpha, *exposure.loadings.values()] == pytest.approx(coef.tolist(), abs=1e-12)


def test_rolling_loadings_at_t_use_only_data_up_to_t() -> None:
    asset, factors, rf = synthetic(400, seed=11)
    window = 60
    full = factor_exposure(asset, factors, window=window, risk_free=rf)
    assert full.rolling_loadings is not None and full.rolling_t_stats is not None
    assert full.rolling_loadings.iloc[: window - 1].isna().all().all()
    assert full.rolling_loadings.iloc[window - 1 :].notna().all().all()
    for t in (window - 1, 100, 257, 399):
        part = factor_exposure(asset[: t + 1], factors[: t + 1], window=window, risk_free=rf[: t + 1])
        assert part.rolling_loadings is not None and part.rolling_t_stats is not None
        pd.testing.assert_series_equal(part.rolling_loadings.iloc[-1], full.rolling_loadings.iloc[t], rtol=0, atol=0)
        pd.testing.assert_series_equal(part.rolling_t_stats.iloc[-1], full.rolling_t_stats.iloc[t], rtol=0, atol=0)
    # and the row at t is the plain regression on the window ending at t
    t = 257
    static = factor_exposure(asset[t - window + 1 : t + 1], factors[t - window + 1 : t + 1], risk_free=rf)
    row = full.rolling_loadings.iloc[t]
    assert row["alpha"] == pytest.approx(static.alpha, abs=1e-10)
    for name in PLANTED:
        assert row[name] == pytest.approx(static.loadings[name], abs=1e-10)
        assert full.rolling_t_stats.iloc[t][name] == pytest.approx(static.t_stats[name], rel=1e-8)


def test_misaligned_indexes_are_inner_joined() -> None:
    asset, factors, rf = synthetic(500, seed=5)
    exposure = factor_exposure(asset.iloc[20:], factors.iloc[:480], risk_free=rf.iloc[10:])
    assert exposure.n == 460
    assert exposure.start == asset.index[20].isoformat() and exposure.end == asset.index[479].isoformat()


def test_too_few_observations_and_bad_parameters() -> None:
    asset, factors, rf = synthetic(40, seed=1)
    with pytest.raises(DataError, match="at least 5"):
        factor_exposure(asset.iloc[:4], factors, risk_free=rf)
    with pytest.raises(DataError, match=r"at least 50 \(window 50\), found 40"):
        factor_exposure(asset, factors, window=50, risk_free=rf)
    with pytest.raises(ConfigError, match="window: expected a whole number of observations >= 5"):
        factor_exposure(asset, factors, window=4)
    with pytest.raises(ConfigError, match="pass it as risk_free"):
        factor_exposure(asset, factors.assign(RF=rf))


def test_fama_french_factors_from_macro_series_in_fractions() -> None:
    months = pd.DatetimeIndex(["2018-01-01", "2018-02-01"]).as_unit("ns").asi8
    series = [
        MacroSeries(name=name, ts=months, known_ts=months, value=np.array(values), unit="percent per month")
        for name, values in (("FF_MKT_RF", [5.57, -3.65]), ("FF_SMB", [-3.13, 0.24]), ("FF_RF", [0.11, 0.11]))
    ]
    frame = fama_french_factors(series)
    assert list(frame.columns) == ["Mkt-RF", "SMB", "RF"]
    assert frame["Mkt-RF"].tolist() == pytest.approx([0.0557, -0.0365])
    assert frame.index[0] == pd.Timestamp("2018-01-01", tz="UTC")
    with pytest.raises(ConfigError, match="found 'VIX'"):
        fama_french_factors([MacroSeries(name="VIX", ts=months, known_ts=months, value=np.array([1.0, 2.0]))])


def test_sp500_loads_on_the_real_fama_french_market_factor() -> None:
    # bundled real data (arch.data): S&P 500 monthly price returns 1999-2018 against the French library's factors
    ff = fama_french_factors([sample_series(n) for n in ("FF_MKT_RF", "FF_SMB", "FF_HML", "FF_RF")])
    rf = ff.pop("RF")
    bars = sample_bars("SPX")
    close = pd.Series(bars.close, index=pd.DatetimeIndex(bars.ts, tz="UTC"))
    monthly = close.resample("MS").last().pct_change()  # labelled by the month it covers, as the factors are
    exposure = factor_exposure(monthly, ff, risk_free=rf)
    assert exposure.n == 238
    assert exposure.loadings["Mkt-RF"] == pytest.approx(1.0, abs=0.05)
    assert exposure.loadings["SMB"] < 0  # large caps load negatively on small-minus-big
    assert exposure.r_squared > 0.97


def test_returns_that_do_not_overlap_the_factors_say_where_each_lies() -> None:
    factors = pd.DataFrame(
        {"Mkt-RF": np.linspace(-0.02, 0.02, 24), "SMB": np.linspace(0.01, -0.01, 24)},
        index=pd.date_range("2017-01-31", periods=24, freq="ME"),
    )
    returns = pd.Series(np.full(12, 0.01), index=pd.date_range("2024-01-31", periods=12, freq="ME"))
    with pytest.raises(
        DataError, match=r"found 0 \(the returns cover 2024-01 to 2024-12, the factors 2017-01 to 2018-12\)"
    ):
        factor_exposure(returns, factors)
