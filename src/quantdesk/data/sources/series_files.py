"""Import of a user's macro series file (CSV or Parquet): short rates, yields, an index level, a factor.

One row per observation. Columns are found by name (case-insensitive): the period the value describes
(``ts``/``time``/``date``/``timestamp``/``period``), the value (``value``/``rate``/``close``/``price``, or
the series' own name) and, optionally, the instant it became known (``known_ts``/``known_time``/``known``/
``published``/``release_date``); ``column_map`` names others (``{"ts": "DATE", "value": "DGS3MO"}``). A file
without a known-time column needs ``known_lag`` (the publication delay after each period start, e.g. ``1d``
for a daily rate known at the end of its date): the importer never guesses when a value was known.

Times: ``ts`` written as a date is that date at midnight UTC (the convention of every stored series); a
time with an offset is exact; a naive clock time is read in ``tz`` and refused without it. A known time
written as a date only (or a Parquet datetime column whose times are all midnight) is the *end* of that date
(in ``tz``, UTC by default), never its start, so a value released some time on a day is not used before
the day is over. The declared ``frequency``
(``domain.series.SERIES_FREQUENCIES``) must agree with the spacing of the periods (the median gap between
consecutive ``ts``), since it decides how long a value may be used (``MAX_AGE_DAYS``).

Everything is checked before anything is written; each problem names the file, the 1-based data row, the
file's column, what was expected and what was found. Replacing a stored series with different content
needs ``replace=True``; the write is the catalog's atomic write.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, DataError, NotFoundError
from quantdesk.core.timestamps import NS_PER_DAY, ns_to_iso
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.files import mapped_column, read_table
from quantdesk.domain.series import SERIES_FREQUENCIES, MacroSeries

SERIES_FIELDS = ("ts", "value", "known_ts")
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "time", "date", "timestamp", "datetime", "period"),
    "value": ("value", "rate", "close", "price"),
    "known_ts": ("known_ts", "known_time", "known", "known_at", "published", "release_date"),
}
SERIES_NAME_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,63}$")
# median gap between consecutive periods (days) each frequency accepts
_SPACING_DAYS: dict[str, tuple[float, float]] = {
    "daily": (0.5, 4.0),
    "weekly": (5.0, 9.0),
    "monthly": (27.0, 33.0),
    "quarterly": (85.0, 95.0),
    "semiannual": (175.0, 190.0),
    "annual": (360.0, 370.0),
}
_OFFSET_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_FIRST_YEAR, _LAST_YEAR = 1800, 2200  # inside int64 nanoseconds (1677-2262) with room for a known lag
_MAX_ABS_VALUE = 1e12  # no economic series a user trades on is larger; a bigger number is a unit or parse error


@dataclass(frozen=True, slots=True)
class SeriesImportReport:
    path: Path
    name: str
    rows: int
    first_ns: int
    last_ns: int
    changed: bool
    replaced: bool


def check_series_name(name: str) -> str:
    """``name`` when it is a valid series name (upper-case letters, digits, ``_ . -``; up to 64)."""
    if not isinstance(name, str) or not SERIES_NAME_RE.match(name):
        raise ConfigError(
            "--name: expected a series name of upper-case letters, digits, '_', '.' or '-' (up to 64, not "
            f"starting with '.', '_' or '-'), e.g. RATE_USD, found {name!r}"
        )
    return name


_LAG_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(w|d|h|min|s)?$", re.IGNORECASE)
_LAG_UNIT_NS = {"w": 7 * NS_PER_DAY, "d": NS_PER_DAY, "h": NS_PER_DAY // 24, "min": 60 * 10**9, "s": 10**9}


def parse_known_lag(text: str | None) -> int | None:
    """``"1d"``, ``"16h"``, ``"30min"``, ``"2w"``, ``"90s"`` or ``"0"`` to nanoseconds (>= 0); None stays None."""
    if text is None:
        return None
    match = _LAG_RE.match(text.strip())
    if match is None or (match.group(2) is None and float(match.group(1)) != 0):
        raise ConfigError(f"--known-lag: expected a duration of 0 or more such as 1d, 16h, 30min or 2w, found {text!r}")
    unit = (match.group(2) or "s").lower()
    lag_ns = round(float(match.group(1)) * _LAG_UNIT_NS[unit])
    if lag_ns > 400 * NS_PER_DAY:
        raise ConfigError(f"--known-lag: expected at most 400 days (a year's release and a month), found {text!r}")
    return lag_ns


def _resolve(frame: pd.DataFrame, mapping: Mapping[str, str], name: str, source: str) -> dict[str, str]:
    present: dict[str, list[str]] = {}
    for column in frame.columns:
        present.setdefault(str(column).strip().lower(), []).append(str(column))
    for key, columns in present.items():
        if len(columns) > 1:
            raise DataError(
                f"the file has {len(columns)} columns named {key!r}",
                source=source,
                expected="one column per name",
                found=f"columns {', '.join(map(str, frame.columns))}",
            )
    chosen: dict[str, str] = {}
    for key in SERIES_FIELDS:
        if key in mapping:
            chosen[key] = mapped_column(frame, mapping, key, source)
            continue
        candidates = _CANDIDATES[key] + ((name.lower(),) if key == "value" else ())
        hit = next((present[c][0] for c in candidates if c in present), None)
        if hit is not None:
            chosen[key] = hit
        elif key != "known_ts":
            raise DataError(
                f"no column for {key}",
                source=source,
                expected=f"a column named {' or '.join(candidates[:4])} or --map {key}=COLUMN",
                found=f"columns {', '.join(map(str, frame.columns))}",
            )
    return chosen


def _row_error(source: str, i: int, column: str, message: str, expected: str, found: str) -> DataError:
    return DataError(message, source=source, row=i + 1, column=column, expected=expected, found=found)


def _parse_values(raw: pd.Series, source: str, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(raw) or not (
        pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_string_dtype(raw) or raw.dtype == object
    ):
        raise DataError(
            f"values of type {raw.dtype}", source=source, column=column, expected="numbers", found=str(raw.dtype)
        )
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        text = raw.astype(str)
    else:
        text = raw.astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > _MAX_ABS_VALUE))
    if len(bad):
        i = int(bad[0])
        found = "an empty cell" if text.iloc[i] == "" else repr(text.iloc[i])
        raise _row_error(source, i, column, "not a usable value", f"a finite number of magnitude <= {_MAX_ABS_VALUE:g}",
                         found)  # fmt: skip
    return values


def _parse_times(raw: pd.Series, tz: str | None, source: str, column: str, *, known: bool) -> np.ndarray:
    """int64 UTC ns; dates at midnight UTC (``ts``) or at the end of the date in ``tz`` (known times)."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.DatetimeIndex(raw)
        text = pd.Series(parsed.astype(str), index=raw.index)
        date_only = bool(len(parsed)) and bool((parsed.tz is None) and (parsed == parsed.normalize()).all())
    else:
        text = raw.astype(str).str.strip()
        empty = np.flatnonzero((text == "").to_numpy())
        if len(empty):
            raise _row_error(source, int(empty[0]), column, "missing time", "a date or time", "an empty cell")
        date_only = bool(text.str.match(_DATE_ONLY_RE).all())
        has_offset = text.str.contains(_OFFSET_RE)
        if has_offset.any() and not has_offset.all():
            i = int(np.flatnonzero((has_offset != has_offset.iloc[0]).to_numpy())[0])
            raise _row_error(source, i, column, "times mix offsets and none", f"times written like row 1 "
                             f"({text.iloc[0]!r})", repr(text.iloc[i]))  # fmt: skip
        try:
            parsed = pd.DatetimeIndex(pd.to_datetime(text, errors="coerce", utc=bool(has_offset.all()), format="mixed"))
        except (ValueError, TypeError, OverflowError):
            parsed = pd.DatetimeIndex([pd.NaT] * len(text))
        bad = np.flatnonzero(parsed.isna())
        if len(bad):
            i = int(bad[0])
            raise _row_error(source, i, column, "unparseable time", f"a date or time written like row 1 "
                             f"({text.iloc[0]!r})", repr(text.iloc[i]))  # fmt: skip
    years = np.asarray(parsed.year)
    out_of_range = np.flatnonzero((years < _FIRST_YEAR) | (years > _LAST_YEAR))
    if len(out_of_range):
        i = int(out_of_range[0])
        raise _row_error(source, i, column, "time out of range", f"a time from {_FIRST_YEAR} to {_LAST_YEAR}",
                         repr(text.iloc[i]))  # fmt: skip
    if parsed.tz is None:
        if date_only:
            # a known date: released some time that day, so usable from the day's end
            parsed = (parsed + pd.Timedelta(days=1)).tz_localize(tz or "UTC") if known else parsed.tz_localize("UTC")
        elif not tz:
            raise DataError(
                "times have no time zone",
                source=source,
                row=1,
                column=column,
                expected="an offset in the times (e.g. 2024-01-02T14:30:00Z), dates only, or --tz",
                found=repr(text.iloc[0]),
            )
        else:
            parsed = parsed.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            bad = np.flatnonzero(parsed.isna())
            if len(bad):
                i = int(bad[0])
                raise _row_error(source, i, column, f"local time is ambiguous or does not exist in {tz}",
                                 "times with an offset around daylight-saving changes", repr(text.iloc[i]))  # fmt: skip
    return np.asarray(parsed.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def _check_spacing(ts: np.ndarray, frequency: str, source: str, column: str) -> None:
    if len(ts) < 3:
        return
    gap_days = float(np.median(np.diff(ts))) / NS_PER_DAY
    low, high = _SPACING_DAYS[frequency]
    if not low <= gap_days <= high:
        fits = [f for f, (lo, hi) in _SPACING_DAYS.items() if lo <= gap_days <= hi]
        raise DataError(
            f"the spacing of the periods contradicts --frequency {frequency}",
            source=source,
            column=column,
            expected=f"a median gap of {low:g} to {high:g} days for {frequency} observations",
            found=f"a median gap of {gap_days:.4g} days" + (f" ({fits[0]})" if fits else ""),
        )


def read_series_file(
    path: Path | str,
    *,
    name: str,
    frequency: str,
    known_lag: str | None = None,
    tz: str | None = None,
    column_map: Mapping[str, str] | None = None,
    description: str = "",
    unit: str = "",
    now_ns: int | None = None,
    kind: str = "macro",
    symbol: str = "",
) -> MacroSeries:
    """Parse and check a series file into a ``MacroSeries`` without writing anything."""
    path = Path(path)
    source = str(path)
    check_series_name(name)
    if frequency not in SERIES_FREQUENCIES:
        raise ConfigError(f"--frequency: expected one of {', '.join(SERIES_FREQUENCIES)}, found {frequency!r}")
    lag_ns = parse_known_lag(known_lag)
    if tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"--tz: expected an IANA time zone such as America/New_York, found {tz!r}") from exc
    for key in column_map or {}:
        if key not in SERIES_FIELDS:
            raise ConfigError(f"--map: unknown field {key!r}; fields are {', '.join(SERIES_FIELDS)}")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; expected a .csv or .parquet file")
    frame = read_table(path)
    if frame.empty:
        raise DataError("the file has no data rows", source=source)
    columns = _resolve(frame, column_map or {}, name, source)
    ts = _parse_times(frame[columns["ts"]], tz, source, columns["ts"], known=False)
    if "known_ts" in columns:
        if lag_ns is not None:
            raise ConfigError(
                f"--known-lag: the file has a known-time column {columns['known_ts']!r}; give one or the other"
            )
        known = _parse_times(frame[columns["known_ts"]], tz, source, columns["known_ts"], known=True)
    elif lag_ns is not None:
        known = ts + lag_ns
    else:
        raise DataError(
            "no known time: when each value became known is needed to use it without look-ahead",
            source=source,
            expected=f"a column named {' or '.join(_CANDIDATES['known_ts'][:3])}, or --known-lag (e.g. 1d)",
            found=f"columns {', '.join(map(str, frame.columns))}",
        )
    values = _parse_values(frame[columns["value"]], source, columns["value"])
    step = np.diff(ts)
    if np.any(step <= 0):
        i = int(np.flatnonzero(step <= 0)[0]) + 1
        what = "duplicate period" if step[i - 1] == 0 else "period before the row above"
        raise _row_error(source, i, columns["ts"], what, "periods in strictly increasing order",
                         f"{ns_to_iso(int(ts[i]))} after {ns_to_iso(int(ts[i - 1]))}")  # fmt: skip
    early = np.flatnonzero(known < ts)
    if len(early):
        i = int(early[0])
        raise _row_error(source, i, columns.get("known_ts", columns["ts"]), "known before its period starts",
                         f"a known time at or after {ns_to_iso(int(ts[i]))}", ns_to_iso(int(known[i])))  # fmt: skip
    now = time.time_ns() if now_ns is None else now_ns
    future = np.flatnonzero(known > now)
    if len(future):
        i = int(future[0])
        raise _row_error(source, i, columns.get("known_ts", columns["ts"]), "known in the future",
                         f"a known time before now ({ns_to_iso(now)})", ns_to_iso(int(known[i])))  # fmt: skip
    _check_spacing(ts, frequency, source, columns["ts"])
    return MacroSeries(
        name=name,
        ts=ts,
        known_ts=known,
        value=values,
        description=description,
        unit=unit,
        frequency=frequency,
        source=f"file import: {path.name}",
        kind=kind,
        symbol=symbol,
    )


def import_series_file(
    catalog: Catalog,
    path: Path | str,
    *,
    name: str,
    frequency: str,
    known_lag: str | None = None,
    tz: str | None = None,
    column_map: Mapping[str, str] | None = None,
    description: str = "",
    unit: str = "",
    replace: bool = False,
    kind: str = "macro",
    symbol: str = "",
) -> SeriesImportReport:
    """Read, check and store a series file; nothing is written when any row is bad or the store holds a
    different series of that name and ``replace`` is False."""
    series = read_series_file(path, name=name, frequency=frequency, known_lag=known_lag, tz=tz,
                              column_map=column_map, description=description, unit=unit, kind=kind,
                              symbol=symbol)  # fmt: skip
    try:
        old: MacroSeries | None = catalog.read_series(name)
    except NotFoundError:
        old = None
    same = (
        old is not None
        and np.array_equal(old.ts, series.ts)
        and np.array_equal(old.known_ts, series.known_ts)
        and np.array_equal(old.value, series.value)
        and old.frequency == series.frequency
        and old.kind == series.kind
        and old.symbol == series.symbol
    )
    if old is not None and not same and not replace:
        raise ConfigError(
            f"--name {name}: the store already holds a different series {name} ({len(old)} observations, "
            f"{ns_to_iso(int(old.ts[0])) if len(old) else '-'} to {ns_to_iso(int(old.ts[-1])) if len(old) else '-'}"
            f"{', synthetic' if old.synthetic else ''}); pass --replace to replace it with the file"
        )
    changed = False if same else catalog.write_series(series)
    return SeriesImportReport(
        Path(path), name, len(series), int(series.ts[0]), int(series.ts[-1]), changed, old is not None and changed
    )
