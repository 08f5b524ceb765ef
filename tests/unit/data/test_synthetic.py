"""The seeded synthetic market: determinism, valid bars on the New York session, and its stylised facts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.data.catalog import Catalog
from quantdesk.data.resample import resample
from quantdesk.data.sources.synthetic import (
    REGIME_CALM,
    REGIME_HIGH_VOL,
    REGIME_TRENDING,
    SECTORS,
    SyntheticConfig,
    SyntheticMarket,
    generate_market,
    write_synthetic_market,
)
from quantdesk.data.validation import validate_bars
from quantdesk.domain.bars import BAR_COLUMNS
from quantdesk.domain.timeframe import Timeframe

NEW_YORK = "America/New_York"


def _market(**kwargs: object) -> SyntheticMarket:
    return generate_market(SyntheticConfig(**kwargs))  # type: ignore[arg-type]


def _columns(market: SyntheticMarket) -> dict[str, np.ndarray]:
    return {f"{s}.{c}": getattr(b, c) for s, b in market.bars.items() for c in ("ts", *BAR_COLUMNS)}


def _session_minutes(market: SyntheticMarket, symbol: str, column: str) -> np.ndarray:
    """A 1m column as (sessions, 390)."""
    return getattr(market.bars[symbol], column).reshape(len(market.session_dates), 390)


# ---- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_arrays() -> None:
    a = _market(n_symbols=3, days=4, timeframe="1m", seed=11)
    b = _market(n_symbols=3, days=4, timeframe="1m", seed=11)
    cols_a, cols_b = _columns(a), _columns(b)
    assert cols_a.keys() == cols_b.keys()
    for key, values in cols_a.items():
        assert np.array_equal(values, cols_b[key]), key
    assert np.array_equal(a.regimes, b.regimes)
    assert np.array_equal(a.session_dates, b.session_dates)
    assert a.instruments == b.instruments


def test_different_seed_gives_different_prices_and_volumes() -> None:
    a = _market(n_symbols=3, days=30, seed=1)
    b = _market(n_symbols=3, days=30, seed=2)
    for symbol in a.bars:
        assert not np.allclose(a.bars[symbol].close, b.bars[symbol].close)
        assert not np.array_equal(a.bars[symbol].volume, b.bars[symbol].volume)


def test_a_symbols_bars_do_not_depend_on_the_universe_size() -> None:
    small = _market(n_symbols=2, days=40, seed=5)
    large = _market(n_symbols=13, days=40, seed=5)
    for symbol in ("SYN001", "SYN002"):
        assert np.array_equal(small.bars[symbol].close, large.bars[symbol].close)
        assert np.array_equal(small.bars[symbol].volume, large.bars[symbol].volume)


# ---- instruments -----------------------------------------------------------------------------------


def test_every_instrument_is_synthetic_us_equity_with_a_sector() -> None:
    market = _market(n_symbols=12, days=2, timeframe="5m", seed=3)
    assert [i.symbol for i in market.instruments] == [f"SYN{k:03d}" for k in range(1, 13)]
    for inst in market.instruments:
        assert inst.synthetic is True
        assert inst.sector in SECTORS
        assert inst.asset_class == "equity"
        assert inst.market == "SYN_US"
        assert inst.timezone == NEW_YORK
        assert str(inst.trading_hours.regular) == "09:30-16:00"
        assert inst.source == "synthetic(seed=3)"
        assert inst.technical_availability == [Timeframe.M5]
        assert inst.name.startswith("Synthetic Co ")
        assert "not a real company" in inst.description
        assert market.bars[inst.symbol].calendar == inst.calendar
    # round-robin: SYN001 and SYN012 share the first sector, the first eleven cover every sector
    assert market.instruments[0].sector == market.instruments[11].sector == SECTORS[0]
    assert {i.sector for i in market.instruments[:11]} == set(SECTORS)


def test_start_prices_are_plausible_and_prices_stay_positive() -> None:
    market = _market(n_symbols=40, days=2500, seed=8)
    first_opens = np.array([b.open[0] for b in market.bars.values()])
    assert first_opens.min() >= 20.0
    assert first_opens.max() <= 300.0
    assert min(b.low.min() for b in market.bars.values()) > 0.0


# ---- valid bars, timestamps and the session ---------------------------------------------------------


@pytest.mark.parametrize(
    ("timeframe", "bars_per_session"),
    [("1m", 390), ("5m", 78), ("15m", 26), ("30m", 13), ("1h", 7), ("4h", 2), ("1d", 1)],
)
def test_bars_pass_validation_with_the_right_count(timeframe: str, bars_per_session: int) -> None:
    days = 6
    market = _market(n_symbols=3, days=days, timeframe=timeframe, seed=4)
    for symbol, bars in market.bars.items():
        validate_bars(bars, source=symbol)
        assert bars.timeframe is Timeframe.parse(timeframe)
        assert len(bars) == days * bars_per_session


@pytest.mark.parametrize(("timeframe", "label_weekday", "count"), [("1w", 0, 5), ("1M", None, 3)])
def test_weekly_and_monthly_bars_are_valid_and_labelled(timeframe: str, label_weekday: int | None, count: int) -> None:
    market = _market(n_symbols=2, days=60, timeframe=timeframe, seed=4, start="2024-01-03")
    bars = market.bars["SYN001"]
    validate_bars(bars, source="SYN001")
    labels = pd.DatetimeIndex(bars.ts.view("datetime64[ns]"))
    if label_weekday is not None:
        assert (labels.day_of_week == label_weekday).all()
        assert len(bars) == 13  # 60 sessions from Wednesday 3 January: 13 calendar weeks
    else:
        assert (labels.day == 1).all()
        assert len(bars) == count


@pytest.mark.parametrize(("timeframe", "per_session"), [("1m", 390), ("5m", 78)])
def test_intraday_bars_lie_inside_the_new_york_session_across_dst(timeframe: str, per_session: int) -> None:
    # 2024-03-08 is a Friday on EST (UTC-5), 2024-03-11 a Monday on EDT (UTC-4)
    market = _market(n_symbols=2, days=4, timeframe=timeframe, seed=6, start="2024-03-07")
    bars = market.bars["SYN002"]
    duration = pd.Timedelta(Timeframe.parse(timeframe).duration_ns, unit="ns")
    local = bars.index.tz_convert(NEW_YORK)
    opens_minute = local.hour * 60 + local.minute
    ends = local + duration
    assert (opens_minute >= 9 * 60 + 30).all()
    assert ((ends.hour * 60 + ends.minute) <= 16 * 60).all()
    assert (local.day_of_week < 5).all()
    per_day = pd.Series(1, index=local.date).groupby(level=0).size()
    assert per_day.tolist() == [per_session] * 4
    firsts = bars.index[::per_session].strftime("%Y-%m-%d %H:%M").tolist()
    assert firsts == ["2024-03-07 14:30", "2024-03-08 14:30", "2024-03-11 13:30", "2024-03-12 13:30"]


def test_daily_bars_are_dated_midnight_utc_on_consecutive_weekdays() -> None:
    market = _market(n_symbols=1, days=10, seed=2, start="2024-01-04")
    ts = market.bars["SYN001"].ts
    assert np.array_equal(ts, market.session_dates)
    assert (ts % NS_PER_DAY == 0).all()
    dates = pd.DatetimeIndex(ts.view("datetime64[ns]"))
    assert dates[0] == pd.Timestamp("2024-01-04")
    assert dates.equals(pd.bdate_range("2024-01-04", periods=10))
    assert market.regimes.dtype == np.int8
    assert len(market.regimes) == 10


def test_daily_open_close_and_volume_equal_the_minute_bars_resampled() -> None:
    minutes = _market(n_symbols=3, days=5, timeframe="1m", seed=9)
    daily = _market(n_symbols=3, days=5, timeframe="1d", seed=9)
    for symbol, bars in daily.bars.items():
        from_minutes = resample(minutes.bars[symbol], Timeframe.D1)
        for column in ("ts", "open", "close", "volume"):
            assert np.array_equal(getattr(from_minutes, column), getattr(bars, column)), column


def test_coarser_intraday_bars_are_the_minutes_resampled_at_the_session_open() -> None:
    minutes = _market(n_symbols=1, days=3, timeframe="1m", seed=9)
    hourly = _market(n_symbols=1, days=3, timeframe="1h", seed=9)
    expected = resample(minutes.bars["SYN001"], Timeframe.H1)
    for column in ("ts", *BAR_COLUMNS):
        assert np.array_equal(getattr(hourly.bars["SYN001"], column), getattr(expected, column)), column
    local = hourly.bars["SYN001"].index.tz_convert(NEW_YORK)[:7]
    assert local.strftime("%H:%M").tolist() == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]


# ---- stylised facts -----------------------------------------------------------------------------


def _daily_log_returns(market: SyntheticMarket) -> np.ndarray:
    return np.array([np.diff(np.log(market.bars[i.symbol].close)) for i in market.instruments])


def _pair_correlations(market: SyntheticMarket) -> tuple[np.ndarray, np.ndarray]:
    corr = np.corrcoef(_daily_log_returns(market))
    sectors = np.array([i.sector for i in market.instruments])
    upper = np.triu_indices(len(sectors), 1)
    return corr[upper], sectors[upper[0]] == sectors[upper[1]]


def test_intra_sector_correlation_is_clearly_higher_than_cross_sector() -> None:
    pairs, same_sector = _pair_correlations(_market(n_symbols=22, days=750, seed=12))
    assert same_sector.sum() == 11
    assert pairs[same_sector].mean() > pairs[~same_sector].mean() + 0.1


def test_market_factor_makes_pairs_positively_correlated() -> None:
    pairs, same_sector = _pair_correlations(_market(n_symbols=22, days=750, seed=12))
    assert pairs[~same_sector].mean() > 0.15
    assert (pairs > 0).mean() > 0.95


def test_one_minute_returns_have_fat_tails() -> None:
    market = _market(n_symbols=2, days=20, timeframe="1m", seed=13)
    for inst in market.instruments:
        returns = np.diff(np.log(_session_minutes(market, inst.symbol, "close")), axis=1).ravel()
        centred = returns - returns.mean()
        excess_kurtosis = (centred**4).mean() / (centred**2).mean() ** 2 - 3.0
        assert excess_kurtosis > 1.0, inst.symbol


def test_volume_is_u_shaped_over_the_session() -> None:
    market = _market(n_symbols=3, days=20, timeframe="1m", seed=14)
    for inst in market.instruments:
        volume = _session_minutes(market, inst.symbol, "volume")
        open_and_close = np.concatenate([volume[:, :30], volume[:, -30:]], axis=1).mean()
        midday = volume[:, 120:270].mean()  # 11:30-14:00
        assert open_and_close > 1.8 * midday, inst.symbol


def test_volume_rises_with_the_size_of_the_move() -> None:
    market = _market(n_symbols=4, days=1000, seed=15)
    for bars in market.bars.values():
        move = np.abs(np.log(bars.close / bars.open))
        big = move >= np.quantile(move, 0.9)
        small = move <= np.quantile(move, 0.5)
        assert bars.volume[big].mean() > 1.3 * bars.volume[small].mean()


def test_all_regimes_occur_and_high_vol_sessions_are_more_volatile_than_calm() -> None:
    market = _market(n_symbols=3, days=3000, seed=16)
    assert set(np.unique(market.regimes).tolist()) == {REGIME_CALM, REGIME_TRENDING, REGIME_HIGH_VOL}
    equal_weight = _daily_log_returns(market).mean(axis=0)
    regime = market.regimes[1:]
    calm_vol = equal_weight[regime == REGIME_CALM].std()
    high_vol = equal_weight[regime == REGIME_HIGH_VOL].std()
    assert high_vol > 1.8 * calm_vol


# ---- configuration ----------------------------------------------------------------------------------


def test_timeframe_text_is_parsed() -> None:
    assert SyntheticConfig(timeframe="daily").timeframe is Timeframe.D1  # type: ignore[arg-type]
    assert SyntheticConfig(timeframe="1min").timeframe is Timeframe.M1  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("n_symbols", 0, "found 0"),
        ("n_symbols", 2.5, "found 2.5"),
        ("days", 0, "found 0"),
        ("days", True, "found True"),
        ("seed", -1, "found -1"),
        ("timeframe", "2m", "'2m'"),
        ("start", "2024-01-06", "Saturday"),
        ("start", "yesterday-ish", "'yesterday-ish'"),
        ("start", "2024-01-02 10:00", "no time of day"),
    ],
)
def test_bad_config_names_the_field_and_the_value(field: str, value: object, found: str) -> None:
    with pytest.raises(ConfigError) as info:
        SyntheticConfig(**{field: value})  # type: ignore[arg-type]
    message = str(info.value)
    assert f"SyntheticConfig.{field}" in message
    assert found in message


# ---- the catalog ----------------------------------------------------------------------------------


def test_write_synthetic_market_round_trips_and_rewriting_changes_nothing(tmp_path: Path) -> None:
    config = SyntheticConfig(n_symbols=3, days=3, timeframe=Timeframe.M5, seed=21, start="2024-01-05")
    catalog = Catalog(tmp_path)
    calls: list[tuple[int, int]] = []
    reports = write_synthetic_market(catalog, config, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert [r.changed for r in reports] == [True, True, True]
    assert [r.rows_added for r in reports] == [3 * 78] * 3
    assert [r.gaps for r in reports] == [[], [], []]  # no holes inside sessions, weekends are not gaps

    expected = generate_market(config)
    reader = Catalog(tmp_path)
    for inst in expected.instruments:
        stored = reader.read_bars(inst.symbol, "5m")
        for column in ("ts", *BAR_COLUMNS):
            assert np.array_equal(getattr(stored, column), getattr(expected.bars[inst.symbol], column)), column
        assert stored.calendar == inst.calendar
        assert reader.get_instrument(inst.symbol) == inst
    assert all(d.synthetic for d in reader.datasets())

    again = write_synthetic_market(catalog, config)
    assert [r.changed for r in again] == [False, False, False]
    assert [r.rows_total for r in again] == [3 * 78] * 3
