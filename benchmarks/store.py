"""Benchmark of the Parquet catalog: write and read one million one-minute bars.

Run by hand (``python benchmarks/store.py``); prints the median rows per second of a full write
(validate, merge, Parquet write, rename, gap report), a full read and a range read of about 10%,
against the targets of DESIGN.md section 4. ``--profile`` also times the stages of a write
separately, to show where the time goes. Everything is written under a temporary directory that
is removed afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.data import catalog as catalog_module
from quantdesk.data.catalog import Catalog
from quantdesk.data.validation import find_gaps, validate_bar_arrays
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe

READ_TARGET = 10_000_000  # rows per second
WRITE_TARGET = 2_000_000
SESSION_MINUTES = 390  # 09:30-16:00 New York


def make_instrument() -> Instrument:
    return Instrument(
        symbol="BENCH",
        asset_class="equity",
        market="US",
        currency="USD",
        trading_hours={"regular": "09:30-16:00"},
        synthetic=True,
        name="benchmark random walk",
    )


def make_bars(rows: int, instrument: Instrument, seed: int = 7) -> Bars:
    """``rows`` one-minute bars of regular US sessions (weekdays from 2010), a random walk in log price."""
    days = pd.bdate_range("2010-01-04", periods=-(-rows // SESSION_MINUTES))
    minutes = pd.to_timedelta(np.arange(SESSION_MINUTES), unit="min") + pd.Timedelta(hours=9, minutes=30)
    local = (days.to_numpy()[:, None] + minutes.to_numpy()[None, :]).ravel()[:rows]
    utc = pd.DatetimeIndex(local).tz_localize("America/New_York").tz_convert("UTC")
    ts = np.asarray(utc.as_unit("ns").asi8, dtype=np.int64)
    rng = np.random.default_rng(seed)
    close = np.round(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0008, rows))), 2)
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.round(np.abs(rng.normal(0.0, 0.05, (2, rows))), 2)
    high = np.maximum(open_, close) + spread[0]
    low = np.minimum(open_, close) - spread[1]
    volume = np.round(rng.lognormal(7.0, 1.0, rows))
    columns = {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    return Bars.from_arrays(instrument.symbol, Timeframe.M1, columns, instrument.calendar)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def verdict(rate: float, target: float) -> str:
    return "PASS" if rate >= target else "FAIL"


def profile_write(bars: Bars, instrument: Instrument, folder: Path, repeats: int) -> None:
    """Median time of each stage of ``Catalog.write_bars`` and ``read_bars`` on its own."""
    cols = {c: np.asarray(getattr(bars, c)) for c in BAR_COLUMNS}

    def arrow_table() -> pa.Table:
        return pa.Table.from_arrays(
            [pa.array(np.asarray(bars.ts).view("datetime64[ns]"), type=catalog_module._TS_TYPE)]
            + [pa.array(cols[c], type=pa.float64()) for c in BAR_COLUMNS],
            schema=catalog_module.BAR_SCHEMA,
        )

    table = arrow_table()
    current, plain = folder / "current.parquet", folder / "plain.parquet"
    options = catalog_module._write_options(table.schema)
    plain_options = {"row_group_size": 262_144, "compression": "snappy"}  # pyarrow defaults, dictionary everywhere
    catalog = Catalog(folder / "profile")
    catalog.write_bars(bars, instrument=instrument)
    stages: list[tuple[str, Callable[[], object]]] = [
        ("validate", lambda: validate_bar_arrays(bars.ts, cols, source="bench")),
        ("merge (new dataset)", lambda: catalog_module._merge(None, bars)),
        ("arrow table from numpy", arrow_table),
        ("parquet write, as stored", lambda: pq.write_table(table, current, **options)),
        ("parquet write, pyarrow defaults", lambda: pq.write_table(table, plain, **plain_options)),
        ("gap report", lambda: find_gaps(bars)),
        ("instrument master, unchanged", lambda: catalog.put_instruments([instrument], replace=False)),
        ("parquet read, as stored", lambda: pq.read_table(current)),
        ("parquet read, pyarrow defaults", lambda: pq.read_table(plain)),
        ("find_instrument", lambda: catalog.find_instrument(instrument.symbol)),
    ]
    print(f"\nstages (median of {repeats}, {len(bars):,} rows):")
    for name, fn in stages:
        fn()
        ms = statistics.median(timed(fn) for _ in range(repeats)) * 1e3
        extra = ""
        if name.startswith("parquet write"):
            extra = f"  file {(current if 'stored' in name else plain).stat().st_size / 1e6:.1f} MB"
        print(f"  {name:34s} {ms:8.1f} ms{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also time each stage of a write")
    args = parser.parse_args()

    instrument = make_instrument()
    bars = make_bars(args.rows, instrument)
    n = len(bars)
    lo, hi = int(n * 0.45), int(n * 0.55) - 1
    start_ns, end_ns = int(bars.ts[lo]), int(bars.ts[hi])

    with tempfile.TemporaryDirectory(prefix="quantdesk-bench-") as tmp:
        root = Path(tmp)
        write_s: list[float] = []
        for i in range(args.repeats):  # a fresh catalog each time: a rewrite of the same rows is a no-op
            catalog = Catalog(root / f"write-{i}")
            write_s.append(timed(lambda: catalog.write_bars(bars, instrument=instrument)))  # noqa: B023
        catalog = Catalog(root / "write-0")
        got = catalog.read_bars(instrument.symbol, Timeframe.M1)
        if not (np.array_equal(got.ts, bars.ts) and np.array_equal(got.close, bars.close)):
            raise SystemExit("read back differs from what was written")
        part = catalog.read_bars(instrument.symbol, Timeframe.M1, start_ns, end_ns)
        if len(part) != hi - lo + 1:
            raise SystemExit(f"range read returned {len(part)} rows, expected {hi - lo + 1}")
        read_s = [timed(lambda: catalog.read_bars(instrument.symbol, Timeframe.M1)) for _ in range(args.repeats)]
        range_s = [
            timed(lambda: catalog.read_bars(instrument.symbol, Timeframe.M1, start_ns, end_ns))
            for _ in range(args.repeats)
        ]
        file_mb = catalog.bars_path(instrument.symbol, Timeframe.M1).stat().st_size / 1e6

        write_rate = n / statistics.median(write_s)
        read_rate = n / statistics.median(read_s)
        range_rate = len(part) / statistics.median(range_s)
        print(f"quantdesk store benchmark: {n:,} one-minute bars, {args.repeats} repeats, file {file_mb:.1f} MB")
        print(f"  write       {write_rate / 1e6:7.2f} M rows/s  (target >= {WRITE_TARGET / 1e6:.0f} M)  "
              f"{verdict(write_rate, WRITE_TARGET)}")  # fmt: skip
        print(f"  read        {read_rate / 1e6:7.2f} M rows/s  (target >= {READ_TARGET / 1e6:.0f} M)  "
              f"{verdict(read_rate, READ_TARGET)}")  # fmt: skip
        print(f"  range read  {range_rate / 1e6:7.2f} M rows/s  (target >= {READ_TARGET / 1e6:.0f} M)  "
              f"{verdict(range_rate, READ_TARGET)}  [{len(part):,} rows]")  # fmt: skip
        if args.profile:
            profile_write(bars, instrument, root, args.repeats)
        failed = min(write_rate / WRITE_TARGET, read_rate / READ_TARGET, range_rate / READ_TARGET) < 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
