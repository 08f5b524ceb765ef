"""The drill-down composite score: the weighted mean of the level scores a strategy's ``drill_down_sequence`` names.

Level scores, each in [0, 1] per base bar and known at the bar's close:
1. ``macro_trend``: ``analysis.inference.macro.macro_score`` (the benchmark's trend, the VIX
   percentile, the BAA-AAA spread).
2. ``sector_rotation`` / ``sector_strength``: the instrument's sector against the universe: the mean
   63-session log return of the sector's other companies minus that of every company with a sector
   in the catalog, mapped by the logistic 1 / (1 + exp(-x / 0.05)) (0.5 = in line, ~0.73 = 5 points
   ahead). A company whose latest daily bar is older than the daily maximum age (7 days) is left out at the bar.
3. ``fundamental_quality``: the ``fundamental_score`` composite of the company's statements as known
   (``analysis.fundamental.gate``'s ``fundamental_quality`` column).
4. ``technical_setup``: the technical confluence after its adjustments.
5. ``alternative_data``: the mean of the instrument's (and the market-wide) alternative-data scores as known
   (``data.levels.alternative``: the logistic of the z-score of each series' change, stored as ``<NAME>_SCORE``);
   missing when the catalog holds none.
A level whose data is missing, or not yet known at a bar (NaN), is left out at that bar and the
others' weights renormalised; ``coverage`` is the share of the weight present, and ``missing`` says
why a level is absent. A macro input past its maximum age (``domain.series.MAX_AGE_DAYS``) is missing at
the bars where it is stale, not carried forward; ``macro`` keeps the level-1 result (``stale_notes(i)`` says
which series was stale and since when at a bar) and ``notes`` say it once for the run; a stale level-5 score is
left out the same way (``alternative.stale_notes(i)``). ``sources`` names, per level, where its data came from
(the series' and instruments' source labels: ``arch.data.vix``, ``synthetic``, ``file import: x.csv``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from quantdesk.analysis.fundamental.gate import fundamental_gate_table
from quantdesk.core.errors import NotFoundError
from quantdesk.data.align import align_values, bars_max_age_ns
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.models import Strategy

if TYPE_CHECKING:
    from quantdesk.analysis.inference.macro import MacroScore
    from quantdesk.data.catalog import Catalog
    from quantdesk.data.levels.alternative import AlternativeLevel
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
    sources: dict[int, str] = field(default_factory=dict)  # level -> where its data came from
    alternative: AlternativeLevel | None = None  # the level-5 result, with where its scores were stale

    def stale_notes(self, i: int) -> dict[str, str]:
        """``"<level>.<component>"`` -> why an input of that level is missing (stale) at bar ``i``."""
        out = {} if self.macro is None else {f"1.{k}": why for k, why in self.macro.stale_notes(i).items()}
        if self.alternative is not None:
            out.update({f"5.{k}": note for k, note in enumerate(self.alternative.stale_notes(i))})
        return out


def _label(source: str, synthetic: bool) -> str:
    from quantdesk.data.levels.inputs import source_label

    return source_label(source, synthetic)


def _instrument_label(catalog: Catalog, symbol: str) -> str:
    inst = catalog.find_instrument(symbol)
    return f"{symbol} bars ({_label(inst.source, inst.synthetic) if inst else 'no instrument record'})"


def _level_source(level: int, bars: Bars, sources: EvidenceSources, macro: MacroScore | None,
                  alternative: AlternativeLevel | None) -> str:  # fmt: skip
    """Where level ``level``'s data came from, for explanations."""
    catalog = sources.catalog
    if level == 4:
        return "technical signals on " + (_instrument_label(catalog, bars.symbol) if catalog else f"{bars.symbol} bars")
    if catalog is None:
        return ""
    if level == 1:
        parts = []
        if macro is not None and "benchmark" not in macro.missing:
            parts.append(_instrument_label(catalog, sources.benchmark or "SPX"))
        for name in ("VIX", "BAA", "AAA"):
            if name in catalog.series_names():
                s = catalog.read_series(name)
                parts.append(f"{name} ({_label(s.source, s.synthetic)})")
        return "; ".join(parts)
    if level == 2:
        labels = sorted({_label(i.source, i.synthetic) for i in catalog.instruments() if i.sector})
        return f"daily bars of the sector's companies ({', '.join(labels)})"
    if level == 3:
        store = sources.fundamental_store()
        if store is None:
            return ""
        facts = store.facts_as_of([bars.symbol], int(bars.known_ns()[-1]) if len(bars) else None)
        labels = sorted({str(x) for x in facts["source"].unique()}) if len(facts) else []
        shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
        return f"fundamentals store ({shown or 'no statements'})"
    if level == 5 and alternative is not None:
        return "; ".join(f"{name} ({label})" for name, label in alternative.sources.items())
    return ""


def _alternative(bars: Bars, sources: EvidenceSources) -> tuple[AlternativeLevel | None, str]:
    from quantdesk.data.levels.alternative import alternative_level, alternative_scores

    if sources.catalog is None:
        return None, "no catalog to read alternative-data scores from"
    level = alternative_level(bars, alternative_scores(sources.catalog, bars.symbol))
    if level is None:
        return None, (
            f"no alternative-data series for {bars.symbol} or market-wide: "
            "`quantdesk data import-series FILE --name NAME --kind alternative [--symbol SYM]` adds one"
        )
    return level, ""


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
    max_age_ns = bars_max_age_ns(Timeframe.D1)
    sector_sum, sector_n = np.zeros(len(bars)), np.zeros(len(bars))
    all_sum, all_n = np.zeros(len(bars)), np.zeros(len(bars))
    for symbol, sector in sectors.items():
        series = sources.sector_cache.momentum(catalog, symbol)
        if series is None:
            continue
        values = align_values(at_ns, *series, max_age_ns=max_age_ns)  # a company whose bars stopped is left out
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
    alternative: AlternativeLevel | None = None
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
            alternative, why = keep(("level", 5), lambda: _alternative(bars, sources))
            values = None if alternative is None else alternative.score
            if alternative is not None:
                notes.extend(
                    f"drill_down_sequence level 5 (alternative) on {bars.symbol}: missing where stale: {line}"
                    for record in alternative.stale
                    if (line := record.summary()) is not None
                )
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
    labels: dict[int, str] = {}
    for level in levels:
        labels[level] = keep(("source", level), partial(_level_source, level, bars, sources, macro, alternative))
    return CompositeScore(score, coverage, levels, weights, missing, macro, tuple(notes), labels, alternative)
