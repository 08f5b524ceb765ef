"""The embedded store: a Parquet catalog of bars, macro series and the instrument master.

Layout under ``<data home>/catalog``::

    bars/<TIMEFRAME>/<SYMBOL>.parquet   one dataset per instrument and timeframe (dir names M1 ... MN1,
                                        so 1m and 1M differ on case-insensitive file systems)
    series/<NAME>.parquet               one macro series (ts, known_ts, value) with its description
    books/<SYMBOL>.parquet              Level 2 book snapshots, ticks/<SYMBOL>.parquet time and sales
                                        (written and read by ``data.book_store``)
    instruments.parquet                 the instrument master, one JSON record per symbol

Every write validates first, then merges with what is stored (a row with an existing time replaces
it; re-writing identical rows changes nothing, not even the file), writes a temporary file in the
same folder, flushes it and renames it over the old one, so a reader sees the old dataset or the new
one and never a half-written file. A per-dataset lock file serialises concurrent writers (processes
too), and each reads what is stored only once it holds the lock, so no write is lost. The instrument
is registered (its record merged with the stored one under the master's lock) before its bars are
written and taken back if that write fails, so a dataset never exists without its instrument, even
when the process is killed half-way. A killed writer can leave its temporary file behind: opening a
catalog removes every temporary file whose dataset no writer holds. Reads by time range use the row
groups' statistics to skip what is outside the range.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from quantdesk.core.atomic import atomic_write
from quantdesk.core.errors import DataError, NotFoundError, StoreError
from quantdesk.core.paths import data_home
from quantdesk.data.validation import Gap, find_gaps, validate_bar_arrays, validate_trading_hours
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe

try:  # POSIX advisory locks; on other systems writers are not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

ROW_GROUP_ROWS = 65_536  # a range read decodes whole row groups: small enough to skip most of a file
_TS_TYPE = pa.timestamp("ns", tz="UTC")
BAR_SCHEMA = pa.schema([pa.field("ts", _TS_TYPE, nullable=False)] + [pa.field(c, pa.float64()) for c in BAR_COLUMNS])
SERIES_SCHEMA = pa.schema(
    [
        pa.field("ts", _TS_TYPE, nullable=False),
        pa.field("known_ts", _TS_TYPE, nullable=False),
        pa.field("value", pa.float64()),
    ]
)


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What a write did: rows offered, added, replaced, the dataset's size after, and its gaps."""

    symbol: str
    timeframe: Timeframe
    rows_in: int
    rows_added: int
    rows_replaced: int
    rows_total: int
    changed: bool
    gaps: list[Gap] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    symbol: str
    timeframe: Timeframe
    rows: int
    first_ns: int
    last_ns: int
    path: Path | None  # the Parquet file; None for a dataset in PostgreSQL
    synthetic: bool


def _file_name(name: str) -> str:
    return urllib.parse.quote(name.upper(), safe="^=.-_")


class Catalog:
    """The Parquet catalog rooted at ``root`` (default ``<data home>/catalog``)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else data_home() / "catalog"
        self._remove_stale_temp_files()

    def _remove_stale_temp_files(self) -> None:
        """Delete temporary files (``.<target>.<random>.tmp``) left by killed writers: each one whose
        target's lock can be taken at once, so a write under way keeps its file."""
        if fcntl is None or not self.root.is_dir():
            return
        bars = self.root / "bars"
        folders = [self.root, self.root / "series", self.root / "books", self.root / "ticks"]
        folders += [bars / tf.name for tf in Timeframe]
        for folder in folders:
            try:
                stale = [e.name for e in os.scandir(folder) if e.name.startswith(".") and e.name.endswith(".tmp")]
            except OSError:  # absent or unreadable: nothing to clean here
                continue
            for name in stale:
                target = folder / name[1:].rsplit(".", 2)[0]
                try:
                    with open(target.with_name(target.name + ".lock"), "a+") as lock:
                        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                        (folder / name).unlink(missing_ok=True)
                except OSError:  # held by a writer (BlockingIOError), or a read-only store
                    continue

    # ---- paths and locking ----------------------------------------------------------------------

    def bars_path(self, symbol: str, timeframe: Timeframe) -> Path:
        return self.root / "bars" / timeframe.name / f"{_file_name(check_symbol(symbol))}.parquet"

    def series_path(self, name: str) -> Path:
        return self.root / "series" / f"{_file_name(name)}.parquet"

    def books_path(self, symbol: str) -> Path:
        return self.root / "books" / f"{_file_name(check_symbol(symbol))}.parquet"

    def ticks_path(self, symbol: str) -> Path:
        return self.root / "ticks" / f"{_file_name(check_symbol(symbol))}.parquet"

    @property
    def instruments_path(self) -> Path:
        return self.root / "instruments.parquet"

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(path.with_name(path.name + ".lock"), "a+")  # noqa: SIM115 (held across the block)
        except OSError as exc:
            raise StoreError(f"cannot write to {path.parent}: {exc.strerror}") from exc
        with lock:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield

    def _atomic_write_table(self, table: pa.Table, path: Path) -> None:
        atomic_write(path, lambda tmp: pq.write_table(table, tmp, **_write_options(table.schema)))

    # ---- bars -----------------------------------------------------------------------------------

    def write_bars(self, bars: Bars, *, instrument: Instrument | None = None, source: str = "") -> WriteReport:
        """Validate, merge and atomically store ``bars``; register ``instrument`` after the bars land.

        Without ``instrument`` the symbol must already be in the instrument master.
        """
        symbol = check_symbol(bars.symbol, where="bars.symbol")
        if instrument is None:
            instrument = self.get_instrument(symbol)
        elif instrument.symbol != symbol:
            raise DataError(f"instrument {instrument.symbol!r} given for bars of {symbol!r}")
        label = source or f"bars {symbol} {bars.timeframe.value}"
        validate_bar_arrays(bars.ts, {c: getattr(bars, c) for c in BAR_COLUMNS}, source=label)
        if bars.timeframe.is_intraday:
            validate_trading_hours(bars.ts, instrument.calendar, instrument.symbol, source=label)
        was_registered = self._register(instrument, bars.timeframe)
        try:
            merged, added, replaced, changed = self._store_merged(symbol, bars, source)
        except BaseException:
            self._unregister(symbol, bars.timeframe, keep_record=was_registered)
            raise
        stored = Bars.from_arrays(symbol, bars.timeframe, merged, instrument.calendar)
        return WriteReport(
            symbol=symbol,
            timeframe=bars.timeframe,
            rows_in=len(bars),
            rows_added=added,
            rows_replaced=replaced,
            rows_total=len(merged["ts"]),
            changed=changed,
            gaps=find_gaps(stored),
        )

    def _store_merged(self, symbol: str, bars: Bars, source: str) -> tuple[dict[str, np.ndarray], int, int, bool]:
        """Merge ``bars`` (validated) into the stored dataset under its lock and swap the result in whole;
        returns (merged columns, rows added, rows replaced, changed). The bar store's one write primitive."""
        path = self.bars_path(symbol, bars.timeframe)
        with self._locked(path):
            old = self._read_bar_columns(path) if path.exists() else None
            merged, added, replaced, changed = _merge(old, bars)
            if changed:
                table = pa.Table.from_arrays(
                    [pa.array(merged["ts"].view("datetime64[ns]"), type=_TS_TYPE)]
                    + [pa.array(merged[c], type=pa.float64()) for c in BAR_COLUMNS],
                    schema=BAR_SCHEMA.with_metadata(
                        {"symbol": symbol, "timeframe": bars.timeframe.value, "source": source}
                    ),
                )
                self._atomic_write_table(table, path)
        return merged, added, replaced, changed

    def _read_stored(
        self, symbol: str, timeframe: Timeframe, start_ns: int | None, end_ns: int | None
    ) -> dict[str, np.ndarray] | None:
        """The stored columns (ts and BAR_COLUMNS) of one dataset, at least every row in the range (a store may
        return more; ``read_bars`` trims), or None when no such dataset is stored."""
        path = self.bars_path(symbol, timeframe)
        if not path.exists():
            return None
        return self._read_bar_columns(path, start_ns, end_ns)

    def read_bars(
        self,
        symbol: str,
        timeframe: Timeframe | str,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Bars:
        """Bars of ``symbol`` with ``start_ns <= ts <= end_ns``; NotFoundError when none are stored."""
        tf = Timeframe.parse(timeframe)
        cols = self._read_stored(check_symbol(symbol), tf, start_ns, end_ns)
        if cols is None:
            have = [d.timeframe.value for d in self.datasets() if d.symbol == symbol]  # finest first
            hint = (
                f"; stored timeframes for {symbol}: {', '.join(have)}"
                if have
                else ("; import it first (quantdesk data import / data sample / data synthetic)")
            )
            raise NotFoundError(f"no {tf.value} bars stored for {symbol}{hint}")
        instrument = self.find_instrument(symbol)
        calendar = instrument.calendar if instrument else None
        bars = Bars.from_arrays(symbol, tf, cols, calendar)
        return bars.between(start_ns, end_ns) if (start_ns is not None or end_ns is not None) else bars

    def read_many(
        self,
        symbols: Sequence[str],
        timeframe: Timeframe | str,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Iterator[Bars]:
        """``read_bars`` of each of ``symbols`` in order, one dataset read at a time (a universe's reads hold no
        more than the bars themselves)."""
        for s in symbols:
            yield self.read_bars(s, timeframe, start_ns, end_ns)

    def _read_bar_columns(
        self, path: Path, start_ns: int | None = None, end_ns: int | None = None
    ) -> dict[str, np.ndarray]:
        try:
            pf = pq.ParquetFile(path)
            groups = _row_groups_in_range(pf, start_ns, end_ns)
            table = pf.read_row_groups(groups, columns=["ts", *BAR_COLUMNS], use_threads=True)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        out: dict[str, np.ndarray] = {
            "ts": _column_numpy(table.column("ts")).view(np.int64),
        }
        for c in BAR_COLUMNS:
            out[c] = _column_numpy(table.column(c))
        return out

    def read_closes(
        self, symbol: str, timeframe: Timeframe, end_ns: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ts, close) of ``symbol``'s stored bars with ts <= ``end_ns``: two columns, no instrument lookup,
        for reading many symbols' prices at once; empty arrays when none are stored."""
        path = self.bars_path(symbol, timeframe)
        if not path.exists():
            return np.empty(0, dtype=np.int64), np.empty(0)
        try:
            pf = pq.ParquetFile(path)
            table = pf.read_row_groups(_row_groups_in_range(pf, None, end_ns), columns=["ts", "close"])
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        ts = _column_numpy(table.column("ts")).view(np.int64)
        close = _column_numpy(table.column("close"))
        if end_ns is not None:
            keep = ts <= end_ns
            ts, close = ts[keep], close[keep]
        return ts, close

    def has_bars(self, symbol: str, timeframe: Timeframe) -> bool:
        return self.bars_path(symbol, timeframe).exists()

    def delete_bars(self, symbol: str, timeframe: Timeframe) -> bool:
        """Remove one dataset (its instrument record stays, without the timeframe); returns whether it was stored."""
        path = self.bars_path(symbol, timeframe)
        with self._locked(path):
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise StoreError(f"cannot delete {path}: {exc.strerror}") from exc
        self._unregister(symbol, timeframe, keep_record=True)
        return True

    def datasets(self) -> list[DatasetInfo]:
        """Every stored bar dataset, sorted by symbol then timeframe."""
        out: list[DatasetInfo] = []
        base = self.root / "bars"
        if not base.exists():
            return out
        synthetic = {i.symbol: i.synthetic for i in self.instruments()}
        for tf in Timeframe:
            folder = base / tf.name
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.parquet")):
                symbol = urllib.parse.unquote(path.stem)
                try:
                    pf = pq.ParquetFile(path)
                    rows = pf.metadata.num_rows
                    first, last = _ts_bounds(pf)
                except (OSError, pa.ArrowException) as exc:
                    raise StoreError(f"cannot read {path}: {exc}") from exc
                out.append(DatasetInfo(symbol, tf, rows, first, last, path, synthetic.get(symbol, False)))
        out.sort(key=lambda d: (d.symbol, d.timeframe.rank))
        return out

    # ---- instruments ----------------------------------------------------------------------------

    def _instrument_table(self) -> pa.Table | None:
        path = self.instruments_path
        if not path.exists():
            return None
        try:
            return pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc

    def _parse_instrument(self, record: str) -> Instrument:
        try:
            return Instrument.model_validate_json(record)
        except ValidationError as exc:
            raise StoreError(f"{self.instruments_path}: a stored instrument no longer validates: {exc}") from exc

    def instruments(self) -> list[Instrument]:
        table = self._instrument_table()
        if table is None:
            return []
        return [self._parse_instrument(record) for record in table.column("record").to_pylist()]

    def find_instrument(self, symbol: str) -> Instrument | None:
        """The record of ``symbol`` (validating only that one, so a read costs the same in a large master)."""
        check_symbol(symbol)
        table = self._instrument_table()
        if table is None:
            return None
        symbols = table.column("symbol").to_pylist()
        if symbol not in symbols:
            return None
        return self._parse_instrument(table.column("record")[symbols.index(symbol)].as_py())

    def get_instrument(self, symbol: str) -> Instrument:
        found = self.find_instrument(symbol)
        if found is None:
            known = ", ".join(i.symbol for i in self.instruments()[:20]) or "none yet"
            raise NotFoundError(f"instrument {symbol!r} is not in the instrument master (known: {known})")
        return found

    def _register(self, instrument: Instrument, timeframe: Timeframe) -> bool:
        """Store ``instrument`` listing ``timeframe`` and every timeframe its stored record lists, reading
        that record under the master's lock (two writers of one symbol keep both timeframes). Returns
        whether the symbol had a record before."""
        with self._locked(self.instruments_path):
            records = self._instrument_records()
            before = records.get(instrument.symbol)
            stored = self._parse_instrument(before) if before is not None else None
            merged = _with_availability(instrument, stored, timeframe)
            record = merged.model_dump_json()
            if record != before:
                records[instrument.symbol] = record
                self._write_instrument_records(records)
        return before is not None

    def _unregister(self, symbol: str, timeframe: Timeframe, *, keep_record: bool) -> None:
        """Undo ``_register`` after a failed bar write: drop ``timeframe`` from the record unless its bars
        exist, and a record the write created when none of its bars exist."""
        with self._locked(self.instruments_path):
            records = self._instrument_records()
            if symbol not in records or self.has_bars(symbol, timeframe):
                return
            if not keep_record and not any(self.has_bars(symbol, tf) for tf in Timeframe):
                del records[symbol]
            else:
                stored = self._parse_instrument(records[symbol])
                have = [tf for tf in stored.technical_availability if tf is not timeframe]
                records[symbol] = stored.model_copy(update={"technical_availability": have}).model_dump_json()
            self._write_instrument_records(records)

    def _instrument_records(self) -> dict[str, str]:
        table = self._instrument_table()
        if table is None:
            return {}
        return dict(zip(table.column("symbol").to_pylist(), table.column("record").to_pylist(), strict=True))

    def _write_instrument_records(self, records: dict[str, str]) -> None:
        symbols = sorted(records)
        ids = [json.loads(records[s]).get("instrument_id", "") for s in symbols]
        table = pa.table({"symbol": symbols, "instrument_id": ids, "record": [records[s] for s in symbols]})
        self._atomic_write_table(table, self.instruments_path)

    def put_instruments(self, instruments: list[Instrument], *, replace: bool = True) -> None:
        """Insert or update instrument records by symbol (``replace=False`` keeps existing records)."""
        path = self.instruments_path
        with self._locked(path):
            table = self._instrument_table()
            if table is not None:  # the usual call from write_bars: its record is stored already, unchanged
                stored = dict(zip(table.column("symbol").to_pylist(), table.column("record").to_pylist(), strict=True))
                if all(
                    i.symbol in stored and (not replace or stored[i.symbol] == i.model_dump_json()) for i in instruments
                ):
                    return
            current = {i.symbol: i for i in self.instruments()}
            before = dict(current)
            for inst in instruments:
                if replace or inst.symbol not in current:
                    current[inst.symbol] = inst
            if current == before and path.exists():
                return
            symbols = sorted(current)
            table = pa.table(
                {
                    "symbol": symbols,
                    "instrument_id": [current[s].instrument_id for s in symbols],
                    "record": [current[s].model_dump_json() for s in symbols],
                }
            )
            self._atomic_write_table(table, path)

    # ---- macro series ---------------------------------------------------------------------------

    def write_series(self, series: MacroSeries) -> bool:
        """Store (replace) a macro series; returns False when the stored one was already identical."""
        source = f"series {series.name}"
        ts, known = series.ts, series.known_ts
        if len(ts) > 1 and np.any(np.diff(ts) <= 0):
            i = int(np.flatnonzero(np.diff(ts) <= 0)[0]) + 1
            raise DataError("times not strictly increasing", source=source, row=i + 1, column="ts")
        bad = np.flatnonzero(known < ts)
        if len(bad):
            raise DataError(
                "known before its period starts",
                source=source,
                row=int(bad[0]) + 1,
                column="known_ts",
                expected="known_ts >= ts",
            )
        path = self.series_path(series.name)
        meta = {
            "name": series.name,
            "description": series.description,
            "unit": series.unit,
            "frequency": series.frequency,
            "source": series.source,
            "synthetic": json.dumps(series.synthetic),
            "kind": series.kind,
            "symbol": series.symbol,
        }
        with self._locked(path):
            if path.exists():
                old = self.read_series(series.name)
                if (
                    np.array_equal(old.ts, ts)
                    and np.array_equal(old.known_ts, known)
                    and np.array_equal(old.value, series.value, equal_nan=True)
                    and old.description == series.description
                    and old.frequency == series.frequency
                    and old.unit == series.unit
                    and old.source == series.source
                    and old.kind == series.kind
                    and old.symbol == series.symbol
                ):
                    return False
            table = pa.Table.from_arrays(
                [
                    pa.array(ts.view("datetime64[ns]"), type=_TS_TYPE),
                    pa.array(known.view("datetime64[ns]"), type=_TS_TYPE),
                    pa.array(series.value, type=pa.float64()),
                ],
                schema=SERIES_SCHEMA.with_metadata(meta),
            )
            self._atomic_write_table(table, path)
        return True

    def read_series(self, name: str) -> MacroSeries:
        path = self.series_path(name)
        if not path.exists():
            known = ", ".join(self.series_names()) or "none yet"
            raise NotFoundError(f"no macro series {name!r} stored (stored: {known})")
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        return MacroSeries(
            name=meta.get("name", name),
            ts=_column_numpy(table.column("ts")).view(np.int64),
            known_ts=_column_numpy(table.column("known_ts")).view(np.int64),
            value=_column_numpy(table.column("value")),
            description=meta.get("description", ""),
            unit=meta.get("unit", ""),
            frequency=meta.get("frequency", ""),
            source=meta.get("source", ""),
            synthetic=json.loads(meta.get("synthetic", "false")),
            kind=meta.get("kind", "macro"),
            symbol=meta.get("symbol", ""),
        )

    def series_names(self) -> list[str]:
        folder = self.root / "series"
        return sorted(urllib.parse.unquote(p.stem) for p in folder.glob("*.parquet")) if folder.is_dir() else []


def _with_availability(instrument: Instrument, stored: Instrument | None, timeframe: Timeframe) -> Instrument:
    """``instrument`` listing every timeframe stored for it: its own, the stored record's and ``timeframe``."""
    have = set(instrument.technical_availability) | {timeframe}
    if stored is not None:
        have |= set(stored.technical_availability)
    ordered = sorted(have, key=lambda t: t.rank)
    if ordered == instrument.technical_availability:
        return instrument
    return instrument.model_copy(update={"technical_availability": ordered})


def _write_options(schema: pa.Schema) -> dict[str, object]:
    """Parquet options: times (unique, increasing) delta-encoded, dictionaries only for the other columns."""
    times = [f.name for f in schema if pa.types.is_timestamp(f.type)]
    return {
        "row_group_size": ROW_GROUP_ROWS,
        "compression": "snappy",
        "use_dictionary": [f.name for f in schema if f.name not in times],
        "column_encoding": dict.fromkeys(times, "DELTA_BINARY_PACKED"),
    }


def _column_numpy(col: pa.ChunkedArray) -> np.ndarray:
    if col.num_chunks == 1:
        return col.chunk(0).to_numpy(zero_copy_only=False)
    return col.to_numpy()


def _row_groups_in_range(pf: pq.ParquetFile, start_ns: int | None, end_ns: int | None) -> list[int]:
    groups = list(range(pf.metadata.num_row_groups))
    if start_ns is None and end_ns is None:
        return groups
    keep = []
    for g in groups:
        stats = pf.metadata.row_group(g).column(0).statistics
        if stats is None or not stats.has_min_max:
            keep.append(g)
            continue
        lo, hi = _stat_ns(stats.min), _stat_ns(stats.max)
        if (start_ns is None or hi >= start_ns) and (end_ns is None or lo <= end_ns):
            keep.append(g)
    return keep


def _stat_ns(value: object) -> int:
    import pandas as pd

    return int(pd.Timestamp(value).as_unit("ns").value)  # type: ignore[arg-type]


def _ts_bounds(pf: pq.ParquetFile) -> tuple[int, int]:
    n = pf.metadata.num_row_groups
    if n == 0 or pf.metadata.num_rows == 0:
        return 0, 0
    first = pf.metadata.row_group(0).column(0).statistics
    last = pf.metadata.row_group(n - 1).column(0).statistics
    return _stat_ns(first.min), _stat_ns(last.max)


def _merge(old: dict[str, np.ndarray] | None, new: Bars) -> tuple[dict[str, np.ndarray], int, int, bool]:
    """Union by time, new rows winning; returns (merged columns, added, replaced, changed)."""
    new_cols = {"ts": np.asarray(new.ts), **{c: np.asarray(getattr(new, c)) for c in BAR_COLUMNS}}
    if old is None or len(old["ts"]) == 0:
        return new_cols, len(new), 0, len(new) > 0
    old_ts = old["ts"]
    if len(new) == 0:
        return old, 0, 0, False
    if new.ts[0] > old_ts[-1]:  # pure append, the common case for updates
        merged = {k: np.concatenate([old[k], new_cols[k]]) for k in new_cols}
        return merged, len(new), 0, True
    overlap = np.isin(old_ts, new.ts, assume_unique=True)
    replaced = int(overlap.sum())
    if replaced == len(new):  # every new row replaces one: changed only if a value differs
        pos = np.flatnonzero(overlap)
        same = all(np.array_equal(old[c][pos], new_cols[c], equal_nan=True) for c in BAR_COLUMNS)
        if same:
            return old, 0, 0, False
        merged = {k: v.copy() for k, v in old.items()}
        for c in BAR_COLUMNS:
            merged[c][pos] = new_cols[c]
        return merged, 0, replaced, True
    keep = ~overlap
    merged_ts = np.concatenate([old_ts[keep], new.ts])
    order = np.argsort(merged_ts, kind="stable")
    merged = {k: np.concatenate([old[k][keep], new_cols[k]])[order] for k in new_cols}
    return merged, len(new) - replaced, replaced, True
