"""Technical evidence: each signal's vote on the base bars, the weighted confluence, and its adjustments.

Each technical signal is computed on its own timeframe (``current`` is the base; a coarser one is
resampled from the base bars by the instrument's calendar), its vote evaluated there, and the votes
brought onto the base bars as of their known time (``data.align``), so a daily vote reaches the
intraday bars only after that day's close. A ``SignalWorkspace`` holds, for one compile, the bars of
each timeframe and each indicator's outputs, so that two signals on the same indicator compute it once.
Technical confluence is the weighted share of true votes, in [0, 1]. The optional adjustments (plan
section 3.3): timeframe alignment multiplies confluence by ``1 + aligned_bonus`` on bars where the
trend (EMA(fast) against EMA(slow)) of every listed timeframe agrees with the trade's direction; the
divergence penalty multiplies it by ``1 - penalty`` for ``within_bars`` bars after a confirmed
divergence against the trade (bearish for a long, bullish for a short); the result is capped at 1.
Every array depends only on bars up to its own (the truncation property).

An anchored VWAP (``VWAP``, ``VWAP_Bands``) on a ``daily``, weekly or monthly timeframe over intraday bars means
what a trader reads on an intraday chart: the VWAP of the current session (week, month) through the current bar,
against the current price. It is computed on the base bars, anchored at that period's first bar, and compared
with each base bar's close; the day's completed VWAP against the day's close, carried to the next day, would
compare yesterday with yesterday. ``SESSION_ANCHORS`` maps the timeframes to the anchors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import talib

from quantdesk.analysis.technical.mtf import align_outputs, bars_on_timeframe
from quantdesk.analysis.technical.precomputed import IndicatorCache, data_version
from quantdesk.analysis.technical.registry import get_indicator, resolve_params
from quantdesk.analysis.technical.spec import Outputs, ParamValue
from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.conditions import evaluate_condition
from quantdesk.strategy.entry_models import DivergencePenalty, TechnicalSignal, TimeframeAlignment

# a small tolerance so that weights like 0.3 + 0.2 + 0.25 + 0.25 meet a threshold of 1.0
THRESHOLD_TOLERANCE = 1e-9
T = TypeVar("T")
# indicators that accumulate from a period's first bar, and the anchor each timeframe names over intraday bars
ANCHORED_INDICATORS = frozenset({"VWAP", "VWAP_Bands"})
SESSION_ANCHORS = {Timeframe.D1: "session", Timeframe.W1: "week", Timeframe.MN1: "month"}


@dataclass
class SignalWorkspace:
    """The base bars, their resamplings and the indicator outputs computed so far, for one compile."""

    base: Bars
    _bars: dict[str, Bars] = field(default_factory=dict)
    _outputs: dict[tuple[str, str, tuple[tuple[str, ParamValue], ...]], Outputs] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict)
    precomputed: IndicatorCache | None = None  # stored indicator outputs, used where they are of these very bars
    _versions: dict[str, str] = field(default_factory=dict)

    def memo(self, key: Any, make: Callable[[], T]) -> T:
        """A value computed on the base bars once per key: what a compile reads that the rule named in ``key``
        alone determines (the gate, a drill-down level, the posterior of a set of votes), reused when the same
        workspace compiles another strategy on the same bars (a search's trials)."""
        if key not in self._memo:
            self._memo[key] = make()
        value: T = self._memo[key]
        return value

    def bars(self, timeframe: str, where: str = "timeframe") -> Bars:
        if timeframe == "current" or timeframe == self.base.timeframe.value:
            return self.base
        if timeframe not in self._bars:
            target = Timeframe.parse(timeframe)
            if target.is_finer_than(self.base.timeframe):
                raise ConfigError(
                    f"{where}: {target.value} is finer than the run's base timeframe {self.base.timeframe.value}; "
                    f"run on {target.value} bars or finer (--timeframe), or use a timeframe of "
                    f"{self.base.timeframe.value} or coarser"
                )
            self._bars[timeframe] = bars_on_timeframe(self.base, target, where)
        return self._bars[timeframe]

    def outputs(self, name: str, params: dict[str, ParamValue], timeframe: str, where: str) -> tuple[Bars, Outputs]:
        own = self.bars(timeframe, f"{where}.timeframe")
        key = (name, own.timeframe.value, tuple(sorted(params.items())))
        if key not in self._outputs:
            spec = get_indicator(name, f"{where}.indicator")
            stored = None
            if self.precomputed is not None:  # read only: `quantdesk indicators precompute` writes it
                version = self._versions.get(own.timeframe.value)
                if version is None:
                    version = self._versions[own.timeframe.value] = data_version(own)
                stored = self.precomputed.get(own, spec.name, params, version)
            self._outputs[key] = stored if stored is not None else spec.compute(own, params)
        return own, self._outputs[key]

    def computed(self) -> list[tuple[str, str, dict[str, ParamValue], Bars, Outputs]]:
        """Every indicator computed so far: (name, timeframe, parameters, its own bars, its outputs)."""
        return [
            (name, tf, dict(params), self.bars(tf), outputs) for (name, tf, params), outputs in self._outputs.items()
        ]

    def on_base(self, own: Bars, values: np.ndarray) -> np.ndarray:
        """``values`` of ``own``'s bars carried onto the base bars by known time (NaN before the first)."""
        if own is self.base:
            return values
        return align_outputs(self.base, own, {"v": values})["v"]


def signal_votes(
    signal: TechnicalSignal, bars: Bars, where: str = "signal", workspace: SignalWorkspace | None = None
) -> np.ndarray:
    """One signal's vote on every base bar, evaluated on its own timeframe and aligned by known time."""
    ws = workspace if workspace is not None else SignalWorkspace(bars)
    spec = get_indicator(signal.indicator, f"{where}.indicator")
    params, timeframe = signal_setup(signal, bars, where)
    own, outputs = ws.outputs(signal.indicator, params, timeframe, where)
    votes = evaluate_condition(signal, spec, outputs, own.close)
    if own is bars:
        return votes
    aligned = ws.on_base(own, votes.astype(np.float64))
    return np.nan_to_num(aligned, nan=0.0) > 0.5


def signal_setup(signal: TechnicalSignal, bars: Bars, where: str = "signal") -> tuple[dict[str, ParamValue], str]:
    """The parameters and the timeframe a signal's indicator is computed with over ``bars``: its own, except for
    an anchored VWAP on a coarser timeframe over intraday bars (the module docstring)."""
    spec = get_indicator(signal.indicator, f"{where}.indicator")
    params = resolve_params(spec, signal.params, f"{where}.params")
    anchor = _session_anchor(signal, bars, where)
    if anchor is None:
        return params, signal.timeframe
    return {**params, "anchor": anchor}, "current"


def _session_anchor(signal: TechnicalSignal, bars: Bars, where: str) -> str | None:
    """The anchor an anchored indicator's coarser timeframe names over intraday bars, or None."""
    if signal.indicator not in ANCHORED_INDICATORS or signal.timeframe == "current" or not bars.timeframe.is_intraday:
        return None
    target = Timeframe.parse(signal.timeframe)
    anchor = SESSION_ANCHORS.get(target)
    if anchor is None:
        return None
    given = signal.params.get("anchor")
    if given is not None and given != anchor:
        raise ConfigError(
            f"{where}.params.anchor: a {signal.indicator} on the {signal.timeframe} timeframe over intraday bars is "
            f"anchored at each {anchor}; found anchor {given!r} (leave it out, or use timeframe 'current' with it)"
        )
    return anchor


def confluence(votes: list[np.ndarray], weights: list[float], n: int) -> np.ndarray:
    """Weighted share of true votes per bar (weights normalised by their sum)."""
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


def trend_agreement(ws: SignalWorkspace, alignment: TimeframeAlignment, where: str) -> np.ndarray:
    """Per base bar: +1 when every timeframe's EMA(fast) is above EMA(slow), -1 when all below, else 0."""
    n = len(ws.base)
    up = np.ones(n, dtype=bool)
    down = np.ones(n, dtype=bool)
    for k, timeframe in enumerate(alignment.timeframes):
        own = ws.bars(timeframe, f"{where}.timeframes[{k}]")
        fast = talib.EMA(own.close, alignment.fast)
        slow = talib.EMA(own.close, alignment.slow)
        diff = ws.on_base(own, fast - slow)
        up &= diff > 0
        down &= diff < 0
    return up.astype(np.int8) - down.astype(np.int8)


def divergence_against(ws: SignalWorkspace, rule: DivergencePenalty, direction: int) -> np.ndarray:
    """True on bars within ``rule.within_bars`` after a divergence against ``direction`` (+1 long, -1 short)."""
    name = f"{rule.oscillator}_Divergence"
    spec = get_indicator(name)
    _, outputs = ws.outputs(name, resolve_params(spec, {}), "current", "entry_conditions.confluence_adjustments")
    column = "regular_bearish" if direction > 0 else "regular_bullish"
    fired = np.nan_to_num(np.asarray(outputs[column], dtype=np.float64), nan=0.0) > 0.5
    return held_recently(fired, rule.within_bars)


def held_recently(event: np.ndarray, within_bars: int) -> np.ndarray:
    """True on the bar of an event and the ``within_bars - 1`` bars after it."""
    count = np.cumsum(event, dtype=np.int64)
    before = np.zeros_like(count)
    before[within_bars:] = count[:-within_bars]
    return (count - before) > 0
