"""The drill-down sources by level, for the harvester and the command line: ``LEVEL_SOURCES[level]`` lists the
``LevelSource``s of that level, and ``run_level(level, context)`` runs each once for an instrument and a lookback.

A source is a plain function ``run(context) -> SourceRun``: it computes or fetches what its level reads and
writes it to the catalog as series (each with its source label: ``arch.data.*`` / ``statsmodels`` for the
bundled real data, ``synthetic ...`` for seeded offline defaults, ``file import: NAME`` for files), and says
what it wrote, what was already there, or why it did nothing (``skipped``). ``offline`` says what the source
does without network or files. Level 4 (books and ticks) has its own sources elsewhere; level 3's statements,
earnings, insider trades and ratings live in the fundamentals store (``data.fundamentals``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from quantdesk.core.errors import NotFoundError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.data.catalog import Catalog
from quantdesk.data.levels.news import TextSource
from quantdesk.domain.series import MacroSeries


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelContext:
    """What one harvest of a level is for: the instrument, the lookback (inclusive, UTC ns) and the inputs."""

    catalog: Catalog
    symbol: str
    start_ns: int
    end_ns: int
    seed: int = 7  # for the synthetic offline defaults
    text_source: TextSource | None = None  # headlines for the news sentiment
    files: Mapping[str, Path] = field(default_factory=dict)  # e.g. {"etf_flows": Path("spy.csv")}
    allow_synthetic: bool = True  # write labelled synthetic defaults where no real data is stored


@dataclass(frozen=True, slots=True)
class SourceRun:
    source: str
    level: int
    written: tuple[str, ...] = ()  # series names (level 3: "earnings 12"-style event kinds with row counts)
    unchanged: tuple[str, ...] = ()
    skipped: str = ""  # why nothing was done
    label: str = ""  # where the data came from

    def describe(self) -> str:
        if self.skipped:
            return f"L{self.level} {self.source}: skipped ({self.skipped})"
        return (f"L{self.level} {self.source}: {len(self.written)} written, {len(self.unchanged)} unchanged "
                f"[{self.label}]")  # fmt: skip


@dataclass(frozen=True, slots=True)
class LevelSource:
    name: str
    level: int
    description: str
    offline: str  # what it does with no network and no files
    run: Callable[[LevelContext], SourceRun]


def _write(ctx: LevelContext, name: str, level: int, series: list[MacroSeries], label: str) -> SourceRun:
    written: list[str] = []
    unchanged: list[str] = []
    for s in series:
        (written if ctx.catalog.write_series(s) else unchanged).append(s.name)
    return SourceRun(name, level, tuple(written), tuple(unchanged), "", label)


def _stored(ctx: LevelContext, name: str) -> MacroSeries | None:
    try:
        return ctx.catalog.read_series(name)
    except NotFoundError:
        return None


# ---- level 1 ------------------------------------------------------------------------------------------------


def run_sample_series(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.sources.sample import SAMPLE_SERIES, sample_series

    series = [sample_series(n) for n in SAMPLE_SERIES]
    return _write(ctx, "sample_series", 1, series, "sample: arch.data and statsmodels.datasets.macrodata")


def run_economic_calendar(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.calendar import (
        MACRODATA_CALENDAR_SOURCE,
        calendar_series,
        macrodata_calendar,
        read_calendar_file,
    )

    path = ctx.files.get("economic_calendar")
    if path is not None:
        series = calendar_series(read_calendar_file(path), source=f"file import: {Path(path).name}")
        return _write(ctx, "economic_calendar", 1, series, f"file import: {Path(path).name}")
    series = calendar_series(macrodata_calendar(), source=MACRODATA_CALENDAR_SOURCE, synthetic_consensus=True)
    return _write(ctx, "economic_calendar", 1, series, MACRODATA_CALENDAR_SOURCE)


def run_market_gauges(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.gauges import synthetic_margin_debt, synthetic_put_call

    real = [n for n in ("PUT_CALL", "MARGIN_DEBT") if (s := _stored(ctx, n)) is not None and not s.synthetic]
    if len(real) == 2:
        return SourceRun("market_gauges", 1, (), tuple(real), "", "file import (stored)")
    if not ctx.allow_synthetic:
        return SourceRun("market_gauges", 1, skipped="no imported PUT_CALL/MARGIN_DEBT and synthetic data is off")
    start, end = ns_to_iso(ctx.start_ns)[:10], ns_to_iso(ctx.end_ns)[:10]
    made = {"PUT_CALL": synthetic_put_call(start, end, seed=ctx.seed, vix=_stored(ctx, "VIX")),
            "MARGIN_DEBT": synthetic_margin_debt(start, end, seed=ctx.seed)}  # fmt: skip
    return _write(ctx, "market_gauges", 1, [s for n, s in made.items() if n not in real],
                  f"synthetic (seed {ctx.seed}); imported kept: {', '.join(real) or 'none'}")  # fmt: skip


def run_cross_asset(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.cross_asset import DEFAULT_ASSETS, rolling_pair_correlations
    from quantdesk.data.levels.inputs import read_input

    inputs = []
    for name in DEFAULT_ASSETS.values():
        try:
            inputs.append(read_input(ctx.catalog, name))
        except NotFoundError:
            continue
    if len(inputs) < 2:
        return SourceRun("cross_asset_correlation", 1,
                         skipped=f"needs two of {', '.join(DEFAULT_ASSETS.values())} in the catalog")  # fmt: skip
    series = [s for s in rolling_pair_correlations(inputs, ctx.start_ns, ctx.end_ns) if len(s)]
    return _write(ctx, "cross_asset_correlation", 1, series, "derived: " + "; ".join(i.source for i in inputs))


def run_news_sentiment(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.news import HeadlineFile, daily_sentiment

    source = ctx.text_source
    if source is None and "news" in ctx.files:
        source = HeadlineFile(ctx.files["news"])
    if source is None:
        return SourceRun("news_sentiment", 1, skipped="no text source (a JSONL/CSV file of timestamped headlines)")
    label = f"file import: {Path(ctx.files['news']).name}" if "news" in ctx.files else type(source).__name__
    series = daily_sentiment(source.headlines(), source=label)
    return _write(ctx, "news_sentiment", 1, [series], f"{label}, scored by VADER")


# ---- level 2 ------------------------------------------------------------------------------------------------


def run_sector_rotation(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.sectors import sector_rotation_series

    try:
        series = sector_rotation_series(ctx.catalog, ctx.start_ns, ctx.end_ns)
    except NotFoundError as exc:
        return SourceRun("sector_rotation", 2, skipped=str(exc))
    return _write(ctx, "sector_rotation", 2, [s for s in series if len(s)], series[0].source if series else "")


def run_commodity_chain(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.commodity_fx import chain_commodities, commodity_beta_series
    from quantdesk.data.levels.inputs import read_input
    from quantdesk.domain.timeframe import Timeframe

    inst = ctx.catalog.find_instrument(ctx.symbol)
    if inst is None or inst.asset_class.value != "forex":
        return SourceRun("commodity_chain", 2, skipped=f"{ctx.symbol} is not an FX pair in the catalog")
    wanted = chain_commodities(ctx.symbol)
    present = [n for n in wanted if n in ctx.catalog.series_names()]
    if not present:
        return SourceRun("commodity_chain", 2, skipped=f"no commodity series for {ctx.symbol} "
                         f"({', '.join(wanted) or 'none in the chain'}) in the catalog")  # fmt: skip
    bars = ctx.catalog.read_bars(ctx.symbol, Timeframe.D1)
    series = [commodity_beta_series(bars, read_input(ctx.catalog, n)) for n in present]
    return _write(ctx, "commodity_chain", 2, series, "; ".join(s.source for s in series))


def run_etf_flows(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.etf_flows import read_etf_file, synthetic_etf_flows

    path = ctx.files.get("etf_flows")
    if path is not None:
        return _write(ctx, "etf_flows", 2, [read_etf_file(path, symbol=ctx.symbol)], f"file import: {Path(path).name}")
    inst = ctx.catalog.find_instrument(ctx.symbol)
    if inst is None or inst.asset_class.value != "etf" or not ctx.allow_synthetic:
        return SourceRun("etf_flows", 2, skipped=f"{ctx.symbol}: no shares-and-NAV file given (and not an ETF to "
                         "simulate)")  # fmt: skip
    stored = _stored(ctx, f"FLOW_{ctx.symbol}")
    if stored is not None and not stored.synthetic:
        return SourceRun("etf_flows", 2, (), (stored.name,), "", stored.source)
    start, end = ns_to_iso(ctx.start_ns)[:10], ns_to_iso(ctx.end_ns)[:10]
    return _write(ctx, "etf_flows", 2, [synthetic_etf_flows(ctx.symbol, start, end, seed=ctx.seed)],
                  f"synthetic (seed {ctx.seed})")  # fmt: skip


# ---- level 3 ------------------------------------------------------------------------------------------------


def run_fundamental_events(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.fundamentals.events_import import EVENT_IMPORTERS
    from quantdesk.data.fundamentals.store import FundamentalStore

    given = {kind: path for kind, path in ctx.files.items() if kind in EVENT_IMPORTERS}
    if not given:
        return SourceRun("fundamental_events", 3, skipped="no earnings, insider or rating file given "
                         "(the synthetic market writes them: `quantdesk data synthetic`)")  # fmt: skip
    store = FundamentalStore()
    done = [f"{kind} {EVENT_IMPORTERS[kind](path, store).rows}" for kind, path in sorted(given.items())]
    return SourceRun("fundamental_events", 3, tuple(done), (), "",
                     "file import: " + ", ".join(Path(p).name for p in given.values()))  # fmt: skip


def run_holdings(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.fundamentals.holdings import holdings_series, read_holdings

    path = ctx.files.get("holdings")
    if path is None:
        return SourceRun("institutional_holdings", 3, skipped="no 13F holdings file given")
    label = f"file import: {Path(path).name}"
    return _write(ctx, "institutional_holdings", 3, holdings_series(read_holdings(path), source=label), label)


# ---- level 5 ------------------------------------------------------------------------------------------------


def run_alternative_scores(ctx: LevelContext) -> SourceRun:
    from quantdesk.data.levels.alternative import score_alternative

    raw = [s for n in ctx.catalog.series_names() if (s := ctx.catalog.read_series(n)).kind == "alternative"
           and s.symbol in ("", ctx.symbol)]  # fmt: skip
    if not raw:
        return SourceRun("alternative_scores", 5, skipped=f"no alternative series for {ctx.symbol} or market-wide "
                         "(`quantdesk data import-series FILE --name NAME --kind alternative`)")  # fmt: skip
    return _write(ctx, "alternative_scores", 5, [score_alternative(s) for s in raw],
                  "; ".join(sorted({s.source for s in raw})))  # fmt: skip


LEVEL_SOURCES: dict[int, list[LevelSource]] = {
    1: [
        LevelSource("sample_series", 1, "VIX, WTI, Brent, core CPI, AAA/BAA, Fama-French, US quarterly macro",
                    "bundled real data (arch.data, statsmodels)", run_sample_series),
        LevelSource("economic_calendar", 1, "GDP, CPI, unemployment, rate decisions: consensus, actual, release",
                    "generated from statsmodels macrodata (consensus synthetic); a CSV calendar when given",
                    run_economic_calendar),
        LevelSource("market_gauges", 1, "put/call ratio and margin debt", "synthetic unless imported",
                    run_market_gauges),
        LevelSource("cross_asset_correlation", 1, "rolling correlations of equities, bonds, commodities, FX",
                    "derived from catalog series", run_cross_asset),
        LevelSource("news_sentiment", 1, "VADER-scored headlines, daily", "a headline file when given",
                    run_news_sentiment),
    ],
    2: [
        LevelSource("sector_rotation", 2, "sector momentum and relative strength", "derived from catalog bars",
                    run_sector_rotation),
        LevelSource("commodity_chain", 2, "an FX pair's rolling beta to its commodities", "derived from catalog",
                    run_commodity_chain),
        LevelSource("etf_flows", 2, "creations and redemptions from shares and NAV",
                    "synthetic for an ETF; a CSV when given", run_etf_flows),
    ],
    3: [
        LevelSource("fundamental_events", 3, "earnings, insider trades, analyst ratings",
                    "files when given; the synthetic market otherwise", run_fundamental_events),
        LevelSource("institutional_holdings", 3, "13F holdings: shares held per quarter", "a file when given",
                    run_holdings),
    ],
    5: [
        LevelSource("alternative_scores", 5, "score every alternative series of the instrument",
                    "stored alternative series", run_alternative_scores),
    ],
}  # fmt: skip


def run_level(level: int, ctx: LevelContext) -> list[SourceRun]:
    """Run every source of ``level`` once for ``ctx``; an unknown level is a KeyError naming the known ones."""
    if level not in LEVEL_SOURCES:
        raise KeyError(f"level {level}: expected one of {', '.join(map(str, LEVEL_SOURCES))}")
    return [source.run(ctx) for source in LEVEL_SOURCES[level]]
