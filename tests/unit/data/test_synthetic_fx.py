"""The seeded synthetic FX market: determinism, rate rules, known times, valid bars and the planted carry effect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_HOUR
from quantdesk.data.align import align_values
from quantdesk.data.catalog import Catalog
from quantdesk.data.resample import resample
from quantdesk.data.sources.synthetic_fx import (
    CURRENCIES,
    DEFAULT_PAIRS,
    SyntheticFxConfig,
    SyntheticFxMarket,
    fx_currencies,
    generate_fx_market,
    rate_series_name,
    write_synthetic_fx,
)
from quantdesk.data.validation import validate_bars
from quantdesk.domain.bars import BAR_COLUMNS
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.timeframe import Timeframe

SHORT = {"start": "2015-01-01", "end": "2016-12-30"}


def _market(**kwargs: object) -> SyntheticFxMarket:
    return generate_fx_market(SyntheticFxConfig(**kwargs))  # type: ignore[arg-type]


def _columns(market: SyntheticFxMarket) -> dict[str, np.ndarray]:
    out = {f"{c}.rate": s.value for c, s in market.rates.items()}
    for pair, by_tf in market.bars.items():
        for tf, bars in by_tf.items():
            out.update({f"{pair}.{tf.value}.{c}": getattr(bars, c) for c in ("ts", *BAR_COLUMNS)})
    return out


# ---- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_rates_and_bars() -> None:
    a = _market(seed=3, timeframes=("1d", "1h"), **SHORT)
    b = _market(seed=3, timeframes=("1d", "1h"), **SHORT)
    cols_a, cols_b = _columns(a), _columns(b)
    assert cols_a.keys() == cols_b.keys()
    assert len(cols_a) == 5 + 4 * 2 * 6
    for key, values in cols_a.items():
        assert np.array_equal(values, cols_b[key]), key
    assert a.instruments == b.instruments


def test_different_seed_gives_different_rates_and_prices() -> None:
    a, b = _market(seed=3, **SHORT), _market(seed=4, **SHORT)
    for ccy in CURRENCIES:
        assert not np.array_equal(a.rates[ccy].value, b.rates[ccy].value), ccy
    for pair in DEFAULT_PAIRS:
        assert not np.array_equal(a.bars[pair][Timeframe.D1].close, b.bars[pair][Timeframe.D1].close), pair
        assert not np.array_equal(a.bars[pair][Timeframe.D1].volume, b.bars[pair][Timeframe.D1].volume), pair


def test_a_pairs_bars_and_a_currencys_rate_do_not_depend_on_what_else_was_asked_for() -> None:
    full = _market(seed=5, timeframes=("1d", "1h"), **SHORT)
    alone = _market(seed=5, currencies=("USD", "AUD"), pairs=("AUDUSD",), timeframes="1d", **SHORT)
    assert set(alone.rates) == {"USD", "AUD"}
    assert list(alone.bars) == ["AUDUSD"]
    for ccy in ("USD", "AUD"):
        assert np.array_equal(alone.rates[ccy].value, full.rates[ccy].value)
    for column in ("ts", *BAR_COLUMNS):
        expected = getattr(full.bars["AUDUSD"][Timeframe.D1], column)
        assert np.array_equal(getattr(alone.bars["AUDUSD"][Timeframe.D1], column), expected), column


# ---- rates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("step_pct", "bounds"), [(0.25, (-0.75, 8.0)), (0.25, (0.0, 4.0)), (0.1, (-0.5, 4.5))])
def test_rates_change_only_by_whole_steps_on_meeting_dates_and_stay_within_bounds(
    step_pct: float, bounds: tuple[float, float]
) -> None:
    market = _market(seed=11, step_pct=step_pct, rate_bounds_pct=bounds, start="2000-01-03", end="2019-12-31")
    changed_somewhere = 0
    for ccy, series in market.rates.items():
        value = series.value
        assert bounds[0] - 1e-12 <= value.min() and value.max() <= bounds[1] + 1e-12, ccy
        steps = np.diff(value) / step_pct
        assert np.allclose(steps, np.rint(steps), atol=1e-9), ccy
        assert np.abs(np.rint(steps)).max() <= 2, ccy
        change_dates = series.ts[1:][np.rint(steps) != 0]
        assert np.isin(change_dates, market.meeting_dates[ccy]).all(), ccy
        changed_somewhere += len(change_dates)
        per_year = len(market.meeting_dates[ccy]) / 20.0
        assert 7.0 <= per_year <= 8.5, (ccy, per_year)
    assert changed_somewhere > 5 * 20  # the rates do move: several changes a year per currency


def test_rate_series_are_labelled_synthetic_percent_per_year() -> None:
    market = _market(seed=1, **SHORT)
    usd = market.rates["USD"]
    assert usd.name == rate_series_name("usd") == "RATE_USD"
    assert usd.synthetic is True
    assert usd.unit == "percent per year"
    assert usd.frequency == "daily"
    assert "synthetic" in usd.description.lower()
    dates = pd.bdate_range("2015-01-01", "2016-12-30")
    assert np.array_equal(usd.ts, dates.as_unit("ns").asi8)


def test_a_rate_is_known_at_the_end_of_its_date_in_new_york_and_never_before() -> None:
    market = _market(seed=2, start="2014-01-01", end="2016-12-30")  # crosses several daylight-saving changes
    series = market.rates["EUR"]
    end_of_date_ny = (pd.DatetimeIndex(series.ts.view("datetime64[ns]")) + pd.Timedelta(days=1)).tz_localize(
        "America/New_York"
    )
    expected = end_of_date_ny.tz_convert("UTC").as_unit("ns").asi8
    assert np.array_equal(series.known_ts, expected)
    assert (series.known_ts > series.ts).all()
    lag_hours = (series.known_ts - series.ts) / NS_PER_HOUR
    assert set(np.unique(lag_hours)) == {28.0, 29.0}  # EDT and EST
    # a rate is known after the daily FX bar of its own date is complete (next midnight UTC)
    bars = market.bars["EURUSD"][Timeframe.D1]
    assert (series.known_ts > bars.known_ns()).all()


# ---- bars ----------------------------------------------------------------------------------------


def test_bars_are_valid_ohlc_with_tick_volume_at_realistic_levels() -> None:
    market = _market(seed=9, timeframes=("1h", "1d", "1w"), **SHORT)
    starts = {"AUDUSD": 0.70, "USDJPY": 110.0, "EURUSD": 1.15, "GBPUSD": 1.30}
    for pair, by_tf in market.bars.items():
        for tf, bars in by_tf.items():
            validate_bars(bars, source=f"{pair} {tf.value}")
            assert (bars.high >= np.maximum(bars.open, bars.close)).all()
            assert (bars.low <= np.minimum(bars.open, bars.close)).all()
            assert (bars.low > 0).all() and (bars.volume > 0).all()
            assert np.array_equal(bars.volume, np.rint(bars.volume))
        daily = by_tf[Timeframe.D1]
        assert daily.open[0] == pytest.approx(starts[pair], rel=1e-12)
        assert np.allclose(daily.open[1:], daily.close[:-1], rtol=1e-12)  # 24h market: opens at the last close
        assert 0.5 * starts[pair] < daily.close.min() and daily.close.max() < 2.0 * starts[pair]
        returns = np.diff(np.log(daily.close))
        assert 0.004 < returns.std() < 0.009, pair
        assert 0.005 <= market.vol_daily[pair] <= 0.008


def test_daily_bars_are_the_hours_of_each_utc_weekday_resampled() -> None:
    market = _market(seed=4, timeframes=("1d", "1h"), start="2016-03-01", end="2016-03-31")
    hourly = market.bars["USDJPY"][Timeframe.H1]
    daily = market.bars["USDJPY"][Timeframe.D1]
    assert len(hourly) == 24 * len(daily) == 24 * 23
    assert (np.diff(hourly.ts)[np.diff(hourly.ts) != 3 * NS_PER_DAY - 23 * NS_PER_HOUR] == NS_PER_HOUR).all()
    again = resample(hourly, Timeframe.D1)
    for column in ("ts", *BAR_COLUMNS):
        assert np.array_equal(getattr(again, column), getattr(daily, column)), column
    assert np.array_equal(daily.known_ns(), daily.ts + NS_PER_DAY)
    assert (pd.DatetimeIndex(daily.ts.view("datetime64[ns]")).day_of_week < 5).all()


def test_instruments_are_synthetic_forex_quoted_in_the_second_currency() -> None:
    market = _market(seed=1, **SHORT)
    by_symbol = {i.symbol: i for i in market.instruments}
    aud = by_symbol["AUDUSD"]
    assert aud.asset_class is AssetClass.FOREX
    assert (aud.currency, aud.tick_size, aud.lot_size, aud.synthetic) == ("USD", 0.00001, 1000, True)
    assert aud.name == "AUD/USD (synthetic)"
    assert aud.timezone == "UTC" and not aud.calendar.has_session
    assert by_symbol["USDJPY"].tick_size == 0.001
    assert {s: fx_currencies(i) for s, i in by_symbol.items()} == {
        "AUDUSD": ("AUD", "USD"),
        "USDJPY": ("USD", "JPY"),
        "EURUSD": ("EUR", "USD"),
        "GBPUSD": ("GBP", "USD"),
    }


def test_fx_currencies_rejects_an_instrument_that_is_not_a_six_letter_fx_pair() -> None:
    stock = Instrument(symbol="AAPL", asset_class=AssetClass.EQUITY, market="US", currency="USD")
    with pytest.raises(ConfigError, match=r"expected a forex instrument .* found 'AAPL'"):
        fx_currencies(stock)
    wrong_quote = Instrument(symbol="AUDUSD", asset_class=AssetClass.FOREX, market="FX", currency="EUR")
    with pytest.raises(ConfigError, match=r"expected AUDUSD's currency to be its quote 'USD', found 'EUR'"):
        fx_currencies(wrong_quote)


# ---- the planted effects -------------------------------------------------------------------------


def test_planted_carry_effect_is_recovered_from_returns_and_the_rates_as_known() -> None:
    """Pooled OLS of daily log returns on the differential known at the previous bar's close, over 60 years
    of four pairs (about 62,000 days): the slope, in units of 1/100/252, must lie within 4 standard errors of
    carry_loading (2.0), and more than 4 standard errors (about 0.4 each) above zero."""
    loading = 2.0
    market = _market(seed=21, carry_loading=loading, start="1960-01-04", end="2019-12-31")
    xs, ys = [], []
    for pair in DEFAULT_PAIRS:
        daily = market.bars[pair][Timeframe.D1]
        base, quote = market.rates[pair[:3]], market.rates[pair[3:]]
        assert np.array_equal(base.known_ts, quote.known_ts)
        # the differential as a strategy deciding at bar d-1's close knows it, through the one as-of join
        differential = align_values(daily.known_ns()[:-1], base.known_ts, base.value - quote.value)
        assert np.array_equal(differential[1:], market.carry_differential_pct[pair][2:])
        xs.append(differential[1:] / 100.0 / 252.0)
        ys.append(np.diff(np.log(daily.close))[1:])
    x, y = np.concatenate(xs), np.concatenate(ys)
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    sigma2 = residual @ residual / (len(y) - 2)
    se = float(np.sqrt(sigma2 * np.linalg.inv(design.T @ design)[1, 1]))
    assert abs(coef[1] - loading) < 4.0 * se, (coef[1], se)
    assert coef[1] - 4.0 * se > 0.0, (coef[1], se)
    # the same effect, model-free: days with a differential above +1 % beat days below -1 % by at least half
    # the planted gap (the gap's standard error is about a fifth of it)
    high, low = y[x > 1.0 / 100 / 252], y[x < -1.0 / 100 / 252]
    planted_gap = loading * (x[x > 1.0 / 100 / 252].mean() - x[x < -1.0 / 100 / 252].mean())
    assert high.mean() - low.mean() > 0.5 * planted_gap > 0


def test_with_no_carry_loading_the_drift_is_only_the_trend_spells() -> None:
    base = _market(seed=8, carry_loading=0.0, trend_drift_daily=0.0, **SHORT)
    loaded = _market(seed=8, carry_loading=5.0, trend_drift_daily=0.0, **SHORT)
    for pair in DEFAULT_PAIRS:
        r0 = np.diff(np.log(base.bars[pair][Timeframe.D1].close))
        r5 = np.diff(np.log(loaded.bars[pair][Timeframe.D1].close))
        expected = 5.0 * base.carry_differential_pct[pair][1:] / 100.0 / 252.0
        assert np.allclose(r5 - r0, expected, atol=1e-12), pair
    trend = _market(seed=8, **SHORT).trend["AUDUSD"]
    assert set(np.unique(trend)) <= {-0.0002, 0.0, 0.0002}
    assert len(np.unique(trend)) >= 2


# ---- the catalog ---------------------------------------------------------------------------------


def test_write_synthetic_fx_stores_series_bars_and_instruments(tmp_path: Path) -> None:
    config = SyntheticFxConfig(seed=6, timeframes=(Timeframe.D1, Timeframe.H1), start="2018-01-01", end="2018-06-29")
    market = generate_fx_market(config)
    catalog = Catalog(tmp_path)
    ticks: list[tuple[int, int]] = []
    reports = write_synthetic_fx(catalog, config, progress=lambda done, total: ticks.append((done, total)))
    assert ticks == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted((r.symbol, r.timeframe.value) for r in reports) == sorted(
        (p, tf) for p in DEFAULT_PAIRS for tf in ("1d", "1h")
    )
    assert catalog.series_names() == sorted(f"RATE_{c}" for c in CURRENCIES)
    usd = catalog.read_series("RATE_USD")
    assert np.array_equal(usd.value, market.rates["USD"].value)
    assert np.array_equal(usd.known_ts, market.rates["USD"].known_ts)
    assert usd.synthetic is True and usd.unit == "percent per year"
    stored = catalog.read_bars("AUDUSD", "1d")
    for column in ("ts", *BAR_COLUMNS):
        assert np.array_equal(getattr(stored, column), getattr(market.bars["AUDUSD"][Timeframe.D1], column))
    assert np.array_equal(stored.known_ns(), stored.ts + NS_PER_DAY)
    assert len(catalog.read_bars("AUDUSD", "1h")) == 24 * len(stored)
    inst = catalog.find_instrument("AUDUSD")
    assert inst is not None and inst.synthetic and inst.currency == "USD"
    assert fx_currencies(inst) == ("AUD", "USD")
    assert inst.technical_availability == [Timeframe.H1, Timeframe.D1]


# ---- bad configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"currencies": ("USD", "CHF")}, r"SyntheticFxConfig\.currencies: expected currencies from .* found 'CHF'"),
        ({"pairs": ("USDUSD",)}, r"SyntheticFxConfig\.pairs: expected .* found 'USDUSD' \(the same currency twice\)"),
        ({"pairs": ("AUDCHF",)}, r"SyntheticFxConfig\.pairs: expected six-letter pairs .* found 'AUDCHF'"),
        (
            {"currencies": ("USD", "EUR"), "pairs": ("AUDUSD",)},
            r"SyntheticFxConfig\.pairs: expected .* \(USD, EUR\), found 'AUDUSD' \(AUD not in currencies\)",
        ),
        (
            {"start": "2019-01-01", "end": "2018-12-31"},
            r"SyntheticFxConfig\.end: expected a date at least one business day after start \('2019-01-01'\), "
            r"found '2018-12-31'",
        ),
        ({"start": "yesterday-ish"}, r"SyntheticFxConfig\.start: expected a date .* found 'yesterday-ish'"),
        ({"timeframes": ("15m",)}, r"SyntheticFxConfig\.timeframes: expected 1h or coarser, found '15m'"),
        ({"seed": -1}, r"SyntheticFxConfig\.seed: expected an integer >= 0, found -1"),
        ({"carry_loading": float("nan")}, r"SyntheticFxConfig\.carry_loading: expected a number .* found nan"),
        ({"rate_bounds_pct": (0.0, 3.0)}, r"SyntheticFxConfig\.rate_bounds_pct: expected bounds .* AUD 3\.75"),
        ({"vol_daily_range": (0.008, 0.005)}, r"SyntheticFxConfig\.vol_daily_range: expected lower <= upper"),
    ],
)
def test_bad_config_names_the_field_the_expectation_and_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SyntheticFxConfig(**kwargs)  # type: ignore[arg-type]


def test_config_normalises_names_and_timeframes() -> None:
    config = SyntheticFxConfig(
        currencies=["usd", "jpy"],  # type: ignore[arg-type]
        pairs=["usd/jpy"],  # type: ignore[arg-type]
        timeframes=("daily", "1h"),  # type: ignore[arg-type]
    )
    assert config.currencies == ("USD", "JPY")
    assert config.pairs == ("USDJPY",)
    assert config.timeframes == (Timeframe.H1, Timeframe.D1)
    assert config.source == "synthetic_fx(seed=7)"
