"""``BacktestResult``: what one portfolio backtest produced, as pandas objects, the plan's trade log and JSON.

Everything is derived lazily from the kernel's records (``backtest.records``) and cached, so a run
pays for the tables it reads: ``equity``, ``positions`` (market value per symbol), ``trades`` (one
row per trade, with the context known when it was decided: market regime, technical confluence,
posterior, drill-down composite and its fundamental level), ``fills`` (costs split into commission,
spread/slippage and impact), ``orders``, ``risk_events`` (every refusal and resize by a pre-trade
check), ``metrics`` and ``benchmark_metrics`` (``analytics.performance``), ``trade_log()`` (the
plan's ``trade_log.json`` shape) and ``report(path)`` (``analytics.report_html``). ``to_json`` is
the report's content (with ``strategy_file``, the resolved strategy file the run used: every default
written out) plus the trade log, orders, fills and risk events; the same run writes byte-identical JSON.
Trade, strategy and instrument ids in the trade log are UUIDs derived from their names (uuid5,
``domain.ids``), so they are the same on every run. ``domain_orders()``, ``domain_fills()``,
``domain_trades()``, ``domain_positions()`` and ``order_events()`` are the same records as the domain's
nouns and events (``backtest.nouns``), each order under a deterministic ``ClientOrderId``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.analysis.inference.regime import REGIME_NAMES, Regime, RegimeSeries, classify_regime, regime_codes_at
from quantdesk.analytics.inputs import PerformanceInputs
from quantdesk.analytics.jsonable import column_values, dumps, frame_records
from quantdesk.analytics.performance import PerformanceMetrics, benchmark_metrics, performance_metrics
from quantdesk.analytics.report_html import METRIC_ROWS, format_metric, report_json, write_report
from quantdesk.backtest import nouns, records
from quantdesk.backtest.kernel_io import KernelOutput
from quantdesk.backtest.trade_log import TIME_FIELDS, TRADE_LOG_FIELDS, trade_log_documents
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_index, ns_to_iso
from quantdesk.domain.bars import Bars
from quantdesk.domain.ids import derived_id, session_id
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.order_events import OrderEvent
from quantdesk.domain.orders import Fill, Order, Position, Trade
from quantdesk.risk.hedge import HedgeResult
from quantdesk.strategy.compile import SignalArrays
from quantdesk.strategy.models import Strategy

RESULT_SCHEMA_VERSION = "3"  # 3: the resolved strategy file ("strategy_file")
# the trade log's context: what was known when each trade was decided
_CONTEXT_KEYS = ("fundamental_score", "technical_confluence", "market_regime", "posterior", "composite_score")
# the trade log's flat columns (backtest.trade_log) that are a ``trades`` column (by its name there)
_TRADE_LOG_SOURCES = {name: {"entry_ns": "entry_time", "decided_ns": "decided_time", "exit_ns": "exit_time"}.get(
    name, name) for name, _ in TRADE_LOG_FIELDS if name not in ("trade_id", "strategy_instance_id",
                                                               "instrument_id", "symbol")}  # fmt: skip
_REGIME_LOOKUP = np.array([REGIME_NAMES[int(r)] for r in Regime], dtype=object)  # a code's name, by code


def _rounded(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[at]`` rounded to 6 decimals as Python floats, None where not finite (an object array)."""
    picked = np.round(np.asarray(values, dtype=np.float64)[at], 6)
    out = picked.astype(object)
    out[~np.isfinite(picked)] = None
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentRun:
    """One instrument of a run: its bars, where they sit on the run's rows, its master data and signals."""

    symbol: str
    bars: Bars
    rows: np.ndarray
    instrument: Instrument | None
    signals: SignalArrays


@dataclass(frozen=True, slots=True, kw_only=True)
class Hedge:
    """The beta-neutral benchmark hedge laid over a run: its symbol, what it did, the benchmark's closes per row."""

    symbol: str
    result: HedgeResult
    close: np.ndarray
    bar_ns: np.ndarray  # the benchmark bar's stored time on each row (0 where it has none)


@dataclass(frozen=True, kw_only=True, eq=False)
class BacktestResult:
    strategy: Strategy
    known_ns: np.ndarray  # the run's rows: each a known time (a close)
    runs: tuple[InstrumentRun, ...]
    output: KernelOutput
    params: np.ndarray
    initial_cash: float
    benchmark_name: str
    benchmark: pd.Series  # the benchmark's values at their known times
    sectors: dict[str, str]
    notes: tuple[str, ...] = ()
    hedge: Hedge | None = None

    # ---- what the run was ---------------------------------------------------------------------

    @property
    def strategy_name(self) -> str:
        return self.strategy.strategy_meta.name

    @property
    def symbols(self) -> list[str]:
        return [r.symbol for r in self.runs]

    @property
    def timeframe(self) -> str:
        return self.runs[0].bars.timeframe.value

    @property
    def synthetic(self) -> bool:
        return any(r.instrument is not None and r.instrument.synthetic for r in self.runs)

    @property
    def start(self) -> pd.Timestamp:
        """The first bar's stored time: the run's capital is there before any bar is known."""
        return pd.Timestamp(min(int(r.bars.ts[0]) for r in self.runs), tz="UTC")

    @cached_property
    def times(self) -> records.GridTimes:
        return records.GridTimes(self.known_ns, tuple(r.rows for r in self.runs), tuple(r.bars for r in self.runs))

    @cached_property
    def index(self) -> pd.DatetimeIndex:
        return ns_to_index(self.known_ns)

    # ---- the kernel's records as pandas -------------------------------------------------------

    @cached_property
    def equity(self) -> pd.Series:
        """Account equity at each row's close (cash plus every position at its latest close, the hedge's included)."""
        return pd.Series(self.output.equity, index=self.index, name="equity")

    @cached_property
    def unhedged_equity(self) -> pd.Series:
        """The equity less the beta hedge's PnL (equal to ``equity`` when there is none). The hedge's PnL reached the
        run's sizing, margin and daily loss limit, so this is not a run without the hedge, only its account less it."""
        values = self.output.equity if self.hedge is None else self.output.equity - self.hedge.result.pnl
        return pd.Series(values, index=self.index, name="unhedged_equity")

    @cached_property
    def _positions(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        qty, value = records.positions_frame(self.output, self.times, self.index)
        if self.hedge is not None:
            units = self.hedge.result.units
            marks = pd.Series(self.hedge.close).ffill().to_numpy()
            qty[self.hedge.symbol + " (hedge)"] = units
            value[self.hedge.symbol + " (hedge)"] = np.where(units != 0.0, units * marks, 0.0)
        return qty, value

    @property
    def quantities(self) -> pd.DataFrame:
        """Signed units held per symbol at each row's close."""
        return self._positions[0]

    @property
    def positions(self) -> pd.DataFrame:
        """Signed market value per symbol at each row's close."""
        return self._positions[1]

    @cached_property
    def stop_levels(self) -> dict[str, pd.Series]:
        return records.stop_levels(self.output, self.times, self.index)

    @cached_property
    def _trades_core(self) -> pd.DataFrame:
        return records.trades_frame(self.output, self.times)

    @cached_property
    def trades(self) -> pd.DataFrame:
        """One row per trade, with what was known at its decision (``context``) as columns."""
        frame = self._trades_core.copy()
        t = self.output.trades
        inst = t["inst"].astype(np.int64)
        decided = self.times.bar_index(inst, t["decided_row"].astype(np.int64))
        columns = {key: np.full(len(t), None, dtype=object) for key in _CONTEXT_KEYS}
        for j in np.unique(inst):
            sel = inst == j
            for key, values in self._context(int(j), decided[sel]).items():
                columns[key][sel] = values
        for key in _CONTEXT_KEYS:
            frame[key] = columns[key]
        return frame

    @cached_property
    def fills(self) -> pd.DataFrame:
        """Every fill with its costs; the beta hedge's fills (reason ``beta_hedge``) in time order among them."""
        frame = records.fills_frame(self.output, self.times)
        if self.hedge is None or len(self.hedge.result.fills) == 0:
            return frame
        hedge = records.hedge_fills_frame(self.hedge.result.fills, self.hedge.symbol + " (hedge)", self.hedge.bar_ns)
        both = pd.concat([frame, hedge], ignore_index=True)
        return both.sort_values("time", kind="stable").reset_index(drop=True)

    @cached_property
    def orders(self) -> pd.DataFrame:
        return records.orders_frame(self.output, self.times)

    @cached_property
    def risk_events(self) -> pd.DataFrame:
        """Every refusal (``denied``) and resize (``resized``) by a pre-trade check, with its values."""
        return records.events_frame(self.output, self.times)

    @cached_property
    def _regimes(self) -> dict[int, RegimeSeries]:
        return {}

    def _regime(self, j: int) -> RegimeSeries:
        if j not in self._regimes:
            self._regimes[j] = classify_regime(self.runs[j].bars)
        return self._regimes[j]

    def regime(self, symbol: str) -> RegimeSeries:
        """The market regime of each of ``symbol``'s bars (``analysis.inference.classify_regime``)."""
        for j, r in enumerate(self.runs):
            if r.symbol == symbol:
                return self._regime(j)
        raise ConfigError(f"symbol: {symbol} is not in this run ({', '.join(self.symbols)})")

    def _context(self, j: int, bars: np.ndarray) -> dict[str, np.ndarray]:
        """What was known at the close of instrument ``j``'s ``bars`` (those that decided entries)."""
        s = self.runs[j].signals
        level3 = s.composite.levels.get(3) if s.composite is not None else None
        nothing = np.full(len(bars), None, dtype=object)
        cached = self._regimes.get(j)
        codes = cached.codes[bars] if cached is not None else regime_codes_at(self.runs[j].bars, bars)
        return {
            "market_regime": _REGIME_LOOKUP[codes.astype(np.intp)],
            "technical_confluence": _rounded(s.adjusted_confluence, bars),
            "posterior": _rounded(s.p_up, bars) if s.p_up is not None else nothing,
            "composite_score": _rounded(s.composite.score, bars) if s.composite is not None else nothing,
            "fundamental_score": _rounded(level3, bars) if level3 is not None else nothing,
        }

    # ---- the kernel's records as domain objects (backtest.nouns) ----------------------------

    @cached_property
    def session_id(self) -> str:
        """This run's session (``domain.ids.session_id``): the strategy, its symbols, timeframe and first bar (the
        first row's known time, as a paper replay of the same bars derives it, so both give a decision one id)."""
        return session_id(self.strategy_instance_id, self.symbols, self.timeframe, int(self.known_ns[0]))

    @cached_property
    def _nouns(self) -> nouns.DomainRecords:
        signals = tuple(np.asarray(r.signals.long_entry) | np.asarray(r.signals.short_entry) for r in self.runs)
        return nouns.domain_records(self.output, self.times, session=self.session_id,
                                    strategy_instance_id=self.strategy_instance_id, entry_signals=signals)  # fmt: skip

    def domain_orders(self) -> tuple[Order, ...]:
        """Every order that left (the kernel's, and the stops and targets that filled), by decision time."""
        return self._nouns.orders

    def domain_fills(self) -> tuple[Fill, ...]:
        return self._nouns.fills

    def domain_trades(self) -> tuple[Trade, ...]:
        return self._nouns.trades

    def domain_positions(self) -> tuple[Position, ...]:
        """The positions held at the end of the data, marked at the last close."""
        return self._nouns.positions

    def order_events(self) -> tuple[OrderEvent, ...]:
        """Every order event in time order: submitted, accepted, denied, filled, cancelled, expired."""
        return self._nouns.events

    # ---- analytics ----------------------------------------------------------------------------

    def performance_inputs(self, *, with_prices: bool = False) -> PerformanceInputs:
        """The run as ``analytics`` reads it; ``with_prices`` adds the bars and stops for the price charts."""
        base = self._inputs
        if not with_prices:
            return base
        return replace(base, prices=records.price_frames([r.bars for r in self.runs]), stop_levels=self.stop_levels)

    @cached_property
    def _inputs(self) -> PerformanceInputs:
        return PerformanceInputs(
            equity=self.equity,
            initial_cash=self.initial_cash,
            start=self.start,
            positions=self.positions,
            benchmark=self.benchmark,
            sectors=self.sectors,
            trades=self._trades_core,
            fills=self.fills,
            denials=self.risk_events,
            synthetic=self.synthetic,
            strategy_name=self.strategy_name,
            timeframe=self.timeframe,
            strategy_file=self.strategy_file,
        )

    @cached_property
    def metrics(self) -> PerformanceMetrics:
        return performance_metrics(self._inputs)

    @cached_property
    def benchmark_metrics(self) -> PerformanceMetrics | None:
        return benchmark_metrics(self._inputs)

    def summary_rows(self) -> list[tuple[str, str, str]]:
        """(label, strategy, benchmark) per metric, formatted for a table."""
        mine = self.metrics.as_dict()
        other = self.benchmark_metrics.as_dict() if self.benchmark_metrics is not None else {}
        return [
            (label, format_metric(kind, mine[key]), format_metric(kind, other.get(key)))
            for key, label, kind in METRIC_ROWS
        ]

    # ---- the plan's trade log, JSON and the report --------------------------------------------

    def _instrument_id(self, j: int) -> str:
        inst = self.runs[j].instrument
        if inst is not None and inst.instrument_id:
            return inst.instrument_id
        return derived_id(f"instrument/{self.runs[j].symbol}")

    @cached_property
    def strategy_file(self) -> dict[str, Any]:
        """The resolved strategy file this run used (``Strategy.resolved_document``): every default written out."""
        return self.strategy.resolved_document()

    @cached_property
    def strategy_instance_id(self) -> str:
        return derived_id("strategy/" + self.strategy.identity_json())

    def trade_log_columns(self) -> dict[str, list[Any]]:
        """The trade log as flat columns (``backtest.trade_log.TRADE_LOG_FIELDS``; times as int64 UTC ns, None
        where a value is missing), one list per field, the trades in ``trades`` order."""
        frame = self.trades
        n = len(frame)
        columns: dict[str, list[Any]] = {}
        symbols = column_values(frame["symbol"])
        instrument_ids = {r.symbol: self._instrument_id(j) for j, r in enumerate(self.runs)}
        prefix = f"{self.strategy_instance_id}/"
        columns["trade_id"] = [derived_id(f"{prefix}{s}/{k}") for s, k in zip(symbols, frame["trade_id"].tolist(),
                                                                              strict=True)]  # fmt: skip
        columns["strategy_instance_id"] = [self.strategy_instance_id] * n
        columns["instrument_id"] = [instrument_ids[s] for s in symbols]
        columns["symbol"] = symbols
        for name, source in _TRADE_LOG_SOURCES.items():
            column = frame[source]
            if name in TIME_FIELDS:
                ns = pd.DatetimeIndex(column).as_unit("ns")
                values: list[Any] = ns.asi8.tolist()
                for i in np.flatnonzero(ns.isna()):
                    values[i] = None
                columns[name] = values
            else:
                columns[name] = column_values(column)
        return columns

    def trade_log(self) -> list[dict[str, Any]]:
        """Every trade in the plan's ``trade_log.json`` shape, plus its symbol, status, PnL, costs and bars held."""
        return trade_log_documents(self.trade_log_columns())

    def to_dict(self) -> dict[str, Any]:
        content = report_json(self._inputs, self.metrics)
        return {
            "schema_version": RESULT_SCHEMA_VERSION,
            "strategy": self.strategy_name,
            "symbols": self.symbols,
            "synthetic": self.synthetic,
            "timeframe": self.timeframe,
            "start": ns_to_iso(int(self.start.value)),
            "end": ns_to_iso(int(self.known_ns[-1])),
            "bars": len(self.known_ns),
            "initial_capital": self.initial_cash,
            "benchmark_name": self.benchmark_name,
            **content,
            "trade_log": self.trade_log(),
            "orders": frame_records(self.orders),
            "fills": frame_records(self.fills),
            "risk_events": frame_records(self.risk_events),
            "notes": list(self.notes),
        }

    def to_json(self, path: Path | str | None = None) -> str:
        text = dumps(self.to_dict())
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def report(self, path: Path | str) -> Path:
        """Write the self-contained HTML report to ``path`` and return it."""
        return write_report(self.performance_inputs(with_prices=True), Path(path), metrics=self.metrics)
