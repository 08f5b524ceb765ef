"""Growth as pure arithmetic on numbers and pandas series: compound annual growth rates (CAGR), a series'
growth trajectory (CAGR over several windows, year-over-year growth per period, and its acceleration), and
the history of earnings surprises. Growth rates are fractions (0.10 is 10 %). A growth rate from a zero or
negative base has no meaning (from -5 to +10 is not "-300 %"), so it is NaN, and the result says why. The
series are indexed by fiscal period end; what was known when is the caller's as-of join (a figure is known
at its filing, not its period end), so a trajectory of ``values[:k]`` is what was computable from those
periods alone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.fundamentals import EarningsEvent

__all__ = [
    "GrowthTrajectory",
    "SurpriseHistory",
    "SurpriseRecord",
    "cagr",
    "cagr_note",
    "growth_trajectory",
    "surprise_history",
]

# median gap between period ends (days) -> periods per year, with the gaps each frequency accepts
_FREQUENCIES = ((1, 300.0, 430.0), (4, 75.0, 105.0))


def _clean(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def cagr_note(first: float, last: float, years: float) -> str:
    """Why ``cagr(first, last, years)`` is NaN, or "" when it is a number."""
    if math.isnan(first) or math.isnan(last):
        return "an endpoint is missing (NaN)"
    if first <= 0:
        return f"first value {first:g} is not positive: a growth rate from a zero or negative base is undefined"
    if last <= 0:
        return f"last value {last:g} is not positive: no compound rate reaches a zero or negative value"
    return ""


def cagr(first: float, last: float, years: float) -> float:
    """Compound annual growth rate, a fraction: ``(last / first) ** (1 / years) - 1``.

    NaN when either endpoint is NaN or not positive (``cagr_note`` gives the reason): compounding cannot
    carry a positive value to a negative one, and a rate from a non-positive base is undefined. ``years`` must
    be positive (ConfigError otherwise).
    """
    span = float(years)
    if not math.isfinite(span) or span <= 0:
        raise ConfigError(f"cagr years: expected a number of years > 0, found {years!r}")
    first, last = float(first), float(last)
    if cagr_note(first, last, span):
        return float("nan")
    return float((last / first) ** (1.0 / span) - 1.0)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GrowthTrajectory:
    """A series' growth. ``yoy`` and ``acceleration`` are indexed like the input.

    ``yoy[t] = values[t] / values[t - p] - 1`` with ``p = periods_per_year`` (the same quarter a year
    earlier for quarterly data), NaN where the base is not positive or missing. ``acceleration[t] = yoy[t] -
    yoy[t - 1]``: the change in the year-over-year growth rate from one period to the next, in fractions
    (percentage points / 100). ``accelerating`` is True exactly when each of the last
    ``acceleration_periods`` values of ``acceleration`` is present and strictly greater than
    ``acceleration_threshold``; with the default 2 periods and threshold 0, the last three YoY growth rates
    strictly increase: ``yoy[-3] < yoy[-2] < yoy[-1]``.
    """

    periods_per_year: int
    start: str  # first period end, ISO date
    end: str  # last period end, ISO date
    cagr: dict[int, float]  # window in years -> CAGR (fraction) ending at the last period
    cagr_notes: dict[int, str]  # window -> why its CAGR is NaN ("" when it is a number)
    yoy: pd.Series
    acceleration: pd.Series
    latest_yoy: float
    previous_yoy: float
    latest_acceleration: float
    acceleration_threshold: float
    acceleration_periods: int
    accelerating: bool

    def to_dict(self) -> dict[str, Any]:
        def series(values: pd.Series) -> list[dict[str, Any]]:
            return [
                {"period_end": pd.Timestamp(ts).date().isoformat(), "value": _clean(v)}
                for ts, v in zip(values.index, values.to_numpy(np.float64), strict=True)
            ]

        return {
            "periods_per_year": self.periods_per_year,
            "start": self.start,
            "end": self.end,
            "cagr": {str(w): _clean(v) for w, v in self.cagr.items()},
            "cagr_notes": {str(w): note for w, note in self.cagr_notes.items()},
            "yoy": series(self.yoy),
            "acceleration": series(self.acceleration),
            "latest_yoy": _clean(self.latest_yoy),
            "previous_yoy": _clean(self.previous_yoy),
            "latest_acceleration": _clean(self.latest_acceleration),
            "acceleration_threshold": self.acceleration_threshold,
            "acceleration_periods": self.acceleration_periods,
            "accelerating": self.accelerating,
        }


def _period_index(values: pd.Series) -> pd.DatetimeIndex:
    try:
        index = pd.DatetimeIndex(values.index)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "growth_trajectory: the index is not dates",
            column="index",
            expected="fiscal period end dates",
            found=str(values.index.dtype),
        ) from exc
    if index.hasnans:
        raise DataError("growth_trajectory: a period end is missing", column="index", expected="dates", found="NaT")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise DataError(
            "growth_trajectory: period ends out of order",
            column="index",
            expected="strictly increasing period ends",
            found="duplicates or a decrease",
        )
    return index


def _periods_per_year(index: pd.DatetimeIndex, periods_per_year: int | None) -> int:
    gaps = np.diff(index.as_unit("ns").asi8) / 86_400e9
    if periods_per_year is None:
        if len(gaps) == 0:
            return 1
        median = float(np.median(gaps))
        for ppy, low, high in _FREQUENCIES:
            if low <= median <= high:
                periods_per_year = ppy
                break
        else:
            raise DataError(
                "growth_trajectory: cannot tell the frequency",
                column="index",
                expected="annual (~365 days) or quarterly (~91 days) period ends",
                found=f"a median gap of {median:.0f} days",
            )
    bounds = {ppy: (low, high) for ppy, low, high in _FREQUENCIES}
    if periods_per_year not in bounds:
        raise ConfigError(f"periods_per_year: expected 1 (annual) or 4 (quarterly), found {periods_per_year!r}")
    low, high = bounds[periods_per_year]
    for i, gap in enumerate(gaps):
        if not low <= gap <= high:
            raise DataError(
                "growth_trajectory: a gap in the periods",
                row=i + 2,
                column="index",
                expected=f"{low:.0f} to {high:.0f} days after the previous period end",
                found=f"{gap:.0f} days ({index[i].date()} to {index[i + 1].date()})",
            )
    return periods_per_year


def growth_trajectory(
    values: pd.Series,
    windows: Sequence[int] = (1, 3, 5),
    *,
    periods_per_year: int | None = None,
    acceleration_threshold: float = 0.0,
    acceleration_periods: int = 2,
) -> GrowthTrajectory:
    """The growth of ``values`` (a pandas Series indexed by fiscal period end, increasing, without gaps).

    ``periods_per_year`` is 1 (annual) or 4 (quarterly); by default it is inferred from the median gap
    between period ends, and every gap must fit the frequency (a missing year would make a "3-year" CAGR span
    four): DataError naming the row otherwise. ``cagr[w]`` compounds from the value ``w`` years
    (``w × periods_per_year`` periods) before the last to the last, over ``w`` years; NaN with a note when
    the series is too short or an endpoint is not positive. See ``GrowthTrajectory`` for ``yoy``,
    ``acceleration`` and the precise rule of ``accelerating``.
    """
    if not isinstance(values, pd.Series):
        raise ConfigError(f"growth_trajectory values: expected a pandas Series, found {type(values).__name__}")
    if len(values) == 0:
        raise DataError("growth_trajectory: no values", expected="at least one period", found="an empty series")
    for w in windows:
        if isinstance(w, bool) or not isinstance(w, int | np.integer) or w < 1:
            raise ConfigError(f"growth_trajectory windows: expected whole numbers of years >= 1, found {w!r}")
    if isinstance(acceleration_periods, bool) or not isinstance(acceleration_periods, int) or acceleration_periods < 1:
        raise ConfigError(
            f"growth_trajectory acceleration_periods: expected a whole number >= 1, found {acceleration_periods!r}"
        )
    threshold = float(acceleration_threshold)
    if not math.isfinite(threshold):
        raise ConfigError(
            f"growth_trajectory acceleration_threshold: expected a finite fraction, found {acceleration_threshold!r}"
        )
    index = _period_index(values)
    ppy = _periods_per_year(index, periods_per_year)
    data = pd.Series(pd.to_numeric(values, errors="coerce").to_numpy(np.float64), index=index, name=values.name)

    base = data.shift(ppy)
    yoy = (data / base - 1.0).where(base > 0)
    acceleration = yoy - yoy.shift(1)

    growth: dict[int, float] = {}
    notes: dict[int, str] = {}
    last = float(data.iloc[-1])
    for w in windows:
        lag = int(w) * ppy
        if len(data) <= lag:
            growth[int(w)] = float("nan")
            notes[int(w)] = f"needs {lag + 1} periods, found {len(data)}"
            continue
        first = float(data.iloc[-1 - lag])
        growth[int(w)] = cagr(first, last, int(w))
        notes[int(w)] = cagr_note(first, last, int(w))

    tail = acceleration.to_numpy(np.float64)[-acceleration_periods:]
    accelerating = bool(len(tail) == acceleration_periods and np.all(tail > threshold))  # NaN compares False
    yoy_values = yoy.to_numpy(np.float64)
    return GrowthTrajectory(
        periods_per_year=ppy,
        start=index[0].date().isoformat(),
        end=index[-1].date().isoformat(),
        cagr=growth,
        cagr_notes=notes,
        yoy=yoy,
        acceleration=acceleration,
        latest_yoy=float(yoy_values[-1]),
        previous_yoy=float(yoy_values[-2]) if len(yoy_values) > 1 else float("nan"),
        latest_acceleration=float(acceleration.iloc[-1]),
        acceleration_threshold=threshold,
        acceleration_periods=acceleration_periods,
        accelerating=accelerating,
    )


# ---------------------------------------------------------------------------------------------------------
# earnings surprises


@dataclass(frozen=True, slots=True, kw_only=True)
class SurpriseRecord:
    """One announcement: ``surprise`` = (actual - estimate) / |estimate| (NaN when the estimate is 0);
    ``outcome`` is "beat" (actual > estimate), "miss" (actual < estimate) or "inline" (equal)."""

    fiscal_year: int
    fiscal_period: str
    announced_ns: int
    eps_estimate: float
    eps_actual: float
    surprise: float
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "fiscal_year": self.fiscal_year,
            "fiscal_period": self.fiscal_period,
            "announced": ns_to_iso(self.announced_ns),
            "eps_estimate": _clean(self.eps_estimate),
            "eps_actual": _clean(self.eps_actual),
            "surprise": _clean(self.surprise),
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SurpriseHistory:
    """Surprises in announcement order and their summary. ``mean_surprise`` averages the defined surprises;
    ``beat_rate`` is beats / announcements (an in-line result is not a beat); ``beat_streak`` counts the
    consecutive beats ending at the latest announcement (0 when it was not a beat)."""

    symbol: str
    records: tuple[SurpriseRecord, ...]
    count: int
    beats: int
    misses: int
    inline: int
    mean_surprise: float
    beat_rate: float
    latest_surprise: float
    beat_streak: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "count": self.count,
            "beats": self.beats,
            "misses": self.misses,
            "inline": self.inline,
            "mean_surprise": _clean(self.mean_surprise),
            "beat_rate": _clean(self.beat_rate),
            "latest_surprise": _clean(self.latest_surprise),
            "beat_streak": self.beat_streak,
            "records": [r.to_dict() for r in self.records],
        }


def surprise_history(events: Sequence[EarningsEvent]) -> SurpriseHistory:
    """The earnings surprises of one company, sorted by announcement time, with their summary (see
    ``SurpriseHistory``). No events gives a count of 0 with NaN rates; events of several symbols are a
    DataError."""
    symbols = sorted({e.symbol for e in events})
    if len(symbols) > 1:
        raise DataError(
            "surprise_history: events of several companies",
            column="symbol",
            expected="one symbol",
            found=", ".join(symbols),
        )
    ordered = sorted(events, key=lambda e: (e.announced_ns, e.fiscal_year, e.fiscal_period.quarter))
    records = tuple(
        SurpriseRecord(
            fiscal_year=e.fiscal_year,
            fiscal_period=e.fiscal_period.value,
            announced_ns=int(e.announced_ns),
            eps_estimate=float(e.eps_estimate),
            eps_actual=float(e.eps_actual),
            surprise=float(e.surprise),
            outcome="beat" if e.eps_actual > e.eps_estimate else "miss" if e.eps_actual < e.eps_estimate else "inline",
        )
        for e in ordered
    )
    beats = sum(r.outcome == "beat" for r in records)
    misses = sum(r.outcome == "miss" for r in records)
    surprises = np.array([r.surprise for r in records], dtype=np.float64)
    defined = surprises[~np.isnan(surprises)]
    streak = 0
    for record in reversed(records):
        if record.outcome != "beat":
            break
        streak += 1
    return SurpriseHistory(
        symbol=symbols[0] if symbols else "",
        records=records,
        count=len(records),
        beats=beats,
        misses=misses,
        inline=len(records) - beats - misses,
        mean_surprise=float(defined.mean()) if len(defined) else float("nan"),
        beat_rate=beats / len(records) if records else float("nan"),
        latest_surprise=records[-1].surprise if records else float("nan"),
        beat_streak=streak,
    )
