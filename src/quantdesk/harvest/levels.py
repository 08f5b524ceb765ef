"""The level harvesters: one small class per source of one drill-down level, and the registry that lists them.

A harvester has a ``name`` (``level4.bars``), its ``level`` (1 macro ... 5 alternative) and ``run(context)``, which
collects its data for the config's instrument over the lookback ending at ``context.as_of`` and returns a
``JobResult`` saying what it wrote (each dataset with its rows and source label). Harvesters write through the
stores (the Parquet catalog, the fundamentals store), whose writes are atomic and merge with what is stored, so a
second run over the same data changes nothing. The ones on main: level 1 ``level1.macro_sample`` (the bundled
real macro series and the S&P 500 / NASDAQ benchmarks, each written when the catalog lacks it), level 3
``level3.statements`` (statements, earnings, insider trades and ratings; offline a seeded synthetic company
standing in for the symbol, labelled synthetic, and never over a symbol whose stored figures came from a real
source) and level 4 ``level4.bars`` (bars at each analysis timeframe: from OpenD's history when the context has
an OpenD address, else the seeded synthetic market under the symbol's name, labelled synthetic, never over real
bars), and every source of ``data.levels`` (levels 1, 2, 3 and 5) through ``LevelSourceHarvester``. A new
source plugs in as one line, ``REGISTRY.add(EconomicCalendarHarvester())``: any object with
``name``, ``level`` and ``run`` (the ``LevelHarvester`` protocol), optionally an ``events`` attribute naming the
event calendar that triggers it (``"economic"``, ``"earnings"``) for ``update_frequency: event_driven``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.instrument import Instrument, TradingHours
from quantdesk.domain.timeframe import Timeframe
from quantdesk.harvest.config import LEVEL_KINDS, HarvestConfig

if TYPE_CHECKING:  # the store's SQLAlchemy is imported on first use
    from quantdesk.data.fundamentals.store import FundamentalStore

__all__ = [
    "REGISTRY",
    "HarvestContext",
    "HarvesterRegistry",
    "JobResult",
    "LevelHarvester",
    "Written",
]

_US_REGULAR = "09:30-16:00"


@dataclass(frozen=True, slots=True)
class Written:
    """One dataset a harvester wrote (or found already there): what, how many rows, and where it came from."""

    dataset: str  # "bars AAPL 5m", "series VIX", "statements AAPL"
    rows_added: int
    rows_total: int
    source: str
    synthetic: bool
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "rows_added": self.rows_added, "rows_total": self.rows_total,
                "source": self.source, "synthetic": self.synthetic, "changed": self.changed}  # fmt: skip


@dataclass(frozen=True, slots=True)
class JobResult:
    """What one run of a harvester did: each dataset written, and notes a person should read."""

    harvester: str
    level: int
    period: str
    written: tuple[Written, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def rows_added(self) -> int:
        return sum(w.rows_added for w in self.written)

    def to_dict(self) -> dict[str, Any]:
        return {"harvester": self.harvester, "level": self.level, "period": self.period,
                "written": [w.to_dict() for w in self.written], "notes": list(self.notes)}  # fmt: skip


@dataclass
class HarvestContext:
    """What a harvester runs against: the config, the stores, the as-of date and an optional OpenD address."""

    config: HarvestConfig
    catalog: Catalog
    as_of: dt.date
    opend: tuple[str, int] | None = None
    _fundamentals: FundamentalStore | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def fundamentals(self) -> FundamentalStore:
        if self._fundamentals is None:
            from quantdesk.data.fundamentals.store import FundamentalStore

            self._fundamentals = FundamentalStore()
        return self._fundamentals

    @property
    def period(self) -> str:
        """The as-of date, and the OpenD address when the data comes from OpenD (a different source, another key)."""
        return self.as_of.isoformat() + (f"/opend:{self.opend[0]}:{self.opend[1]}" if self.opend else "")

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last weekday of the lookback that ends at ``as_of``."""
        end = pd.Timestamp(self.as_of)
        while end.day_of_week >= 5:
            end -= pd.Timedelta(days=1)
        start = self.config.timeframes.lookback.start_before(end)
        while start.day_of_week >= 5:
            start += pd.Timedelta(days=1)
        return start, end


@runtime_checkable
class LevelHarvester(Protocol):
    name: str
    level: int

    def run(self, context: HarvestContext) -> JobResult: ...


class HarvesterRegistry:
    """The harvesters by level, in the order they were added (see the module docstring)."""

    def __init__(self) -> None:
        self._items: dict[str, LevelHarvester] = {}

    def add(self, harvester: LevelHarvester) -> LevelHarvester:
        if not isinstance(harvester, LevelHarvester):
            raise ConfigError(f"harvester {harvester!r}: expected name, level and run(context)")
        if harvester.level not in LEVEL_KINDS:
            raise ConfigError(f"harvester {harvester.name}: level is 1 ... 5, found {harvester.level!r}")
        if harvester.name in self._items:
            raise ConfigError(f"harvester {harvester.name}: a harvester of that name is already registered")
        self._items[harvester.name] = harvester
        return harvester

    def for_level(self, level: int) -> list[LevelHarvester]:
        return [h for h in self._items.values() if h.level == level]

    def get(self, name: str) -> LevelHarvester:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(f"no harvester {name!r}; registered: {', '.join(self._items)}") from None

    def __iter__(self) -> Iterator[LevelHarvester]:
        return iter(self._items.values())


# ---- the synthetic stand-in ---------------------------------------------------------------------------------------


def stand_in_seed(symbol: str) -> int:
    """The synthetic market's seed for ``symbol``: the same symbol always gets the same made-up company."""
    return zlib.crc32(symbol.encode()) % 1_000_000


def _instrument(context: HarvestContext, *, source: str, synthetic: bool, extra: dict[str, Any]) -> Instrument:
    cfg = context.config.instrument
    return Instrument.model_validate({
        "symbol": cfg.symbol, "asset_class": cfg.asset_class, "market": cfg.market, "currency": cfg.currency,
        "trading_hours": TradingHours.model_validate({"regular": _US_REGULAR}) if cfg.market.upper() == "US" else {},
        "synthetic": synthetic, "source": source, **extra,
    })  # fmt: skip


def _renamed(bars: Bars, symbol: str, instrument: Instrument) -> Bars:
    arrays = {"ts": bars.ts, **{c: getattr(bars, c) for c in BAR_COLUMNS}}
    return Bars.from_arrays(symbol, bars.timeframe, arrays, instrument.calendar)


def synthetic_stand_in(context: HarvestContext, timeframe: Timeframe) -> tuple[Bars, Any, Any, Instrument]:
    """(bars of the symbol at ``timeframe``, the market, its config, the instrument) from the seeded synthetic
    market over the context's window, renamed to the config's symbol and labelled synthetic; cached per context."""
    from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticMarket, generate_market

    symbol = context.config.instrument.symbol
    start, end = context.window()
    days = len(pd.bdate_range(start, end))
    base = Timeframe.D1 if not timeframe.is_intraday else Timeframe.M1
    key = f"{base.value}:{start.date()}:{days}"
    if key not in context._cache:
        config = SyntheticConfig(n_symbols=1, days=days, timeframe=base, seed=stand_in_seed(symbol),
                                 start=str(start.date()))  # fmt: skip
        market = generate_market(config)
        made = market.instruments[0]
        instrument = _instrument(context, source=config.source, synthetic=True, extra={
            "name": f"Synthetic stand-in for {symbol}", "sector": made.sector,
            "description": f"Not {symbol}'s real prices or statements: quantdesk's seeded synthetic market "
                           f"(seed {config.seed}) under the symbol's name, for working offline.",
        })  # fmt: skip
        bars = _renamed(market.bars[made.symbol], symbol, instrument)
        renamed = SyntheticMarket([instrument], {symbol: bars}, market.regimes, market.session_dates)
        context._cache[key] = (bars, renamed, config, instrument)
    bars, market, config, instrument = context._cache[key]
    if timeframe != bars.timeframe:
        from quantdesk.data.resample import resample

        bars = resample(bars, timeframe)
    return bars, market, config, instrument


# ---- level 1: macro -----------------------------------------------------------------------------------------------


class MacroSampleHarvester:
    """Level 1 from the bundled real sample (``arch.data``): VIX, yields, CPI, crude, Fama-French, the benchmarks."""

    name = "level1.macro_sample"
    level = 1
    events = "economic"

    def run(self, context: HarvestContext) -> JobResult:
        from quantdesk.data.sources.sample import SAMPLE_SERIES, sample_bars, sample_instruments, sample_series

        catalog = context.catalog
        written: list[Written] = []
        stored = set(catalog.series_names())
        for name in SAMPLE_SERIES:
            if name in stored:
                s = catalog.read_series(name)
                written.append(Written(f"series {name}", 0, len(s.ts), s.source, s.synthetic, False))
                continue
            series = sample_series(name)
            changed = catalog.write_series(series)
            written.append(Written(f"series {name}", len(series.ts), len(series.ts), series.source, False, changed))
        for inst in sample_instruments():
            if catalog.has_bars(inst.symbol, Timeframe.D1):
                rows = len(catalog.read_closes(inst.symbol, Timeframe.D1)[0])
                written.append(Written(f"bars {inst.symbol} 1d", 0, rows, inst.source, False, False))
                continue
            report = catalog.write_bars(sample_bars(inst.symbol), instrument=inst, source=inst.source)
            written.append(Written(f"bars {inst.symbol} 1d", report.rows_added, report.rows_total, inst.source,
                                   False, report.changed))  # fmt: skip
        notes = ("the bundled sample ends in 2018 (arch.data); live macro sources plug in as level-1 harvesters",)
        return JobResult(self.name, self.level, context.period, tuple(written), notes)


# ---- level 3: fundamentals ----------------------------------------------------------------------------------------


class StatementsHarvester:
    """Level 3: the symbol's statements, earnings, insider trades and ratings into the fundamentals store."""

    name = "level3.statements"
    level = 3
    events = "earnings"

    def run(self, context: HarvestContext) -> JobResult:
        from quantdesk.data.sources.synthetic_fundamentals import generate_fundamentals

        symbol = context.config.instrument.symbol
        store = context.fundamentals
        if symbol in store.symbols():
            sources = sorted(set(store.all_versions([symbol])["source"]))
            real = [s for s in sources if not s.startswith("synthetic")]
            if real:
                note = (f"{symbol} already has statements from {', '.join(real)}; synthetic statements are never "
                        "written over real ones")  # fmt: skip
                return JobResult(self.name, self.level, context.period, (), (note,))
            stored_total = int((store.all_versions([symbol])["symbol"] == symbol).sum())
            note = (f"{symbol}'s synthetic statements ({', '.join(sources)}) are already stored; a synthetic company "
                    "is generated once, not extended day by day")  # fmt: skip
            stored_w = Written(f"statements {symbol}", 0, stored_total, ", ".join(sources), True, False)
            return JobResult(self.name, self.level, context.period, (stored_w,), (note,))
        _, market, config, _ = synthetic_stand_in(context, Timeframe.D1)
        data = generate_fundamentals(market, config)
        earnings_before = len(store.earnings_as_of([symbol]))
        report = store.put_company_data([symbol], facts=data.facts, earnings=data.earnings, insiders=data.insiders,
                                        ratings=data.ratings, source_name=config.source)  # fmt: skip
        total = int((store.all_versions([symbol])["symbol"] == symbol).sum())
        earnings_after = len(store.earnings_as_of([symbol]))
        written = (
            Written(f"statements {symbol}", report.added, total, config.source, True, report.added > 0),
            Written(
                f"earnings {symbol}",
                earnings_after - earnings_before,
                earnings_after,
                config.source,
                True,
                earnings_after != earnings_before,
            ),
            Written(f"insider trades {symbol}", len(data.insiders), len(data.insiders), config.source, True, True),
            Written(f"rating changes {symbol}", len(data.ratings), len(data.ratings), config.source, True, True),
        )
        note = (f"offline: {symbol}'s statements are a seeded synthetic company (labelled {config.source}), not its "
                "real filings; `quantdesk fundamentals edgar` or `quantdesk moomoo fetch` give real ones")  # fmt: skip
        return JobResult(self.name, self.level, context.period, written, (note,))


# ---- level 4: bars ------------------------------------------------------------------------------------------------


class BarsHarvester:
    """Level 4: bars at each analysis timeframe over the lookback, from OpenD or the synthetic stand-in."""

    name = "level4.bars"
    level = 4

    def run(self, context: HarvestContext) -> JobResult:
        if context.opend is not None:
            return self._from_opend(context)
        symbol = context.config.instrument.symbol
        catalog = context.catalog
        stored = catalog.find_instrument(symbol)
        if stored is not None and not stored.synthetic:
            note = (f"{symbol} is in the catalog from {stored.source or 'a real source'}; synthetic bars are never "
                    "written over real ones (give --opend HOST:PORT to update it from OpenD)")  # fmt: skip
            return JobResult(self.name, self.level, context.period, (), (note,))
        written = []
        source = stored.source if stored is not None else ""
        for name in context.config.timeframes.analysis:
            tf = Timeframe.parse(name)
            if stored is not None and catalog.has_bars(symbol, tf):
                # a synthetic path is not extended day by day (a longer one is a different path): keep the stored
                rows = len(catalog.read_closes(symbol, tf)[0])
                written.append(Written(f"bars {symbol} {tf.value}", 0, rows, stored.source, True, False))
                continue
            bars, _, config, instrument = synthetic_stand_in(context, tf)
            source = config.source
            report = catalog.write_bars(bars, instrument=instrument, source=source)
            written.append(Written(f"bars {symbol} {tf.value}", report.rows_added, report.rows_total, source, True,
                                   report.changed))  # fmt: skip
        note = (f"offline: {symbol}'s bars are the seeded synthetic market (labelled {source}), not real prices; "
                "give --opend HOST:PORT for OpenD's history")  # fmt: skip
        return JobResult(self.name, self.level, context.period, tuple(written), (note,))

    def _from_opend(self, context: HarvestContext) -> JobResult:
        from quantdesk.execution.moomoo import market_data
        from quantdesk.execution.moomoo.gateway import Gateway

        assert context.opend is not None
        host, port = context.opend
        cfg = context.config.instrument
        code = f"{cfg.market.upper()}.{cfg.symbol}"
        start, end = context.window()
        source = f"moomoo OpenD {host}:{port}"
        written = []
        stand_in = context.catalog.find_instrument(cfg.symbol)
        if stand_in is not None and stand_in.synthetic:
            paths = [str(context.catalog.bars_path(cfg.symbol, d.timeframe)) for d in context.catalog.datasets()
                     if d.symbol == cfg.symbol]  # fmt: skip
            raise ConfigError(
                f"{cfg.symbol} in the catalog {context.catalog.root} is a synthetic stand-in ({stand_in.source}); "
                f"OpenD's real bars would be mixed into it: harvest into another data home (QUANTDESK_HOME) or remove "
                f"{', '.join(paths) or 'its datasets'} first"
            )
        with Gateway(host, port) as gateway:
            quote = gateway.quote()
            fetched = market_data.instruments(quote, [code])[0]
            stored = context.catalog.find_instrument(cfg.symbol)
            instrument = (fetched if stored is None else stored).model_copy(
                update={"lot_size": fetched.lot_size, "tick_size": fetched.tick_size, "synthetic": False,
                        "source": source, "trading_hours": fetched.trading_hours})  # fmt: skip
            fetched_bars = {
                tf: market_data.history_bars(quote, code, tf, start=str(start.date()), end=str(end.date()))
                for tf in (Timeframe.parse(name) for name in context.config.timeframes.analysis)
            }
        for tf, bars in fetched_bars.items():  # everything fetched before anything is written
            report = context.catalog.write_bars(bars, instrument=instrument, source=source)
            written.append(Written(f"bars {cfg.symbol} {tf.value}", report.rows_added, report.rows_total, source,
                                   False, report.changed))  # fmt: skip
        return JobResult(self.name, self.level, context.period, tuple(written))


class LevelSourceHarvester:
    """A drill-down level source (``data.levels``: the economic calendar, sector rotation, ETF flows, 13F holdings,
    alternative scores ...) as a harvester: run once over the config's instrument and lookback, what it wrote
    reported with its source label, and why it did nothing when it did. Level 1's sources fire on the economic
    calendar's releases, level 3's on the earnings calendar (for ``update_frequency: event_driven``)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.name = f"level{source.level}.{source.name}"
        self.level = int(source.level)
        events = {1: "economic", 3: "earnings"}.get(self.level)
        if events is not None:
            self.events = events

    def run(self, context: HarvestContext) -> JobResult:
        from quantdesk.data.levels.registry import LevelContext

        start, end = context.window()
        symbol = context.config.instrument.symbol
        ctx = LevelContext(catalog=context.catalog, symbol=symbol, start_ns=int(start.value),
                           end_ns=int(end.value) + 86_400 * 10**9 - 1, seed=stand_in_seed(symbol))  # fmt: skip
        run = self.source.run(ctx)
        if run.skipped:
            return JobResult(self.name, self.level, context.period, (), (f"{self.source.name}: {run.skipped}",))
        synthetic = "synthetic" in run.label.lower()
        written = []
        for names, changed in ((run.written, True), (run.unchanged, False)):
            for name in names:
                rows = _series_rows(context.catalog, name)
                written.append(Written(f"series {name}", rows if changed else 0, rows, run.label, synthetic, changed))
        return JobResult(self.name, self.level, context.period, tuple(written))


def _series_rows(catalog: Catalog, name: str) -> int:
    try:
        return len(catalog.read_series(name).value)
    except Exception:  # a level 3 source reports event kinds ("earnings 12"), not series
        return 0


def _level_sources() -> list[LevelSourceHarvester]:
    """The ``data.levels`` sources the harvester runs beside its own: every one but the bundled sample series
    (``level1.macro_sample`` writes those) and the fundamental events (``level3.statements`` writes the
    symbol's statements, earnings, insiders and ratings)."""
    from quantdesk.data.levels.registry import LEVEL_SOURCES

    own = {"sample_series", "fundamental_events"}
    return [LevelSourceHarvester(src) for level in sorted(LEVEL_SOURCES) for src in LEVEL_SOURCES[level]
            if src.name not in own]  # fmt: skip


REGISTRY = HarvesterRegistry()
REGISTRY.add(MacroSampleHarvester())
REGISTRY.add(StatementsHarvester())
REGISTRY.add(BarsHarvester())
for _harvester in _level_sources():  # levels 1, 2, 3 and 5 of data.levels: one harvester per source
    REGISTRY.add(_harvester)
