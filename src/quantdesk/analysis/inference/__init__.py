"""Probabilistic inference: the Bayesian posterior P(up | evidence) from signal votes, fitted on past
outcomes only (``bayes``)."""

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

__all__ = [
    "DependentPair",
    "EvidenceNode",
    "LikelihoodTable",
    "Outcome",
    "PosteriorSeries",
    "ReliabilityTable",
    "expanding_posterior",
    "fit_likelihoods",
    "forward_labels",
    "posterior",
    "reliability",
]
