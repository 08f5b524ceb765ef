"""Checks every bar set passes before it is written, and the gap report.

Rules (each failure is a ``DataError`` naming the source, the 1-based row, the column as the
source calls it, what was expected and what was found): times strictly increasing (sorted and
unique) and between ``MIN_BAR_TIME`` and ``MAX_BAR_TIME`` (1800-01-01 to 2200-01-01 UTC), no missing
or non-finite prices, 0 < price < ``MAX_PRICE`` (1e12), high >= low, high >= max(open, close),
low <= min(open, close), volume a finite number with 0 <= volume < ``MAX_VOLUME`` (1e18). When
several rows are bad, the error names the first (the top of the file is fixed first) and says how
many more rows fail. The checks are vectorised; details are only worked out for the failing row.

``validate_bar_spacing`` holds a file's bars to the timeframe it is imported as: within a session
(weekend and overnight gaps do not count) no bar starts less than one bar after the one before,
and, given at least ``MIN_SPACING_PAIRS`` consecutive pairs, the median spacing is at most
``MAX_MEDIAN_SPACING_BARS`` bars and, for a timeframe with room for two bars in a session, most bars
are not alone in theirs (daily rows imported as 5m). Gaps are reported by ``find_gaps`` and never
filled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.core.errors import DataError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, ns_to_iso, ns_to_timestamp
from quantdesk.domain.bars import BAR_COLUMNS, PRICE_COLUMNS, Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe

MIN_BAR_TIME = "1800-01-01"
MAX_BAR_TIME = "2200-01-01"
MIN_BAR_NS = int(pd.Timestamp(MIN_BAR_TIME, tz="UTC").value)
MAX_BAR_NS = int(pd.Timestamp(MAX_BAR_TIME, tz="UTC").value)
MAX_PRICE = 1e12  # above any traded price in any currency; beyond it sums of notional lose their cents
MAX_VOLUME = 1e18  # above any day's volume in any unit (tokens included), far below float64's range
MAX_MEDIAN_SPACING_BARS = 2.0  # sparse intraday data (up to every other slot empty) still imports
MIN_SPACING_PAIRS = 5  # fewer consecutive bars say too little about a file's typical spacing


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


def validate_bar_spacing(
    ts: np.ndarray,
    timeframe: Timeframe,
    calendar: TradingCalendar,
    *,
    source: str,
    column: str = "ts",
    first_row: int = 1,
) -> None:
    """Raise ``DataError`` when sorted, unique bar times ``ts`` are spaced unlike ``timeframe`` bars.

    Intraday: bars of one session (the whole week for an around-the-clock market, its weekend left
    out for FX) must start at least one bar apart, with a median spacing of at most
    ``MAX_MEDIAN_SPACING_BARS`` bars, and where a session has room for two bars most bars must share
    their session with another. Daily and longer (``ts`` the date labels): the median spacing, in
    trading days for 1d, weeks for 1w and months for 1M, must be between 1 and
    ``MAX_MEDIAN_SPACING_BARS``. The median rules need ``MIN_SPACING_PAIRS`` pairs to judge by.
    """
    ts = np.asarray(ts, dtype=np.int64)
    if len(ts) < 2:
        return
    step_ns = np.diff(ts)
    expected = f"{timeframe.value} bars"
    if not timeframe.is_intraday:
        steps, unit = _coarse_steps(ts, timeframe, calendar)
        median = float(np.median(steps))
        if len(steps) >= MIN_SPACING_PAIRS and not 1.0 <= median <= MAX_MEDIAN_SPACING_BARS:
            raise DataError(
                f"bars spaced unlike {expected}",
                source=source,
                column=column,
                expected=f"a median spacing of 1 {unit} (at most {MAX_MEDIAN_SPACING_BARS:g}) for {expected}",
                found=f"a median spacing of {median:.4g} {unit}s ({describe_span(float(np.median(step_ns)))})",
            )
        return
    duration = timeframe.duration_ns
    if calendar.has_session:
        days = calendar.session_day_numbers(ts, timeframe)
        same = days[1:] == days[:-1]
        trading_ns = step_ns
    else:
        same = np.ones(len(step_ns), dtype=bool)
        trading_ns = np.diff(calendar.weekday_ns_before(ts)) if calendar.weekdays_only else step_ns
    inside = trading_ns[same]
    median_inside = (
        f"{describe_span(float(np.median(inside)))} within a session" if len(inside) else "no two in one session"
    )
    close = np.flatnonzero(same & (trading_ns < duration))
    if len(close):
        i = int(close[0]) + 1
        raise DataError(
            f"bar starts {describe_span(float(trading_ns[i - 1]))} after the one before it, inside one session",
            source=source,
            row=i + first_row,
            column=column,
            expected=f"bars at least {describe_span(duration)} apart for {expected}",
            found=f"{ns_to_iso(int(ts[i]))} after {ns_to_iso(int(ts[i - 1]))} (median spacing {median_inside})",
        )
    if len(inside) >= MIN_SPACING_PAIRS and float(np.median(inside)) > MAX_MEDIAN_SPACING_BARS * duration:
        raise DataError(
            f"bars spaced unlike {expected}",
            source=source,
            column=column,
            expected=f"a median spacing of {describe_span(duration)} within a session for {expected} "
            f"(at most {MAX_MEDIAN_SPACING_BARS:g} bars)",
            found=f"a median spacing of {median_inside}",
        )
    if calendar.has_session and len(same) >= MIN_SPACING_PAIRS and _session_slots(calendar, duration) >= 2:
        alone = int((~same).sum())
        if alone * 2 > len(same):
            raise DataError(
                f"most bars are the only one in their session, unlike {expected}",
                source=source,
                column=column,
                expected=f"bars {describe_span(duration)} apart within a session for {expected}",
                found=f"{alone + 1} sessions for {len(ts)} bars, a median spacing of "
                f"{describe_span(float(np.median(step_ns)))} between consecutive bars",
            )


def _coarse_steps(ts: np.ndarray, timeframe: Timeframe, calendar: TradingCalendar) -> tuple[np.ndarray, str]:
    """Spacing of daily-or-longer date labels in bars of ``timeframe`` and the unit's name."""
    days = ts.view("datetime64[ns]").astype("datetime64[D]")
    if timeframe is Timeframe.D1:
        if calendar.has_session or calendar.weekdays_only:
            return np.busday_count(days[:-1], days[1:]).astype(np.float64), "trading day"
        return np.diff(days).astype(np.int64).astype(np.float64), "day"
    if timeframe is Timeframe.W1:
        return np.diff(days).astype(np.int64) / 7.0, "week"
    months = days.astype("datetime64[M]").astype(np.int64)
    return np.diff(months).astype(np.float64), "month"


def _session_slots(calendar: TradingCalendar, duration_ns: int) -> float:
    first = calendar.day_open or calendar.session_open
    assert first is not None and calendar.session_close is not None
    minutes = (calendar.session_close.hour * 60 + calendar.session_close.minute) - (first.hour * 60 + first.minute)
    return minutes * NS_PER_MINUTE / duration_ns


def describe_span(ns: float) -> str:
    """A duration for a message: ``5m``, ``1h``, ``1 day``, ``3.5 days``."""
    for unit, name in ((NS_PER_DAY, " day"), (NS_PER_HOUR, "h"), (NS_PER_MINUTE, "m")):
        if abs(ns) >= unit:
            value = ns / unit
            text = f"{value:.4g}{name}"
            return text + ("s" if name == " day" and value != 1 else "")
    return f"{ns / 1e9:.4g}s"


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

    early, late = ts < MIN_BAR_NS, ts >= MAX_BAR_NS
    add(
        early | late,
        "ts",
        lambda i: (
            "time outside the supported range",
            f"a time from {MIN_BAR_TIME} up to {MAX_BAR_TIME} (UTC)",
            ns_to_iso(ts[i]),
        ),
    )
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
        add(
            ok & (arr >= MAX_PRICE),
            name,
            _describe_value(arr, "price implausibly large", f"a price below {MAX_PRICE:g}"),
        )
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
    add(
        np.isfinite(v) & (v >= MAX_VOLUME),
        "volume",
        lambda i: ("volume implausibly large", f"a volume below {MAX_VOLUME:g}", _fmt(v[i])),
    )
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
