"""The out-of-sample comparison of the learned layer with what it would replace: the calibrated classifier's
P(up | evidence) against the Bayesian posterior (and the base rate, the expanding share of up outcomes, as the
floor any model must beat), and the HMM regime against the rule-based one. Every probability at a bar comes from
a fit that never saw that bar's outcome (the posterior counts the outcomes known at the bar's close, the
classifier was fitted at an earlier bar), so every score is out of sample. Probabilities are scored on the same
bars, those where all of them are defined and the outcome is known: log loss ``-mean(y log p + (1 - y) log(1 -
p))`` (p clipped to [1e-15, 1 - 1e-15]), Brier score ``mean((p - y)^2)`` and a reliability table of 10 equal
bins (``bayes.reliability``). Regimes are compared by the forward return ``close[t + h] / close[t] - 1`` (h the
outcome's horizon) of the bars in each regime, on the bars where both regimes are known and the return is:
count, mean, standard deviation and hit rate (the share of up outcomes). ``compare_inference`` runs all of it on
one instrument's bars and signal votes; the result is a dataclass whose ``to_dict`` is JSON-ready.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.analysis.inference.bayes import (
    Outcome,
    ReliabilityTable,
    Votes,
    _clean,
    expanding_posterior,
    forward_labels,
    reliability,
)
from quantdesk.analysis.inference.learned_probability import (
    DEFAULT_CLASSIFIER_SETTINGS,
    ClassifierSettings,
    ProbabilityFit,
    learned_probability,
)
from quantdesk.analysis.inference.learned_regime import DEFAULT_HMM_SETTINGS, HmmFit, HmmSettings, hmm_regime
from quantdesk.analysis.inference.regime import (
    DEFAULT_REGIME_RULES,
    RULE_REGIME_NAMES,
    RegimeRules,
    classify_regime,
)
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.bars import Bars

__all__ = [
    "LOG_LOSS_CLIP",
    "InferenceComparison",
    "ProbabilityScore",
    "RegimeReturns",
    "RegimeScore",
    "compare_inference",
    "forward_returns",
    "regime_returns",
    "score_probabilities",
]

LOG_LOSS_CLIP = 1e-15
RELIABILITY_BINS = 10


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ProbabilityScore:
    """One model's probabilities against the outcomes, on the compared bars."""

    model: str
    n: int
    log_loss: float
    brier: float
    reliability: ReliabilityTable

    def to_dict(self) -> dict[str, Any]:
        table = self.reliability.to_dict()
        return {
            "model": self.model,
            "n": self.n,
            "log_loss": _clean(self.log_loss),
            "brier": _clean(self.brier),
            "expected_calibration_error": table["expected_calibration_error"],
            "reliability": [
                {k: b[k] for k in ("low", "high", "mean_predicted", "observed_frequency", "count")}
                for b in table["bins"]
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeReturns:
    """The forward returns of the compared bars in one regime (fractions; NaN when there are none)."""

    regime: str
    count: int
    mean_return: float
    stdev_return: float  # sample standard deviation (ddof 1)
    hit_rate: float  # the share of up outcomes

    def to_dict(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "count": self.count,
            "mean_return": _clean(self.mean_return),
            "stdev_return": _clean(self.stdev_return),
            "hit_rate": _clean(self.hit_rate),
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RegimeScore:
    """One regime model's forward-return distribution per regime, on the compared bars."""

    model: str
    n: int
    regimes: tuple[RegimeReturns, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "n": self.n, "regimes": [r.to_dict() for r in self.regimes]}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class InferenceComparison:
    """``compare_inference``'s result: the probability scores, the regime returns and what was fitted."""

    symbol: str
    timeframe: str
    outcome: Outcome
    n_bars: int
    first_ns: int | None  # the first and last bar of the data (None for no bars)
    last_ns: int | None
    probabilities: tuple[ProbabilityScore, ...]  # bayes, gradient_boosting, base_rate
    regimes: tuple[RegimeScore, ...]  # rules, hmm
    classifier: ClassifierSettings
    hmm: HmmSettings
    classifier_fits: tuple[ProbabilityFit, ...]
    hmm_fits: tuple[HmmFit, ...]

    def probability(self, model: str) -> ProbabilityScore:
        for score in self.probabilities:
            if score.model == model:
                return score
        raise ConfigError(f"model: expected one of {[s.model for s in self.probabilities]}, found {model!r}")

    def regime(self, model: str) -> RegimeScore:
        for score in self.regimes:
            if score.model == model:
                return score
        raise ConfigError(f"model: expected one of {[s.model for s in self.regimes]}, found {model!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "outcome": self.outcome.to_dict(),
            "bars": self.n_bars,
            "first_bar": ns_to_iso(self.first_ns) if self.first_ns is not None else None,
            "last_bar": ns_to_iso(self.last_ns) if self.last_ns is not None else None,
            "probabilities": [s.to_dict() for s in self.probabilities],
            "regimes": [s.to_dict() for s in self.regimes],
            "classifier": {**self.classifier.to_dict(), "fits": [f.to_dict() for f in self.classifier_fits]},
            "hmm": {**self.hmm.to_dict(), "fits": [f.to_dict() for f in self.hmm_fits]},
        }


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    if len(p) == 0:
        return math.nan
    q = np.clip(p, LOG_LOSS_CLIP, 1.0 - LOG_LOSS_CLIP)
    return float(-np.mean(y * np.log(q) + (1.0 - y) * np.log(1.0 - q)))


def score_probabilities(probabilities: Mapping[str, Any], labels: Any) -> tuple[ProbabilityScore, ...]:
    """Log loss, Brier score and reliability of each named probability series, on the bars where every series
    and the label (1.0 up, 0.0 not, NaN unknown) are defined."""
    y = np.asarray(labels, dtype=np.float64)
    series = {name: np.asarray(p, dtype=np.float64) for name, p in probabilities.items()}
    for name, p in series.items():
        if p.shape != y.shape:
            raise ConfigError(f"probabilities {name!r}: expected {len(y)} values (one per label), found {p.shape}")
    both = np.isfinite(y)
    for p in series.values():
        both &= np.isfinite(p)
    out = []
    for name, p in series.items():
        table = reliability(p[both], y[both], n_bins=RELIABILITY_BINS)
        out.append(
            ProbabilityScore(
                model=name,
                n=int(both.sum()),
                log_loss=_log_loss(p[both], y[both]),
                brier=table.brier,
                reliability=table,
            )
        )
    return tuple(out)


def forward_returns(close: Any, horizon_bars: int) -> np.ndarray:
    """``close[t + horizon_bars] / close[t] - 1`` per bar; NaN for the last ``horizon_bars`` bars and where a
    close is missing or the base is not positive."""
    c = np.asarray(close, dtype=np.float64)
    out = np.full(len(c), np.nan)
    if len(c) > horizon_bars:
        base, later = c[:-horizon_bars], c[horizon_bars:]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:-horizon_bars] = np.where(base > 0, later / base - 1.0, np.nan)
    out[~np.isfinite(out)] = np.nan
    return out


def regime_returns(
    regimes: Mapping[str, tuple[Sequence[str], Any]], returns: Any, labels: Any
) -> tuple[RegimeScore, ...]:
    """Per regime model (name -> (its regime names in report order, the per-bar regime name array)), the forward
    returns of each regime's bars, on the bars where every model's regime is known (not ``unknown``) and the
    return and label are defined."""
    r = np.asarray(returns, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    both = np.isfinite(r) & np.isfinite(y)
    per_bar = {}
    for model, (_, names) in regimes.items():
        array = np.asarray(names, dtype=object)
        if array.shape != r.shape:
            raise ConfigError(f"regimes {model!r}: expected {len(r)} names (one per bar), found {array.shape}")
        per_bar[model] = array
        both &= array != "unknown"
    out = []
    for model, (order, _) in regimes.items():
        rows = []
        for regime in order:
            mask = both & (per_bar[model] == regime)
            count = int(mask.sum())
            rows.append(
                RegimeReturns(
                    regime=regime,
                    count=count,
                    mean_return=float(np.mean(r[mask])) if count else math.nan,
                    stdev_return=float(np.std(r[mask], ddof=1)) if count > 1 else math.nan,
                    hit_rate=float(np.mean(y[mask])) if count else math.nan,
                )
            )
        out.append(RegimeScore(model=model, n=int(both.sum()), regimes=tuple(rows)))
    return tuple(out)


def compare_inference(
    bars: Bars,
    votes: Votes,
    outcome: Outcome,
    *,
    names: Sequence[str] | None = None,
    classifier: ClassifierSettings = DEFAULT_CLASSIFIER_SETTINGS,
    hmm: HmmSettings = DEFAULT_HMM_SETTINGS,
    rules: RegimeRules = DEFAULT_REGIME_RULES,
    benchmark: Bars | None = None,
) -> InferenceComparison:
    """The learned probability and the HMM regime against the Bayesian posterior and the rule-based regime, on
    ``bars`` and the signal ``votes`` on them (see the module docstring). The posterior waits for the same
    ``min_labels`` and counts the same ``window_labels`` as the classifier; ``benchmark`` goes to the rules."""
    close = np.asarray(bars.close, dtype=np.float64)
    known_ns = bars.known_ns()
    labels = forward_labels(close, outcome)
    bayes = expanding_posterior(
        votes, close, known_ns, outcome, names=names, min_labels=classifier.min_labels,
        window_labels=classifier.window_labels,
    )  # fmt: skip
    learned = learned_probability(votes, close, known_ns, outcome, names=names, settings=classifier)
    probabilities = score_probabilities(
        {"bayes": bayes.posterior, "gradient_boosting": learned.probability, "base_rate": bayes.prior_up}, labels
    )
    by_rules = classify_regime(bars, benchmark=benchmark, rules=rules) if len(bars) else None
    by_hmm = hmm_regime(bars, hmm)
    rule_names = by_rules.names() if by_rules is not None else np.array([], dtype=object)
    regimes = regime_returns(
        {
            "rules": (RULE_REGIME_NAMES, rule_names),
            "hmm": (hmm.names, by_hmm.regime_names()),
        },
        forward_returns(close, outcome.horizon_bars),
        labels,
    )
    n = len(bars)
    return InferenceComparison(
        symbol=bars.symbol,
        timeframe=bars.timeframe.value,
        outcome=outcome,
        n_bars=n,
        first_ns=int(bars.ts[0]) if n else None,
        last_ns=int(bars.ts[-1]) if n else None,
        probabilities=probabilities,
        regimes=regimes,
        classifier=classifier,
        hmm=hmm,
        classifier_fits=learned.fits,
        hmm_fits=by_hmm.fits,
    )
