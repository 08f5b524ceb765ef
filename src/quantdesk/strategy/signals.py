"""Compiling a strategy into signal arrays over a base timeframe.

Each technical signal is computed on its own timeframe (``current`` is the base; a coarser one is
resampled from the base bars by the instrument's calendar), its vote evaluated there, and the votes
brought onto the base bars as of their known time (``data.align``), so a daily vote reaches the
intraday bars only after that day's close. Technical confluence is the weighted share of true votes,
in [0, 1]. An entry fires on a bar when confluence >= ``confluence_threshold`` on that bar and the
``confirmation_delay`` bars before it; an exit fires when the signal exit's confluence reaches its own
threshold. Every array depends only on bars up to its own (the truncation property).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.analysis.technical.mtf import align_outputs, bars_on_timeframe
from quantdesk.analysis.technical.registry import get_indicator, resolve_params
from quantdesk.domain.bars import Bars
from quantdesk.strategy.conditions import evaluate_condition
from quantdesk.strategy.models import Strategy, TechnicalSignal


@dataclass(frozen=True, slots=True)
class SignalArrays:
    """Per-bar arrays on the base bars: the decisions and the evidence behind them."""

    entry: np.ndarray  # bool: enter at the next bar's open
    exit: np.ndarray  # bool: leave at the next bar's open
    entry_confluence: np.ndarray  # float in [0, 1]
    exit_confluence: np.ndarray  # float in [0, 1]; zeros when the strategy has no signal exit
    entry_votes: tuple[np.ndarray, ...]  # one bool array per entry signal, in file order
    exit_votes: tuple[np.ndarray, ...]


def signal_votes(signal: TechnicalSignal, bars: Bars, where: str = "signal") -> np.ndarray:
    """One signal's vote on every base bar, evaluated on its own timeframe and aligned by known time."""
    spec = get_indicator(signal.indicator, f"{where}.indicator")
    params = resolve_params(spec, signal.params, f"{where}.params")
    own = bars if signal.timeframe == "current" else bars_on_timeframe(bars, signal.timeframe, f"{where}.timeframe")
    votes = evaluate_condition(signal, spec, spec.compute(own, params), own.close)
    if own is bars:
        return votes
    aligned = align_outputs(bars, own, {"vote": votes.astype(np.float64)})["vote"]
    return np.nan_to_num(aligned, nan=0.0) > 0.5


def confluence(votes: list[np.ndarray], weights: list[float], n: int) -> np.ndarray:
    total = float(sum(weights))
    score = np.zeros(n, dtype=np.float64)
    for vote, weight in zip(votes, weights, strict=True):
        score += weight * vote
    return score / total


def held_for(condition: np.ndarray, bars_before: int) -> np.ndarray:
    """True where ``condition`` holds on this bar and the ``bars_before`` bars before it."""
    if bars_before == 0:
        return condition.copy()
    total = np.cumsum(condition, dtype=np.int64)
    at_last_false = np.maximum.accumulate(np.where(condition, 0, total))
    return (total - at_last_false) > bars_before


def compile_signals(strategy: Strategy, bars: Bars) -> SignalArrays:
    n = len(bars)
    entry = strategy.entry_conditions
    entry_votes = [
        signal_votes(s, bars, f"entry_conditions.technical_signals[{i}]") for i, s in enumerate(entry.technical_signals)
    ]
    entry_conf = confluence(entry_votes, [s.weight for s in entry.technical_signals], n)
    # a small tolerance so that weights like 0.3 + 0.2 + 0.25 + 0.25 meet a threshold of 1.0
    entry_ok = held_for(entry_conf >= entry.confluence_threshold - 1e-9, entry.confirmation_delay)
    exit_block = strategy.exit_conditions.signal_exit
    if exit_block is None:
        exit_votes: list[np.ndarray] = []
        exit_conf = np.zeros(n)
        exit_ok = np.zeros(n, dtype=bool)
    else:
        exit_votes = [
            signal_votes(s, bars, f"exit_conditions.signal_exit.technical_signals[{i}]")
            for i, s in enumerate(exit_block.technical_signals)
        ]
        exit_conf = confluence(exit_votes, [s.weight for s in exit_block.technical_signals], n)
        exit_ok = exit_conf >= exit_block.confluence_threshold - 1e-9
    return SignalArrays(entry_ok, exit_ok, entry_conf, exit_conf, tuple(entry_votes), tuple(exit_votes))
