"""The drill-down composite score: the weighted mean of the level scores a strategy's ``drill_down_sequence`` names.

Level scores, each in [0, 1] per base bar and known at the bar's close:
1. ``macro_trend``: ``analysis.inference.macro.macro_score`` (the benchmark's trend, the VIX
   percentile, the BAA-AAA spread).
2. ``sector_rotation`` / ``sector_strength``: the instrument's sector against the universe: the mean
   63-session log return of the sector's other companies minus that of every company with a sector
   in the catalog, mapped by the logistic 1 / (1 + exp(-x / 0.05)) (0.5 = in line, ~0.73 = 5 points
   ahead).
3. ``fundamental_quality``: the ``fundamental_score`` composite of the company's statements as known
   (``analysis.fundamental.gate``'s ``fundamental_quality`` column).
4. ``technical_setup``: the technical confluence after its adjustments.
5. ``alternative_data``: no source yet; always missing.
A level whose data is missing, or not yet known at a bar (NaN), is left out at that bar and the
others' weights renormalised; ``coverage`` is the share of the weight present, and ``missing`` says
why a level is absent. A macro input past its maximum age (``domain.series.MAX_AGE_DAYS``) is missing at
the bars where it is stale, not carried forward; ``macro`` keeps the level-1 result (``stale_notes(i)`` says
which series was stale and since when at a bar) and ``notes`` say it once for the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from quantdesk.analysis.fundamental.gate import fundamental_gate_table
from quantdesk.core.errors import NotFoundError
from quantdesk.data.align import align_values
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.models import Strategy

if TYPE_CHECKING:
    from quantdesk.analysis.inference.macro import MacroScore
    from quantdesk.data.catalog import Catalog
    from quantdesk.strategy.compile import EvidenceSources

SECTOR_WINDOW_SESSIONS = 63
SECTOR_SCALE = 0.05


@dataclass(frozen=True, slots=True)
class CompositeScore:
    score: np.ndarray  # [0, 1], NaN where no level is known
    coverage: np.ndarray  # share of the drill-down weight present at each bar
    levels: dict[int, np.ndarray]  # level -> its score per bar
    weights: dict[int, float]
    missing: dict[int, str]  # level -> why it is absent
    macro: MacroScore | None = None  # the level-1 result, with where its inputs were stale
    notes: tuple[str, ...] = field(default=())  # e.g. a macro input that went stale, once for the run


def _macro(bars: Bars, sources: EvidenceSources) -> tuple[MacroScore | None, str]:
    from quantdesk.analysis.inference.macro import load_macro_inputs, macro_score

    if sources.catalog is None:
        return None, "no catalog to read the benchmark, VIX and credit spreads from"
    inputs = load_macro_inputs(sources.catalog, benchmark_symbol=sources.benchmark or "SPX")
    if inputs.benchmark is None and inputs.vix is None and inputs.baa is None:
        return None, (
            f"needs the benchmark {sources.benchmark} and the VIX/BAA/AAA series: `quantdesk data sample` loads them"
        )
    return macro_score(bars, benchmark=inputs.benchmark, vix=inputs.vix, baa=inputs.baa, aaa=inputs.aaa), ""


def _daily_log_momentum(catalog_bars: Bars) -> tuple[np.ndarray, np.ndarray]:
    close = np.asarray(catalog_bars.close, dtype=np.float64)
    out = np.full(len(close), np.nan)
    if len(close) > SECTOR_WINDOW_SESSIONS:
        out[SECTOR_WINDOW_SESSIONS:] = np.log(close[SECTOR_WINDOW_SESSIONS:] / close[:-SECTOR_WINDOW_SESSIONS])
    return catalog_bars.known_ns(), out


class SectorMomentumCache:
    """The catalog's sectors and each company's daily momentum (known times, values), read once per run.

    The sector level of every instrument of a portfolio run reads the same companies; without this each
    instrument's compile would read every company's daily bars again (n x n reads on an n-company
    universe). Kept per catalog: a different catalog starts afresh.
    """

    def __init__(self) -> None:
        self._catalog: Catalog | None = None
        self._sectors: dict[str, str] = {}
        self._momentum: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}

    def sectors(self, catalog: Catalog) -> dict[str, str]:
        """Symbol -> sector for every catalog instrument with one."""
        if catalog is not self._catalog:
            self._catalog = catalog
            self._sectors = {i.symbol: i.sector for i in catalog.instruments() if i.sector}
            self._momentum = {}
        return self._sectors

    def momentum(self, catalog: Catalog, symbol: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(known_ns, 63-session log momentum) of the symbol's daily bars; None when it has none."""
        self.sectors(catalog)
        if symbol not in self._momentum:
            try:
                self._momentum[symbol] = _daily_log_momentum(catalog.read_bars(symbol, Timeframe.D1))
            except NotFoundError:
                self._momentum[symbol] = None
        return self._momentum[symbol]


def _sector(bars: Bars, sources: EvidenceSources) -> tuple[np.ndarray | None, str]:
    catalog = sources.catalog
    if catalog is None:
        return None, "no catalog to read the sector's companies from"
    sectors = sources.sector_cache.sectors(catalog)
    own_sector = sectors.get(bars.symbol)
    if own_sector is None:
        return None, f"{bars.symbol} has no sector in the instrument master"
    at_ns = bars.known_ns()
    sector_sum, sector_n = np.zeros(len(bars)), np.zeros(len(bars))
    all_sum, all_n = np.zeros(len(bars)), np.zeros(len(bars))
    for symbol, sector in sectors.items():
        series = sources.sector_cache.momentum(catalog, symbol)
        if series is None:
            continue
        values = align_values(at_ns, *series)
        ok = np.isfinite(values)
        all_sum[ok] += values[ok]
        all_n[ok] += 1
        if sector == own_sector and symbol != bars.symbol:
            sector_sum[ok] += values[ok]
            sector_n[ok] += 1
    if not sector_n.any():
        return None, f"no other company of the sector {own_sector!r} has daily bars in the catalog"
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = sector_sum / sector_n - all_sum / all_n
    return 1.0 / (1.0 + np.exp(-relative / SECTOR_SCALE)), ""


def _fundamental(bars: Bars, sources: EvidenceSources) -> tuple[np.ndarray | None, str]:
    store, catalog = sources.fundamental_store(), sources.catalog
    if store is None or catalog is None or bars.symbol not in store.symbols():
        return None, f"no fundamentals for {bars.symbol} in the store"
    table = fundamental_gate_table(store, catalog, bars, columns=["fundamental_quality"], cache=sources.gate_cache)
    return table["fundamental_quality"], ""


def composite_score(
    strategy: Strategy,
    bars: Bars,
    technical: np.ndarray,
    sources: EvidenceSources,
    memo: Callable[[Any, Callable[[], Any]], Any] | None = None,
) -> CompositeScore:
    """The drill-down composite on ``bars``; ``memo(key, make)`` (a ``SignalWorkspace``'s) keeps the macro, sector
    and fundamental levels, which depend on the bars and the sources alone, across compiles."""
    n = len(bars)
    keep = memo if memo is not None else (lambda _key, make: make())
    levels: dict[int, np.ndarray] = {}
    weights: dict[int, float] = {}
    missing: dict[int, str] = {}
    macro: MacroScore | None = None
    notes: list[str] = []
    for item in strategy.harvesting_rules.drill_down_sequence:
        weights[item.level] = item.weight
        values: np.ndarray | None
        if item.level == 1:
            macro, why = keep(("level", 1), lambda: _macro(bars, sources))
            values = None if macro is None else macro.score
            if macro is not None:
                notes.extend(
                    f"drill_down_sequence level 1 (macro) on {bars.symbol}: {component} missing where stale: {line}"
                    for component, line in macro.stale_summary().items()
                )
        elif item.level == 2:
            values, why = keep(("level", 2), lambda: _sector(bars, sources))
        elif item.level == 3:
            values, why = keep(("level", 3), lambda: _fundamental(bars, sources))
        elif item.level == 4:
            values, why = technical, ""
        else:
            values, why = None, "alternative data (news and social sentiment) has no source yet"
        if values is None:
            missing[item.level] = why
        else:
            levels[item.level] = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    total_weight = sum(weights.values())
    weighted = np.zeros(n)
    present = np.zeros(n)
    for level, values in levels.items():
        ok = np.isfinite(values)
        weighted[ok] += weights[level] * values[ok]
        present[ok] += weights[level]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(present > 0, weighted / present, np.nan)
    coverage = present / total_weight if total_weight > 0 else np.zeros(n)
    return CompositeScore(score, coverage, levels, weights, missing, macro, tuple(notes))
