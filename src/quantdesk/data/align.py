"""The one as-of alignment every cross-timeframe or cross-source join goes through.

``asof_indices(base_known, other_known)`` answers, for each base bar, which row of the other source
was the latest one *known* at the base bar's decision time (its own known time, i.e. its close).
Equal times count as known: a 1h bar closing at 10:00 is visible to the 5m bar closing at 10:00.
Rows are never matched by their period start, which is what makes a daily close invisible to the
intraday bars of the same day. A fundamental figure joins the same way by its filing date.

A macro series joins with a maximum age (``series_on_bars``, ``domain.series.MAX_AGE_DAYS`` by its
frequency): where the latest value known at a base bar became known longer ago than that, the series has
stopped (its next release is overdue), and the join reports the value as missing (NaN) with a
``StaleValues`` record saying which series, since when and why, instead of carrying an old value
forward for years. The age is the base bar's known time minus the value's known time, so the rule reads
nothing a bar could not have known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.core.timestamps import NS_PER_DAY, ns_to_iso
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.series import MAX_AGE_DAYS, MacroSeries
from quantdesk.domain.timeframe import Timeframe


def asof_indices(base_known_ns: np.ndarray, other_known_ns: np.ndarray) -> np.ndarray:
    """Index into ``other`` of the latest row with known time <= each base time; -1 where none.

    ``other_known_ns`` must be non-decreasing (sorted by known time); ties take the last row.
    """
    other = np.asarray(other_known_ns, dtype=np.int64)
    if len(other) > 1 and np.any(other[1:] < other[:-1]):
        raise ValueError("asof_indices: other_known_ns must be sorted by known time")
    return np.searchsorted(other, np.asarray(base_known_ns, dtype=np.int64), side="right").astype(np.int64) - 1


def stale_mask(base_known_ns: np.ndarray, other_known_ns: np.ndarray, idx: np.ndarray, max_age_ns: int) -> np.ndarray:
    """Where the row ``idx`` picked for each base time became known more than ``max_age_ns`` before it."""
    base = np.asarray(base_known_ns, dtype=np.int64)
    other = np.asarray(other_known_ns, dtype=np.int64)
    if len(other) == 0:
        return np.zeros(len(base), dtype=bool)
    return (idx >= 0) & (base - other[np.maximum(idx, 0)] > max_age_ns)


def align_values(
    base_known_ns: np.ndarray, other_known_ns: np.ndarray, values: np.ndarray, *, max_age_ns: int | None = None
) -> np.ndarray:
    """``values`` (rows of ``other``, 1-D or 2-D) as known at each base time; NaN before the first.

    ``max_age_ns``: also NaN where the latest known row became known longer ago than that (stale).
    """
    idx = asof_indices(base_known_ns, other_known_ns)
    if max_age_ns is not None:
        idx = np.where(stale_mask(base_known_ns, other_known_ns, idx, max_age_ns), -1, idx)
    vals = np.asarray(values, dtype=np.float64)
    out = vals[np.maximum(idx, 0)]
    out[idx < 0] = np.nan
    return out


def align_bars(base: Bars, other: Bars) -> dict[str, np.ndarray]:
    """``other``'s OHLCV columns (and its ``ts``) on ``base``'s bars, as known at each base bar's close.

    ``ts`` is -1 where no bar of ``other`` was known yet; prices and volume are NaN there.
    """
    base_known = base.known_ns()
    other_known = other.known_ns()
    idx = asof_indices(base_known, other_known)
    out = {c: align_values(base_known, other_known, getattr(other, c)) for c in BAR_COLUMNS}
    out["ts"] = np.where(idx >= 0, other.ts[np.maximum(idx, 0)], -1)
    return out


@dataclass(frozen=True, slots=True)
class StaleValues:
    """Where an as-of join refused a series' latest known value as older than the series' maximum age."""

    name: str  # the series (or bars) refused
    frequency: str  # its declared frequency ("" undeclared)
    max_age_ns: int
    stale: np.ndarray  # bool per base bar
    last_known_ns: np.ndarray  # per base bar: when the refused value became known (-1 where not stale)

    @classmethod
    def of(cls, name: str, frequency: str, max_age_ns: int, base_known_ns: np.ndarray, other_known_ns: np.ndarray,
           idx: np.ndarray) -> StaleValues:  # fmt: skip
        """The record for a join of ``other`` (sorted known times, chosen rows ``idx``) onto ``base``."""
        stale = stale_mask(base_known_ns, other_known_ns, idx, max_age_ns)
        other = np.asarray(other_known_ns, dtype=np.int64)
        last = np.where(stale, other[np.maximum(idx, 0)] if len(other) else -1, -1).astype(np.int64)
        return cls(name, frequency, int(max_age_ns), stale, last)

    def __bool__(self) -> bool:
        return bool(self.stale.any())

    def note(self, i: int | None = None) -> str | None:
        """Why the value is missing at base bar ``i`` (None: at the first stale bar); None where it is not stale."""
        if i is None:
            hits = np.flatnonzero(self.stale)
            if len(hits) == 0:
                return None
            i = int(hits[0])
        if not self.stale[i]:
            return None
        last = int(self.last_known_ns[i])
        days = self.max_age_ns / NS_PER_DAY
        rule = f"{self.frequency} series" if self.frequency else "series of undeclared frequency"
        return (
            f"{self.name} is stale: its latest value became known {ns_to_iso(last)} and is too old from "
            f"{ns_to_iso(last + self.max_age_ns)} on (a {rule} is used at most {days:g} days after it is known)"
        )

    def summary(self) -> str | None:
        """One line for a whole run: how many bars found the series stale, and the first time it was."""
        count = int(self.stale.sum())
        if count == 0:
            return None
        return f"{self.note()}; missing on {count:,} of {len(self.stale):,} bars"


@dataclass(frozen=True, slots=True)
class AlignedSeries:
    values: np.ndarray  # the series as known at each base bar; NaN before its first value and where stale
    stale: StaleValues


def series_on_bars(base: Bars, series: MacroSeries) -> AlignedSeries:
    """A macro series' values as known at each bar's close of ``base``, refused where older than its max age."""
    order = np.argsort(series.known_ts, kind="stable")
    known, values = series.known_ts[order], series.value[order]
    base_known = base.known_ns()
    idx = asof_indices(base_known, known)
    stale = StaleValues.of(series.name, series.frequency, series.max_age_ns, base_known, known, idx)
    out = values[np.maximum(idx, 0)] if len(values) else np.full(len(base_known), np.nan)
    out = np.where((idx < 0) | stale.stale, np.nan, out)
    return AlignedSeries(out, stale)


def bars_max_age_ns(timeframe: Timeframe) -> int:
    """How long after its close another instrument's bar may be used: its timeframe's frequency's maximum
    age (``MAX_AGE_DAYS``; intraday and daily bars as daily, 7 days; weekly 14; monthly 45)."""
    frequency = {Timeframe.W1: "weekly", Timeframe.MN1: "monthly"}.get(timeframe, "daily")
    return MAX_AGE_DAYS[frequency] * NS_PER_DAY


def align_series(base: Bars, series: MacroSeries) -> np.ndarray:
    """A macro series' values as known at each bar's close of ``base``; NaN where none is known or stale."""
    return series_on_bars(base, series).values
