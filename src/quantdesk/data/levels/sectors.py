"""Level 2: sector rotation, ranked as known at a date: each sector's momentum and its relative strength
against a benchmark.

A company's momentum at a time is the log return of its daily closes over the last ``window_sessions`` bars
known then (63 by default, a quarter), and is missing where its latest bar is older than the daily maximum age.
A sector's momentum is the mean over its companies (the catalog's instruments with a ``sector``); the benchmark's
is that of the instrument ``benchmark`` or, by default (``benchmark=None``), the equal-weighted mean over every
company with a sector (the universe). Relative strength = sector momentum - benchmark momentum; rank 1 is the
strongest. ``sector_rotation_series`` gives each sector's relative strength on a daily grid for the store
(``SECTOR_RS_<SECTOR>``, kind ``derived``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from quantdesk.core.errors import NotFoundError
from quantdesk.core.timestamps import NS_PER_DAY, ns_to_iso
from quantdesk.data.align import bars_max_age_ns
from quantdesk.data.catalog import Catalog
from quantdesk.data.levels.inputs import source_label
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

WINDOW_SESSIONS = 63


@dataclass(frozen=True, slots=True)
class SectorRow:
    sector: str
    rank: int
    momentum: float  # mean log return over the window, as known
    relative_strength: float  # momentum - the benchmark's
    companies: int  # with a momentum known at the time

    def to_dict(self) -> dict[str, object]:
        return {"sector": self.sector, "rank": self.rank, "momentum": round(self.momentum, 6),
                "relative_strength": round(self.relative_strength, 6), "companies": self.companies}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SectorRotation:
    at_ns: int
    benchmark: str  # a symbol, or "universe"
    benchmark_momentum: float
    window_sessions: int
    rows: list[SectorRow]
    source: str

    def to_dict(self) -> dict[str, object]:
        return {"at": ns_to_iso(self.at_ns), "benchmark": self.benchmark, "window_sessions": self.window_sessions,
                "benchmark_momentum": None if np.isnan(self.benchmark_momentum) else round(self.benchmark_momentum, 6),
                "source": self.source, "sectors": [r.to_dict() for r in self.rows]}  # fmt: skip


def _momentum_on(catalog: Catalog, symbol: str, grid_ns: np.ndarray, window: int) -> np.ndarray:
    bars = catalog.read_bars(symbol, Timeframe.D1)
    close, known = np.asarray(bars.close, dtype=np.float64), bars.known_ns()
    mom = np.full(len(close), np.nan)
    if len(close) > window:
        mom[window:] = np.log(close[window:] / close[:-window])
    idx = np.searchsorted(known, grid_ns, side="right") - 1
    out = np.where(idx >= 0, mom[np.maximum(idx, 0)], np.nan)
    too_old = (idx >= 0) & (grid_ns - known[np.maximum(idx, 0)] > bars_max_age_ns(Timeframe.D1))
    return np.where(too_old, np.nan, out)


def _members(catalog: Catalog) -> tuple[dict[str, list[str]], str]:
    sectors: dict[str, list[str]] = {}
    labels = set()
    for inst in catalog.instruments():
        if inst.sector:
            sectors.setdefault(inst.sector, []).append(inst.symbol)
            labels.add(source_label(inst.source, inst.synthetic))
    if not sectors:
        raise NotFoundError("no instrument in the catalog has a sector; `quantdesk data synthetic` writes a market "
                            "with eleven sectors")  # fmt: skip
    return sectors, "daily bars of the catalog's companies (" + ", ".join(sorted(labels)) + ")"


def _sector_momenta(catalog: Catalog, grid_ns: np.ndarray, window: int, benchmark: str | None
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, str]:  # fmt: skip
    members, source = _members(catalog)
    total, count = np.zeros(len(grid_ns)), np.zeros(len(grid_ns))
    mean: dict[str, np.ndarray] = {}
    n: dict[str, np.ndarray] = {}
    for sector, symbols in members.items():
        s_sum, s_n = np.zeros(len(grid_ns)), np.zeros(len(grid_ns))
        for symbol in symbols:
            try:
                mom = _momentum_on(catalog, symbol, grid_ns, window)
            except NotFoundError:
                continue
            ok = np.isfinite(mom)
            s_sum[ok] += mom[ok]
            s_n[ok] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[sector] = np.where(s_n > 0, s_sum / s_n, np.nan)
        n[sector] = s_n
        total += s_sum
        count += s_n
    if benchmark is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            bench = np.where(count > 0, total / count, np.nan)
    else:
        bench = _momentum_on(catalog, benchmark, grid_ns, window)
        inst = catalog.find_instrument(benchmark)
        source += (
            f"; benchmark {benchmark} ({source_label(inst.source if inst else '', bool(inst and inst.synthetic))})"
        )
    return mean, n, bench, source


def sector_rotation(catalog: Catalog, at_ns: int, *, window_sessions: int = WINDOW_SESSIONS,
                    benchmark: str | None = None) -> SectorRotation:  # fmt: skip
    """The sectors ranked by relative strength as known at ``at_ns`` (sectors with no known momentum last)."""
    grid = np.array([at_ns], dtype=np.int64)
    mean, n, bench, source = _sector_momenta(catalog, grid, window_sessions, benchmark)
    rows = [(s, float(m[0]), float(m[0] - bench[0]), int(n[s][0])) for s, m in mean.items()]
    rows.sort(key=lambda r: (np.isnan(r[2]), -r[2] if not np.isnan(r[2]) else 0.0, r[0]))
    ranked = [SectorRow(s, k + 1, m, rs, c) for k, (s, m, rs, c) in enumerate(rows)]
    return SectorRotation(at_ns, benchmark or "universe", float(bench[0]), window_sessions, ranked, source)


def sector_series_name(sector: str) -> str:
    return "SECTOR_RS_" + re.sub(r"[^A-Z0-9]+", "_", sector.upper()).strip("_")


def sector_rotation_series(catalog: Catalog, start_ns: int, end_ns: int, *, window_sessions: int = WINDOW_SESSIONS,
                           benchmark: str | None = None) -> list[MacroSeries]:  # fmt: skip
    """Each sector's relative strength at the end of every weekday from ``start_ns`` to ``end_ns``."""
    from quantdesk.data.levels.cross_asset import grid_times

    grid = grid_times(start_ns, end_ns, "daily")
    mean, _, bench, source = _sector_momenta(catalog, grid, window_sessions, benchmark)
    out = []
    for sector, values in sorted(mean.items()):
        rs = values - bench
        ok = np.isfinite(rs)
        out.append(MacroSeries(
            name=sector_series_name(sector), ts=grid[ok] // NS_PER_DAY * NS_PER_DAY, known_ts=grid[ok], value=rs[ok],
            description=f"{sector}: {window_sessions}-session momentum minus the {benchmark or 'universe'}'s",
            unit="log return", frequency="daily", source=source, synthetic="synthetic" in source, kind="derived",
        ))  # fmt: skip
    return out
