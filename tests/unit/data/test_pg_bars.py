"""The PostgreSQL bar store (``data.pg_bars``) on the real server: it stores what the Parquet catalog stores, bit
for bit; a bad write leaves nothing behind; a backtest through ``runtime.service`` with it selected equals the
same backtest on Parquet; a write creates the monthly partition it needs; ``QUANTDESK_BAR_STORE_URL`` picks it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from quantdesk.core.errors import ConfigError, DataError, StoreError
from quantdesk.data import pg_bars
from quantdesk.data.bar_store import STORE_URL_ENV, BarStore, BarStoreConfig, open_catalog
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.runtime.service import backtest
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.templates import template_text

COIN = Instrument(symbol="COINUSD", asset_class="crypto", market="CRYPTO", currency="USD", tick_size=1e-8, lot_size=1.0)


def minute_bars(start: str, n: int, seed: int = 3) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    ts = pd.date_range(start, periods=n, freq="min", tz="UTC").as_unit("ns").asi8
    high, low = np.maximum(open_, close) * 1.0003, np.minimum(open_, close) * 0.9997
    cols = {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": rng.lognormal(5.0, 1.0, n)}
    return Bars.from_arrays(COIN.symbol, Timeframe.M1, cols, TradingCalendar())


def same(a: Bars, b: Bars) -> bool:
    return np.array_equal(a.ts, b.ts) and all(np.array_equal(getattr(a, c), getattr(b, c)) for c in BAR_COLUMNS)


def partitions(store: pg_bars.PostgresCatalog) -> list[str]:
    with store.db.begin() as conn:
        return sorted(conn.execute(sa.text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                           "WHERE i.inhparent = 'bars'::regclass")).scalars())  # fmt: skip


@pytest.fixture
def pg(postgres_url: str, tmp_path: Path) -> pg_bars.PostgresCatalog:
    return pg_bars.PostgresCatalog(tmp_path / "pg" / "catalog", url=postgres_url)


def test_the_postgresql_store_round_trips_what_the_parquet_catalog_stores(
    pg: pg_bars.PostgresCatalog, tmp_path: Path
) -> None:
    parquet = Catalog(tmp_path / "parquet" / "catalog")
    config = SyntheticConfig(n_symbols=2, days=120, seed=11)
    write_synthetic_market(parquet, config)
    write_synthetic_market(pg, config)
    for store in (parquet, pg):  # a month and a half of minutes, then an overlapping rewrite and an append
        store.write_bars(minute_bars("2024-01-20", 40_000), instrument=COIN)
        store.write_bars(minute_bars("2024-02-10", 30_000, seed=4), instrument=COIN)
    assert isinstance(pg, BarStore) and isinstance(parquet, BarStore)
    assert [(d.symbol, d.timeframe, d.rows, d.first_ns, d.last_ns, d.synthetic) for d in pg.datasets()] == [
        (d.symbol, d.timeframe, d.rows, d.first_ns, d.last_ns, d.synthetic) for d in parquet.datasets()
    ]
    for d in parquet.datasets():
        assert same(pg.read_bars(d.symbol, d.timeframe), parquet.read_bars(d.symbol, d.timeframe)), d.symbol
        lo, hi = d.first_ns + (d.last_ns - d.first_ns) // 3, d.last_ns - (d.last_ns - d.first_ns) // 3
        assert same(pg.read_bars(d.symbol, d.timeframe, lo, hi), parquet.read_bars(d.symbol, d.timeframe, lo, hi))
        ts_pg, close_pg = pg.read_closes(d.symbol, d.timeframe, hi)
        ts_pq, close_pq = parquet.read_closes(d.symbol, d.timeframe, hi)
        assert np.array_equal(ts_pg, ts_pq) and np.array_equal(close_pg, close_pq)
    names = [d.symbol for d in parquet.datasets() if d.timeframe is Timeframe.D1]
    assert all(same(a, b) for a, b in zip(pg.read_many(names, "1d"), parquet.read_many(names, "1d"), strict=True))
    assert pg.delete_bars(COIN.symbol, Timeframe.M1) and not pg.has_bars(COIN.symbol, Timeframe.M1)
    assert not pg.delete_bars(COIN.symbol, Timeframe.M1)
    assert Timeframe.M1 not in pg.get_instrument(COIN.symbol).technical_availability


def test_a_bad_write_leaves_nothing_half_written(pg: pg_bars.PostgresCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    good = minute_bars("2024-03-30", 5_000)
    pg.write_bars(good, instrument=COIN)
    before, months = pg.datasets(), partitions(pg)
    cols = {"ts": np.asarray(good.ts).copy(), **{c: np.asarray(getattr(good, c)).copy() for c in BAR_COLUMNS}}
    later = {k: v[-100:].copy() for k, v in cols.items()}
    later["ts"] += 40 * 86_400 * 10**9  # into a month with no partition yet
    duplicate = {k: v.copy() for k, v in later.items()}
    duplicate["ts"][5] = duplicate["ts"][4]
    unsorted = {k: v.copy() for k, v in later.items()}
    unsorted["ts"][[5, 6]] = unsorted["ts"][[6, 5]]
    nan = {k: v.copy() for k, v in later.items()}
    nan["close"][7] = np.nan
    for bad in (duplicate, unsorted, nan):
        with pytest.raises(DataError):
            pg.write_bars(Bars.from_arrays(COIN.symbol, Timeframe.M1, bad, TradingCalendar()), instrument=COIN)

    def copy_then_fail(conn: sa.Connection, symbol: str, timeframe: str, rows: dict[str, np.ndarray]) -> None:
        real_copy(conn, symbol, timeframe, rows)
        conn.execute(sa.text("SELECT 1/0"))  # the server fails after the rows went in

    real_copy = pg_bars._copy_in
    monkeypatch.setattr(pg_bars, "_copy_in", copy_then_fail)
    with pytest.raises(StoreError, match="cannot write 1m bars of COINUSD: division by zero"):
        pg.write_bars(Bars.from_arrays(COIN.symbol, Timeframe.M1, later, TradingCalendar()), instrument=COIN)
    with pytest.raises(StoreError):  # a rewrite (delete, then copy) rolls back whole too
        pg.write_bars(minute_bars("2024-03-30", 6_000, seed=9), instrument=COIN)
    assert pg.datasets() == before and partitions(pg) == months
    assert same(pg.read_bars(COIN.symbol, Timeframe.M1), good)


def test_a_write_creates_the_monthly_partition_it_needs(pg: pg_bars.PostgresCatalog) -> None:
    assert pg._partitioned
    pg.write_bars(minute_bars("2024-12-31 23:00", 30), instrument=COIN)
    assert partitions(pg) == ["bars_y2024m12"]
    report = pg.write_bars(minute_bars("2024-12-31 23:00", 120)[30:], instrument=COIN)  # on into a new year
    assert report.rows_added == 90 and report.rows_replaced == 0
    assert partitions(pg) == ["bars_y2024m12", "bars_y2025m01"]
    with pg.db.begin() as conn:  # each row sits in its month's partition
        jan = conn.execute(sa.text("SELECT count(*) FROM bars_y2025m01")).scalar()
    assert jan == 60 and len(pg.read_bars(COIN.symbol, "1m")) == 120


def test_a_backtest_on_the_postgresql_store_equals_the_one_on_parquet(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SyntheticConfig(n_symbols=3, days=300, seed=5)
    write_synthetic_market(Catalog(tmp_path / "parquet" / "catalog"), config)
    monkeypatch.setenv(STORE_URL_ENV, postgres_url)
    store = open_catalog(tmp_path / "pg" / "catalog")
    assert isinstance(store, pg_bars.PostgresCatalog)
    write_synthetic_market(store, config)

    def run(home: Path) -> object:
        return backtest(RunSpec(strategy_text=template_text("ema_cross"), universe="all", data_home=str(home))).result

    on_pg = run(tmp_path / "pg")
    monkeypatch.delenv(STORE_URL_ENV)
    on_parquet = run(tmp_path / "parquet")
    assert len(on_pg.trades) > 0  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(on_pg.trades, on_parquet.trades)  # type: ignore[attr-defined]
    pd.testing.assert_series_equal(on_pg.equity, on_parquet.equity)  # type: ignore[attr-defined]


def test_the_store_setting_picks_parquet_by_default_and_refuses_what_it_cannot_use() -> None:
    assert BarStoreConfig.parse(None) == BarStoreConfig() == BarStoreConfig.parse(" parquet ")
    assert BarStoreConfig.parse("postgresql://u@h/db").kind == "postgresql"
    with pytest.raises(ConfigError, match=r"expected 'parquet' or a PostgreSQL URL.*found a value with scheme 'mysql'"):
        BarStoreConfig.parse("mysql://u@h/db")
    with pytest.raises(ConfigError, match=r"expected postgresql\+psycopg://, found postgresql\+psycopg2://"):
        pg_bars.bar_database("postgresql+psycopg2://u@h/db")
