"""Level 1: the cross-asset correlation matrix (equities, bonds, commodities, currencies) as known at each date,
from series and daily bars in the catalog.

Each input is read as known at the grid's decision times (``daily``: every weekday at 23:59:59 UTC;
``monthly``: each month's last instant), refused where stale (``inputs.on_grid``), and turned into changes
between grid times (log changes of prices and levels, differences of yields and percentages). The correlation
of two inputs at a date is the Pearson correlation of their changes over the trailing ``window_obs`` grid times
ending there, on the rows where both are known (``stats.rolling_correlation``), so it uses nothing published
after the date. ``DEFAULT_ASSETS`` picks one series per class from ``quantdesk data sample`` and the synthetic
FX market; any catalog names can be given instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.data.catalog import Catalog
from quantdesk.data.levels.inputs import NamedInput, on_grid, read_input
from quantdesk.data.levels.stats import changes, rolling_correlation
from quantdesk.domain.series import MacroSeries

DEFAULT_ASSETS = {"equities": "SPX", "bonds": "BAA", "commodities": "WTI", "volatility": "VIX", "currencies": "AUDJPY"}
GRIDS = ("daily", "monthly")


def grid_times(start_ns: int, end_ns: int, grid: str) -> np.ndarray:
    """Decision times from ``start_ns`` to ``end_ns``: weekday ends (``daily``) or month ends (``monthly``), UTC."""
    if grid not in GRIDS:
        raise ConfigError(f"grid: expected one of {', '.join(GRIDS)}, found {grid!r}")
    start, end = pd.Timestamp(start_ns, tz="UTC").normalize(), pd.Timestamp(end_ns, tz="UTC")
    if grid == "daily":
        days = pd.bdate_range(start, end.normalize(), tz="UTC")
        times = days + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    else:
        months = pd.date_range(start, end.normalize() + pd.offsets.MonthEnd(0), freq="ME", tz="UTC")
        times = months + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    ns = np.asarray(pd.DatetimeIndex(times).as_unit("ns").asi8, dtype=np.int64)
    return ns[ns <= end_ns] if grid == "daily" else ns


@dataclass(frozen=True, slots=True)
class CorrelationMatrix:
    names: tuple[str, ...]
    at_ns: int  # the grid time the matrix is known at
    matrix: np.ndarray  # (k, k), NaN where a pair has too few paired changes or one input is stale
    observations: np.ndarray  # (k, k) paired changes in the window
    window_obs: int
    grid: str
    sources: dict[str, str]  # name -> source label
    stale: dict[str, str]  # name -> why it is missing at ``at_ns``

    def to_dict(self) -> dict[str, object]:
        rows = {a: {b: (None if np.isnan(v) else round(float(v), 6)) for b, v in zip(self.names, row, strict=True)}
                for a, row in zip(self.names, self.matrix, strict=True)}  # fmt: skip
        return {"at": ns_to_iso(self.at_ns), "window_obs": self.window_obs, "grid": self.grid, "matrix": rows,
                "sources": self.sources, "stale": self.stale}  # fmt: skip


def _changes_on_grid(grid: np.ndarray, inputs: list[NamedInput]) -> tuple[np.ndarray, list[str | None]]:
    out = np.full((len(inputs), len(grid)), np.nan)
    notes: list[str | None] = []
    for k, item in enumerate(inputs):
        aligned = on_grid(grid, item)
        out[k] = changes(aligned.values, log=item.is_level)
        notes.append(aligned.stale.note(len(grid) - 1) if len(grid) else None)
    return out, notes


def correlation_matrix(
    inputs: list[NamedInput], at_ns: int, *, window_obs: int = 63, grid: str = "daily", min_obs: int | None = None
) -> CorrelationMatrix:
    """The correlation of every pair of ``inputs`` over the ``window_obs`` grid times ending at or before ``at_ns``."""
    if len({i.name for i in inputs}) != len(inputs) or len(inputs) < 2:
        raise ConfigError(f"names: expected two or more distinct inputs, found {[i.name for i in inputs]}")
    need = min_obs if min_obs is not None else max(2, window_obs // 2)
    span_days = (window_obs + 2) * (1.5 if grid == "daily" else 31)
    times = grid_times(at_ns - int(span_days * 86_400e9), at_ns, grid)
    if len(times) == 0:
        raise ConfigError(f"at: no {grid} grid time at or before {ns_to_iso(at_ns)}")
    moves, notes = _changes_on_grid(times, inputs)
    k = len(inputs)
    matrix, count = np.full((k, k), np.nan), np.zeros((k, k), dtype=np.int64)
    for a in range(k):
        for b in range(k):
            x, y = moves[a][-window_obs:], moves[b][-window_obs:]
            count[a, b] = int((np.isfinite(x) & np.isfinite(y)).sum())
            matrix[a, b] = rolling_correlation(moves[a], moves[b], window_obs, need)[-1]
    return CorrelationMatrix(
        tuple(i.name for i in inputs), int(times[-1]), matrix, count, window_obs, grid,
        {i.name: i.source for i in inputs}, {i.name: n for i, n in zip(inputs, notes, strict=True) if n},
    )  # fmt: skip


def catalog_correlation_matrix(
    catalog: Catalog, names: list[str], at_ns: int, *, window_obs: int = 63, grid: str = "daily"
) -> CorrelationMatrix:
    return correlation_matrix([read_input(catalog, n) for n in names], at_ns, window_obs=window_obs, grid=grid)


def pair_series_name(a: str, b: str) -> str:
    return f"CORR_{a}_{b}".replace("^", "").upper()


def rolling_pair_correlations(
    inputs: list[NamedInput], start_ns: int, end_ns: int, *, window_obs: int = 63, grid: str = "daily"
) -> list[MacroSeries]:
    """Each pair's rolling correlation on the grid from ``start_ns`` to ``end_ns``, as series ``CORR_<A>_<B>``
    (kind ``derived``), each value known at its grid time."""
    times = grid_times(start_ns, end_ns, grid)
    moves, _ = _changes_on_grid(times, inputs)
    out = []
    for a in range(len(inputs)):
        for b in range(a + 1, len(inputs)):
            corr = rolling_correlation(moves[a], moves[b], window_obs, max(2, window_obs // 2))
            ok = np.isfinite(corr)
            ts = (times[ok] // 86_400_000_000_000) * 86_400_000_000_000
            x, y = inputs[a], inputs[b]
            out.append(MacroSeries(
                name=pair_series_name(x.name, y.name), ts=ts, known_ts=times[ok], value=corr[ok],
                description=f"rolling {window_obs}-observation correlation of {grid} changes of {x.name} and {y.name}",
                unit="correlation", frequency=grid, source=f"derived from {x.source}; {y.source}", kind="derived",
                synthetic="synthetic" in x.source or "synthetic" in y.source,
            ))  # fmt: skip
    return out
