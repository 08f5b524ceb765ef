"""The production bar store: bars in PostgreSQL behind the catalog's interface (``data.bar_store.BarStore``).

``PostgresCatalog`` is the Parquet ``Catalog`` with its bar primitives moved to a database (selected by
``QUANTDESK_BAR_STORE_URL``): the table ``bars`` (symbol, timeframe, ts int64 UTC ns, open, high, low, close,
volume; primary key (symbol, timeframe, ts)), declared by migration 0005 as range-partitioned by ``ts``, one
partition per calendar month (UTC) created on demand by the write that first needs it, or a TimescaleDB
hypertable where that extension is available; ``bar_datasets`` keeps each dataset's row count and first and
last times so listing and existence tests never scan the bars. A write validates (the catalog's rules), takes
a transaction-scoped advisory lock on its dataset, reads what is stored, merges, and in the same transaction
appends the new rows (a pure append) or replaces the dataset's rows; rows go in by binary ``COPY`` and come
out as one packed binary string per column straight into numpy arrays, so no Python object per row is made
either way; ``read_many`` reads a universe on two connections at once, one dataset at a time each. Any error
rolls the whole transaction back: bad input writes nothing. The instrument master and the macro series stay in
the Parquet catalog's folder (``root``).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from quantdesk.core.errors import ConfigError, StoreError
from quantdesk.data.catalog import Catalog, DatasetInfo, _merge
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe
from quantdesk.persistence.db import Database, open_database

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # signature, flags, no extension
_COPY_TRAILER = b"\xff\xff"
_VALUE_COLUMNS = ("ts", *BAR_COLUMNS)
READ_CONNECTIONS = 2  # datasets read at once by read_many (this project's reference machine has two cores)
COPY_CHUNK_ROWS = 1_000_000  # rows per COPY write: bounds the encoded buffer at ~90 MB
_databases: dict[tuple[str, int], Database] = {}
_databases_lock = threading.Lock()


def bar_database(url: str) -> Database:
    """The database at ``url`` (the psycopg 3 driver), migrated, one engine per URL and process."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"QUANTDESK_BAR_STORE_URL: expected a PostgreSQL URL, found {url!r}: {exc}") from exc
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"QUANTDESK_BAR_STORE_URL: expected a PostgreSQL URL, found the {parsed.drivername} one")
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername != "postgresql+psycopg":
        raise ConfigError(
            f"QUANTDESK_BAR_STORE_URL: the bar store copies rows with psycopg 3; expected postgresql+psycopg://, "
            f"found {parsed.drivername}://"
        )
    key = (parsed.render_as_string(hide_password=False), os.getpid())  # an engine does not survive a fork
    with _databases_lock:
        db = _databases.get(key)
        if db is None:
            db = _databases[key] = open_database(key[0])
    return db


def month_start_ns(ts_ns: np.ndarray) -> np.ndarray:
    """The distinct calendar months (UTC) of ``ts_ns``, each as the ns of its first instant, ascending."""
    months = np.unique(np.asarray(ts_ns, dtype=np.int64).view("datetime64[ns]").astype("datetime64[M]"))
    return months.astype("datetime64[ns]").view(np.int64)


def partition_name(month_ns: int) -> str:
    month = np.datetime64(int(month_ns), "ns").astype("datetime64[M]")
    year, mon = str(month).split("-")
    return f"bars_y{year}m{mon}"


class PostgresCatalog(Catalog):
    """The catalog at ``root`` (instruments, macro series) with its bars in the PostgreSQL database ``url``."""

    def __init__(self, root: Path | str | None = None, *, url: str) -> None:
        super().__init__(root)
        self.db = bar_database(url)
        with self.db.begin() as conn:
            self._partitioned = bool(
                conn.execute(sa.text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'bars'::regclass")).first()
            )

    # ---- writes ---------------------------------------------------------------------------------

    def _store_merged(self, symbol: str, bars: Bars, source: str) -> tuple[dict[str, np.ndarray], int, int, bool]:
        tf = bars.timeframe.value
        try:
            with self.db.begin() as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"bars/{symbol}/{tf}"})
                old = self._select(conn, symbol, bars.timeframe, None, None)
                merged, added, replaced, changed = _merge(old, bars)
                if changed:
                    appending = old is not None and added == len(bars) and replaced == 0 and len(old["ts"]) > 0
                    appending = appending and bool(bars.ts[0] > old["ts"][-1])  # type: ignore[index]
                    rows = {"ts": np.asarray(bars.ts), **{c: np.asarray(getattr(bars, c)) for c in BAR_COLUMNS}}
                    if not appending:
                        conn.execute(sa.text("DELETE FROM bars WHERE symbol = :s AND timeframe = :tf"),
                                     {"s": symbol, "tf": tf})  # fmt: skip
                        rows = merged
                    self._ensure_partitions(conn, rows["ts"])
                    _copy_in(conn, symbol, tf, rows)
                    n = len(merged["ts"])
                    conn.execute(
                        sa.text(
                            "INSERT INTO bar_datasets (symbol, timeframe, rows, first_ns, last_ns, source) "
                            "VALUES (:s, :tf, :n, :first, :last, :source) ON CONFLICT (symbol, timeframe) DO UPDATE "
                            "SET rows = :n, first_ns = :first, last_ns = :last, source = :source"
                        ),
                        {"s": symbol, "tf": tf, "n": n, "first": int(merged["ts"][0]), "last": int(merged["ts"][-1]),
                         "source": source},
                    )  # fmt: skip
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"{self.db.url}: cannot write {tf} bars of {symbol}: {_reason(exc)}") from exc
        return merged, added, replaced, changed

    def _ensure_partitions(self, conn: sa.Connection, ts_ns: np.ndarray) -> None:
        """Create the monthly partitions ``ts_ns`` falls in that do not exist yet (none for a hypertable)."""
        if not self._partitioned or len(ts_ns) == 0:
            return
        months = [int(m) for m in month_start_ns(ts_ns)]
        present = {
            r[0]
            for r in conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'bars'::regclass"
                )
            )
        }
        missing = [m for m in months if partition_name(m) not in present]
        if not missing:
            return
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('bars/partitions'))"))
        for m in missing:
            nxt = int((np.datetime64(m, "ns").astype("datetime64[M]") + 1).astype("datetime64[ns]").view(np.int64))
            bounds = f"FOR VALUES FROM ({m}) TO ({nxt})"
            conn.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {partition_name(m)} PARTITION OF bars {bounds}"))

    def delete_bars(self, symbol: str, timeframe: Timeframe) -> bool:
        check_symbol(symbol)
        try:
            with self.db.begin() as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                             {"key": f"bars/{symbol}/{timeframe.value}"})  # fmt: skip
                found = conn.execute(
                    sa.text("DELETE FROM bar_datasets WHERE symbol = :s AND timeframe = :tf RETURNING 1"),
                    {"s": symbol, "tf": timeframe.value},
                ).first()
                conn.execute(sa.text("DELETE FROM bars WHERE symbol = :s AND timeframe = :tf"),
                             {"s": symbol, "tf": timeframe.value})  # fmt: skip
        except sa.exc.DBAPIError as exc:
            what = f"{timeframe.value} bars of {symbol}"
            raise StoreError(f"{self.db.url}: cannot delete {what}: {_reason(exc)}") from exc
        if found:
            self._unregister(symbol, timeframe, keep_record=True)
        return found is not None

    # ---- reads ----------------------------------------------------------------------------------

    def _read_stored(
        self, symbol: str, timeframe: Timeframe, start_ns: int | None, end_ns: int | None
    ) -> dict[str, np.ndarray] | None:
        try:
            with self.db.begin() as conn:
                return self._select(conn, symbol, timeframe, start_ns, end_ns)
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"{self.db.url}: cannot read {timeframe.value} bars of {symbol}: {_reason(exc)}") from exc

    def _select(
        self, conn: sa.Connection, symbol: str, timeframe: Timeframe, start_ns: int | None, end_ns: int | None
    ) -> dict[str, np.ndarray] | None:
        stored = conn.execute(
            sa.text("SELECT rows FROM bar_datasets WHERE symbol = :s AND timeframe = :tf"),
            {"s": symbol, "tf": timeframe.value},
        ).first()
        if stored is None:
            return None
        return _fetch_columns(conn, symbol, timeframe.value, start_ns, end_ns)

    def read_many(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe | str,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Iterator[Bars]:
        """``read_bars`` of each of ``symbols`` in order, ``READ_CONNECTIONS`` datasets in flight at once (each
        on its own connection: the server's per-row work is the cost, and it runs on as many cores)."""
        names = list(symbols)
        with ThreadPoolExecutor(max_workers=READ_CONNECTIONS, thread_name_prefix="pg-bars") as pool:
            pending: deque[Future[Bars]] = deque()
            for s in names:
                pending.append(pool.submit(self.read_bars, s, timeframe, start_ns, end_ns))
                if len(pending) >= READ_CONNECTIONS:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def read_closes(
        self, symbol: str, timeframe: Timeframe, end_ns: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        cols = self._read_stored(check_symbol(symbol), timeframe, None, end_ns)
        if cols is None:
            return np.empty(0, dtype=np.int64), np.empty(0)
        return cols["ts"], cols["close"]

    def has_bars(self, symbol: str, timeframe: Timeframe) -> bool:
        with self.db.begin() as conn:
            return (
                conn.execute(
                    sa.text("SELECT 1 FROM bar_datasets WHERE symbol = :s AND timeframe = :tf"),
                    {"s": symbol, "tf": timeframe.value},
                ).first()
                is not None
            )

    def datasets(self) -> list[DatasetInfo]:
        with self.db.begin() as conn:
            rows = conn.execute(sa.text("SELECT symbol, timeframe, rows, first_ns, last_ns FROM bar_datasets")).all()
        synthetic = {i.symbol: i.synthetic for i in self.instruments()} if rows else {}
        out = [
            DatasetInfo(sym, Timeframe.parse(tf), int(n), int(first), int(last), None, synthetic.get(sym, False))
            for sym, tf, n, first, last in rows
        ]
        out.sort(key=lambda d: (d.symbol, d.timeframe.rank))
        return out


def _reason(exc: sa.exc.DBAPIError) -> str:
    text = str(exc.orig).strip()
    return text.splitlines()[0] if text else type(exc.orig).__name__


def _raw_cursor(conn: sa.Connection) -> Any:
    driver = conn.connection.driver_connection
    if driver is None or not hasattr(driver, "cursor"):
        raise StoreError("the bar store needs a psycopg 3 connection")
    return driver.cursor()


def _copy_in(conn: sa.Connection, symbol: str, timeframe: str, cols: dict[str, np.ndarray]) -> None:
    """Append ``cols`` (ts and BAR_COLUMNS, validated) to ``bars`` by binary COPY, in chunks of rows."""
    sym, tf = symbol.encode(), timeframe.encode()
    row = np.dtype(
        [("fields", ">i2"), ("len_symbol", ">i4"), ("symbol", f"S{len(sym)}"), ("len_timeframe", ">i4"),
         ("timeframe", f"S{len(tf)}")]
        + [(f, x) for c in _VALUE_COLUMNS for f, x in ((f"len_{c}", ">i4"), (c, ">i8" if c == "ts" else ">f8"))]
    )  # fmt: skip
    n = len(cols["ts"])
    with (
        _raw_cursor(conn) as cur,
        cur.copy(
            "COPY bars (symbol, timeframe, ts, open, high, low, close, volume) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.write(_COPY_HEADER)
        for lo in range(0, n, COPY_CHUNK_ROWS):
            hi = min(n, lo + COPY_CHUNK_ROWS)
            buf = np.empty(hi - lo, dtype=row)
            buf["fields"] = 2 + len(_VALUE_COLUMNS)
            buf["len_symbol"], buf["symbol"] = len(sym), sym
            buf["len_timeframe"], buf["timeframe"] = len(tf), tf
            for c in _VALUE_COLUMNS:
                buf[f"len_{c}"] = 8
                buf[c] = cols[c][lo:hi]
            copy.write(buf.tobytes())
        copy.write(_COPY_TRAILER)


def _fetch_columns(
    conn: sa.Connection, symbol: str, timeframe: str, start_ns: int | None, end_ns: int | None
) -> dict[str, np.ndarray]:
    """One dataset's rows with ``start_ns <= ts <= end_ns`` as native numpy arrays, in time order: the server
    packs each column into one binary string (``string_agg`` of ``int8send``/``float8send``, big-endian, all in
    the same row order), so the client makes one array per column instead of an object per row; rows out of
    time order (a dataset rewritten in place) are sorted here."""
    where = "symbol = %s AND timeframe = %s"
    params: list[object] = [symbol, timeframe]
    if start_ns is not None:
        where, params = where + " AND ts >= %s", [*params, int(start_ns)]
    if end_ns is not None:
        where, params = where + " AND ts <= %s", [*params, int(end_ns)]
    send = {c: "int8send" if c == "ts" else "float8send" for c in _VALUE_COLUMNS}
    packed = ", ".join(f"string_agg({send[c]}({c}), ''::bytea)" for c in _VALUE_COLUMNS)
    query = f"SELECT {packed} FROM bars WHERE {where}"  # no ORDER BY: a sort of a year of minutes spills to disk
    with _raw_cursor(conn) as cur:
        cur.execute(query, params, binary=True)
        row = cur.fetchone()
    if row is None or row[0] is None:
        return {"ts": np.empty(0, dtype=np.int64), **{c: np.empty(0) for c in BAR_COLUMNS}}
    out = {"ts": np.frombuffer(row[0], dtype=">i8").astype(np.int64)}
    for c, raw in zip(BAR_COLUMNS, row[1:], strict=True):
        out[c] = np.frombuffer(raw, dtype=">f8").astype(np.float64)
        if len(out[c]) != len(out["ts"]):
            raise StoreError(f"bars {symbol} {timeframe}: {c} has {len(out[c])} values for {len(out['ts'])} times")
    if len(out["ts"]) > 1 and np.any(np.diff(out["ts"]) <= 0):  # partitions come in time order, rows mostly too
        order = np.argsort(out["ts"], kind="stable")
        out = {k: v[order] for k, v in out.items()}
    return out
