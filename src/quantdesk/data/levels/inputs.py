"""What a drill-down source reads from the catalog by name: a stored series, or an instrument's daily closes,
as one shape (``NamedInput``: known times, values, the maximum age of a value, a source label), and the as-of
join of such an input onto any grid of decision times with its staleness (``on_grid``).

A name that is both a series and an instrument is read as the series. An instrument's daily close is known at
its bar's close and kept at most the daily maximum age (``data.align.bars_max_age_ns``); a series by its own
frequency. The source label is what explanations show: the series' or instrument's ``source``, with
``synthetic`` marked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.core.errors import NotFoundError
from quantdesk.data.align import StaleValues, asof_indices, bars_max_age_ns
from quantdesk.data.catalog import Catalog
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe


@dataclass(frozen=True, slots=True)
class NamedInput:
    name: str
    known_ns: np.ndarray  # sorted
    value: np.ndarray
    frequency: str
    max_age_ns: int
    source: str  # e.g. "arch.data.vix", "synthetic", "file import: x.csv"
    unit: str = ""

    @property
    def is_level(self) -> bool:
        """Whether changes are log changes (prices, index levels) rather than differences (rates, percent, scores)."""
        return (
            bool(len(self.value))
            and bool(np.all(self.value[np.isfinite(self.value)] > 0))
            and ("percent" not in self.unit.lower())
        )


def source_label(source: str, synthetic: bool) -> str:
    """A stored source as shown to a user: ``synthetic`` is always said."""
    if synthetic:
        return f"synthetic ({source})" if source and "synthetic" not in source else (source or "synthetic")
    return source or "unlabelled"


def from_series(series: MacroSeries) -> NamedInput:
    ok = np.isfinite(series.value)
    order = np.argsort(series.known_ts[ok], kind="stable")
    return NamedInput(
        series.name,
        series.known_ts[ok][order],
        series.value[ok][order],
        series.frequency,
        series.max_age_ns,
        source_label(series.source, series.synthetic),
        series.unit,
    )


def read_input(catalog: Catalog, name: str) -> NamedInput:
    """The series ``name``, else the daily closes of the instrument ``name``; NotFoundError naming both."""
    if name in catalog.series_names():
        return from_series(catalog.read_series(name))
    try:
        bars = catalog.read_bars(name, Timeframe.D1)
    except (NotFoundError, ValueError) as exc:
        raise NotFoundError(
            f"{name!r}: no series and no daily bars of that name in the catalog (series stored: "
            f"{', '.join(catalog.series_names()) or 'none'})"
        ) from exc
    inst = catalog.find_instrument(name)
    label = source_label(inst.source if inst else "", bool(inst and inst.synthetic))
    return NamedInput(name, bars.known_ns(), np.asarray(bars.close, dtype=np.float64), "daily",
                      bars_max_age_ns(Timeframe.D1), f"{name} daily bars ({label})", "price")  # fmt: skip


@dataclass(frozen=True, slots=True)
class OnGrid:
    values: np.ndarray  # the input as known at each grid time; NaN before its first value and where stale
    stale: StaleValues


def on_grid(grid_ns: np.ndarray, item: NamedInput) -> OnGrid:
    """``item`` as known at each of ``grid_ns`` (decision times), NaN where its latest value is too old."""
    idx = asof_indices(grid_ns, item.known_ns)
    stale = StaleValues.of(item.name, item.frequency, item.max_age_ns, grid_ns, item.known_ns, idx)
    vals = item.value[np.maximum(idx, 0)] if len(item.value) else np.full(len(grid_ns), np.nan)
    return OnGrid(np.where((idx < 0) | stale.stale, np.nan, vals), stale)
