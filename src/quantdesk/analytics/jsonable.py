"""Results as strict JSON: NaN and infinities as null, numpy values as Python ones, times as ISO 8601 UTC.

One place for the conversions that the report's JSON (``report_html.report_json``) and a backtest's
JSON (``BacktestResult.to_json``) share. Long data is converted a column at a time: a series of a
million bars or a table of tens of thousands of trades is turned into lists by numpy (times through
``core.timestamps.ns_array_to_iso``), never value by value through ``to_jsonable``, which is for the
small nested parts. ``dumps`` writes the document with one top-level key per line (and one element
per line of a top-level list), each value compact: readable in an editor and a diff, and written by
the json module's C encoder (an ``indent`` would send every value through its pure-Python one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.timestamps import ns_array_to_iso, ns_to_iso

__all__ = [
    "TimeAxis",
    "column_values",
    "dumps",
    "float_values",
    "frame_records",
    "iso",
    "iso_times",
    "series_json",
    "to_jsonable",
]


def iso(value: pd.Timestamp | datetime | np.datetime64) -> str | None:
    """One time as ISO 8601 UTC ('Z'); naive values are taken as UTC; NaT is None."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ns_to_iso(int(ts.as_unit("ns").value))


def to_jsonable(value: Any) -> Any:
    """``value`` with NaN/inf as None, numpy scalars as Python ones, times as ISO 8601 UTC strings."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.Timedelta):
        return None if value is pd.NaT else value.total_seconds()
    if isinstance(value, pd.Timestamp | datetime | np.datetime64):
        return iso(value)
    if value is pd.NaT:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    if value is pd.NA:
        return None
    return str(value)


def iso_times(index: pd.Index | pd.Series) -> list[str | None]:
    """Every time of a datetime index or column as ISO 8601 UTC (None for NaT), in one numpy pass."""
    times = pd.DatetimeIndex(index)
    if times.tz is None:
        times = times.tz_localize("UTC")
    ns = times.tz_convert("UTC").as_unit("ns").asi8
    return ns_array_to_iso(ns, valid=~np.asarray(times.isna()))


def float_values(values: np.ndarray | pd.Series) -> list[float | None]:
    """Floats as a list, None where a value is NaN or infinite."""
    a = np.asarray(values, dtype=np.float64)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    result: list[float | None] = out.tolist()
    return result


def column_values(column: pd.Series) -> list[Any]:
    """One table column as JSON values: times as ISO strings, floats with None for NaN, the rest as is."""
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return iso_times(column)
    if pd.api.types.is_bool_dtype(dtype):
        return [bool(v) for v in column.to_numpy()]
    if pd.api.types.is_integer_dtype(dtype):
        ints: list[Any] = column.to_numpy(dtype=np.int64).tolist()
        return ints
    if pd.api.types.is_float_dtype(dtype):
        return float_values(column.to_numpy())
    if isinstance(dtype, pd.StringDtype):  # every value a str or missing: no value needs to_jsonable
        strings: list[Any] = column.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
        return strings
    return [to_jsonable(v) for v in column.tolist()]


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-ready dicts, converted a column at a time."""
    names = [str(c) for c in frame.columns]
    columns = [column_values(frame[c]) for c in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if columns else []


class TimeAxis:
    """``iso_times`` that converts an index once and answers an equal index from that (series on one axis)."""

    def __init__(self) -> None:
        self._seen: list[tuple[pd.Index, list[str | None]]] = []

    def __call__(self, index: pd.Index) -> list[str | None]:
        for known, times in self._seen:
            if known is index or known.equals(index):
                return times
        times = iso_times(index)
        self._seen.append((index, times))
        return times


def series_json(series: pd.Series, axis: TimeAxis | None = None) -> dict[str, list[Any]]:
    """A time series as ``{"time": [...], "value": [...]}``; ``axis`` shares one conversion between series."""
    times = axis(series.index) if axis is not None else iso_times(series.index)
    return {"time": times, "value": float_values(series.to_numpy(dtype=float))}


_ENCODER = json.JSONEncoder(allow_nan=False, separators=(", ", ": "))  # stateless; one for every call


def dumps(document: Mapping[str, Any]) -> str:
    """``document`` (already JSON-ready) as text: a top-level key per line, a top-level list's element per line."""
    lines = []
    for key, value in document.items():
        head = f" {json.dumps(str(key))}: "
        if isinstance(value, list) and value:
            items = ",\n  ".join(_ENCODER.encode(v) for v in value)
            lines.append(f"{head}[\n  {items}\n ]")
        else:
            lines.append(head + _ENCODER.encode(value))
    return "{\n" + ",\n".join(lines) + "\n}"
