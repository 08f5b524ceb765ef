"""Checks every bar set passes before it is written, and the gap report.

Rules (each failure is a ``DataError`` naming the source, the 1-based row, the column as the
source calls it, what was expected and what was found): times strictly increasing (sorted and
unique), no missing or non-finite prices, prices > 0, high >= low, high >= max(open, close),
low <= min(open, close), volume a number >= 0. When several rows are bad, the error names the first
(the top of the file is fixed first) and says how many more rows fail. The checks are vectorised;
details are only worked out for the failing row. Gaps are reported by ``find_gaps`` and never filled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.core.errors import DataError
from quantdesk.core.timestamps import NS_PER_DAY, ns_to_iso, ns_to_timestamp
from quantdesk.domain.bars import BAR_COLUMNS, PRICE_COLUMNS, Bars
from quantdesk.domain.calendar import TradingCalendar


@dataclass(frozen=True, slots=True)
class _Failure:
    row_index: int  # 0-based position
    column: str  # canonical column name
    message: str
    expected: str
    found: str
    count: int  # rows failing this rule


def validate_bar_arrays(
    ts: np.ndarray,
    columns: Mapping[str, np.ndarray],
    *,
    source: str,
    column_names: Mapping[str, str] | None = None,
    first_row: int = 1,
) -> None:
    """Raise ``DataError`` for the first bad row; ``column_names`` maps canonical names to the source's."""
    names = {c: c for c in ("ts", *BAR_COLUMNS)}
    names.update(column_names or {})
    failures = [f for f in _check_all(np.asarray(ts, dtype=np.int64), columns) if f is not None]
    if not failures:
        return
    first = min(failures, key=lambda f: f.row_index)
    total_rows = sum(f.count for f in failures) - 1
    message = first.message
    if total_rows > 0:
        message = f"{message} ({total_rows} more problem{'s' if total_rows > 1 else ''} after this one)"
    raise DataError(
        message,
        source=source,
        row=first.row_index + first_row,
        column=names[first.column],
        expected=first.expected,
        found=first.found,
    )


def validate_trading_hours(
    ts: np.ndarray, calendar: TradingCalendar, symbol: str, *, source: str, column: str = "ts", first_row: int = 1
) -> None:
    """Intraday bars must start inside the trading day (first window open to the day's close), or a
    daily bar built from them would hold data from after the instant it is known."""
    outside = np.flatnonzero(calendar.outside_hours(ts))
    if not len(outside):
        return
    i = int(outside[0])
    first = calendar.day_open or calendar.session_open
    assert first is not None and calendar.session_close is not None
    local = ns_to_timestamp(int(ts[i])).tz_convert(calendar.timezone)
    more = len(outside) - 1
    raise DataError(
        "bar outside the instrument's trading hours" + (f" ({more} more after this one)" if more else ""),
        source=source,
        row=i + first_row,
        column=column,
        expected=(
            f"bars starting between {first:%H:%M} and {calendar.session_close:%H:%M} {calendar.timezone} "
            f"(declare pre_market/after_hours in {symbol}'s trading_hours to store extended-hours bars)"
        ),
        found=f"{ns_to_iso(int(ts[i]))} ({local:%H:%M} local)",
    )


def validate_bars(bars: Bars, *, source: str) -> None:
    validate_bar_arrays(bars.ts, {c: getattr(bars, c) for c in BAR_COLUMNS}, source=source)


def _first(mask: np.ndarray) -> tuple[int, int] | None:
    hits = np.flatnonzero(mask)
    return (int(hits[0]), len(hits)) if len(hits) else None


def _fmt(x: float) -> str:
    return "NaN" if np.isnan(x) else repr(float(x)) if not np.isinf(x) else ("inf" if x > 0 else "-inf")


def _describe_value(arr: np.ndarray, message: str, expected: str) -> Callable[[int], tuple[str, str, str]]:
    return lambda i: (message, expected, _fmt(arr[i]))


def _check_all(ts: np.ndarray, cols: Mapping[str, np.ndarray]) -> list[_Failure | None]:
    o, h, lo, c, v = (np.asarray(cols[k], dtype=np.float64) for k in BAR_COLUMNS)
    out: list[_Failure | None] = []

    def add(mask: np.ndarray, column: str, build: Callable[[int], tuple[str, str, str]]) -> None:
        hit = _first(mask)
        if hit is not None:
            i, count = hit
            message, expected, found = build(i)
            out.append(_Failure(i, column, message, expected, found, count))

    if len(ts) > 1:
        step = np.diff(ts)
        dup = step == 0
        add(
            np.concatenate([[False], dup]),
            "ts",
            lambda i: ("duplicate time", "unique times", f"{ns_to_iso(ts[i])}, the same as the row before"),
        )
        back = step < 0
        add(
            np.concatenate([[False], back]),
            "ts",
            lambda i: (
                "time out of order",
                "times in increasing order",
                f"{ns_to_iso(ts[i])} after {ns_to_iso(ts[i - 1])}",
            ),
        )
    finite = {}
    for name, arr in zip(PRICE_COLUMNS, (o, h, lo, c), strict=True):
        ok = np.isfinite(arr)
        finite[name] = ok
        add(~ok, name, _describe_value(arr, "missing or non-finite price", "a finite number"))
        add(ok & (arr <= 0), name, _describe_value(arr, "price not positive", "a price > 0"))
    all_ok = finite["open"] & finite["high"] & finite["low"] & finite["close"]
    add(
        all_ok & (h < lo),
        "high",
        lambda i: ("high below low", f"high >= low = {_fmt(lo[i])}", _fmt(h[i])),
    )
    top = np.maximum(o, c)
    add(
        all_ok & (h >= lo) & (h < top),
        "high",
        lambda i: ("high below open or close", f"high >= max(open, close) = {_fmt(top[i])}", _fmt(h[i])),
    )
    bottom = np.minimum(o, c)
    add(
        all_ok & (h >= lo) & (lo > bottom),
        "low",
        lambda i: ("low above open or close", f"low <= min(open, close) = {_fmt(bottom[i])}", _fmt(lo[i])),
    )
    add(~np.isfinite(v), "volume", lambda i: ("missing or non-finite volume", "a finite number", _fmt(v[i])))
    add(np.isfinite(v) & (v < 0), "volume", lambda i: ("negative volume", "volume >= 0", _fmt(v[i])))
    return out


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch where bars were expected and none exist (between two consecutive bars)."""

    after_ns: int
    before_ns: int
    missing: int  # expected bars absent (weekdays for daily data, bar slots for intraday)

    def describe(self) -> str:
        return f"{ns_to_iso(self.after_ns)} -> {ns_to_iso(self.before_ns)}: {self.missing} bar(s) missing"


def find_gaps(bars: Bars, *, min_missing_days: int = 2) -> list[Gap]:
    """Gaps in ``bars`` by its calendar. Never fills anything.

    Intraday: a hole of more than one bar inside one local session date (or anywhere, for
    instruments that trade around the clock; for those that do so on weekdays only, FX, the bar slots
    of Saturdays and Sundays are not counted). Daily and longer: at least ``min_missing_days``
    consecutive weekdays without a bar (a single missing weekday is usually an exchange holiday;
    quantdesk has no holiday calendar yet, so those are not listed), or any missing day (weekday, for
    FX) around the clock. Weekly and monthly bars: a missing week or month.
    """
    ts = bars.ts
    if len(ts) < 2:
        return []
    tf = bars.timeframe
    cal = bars.calendar
    gaps: list[Gap] = []
    if tf.is_intraday:
        step = np.diff(ts)
        if cal.weekdays_only and not cal.has_session:
            trading_ns = cal.weekday_ns_before(ts[1:]) - cal.weekday_ns_before(ts[:-1] + tf.duration_ns)
            slots = trading_ns // tf.duration_ns
        else:
            slots = step // tf.duration_ns - 1
        hole = slots >= 1
        if cal.has_session:
            dates = cal.session_dates(ts, tf).to_numpy().view(np.int64)
            hole &= dates[1:] == dates[:-1]
        for i in np.flatnonzero(hole):
            gaps.append(Gap(int(ts[i]), int(ts[i + 1]), int(slots[i])))
        daily_ts = np.unique(cal.session_dates(ts, tf).to_numpy().view(np.int64))
    else:
        daily_ts = ts
    if tf.is_intraday or tf.value == "1d":
        days = daily_ts.view("datetime64[ns]").astype("datetime64[D]")
        if cal.has_session or cal.weekdays_only:
            missing = np.busday_count(days[:-1], days[1:]) - 1
        else:
            missing = np.diff(daily_ts) // NS_PER_DAY - 1
        for i in np.flatnonzero(missing >= (min_missing_days if cal.has_session else 1)):
            gaps.append(Gap(int(daily_ts[i]), int(daily_ts[i + 1]), int(missing[i])))
    else:
        labels = pd.DatetimeIndex(ts.view("datetime64[ns]"))
        if tf.value == "1w":
            expected = np.diff(ts) // (7 * NS_PER_DAY)
        else:
            months = labels.year * 12 + labels.month
            expected = np.diff(np.asarray(months))
        for i in np.flatnonzero(expected > 1):
            gaps.append(Gap(int(ts[i]), int(ts[i + 1]), int(expected[i]) - 1))
    gaps.sort(key=lambda g: g.after_ns)
    return gaps
