"""The learned layer as a strategy uses it: the format's ``entry_conditions.inference`` (``model:
gradient_boosting``) and ``entry_conditions.regime_filter`` turned into the analysis settings, the regime filter
evaluated on a strategy's base bars, and ``compare_strategy_inference``, the out-of-sample comparison of the
learned models with the Bayesian posterior and the rule-based regime on a strategy's own signal votes (the
walk-forward report and ``quantdesk inference compare`` call it). The regime of a bar is the one known at its
close: the rules on the bars up to it, the HMM's forward filter under a fit made at an earlier bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantdesk.analysis.inference.bayes import Outcome
from quantdesk.analysis.inference.compare import InferenceComparison, compare_inference
from quantdesk.analysis.inference.learned_probability import ClassifierSettings
from quantdesk.analysis.inference.learned_regime import HmmSettings, LearnedRegimeSeries, hmm_regime
from quantdesk.analysis.inference.regime import RegimeSeries, classify_regime
from quantdesk.domain.bars import Bars
from quantdesk.strategy.entry_models import InferenceSettings, RegimeFilter
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.signals import SignalWorkspace, signal_votes

MIN_CLASSIFIER_LABELS = 30  # ClassifierSettings' default 3 calibration folds, 10 outcomes each

__all__ = [
    "RegimeFilterResult",
    "classifier_settings",
    "compare_strategy_inference",
    "hmm_settings",
    "outcome_of",
    "regime_filter",
    "signal_names",
]


@dataclass(frozen=True, slots=True)
class RegimeFilterResult:
    """The regime of every base bar by the filter's model, and whether an entry is allowed there."""

    model: str  # rules or hmm
    allowed_regimes: tuple[str, ...]
    regimes: RegimeSeries | LearnedRegimeSeries
    allowed: np.ndarray  # bool per bar: the bar's regime is known and allowed

    def name_at(self, i: int) -> str:
        return self.regimes.name_at(i)


def signal_names(strategy: Strategy) -> list[str]:
    """The entry signals' names as the posterior and the classifier report them."""
    return [f"{s.indicator}:{s.condition}@{s.timeframe}" for s in strategy.entry_conditions.technical_signals]


def outcome_of(settings: InferenceSettings) -> Outcome:
    return Outcome(horizon_bars=settings.horizon, min_return=settings.min_return)


def classifier_settings(settings: InferenceSettings) -> ClassifierSettings:
    """The classifier behind ``inference`` (its calibration, refits, min_labels and window_labels). A Bayesian
    strategy's ``min_labels`` may be below the 30 the classifier's three calibration folds need (the format
    checks it for ``gradient_boosting``); compared, the classifier then waits for 30 (and its window holds them)."""
    min_labels = max(settings.min_labels, MIN_CLASSIFIER_LABELS)
    window = settings.window_labels
    return ClassifierSettings(
        calibration=settings.effective_calibration(),
        refit_every_bars=settings.effective_refit_every_bars(),
        min_labels=min_labels,
        window_labels=None if window is None else max(window, min_labels),
    )


def hmm_settings(rule: RegimeFilter | None) -> HmmSettings:
    """The HMM of an ``hmm`` regime filter (the defaults for anything else)."""
    if rule is None or rule.model != "hmm":
        return HmmSettings()
    train = rule.effective("train_bars")
    return HmmSettings(
        n_states=rule.effective("n_states"),
        train_bars=None if train == "expanding" else train,
        min_train_bars=rule.effective("min_train_bars"),
        refit_every_bars=rule.effective("refit_every_bars"),
        vol_bars=rule.effective("vol_bars"),
    )


def regime_filter(rule: RegimeFilter, bars: Bars) -> RegimeFilterResult:
    """Each bar's regime by ``rule.model`` on ``bars`` (the instrument's own, no benchmark) and where it is one of
    ``rule.allowed``; a bar whose regime is not known yet (``unknown``) allows no entry."""
    regimes: RegimeSeries | LearnedRegimeSeries
    if rule.model == "rules":
        regimes = classify_regime(bars)
        names = regimes.names()
    else:
        regimes = hmm_regime(bars, hmm_settings(rule))
        names = regimes.regime_names()
    allowed = np.isin(names.astype(str), list(rule.allowed))
    return RegimeFilterResult(model=rule.model, allowed_regimes=tuple(rule.allowed), regimes=regimes, allowed=allowed)


def compare_strategy_inference(strategy: Strategy, bars: Bars, *, benchmark: Bars | None = None) -> InferenceComparison:
    """``analysis.inference.compare_inference`` on ``strategy``'s entry votes over ``bars``: the outcome, the
    classifier (calibration, refits, min_labels, window_labels) and the HMM are the strategy's where it sets them
    (``entry_conditions.inference``, an hmm ``regime_filter``), the defaults otherwise, whichever model the
    strategy trades on. Only the technical signals are evaluated: no gate, composite or fundamentals needed."""
    ws = SignalWorkspace(bars)
    entry = strategy.entry_conditions
    votes = np.vstack(
        [
            signal_votes(s, bars, f"entry_conditions.technical_signals[{i}]", ws)
            for i, s in enumerate(entry.technical_signals)
        ]
    )
    settings = entry.inference or InferenceSettings()
    return compare_inference(
        bars,
        votes,
        outcome_of(settings),
        names=signal_names(strategy),
        classifier=classifier_settings(settings),
        hmm=hmm_settings(entry.regime_filter),
        benchmark=benchmark,
    )
