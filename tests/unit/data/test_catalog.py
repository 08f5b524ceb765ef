"""The Parquet catalog: atomic, idempotent, merging writes; range reads; instruments and series."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

import quantdesk.data.catalog as catalog_module
from quantdesk.core.errors import DataError, NotFoundError, StoreError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_MINUTE, to_utc_ns
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

START = to_utc_ns("2024-01-16T14:30:00Z")  # 09:30 New York
OLD_MTIME_NS = 1_000_000_000 * 1_600_000_000  # 2020-09-13, far from "now"


def stock(symbol: str = "AAA", **changes: Any) -> Instrument:
    record: dict[str, Any] = {
        "symbol": symbol,
        "asset_class": "equity",
        "market": "US",
        "currency": "USD",
        "trading_hours": {"regular": "09:30-16:00"},
    }
    record.update(changes)
    return Instrument.model_validate(record)


def minute_bars(first: int, count: int, *, symbol: str = "AAA", price: float = 100.0, start: int = START) -> Bars:
    """``count`` consecutive one-minute bars from minute ``first`` after ``start``; prices rise by 0.01."""
    idx = np.arange(first, first + count, dtype=np.int64)
    close = price + idx * 0.01
    return Bars.from_arrays(
        symbol,
        Timeframe.M1,
        {
            "ts": start + idx * NS_PER_MINUTE,
            "open": close - 0.005,
            "high": close + 0.02,
            "low": close - 0.02,
            "close": close,
            "volume": 1000.0 + idx,
        },
    )


def daily_bars(dates: list[str], *, symbol: str = "AAA") -> Bars:
    n = len(dates)
    close = 50.0 + np.arange(n)
    return Bars.from_arrays(
        symbol,
        Timeframe.D1,
        {
            "ts": np.array([to_utc_ns(d) for d in dates]),
            "open": close,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": np.full(n, 5e5),
        },
    )


def columns(bars: Bars) -> dict[str, list[float]]:
    return {c: getattr(bars, c).tolist() for c in ("ts", *BAR_COLUMNS)}


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---- round trip, merge, idempotence --------------------------------------------------------------


def test_written_bars_read_back_identical_with_the_instruments_calendar(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    bars = minute_bars(0, 10)
    report = cat.write_bars(bars, instrument=stock())
    got = cat.read_bars("AAA", "1m")
    assert columns(got) == columns(bars)
    assert got.symbol == "AAA"
    assert got.calendar == stock().calendar
    assert (report.rows_in, report.rows_added, report.rows_replaced, report.rows_total) == (10, 10, 0, 10)
    assert report.changed is True
    assert report.gaps == []


def test_pure_append_adds_rows_after_the_stored_ones(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 10), instrument=stock())
    report = cat.write_bars(minute_bars(10, 5))
    assert (report.rows_in, report.rows_added, report.rows_replaced, report.rows_total) == (5, 5, 0, 15)
    assert report.changed is True
    assert columns(cat.read_bars("AAA", Timeframe.M1)) == columns(minute_bars(0, 15))


def test_overlapping_times_are_replaced_not_duplicated(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 10), instrument=stock())
    revised = minute_bars(5, 10, price=200.0)  # minutes 5..14, every value different from the stored ones
    report = cat.write_bars(revised)
    assert (report.rows_in, report.rows_added, report.rows_replaced, report.rows_total) == (10, 5, 5, 15)
    assert report.changed is True
    got = cat.read_bars("AAA", Timeframe.M1)
    assert got.ts.tolist() == (START + np.arange(15) * NS_PER_MINUTE).tolist()
    assert got.close[:5].tolist() == minute_bars(0, 5).close.tolist()
    assert got.close[5:].tolist() == revised.close.tolist()


def test_rows_inside_the_stored_range_replace_in_place_and_count_as_replaced(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 10), instrument=stock())
    report = cat.write_bars(minute_bars(3, 2, price=300.0))
    assert (report.rows_added, report.rows_replaced, report.rows_total, report.changed) == (0, 2, 10, True)
    got = cat.read_bars("AAA", Timeframe.M1)
    expected_close = minute_bars(0, 10).close.copy()
    expected_close[3:5] = minute_bars(3, 2, price=300.0).close
    assert got.close.tolist() == expected_close.tolist()


def test_rows_before_the_stored_range_are_merged_in_time_order(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(5, 5), instrument=stock())
    report = cat.write_bars(minute_bars(0, 6, price=100.0))  # minute 5 overlaps with identical values
    assert (report.rows_added, report.rows_replaced, report.rows_total) == (5, 1, 10)
    assert columns(cat.read_bars("AAA", Timeframe.M1)) == columns(minute_bars(0, 10))


def test_rewriting_identical_rows_changes_nothing_not_even_the_file(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    bars = minute_bars(0, 10)
    cat.write_bars(bars, instrument=stock())
    path = cat.bars_path("AAA", Timeframe.M1)
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    os.utime(cat.instruments_path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    before = path.read_bytes()
    for again in (bars, minute_bars(2, 5)):  # all of it, and a subset in the middle
        report = cat.write_bars(again, instrument=stock())
        assert report.changed is False
        assert (report.rows_added, report.rows_replaced, report.rows_total) == (0, 0, 10)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == OLD_MTIME_NS
    assert cat.instruments_path.stat().st_mtime_ns == OLD_MTIME_NS


def test_writing_no_rows_changes_nothing(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 3), instrument=stock())
    report = cat.write_bars(minute_bars(0, 0))
    assert (report.rows_in, report.rows_added, report.changed, report.rows_total) == (0, 0, False, 3)


def test_write_report_lists_gaps_of_the_stored_dataset(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 3), instrument=stock())
    report = cat.write_bars(minute_bars(6, 2))  # minutes 3, 4, 5 missing inside the session
    assert [(g.after_ns, g.before_ns, g.missing) for g in report.gaps] == [
        (START + 2 * NS_PER_MINUTE, START + 6 * NS_PER_MINUTE, 3)
    ]


# ---- atomicity --------------------------------------------------------------------------------------


def failing_write_table(table: Any, where: Any, **kwargs: Any) -> None:
    """Writes half a file, then fails like a full disk."""
    Path(where).write_bytes(b"PAR1 half a file")
    raise OSError(28, "No space left on device")


def test_failed_write_leaves_old_file_byte_identical_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 10), instrument=stock())
    path = cat.bars_path("AAA", Timeframe.M1)
    old_bytes = path.read_bytes()
    master = cat.instruments_path.read_bytes()
    monkeypatch.setattr(pq, "write_table", failing_write_table)

    with pytest.raises(StoreError) as info:
        cat.write_bars(minute_bars(5, 10, price=200.0))
    assert str(info.value) == f"cannot write {path}: No space left on device"
    assert path.read_bytes() == old_bytes
    assert temp_files(path.parent) == []
    assert cat.instruments_path.read_bytes() == master
    monkeypatch.undo()
    assert columns(cat.read_bars("AAA", Timeframe.M1)) == columns(minute_bars(0, 10))


def test_failed_first_write_of_a_new_symbol_leaves_no_file_and_no_instrument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 10), instrument=stock())
    master = cat.instruments_path.read_bytes()
    monkeypatch.setattr(pq, "write_table", failing_write_table)

    with pytest.raises(StoreError):
        cat.write_bars(minute_bars(0, 10, symbol="BBB"), instrument=stock("BBB"))
    path = cat.bars_path("BBB", Timeframe.M1)
    assert not path.exists()
    assert temp_files(path.parent) == []
    assert cat.instruments_path.read_bytes() == master
    assert [i.symbol for i in cat.instruments()] == ["AAA"]


def test_write_interrupted_by_a_non_os_error_also_cleans_up_and_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 10), instrument=stock())
    path = cat.bars_path("AAA", Timeframe.M1)
    old_bytes = path.read_bytes()

    def interrupted(table: Any, where: Any, **kwargs: Any) -> None:
        Path(where).write_bytes(b"PAR1")
        raise KeyboardInterrupt

    monkeypatch.setattr(pq, "write_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cat.write_bars(minute_bars(10, 5))
    assert path.read_bytes() == old_bytes
    assert temp_files(path.parent) == []


# ---- range reads --------------------------------------------------------------------------------------


@pytest.fixture
def small_row_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_module, "ROW_GROUP_ROWS", 4)


@pytest.mark.usefixtures("small_row_groups")
def test_range_read_has_inclusive_bounds_across_row_groups(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 20), instrument=stock())
    assert pq.ParquetFile(cat.bars_path("AAA", Timeframe.M1)).metadata.num_row_groups == 5
    ts = minute_bars(0, 20).ts
    got = cat.read_bars("AAA", Timeframe.M1, start_ns=int(ts[5]), end_ns=int(ts[13]))
    assert columns(got) == columns(minute_bars(5, 9))


@pytest.mark.usefixtures("small_row_groups")
def test_range_read_with_one_bound_or_bounds_between_bars(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 20), instrument=stock())
    ts = minute_bars(0, 20).ts
    assert cat.read_bars("AAA", "1m", start_ns=int(ts[17])).ts.tolist() == ts[17:].tolist()
    assert cat.read_bars("AAA", "1m", end_ns=int(ts[2])).ts.tolist() == ts[:3].tolist()
    half = NS_PER_MINUTE // 2
    between = cat.read_bars("AAA", "1m", start_ns=int(ts[3]) + half, end_ns=int(ts[8]) - half)
    assert between.ts.tolist() == ts[4:8].tolist()


@pytest.mark.usefixtures("small_row_groups")
def test_range_read_outside_the_data_is_empty(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 20), instrument=stock())
    ts = minute_bars(0, 20).ts
    assert len(cat.read_bars("AAA", "1m", start_ns=int(ts[-1]) + 1)) == 0
    assert len(cat.read_bars("AAA", "1m", end_ns=int(ts[0]) - 1)) == 0


@pytest.mark.usefixtures("small_row_groups")
def test_range_read_only_touches_row_groups_that_overlap_the_range(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 20), instrument=stock())
    ts = minute_bars(0, 20).ts
    pf = pq.ParquetFile(cat.bars_path("AAA", Timeframe.M1))
    assert catalog_module._row_groups_in_range(pf, int(ts[5]), int(ts[13])) == [1, 2, 3]
    assert catalog_module._row_groups_in_range(pf, int(ts[8]), int(ts[8])) == [2]
    assert catalog_module._row_groups_in_range(pf, None, None) == [0, 1, 2, 3, 4]


# ---- not found ----------------------------------------------------------------------------------


def test_reading_an_unknown_symbol_says_to_import_it(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as info:
        Catalog(tmp_path).read_bars("ZZZ", "1m")
    assert str(info.value) == (
        "no 1m bars stored for ZZZ; import it first (quantdesk data import / data sample / data synthetic)"
    )


def test_reading_a_missing_timeframe_lists_the_stored_ones(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(minute_bars(0, 3), instrument=stock())
    cat.write_bars(daily_bars(["2024-01-16", "2024-01-17"]))
    with pytest.raises(NotFoundError) as info:
        cat.read_bars("AAA", "1h")
    assert str(info.value) == "no 1h bars stored for AAA; stored timeframes for AAA: 1m, 1d"


def test_bars_of_an_unknown_instrument_without_a_record_are_refused_and_nothing_written(
    tmp_path: Path,
) -> None:
    cat = Catalog(tmp_path)
    with pytest.raises(NotFoundError) as info:
        cat.write_bars(minute_bars(0, 3, symbol="ZZZ"))
    assert str(info.value) == "instrument 'ZZZ' is not in the instrument master (known: none yet)"
    assert not cat.bars_path("ZZZ", Timeframe.M1).exists()
    assert not cat.instruments_path.exists()
    assert cat.datasets() == []


def test_instrument_for_another_symbol_is_refused(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    with pytest.raises(DataError) as info:
        cat.write_bars(minute_bars(0, 3, symbol="AAA"), instrument=stock("BBB"))
    assert str(info.value) == "instrument 'BBB' given for bars of 'AAA'"
    assert not cat.bars_path("AAA", Timeframe.M1).exists()


# ---- listing, instruments, series, home -------------------------------------------------------------


def test_datasets_lists_every_dataset_sorted_by_symbol_then_timeframe(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(daily_bars(["2024-01-16", "2024-01-17", "2024-01-18"], symbol="BBB"), instrument=stock("BBB"))
    cat.write_bars(daily_bars(["2024-01-16"]), instrument=stock("AAA", synthetic=True))
    cat.write_bars(minute_bars(0, 4))
    listed = [(d.symbol, d.timeframe, d.rows, d.first_ns, d.last_ns, d.synthetic) for d in cat.datasets()]
    assert listed == [
        ("AAA", Timeframe.M1, 4, START, START + 3 * NS_PER_MINUTE, True),
        ("AAA", Timeframe.D1, 1, to_utc_ns("2024-01-16"), to_utc_ns("2024-01-16"), True),
        ("BBB", Timeframe.D1, 3, to_utc_ns("2024-01-16"), to_utc_ns("2024-01-18"), False),
    ]
    assert [d.path for d in cat.datasets()] == [
        cat.bars_path("AAA", Timeframe.M1),
        cat.bars_path("AAA", Timeframe.D1),
        cat.bars_path("BBB", Timeframe.D1),
    ]


def test_minute_and_month_datasets_live_in_different_folders(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    assert cat.bars_path("AAA", Timeframe.M1) == tmp_path / "bars" / "M1" / "AAA.parquet"
    assert cat.bars_path("AAA", Timeframe.MN1) == tmp_path / "bars" / "MN1" / "AAA.parquet"


def test_empty_catalog_lists_nothing(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    assert (cat.datasets(), cat.instruments(), cat.series_names()) == ([], [], [])


def test_instruments_round_trip_and_replace_controls_updates(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    aaa, bbb = stock("AAA", name="Alpha"), stock("BBB", sector="Tech")
    cat.put_instruments([bbb, aaa])
    assert cat.instruments() == [aaa, bbb]
    assert Catalog(tmp_path).get_instrument("BBB") == bbb

    cat.put_instruments([stock("AAA", name="Renamed")], replace=False)
    assert cat.get_instrument("AAA").name == "Alpha"
    cat.put_instruments([stock("AAA", name="Renamed")])
    assert cat.get_instrument("AAA").name == "Renamed"
    assert cat.find_instrument("CCC") is None


def test_get_unknown_instrument_lists_the_known_ones(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.put_instruments([stock("AAA"), stock("BBB")])
    with pytest.raises(NotFoundError) as info:
        cat.get_instrument("CCC")
    assert str(info.value) == "instrument 'CCC' is not in the instrument master (known: AAA, BBB)"


def cpi() -> MacroSeries:
    return MacroSeries(
        name="CPIAUCSL",
        ts=np.array([to_utc_ns("2024-01-01"), to_utc_ns("2024-02-01")]),
        known_ts=np.array([to_utc_ns("2024-02-13T13:30:00Z"), to_utc_ns("2024-03-12T12:30:00Z")]),
        value=np.array([309.7, np.nan]),
        description="CPI, all urban consumers",
        unit="index 1982-84=100",
        frequency="monthly",
        source="FRED",
        synthetic=True,
    )


def test_macro_series_round_trip_keeps_values_known_times_and_description(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    assert cat.write_series(cpi()) is True
    got = cat.read_series("CPIAUCSL")
    want = cpi()
    assert got.ts.tolist() == want.ts.tolist()
    assert got.known_ts.tolist() == want.known_ts.tolist()
    assert np.array_equal(got.value, want.value, equal_nan=True)
    assert (got.name, got.description, got.unit, got.frequency, got.source, got.synthetic) == (
        "CPIAUCSL",
        "CPI, all urban consumers",
        "index 1982-84=100",
        "monthly",
        "FRED",
        True,
    )
    assert cat.series_names() == ["CPIAUCSL"]


def test_rewriting_an_identical_series_leaves_the_file_alone(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_series(cpi())
    path = cat.series_path("CPIAUCSL")
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    assert cat.write_series(cpi()) is False
    assert path.stat().st_mtime_ns == OLD_MTIME_NS


def test_series_known_before_its_period_is_refused(tmp_path: Path) -> None:
    bad = MacroSeries(
        name="X",
        ts=np.array([0, NS_PER_DAY]),
        known_ts=np.array([NS_PER_DAY, NS_PER_DAY - 1]),
        value=np.array([1.0, 2.0]),
    )
    cat = Catalog(tmp_path)
    with pytest.raises(DataError) as info:
        cat.write_series(bad)
    assert str(info.value) == (
        "series X, row 2, column 'known_ts': known before its period starts; expected known_ts >= ts"
    )
    assert cat.series_names() == []


def test_series_with_unsorted_times_is_refused(tmp_path: Path) -> None:
    bad = MacroSeries(name="X", ts=np.array([NS_PER_DAY, 0]), known_ts=np.array([NS_PER_DAY, NS_PER_DAY]), value=[1, 2])
    with pytest.raises(DataError) as info:
        Catalog(tmp_path).write_series(bad)
    assert str(info.value) == "series X, row 2, column 'ts': times not strictly increasing"


def test_reading_a_missing_series_lists_the_stored_ones(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_series(cpi())
    with pytest.raises(NotFoundError) as info:
        cat.read_series("VIX")
    assert str(info.value) == "no macro series 'VIX' stored (stored: CPIAUCSL)"


def test_default_catalog_lives_under_quantdesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_HOME", str(tmp_path / "home"))
    cat = Catalog()
    assert cat.root == tmp_path / "home" / "catalog"
    cat.write_bars(minute_bars(0, 2), instrument=stock())
    assert (tmp_path / "home" / "catalog" / "bars" / "M1" / "AAA.parquet").is_file()


def test_written_timeframes_are_recorded_in_the_instruments_availability(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    cat.write_bars(daily_bars(["2024-01-16"]), instrument=stock())
    cat.write_bars(minute_bars(0, 2))
    assert cat.get_instrument("AAA").technical_availability == [Timeframe.M1, Timeframe.D1]
