"""As-of alignment by known time: expected indices written by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from quantdesk.core.timestamps import NS_PER_HOUR, NS_PER_MINUTE, to_utc_ns
from quantdesk.data.align import align_bars, align_series, align_values, asof_indices, series_on_bars
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

NYSE = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))
OPEN_0116 = to_utc_ns("2024-01-16T14:30:00Z")  # Tuesday 09:30 New York (EST)
OPEN_0117 = to_utc_ns("2024-01-17T14:30:00Z")


def bars_at(ts: np.ndarray, tf: Timeframe, close: np.ndarray | None = None) -> Bars:
    n = len(ts)
    c = np.arange(1.0, n + 1) if close is None else close
    return Bars.from_arrays(
        "AAA",
        tf,
        {"ts": ts, "open": c, "high": c + 0.5, "low": c - 0.5, "close": c, "volume": np.full(n, 100.0)},
        NYSE,
    )


def test_5m_bars_see_a_1h_bar_only_from_the_5m_bar_closing_at_its_close() -> None:
    five = bars_at(OPEN_0116 + np.arange(30) * 5 * NS_PER_MINUTE, Timeframe.M5)  # 09:30 ... 11:55
    hourly = bars_at(OPEN_0116 + np.arange(3) * NS_PER_HOUR, Timeframe.H1, np.array([10.0, 20.0, 30.0]))
    # 5m bars 09:30..10:20 close by 10:25: no hour closed yet (the 10:00 bar does not see 09:30-10:30);
    # 10:25..11:20 (closing 10:30..11:25) see the 09:30 hour; 11:25..11:55 see the 10:30 hour
    expected = [-1] * 11 + [0] * 12 + [1] * 7
    assert asof_indices(five.known_ns(), hourly.known_ns()).tolist() == expected
    aligned = align_bars(five, hourly)
    assert aligned["ts"][6] == -1  # the 10:00 bar
    assert aligned["ts"][11] == OPEN_0116  # the 10:25 bar closes at 10:30 with the hour
    assert aligned["ts"][23] == OPEN_0116 + NS_PER_HOUR
    assert np.isnan(aligned["close"][:11]).all()
    assert aligned["close"][11:].tolist() == [10.0] * 12 + [20.0] * 7
    assert aligned["high"][11] == 10.5


def test_daily_close_is_invisible_to_that_days_intraday_bars_and_visible_from_the_next_day() -> None:
    hours = np.arange(7) * NS_PER_HOUR  # 09:30 ... 15:30 New York
    hourly = bars_at(np.concatenate([OPEN_0116 + hours, OPEN_0117 + hours]), Timeframe.H1)
    daily = bars_at(np.array([to_utc_ns("2024-01-16"), to_utc_ns("2024-01-17")]), Timeframe.D1, np.array([7.0, 8.0]))
    aligned = align_bars(hourly, daily)
    # the 15:30 bar runs past the 16:00 close and is known at 16:30, after the daily bar (16:00)
    tuesday = [-1, -1, -1, -1, -1, -1, 0]
    wednesday = [0, 0, 0, 0, 0, 0, 1]
    expected = [*tuesday, *wednesday]
    assert asof_indices(hourly.known_ns(), daily.known_ns()).tolist() == expected
    assert aligned["ts"].tolist() == [-1] * 6 + [to_utc_ns("2024-01-16")] * 7 + [to_utc_ns("2024-01-17")]
    assert aligned["close"][6:].tolist() == [7.0] * 7 + [8.0]
    assert aligned["close"][7] == 7.0  # Wednesday's first bar sees Tuesday's close


def test_macro_series_is_seen_from_its_publication_not_its_period() -> None:
    cpi = MacroSeries(
        name="CPI",
        ts=np.array([to_utc_ns(d) for d in ("2023-12-01", "2024-01-01", "2024-02-01")]),
        known_ts=np.array(
            [to_utc_ns(t) for t in ("2024-01-11T13:30:00Z", "2024-02-13T13:30:00Z", "2024-03-12T12:30:00Z")]
        ),
        value=np.array([1.0, 2.0, 3.0]),
    )
    days = ["2024-01-10", "2024-01-11", "2024-02-01", "2024-02-12", "2024-02-13", "2024-03-11", "2024-03-12"]
    daily = bars_at(np.array([to_utc_ns(d) for d in days]), Timeframe.D1)
    got = align_series(daily, cpi)
    assert np.isnan(got[0])
    assert got[1:].tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 3.0]


def test_a_monthly_value_is_refused_45_days_after_its_publication_with_the_reason() -> None:
    cpi = MacroSeries(
        name="CPI",
        ts=np.array([to_utc_ns("2023-12-01"), to_utc_ns("2024-01-01")]),
        known_ts=np.array([to_utc_ns("2024-01-11T13:30:00Z"), to_utc_ns("2024-02-13T13:30:00Z")]),
        value=np.array([1.0, 2.0]),
        frequency="monthly",
    )
    # daily bars close 16:00 New York (21:00 UTC); 45 days after 2024-02-13T13:30Z is 2024-03-29T13:30Z
    days = ["2024-02-13", "2024-03-28", "2024-03-29", "2024-06-03"]
    daily = bars_at(np.array([to_utc_ns(d) for d in days]), Timeframe.D1)
    got = series_on_bars(daily, cpi)
    assert got.values[:2].tolist() == [2.0, 2.0]
    assert np.isnan(got.values[2:]).all()
    assert got.stale.stale.tolist() == [False, False, True, True]
    assert got.stale.note(3) == (
        "CPI is stale: its latest value became known 2024-02-13T13:30:00Z and is too old from 2024-03-29T13:30:00Z "
        "on (a monthly series is used at most 45 days after it is known)"
    )
    assert got.stale.note(0) is None
    assert got.stale.summary() is not None and got.stale.summary().endswith("missing on 2 of 4 bars")
    np.testing.assert_array_equal(align_series(daily, cpi), got.values)


def test_equal_known_times_count_as_known_and_ties_take_the_last_row() -> None:
    other = np.array([10, 20, 20, 25])
    assert asof_indices(np.array([9, 10, 19, 20, 24, 25, 99]), other).tolist() == [-1, 0, 0, 2, 2, 3, 3]


def test_before_the_first_known_row_index_is_minus_one_and_values_nan() -> None:
    values = np.array([[1.0, 10.0], [2.0, 20.0]])
    got = align_values(np.array([5, 15, 25]), np.array([10, 20]), values)
    assert np.isnan(got[0]).all()
    assert got[1:].tolist() == [[1.0, 10.0], [2.0, 20.0]]
    assert asof_indices(np.array([5]), np.array([10, 20])).tolist() == [-1]
    assert asof_indices(np.array([5]), np.array([], dtype=np.int64)).tolist() == [-1]


def test_unsorted_other_known_times_are_refused() -> None:
    with pytest.raises(ValueError) as info:
        asof_indices(np.array([1, 2]), np.array([10, 5]))
    assert str(info.value) == "asof_indices: other_known_ns must be sorted by known time"
