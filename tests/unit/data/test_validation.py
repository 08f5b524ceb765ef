"""Bar validation rules with their exact messages, and the gap report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantdesk.core.errors import DataError
from quantdesk.core.timestamps import NS_PER_MINUTE, to_utc_ns
from quantdesk.data.catalog import Catalog
from quantdesk.data.validation import Gap, find_gaps, validate_bar_arrays, validate_bars
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe

START = to_utc_ns("2024-01-16T14:30:00Z")  # Tuesday 09:30 New York
NYSE = Instrument(
    symbol="AAA", asset_class="equity", market="US", currency="USD", trading_hours={"regular": "09:30-16:00"}
).calendar
UTC = TradingCalendar()


def good(n: int = 5) -> dict[str, np.ndarray]:
    """``n`` valid one-minute bars as writable arrays: open 100, high 102, low 99, close 101, volume 10."""
    return {
        "ts": START + np.arange(n, dtype=np.int64) * NS_PER_MINUTE,
        "open": np.full(n, 100.0),
        "high": np.full(n, 102.0),
        "low": np.full(n, 99.0),
        "close": np.full(n, 101.0),
        "volume": np.full(n, 10.0),
    }


def error_of(cols: dict[str, np.ndarray], **kwargs: object) -> DataError:
    with pytest.raises(DataError) as info:
        validate_bar_arrays(cols["ts"], cols, source="test.csv", **kwargs)  # type: ignore[arg-type]
    return info.value


def test_valid_bars_pass() -> None:
    cols = good()
    validate_bar_arrays(cols["ts"], cols, source="test.csv")
    validate_bars(Bars.from_arrays("AAA", Timeframe.M1, cols), source="test.csv")
    validate_bar_arrays(np.empty(0, dtype=np.int64), {k: v[:0] for k, v in cols.items()}, source="empty")


def test_duplicate_time_names_the_row_and_the_time() -> None:
    cols = good()
    cols["ts"][2] = cols["ts"][1]
    err = error_of(cols)
    assert str(err) == (
        "test.csv, row 3, column 'ts': duplicate time; expected unique times, "
        "found 2024-01-16T14:31:00Z, the same as the row before"
    )
    assert (err.source, err.row, err.column) == ("test.csv", 3, "ts")


def test_time_out_of_order_names_both_times() -> None:
    cols = good()
    cols["ts"][[2, 3]] = cols["ts"][[3, 2]]
    assert str(error_of(cols)) == (
        "test.csv, row 4, column 'ts': time out of order; expected times in increasing order, "
        "found 2024-01-16T14:32:00Z after 2024-01-16T14:33:00Z"
    )


def test_nan_close_is_a_missing_price() -> None:
    cols = good()
    cols["close"][1] = np.nan
    assert str(error_of(cols)) == (
        "test.csv, row 2, column 'close': missing or non-finite price; expected a finite number, found NaN"
    )


def test_infinite_price_is_refused() -> None:
    cols = good()
    cols["high"][2] = np.inf
    assert str(error_of(cols)) == (
        "test.csv, row 3, column 'high': missing or non-finite price; expected a finite number, found inf"
    )


def test_zero_price_is_not_positive() -> None:
    cols = good()
    cols["low"][0] = 0.0
    assert str(error_of(cols)) == ("test.csv, row 1, column 'low': price not positive; expected a price > 0, found 0.0")


def test_negative_open_is_not_positive_and_also_breaks_the_low_rule() -> None:
    cols = good()
    cols["open"][4] = -1.5
    assert str(error_of(cols)) == (
        "test.csv, row 5, column 'open': price not positive (1 more problem after this one); "
        "expected a price > 0, found -1.5"
    )


def test_high_below_low() -> None:
    cols = good()
    cols["high"][1], cols["low"][1], cols["open"][1], cols["close"][1] = 99.0, 100.0, 99.5, 99.5
    assert str(error_of(cols)) == (
        "test.csv, row 2, column 'high': high below low; expected high >= low = 100.0, found 99.0"
    )


def test_high_below_the_larger_of_open_and_close() -> None:
    cols = good()
    cols["high"][3] = 100.5  # close is 101
    assert str(error_of(cols)) == (
        "test.csv, row 4, column 'high': high below open or close; "
        "expected high >= max(open, close) = 101.0, found 100.5"
    )


def test_low_above_the_smaller_of_open_and_close() -> None:
    cols = good()
    cols["low"][3] = 100.25  # open is 100
    assert str(error_of(cols)) == (
        "test.csv, row 4, column 'low': low above open or close; expected low <= min(open, close) = 100.0, found 100.25"
    )


def test_nan_volume_is_a_missing_volume() -> None:
    cols = good()
    cols["volume"][0] = np.nan
    assert str(error_of(cols)) == (
        "test.csv, row 1, column 'volume': missing or non-finite volume; expected a finite number, found NaN"
    )


def test_negative_volume() -> None:
    cols = good()
    cols["volume"][2] = -5.0
    assert str(error_of(cols)) == (
        "test.csv, row 3, column 'volume': negative volume; expected volume >= 0, found -5.0"
    )


def test_zero_volume_is_allowed() -> None:
    cols = good()
    cols["volume"][:] = 0.0
    validate_bar_arrays(cols["ts"], cols, source="test.csv")


def test_more_failing_rows_are_counted_after_the_first() -> None:
    cols = good()
    cols["close"][[1, 3, 4]] = np.nan
    assert str(error_of(cols)) == (
        "test.csv, row 2, column 'close': missing or non-finite price (2 more problems after this one); "
        "expected a finite number, found NaN"
    )


def test_the_first_bad_row_wins_across_rules() -> None:
    cols = good()
    cols["volume"][1] = -1.0  # a rule checked last, on an earlier row
    cols["ts"][4] = cols["ts"][3]  # a rule checked first, on a later row
    cols["high"][2] = 100.5  # a rule checked in between
    assert str(error_of(cols)) == (
        "test.csv, row 2, column 'volume': negative volume (2 more problems after this one); "
        "expected volume >= 0, found -1.0"
    )


def test_source_column_names_and_first_row_offset_are_used_in_the_message() -> None:
    cols = good()
    cols["close"][2] = np.nan
    err = error_of(cols, column_names={"ts": "Date", "close": "Adj Close"}, first_row=2)
    assert str(err) == (
        "test.csv, row 4, column 'Adj Close': missing or non-finite price; expected a finite number, found NaN"
    )
    assert (err.row, err.column, err.expected, err.found) == (4, "Adj Close", "a finite number", "NaN")


def test_invalid_bars_are_not_written_to_the_catalog(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    inst = Instrument(symbol="AAA", asset_class="equity", market="US", currency="USD")
    cat.write_bars(Bars.from_arrays("AAA", Timeframe.M1, good(3)), instrument=inst)
    path = cat.bars_path("AAA", Timeframe.M1)
    before = path.read_bytes()

    cols = good(6)
    cols["low"][4] = 101.5
    with pytest.raises(DataError) as info:
        cat.write_bars(Bars.from_arrays("AAA", Timeframe.M1, cols))
    assert str(info.value) == (
        "bars AAA 1m, row 5, column 'low': low above open or close; "
        "expected low <= min(open, close) = 100.0, found 101.5"
    )
    assert path.read_bytes() == before

    with pytest.raises(DataError):
        cat.write_bars(
            Bars.from_arrays("BBB", Timeframe.M1, cols), instrument=inst.model_copy(update={"symbol": "BBB"})
        )
    assert not cat.bars_path("BBB", Timeframe.M1).exists()
    assert [i.symbol for i in cat.instruments()] == ["AAA"]


# ---- gaps ---------------------------------------------------------------------------------------------


def minutes(times: list[str], calendar: TradingCalendar = NYSE) -> Bars:
    ts = np.array([to_utc_ns(t) for t in times])
    n = len(ts)
    return Bars.from_arrays(
        "AAA",
        Timeframe.M1,
        {
            "ts": ts,
            "open": np.ones(n),
            "high": np.ones(n),
            "low": np.ones(n),
            "close": np.ones(n),
            "volume": np.ones(n),
        },
        calendar,
    )


def dated(dates: list[str], tf: Timeframe, calendar: TradingCalendar = NYSE) -> Bars:
    bars = minutes(dates, calendar)
    return Bars.from_arrays(
        "AAA",
        tf,
        {"ts": bars.ts, **{c: bars.open for c in ("open", "high", "low", "close", "volume")}},
        calendar,
    )


def gap(after: str, before: str, missing: int) -> Gap:
    return Gap(to_utc_ns(after), to_utc_ns(before), missing)


def test_intraday_hole_inside_a_session_is_reported_with_its_missing_count() -> None:
    bars = minutes(["2024-01-16T14:30Z", "2024-01-16T14:31Z", "2024-01-16T14:32Z", "2024-01-16T14:36Z"])
    gaps = find_gaps(bars)
    assert gaps == [gap("2024-01-16T14:32Z", "2024-01-16T14:36Z", 3)]
    assert gaps[0].describe() == "2024-01-16T14:32:00Z -> 2024-01-16T14:36:00Z: 3 bar(s) missing"


def test_overnight_and_weekend_are_not_gaps_for_a_session_instrument() -> None:
    bars = minutes(
        [
            "2024-01-18T20:58Z",  # Thursday 15:58 New York
            "2024-01-18T20:59Z",
            "2024-01-19T14:30Z",  # Friday 09:30
            "2024-01-19T20:59Z",  # Friday 15:59: a long hole inside Friday's session
            "2024-01-22T14:30Z",  # Monday 09:30
        ]
    )
    assert find_gaps(bars) == [gap("2024-01-19T14:30Z", "2024-01-19T20:59Z", 388)]


def test_intraday_data_missing_whole_weekdays_reports_the_missing_days() -> None:
    bars = minutes(["2024-01-15T20:59Z", "2024-01-18T14:30Z"])  # Monday, then Thursday
    assert find_gaps(bars) == [gap("2024-01-15", "2024-01-18", 2)]


def test_daily_single_missing_weekday_is_not_reported() -> None:
    bars = dated(["2024-01-15", "2024-01-16", "2024-01-18", "2024-01-19", "2024-01-22"], Timeframe.D1)
    assert find_gaps(bars) == []


def test_daily_two_missing_weekdays_are_reported() -> None:
    bars = dated(["2024-01-15", "2024-01-18", "2024-01-19"], Timeframe.D1)
    assert find_gaps(bars) == [gap("2024-01-15", "2024-01-18", 2)]


def test_daily_minimum_missing_days_can_be_lowered_to_one() -> None:
    bars = dated(["2024-01-15", "2024-01-17"], Timeframe.D1)
    assert find_gaps(bars, min_missing_days=1) == [gap("2024-01-15", "2024-01-17", 1)]


def test_around_the_clock_daily_gap_of_one_day_is_reported() -> None:
    bars = dated(["2024-01-19", "2024-01-20", "2024-01-22", "2024-01-23"], Timeframe.D1, UTC)
    assert find_gaps(bars) == [gap("2024-01-20", "2024-01-22", 1)]


def test_around_the_clock_intraday_hole_across_midnight_is_reported() -> None:
    bars = minutes(["2024-01-19T23:58Z", "2024-01-20T00:01Z"], UTC)
    assert find_gaps(bars) == [gap("2024-01-19T23:58Z", "2024-01-20T00:01Z", 2)]


FX_UTC = TradingCalendar(weekdays_only=True)


def test_fx_daily_weekend_is_not_a_gap_but_a_missing_weekday_is() -> None:
    # Friday 19th, Monday 22nd, Wednesday 24th: only Tuesday is missing
    bars = dated(["2024-01-19", "2024-01-22", "2024-01-24"], Timeframe.D1, FX_UTC)
    assert find_gaps(bars) == [gap("2024-01-22", "2024-01-24", 1)]


def test_fx_intraday_counts_only_weekday_slots() -> None:
    # Friday 23:59 to Monday 00:00 UTC: nothing missing; Friday 23:57 to Monday 00:02: Friday's 23:58 and
    # 23:59 and Monday's 00:00 and 00:01 are missing, the weekend's 2,880 minutes are not
    assert find_gaps(minutes(["2024-01-19T23:59Z", "2024-01-22T00:00Z"], FX_UTC)) == []
    assert find_gaps(minutes(["2024-01-19T23:57Z", "2024-01-22T00:02Z"], FX_UTC)) == [
        gap("2024-01-19T23:57Z", "2024-01-22T00:02Z", 4)
    ]
    # the same hole around the clock on every day counts the weekend too, and a whole missing day
    assert find_gaps(minutes(["2024-01-19T23:57Z", "2024-01-22T00:02Z"], UTC)) == [
        gap("2024-01-19", "2024-01-22", 2),
        gap("2024-01-19T23:57Z", "2024-01-22T00:02Z", 2 * 1440 + 4),
    ]


def test_fx_intraday_weekday_slots_in_a_local_time_zone() -> None:
    # a weekdays-only market on New York days: Friday 16:59 to Monday 00:01 local misses Friday 17:00-23:59
    # (420 minutes) and Monday's 00:00
    new_york_fx = TradingCalendar(timezone="America/New_York", weekdays_only=True)
    found = find_gaps(minutes(["2024-01-19T21:59Z", "2024-01-22T05:01Z"], new_york_fx))
    assert found[0] == gap("2024-01-19T21:59Z", "2024-01-22T05:01Z", 421)


def test_an_fx_instrument_trades_weekdays_only_and_crypto_every_day() -> None:
    fx = Instrument(symbol="EURUSD", asset_class="forex", market="FX", currency="USD")
    crypto = Instrument(symbol="BTCUSD", asset_class="crypto", market="CRYPTO", currency="USD")
    assert fx.calendar.weekdays_only and not fx.calendar.has_session
    assert not crypto.calendar.weekdays_only


def test_weekly_missing_week_is_reported() -> None:
    bars = dated(["2024-01-01", "2024-01-08", "2024-01-22", "2024-01-29"], Timeframe.W1)
    assert find_gaps(bars) == [gap("2024-01-08", "2024-01-22", 1)]


def test_monthly_missing_months_are_reported_across_a_year_end() -> None:
    bars = dated(["2023-11-01", "2023-12-01", "2024-03-01", "2024-04-01"], Timeframe.MN1)
    assert find_gaps(bars) == [gap("2023-12-01", "2024-03-01", 2)]


def test_complete_weekly_and_monthly_data_has_no_gaps() -> None:
    assert find_gaps(dated(["2024-01-01", "2024-01-08", "2024-01-15"], Timeframe.W1)) == []
    assert find_gaps(dated(["2023-12-01", "2024-01-01", "2024-02-01"], Timeframe.MN1)) == []
