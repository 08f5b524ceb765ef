"""The regime classifier: hand-built markets get the regime their shape says, at exact bars; the rules'
inputs are reported; the benchmark vetoes a trend against its own; the sample S&P 500 in the 2008 crash
is high-volatility; bad input is a ConfigError naming the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.reference.regime_reference import reference_trailing_rank, sorted_window_trailing_rank

from quantdesk.analysis.inference import REGIME_NAMES, Regime, RegimeRules, classify_regime
from quantdesk.analysis.inference.regime import regime_codes_at
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.kernels.regime import trailing_rank, trailing_rank_at

N = 600
# default rules: ATR(14) is first known at bar 14 and vol_pct needs 126 past values -> first known bar 140
FIRST_KNOWN = 14 + 126


def make_bars(close: np.ndarray, range_frac: float | np.ndarray, start_day: int = 17_000, symbol: str = "T") -> Bars:
    """Daily bars opening at the previous close, high/low ``range_frac`` beyond the body."""
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    frac = np.broadcast_to(np.asarray(range_frac, dtype=np.float64), (n,))
    open_ = np.concatenate([close[:1], close[:-1]])
    ts = (start_day + np.arange(n, dtype=np.int64)) * NS_PER_DAY
    return Bars.from_arrays(
        symbol,
        Timeframe.D1,
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close) * (1 + frac),
            "low": np.minimum(open_, close) * (1 - frac),
            "close": close,
            "volume": np.ones(n),
        },
    )


def test_regime_names_cover_every_code() -> None:
    assert dict(REGIME_NAMES) == {
        0: "unknown",
        1: "trending_up",
        2: "trending_down",
        3: "mean_reverting",
        4: "high_volatility",
    }


def test_steady_uptrend_is_trending_up_after_the_warm_up() -> None:
    regimes = classify_regime(make_bars(100 * 1.003 ** np.arange(N), 0.005))
    assert (regimes.codes[:FIRST_KNOWN] == Regime.UNKNOWN).all()
    assert (regimes.codes[FIRST_KNOWN:] == Regime.TRENDING_UP).all()
    assert regimes.name_at(FIRST_KNOWN) == "trending_up"
    assert regimes.name_at(FIRST_KNOWN - 1) == "unknown"
    assert regimes.codes.dtype == np.int8
    # the inputs behind it are on the record
    assert regimes.adx[-1] >= 25.0
    assert regimes.trend_slope[-1] > 0
    assert regimes.ema[-1] < 100 * 1.003 ** (N - 1)


def test_steady_downtrend_is_trending_down_after_the_warm_up() -> None:
    regimes = classify_regime(make_bars(100 * 0.997 ** np.arange(N), 0.005))
    assert (regimes.codes[:FIRST_KNOWN] == Regime.UNKNOWN).all()
    assert (regimes.codes[FIRST_KNOWN:] == Regime.TRENDING_DOWN).all()
    assert regimes.name_at(-1) == "trending_down"


def test_flat_sine_range_is_mean_reverting() -> None:
    i = np.arange(N)
    regimes = classify_regime(make_bars(100 + 2 * np.sin(2 * np.pi * i / 10), 0.005))
    assert (regimes.codes[FIRST_KNOWN:] == Regime.MEAN_REVERTING).all()
    assert np.nanmax(regimes.adx[FIRST_KNOWN:]) < 25.0
    assert regimes.share("mean_reverting") == pytest.approx((N - FIRST_KNOWN) / N)


def test_volatility_burst_after_a_calm_history_is_high_volatility() -> None:
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, 420)))
    frac = np.full(420, 0.004)
    frac[400:] = 0.03  # ranges 7.5 times wider from bar 400
    close[400:] *= 1 + rng.normal(0, 0.03, 20)
    regimes = classify_regime(make_bars(close, frac))
    assert regimes.codes[399] != Regime.HIGH_VOLATILITY
    assert (regimes.codes[400:] == Regime.HIGH_VOLATILITY).all()
    assert regimes.vol_percentile[400] == 1.0  # above every one of the past 252 bars
    assert regimes.vol[400] >= 1.25 * regimes.vol_median[400]
    assert Regime.HIGH_VOLATILITY not in set(regimes.codes[FIRST_KNOWN:390].tolist())


def test_volatility_at_the_top_of_a_flat_range_is_not_high_volatility() -> None:
    # the sine range's ATR/close wobbles by 3 %: a fifth of the bars rank in the top 20 % of their past
    # year, but none is 1.25 times the median, so the median guard keeps them out of high_volatility
    i = np.arange(N)
    bars = make_bars(100 + 2 * np.sin(2 * np.pi * i / 10), 0.005)
    regimes = classify_regime(bars)
    top = regimes.vol_percentile[FIRST_KNOWN:] >= 0.8
    assert top.mean() == pytest.approx(0.2, abs=0.02)
    assert np.nanmax(regimes.vol / regimes.vol_median) < 1.05
    assert (regimes.codes[FIRST_KNOWN:] != Regime.HIGH_VOLATILITY).all()
    without_guard = classify_regime(bars, rules=RegimeRules(vol_median_multiple=0.0))
    np.testing.assert_array_equal(without_guard.codes[FIRST_KNOWN:] == Regime.HIGH_VOLATILITY, top)


def test_a_benchmark_trending_the_other_way_vetoes_the_trend_once_it_is_known() -> None:
    base = make_bars(100 * 1.003 ** np.arange(N), 0.005)
    # the benchmark starts 300 days later and falls; its trend is known at its bar 59 (EMA 50, slope 10)
    bench = make_bars(100 * 0.997 ** np.arange(N - 300), 0.005, start_day=17_300, symbol="BM")
    regimes = classify_regime(base, benchmark=bench)
    assert np.isnan(regimes.benchmark_trend[358])
    assert regimes.benchmark_trend[359] == -1.0
    assert regimes.codes[358] == Regime.TRENDING_UP
    assert (regimes.codes[359:] == Regime.MEAN_REVERTING).all()
    same_way = classify_regime(base, benchmark=make_bars(100 * 1.002 ** np.arange(N), 0.005, symbol="BM"))
    assert (same_way.codes[FIRST_KNOWN:] == Regime.TRENDING_UP).all()


def test_a_benchmark_whose_data_ended_vetoes_nothing_once_it_is_stale() -> None:
    base = make_bars(100 * 1.003 ** np.arange(N), 0.005)
    # a falling benchmark whose bars stop after day 299: its last bar is known at day 300 midnight
    bench = make_bars(100 * 0.997 ** np.arange(300), 0.005, symbol="BM")
    regimes = classify_regime(base, benchmark=bench)
    assert regimes.benchmark_trend[299] == -1.0 and regimes.codes[299] == Regime.MEAN_REVERTING
    # base bar j is known at day j + 1: bar 306 sees the last benchmark bar 7 days old, bar 307 8 days old
    assert regimes.benchmark_trend[306] == -1.0 and regimes.codes[306] == Regime.MEAN_REVERTING
    assert np.isnan(regimes.benchmark_trend[307:]).all()
    assert (regimes.codes[307:] == Regime.TRENDING_UP).all()


def test_a_weekly_benchmark_counts_only_from_its_weeks_close() -> None:
    base = make_bars(100 * 1.003 ** np.arange(N), 0.005)
    weekly_days = 17_000 + 7 * np.arange(N // 7)  # 17_000 is a Monday
    wk_close = 100 * 0.98 ** np.arange(len(weekly_days))
    open_ = np.concatenate([wk_close[:1], wk_close[:-1]])
    weekly = Bars.from_arrays(
        "BM",
        Timeframe.W1,
        {
            "ts": weekly_days.astype(np.int64) * NS_PER_DAY,
            "open": open_,
            "high": np.maximum(open_, wk_close) * 1.01,
            "low": np.minimum(open_, wk_close) * 0.99,
            "close": wk_close,
            "volume": np.ones(len(wk_close)),
        },
    )
    regimes = classify_regime(base, benchmark=weekly)
    # weekly trend first known at week 59, whose bar (no session) is known 7 days after its Monday label,
    # at midnight: the close of daily bar 7 * 59 + 6, which is known 1 day after its own label
    first_day = 7 * 59 + 6
    assert np.isnan(regimes.benchmark_trend[first_day - 1])
    assert regimes.benchmark_trend[first_day] == -1.0


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(0, 120),
    window=st.integers(1, 30),
    min_history=st.integers(1, 30),
    nan_share=st.floats(0.0, 0.5),
)
def test_trailing_rank_kernel_equals_its_reference(
    seed: int, n: int, window: int, min_history: int, nan_share: float
) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(0, 1, n), 1)  # rounding makes ties frequent
    values[rng.random(n) < nan_share] = np.nan
    min_history = min(min_history, window)
    got = trailing_rank(values, window, min_history, np.empty((2, n)))
    want_pct, want_median = reference_trailing_rank(values, window, min_history)
    np.testing.assert_array_equal(got[0], want_pct)
    np.testing.assert_array_equal(got[1], want_median)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(0, 3_000),
    window=st.integers(1, 400),
    min_history=st.integers(1, 400),
    nan_share=st.floats(0.0, 0.6),
    decimals=st.integers(0, 3),
)
def test_trailing_rank_equals_the_former_sort_every_window_kernel(
    seed: int, n: int, window: int, min_history: int, nan_share: float, decimals: int
) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(0, 1, n), decimals)  # few decimals: many ties
    values[rng.random(n) < nan_share] = np.nan
    if n > 10:
        values[rng.integers(0, n, 3)] = [np.inf, -np.inf, -0.0]
    min_history = min(min_history, window)
    got = trailing_rank(values, window, min_history, np.empty((2, n)))
    want = sorted_window_trailing_rank(values, window, min_history, np.empty((2, n)))
    np.testing.assert_array_equal(got, want)  # bit for bit, NaN where NaN


def test_trailing_rank_over_a_million_bars_equals_the_former_kernel_on_its_tail() -> None:
    rng = np.random.default_rng(4)
    values = np.abs(rng.normal(0.01, 0.003, 1_000_000))
    got = trailing_rank(values, 252, 126, np.empty((2, len(values))))
    want = sorted_window_trailing_rank(values[-5_000 - 252 :], 252, 126, np.empty((2, 5_252)))[:, 252:]
    np.testing.assert_array_equal(got[:, -5_000:], want)
    assert np.isfinite(got[:, -5_000:]).all()


def test_trailing_rank_uses_only_past_values() -> None:
    values = np.array([1.0, 2.0, 3.0, 0.5, 2.0])
    pct, median = trailing_rank(values, 3, 2, np.empty((2, 5)))
    np.testing.assert_array_equal(pct, [np.nan, np.nan, 1.0, 0.0, 0.5])  # 2.0 among [2, 3, 0.5]: 1 below, 1 equal
    np.testing.assert_array_equal(median, [np.nan, np.nan, 1.5, 2.0, 2.0])


def test_sample_spx_in_the_2008_crash_is_high_volatility() -> None:
    from quantdesk.data.sources.sample import sample_bars

    spx = sample_bars("SPX")
    regimes = classify_regime(spx)
    names = pd.Series(regimes.names(), index=spx.index)
    crash = names["2008-10":"2008-11"]
    assert (crash == "high_volatility").mean() >= 0.9  # measured: 1.0
    calm = names["2013":"2014"]
    assert (calm == "high_volatility").mean() <= 0.2  # measured: 0.11
    assert (names["2017"] == "trending_up").mean() >= 0.2  # measured: 0.32


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("vol_percentile", 1.0, "strictly between 0 and 1"),
        ("vol_percentile", 0.0, "strictly between 0 and 1"),
        ("vol_percentile", float("nan"), "strictly between 0 and 1"),
        ("adx_trend", 120.0, "from 0 to 100"),
        ("adx_trend", "25", "from 0 to 100"),
        ("trend_ema_bars", 1, "at least 2"),
        ("vol_lookback_bars", 2.5, "integer"),
        ("vol_min_history_bars", 300, "at most 252"),
        ("min_trend_slope", -0.01, ">= 0"),
    ],
)
def test_bad_rules_raise_config_error_naming_field_expectation_and_value(
    field: str, value: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        RegimeRules(**{field: value})  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"{field}: expected")
    assert expected in message
    assert repr(value) in message


def test_empty_bars_raise_config_error() -> None:
    with pytest.raises(ConfigError, match=r"bars: expected at least one bar.*found 0"):
        classify_regime(make_bars(np.ones(5), 0.01)[:0])


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 2_000),
    window=st.integers(0, 300),
    min_history=st.integers(1, 300),
    nan_share=st.floats(0.0, 0.6),
    decimals=st.integers(0, 3),
    picks=st.integers(0, 200),
)
def test_trailing_rank_at_chosen_bars_equals_the_whole_run_there(
    seed: int, n: int, window: int, min_history: int, nan_share: float, decimals: int, picks: int
) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(0, 1, n), decimals)  # few decimals: many ties, even and odd counts
    values[rng.random(n) < nan_share] = np.nan
    if n > 10:
        values[rng.integers(0, n, 2)] = [np.inf, -np.inf]
    min_history = min(min_history, max(window, 1))
    at = np.sort(rng.integers(0, n, picks)).astype(np.int64)
    whole = trailing_rank(values, window, min_history, np.empty((2, n)))
    got = trailing_rank_at(values, window, min_history, at, np.empty((2, len(at))))
    # equal where numbers, NaN where NaN (-0.0 and 0.0 are one value here: which of two equal zeros sits at the
    # median depends on the sort, as between the kernel and the sorted-window one)
    np.testing.assert_array_equal(got, whole[:, at])


def test_regime_codes_at_chosen_bars_equal_the_classified_series() -> None:
    rng = np.random.default_rng(11)
    n = 3_000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    b = make_bars(close, np.abs(rng.normal(0.01, 0.01, n)))
    benchmark = make_bars(100 * np.exp(np.cumsum(rng.normal(0.0005, 0.01, n))), 0.01, symbol="IDX")
    at = np.sort(rng.choice(n, 400, replace=False))
    for bench in (None, benchmark):
        series = classify_regime(b, benchmark=bench)
        got = regime_codes_at(b, at, benchmark=bench)
        np.testing.assert_array_equal(got, series.codes[at])
        assert len(set(got.tolist())) >= 3  # the bars picked span several regimes, not one
    with pytest.raises(ConfigError, match="at: expected bar indices from 0 to 2999, found 5 to 3000"):
        regime_codes_at(b, np.array([5, 3000]))
