"""Resampling against hand-built bars: every expected OHLCV row is written out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns
from quantdesk.data.resample import resample
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe

NYSE = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))
ASX = TradingCalendar(timezone="Australia/Sydney", session_open=dt.time(10, 0), session_close=dt.time(16, 0))
UTC = TradingCalendar()

Row = tuple[str, float, float, float, float, float]


def make(rows: list[Row], tf: Timeframe, calendar: TradingCalendar = NYSE) -> Bars:
    cols = list(zip(*rows, strict=True))
    return Bars.from_arrays(
        "AAA",
        tf,
        {
            "ts": np.array([to_utc_ns(t) for t in cols[0]]),
            **{
                name: np.array(cols[i + 1], dtype=float)
                for i, name in enumerate(("open", "high", "low", "close", "volume"))
            },
        },
        calendar,
    )


def rows_of(bars: Bars) -> list[Row]:
    return [
        (ns_to_iso(int(t)), float(o), float(h), float(lo), float(c), float(v))
        for t, o, h, lo, c, v in zip(bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume, strict=True)
    ]


def test_minutes_to_5m_takes_first_open_max_high_min_low_last_close_and_summed_volume() -> None:
    minutes: list[Row] = [
        ("2024-01-16T14:30:00Z", 10.0, 11.0, 9.0, 10.5, 100),
        ("2024-01-16T14:31:00Z", 10.5, 12.0, 10.0, 11.0, 200),
        ("2024-01-16T14:32:00Z", 11.0, 11.5, 8.0, 9.0, 300),
        ("2024-01-16T14:33:00Z", 9.0, 9.5, 8.5, 9.2, 50),
        ("2024-01-16T14:34:00Z", 9.2, 10.0, 9.0, 9.8, 50),
        ("2024-01-16T14:35:00Z", 9.8, 10.2, 9.7, 10.0, 10),
        ("2024-01-16T14:37:00Z", 10.0, 13.0, 10.0, 12.5, 20),  # 09:36 is missing
    ]
    out = resample(make(minutes, Timeframe.M1), "5m")
    assert out.timeframe is Timeframe.M5
    assert out.symbol == "AAA"
    assert out.calendar == NYSE
    assert rows_of(out) == [
        ("2024-01-16T14:30:00Z", 10.0, 12.0, 8.0, 9.8, 700),
        ("2024-01-16T14:35:00Z", 9.8, 13.0, 9.7, 12.5, 30),
    ]


def test_minutes_to_1h_bins_run_from_0930_new_york_in_winter_and_summer() -> None:
    minutes: list[Row] = [
        ("2024-01-16T14:30:00Z", 10.0, 10.5, 9.5, 10.2, 1),  # 09:30 EST
        ("2024-01-16T15:29:00Z", 10.2, 11.0, 10.1, 10.8, 2),  # 10:29 EST
        ("2024-01-16T15:30:00Z", 10.8, 10.9, 10.0, 10.1, 3),  # 10:30 EST
        ("2024-01-16T16:15:00Z", 10.1, 10.3, 9.0, 9.5, 4),  # 11:15 EST
        ("2024-07-16T13:30:00Z", 20.0, 20.5, 19.5, 20.1, 5),  # 09:30 EDT
        ("2024-07-16T14:29:00Z", 20.1, 21.0, 20.0, 20.9, 6),  # 10:29 EDT
        ("2024-07-16T14:30:00Z", 20.9, 21.5, 20.8, 21.2, 7),  # 10:30 EDT
    ]
    out = resample(make(minutes, Timeframe.M1), Timeframe.H1)
    assert rows_of(out) == [
        ("2024-01-16T14:30:00Z", 10.0, 11.0, 9.5, 10.8, 3),
        ("2024-01-16T15:30:00Z", 10.8, 10.9, 9.0, 9.5, 7),
        ("2024-07-16T13:30:00Z", 20.0, 21.0, 19.5, 20.9, 11),
        ("2024-07-16T14:30:00Z", 20.9, 21.5, 20.8, 21.2, 7),
    ]


def test_minutes_to_1h_without_a_session_are_on_the_utc_hour() -> None:
    minutes: list[Row] = [
        ("2024-01-16T14:30:00Z", 10.0, 10.5, 9.5, 10.2, 1),
        ("2024-01-16T14:59:00Z", 10.2, 11.0, 10.1, 10.8, 2),
        ("2024-01-16T15:00:00Z", 10.8, 10.9, 10.0, 10.1, 3),
    ]
    out = resample(make(minutes, Timeframe.M1, UTC), Timeframe.H1)
    assert rows_of(out) == [
        ("2024-01-16T14:00:00Z", 10.0, 11.0, 9.5, 10.8, 3),
        ("2024-01-16T15:00:00Z", 10.8, 10.9, 10.0, 10.1, 3),
    ]


def test_minutes_to_daily_group_by_new_york_session_date() -> None:
    minutes: list[Row] = [
        ("2024-01-16T14:30:00Z", 10.0, 10.5, 9.5, 10.2, 1),  # Tuesday 09:30
        ("2024-01-16T18:00:00Z", 10.2, 12.0, 10.1, 11.8, 2),
        ("2024-01-16T20:59:00Z", 11.8, 11.9, 11.0, 11.1, 3),  # Tuesday 15:59
        ("2024-01-17T14:30:00Z", 11.0, 11.2, 10.4, 10.5, 4),  # Wednesday 09:30
        ("2024-01-17T20:59:00Z", 10.5, 10.6, 10.3, 10.4, 5),
    ]
    out = resample(make(minutes, Timeframe.M1), "daily")
    assert out.timeframe is Timeframe.D1
    assert rows_of(out) == [
        ("2024-01-16T00:00:00Z", 10.0, 12.0, 9.5, 11.1, 6),
        ("2024-01-17T00:00:00Z", 11.0, 11.2, 10.3, 10.4, 9),
    ]


def test_minutes_to_daily_use_the_local_date_when_the_session_straddles_utc_midnight() -> None:
    minutes: list[Row] = [
        ("2024-01-15T23:00:00Z", 5.0, 5.5, 4.9, 5.2, 10),  # Tuesday 16 January 10:00 in Sydney
        ("2024-01-16T04:59:00Z", 5.2, 5.3, 4.5, 4.6, 20),  # Tuesday 15:59 in Sydney
        ("2024-01-16T23:00:00Z", 4.6, 4.8, 4.6, 4.7, 30),  # Wednesday 10:00 in Sydney
    ]
    out = resample(make(minutes, Timeframe.M1, ASX), Timeframe.D1)
    assert rows_of(out) == [
        ("2024-01-16T00:00:00Z", 5.0, 5.5, 4.5, 4.6, 30),
        ("2024-01-17T00:00:00Z", 4.6, 4.8, 4.6, 4.7, 30),
    ]
    assert [ns_to_iso(int(k)) for k in out.known_ns()] == ["2024-01-16T05:00:00Z", "2024-01-17T05:00:00Z"]


def test_daily_to_weekly_is_labelled_by_monday_even_when_monday_has_no_bar() -> None:
    days: list[Row] = [
        ("2024-01-02", 100.0, 101.0, 99.0, 100.5, 10),  # Tuesday (Monday 1 January a holiday)
        ("2024-01-03", 100.5, 103.0, 100.0, 102.0, 20),
        ("2024-01-05", 102.0, 102.5, 98.0, 98.5, 30),  # Friday
        ("2024-01-08", 98.5, 99.0, 97.0, 97.5, 40),  # Monday
        ("2024-01-10", 97.5, 99.5, 97.2, 99.0, 50),  # Wednesday
    ]
    out = resample(make(days, Timeframe.D1), "weekly")
    assert rows_of(out) == [
        ("2024-01-01T00:00:00Z", 100.0, 103.0, 98.0, 98.5, 60),
        ("2024-01-08T00:00:00Z", 98.5, 99.5, 97.0, 99.0, 90),
    ]


def test_daily_to_monthly_is_labelled_by_the_first_of_the_month() -> None:
    days: list[Row] = [
        ("2024-01-30", 100.0, 101.0, 99.0, 100.5, 10),
        ("2024-01-31", 100.5, 102.0, 100.0, 101.5, 20),
        ("2024-02-01", 101.5, 104.0, 101.0, 103.0, 30),
        ("2024-02-02", 103.0, 103.5, 95.0, 96.0, 40),
    ]
    out = resample(make(days, Timeframe.D1), "1M")
    assert out.timeframe is Timeframe.MN1
    assert rows_of(out) == [
        ("2024-01-01T00:00:00Z", 100.0, 102.0, 99.0, 101.5, 30),
        ("2024-02-01T00:00:00Z", 101.5, 104.0, 95.0, 96.0, 70),
    ]


def test_minutes_to_weekly_groups_by_the_local_session_dates_monday() -> None:
    minutes: list[Row] = [
        ("2024-01-19T20:59:00Z", 10.0, 10.5, 9.5, 10.2, 1),  # Friday 15:59 New York
        ("2024-01-22T14:30:00Z", 10.2, 11.0, 10.1, 10.8, 2),  # Monday 09:30
    ]
    out = resample(make(minutes, Timeframe.M1), Timeframe.W1)
    assert [r[0] for r in rows_of(out)] == ["2024-01-15T00:00:00Z", "2024-01-22T00:00:00Z"]


@pytest.mark.parametrize(("source", "target"), [(Timeframe.D1, "1h"), (Timeframe.M5, "1m"), (Timeframe.MN1, "1w")])
def test_resampling_to_a_finer_timeframe_is_a_config_error(source: Timeframe, target: str) -> None:
    bars = make([("2024-01-02", 1.0, 1.0, 1.0, 1.0, 1)], source)
    with pytest.raises(ConfigError) as info:
        resample(bars, target)
    assert str(info.value) == f"cannot resample {source.value} bars to the finer timeframe {target}"


def test_resampling_to_the_same_timeframe_returns_the_bars_unchanged() -> None:
    bars = make([("2024-01-02", 1.0, 1.0, 1.0, 1.0, 1)], Timeframe.D1)
    assert resample(bars, "1d") is bars


def test_resampling_no_bars_gives_no_bars_of_the_target_timeframe() -> None:
    bars = make([("2024-01-16T14:30:00Z", 1.0, 1.0, 1.0, 1.0, 1)], Timeframe.M1)[:0]
    out = resample(bars, Timeframe.H1)
    assert (len(out), out.timeframe, out.calendar) == (0, Timeframe.H1, NYSE)


def test_unknown_target_name_is_a_config_error() -> None:
    bars = make([("2024-01-02", 1.0, 1.0, 1.0, 1.0, 1)], Timeframe.D1)
    with pytest.raises(ConfigError, match="unknown timeframe 'quarterly'"):
        resample(bars, "quarterly")
