"""The one as-of alignment every cross-timeframe or cross-source join goes through.

``asof_indices(base_known, other_known)`` answers, for each base bar, which row of the other source
was the latest one *known* at the base bar's decision time (its own known time, i.e. its close).
Equal times count as known: a 1h bar closing at 10:00 is visible to the 5m bar closing at 10:00.
Rows are never matched by their period start, which is what makes a daily close invisible to the
intraday bars of the same day. A fundamental figure joins the same way by its filing date.
"""

from __future__ import annotations

import numpy as np

from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.series import MacroSeries


def asof_indices(base_known_ns: np.ndarray, other_known_ns: np.ndarray) -> np.ndarray:
    """Index into ``other`` of the latest row with known time <= each base time; -1 where none.

    ``other_known_ns`` must be non-decreasing (sorted by known time); ties take the last row.
    """
    other = np.asarray(other_known_ns, dtype=np.int64)
    if len(other) > 1 and np.any(other[1:] < other[:-1]):
        raise ValueError("asof_indices: other_known_ns must be sorted by known time")
    return np.searchsorted(other, np.asarray(base_known_ns, dtype=np.int64), side="right").astype(np.int64) - 1


def align_values(base_known_ns: np.ndarray, other_known_ns: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (rows of ``other``, 1-D or 2-D) as known at each base time; NaN before the first."""
    idx = asof_indices(base_known_ns, other_known_ns)
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


def align_series(base: Bars, series: MacroSeries) -> np.ndarray:
    """A macro series' values as known at each bar's close of ``base``."""
    order = np.argsort(series.known_ts, kind="stable")
    return align_values(base.known_ns(), series.known_ts[order], series.value[order])
