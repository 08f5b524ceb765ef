"""Probabilistic inference: the Bayesian posterior P(up | evidence) from signal votes, fitted on past
outcomes only (``bayes``); the market regime of each bar (``regime``); the level-1 macro score of the
drill-down (``macro``)."""

from quantdesk.analysis.inference.bayes import (
    DependentPair,
    EvidenceNode,
    LikelihoodTable,
    Outcome,
    PosteriorSeries,
    ReliabilityTable,
    expanding_posterior,
    fit_likelihoods,
    forward_labels,
    posterior,
    reliability,
)
from quantdesk.analysis.inference.macro import (
    MacroInputs,
    MacroRules,
    MacroScore,
    load_macro_inputs,
    macro_score,
)
from quantdesk.analysis.inference.regime import (
    REGIME_NAMES,
    Regime,
    RegimeRules,
    RegimeSeries,
    classify_regime,
)

__all__ = [
    "REGIME_NAMES",
    "DependentPair",
    "EvidenceNode",
    "LikelihoodTable",
    "MacroInputs",
    "MacroRules",
    "MacroScore",
    "Outcome",
    "PosteriorSeries",
    "Regime",
    "RegimeRules",
    "RegimeSeries",
    "ReliabilityTable",
    "classify_regime",
    "expanding_posterior",
    "fit_likelihoods",
    "forward_labels",
    "load_macro_inputs",
    "macro_score",
    "posterior",
    "reliability",
]
