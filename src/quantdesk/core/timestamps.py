"""Conversions between the time representations quantdesk uses.

Inside arrays and kernels a time is an int64 count of nanoseconds since the Unix epoch, UTC.
At the edges (files, the CLI, JSON results) times are tz-aware UTC ``pandas.Timestamp`` or ISO 8601
strings. Everything that crosses between the two goes through these functions.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError

NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR


def to_utc_ns(value: str | pd.Timestamp | np.datetime64, *, what: str = "time") -> int:
    """One instant as int64 UTC nanoseconds. Naive values are taken as UTC; bad text is a ConfigError."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{what}: expected a date or ISO 8601 time, found {value!r}") from exc
    if ts is pd.NaT:
        raise ConfigError(f"{what}: expected a date or ISO 8601 time, found {value!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    try:
        return int(ts.as_unit("ns").value)
    except pd.errors.OutOfBoundsDatetime as exc:  # a year such as 9999 or 1200
        raise ConfigError(
            f"{what}: expected a time between {pd.Timestamp.min:%Y-%m-%d} and {pd.Timestamp.max:%Y-%m-%d}, "
            f"found {value!r}"
        ) from exc


def ns_to_timestamp(ns: int) -> pd.Timestamp:
    """int64 UTC nanoseconds to a tz-aware UTC Timestamp."""
    return pd.Timestamp(int(ns), unit="ns", tz="UTC")


def ns_to_index(ns: np.ndarray) -> pd.DatetimeIndex:
    """An int64 nanosecond array to a tz-aware UTC DatetimeIndex (no copy of the values)."""
    return pd.DatetimeIndex(np.asarray(ns, dtype="int64").view("datetime64[ns]")).tz_localize("UTC")


@lru_cache(maxsize=65_536)
def ns_to_iso(ns: int) -> str:
    """int64 UTC nanoseconds to ISO 8601 with a 'Z' suffix: second precision when exact, else microseconds when
    exact, else nanoseconds. Plain integer arithmetic and ``time.gmtime`` (a pandas Timestamp costs ~5 us, and an
    event log writes a few of these per event); cached, since a session's events share their bars' times."""
    seconds, rest = divmod(int(ns), 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if rest == 0:
        return text + "Z"
    if rest % 1000 == 0:
        return f"{text}.{rest // 1000:06d}Z"
    return f"{text}.{rest:09d}Z"


def ns_array_to_iso(ns: np.ndarray, valid: np.ndarray | None = None) -> list[str | None]:
    """``ns_to_iso`` of every element at once (None where ``valid`` is False), for long series in JSON.

    Second precision where a time is a whole second, else microseconds, else nanoseconds: the strings
    ``ns_to_iso`` writes for each value.
    """
    ns = np.asarray(ns, dtype=np.int64)
    out = np.empty(len(ns), dtype=object)
    rest_s = ns % NS_PER_SECOND
    whole_us = (rest_s % 1_000) == 0
    for unit, mask in (("s", rest_s == 0), ("us", (rest_s != 0) & whole_us), ("ns", ~whole_us)):
        if mask.any():
            as_unit = ns[mask].view("datetime64[ns]").astype(f"datetime64[{unit}]")
            # timezone="UTC" writes the 'Z'; numpy's stubs do not know the unit strings as a variable
            out[mask] = np.datetime_as_string(as_unit, unit=unit, timezone="UTC")  # type: ignore[call-overload]
    if valid is not None:
        out[~np.asarray(valid, dtype=bool)] = None
    values: list[str | None] = out.tolist()
    return values
