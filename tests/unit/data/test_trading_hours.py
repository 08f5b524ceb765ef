"""Intraday bars outside an instrument's trading hours are refused: they would join a daily bar after it is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.core.errors import DataError
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours
from quantdesk.domain.timeframe import Timeframe


def instrument(hours: dict[str, str]) -> Instrument:
    return Instrument(
        symbol="HRS", asset_class=AssetClass.EQUITY, market="US", currency="USD",
        trading_hours=TradingHours.model_validate(hours),
    )  # fmt: skip


def minute_bars(local_times: list[str]) -> Bars:
    ts = pd.DatetimeIndex(local_times).tz_localize("America/New_York").tz_convert("UTC").as_unit("ns").asi8
    n = len(ts)
    ones = np.full(n, 10.0)
    return Bars.from_arrays(
        "HRS", Timeframe.M1, {"ts": ts, "open": ones, "high": ones, "low": ones, "close": ones, "volume": ones}
    )


REGULAR = {"regular": "09:30-16:00"}
EXTENDED = {"pre_market": "04:00-09:30", "regular": "09:30-16:00", "after_hours": "16:00-20:00"}


def test_after_hours_minute_on_a_regular_session_instrument_is_refused_and_nothing_written(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    bars = minute_bars(["2024-01-02 15:58", "2024-01-02 15:59", "2024-01-02 16:00", "2024-01-02 16:05"])
    with pytest.raises(DataError) as info:
        cat.write_bars(bars, instrument=instrument(REGULAR), source="m.csv")
    assert str(info.value) == (
        "m.csv, row 3, column 'ts': bar outside the instrument's trading hours (1 more after this one); "
        "expected bars starting between 09:30 and 16:00 America/New_York (declare pre_market/after_hours in "
        "HRS's trading_hours to store extended-hours bars), found 2024-01-02T21:00:00Z (16:00 local)"
    )
    assert not cat.bars_path("HRS", Timeframe.M1).exists()
    assert cat.instruments() == []


def test_extended_hours_are_accepted_when_declared_and_the_day_is_known_at_their_end(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    bars = minute_bars(["2024-01-02 04:00", "2024-01-02 09:30", "2024-01-02 19:59"])
    report = cat.write_bars(bars, instrument=instrument(EXTENDED))
    assert report.rows_total == 3
    daily = cat.read_bars("HRS", "1m").calendar.known_ns(np.array([pd.Timestamp("2024-01-02").value]), Timeframe.D1)
    assert pd.Timestamp(int(daily[0]), tz="UTC") == pd.Timestamp("2024-01-03 01:00", tz="UTC")  # 20:00 New York
    with pytest.raises(DataError, match=r"found 2024-01-02T08:59:00Z \(03:59 local\)"):
        cat.write_bars(minute_bars(["2024-01-02 03:59"]), instrument=instrument(EXTENDED))


def test_daily_bars_and_around_the_clock_instruments_are_not_hour_checked(tmp_path: Path) -> None:
    cat = Catalog(tmp_path)
    fx = Instrument(symbol="HRS", asset_class=AssetClass.FOREX, market="FX", currency="USD")
    assert cat.write_bars(minute_bars(["2024-01-02 02:00", "2024-01-02 23:59"]), instrument=fx).rows_total == 2
