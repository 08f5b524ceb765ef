"""Known times and resampling bins of the trading calendar (DESIGN.md section 2)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from quantdesk.core.timestamps import NS_PER_DAY, ns_to_iso, to_utc_ns
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe

NYSE = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))
AROUND_THE_CLOCK = TradingCalendar()


def known_iso(cal: TradingCalendar, label: str, tf: Timeframe) -> str:
    return ns_to_iso(int(cal.known_ns(np.array([to_utc_ns(label)]), tf)[0]))


@pytest.mark.parametrize(
    ("date", "known"),
    [
        ("2024-01-16", "2024-01-16T21:00:00Z"),  # EST: 16:00 New York is 21:00 UTC
        ("2024-07-16", "2024-07-16T20:00:00Z"),  # EDT: 16:00 New York is 20:00 UTC
        ("2024-03-08", "2024-03-08T21:00:00Z"),  # Friday before the spring change (EST)
        ("2024-03-11", "2024-03-11T20:00:00Z"),  # Monday after the spring change (EDT)
    ],
)
def test_us_daily_bar_is_known_at_1600_new_york_on_its_date(date: str, known: str) -> None:
    assert known_iso(NYSE, date, Timeframe.D1) == known


def test_weekly_bar_labelled_monday_is_known_at_friday_close() -> None:
    assert known_iso(NYSE, "2024-01-15", Timeframe.W1) == "2024-01-19T21:00:00Z"
    assert known_iso(NYSE, "2024-07-15", Timeframe.W1) == "2024-07-19T20:00:00Z"


@pytest.mark.parametrize(
    ("label", "known"),
    [
        ("2024-03-01", "2024-03-29T20:00:00Z"),  # 31 March 2024 is a Sunday -> Friday 29th
        ("2024-06-01", "2024-06-28T20:00:00Z"),  # 30 June 2024 is a Sunday -> Friday 28th
        ("2024-01-01", "2024-01-31T21:00:00Z"),  # 31 January 2024 is a Wednesday
        ("2024-02-01", "2024-02-29T21:00:00Z"),  # leap day, a Thursday
    ],
)
def test_monthly_bar_is_known_at_the_close_of_the_months_last_weekday(label: str, known: str) -> None:
    assert known_iso(NYSE, label, Timeframe.MN1) == known


@pytest.mark.parametrize(
    ("tf", "known"),
    [
        (Timeframe.M1, "2024-01-16T14:31:00Z"),
        (Timeframe.M5, "2024-01-16T14:35:00Z"),
        (Timeframe.M15, "2024-01-16T14:45:00Z"),
        (Timeframe.H1, "2024-01-16T15:30:00Z"),
        (Timeframe.H4, "2024-01-16T18:30:00Z"),
    ],
)
def test_intraday_bar_is_known_at_open_plus_duration(tf: Timeframe, known: str) -> None:
    assert known_iso(NYSE, "2024-01-16T14:30:00Z", tf) == known
    assert known_iso(AROUND_THE_CLOCK, "2024-01-16T14:30:00Z", tf) == known


def test_around_the_clock_daily_bar_is_known_at_the_next_midnight_utc() -> None:
    assert known_iso(AROUND_THE_CLOCK, "2024-06-01", Timeframe.D1) == "2024-06-02T00:00:00Z"
    assert known_iso(AROUND_THE_CLOCK, "2024-12-31", Timeframe.D1) == "2025-01-01T00:00:00Z"


def test_around_the_clock_weekly_and_monthly_bars_are_known_at_the_period_end() -> None:
    assert known_iso(AROUND_THE_CLOCK, "2024-06-03", Timeframe.W1) == "2024-06-10T00:00:00Z"
    assert known_iso(AROUND_THE_CLOCK, "2024-02-01", Timeframe.MN1) == "2024-03-01T00:00:00Z"


def test_known_times_of_many_bars_come_out_in_input_order() -> None:
    labels = np.array([to_utc_ns(d) for d in ("2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04")])
    known = [ns_to_iso(int(x)) for x in NYSE.known_ns(labels, Timeframe.D1)]
    assert known == [
        "2024-03-08T21:00:00Z",
        "2024-03-11T20:00:00Z",
        "2024-11-01T20:00:00Z",
        "2024-11-04T21:00:00Z",
    ]


def test_one_hour_bins_of_minute_bars_are_anchored_at_0930_new_york_across_a_dst_change() -> None:
    # Friday 8 March 2024 is EST (09:30 = 14:30Z); Monday 11 March is EDT (09:30 = 13:30Z)
    minutes = [
        "2024-03-08T14:30:00Z",  # 09:30 EST
        "2024-03-08T15:29:00Z",  # 10:29 EST
        "2024-03-08T15:30:00Z",  # 10:30 EST
        "2024-03-08T20:59:00Z",  # 15:59 EST
        "2024-03-11T13:30:00Z",  # 09:30 EDT
        "2024-03-11T14:29:00Z",  # 10:29 EDT
        "2024-03-11T14:30:00Z",  # 10:30 EDT
        "2024-03-11T19:59:00Z",  # 15:59 EDT
    ]
    ts = np.array([to_utc_ns(m) for m in minutes])
    labels = [ns_to_iso(int(x)) for x in NYSE.bin_labels(ts, Timeframe.M1, Timeframe.H1)]
    assert labels == [
        "2024-03-08T14:30:00Z",
        "2024-03-08T14:30:00Z",
        "2024-03-08T15:30:00Z",
        "2024-03-08T20:30:00Z",
        "2024-03-11T13:30:00Z",
        "2024-03-11T13:30:00Z",
        "2024-03-11T14:30:00Z",
        "2024-03-11T19:30:00Z",
    ]


def test_minute_bins_before_the_open_are_anchored_to_the_open_too() -> None:
    ts = np.array([to_utc_ns("2024-01-16T14:29:00Z"), to_utc_ns("2024-01-16T13:30:00Z")])  # 09:29, 08:30
    labels = [ns_to_iso(int(x)) for x in NYSE.bin_labels(ts, Timeframe.M1, Timeframe.H1)]
    assert labels == ["2024-01-16T13:30:00Z", "2024-01-16T13:30:00Z"]


def test_around_the_clock_intraday_bins_are_floored_in_utc() -> None:
    ts = np.array([to_utc_ns("2024-01-16T14:30:00Z"), to_utc_ns("2024-01-16T14:59:00Z")])
    labels = [ns_to_iso(int(x)) for x in AROUND_THE_CLOCK.bin_labels(ts, Timeframe.M1, Timeframe.H1)]
    assert labels == ["2024-01-16T14:00:00Z", "2024-01-16T14:00:00Z"]


def test_daily_bins_of_minute_bars_use_the_local_session_date() -> None:
    # 19:59 New York on 16 January is already 00:59Z on the 17th: it belongs to the 16th's session
    ts = np.array([to_utc_ns("2024-01-16T14:30:00Z"), to_utc_ns("2024-01-17T00:59:00Z")])
    labels = [ns_to_iso(int(x)) for x in NYSE.bin_labels(ts, Timeframe.M1, Timeframe.D1)]
    assert labels == ["2024-01-16T00:00:00Z", "2024-01-16T00:00:00Z"]


def test_weekly_bins_are_labelled_monday_and_monthly_bins_the_first_of_the_month() -> None:
    days = np.array([to_utc_ns(d) for d in ("2024-01-29", "2024-02-02", "2024-02-05")])
    weekly = [ns_to_iso(int(x)) for x in NYSE.bin_labels(days, Timeframe.D1, Timeframe.W1)]
    monthly = [ns_to_iso(int(x)) for x in NYSE.bin_labels(days, Timeframe.D1, Timeframe.MN1)]
    assert weekly == ["2024-01-29T00:00:00Z", "2024-01-29T00:00:00Z", "2024-02-05T00:00:00Z"]
    assert monthly == ["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-02-01T00:00:00Z"]


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_session_day_numbers_equal_session_dates_across_offset_changes(tz: str) -> None:
    cal = TradingCalendar(timezone=tz, session_open=dt.time(9, 30), session_close=dt.time(16, 0))
    rng = np.random.default_rng(3)
    ts = np.sort(rng.integers(1_400_000_000 * 10**9, 1_750_000_000 * 10**9, 50_000)).astype(np.int64)
    expected = cal.session_dates(ts, Timeframe.M1).asi8 // NS_PER_DAY
    np.testing.assert_array_equal(cal.session_day_numbers(ts, Timeframe.M1), expected)
    shuffled = rng.permutation(ts)
    expected_shuffled = cal.session_dates(shuffled, Timeframe.M1).asi8 // NS_PER_DAY
    np.testing.assert_array_equal(cal.session_day_numbers(shuffled, Timeframe.M1), expected_shuffled)
    # 2024-03-10 is a US change day: 23:30 New York on the 9th is 04:30 UTC on the 10th, still the 9th locally
    if tz == "America/New_York":
        late = np.array([to_utc_ns("2024-03-10T04:30:00Z")], dtype=np.int64)
        assert cal.session_day_numbers(late, Timeframe.M1)[0] == to_utc_ns("2024-03-09") // NS_PER_DAY


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Australia/Lord_Howe", "America/Santiago"])
def test_session_starts_are_where_the_session_day_changes(tz: str) -> None:
    cal = TradingCalendar(timezone=tz, session_open=dt.time(9, 30), session_close=dt.time(16, 0))
    rng = np.random.default_rng(4)
    ts = np.sort(rng.integers(1_400_000_000 * 10**9, 1_750_000_000 * 10**9, 40_000)).astype(np.int64)
    days = cal.session_day_numbers(ts, Timeframe.M1)
    expected = np.flatnonzero(np.concatenate(([True], days[1:] != days[:-1])))
    np.testing.assert_array_equal(cal.session_starts(ts, Timeframe.M1), expected)
    np.testing.assert_array_equal(cal.session_starts(ts[:1], Timeframe.M1), [0])
    assert len(cal.session_starts(ts[:0], Timeframe.M1)) == 0


def test_sessions_per_bar_counts_the_trading_days_a_bar_spans() -> None:
    months = np.array([to_utc_ns("2024-01-01"), to_utc_ns("2024-02-01")], dtype=np.int64)
    weeks = np.array([to_utc_ns("2024-01-01")], dtype=np.int64)
    assert NYSE.sessions_per_bar(months, Timeframe.MN1).tolist() == [23.0, 21.0]
    assert NYSE.sessions_per_bar(weeks, Timeframe.W1).tolist() == [5.0]
    assert NYSE.sessions_per_bar(weeks, Timeframe.D1).tolist() == [1.0]
    assert TradingCalendar(weekdays_only=True).sessions_per_bar(months, Timeframe.MN1).tolist() == [23.0, 21.0]
    around_the_clock = TradingCalendar()
    assert around_the_clock.sessions_per_bar(months, Timeframe.MN1).tolist() == [31.0, 29.0]
    assert around_the_clock.sessions_per_bar(weeks, Timeframe.W1).tolist() == [7.0]
    with pytest.raises(ValueError, match="daily and longer bars, not 1h"):
        NYSE.sessions_per_bar(weeks, Timeframe.H1)


def test_weekday_time_between_two_instants_skips_the_weekend_in_local_days() -> None:
    utc = TradingCalendar(weekdays_only=True)
    friday_noon, monday_noon = to_utc_ns("2024-01-19T12:00:00Z"), to_utc_ns("2024-01-22T12:00:00Z")
    between = utc.weekday_ns_before(np.array([monday_noon])) - utc.weekday_ns_before(np.array([friday_noon]))
    assert between.tolist() == [NS_PER_DAY]  # Friday's last 12 hours and Monday's first 12
    # in New York, 2024-01-20T03:00Z is still Friday 22:00: two of those hours fall before the weekend
    ny = TradingCalendar(timezone="America/New_York", weekdays_only=True)
    late = ny.weekday_ns_before(np.array([to_utc_ns("2024-01-20T03:00:00Z"), to_utc_ns("2024-01-20T06:00:00Z")]))
    assert (late[1] - late[0]) == 2 * 3600 * 10**9
