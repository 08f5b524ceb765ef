"""Order books and ticks in the Parquet catalog, beside the bars: ``BookStore(catalog)``.

Layout under the catalog's root: ``books/<SYMBOL>.parquet`` holds book snapshots, one row per snapshot, columns
``ts`` then ``bid_px_01 ... bid_px_NN``, ``bid_sz_01 ...``, ``ask_px_01 ...``, ``ask_sz_01 ...`` (float64, NaN price
and size 0 where a side has fewer levels), the level count, symbol, source and synthetic label in the file's
metadata; ``ticks/<SYMBOL>.parquet`` holds trades, columns ``ts``, ``price``, ``size``, ``side`` (int8: +1 buyer
aggressor, -1 seller, 0 unknown), ``bid``, ``ask``. A write needs the symbol in the instrument master (the tick size
is read from there), validates (the nouns of ``domain.book`` do), and merges with what is stored: the stored rows
inside the written range ``[first ts, last ts]`` are replaced by the written ones, the rest kept, so re-recording a
period replaces it and appending extends it; a book of more levels than stored widens the file. It then writes a
temporary file under the dataset's lock and renames it over the old one, as the bars are written, so a reader sees
the old dataset or the new one. Reads by time range skip row groups by their statistics, read only the levels
asked for, and ``book_at`` reads the one row group holding the snapshot in force at a time.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.core.errors import DataError, NotFoundError, StoreError
from quantdesk.data.catalog import (
    _TS_TYPE,
    Catalog,
    _column_numpy,
    _row_groups_in_range,
    _stat_ns,
    _ts_bounds,
)
from quantdesk.domain.book import BOOK_SIDES, TICK_COLUMNS, BookSnapshots, Ticks
from quantdesk.domain.symbols import check_symbol

__all__ = ["BookDatasetInfo", "BookStore", "BookWriteReport"]

_TICK_TYPES = {"price": pa.float64(), "size": pa.float64(), "side": pa.int8(), "bid": pa.float64(),
               "ask": pa.float64()}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BookWriteReport:
    """What a write did: ``kind`` books or ticks, rows offered, stored rows replaced (those in the written range),
    the dataset's size after."""

    kind: str
    symbol: str
    rows_in: int
    rows_replaced: int
    rows_total: int


@dataclass(frozen=True, slots=True)
class BookDatasetInfo:
    kind: str  # "books" or "ticks"
    symbol: str
    rows: int
    first_ns: int
    last_ns: int
    levels: int  # book levels a side; 0 for ticks
    path: Path
    synthetic: bool


def _column(side: str, level: int) -> str:
    return f"{side}_{level + 1:02d}"


class BookStore:
    """Books and ticks of ``catalog`` (see the module docstring)."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else Catalog()

    # ---- books ------------------------------------------------------------------------------------------------------

    def write_books(self, books: BookSnapshots, *, source: str = "") -> BookWriteReport:
        symbol = check_symbol(books.symbol, where="books.symbol")
        self.catalog.get_instrument(symbol)
        path = self.catalog.books_path(symbol)
        with self.catalog._locked(path):
            old = self._read_books_file(path) if path.exists() else None
            merged, replaced = _merge_books(old, books)
            meta = {"symbol": symbol, "levels": str(merged.levels), "source": source,
                    "synthetic": "true" if merged.synthetic else "false"}  # fmt: skip
            arrays = [pa.array(merged.ts.view("datetime64[ns]"), type=_TS_TYPE)]
            fields = [pa.field("ts", _TS_TYPE, nullable=False)]
            for side in BOOK_SIDES:
                values = getattr(merged, side)
                for level in range(merged.levels):
                    arrays.append(pa.array(values[:, level], type=pa.float64(), from_pandas=False))
                    fields.append(pa.field(_column(side, level), pa.float64()))
            table = pa.Table.from_arrays(arrays, schema=pa.schema(fields).with_metadata(meta))
            self.catalog._atomic_write_table(table, path)
        return BookWriteReport("books", symbol, len(books), replaced, len(merged))

    def read_books(
        self, symbol: str, start_ns: int | None = None, end_ns: int | None = None, *, levels: int | None = None
    ) -> BookSnapshots:
        """Snapshots of ``symbol`` with ``start_ns <= ts <= end_ns``, the first ``levels`` levels a side (all when
        None); NotFoundError when none are stored."""
        path = self._existing(self.catalog.books_path(symbol), "book snapshots", symbol)
        return self._read_books_file(path, start_ns, end_ns, levels=levels).between(start_ns, end_ns)

    def book_at(self, symbol: str, at_ns: int, *, levels: int | None = None) -> BookSnapshots | None:
        """The snapshot in force at ``at_ns`` (the last taken at or before it, as known then), one row; None when
        the first stored snapshot is later."""
        path = self._existing(self.catalog.books_path(symbol), "book snapshots", symbol)
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        group = None
        for g in range(pf.metadata.num_row_groups):
            stats = pf.metadata.row_group(g).column(0).statistics
            if stats is not None and stats.has_min_max and _stat_ns(stats.min) > at_ns:
                break
            group = g
        if group is None:
            return None
        books = self._table_books(pf, [group], levels, path)
        i = books.index_at(at_ns)
        return None if i is None else books[i : i + 1]

    def _read_books_file(
        self, path: Path, start_ns: int | None = None, end_ns: int | None = None, *, levels: int | None = None
    ) -> BookSnapshots:
        try:
            pf = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        return self._table_books(pf, _row_groups_in_range(pf, start_ns, end_ns), levels, path)

    def _table_books(self, pf: pq.ParquetFile, groups: list[int], levels: int | None, path: Path) -> BookSnapshots:
        meta = {k.decode(): v.decode() for k, v in (pf.schema_arrow.metadata or {}).items()}
        stored = int(meta.get("levels", "1"))
        if levels is not None and levels < 1:
            raise DataError(f"book levels: expected a number >= 1, found {levels}")
        depth = stored if levels is None else min(levels, stored)
        names = [_column(side, level) for side in BOOK_SIDES for level in range(depth)]
        try:
            table = pf.read_row_groups(groups, columns=["ts", *names], use_threads=True)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        n = table.num_rows
        sides = {}
        for side in BOOK_SIDES:
            cols = [_column_numpy(table.column(_column(side, level))) for level in range(depth)]
            sides[side] = np.column_stack(cols) if n else np.empty((0, depth))
        return BookSnapshots(symbol=meta.get("symbol", urllib.parse.unquote(path.stem)),
                             ts=_column_numpy(table.column("ts")).view(np.int64),
                             synthetic=meta.get("synthetic") == "true", **sides)  # fmt: skip

    # ---- ticks ------------------------------------------------------------------------------------------------------

    def write_ticks(self, ticks: Ticks, *, source: str = "") -> BookWriteReport:
        symbol = check_symbol(ticks.symbol, where="ticks.symbol")
        self.catalog.get_instrument(symbol)
        path = self.catalog.ticks_path(symbol)
        with self.catalog._locked(path):
            old = self._read_ticks_file(path) if path.exists() else None
            merged, replaced = _merge_ticks(old, ticks)
            meta = {"symbol": symbol, "source": source, "synthetic": "true" if merged.synthetic else "false"}
            schema = pa.schema(
                [pa.field("ts", _TS_TYPE, nullable=False)] + [pa.field(c, t) for c, t in _TICK_TYPES.items()]
            ).with_metadata(meta)
            arrays = [pa.array(merged.ts.view("datetime64[ns]"), type=_TS_TYPE)]
            arrays += [pa.array(getattr(merged, c), type=t, from_pandas=False) for c, t in _TICK_TYPES.items()]
            self.catalog._atomic_write_table(pa.Table.from_arrays(arrays, schema=schema), path)
        return BookWriteReport("ticks", symbol, len(ticks), replaced, len(merged))

    def read_ticks(self, symbol: str, start_ns: int | None = None, end_ns: int | None = None) -> Ticks:
        """Trades of ``symbol`` with ``start_ns <= ts <= end_ns``; NotFoundError when none are stored."""
        path = self._existing(self.catalog.ticks_path(symbol), "ticks", symbol)
        return self._read_ticks_file(path, start_ns, end_ns).between(start_ns, end_ns)

    def _read_ticks_file(self, path: Path, start_ns: int | None = None, end_ns: int | None = None) -> Ticks:
        try:
            pf = pq.ParquetFile(path)
            table = pf.read_row_groups(_row_groups_in_range(pf, start_ns, end_ns), use_threads=True)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        cols = {c: _column_numpy(table.column(c)) for c in TICK_COLUMNS}
        return Ticks(symbol=meta.get("symbol", urllib.parse.unquote(path.stem)),
                     ts=_column_numpy(table.column("ts")).view(np.int64),
                     synthetic=meta.get("synthetic") == "true", **cols)  # fmt: skip

    # ---- listing ----------------------------------------------------------------------------------------------------

    def has_books(self, symbol: str) -> bool:
        return self.catalog.books_path(symbol).exists()

    def datasets(self) -> list[BookDatasetInfo]:
        """Every stored book and tick dataset, sorted by kind then symbol."""
        out: list[BookDatasetInfo] = []
        for kind in ("books", "ticks"):
            folder = self.catalog.root / kind
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.parquet")):
                try:
                    pf = pq.ParquetFile(path)
                    first, last = _ts_bounds(pf)
                except (OSError, pa.ArrowException) as exc:
                    raise StoreError(f"cannot read {path}: {exc}") from exc
                meta = {k.decode(): v.decode() for k, v in (pf.schema_arrow.metadata or {}).items()}
                out.append(BookDatasetInfo(kind, meta.get("symbol", urllib.parse.unquote(path.stem)),
                                           pf.metadata.num_rows, first, last, int(meta.get("levels", "0")), path,
                                           meta.get("synthetic") == "true"))  # fmt: skip
        return out

    def _existing(self, path: Path, what: str, symbol: str) -> Path:
        if not path.exists():
            have = sorted({d.symbol for d in self.datasets() if d.kind == path.parent.name})
            hint = f"; stored for: {', '.join(have[:20])}" if have else ""
            raise NotFoundError(f"no {what} stored for {symbol}{hint} (record them from moomoo, or write synthetic "
                                f"ones with `quantdesk data synthetic-book {symbol}`)")  # fmt: skip
        return path


def _replace_range(old_ts: np.ndarray, new_ts: np.ndarray) -> np.ndarray:
    """Mask of the stored rows that a write of ``new_ts`` keeps: those outside its [first, last]."""
    if len(new_ts) == 0:
        return np.ones(len(old_ts), dtype=bool)
    return (old_ts < new_ts[0]) | (old_ts > new_ts[-1])


def _pad(values: np.ndarray, levels: int, fill: float) -> np.ndarray:
    if values.shape[1] == levels:
        return values
    out = np.full((values.shape[0], levels), fill)
    out[:, : values.shape[1]] = values
    return out


def _merge_books(old: BookSnapshots | None, new: BookSnapshots) -> tuple[BookSnapshots, int]:
    if old is None or len(old) == 0:
        return new, 0
    keep = _replace_range(old.ts, new.ts)
    levels = max(old.levels, new.levels)
    ts = np.concatenate([old.ts[keep], new.ts])
    order = np.argsort(ts, kind="stable")
    sides = {}
    for side in BOOK_SIDES:
        fill = np.nan if side.endswith("_px") else 0.0
        stacked = np.concatenate([_pad(getattr(old, side)[keep], levels, fill), _pad(getattr(new, side), levels, fill)])
        sides[side] = stacked[order]
    merged = BookSnapshots(symbol=new.symbol, ts=ts[order], synthetic=new.synthetic or old.synthetic, **sides)
    return merged, int((~keep).sum())


def _merge_ticks(old: Ticks | None, new: Ticks) -> tuple[Ticks, int]:
    if old is None or len(old) == 0:
        return new, 0
    keep = _replace_range(old.ts, new.ts)
    ts = np.concatenate([old.ts[keep], new.ts])
    order = np.argsort(ts, kind="stable")
    cols = {c: np.concatenate([getattr(old, c)[keep], getattr(new, c)])[order] for c in TICK_COLUMNS}
    return Ticks(symbol=new.symbol, ts=ts[order], synthetic=new.synthetic or old.synthetic, **cols), int((~keep).sum())
