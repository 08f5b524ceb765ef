"""Bar files a hostile tester feeds ``import_bars_file``: each is refused with a DataError or ConfigError that
names the file, the row or column, what was expected and what was found, and nothing reaches the catalog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.files import import_bars_file
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours

US_HOURS = {"pre_market": "04:00-09:30", "regular": "09:30-16:00", "after_hours": "16:00-20:00"}


def us_stock(symbol: str = "ABC") -> Instrument:
    return Instrument(
        symbol=symbol,
        asset_class=AssetClass.EQUITY,
        market="US",
        currency="USD",
        trading_hours=TradingHours.model_validate(US_HOURS),
    )


def frame(times: list[str]) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame(
        {
            "ts": times,
            "open": [10.0] * n,
            "high": [11.0] * n,
            "low": [9.0] * n,
            "close": [10.5] * n,
            "volume": [1e3] * n,
        }
    )


def daily_times(n: int = 30) -> list[str]:
    return list(pd.bdate_range("2024-01-02", periods=n).strftime("%Y-%m-%d"))


def utc_times(start: str, freq: str, n: int) -> list[str]:
    return list(pd.date_range(start, periods=n, freq=freq, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))


def write_csv(path: Path, data: pd.DataFrame) -> Path:
    data.to_csv(path, index=False)
    return path


def refused(
    catalog: Catalog, path: Path, timeframe: str, error: type[Exception] = DataError, symbol: str = "ABC"
) -> str:
    """The message of the error importing ``path``; asserts that the catalog holds no bars afterwards."""
    with pytest.raises(error) as info:
        import_bars_file(catalog, path, symbol=symbol, timeframe=timeframe, instrument=us_stock())
    bars = catalog.root / "bars"
    assert not bars.exists() or not list(bars.rglob("*.parquet")), "a refused import wrote bars"
    return " ".join(str(info.value).split())


# ---- spacing against --timeframe ----------------------------------------------------------------------


def test_daily_rows_imported_as_5m_are_refused_naming_the_spacing(tmp_path: Path) -> None:
    times = [f"{d}T15:00:00Z" for d in daily_times()]
    path = write_csv(tmp_path / "daily.csv", frame(times))
    message = refused(Catalog(tmp_path / "cat"), path, "5m")
    assert message.startswith(f"{path}, column 'ts': most bars are the only one in their session, unlike 5m bars")
    assert "expected bars 5m apart within a session for 5m bars" in message
    assert "found 30 sessions for 30 bars, a median spacing of 1 day between consecutive bars" in message


def test_hourly_rows_imported_as_1m_are_refused_naming_the_median(tmp_path: Path) -> None:
    times = utc_times("2024-01-02 14:30", "1h", 5) + utc_times("2024-01-03 14:30", "1h", 5)
    path = write_csv(tmp_path / "hourly.csv", frame(times))
    message = refused(Catalog(tmp_path / "cat"), path, "1m")
    assert message == (
        f"{path}, column 'ts': bars spaced unlike 1m bars; expected a median spacing of 1m within a session for 1m "
        "bars (at most 2 bars), found a median spacing of 1h within a session"
    )


def test_five_minute_rows_imported_as_1h_are_refused_at_the_first_overlapping_bar(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "five.csv", frame(utc_times("2024-01-02 14:30", "5min", 24)))
    message = refused(Catalog(tmp_path / "cat"), path, "1h")
    assert message == (
        f"{path}, row 2, column 'ts': bar starts 5m after the one before it, inside one session; expected bars at "
        "least 1h apart for 1h bars, found 2024-01-02T14:35:00Z after 2024-01-02T14:30:00Z (median spacing 5m "
        "within a session)"
    )


def test_intraday_rows_imported_as_1d_are_refused_as_two_rows_on_one_date(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "five.csv", frame(utc_times("2024-01-02 14:30", "5min", 24)))
    message = refused(Catalog(tmp_path / "cat"), path, "1d")
    assert message.startswith(f"{path}, row 2, column 'ts': a second row on the date 2024-01-02; expected one row")
    assert "found a median spacing of 5m, rows 1 and 2 on one date" in message


def test_weekly_rows_imported_as_1d_and_daily_rows_as_1w_are_refused(tmp_path: Path) -> None:
    weekly = list(pd.date_range("2024-01-01", periods=20, freq="W-MON").strftime("%Y-%m-%d"))
    path = write_csv(tmp_path / "weekly.csv", frame(weekly))
    message = refused(Catalog(tmp_path / "cat"), path, "1d")
    assert message.endswith(
        "expected a median spacing of 1 trading day (at most 2) for 1d bars, found a median spacing of 5 trading "
        "days (7 days)"
    )
    path = write_csv(tmp_path / "daily.csv", frame(daily_times()))
    assert "found a median spacing of 0.1429 weeks (1 day)" in refused(Catalog(tmp_path / "cat"), path, "1w")


def test_weekend_and_overnight_gaps_and_sparse_minutes_still_import(tmp_path: Path) -> None:
    # two sessions of 5-minute bars across a weekend, and 1-minute bars with every other minute missing
    times = utc_times("2024-01-05 14:30", "5min", 30) + utc_times("2024-01-08 14:30", "5min", 30)
    catalog = Catalog(tmp_path / "cat")
    path = write_csv(tmp_path / "five.csv", frame(times))
    assert import_bars_file(catalog, path, symbol="ABC", timeframe="5m", instrument=us_stock()).write.rows_total == 60
    sparse = write_csv(tmp_path / "sparse.csv", frame(utc_times("2024-01-02 14:30", "2min", 30)))
    report = import_bars_file(catalog, sparse, symbol="ABC", timeframe="1m", instrument=us_stock())
    assert report.write.rows_total == 30


# ---- values out of bounds ----------------------------------------------------------------------------


def test_a_price_of_1e308_is_refused_naming_the_row(tmp_path: Path) -> None:
    data = frame(daily_times())
    data.loc[6, ["high", "close"]] = 1e308
    message = refused(Catalog(tmp_path / "cat"), write_csv(tmp_path / "p.csv", data), "1d")
    assert message == (
        f"{tmp_path / 'p.csv'}, row 7, column 'high': price implausibly large (1 more problem after this one); "
        "expected a price below 1e+12, found 1e+308"
    )


def test_an_absurd_volume_is_refused_naming_the_row(tmp_path: Path) -> None:
    data = frame(daily_times())
    data.loc[2, "volume"] = 3e21
    message = refused(Catalog(tmp_path / "cat"), write_csv(tmp_path / "v.csv", data), "1d")
    assert message == (
        f"{tmp_path / 'v.csv'}, row 3, column 'volume': volume implausibly large; expected a volume below 1e+18, "
        "found 3e+21"
    )


@pytest.mark.parametrize(("text", "row"), [("9999-01-01", 30), ("1200-01-01", 1)])
def test_years_9999_and_1200_are_refused_naming_the_row(tmp_path: Path, text: str, row: int) -> None:
    data = frame(daily_times())
    data.loc[row - 1, "ts"] = text
    message = refused(Catalog(tmp_path / "cat"), write_csv(tmp_path / "t.csv", data), "1d")
    assert message == (
        f"{tmp_path / 't.csv'}, row {row}, column 'ts': time outside the supported range; expected a time from "
        f"1800-01-01 up to 2200-01-01, found '{text}'"
    )
    message = refused(
        Catalog(tmp_path / "cat"), write_csv(tmp_path / "t.csv", data.assign(ts=data.ts + "T15:00Z")), "1h"
    )
    assert f"row {row}, column 'ts': time outside the supported range" in message


def test_an_integer_overflowing_time_is_refused(tmp_path: Path) -> None:
    data = frame(daily_times(8))
    data["ts"] = [str(2**63 + i) for i in range(8)]
    message = refused(Catalog(tmp_path / "cat"), write_csv(tmp_path / "t.csv", data), "1d")
    assert "row 1, column 'ts': unparseable time" in message and f"found '{2**63}'" in message


# ---- the file's shape ---------------------------------------------------------------------------------


def test_a_csv_with_two_close_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "Date,Open,High,Low,Close,close,Volume\n" + "".join(f"{d},10,11,9,10.5,10.2,100\n" for d in daily_times())
    )
    message = refused(Catalog(tmp_path / "cat"), path, "1d")
    assert message == (
        f"{path}, column 'close': two columns named 'close': which one holds the data is ambiguous; expected each "
        "column name once, found 'Close' as column 5 and 'close' as column 6"
    )


def test_a_parquet_file_with_string_prices_is_refused_naming_the_column(tmp_path: Path) -> None:
    data = frame(daily_times()).astype({"open": str, "high": str, "low": str, "close": str})
    path = tmp_path / "s.parquet"
    data.assign(ts=pd.to_datetime(data.ts)).to_parquet(path)
    message = refused(Catalog(tmp_path / "cat"), path, "1d")
    assert message.startswith(f"{path}, column 'open': the column does not hold numbers; expected a numeric column")
    assert "values such as '10.0'" in message


def test_a_parquet_file_with_decimal_prices_imports(tmp_path: Path) -> None:
    import decimal

    n = 10
    dec = pa.array([decimal.Decimal("10.25")] * n, type=pa.decimal128(10, 2))
    table = pa.table(
        {
            "ts": pa.array(pd.bdate_range("2024-01-02", periods=n).to_numpy()),
            "open": dec, "high": pa.array([decimal.Decimal("11.00")] * n, type=pa.decimal128(10, 2)),
            "low": pa.array([decimal.Decimal("9.50")] * n, type=pa.decimal128(10, 2)), "close": dec,
            "volume": pa.array(np.full(n, 100), type=pa.int64()),
        }
    )  # fmt: skip
    pq.write_table(table, tmp_path / "d.parquet")
    report = import_bars_file(
        Catalog(tmp_path / "cat"), tmp_path / "d.parquet", symbol="ABC", timeframe="1d", instrument=us_stock()
    )
    assert report.write.rows_total == n
    assert Catalog(tmp_path / "cat").read_bars("ABC", "1d").close.tolist() == [10.25] * n


def test_a_directory_given_as_the_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "bars.csv"
    folder.mkdir()
    message = refused(Catalog(tmp_path / "cat"), folder, "1d", ConfigError)
    assert message == f"{folder}: is a directory; expected a CSV or Parquet file of bars"


# ---- symbols ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["../../x", "..", "/abs/path", "A/B", ""])
def test_a_path_like_symbol_is_refused_and_nothing_is_written(tmp_path: Path, symbol: str) -> None:
    path = write_csv(tmp_path / "d.csv", frame(daily_times()))
    catalog = Catalog(tmp_path / "cat")
    with pytest.raises(ConfigError, match=r"^symbol: expected a symbol of 1-32 characters"):
        import_bars_file(catalog, path, symbol=symbol, timeframe="1d", instrument=us_stock())
    assert not catalog.root.exists()


def test_a_lower_case_symbol_does_not_append_to_the_upper_case_one(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "cat")
    first = write_csv(tmp_path / "a.csv", frame(daily_times(10)))
    import_bars_file(catalog, first, symbol="ABC", timeframe="1d", instrument=us_stock())
    later = write_csv(tmp_path / "b.csv", frame(list(pd.bdate_range("2024-03-01", periods=10).strftime("%Y-%m-%d"))))
    with pytest.raises(ConfigError, match=r"expected an upper-case symbol such as 'ABC', found 'abc'"):
        import_bars_file(catalog, later, symbol="abc", timeframe="1d", instrument=us_stock())
    assert len(catalog.read_bars("ABC", "1d")) == 10
