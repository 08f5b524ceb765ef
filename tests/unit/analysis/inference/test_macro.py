"""The level-1 macro score: each component by its rule, the weights renormalised over what is known,
monthly yields invisible before their known time, the sample data's 2008 crash and 2013-14 calm, the
catalog loader, and bad input as a ConfigError naming the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.analysis.inference import MacroRules, load_macro_inputs, macro_score
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

NS_PER_HOUR = NS_PER_DAY // 24


def make_bars(close: np.ndarray, start_day: int = 17_000, symbol: str = "T", tf: Timeframe = Timeframe.D1) -> Bars:
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    open_ = np.concatenate([close[:1], close[:-1]])
    step = 7 if tf is Timeframe.W1 else 1
    ts = (start_day + step * np.arange(n, dtype=np.int64)) * NS_PER_DAY
    return Bars.from_arrays(
        symbol,
        tf,
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close) * 1.01,
            "low": np.minimum(open_, close) * 0.99,
            "close": close,
            "volume": np.ones(n),
        },
    )


def series(name: str, ts_days: np.ndarray, known_ns: np.ndarray, value: np.ndarray) -> MacroSeries:
    return MacroSeries(
        name=name,
        ts=np.asarray(ts_days, dtype=np.int64) * NS_PER_DAY,
        known_ts=np.asarray(known_ns, dtype=np.int64),
        value=np.asarray(value, dtype=np.float64),
    )


def rise_then_fall() -> np.ndarray:
    """300 days up 0.2 % a day, then 300 days down 0.3 % a day."""
    up = 100 * 1.002 ** np.arange(300)
    return np.concatenate([up, up[-1] * 0.997 ** np.arange(1, 301)])


def test_benchmark_component_is_half_above_the_sma_half_its_slope() -> None:
    close = rise_then_fall()
    bench = make_bars(close, symbol="BM")
    result = macro_score(make_bars(close), benchmark=bench)
    b = result.benchmark
    # SMA(200) first at bar 199, its 20-bar slope first at bar 219
    assert np.isnan(b[:219]).all()
    assert b[219] == 1.0 and b[299] == 1.0  # above a rising SMA
    # after the top the close crosses under the SMA(200) at bar 343, while the SMA keeps rising until bar 388
    assert close[342] > close[143:343].mean() and close[343] < close[144:344].mean()
    assert b[342] == 1.0 and (b[343:389] == 0.5).all() and (b[389:] == 0.0).all()
    assert b[-1] == 0.0  # below a falling SMA


def test_with_only_the_benchmark_coverage_is_its_weight_share_and_score_its_component() -> None:
    close = rise_then_fall()
    result = macro_score(make_bars(close), benchmark=make_bars(close, symbol="BM"))
    known = ~np.isnan(result.benchmark)
    assert known.sum() == 600 - 219
    np.testing.assert_array_equal(result.coverage[known], 0.5)  # 0.5 / (0.5 + 0.25 + 0.25)
    np.testing.assert_array_equal(result.coverage[~known], 0.0)
    np.testing.assert_array_equal(result.score[known], result.benchmark[known])
    assert np.isnan(result.score[~known]).all()
    assert set(result.missing) == {"vix", "credit"}
    assert "BAA" in result.missing["credit"] and "AAA" in result.missing["credit"]


def test_components_are_renormalised_over_the_ones_known_at_each_bar() -> None:
    n = 400
    base = make_bars(100 * 1.002 ** np.arange(n))
    days = 17_000 + np.arange(n)
    vix = series("VIX", days, (days + 1) * NS_PER_DAY, np.linspace(10, 30, n))  # rising: top of its range
    rules = MacroRules(vix_min_history_obs=10, benchmark_weight=2.0, vix_weight=1.0, credit_weight=1.0)
    result = macro_score(base, benchmark=base, vix=vix, rules=rules)
    # VIX row j is known at day j + 1 midnight, which is when base bar j is known: bar j sees row j
    assert np.isnan(result.vix[9]) and result.vix[10] == 0.0
    assert result.vix_level[10] == pytest.approx(np.linspace(10, 30, n)[10])
    i = 250  # benchmark (1.0) and VIX (0.0) known
    assert result.benchmark[i] == 1.0
    assert result.score[i] == pytest.approx(2.0 / 3.0)
    assert result.coverage[i] == pytest.approx(0.75)
    assert result.score[100] == 0.0 and result.coverage[100] == pytest.approx(0.25)  # VIX alone


def test_monthly_yields_are_not_used_before_their_known_time() -> None:
    months = pd.date_range("2016-01-01", periods=30, freq="MS")
    ts_days = (months.as_unit("ns").asi8 // NS_PER_DAY).astype(np.int64)
    # each month's average is known on the 15th of the next month at 12:00 UTC
    known = (months + pd.offsets.MonthBegin(1) + pd.Timedelta(days=14, hours=12)).as_unit("ns").asi8
    aaa = series("AAA", ts_days, known, np.full(30, 4.0))
    baa_values = np.full(30, 5.0)
    baa_values[-1] = 7.0  # the last month's spread widens from 1.0 to 3.0
    baa = series("BAA", ts_days, known, baa_values)
    base_days = np.arange(ts_days[0], ts_days[-1] + 60)
    base = make_bars(100 + np.zeros(len(base_days)), start_day=int(base_days[0]))
    rules = MacroRules(spread_min_history_obs=2)
    result = macro_score(base, benchmark=None, baa=baa, aaa=aaa, rules=rules)
    last_known_day = int(known[-1] // NS_PER_DAY)  # the 15th of the month after the last one
    before = int(np.searchsorted(base_days, last_known_day - 1))  # bar of the 14th, known at the 15th 00:00
    at = before + 1  # bar of the 15th, known at the 16th 00:00, after 12:00 on the 15th
    assert base_days[at] == last_known_day
    assert result.credit_spread[before] == pytest.approx(1.0)
    assert result.credit[before] == 0.5  # equal to every past spread: mid-rank 0.5
    assert result.credit_spread[at] == pytest.approx(3.0)
    assert result.credit[at] == 0.0  # the widest of its past decade
    month_start = int(np.searchsorted(base_days, ts_days[-1]))
    assert result.credit_spread[month_start] == pytest.approx(1.0)  # the month it describes: not known yet
    # credit alone: coverage a quarter, score the component
    assert result.coverage[at] == pytest.approx(0.25)
    assert result.score[at] == 0.0


def test_credit_needs_both_yields() -> None:
    base = make_bars(np.full(50, 100.0))
    aaa = series("AAA", np.array([16_900]), np.array([16_931 * NS_PER_DAY]), np.array([4.0]))
    result = macro_score(base, benchmark=None, aaa=aaa)
    assert result.missing["credit"] == "needs both the BAA and the AAA yield series; no BAA series given"
    assert np.isnan(result.score).all() and (result.coverage == 0.0).all()


def test_sample_data_scores_the_2008_crash_low_and_2013_14_high() -> None:
    from quantdesk.data.sources.sample import sample_bars, sample_series

    spx = sample_bars("SPX")
    vix, baa, aaa = (sample_series(name) for name in ("VIX", "BAA", "AAA"))
    result = macro_score(spx, benchmark=spx, vix=vix, baa=baa, aaa=aaa)
    score = pd.Series(result.score, index=spx.index)
    coverage = pd.Series(result.coverage, index=spx.index)
    assert score["2008-10":"2009-03"].mean() < 0.15  # measured 0.002
    assert score["2013":"2014"].mean() > 0.75  # measured 0.90
    assert coverage["2008-10":"2009-03"].eq(0.75).all()  # the sample VIX starts in 2014
    assert coverage["2015"].eq(1.0).all()
    assert result.missing == {}


def test_load_macro_inputs_reads_what_the_catalog_has(tmp_path: Path) -> None:
    from quantdesk.data.sources.sample import sample_instruments

    catalog = Catalog(tmp_path / "catalog")
    spx = next(i for i in sample_instruments() if i.symbol == "SPX")
    days = 17_000 + np.arange(5)  # Monday to Friday
    bars = Bars.from_arrays(
        "SPX",
        Timeframe.D1,
        {
            "ts": days * NS_PER_DAY,
            **{c: np.full(5, 100.0) for c in ("open", "high", "low", "close")},
            "volume": np.ones(5),
        },
        spx.calendar,
    )
    catalog.write_bars(bars, instrument=spx)
    catalog.write_series(series("VIX", days, (days + 1) * NS_PER_DAY, np.full(5, 15.0)))
    catalog.write_series(series("AAA", days[:1], np.array([days[1] * NS_PER_DAY]), np.array([4.0])))
    inputs = load_macro_inputs(catalog, benchmark_symbol="SPX")
    assert inputs.benchmark is not None and len(inputs.benchmark) == 5
    assert inputs.benchmark.calendar == spx.calendar
    assert inputs.vix is not None and inputs.vix.value.tolist() == [15.0] * 5
    assert inputs.aaa is not None and inputs.baa is None
    assert load_macro_inputs(catalog, benchmark_symbol="NOPE").benchmark is None


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("benchmark_weight", -0.5, "a finite weight >= 0"),
        ("vix_weight", float("inf"), "a finite weight >= 0"),
        ("credit_weight", "0.25", "a finite weight >= 0"),
        ("benchmark_sma_bars", 1, "an integer from 2"),
        ("vix_min_history_obs", 300, "an integer from 1 to 252"),
        ("spread_lookback_obs", 0, "an integer from 1"),
    ],
)
def test_bad_rules_raise_config_error_naming_field_expectation_and_value(
    field: str, value: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        MacroRules(**{field: value})  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"{field}: expected")
    assert expected in message
    assert repr(value) in message


def test_zero_total_weight_and_unknown_timeframe_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"expected a positive sum, found 0"):
        MacroRules(benchmark_weight=0, vix_weight=0, credit_weight=0)
    with pytest.raises(ConfigError, match=r"^benchmark_timeframe: unknown timeframe 'fortnightly'"):
        MacroRules(benchmark_timeframe="fortnightly")  # type: ignore[arg-type]


def test_empty_base_and_a_coarser_benchmark_are_config_errors() -> None:
    base = make_bars(np.full(30, 100.0))
    with pytest.raises(ConfigError, match=r"^base: expected at least one bar to score, found 0 bars of T"):
        macro_score(base[:0], benchmark=base)
    weekly = make_bars(np.full(30, 100.0), symbol="BM", tf=Timeframe.W1)
    with pytest.raises(ConfigError, match=r"^benchmark: expected bars of 1d or finer .* found 1w bars of BM"):
        macro_score(base, benchmark=weekly)


def test_sample_inputs_ending_in_2018_19_are_stale_on_2024_bars_and_the_level_is_missing() -> None:
    # the defect: SPX, VIX and BAA/AAA end in 2018-2019, and 2024 bars got a constant score with coverage 1.0
    from quantdesk.data.sources.sample import sample_bars, sample_series

    spx = sample_bars("SPX")
    ts = pd.bdate_range("2024-01-02", "2024-03-29").as_unit("ns").asi8
    n = len(ts)
    base = Bars.from_arrays(
        "T", Timeframe.D1, {"ts": ts, **{c: np.full(n, 100.0) for c in ("open", "high", "low", "close")},
                            "volume": np.ones(n)}, spx.calendar,
    )  # fmt: skip
    vix, baa, aaa = (sample_series(name) for name in ("VIX", "BAA", "AAA"))
    result = macro_score(base, benchmark=spx, vix=vix, baa=baa, aaa=aaa)
    assert np.isnan(result.score).all()
    assert (result.coverage == 0.0).all()
    for component in ("benchmark", "vix", "credit"):
        assert np.isnan(result.components()[component]).all()
    notes = result.stale_notes(0)
    assert notes["vix"] == (
        "VIX is stale: its latest value became known 2019-01-03T21:15:00Z and is too old from "
        "2019-01-10T21:15:00Z on (a daily series is used at most 7 days after it is known)"
    )
    assert (
        "the benchmark SPX (1d bars) is stale: its latest value became known 2018-12-31T21:00:00Z" in notes["benchmark"]
    )
    assert notes["credit"].startswith("BAA is stale: its latest value became known 2019-01-01T00:00:00Z")
    assert "a monthly series is used at most 45 days" in notes["credit"] and "AAA is stale" in notes["credit"]
    assert result.stale_summary()["vix"].endswith(f"missing on {n} of {n} bars")
    # over the sample's own years nothing is stale: no gap in the real data passes its maximum age
    own = macro_score(spx, benchmark=spx, vix=vix, baa=baa, aaa=aaa)
    assert own.stale_summary() == {} and own.coverage[-1] == 1.0


def test_a_daily_value_is_used_for_7_days_after_it_is_known_and_missing_after() -> None:
    days = 17_000 + np.arange(100)
    values = np.linspace(10.0, 30.0, 100)
    known = (days + 1) * NS_PER_DAY
    vix = MacroSeries(name="VIX", ts=days * NS_PER_DAY, known_ts=known, value=values, frequency="daily")
    # the base runs 20 days past the last VIX row; base bar j is known at day j + 1 midnight
    base = make_bars(np.full(120, 100.0))
    rules = MacroRules(vix_min_history_obs=10)
    result = macro_score(base, benchmark=None, vix=vix, rules=rules)
    last_known_bar = 99  # sees the last row, known the same instant
    assert result.vix_level[last_known_bar + 7] == pytest.approx(30.0)  # exactly 7 days old: still used
    assert result.coverage[last_known_bar + 7] == pytest.approx(0.25)
    assert np.isnan(result.vix_level[last_known_bar + 8 :]).all()  # older: missing, not carried forward
    assert np.isnan(result.score[last_known_bar + 8 :]).all() and (result.coverage[last_known_bar + 8 :] == 0).all()
    assert result.stale_notes(last_known_bar + 7) == {}
    assert result.stale_notes(110)["vix"].startswith("VIX is stale: its latest value became known 2016-10-26T00:00:00Z")
    # a monthly series would still be fresh at that age; an undeclared one is held to the annual bound
    monthly = MacroSeries(name="VIX", ts=vix.ts, known_ts=vix.known_ts, value=values, frequency="monthly")
    assert np.isfinite(macro_score(base, benchmark=None, vix=monthly, rules=rules).vix_level[119])
    undeclared = MacroSeries(name="VIX", ts=vix.ts, known_ts=vix.known_ts, value=values)
    assert np.isfinite(macro_score(base, benchmark=None, vix=undeclared, rules=rules).vix_level[119])
    long_base = make_bars(np.full(520, 100.0))
    late = macro_score(long_base, benchmark=None, vix=undeclared, rules=rules)
    assert np.isfinite(late.vix_level[99 + 400]) and np.isnan(late.vix_level[99 + 401])


def test_a_series_with_an_unknown_frequency_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"^series X: frequency expected one of daily, weekly, monthly.*found 'hourly'"
    ):
        MacroSeries(name="X", ts=np.array([0]), known_ts=np.array([0]), value=np.array([1.0]), frequency="hourly")
