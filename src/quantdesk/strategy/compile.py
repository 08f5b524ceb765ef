"""Compiling a strategy into per-bar arrays over a base timeframe: every decision and the evidence behind it.

``compile_signals(strategy, bars, sources)`` evaluates, on the base bars: the technical signals and
their confluence (``signals``), the confluence adjustments, the fundamental gate over the fundamental
module's point-in-time table (``gate``), the carry gate over the known short rates, the drill-down
composite (``composite``), P(up | evidence) by the model ``inference.model`` names (the Bayesian
posterior, or the walk-forward gradient-boosting classifier, ``analysis.inference``), and the regime of a
``regime_filter`` (``strategy.learned``). An entry fires on a bar when every gate passes, the (adjusted)
confluence is at or above ``confluence_threshold`` on that bar and the ``confirmation_delay`` bars before
it, and, where set, the composite and the posterior reach their floors and the bar's regime is allowed.
The direction decides what the arrays open: ``long`` (entries buy, the signal exit sells), ``short``
(entries sell short, the signal exit covers), ``both`` (stop and reverse: entries go long, the signal
exit, under the same gates and delay, goes short; each closes the other). Data a strategy's evaluation
needs and cannot find is a ``DataError`` that names it and how to get it; data only live trading uses
(``level2_depth``) is noted, not required. Every array depends only on bars up to its own (the truncation property).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from quantdesk.analysis.fundamental.gate import SnapshotCache, fundamental_gate_table
from quantdesk.analysis.inference.bayes import PosteriorSeries, expanding_posterior
from quantdesk.analysis.inference.learned_probability import LearnedProbabilitySeries, learned_probability
from quantdesk.core.errors import ConfigError, DataError, NotFoundError
from quantdesk.data.align import AlignedSeries, series_on_bars
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic_fx import fx_currencies
from quantdesk.domain.bars import Bars
from quantdesk.strategy.composite import CompositeScore, SectorMomentumCache, composite_score
from quantdesk.strategy.entry_models import InferenceSettings, SignalBlock
from quantdesk.strategy.gate import GateResult, evaluate_gate, gate_columns
from quantdesk.strategy.learned import (
    RegimeFilterResult,
    classifier_settings,
    outcome_of,
    regime_filter,
    signal_names,
)
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.signals import (
    THRESHOLD_TOLERANCE,
    SignalWorkspace,
    confluence,
    divergence_against,
    held_for,
    signal_votes,
    trend_agreement,
)

if TYPE_CHECKING:  # the store is opened by callers; importing it loads SQLAlchemy and Alembic
    from quantdesk.analysis.technical.precomputed import IndicatorCache
    from quantdesk.data.fundamentals.store import FundamentalStore

__all__ = ["EvidenceSources", "SignalArrays", "compile_signals"]

# what a bar backtest can use of the plan's required_data kinds, and what only live trading uses
LIVE_ONLY_DATA = ("level2_depth", "tick_data")


@dataclass
class EvidenceSources:
    """Where the non-technical evidence comes from; None where a user has none (the run says what is missing)."""

    catalog: Catalog | None = None
    fundamentals: FundamentalStore | None = None
    open_fundamentals: Callable[[], FundamentalStore] | None = None  # opens the store when a run first needs it
    benchmark: str | None = "SPX"
    gate_cache: SnapshotCache = field(default_factory=SnapshotCache)
    sector_cache: SectorMomentumCache = field(default_factory=SectorMomentumCache)
    indicator_cache: IndicatorCache | None = None  # precomputed indicators (read where they are of the same bars)

    def fundamental_store(self) -> FundamentalStore | None:
        """The fundamentals store: the one given, or the one ``open_fundamentals`` opens on first use."""
        if self.fundamentals is None and self.open_fundamentals is not None:
            self.fundamentals = self.open_fundamentals()
        return self.fundamentals


@dataclass(frozen=True, slots=True)
class SignalArrays:
    """Per-bar arrays on the base bars: the decisions and the evidence behind them."""

    direction: str
    long_entry: np.ndarray  # bool: go long at the next bar's open
    long_exit: np.ndarray  # bool: close a long at the next bar's open
    short_entry: np.ndarray
    short_exit: np.ndarray
    entry_confluence: np.ndarray  # technical confluence in [0, 1]
    adjusted_confluence: np.ndarray  # after the timeframe-alignment and divergence adjustments
    exit_confluence: np.ndarray  # zeros when the strategy has no signal exit
    entry_votes: tuple[np.ndarray, ...]  # one bool array per entry signal, in file order
    exit_votes: tuple[np.ndarray, ...]
    alignment: np.ndarray | None = None  # +1 all timeframes up, -1 all down, 0 mixed
    divergence: np.ndarray | None = None  # True within the window after a divergence against the trade
    gate: GateResult | None = None
    carry_differential: np.ndarray | None = None  # base minus quote short rate, percentage points
    composite: CompositeScore | None = None
    posterior: PosteriorSeries | None = None  # inference.model bayes
    learned_posterior: LearnedProbabilitySeries | None = None  # inference.model gradient_boosting
    regime: RegimeFilterResult | None = None  # entry_conditions.regime_filter
    notes: tuple[str, ...] = ()

    @property
    def p_up(self) -> np.ndarray | None:
        """P(up | evidence) per bar from the model the strategy names (what min_posterior and Kelly sizing use);
        None when the strategy uses none."""
        if self.learned_posterior is not None:
            return self.learned_posterior.probability
        return self.posterior.posterior if self.posterior is not None else None

    @property
    def entry(self) -> np.ndarray:
        """The entries of the strategy's own direction (long for ``both``)."""
        return self.short_entry if self.direction == "short" else self.long_entry

    @property
    def exit(self) -> np.ndarray:
        return self.short_exit if self.direction == "short" else self.long_exit


def _block_votes(block: SignalBlock, prefix: str, ws: SignalWorkspace) -> list[np.ndarray]:
    return [
        signal_votes(s, ws.base, f"{prefix}.technical_signals[{i}]", ws) for i, s in enumerate(block.technical_signals)
    ]


def _gate(strategy: Strategy, bars: Bars, sources: EvidenceSources) -> GateResult | None:
    gate = strategy.entry_conditions.fundamental_gate
    if gate is None:
        return None
    store, catalog = sources.fundamental_store(), sources.catalog
    if store is None or catalog is None or bars.symbol not in store.symbols():
        raise DataError(
            f"entry_conditions.fundamental_gate needs point-in-time fundamentals for {bars.symbol}, and the store has "
            "none: import statements (`quantdesk fundamentals import FILE` or `fetch-edgar`), or run on a synthetic "
            "company (`quantdesk data synthetic` writes statements for SYN001 ...)"
        )
    table = fundamental_gate_table(store, catalog, bars, columns=gate_columns(gate), cache=sources.gate_cache)
    return evaluate_gate(gate, table)


def _known_rate(catalog: Catalog, currency: str, bars: Bars) -> AlignedSeries:
    try:
        series = catalog.read_series(f"RATE_{currency}")
    except NotFoundError as exc:
        raise DataError(
            f"entry_conditions.carry_gate needs the short-rate series RATE_{currency}, which the catalog lacks: "
            "write the synthetic FX market (`quantdesk data synthetic --fx`) or import a rate series "
            f"(`quantdesk data import-series FILE --name RATE_{currency} --frequency daily`)"
        ) from exc
    return series_on_bars(bars, series)


def _carry(strategy: Strategy, bars: Bars, sources: EvidenceSources) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """The base-minus-quote short-rate differential as known (NaN where a rate is stale) and the stale notes."""
    rule = strategy.entry_conditions.carry_gate
    if rule is None:
        return None, ()
    catalog = sources.catalog
    instrument = catalog.find_instrument(bars.symbol) if catalog is not None else None
    if catalog is None or instrument is None:
        raise DataError(
            f"entry_conditions.carry_gate needs {bars.symbol}'s instrument record (its currencies) in the catalog"
        )
    try:
        base, quote = fx_currencies(instrument)
    except ConfigError as exc:
        raise DataError(f"entry_conditions.carry_gate applies to currency pairs: {exc}") from exc
    rates = (_known_rate(catalog, base, bars), _known_rate(catalog, quote, bars))
    notes = tuple(
        f"entry_conditions.carry_gate on {bars.symbol}: the rate differential is missing where a rate is stale: {line}"
        for rate in rates
        if (line := rate.stale.summary()) is not None
    )
    return rates[0].values - rates[1].values, notes


def _required_data_notes(strategy: Strategy) -> list[str]:
    notes = []
    for kind in strategy.harvesting_rules.required_data:
        if kind in LIVE_ONLY_DATA:
            notes.append(f"harvesting_rules.required_data: {kind} is used by paper and live execution, not by bars")
    return notes


def compile_signals(
    strategy: Strategy,
    bars: Bars,
    sources: EvidenceSources | None = None,
    workspace: SignalWorkspace | None = None,
) -> SignalArrays:
    """Every per-bar decision of ``strategy`` on ``bars`` and the evidence behind it.

    ``workspace``: pass one to read the indicator outputs afterwards (``strategy explain`` does).
    """
    sources = sources if sources is not None else EvidenceSources()
    n = len(bars)
    ws = (
        workspace
        if workspace is not None and workspace.base is bars
        else SignalWorkspace(bars, precomputed=sources.indicator_cache)
    )
    entry = strategy.entry_conditions
    entry_votes = _block_votes(entry, "entry_conditions", ws)
    entry_conf = confluence(entry_votes, [s.weight for s in entry.technical_signals], n)
    sign = -1 if entry.direction == "short" else 1

    adjusted = entry_conf
    alignment = divergence = None
    adjustments = entry.confluence_adjustments
    if adjustments is not None:
        factor = np.ones(n)
        if adjustments.timeframe_alignment is not None:
            rule = adjustments.timeframe_alignment
            alignment = trend_agreement(ws, rule, "entry_conditions.confluence_adjustments.timeframe_alignment")
            factor = np.where(alignment == sign, factor * (1.0 + rule.aligned_bonus), factor)
        if adjustments.divergence is not None:
            divergence = divergence_against(ws, adjustments.divergence, sign)
            factor = np.where(divergence, factor * (1.0 - adjustments.divergence.penalty), factor)
        adjusted = np.minimum(entry_conf * factor, 1.0)

    # the gate, the carry differential, the drill-down's other levels and the posterior depend on their own rules
    # only (the posterior on the votes' signals): a workspace that compiles several strategies computes each once
    gate_rule = entry.fundamental_gate
    gate = ws.memo(("gate", gate_rule.model_dump_json() if gate_rule else ""), lambda: _gate(strategy, bars, sources))
    carry_rule = entry.carry_gate
    carry_diff, carry_notes = ws.memo(("carry", carry_rule.model_dump_json() if carry_rule else ""),
                                      lambda: _carry(strategy, bars, sources))  # fmt: skip
    composite = (
        composite_score(strategy, bars, adjusted, sources, memo=ws.memo)
        if strategy.harvesting_rules.drill_down_sequence
        else None
    )

    posterior = learned = None
    p_up = None
    settings = entry.inference
    if settings is not None or strategy.uses_posterior:
        settings = settings or InferenceSettings()
        votes = np.vstack(entry_votes)
        signals_json = "[" + ",".join(s.model_dump_json() for s in entry.technical_signals) + "]"
        if settings.model == "gradient_boosting":
            learned = ws.memo(
                ("learned posterior", signals_json, settings.model_dump_json()),
                lambda: learned_probability(
                    votes,
                    bars.close,
                    bars.known_ns(),
                    outcome_of(settings),
                    names=signal_names(strategy),
                    settings=classifier_settings(settings),
                ),
            )
            p_up = learned.probability
        else:
            posterior = ws.memo(
                ("posterior", signals_json, settings.model_dump_json()),
                lambda: expanding_posterior(
                    votes,
                    bars.close,
                    bars.known_ns(),
                    outcome_of(settings),
                    min_labels=settings.min_labels,
                    window_labels=settings.window_labels,
                    names=signal_names(strategy),
                ),
            )
            p_up = posterior.posterior
    regime_rule = entry.regime_filter
    regime = None
    if regime_rule is not None:
        regime = ws.memo(("regime", regime_rule.model_dump_json()), lambda: regime_filter(regime_rule, bars))

    allowed = np.ones(n, dtype=bool)
    if gate is not None:
        allowed &= gate.passed
    if composite is not None and entry.min_composite_score is not None:
        allowed &= np.nan_to_num(composite.score, nan=0.0) >= entry.min_composite_score - THRESHOLD_TOLERANCE
    if regime is not None:
        allowed &= regime.allowed
    long_allowed = allowed.copy()
    short_allowed = allowed.copy()
    if carry_diff is not None:
        assert entry.carry_gate is not None
        minimum = entry.carry_gate.min_differential_pct
        long_allowed &= np.nan_to_num(carry_diff, nan=-np.inf) >= minimum
        short_allowed &= np.nan_to_num(carry_diff, nan=np.inf) <= -minimum
    if p_up is not None and settings is not None and settings.min_posterior is not None:
        long_allowed &= np.nan_to_num(p_up, nan=0.0) >= settings.min_posterior
        short_allowed &= (1.0 - np.nan_to_num(p_up, nan=1.0)) >= settings.min_posterior

    entry_ok = held_for(adjusted >= entry.confluence_threshold - THRESHOLD_TOLERANCE, entry.confirmation_delay)
    exit_block = strategy.exit_conditions.signal_exit
    if exit_block is None:
        exit_votes: list[np.ndarray] = []
        exit_conf = np.zeros(n)
        exit_ok = np.zeros(n, dtype=bool)
    else:
        exit_votes = _block_votes(exit_block, "exit_conditions.signal_exit", ws)
        exit_conf = confluence(exit_votes, [s.weight for s in exit_block.technical_signals], n)
        exit_ok = exit_conf >= exit_block.confluence_threshold - THRESHOLD_TOLERANCE

    never = np.zeros(n, dtype=bool)
    if entry.direction == "long":
        arrays = (entry_ok & long_allowed, exit_ok, never, never)
    elif entry.direction == "short":
        arrays = (never, never, entry_ok & short_allowed, exit_ok)
    else:
        reverse_ok = held_for(exit_ok, entry.confirmation_delay)
        arrays = (entry_ok & long_allowed, exit_ok, reverse_ok & short_allowed, entry_ok)
    return SignalArrays(
        direction=entry.direction,
        long_entry=arrays[0],
        long_exit=arrays[1],
        short_entry=arrays[2],
        short_exit=arrays[3],
        entry_confluence=entry_conf,
        adjusted_confluence=adjusted,
        exit_confluence=exit_conf,
        entry_votes=tuple(entry_votes),
        exit_votes=tuple(exit_votes),
        alignment=alignment,
        divergence=divergence,
        gate=gate,
        carry_differential=carry_diff,
        composite=composite,
        posterior=posterior,
        learned_posterior=learned,
        regime=regime,
        notes=tuple(_required_data_notes(strategy)) + carry_notes + (composite.notes if composite is not None else ()),
    )
