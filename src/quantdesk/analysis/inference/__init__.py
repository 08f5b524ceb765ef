"""Probabilistic inference: the Bayesian posterior P(up | evidence) from signal votes, fitted on past
outcomes only (``bayes``); the market regime of each bar by rules (``regime``); the learned layer, a
hidden Markov regime (``learned_regime``) and a calibrated gradient-boosting P(up | evidence)
(``learned_probability``), both fitted walk-forward; their out-of-sample comparison with the rules and the
posterior (``compare``); the level-1 macro score of the drill-down (``macro``). scikit-learn and hmmlearn are
imported only when a learned model is fitted."""

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
from quantdesk.analysis.inference.compare import (
    InferenceComparison,
    ProbabilityScore,
    RegimeReturns,
    RegimeScore,
    compare_inference,
    forward_returns,
    regime_returns,
    score_probabilities,
)
from quantdesk.analysis.inference.learned_probability import (
    PROBABILITY_FLOOR,
    ClassifierSettings,
    LearnedProbabilitySeries,
    ProbabilityFit,
    bar_features,
    learned_probability,
)
from quantdesk.analysis.inference.learned_regime import (
    HMM_REGIME_NAMES,
    HmmFit,
    HmmSettings,
    LearnedRegime,
    LearnedRegimeSeries,
    hmm_features,
    hmm_regime,
    state_names,
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
    RULE_REGIME_NAMES,
    Regime,
    RegimeRules,
    RegimeSeries,
    classify_regime,
)

__all__ = [
    "HMM_REGIME_NAMES",
    "PROBABILITY_FLOOR",
    "REGIME_NAMES",
    "RULE_REGIME_NAMES",
    "ClassifierSettings",
    "DependentPair",
    "EvidenceNode",
    "HmmFit",
    "HmmSettings",
    "InferenceComparison",
    "LearnedProbabilitySeries",
    "LearnedRegime",
    "LearnedRegimeSeries",
    "LikelihoodTable",
    "MacroInputs",
    "MacroRules",
    "MacroScore",
    "Outcome",
    "PosteriorSeries",
    "ProbabilityFit",
    "ProbabilityScore",
    "Regime",
    "RegimeReturns",
    "RegimeRules",
    "RegimeScore",
    "RegimeSeries",
    "ReliabilityTable",
    "bar_features",
    "classify_regime",
    "compare_inference",
    "expanding_posterior",
    "fit_likelihoods",
    "forward_labels",
    "forward_returns",
    "hmm_features",
    "hmm_regime",
    "learned_probability",
    "load_macro_inputs",
    "macro_score",
    "posterior",
    "regime_returns",
    "reliability",
    "score_probabilities",
    "state_names",
]
