"""File import details not covered end to end by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from quantdesk.data.sources.files import read_bars_file
from quantdesk.domain.instrument import AssetClass, Instrument


def test_daily_times_with_offsets_are_dated_in_the_exchange_zone_not_utc(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    # 20:00 New York on 2 January is already 3 January in UTC; the session is still 2 January
    f.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02T20:00:00-05:00,10,11,9,10.5,100\n")
    nyse = Instrument(symbol="X", asset_class=AssetClass.EQUITY, market="US", currency="USD")
    bars, _ = read_bars_file(f, symbol="X", timeframe="1d", instrument=nyse)
    assert list(bars.index) == [pd.Timestamp("2024-01-02", tz="UTC")]
    tokyo_view, _ = read_bars_file(f, symbol="X", timeframe="1d", instrument=nyse, tz="Asia/Tokyo")
    assert list(tokyo_view.index) == [pd.Timestamp("2024-01-03", tz="UTC")]  # --tz, when given, decides
