"""Benchmark of the bar stores: one million one-minute bars in the Parquet catalog and in PostgreSQL, and a universe.

Run by hand (``python benchmarks/store.py``); prints the median rows per second of a full write
(validate, merge, Parquet write, rename, gap report), a full read and a range read of about 10%,
against the targets of DESIGN.md section 4; then the same write and read through the PostgreSQL store
(``data.pg_bars``, in a scratch database made on the server ``--pg-url`` names and dropped after; skipped
when none is reachable); then a universe of ``--symbols`` symbols with ``--days`` sessions of one-minute bars
each, imported into both stores (rows per second), read back whole (``read_many``, rows per second) and
backtested through ``runtime.service`` in a fresh process per store, whose peak resident memory (VmHWM) is
reported. ``--quick`` is a universe of 50 symbols x 21 sessions; ``--profile`` also times the stages of a
Parquet write separately. Everything is written under a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
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
PG_READ_TARGET = 2_000_000
RSS_TARGET_BYTES = 4 * 1024**3  # a backtest over the universe
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SESSION_MINUTES = 390  # 09:30-16:00 New York


def make_instrument(symbol: str = "BENCH") -> Instrument:
    return Instrument(
        symbol=symbol,
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


@contextlib.contextmanager
def scratch_database(admin_url: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database on ``admin_url``'s server, dropped afterwards; None when none is reachable."""
    import sqlalchemy as sa

    name = f"qd_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        print(f"  PostgreSQL not reachable ({str(exc.orig).strip().splitlines()[0]}): its figures are skipped")
        admin.dispose()
        yield None
        return
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        from quantdesk.data import pg_bars

        for db in pg_bars._databases.values():
            db.dispose()
        pg_bars._databases.clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_pg_single(url: str, bars: Bars, instrument: Instrument, root: Path, repeats: int) -> tuple[float, float]:
    """(write, read) rows per second of one dataset in the PostgreSQL store: medians over fresh writes."""
    from quantdesk.data.pg_bars import PostgresCatalog

    store = PostgresCatalog(root / "pg-single" / "catalog", url=url)
    write_s: list[float] = []
    for _ in range(max(1, min(repeats, 3))):  # each repeat deletes the dataset first: a fresh write
        store.delete_bars(instrument.symbol, Timeframe.M1)
        write_s.append(timed(lambda: store.write_bars(bars, instrument=instrument)))
    got = store.read_bars(instrument.symbol, Timeframe.M1)
    if not (np.array_equal(got.ts, bars.ts) and np.array_equal(got.close, bars.close)):
        raise SystemExit("PostgreSQL read back differs from what was written")
    read_s = [timed(lambda: store.read_bars(instrument.symbol, Timeframe.M1)) for _ in range(repeats)]
    store.delete_bars(instrument.symbol, Timeframe.M1)
    return len(bars) / statistics.median(write_s), len(bars) / statistics.median(read_s)


_BACKTEST_CHILD = """
import json, sys, time
from quantdesk.runtime.service import backtest
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.templates import template_text
start = time.perf_counter()
result = backtest(RunSpec(strategy_text=template_text("ema_cross"), universe="all", timeframe="1m",
                          data_home=sys.argv[1])).result
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"seconds": time.perf_counter() - start, "vmhwm_kb": int(status["VmHWM"].split()[0]),
                  "trades": len(result.trades), "symbols": len(result.runs)}))
"""


def backtest_in_child(home: Path, store_url: str | None) -> dict[str, float]:
    """A backtest of ema_cross over every symbol of ``home`` in a fresh process: its time and peak RSS."""
    env = {k: v for k, v in os.environ.items() if k != "QUANTDESK_BAR_STORE_URL"}
    if store_url:
        env["QUANTDESK_BAR_STORE_URL"] = store_url
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1] / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", _BACKTEST_CHILD, str(home)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"error": 1.0, "message": " | ".join(tail)}  # type: ignore[dict-item]
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_universe(n_symbols: int, days: int, root: Path, pg_url: str | None) -> None:
    """Import ``n_symbols`` x ``days`` sessions of one-minute bars into each store, read them back, backtest."""
    from quantdesk.data.pg_bars import PostgresCatalog

    rows_each = days * SESSION_MINUTES
    stores: list[tuple[str, Catalog, str | None]] = [("parquet", Catalog(root / "universe-pq" / "catalog"), None)]
    if pg_url is not None:
        stores.append(("postgresql", PostgresCatalog(root / "universe-pg" / "catalog", url=pg_url), pg_url))
    total = n_symbols * rows_each
    print(f"\nuniverse: {n_symbols} symbols x {days} sessions of one-minute bars = {total:,} rows")
    symbols = [f"U{i:04d}" for i in range(n_symbols)]
    for name, store, url in stores:
        import_s = 0.0
        for i, sym in enumerate(symbols):  # generated one symbol at a time: the import holds one dataset
            inst = make_instrument(sym)
            bars = make_bars(rows_each, inst, seed=1000 + i)
            import_s += timed(lambda: store.write_bars(bars, instrument=inst))  # noqa: B023
        rows_read = 0

        def read_all() -> None:
            nonlocal rows_read
            rows_read = sum(len(b) for b in store.read_many(symbols, Timeframe.M1))  # noqa: B023

        read_s = timed(read_all)
        if rows_read != total:
            raise SystemExit(f"{name}: read {rows_read:,} rows of the universe, expected {total:,}")
        run = backtest_in_child(store.root.parent, url)
        print(f"  {name:10s} import {total / import_s / 1e6:6.2f} M rows/s   read {total / read_s / 1e6:6.2f} M rows/s",
              end="")  # fmt: skip
        if "error" in run:
            print(f"   backtest failed: {run['message']}")
        else:
            rss = run["vmhwm_kb"] * 1024
            print(f"   backtest {run['seconds']:6.1f} s, peak RSS {rss / 1024**3:5.2f} GB "
                  f"(target < {RSS_TARGET_BYTES / 1024**3:.0f} GB) {verdict(RSS_TARGET_BYTES, rss)}, "
                  f"{int(run['trades'])} trades")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also time each stage of a write")
    parser.add_argument("--pg-url", default=os.environ.get("QUANTDESK_TEST_POSTGRES_URL", PG_ADMIN_URL),
                        help="a PostgreSQL server's URL to make a scratch database on")  # fmt: skip
    parser.add_argument("--symbols", type=int, default=500, help="symbols in the universe")
    parser.add_argument("--days", type=int, default=21, help="sessions of one-minute bars per universe symbol")
    parser.add_argument("--quick", action="store_true", help="a universe of 50 symbols x 21 sessions")
    parser.add_argument("--no-universe", action="store_true", help="skip the universe")
    args = parser.parse_args()
    if args.quick:
        args.symbols, args.days = 50, 21

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
        with scratch_database(args.pg_url) as pg_url:
            if pg_url is not None:
                pg_write, pg_read = bench_pg_single(pg_url, bars, instrument, root, args.repeats)
                print(f"  postgresql write {pg_write / 1e6:7.2f} M rows/s")
                print(f"  postgresql read  {pg_read / 1e6:7.2f} M rows/s  (target >= {PG_READ_TARGET / 1e6:.0f} M)  "
                      f"{verdict(pg_read, PG_READ_TARGET)}")  # fmt: skip
                failed = failed or pg_read < PG_READ_TARGET
            if not args.no_universe:
                bench_universe(args.symbols, args.days, root, pg_url)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
