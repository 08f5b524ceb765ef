"""Import of user bar files (CSV or Parquet) into the catalog.

Columns are found by name (case-insensitive: ``ts``/``timestamp``/``time``/``date``/``datetime``,
``open``/``o``, ``high``/``h``, ``low``/``l``, ``close``/``c``/``last``, ``volume``/``vol``/``v``)
or given by a mapping (``{"ts": "Date", "close": "Adj Close"}``). Times written with an offset
(``2024-01-02T14:30:00Z``, ``...-05:00``) are exact; times without one are read in ``tz`` and
refused when no ``tz`` is given, except for daily and longer bars, whose dates are session dates
and need no zone. A file without a volume column imports with volume 0 and says so.

Everything is checked before anything is written, and every problem names the file, the 1-based
data row, the file's own column name, what was expected and what was found: the symbol
(``domain.symbols``), the bar rules and bounds of ``data.validation``, times inside 1800-2200 (named
by row before they are converted to nanoseconds), the bars' spacing against the timeframe given
(``validate_bar_spacing``), a column name written twice, and in Parquet a text column where numbers
belong. The write itself is the catalog's atomic, idempotent write.
"""

from __future__ import annotations

import decimal
import numbers
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.data.catalog import Catalog, WriteReport
from quantdesk.data.validation import (
    MAX_BAR_TIME,
    MIN_BAR_TIME,
    describe_span,
    validate_bar_arrays,
    validate_bar_spacing,
    validate_trading_hours,
)
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.calendar import UTC_CALENDAR
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe

CANONICAL = ("ts", *BAR_COLUMNS)
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "date", "datetime", "date_time"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last", "price"),
    "volume": ("volume", "vol", "v"),
}
_OFFSET_RE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ImportReport:
    path: Path
    write: WriteReport
    notes: list[str] = field(default_factory=list)


def parse_column_map(items: list[str] | None) -> dict[str, str]:
    """``["ts=Date", "close=Adj Close"]`` (or comma-joined) to ``{"ts": "Date", "close": "Adj Close"}``."""
    out: dict[str, str] = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not sep or not value.strip():
                raise ConfigError(f"--map: expected FIELD=COLUMN (e.g. ts=Date), found {part.strip()!r}")
            if key not in CANONICAL:
                raise ConfigError(f"--map: unknown field {key!r}; fields are {', '.join(CANONICAL)}")
            out[key] = value.strip()
    return out


def read_table(path: Path) -> pd.DataFrame:
    """The file's rows as text-or-number columns, in file order. Unknown formats are a ConfigError.

    A CSV's columns keep their names as written (pandas would rename a second ``close`` to
    ``close.1``), so a repeated name is seen and refused where columns are chosen."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; expected a CSV or Parquet file of bars")
    try:
        if suffix in (".csv", ".txt"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, header=None)
            if frame.empty:
                raise pd.errors.EmptyDataError("No columns to parse from file")
            header = [str(c).strip() for c in frame.iloc[0]]
            body = frame.iloc[1:].reset_index(drop=True)
            body.columns = header
            return body
        if suffix in (".parquet", ".pq"):
            table = pq.read_table(path)
            if len(set(table.column_names)) != len(table.column_names):  # to_pandas would keep one silently
                return pd.DataFrame({i: table.column(i).to_pandas() for i in range(table.num_columns)}).set_axis(
                    table.column_names, axis=1
                )
            return table.to_pandas()
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, pa.ArrowException) as exc:
        raise DataError(f"cannot read the file: {exc}", source=str(path)) from exc
    except OSError as exc:
        raise DataError(f"cannot read the file: {exc.strerror or exc}", source=str(path)) from exc
    raise ConfigError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")


def mapped_column(frame: pd.DataFrame, mapping: Mapping[str, str], key: str, source: str) -> str:
    """The file's column ``--map`` names for ``key``; a DataError naming the file's columns when it has none."""
    if mapping[key] not in frame.columns:
        raise DataError(
            f"mapped column {mapping[key]!r} for {key} is not in the file",
            source=source,
            expected=f"one of {', '.join(map(str, frame.columns))}",
        )
    return mapping[key]


def _resolve_columns(frame: pd.DataFrame, mapping: Mapping[str, str], source: str) -> tuple[dict[str, str], list[str]]:
    notes: list[str] = []
    names = [str(c) for c in frame.columns]
    wanted = {c for key in CANONICAL for c in _CANDIDATES[key]} | {m.strip().lower() for m in mapping.values()}
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = name.strip().lower()
        if key in seen and key in wanted:
            raise DataError(
                f"two columns named {name!r}: which one holds the data is ambiguous",
                source=source,
                column=name,
                expected="each column name once",
                found=f"{names[seen[key] - 1]!r} as column {seen[key]} and {name!r} as column {position}",
            )
        seen.setdefault(key, position)
    present = {str(c).strip().lower(): str(c) for c in frame.columns}
    chosen: dict[str, str] = {}
    for key in CANONICAL:
        if key in mapping:
            chosen[key] = mapped_column(frame, mapping, key, source)
            continue
        hit = next((present[c] for c in _CANDIDATES[key] if c in present), None)
        if hit is None:
            if key == "volume":
                notes.append("no volume column: volume imported as 0")
                continue
            raise DataError(
                f"no column for {key}",
                source=source,
                expected=f"a column named {' or '.join(_CANDIDATES[key][:3])} or --map {key}=COLUMN",
                found=f"columns {', '.join(map(str, frame.columns))}",
            )
        chosen[key] = hit
    return chosen, notes


def _row_error(source: str, index: int, column: str, message: str, expected: str, found: str) -> DataError:
    """The error for 0-based data row ``index`` of ``column`` (reported 1-based, as users count rows)."""
    return DataError(message, source=source, row=index + 1, column=column, expected=expected, found=found)


def _parse_numbers(raw: pd.Series, source: str, column: str, *, typed: bool) -> np.ndarray:
    """Numbers of one column; in a typed file (Parquet) a column of text where numbers belong is refused."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=np.float64, na_value=np.nan)
    if typed:
        present = raw.dropna()
        if pd.api.types.is_object_dtype(raw) and all(
            isinstance(v, numbers.Real | decimal.Decimal) and not isinstance(v, bool) for v in present
        ):
            return np.array([np.nan if v is None else float(v) for v in raw], dtype=np.float64)
        first = present.iloc[0] if len(present) else None
        raise DataError(
            "the column does not hold numbers",
            source=source,
            column=column,
            expected="a numeric column (double, integer or decimal)",
            found=f"a {raw.dtype} column, values such as {first!r}",
        )
    text = raw.astype(str).str.strip()
    values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(np.isnan(values) & (text != "").to_numpy() & ~text.str.lower().isin(["nan", "na"]).to_numpy())
    if len(bad):
        i = int(bad[0])
        raise _row_error(source, i, column, "not a number", "a number", repr(text.iloc[i]))
    return values


def _parse_times(
    raw: pd.Series, timeframe: Timeframe, tz: str | None, exchange_tz: str, source: str, column: str
) -> np.ndarray:
    """int64 UTC ns bar times (session-date labels for daily and longer, dated in ``tz`` or the exchange's zone)."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.DatetimeIndex(raw)
        text = raw.astype(str)
    else:
        text = raw.astype(str).str.strip()
        empty = np.flatnonzero((text == "").to_numpy())
        if len(empty):
            i = int(empty[0])
            raise _row_error(source, i, column, "missing time", "a date or time", "an empty cell")
        has_offset = bool(_OFFSET_RE.search(text.iloc[0])) if len(text) else False
        with warnings.catch_warnings():  # pandas warns of its per-row fallback; a bad row is reported below
            warnings.simplefilter("ignore", UserWarning)
            try:
                parsed = pd.DatetimeIndex(pd.to_datetime(text, errors="coerce", utc=has_offset))
            except (ValueError, TypeError):
                parsed = pd.DatetimeIndex(pd.to_datetime(text, errors="coerce", utc=has_offset, format="mixed"))
        bad = np.flatnonzero(parsed.isna())
        if len(bad):
            i = int(bad[0])
            raise _row_error(
                source,
                i,
                column,
                "unparseable time",
                f"a date or time written like row 1 ({text.iloc[0]!r})",
                repr(text.iloc[i]),
            )
    _check_time_range(parsed, text, source, column)
    if not timeframe.is_intraday:
        local = parsed.tz_convert(tz or exchange_tz) if parsed.tz is not None else parsed
        naive = pd.DatetimeIndex(local.tz_localize(None) if local.tz is not None else local)
        dates = naive.normalize()
        _check_one_row_per_period(naive, dates, timeframe, source, column)
        return np.asarray(dates.as_unit("ns").asi8, dtype=np.int64)
    if parsed.tz is None:
        if not tz:
            raise DataError(
                "times have no time zone",
                source=source,
                row=1,
                column=column,
                expected=(
                    "an offset in the times (e.g. 2024-01-02T14:30:00Z) or the --tz option (e.g. --tz America/New_York)"
                ),
                found=repr(text.iloc[0]),
            )
        localized = parsed.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        bad = np.flatnonzero(localized.isna())
        if len(bad):
            i = int(bad[0])
            raise _row_error(
                source,
                i,
                column,
                f"local time is ambiguous or does not exist in {tz} (a daylight-saving change)",
                "times with an offset around daylight-saving changes",
                repr(text.iloc[i]),
            )
        parsed = localized
    return np.asarray(parsed.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def _check_time_range(parsed: pd.DatetimeIndex, text: pd.Series, source: str, column: str) -> None:
    """Times outside quantdesk's range (1800 to 2200) are named by row before they are converted to
    nanoseconds, where a year such as 9999 or 1200 would overflow."""
    tz = "UTC" if parsed.tz is not None else None
    low, high = pd.Timestamp(MIN_BAR_TIME, tz=tz), pd.Timestamp(MAX_BAR_TIME, tz=tz)
    outside = np.flatnonzero(np.asarray((parsed < low) | (parsed >= high)))
    if len(outside):
        i = int(outside[0])
        more = len(outside) - 1
        raise _row_error(
            source,
            i,
            column,
            "time outside the supported range" + (f" ({more} more after this one)" if more else ""),
            f"a time from {MIN_BAR_TIME} up to {MAX_BAR_TIME}",
            repr(str(text.iloc[i])),
        )


def _check_one_row_per_period(
    naive: pd.DatetimeIndex, dates: pd.DatetimeIndex, timeframe: Timeframe, source: str, column: str
) -> None:
    """Two rows on one date are intraday bars, not ``timeframe`` bars (their dates would collide)."""
    day_ns = np.asarray(dates.as_unit("ns").asi8, dtype=np.int64)
    raw_ns = np.asarray(naive.as_unit("ns").asi8, dtype=np.int64)
    # the same time twice is a duplicate row, which the bar checks name as such
    repeat = np.flatnonzero((day_ns[1:] == day_ns[:-1]) & (raw_ns[1:] != raw_ns[:-1]))
    if not len(repeat):
        return
    i = int(repeat[0]) + 1
    steps = np.diff(raw_ns)
    steps = steps[steps > 0]
    median = f"a median spacing of {describe_span(float(np.median(steps)))}, " if len(steps) else ""
    raise _row_error(
        source,
        i,
        column,
        f"a second row on the date {dates[i]:%Y-%m-%d}",
        f"one row per session date for {timeframe.value} bars (intraday bars need an intraday --timeframe)",
        f"{median}rows {i} and {i + 1} on one date",
    )


def read_bars_file(
    path: Path | str,
    *,
    symbol: str,
    timeframe: Timeframe | str,
    tz: str | None = None,
    column_map: Mapping[str, str] | None = None,
    instrument: Instrument | None = None,
) -> tuple[Bars, list[str]]:
    """Parse and validate a bar file into ``Bars`` without writing anything."""
    path = Path(path)
    check_symbol(symbol)
    if instrument is not None and instrument.symbol != symbol:
        raise ConfigError(f"symbol {symbol!r} given with the instrument record of {instrument.symbol!r}")
    tf = Timeframe.parse(timeframe)
    if tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"--tz: expected an IANA time zone such as America/New_York, found {tz!r}") from exc
    source = str(path)
    frame = read_table(path)
    if frame.empty:
        raise DataError("the file has no data rows", source=source)
    columns, notes = _resolve_columns(frame, column_map or {}, source)
    exchange_tz = instrument.timezone if instrument else "UTC"
    ts = _parse_times(frame[columns["ts"]], tf, tz, exchange_tz, source, columns["ts"])
    typed = path.suffix.lower() in (".parquet", ".pq")
    values = {
        key: (
            _parse_numbers(frame[columns[key]], source, columns[key], typed=typed)
            if key in columns
            else np.zeros(len(frame))
        )
        for key in BAR_COLUMNS
    }
    validate_bar_arrays(ts, values, source=source, column_names=columns)
    if instrument is not None and tf.is_intraday:
        validate_trading_hours(ts, instrument.calendar, instrument.symbol, source=source, column=columns["ts"])
    calendar = instrument.calendar if instrument else None
    validate_bar_spacing(ts, tf, calendar or UTC_CALENDAR, source=source, column=columns["ts"])
    bars = Bars.from_arrays(symbol, tf, {"ts": ts, **values}, calendar)
    if tf in (Timeframe.W1, Timeframe.MN1):
        labels = bars.calendar.bin_labels(ts, Timeframe.D1, tf)
        if not np.array_equal(labels, ts):
            notes.append(f"{tf.value} bars relabelled to their period start (Monday / first of month)")
            bars = Bars.from_arrays(symbol, tf, {"ts": labels, **values}, calendar)
            validate_bar_arrays(bars.ts, values, source=source, column_names=columns)
    return bars, notes


def import_bars_file(
    catalog: Catalog,
    path: Path | str,
    *,
    symbol: str,
    timeframe: Timeframe | str,
    instrument: Instrument,
    tz: str | None = None,
    column_map: Mapping[str, str] | None = None,
) -> ImportReport:
    """Read, validate and store a bar file; nothing is written when any row is bad."""
    bars, notes = read_bars_file(
        path, symbol=symbol, timeframe=timeframe, tz=tz, column_map=column_map, instrument=instrument
    )
    report = catalog.write_bars(bars, instrument=instrument, source=str(path))
    return ImportReport(Path(path), report, notes)
