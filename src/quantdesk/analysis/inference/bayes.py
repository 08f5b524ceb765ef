"""The Bayesian posterior P(up | evidence): K boolean signal votes per bar turned into the probability that
price rises over the next ``horizon_bars`` bars, by naive Bayes in log-odds, fitted on past outcomes only.
Definitions. The outcome of bar i (``Outcome``) is *up* when ``close[i + h] / close[i] - 1 > min_return``
with ``h = horizon_bars``; it is NaN for the last h bars and where either close is missing or the base is
not positive (``forward_labels``). Bar i's label becomes known at bar i + h's close, ``known_ns[i + h]``:
a fit until a time T counts only the bars whose label was known at or before T, and the per-bar posterior
at bar t (``expanding_posterior``) only the labels of bars i <= t - h. Likelihoods use additive (Laplace)
smoothing ``alpha > 0``: with ``c`` labelled bars of a class showing a value out of ``n_c`` in that class and
``D`` possible values, ``P(value | class) = (c + alpha) / (n_c + D * alpha)``, and the prior is ``P(up) =
(n_up + alpha) / (n + 2 * alpha)``, so no probability is 0 or 1 and every log-odds is finite. The posterior
is ``logit P(up | v) = logit P(up) + sum_k log(P(v_k | up) / P(v_k | not up))``, where ``v_k`` is the bar's
actual vote (a signal that did *not* fire is evidence too). Anything fitted records ``fitted_until_ns``,
the known time of the last bar it saw, and refuses (``LookAheadError``) to score a bar known at or before
it. Naive Bayes counts two correlated signals twice; the fit measures the within-class phi correlation of
every pair of signals and, with ``dependence="grouped"``, merges the signals linked by ``|phi|`` above the
threshold into one joint evidence node (see ``fit_likelihoods``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np

from quantdesk.core.errors import ConfigError, LookAheadError
from quantdesk.core.timestamps import ns_to_iso

__all__ = [
    "DEFAULT_DEPENDENCE_THRESHOLD",
    "DEFAULT_MIN_LABELS",
    "MAX_GROUP_SIGNALS",
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

Votes: TypeAlias = np.ndarray | Mapping[str, Any]
Dependence: TypeAlias = Literal["independent", "grouped"]

DEFAULT_DEPENDENCE_THRESHOLD = 0.5  # within-class |phi| above which two signals count as dependent
DEFAULT_MIN_LABELS = 50  # labels an expanding posterior waits for before it gives a number
MAX_GROUP_SIGNALS = 12  # a joint node of m signals has 2**m patterns; more would leave most of them empty


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What "up" means: ``close[i + horizon_bars] / close[i] - 1 > min_return`` (a fraction; 0.0 is any rise).

    Bar i's label is known at the close of bar ``i + horizon_bars``.
    """

    horizon_bars: int
    min_return: float = 0.0

    def __post_init__(self) -> None:
        h = self.horizon_bars
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise ConfigError(f"outcome.horizon_bars: expected a whole number of bars >= 1, found {h!r}")
        r = self.min_return
        if isinstance(r, bool) or not isinstance(r, int | float | np.floating) or not math.isfinite(r) or r <= -1:
            raise ConfigError(f"outcome.min_return: expected a finite fraction > -1 (0.01 is 1 %), found {r!r}")

    def describe(self) -> str:
        return f"close[i + {self.horizon_bars}] / close[i] - 1 > {self.min_return:g}"

    def to_dict(self) -> dict[str, Any]:
        return {"horizon_bars": int(self.horizon_bars), "min_return": float(self.min_return)}


@dataclass(frozen=True, slots=True, kw_only=True)
class DependentPair:
    """Two signals whose votes are correlated within a class: phi in the up and in the not-up class
    (NaN where a signal is constant in that class)."""

    first: str
    second: str
    phi_up: float
    phi_down: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "phi_up": _clean(self.phi_up),
            "phi_down": _clean(self.phi_down),
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EvidenceNode:
    """One term of the naive-Bayes sum: a single signal, or a group of dependent signals taken jointly.

    A bar's pattern over the node's signals is ``code = sum_j vote_j << j`` (j the position in
    ``members``); ``count_up[code]``/``count_down[code]`` are the labelled bars with that pattern per class,
    and ``log_lr[code] = log(P(pattern | up) / P(pattern | not up))``. A single signal has the two values as
    categories (D = 2). A group's categories are the patterns seen in the fit (D of them); a pattern never
    seen there carries no evidence (``log_lr`` 0), so two identical signals grouped give exactly the
    single signal's likelihoods.
    """

    members: tuple[int, ...]
    names: tuple[str, ...]
    count_up: np.ndarray  # int64 (2**m,)
    count_down: np.ndarray  # int64 (2**m,)
    log_lr: np.ndarray  # float64 (2**m,)

    def to_dict(self) -> dict[str, Any]:
        seen = (self.count_up + self.count_down) > 0
        if len(self.members) == 1:
            seen[:] = True
        return {
            "signals": list(self.names),
            "patterns": [
                {
                    "votes": {name: bool((code >> j) & 1) for j, name in enumerate(self.names)},
                    "count_up": int(self.count_up[code]),
                    "count_down": int(self.count_down[code]),
                    "log_likelihood_ratio": float(self.log_lr[code]),
                }
                for code in np.flatnonzero(seen)
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LikelihoodTable:
    """What ``fit_likelihoods`` learned. Arrays are per signal, in the order of ``names``.

    ``p_on_given_up[k] = (count_on_up[k] + alpha) / (n_up + 2 alpha)`` is P(signal k fired | up), likewise
    ``p_on_given_down`` for not up; ``prior_up = (n_up + alpha) / (n_obs + 2 alpha)``. ``phi_up``/``phi_down``
    are the (K, K) phi correlations of the votes within each class (NaN where a signal is constant in the
    class); ``dependent_pairs`` lists the pairs with ``|phi| > dependence_threshold`` in either class.
    ``nodes`` are the terms the posterior sums: one per signal, or with ``dependence="grouped"`` one per
    group of dependent signals. ``fitted_until_ns`` is the known time of the last bar the fit saw; the
    table scores only bars known after it.
    """

    names: tuple[str, ...]
    outcome: Outcome
    alpha: float
    n_obs: int
    n_up: int
    n_down: int
    prior_up: float
    count_on_up: np.ndarray
    count_on_down: np.ndarray
    p_on_given_up: np.ndarray
    p_on_given_down: np.ndarray
    phi_up: np.ndarray
    phi_down: np.ndarray
    dependence: Dependence
    dependence_threshold: float
    dependent_pairs: tuple[DependentPair, ...]
    nodes: tuple[EvidenceNode, ...]
    fitted_until_ns: int

    @property
    def p_up_given_on(self) -> np.ndarray:
        """P(up | signal k fired), each signal on its own: Bayes' rule with the prior and its likelihoods."""
        up = self.p_on_given_up * self.prior_up
        return up / (up + self.p_on_given_down * (1.0 - self.prior_up))

    @property
    def log_prior_odds(self) -> float:
        """logit P(up) = log((n_up + alpha) / (n_down + alpha))."""
        return float(math.log(self.n_up + self.alpha) - math.log(self.n_down + self.alpha))

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.to_dict(),
            "alpha": self.alpha,
            "n_obs": self.n_obs,
            "n_up": self.n_up,
            "n_down": self.n_down,
            "prior_up": self.prior_up,
            "fitted_until": ns_to_iso(self.fitted_until_ns),
            "signals": [
                {
                    "name": name,
                    "count_on_up": int(self.count_on_up[k]),
                    "count_on_down": int(self.count_on_down[k]),
                    "p_on_given_up": float(self.p_on_given_up[k]),
                    "p_on_given_down": float(self.p_on_given_down[k]),
                    "p_up_given_on": float(self.p_up_given_on[k]),
                }
                for k, name in enumerate(self.names)
            ],
            "dependence": self.dependence,
            "dependence_threshold": self.dependence_threshold,
            "dependent_pairs": [pair.to_dict() for pair in self.dependent_pairs],
            "nodes": [node.to_dict() for node in self.nodes],
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PosteriorSeries:
    """The point-in-time posterior per bar (``expanding_posterior``), with its parts.

    ``posterior[t] = sigmoid(logit(prior_up[t]) + log_lr[:, t].sum())``; ``log_lr[k, t]`` is signal k's
    contribution at bar t, ``log(P(v | up) / P(v | not up))`` for the bar's vote v; ``n_labels[t]`` counts
    the labels behind bar t's estimate. All float outputs are NaN where ``n_labels < min_labels``.
    """

    names: tuple[str, ...]
    outcome: Outcome
    alpha: float
    min_labels: int
    window_labels: int | None
    posterior: np.ndarray  # float64 (n,)
    prior_up: np.ndarray  # float64 (n,)
    log_lr: np.ndarray  # float64 (K, n)
    n_labels: np.ndarray  # int64 (n,)

    def contribution(self, name: str) -> np.ndarray:
        """One signal's log-likelihood-ratio contribution per bar."""
        if name not in self.names:
            raise ConfigError(f"contribution: expected one of the signals {list(self.names)}, found {name!r}")
        return self.log_lr[self.names.index(name)]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReliabilityTable:
    """Calibration of probabilities against outcomes, in ``n_bins`` equal bins of [0, 1] (the last one
    closed). Per bin: ``count``, ``mean_predicted``, ``observed_frequency`` (NaN when empty) and
    ``std_error = sqrt(mean_predicted (1 - mean_predicted) / count)``, the binomial standard error of the
    observed frequency if the probabilities are right. ``brier`` is mean((p - y)^2);
    ``expected_calibration_error`` is sum(count / n * |observed_frequency - mean_predicted|)."""

    bin_edges: np.ndarray
    count: np.ndarray
    mean_predicted: np.ndarray
    observed_frequency: np.ndarray
    std_error: np.ndarray
    brier: float
    expected_calibration_error: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "brier": _clean(self.brier),
            "expected_calibration_error": _clean(self.expected_calibration_error),
            "bins": [
                {
                    "low": float(self.bin_edges[b]),
                    "high": float(self.bin_edges[b + 1]),
                    "count": int(self.count[b]),
                    "mean_predicted": _clean(self.mean_predicted[b]),
                    "observed_frequency": _clean(self.observed_frequency[b]),
                }
                for b in range(len(self.count))
            ],
        }


# ---- input checks --------------------------------------------------------------------------------------


def _clean(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _vote_row(name: str, values: Any) -> np.ndarray:
    row = np.asarray(values)
    if row.ndim != 1:
        raise ConfigError(f"votes signal {name!r}: expected a 1-D array of bars, found shape {row.shape}")
    if row.dtype == np.bool_:
        return row
    if row.dtype.kind not in "iuf":
        raise ConfigError(f"votes signal {name!r}: expected booleans (or 0/1), found dtype {row.dtype}")
    bad = ~((row == 0) | (row == 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise ConfigError(f"votes signal {name!r}: expected booleans (or 0/1), found {row[i].item()!r} at bar {i}")
    return row == 1


def _vote_matrix(
    votes: Votes, names: Sequence[str] | None, *, what: str = "votes"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """(K, n) bool matrix and the signal names, from a (K, n) array or a mapping name -> array."""
    if isinstance(votes, Mapping):
        keys = [str(k) for k in votes]
        chosen = keys if names is None else [str(k) for k in names]
        if len(set(chosen)) != len(chosen):
            raise ConfigError(f"names: expected distinct names, found {chosen}")
        missing = [k for k in chosen if k not in votes]
        if missing:
            raise ConfigError(f"{what}: expected signals {chosen}, found {keys} (missing {missing})")
        rows = [_vote_row(k, votes[k]) for k in chosen]
        if not rows:
            raise ConfigError(f"{what}: expected at least one signal, found 0")
        lengths = {len(r) for r in rows}
        if len(lengths) > 1:
            found = ", ".join(f"{k}: {len(r)}" for k, r in zip(chosen, rows, strict=True))
            raise ConfigError(f"{what}: expected every signal to have the same number of bars, found {found}")
        return np.vstack(rows), tuple(chosen)
    matrix = np.asarray(votes)
    if matrix.ndim != 2:
        raise ConfigError(
            f"{what}: expected a 2-D array (signals, bars) or a mapping name -> array, found shape {matrix.shape}"
        )
    k = matrix.shape[0]
    if k == 0:
        raise ConfigError(f"{what}: expected at least one signal, found 0")
    chosen = [f"signal_{i}" for i in range(k)] if names is None else [str(x) for x in names]
    if len(chosen) != k:
        raise ConfigError(f"names: expected {k} names (one per row of {what}), found {len(chosen)}")
    if len(set(chosen)) != len(chosen):
        raise ConfigError(f"names: expected distinct names, found {chosen}")
    return np.vstack([_vote_row(name, matrix[i]) for i, name in enumerate(chosen)]), tuple(chosen)


def _check_length(what: str, length: int, n: int) -> None:
    if length != n:
        raise ConfigError(f"{what}: expected {n} bars (the length of the votes), found {length}")


def _close(close: Any, n: int) -> np.ndarray:
    values = np.asarray(close, dtype=np.float64)
    if values.ndim != 1:
        raise ConfigError(f"close: expected a 1-D array of prices, found shape {values.shape}")
    _check_length("close", len(values), n)
    return values


def _known(known_ns: Any, n: int) -> np.ndarray:
    raw = np.asarray(known_ns)
    if raw.dtype.kind == "M":
        raw = raw.astype("datetime64[ns]").view(np.int64)
    if raw.ndim != 1 or raw.dtype.kind not in "iu":
        raise ConfigError(
            f"known_ns: expected a 1-D array of int64 UTC nanoseconds, found {raw.dtype} of shape {raw.shape}"
        )
    _check_length("known_ns", len(raw), n)
    t = raw.astype(np.int64)
    back = np.flatnonzero(np.diff(t) <= 0)
    if len(back):
        i = int(back[0])
        raise ConfigError(
            f"known_ns: expected strictly increasing times, found {ns_to_iso(int(t[i]))} at bar {i} "
            f"followed by {ns_to_iso(int(t[i + 1]))} at bar {i + 1}"
        )
    return t


def _alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating) or not 0 < alpha < math.inf:
        raise ConfigError(f"alpha: expected a smoothing count > 0 (1.0 is Laplace), found {alpha!r}")
    return float(alpha)


def _whole(what: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(f"{what}: expected a whole number >= {low}, found {value!r}")
    return int(value)


# ---- labels --------------------------------------------------------------------------------------------


def forward_labels(close: Any, outcome: Outcome) -> np.ndarray:
    """Bar i's outcome as 1.0 (up) or 0.0 (not up); NaN for the last ``horizon_bars`` bars (not yet known)
    and where ``close[i]`` is missing or not positive or ``close[i + h]`` is missing.

    The label looks ahead by construction: it is what the fit learns from, never a signal.
    """
    c = np.asarray(close, dtype=np.float64)
    if c.ndim != 1:
        raise ConfigError(f"close: expected a 1-D array of prices, found shape {c.shape}")
    h = int(outcome.horizon_bars)
    out = np.full(len(c), np.nan)
    if len(c) > h:
        base, later = c[:-h], c[h:]
        with np.errstate(divide="ignore", invalid="ignore"):
            up = later / base - 1.0 > outcome.min_return
        known = np.isfinite(base) & (base > 0) & np.isfinite(later)
        out[:-h] = np.where(known, up.astype(np.float64), np.nan)
    return out


# ---- the fit -------------------------------------------------------------------------------------------


def _phi(x: np.ndarray) -> np.ndarray:
    """(K, K) phi correlation of the rows of a (K, m) 0/1 matrix: (m n11 - n1i n1j) / sqrt(n1i n0i n1j n0j)."""
    f = x.astype(np.float64)
    m = float(f.shape[1])
    ones = f.sum(axis=1)
    both = f @ f.T
    spread = np.sqrt(ones * (m - ones))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (m * both - np.outer(ones, ones)) / np.outer(spread, spread)
    phi[~np.isfinite(phi)] = np.nan
    return np.clip(phi, -1.0, 1.0)


def _pattern_codes(rows: np.ndarray) -> np.ndarray:
    """A bar's pattern over the rows of an (m, n) bool matrix: sum_j row_j << j."""
    weights = np.left_shift(np.int64(1), np.arange(rows.shape[0], dtype=np.int64))
    return weights @ rows.astype(np.int64)


def _groups(k: int, pairs: Sequence[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    """Connected components of the dependence graph, each sorted, ordered by their first signal."""
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for i in range(k):
        members.setdefault(root(i), []).append(i)
    return tuple(tuple(g) for g in sorted(members.values()))


def _fit_node(
    matrix: np.ndarray, up: np.ndarray, members: tuple[int, ...], names: tuple[str, ...], alpha: float
) -> EvidenceNode:
    m = len(members)
    if m > MAX_GROUP_SIGNALS:
        raise ConfigError(
            f"dependence: expected groups of at most {MAX_GROUP_SIGNALS} dependent signals, found {m} "
            f"({[names[i] for i in members]}); raise dependence_threshold or drop near-duplicate signals"
        )
    codes = _pattern_codes(matrix[list(members)])
    size = 1 << m
    count_up = np.bincount(codes[up], minlength=size).astype(np.int64)
    count_down = np.bincount(codes[~up], minlength=size).astype(np.int64)
    seen = np.ones(size, dtype=bool) if m == 1 else (count_up + count_down) > 0
    categories = float(seen.sum())
    n_up, n_down = float(count_up.sum()), float(count_down.sum())
    log_lr = np.where(
        seen,
        np.log((count_up + alpha) / (n_up + categories * alpha))
        - np.log((count_down + alpha) / (n_down + categories * alpha)),
        0.0,
    )
    return EvidenceNode(
        members=members,
        names=tuple(names[i] for i in members),
        count_up=count_up,
        count_down=count_down,
        log_lr=log_lr,
    )


def fit_likelihoods(
    votes: Votes,
    close: Any,
    known_ns: Any,
    outcome: Outcome,
    *,
    until_ns: int | None = None,
    names: Sequence[str] | None = None,
    alpha: float = 1.0,
    dependence: Dependence = "independent",
    dependence_threshold: float = DEFAULT_DEPENDENCE_THRESHOLD,
) -> LikelihoodTable:
    """Per-signal likelihoods P(fired | up), P(fired | not up) and the prior P(up), from the bars whose label
    was known at or before ``until_ns`` (default: the last bar's known time).

    ``votes`` is a (K, n) bool (or 0/1) array with optional ``names`` (default ``signal_0``, ...) or a
    mapping name -> array (``names`` then selects and orders its entries). Bar i is counted when its label
    is defined (``forward_labels``) and ``known_ns[i + horizon_bars] <= until_ns``. Smoothing: see the
    module docstring (``alpha`` > 0, additive).

    Dependence: the within-class phi correlation of each pair of signals is measured on the counted bars;
    pairs with ``|phi| > dependence_threshold`` in the up or the not-up class are reported. With
    ``dependence="independent"`` (default) every signal is its own evidence node (plain naive Bayes); with
    ``"grouped"`` the signals linked by such pairs (connected components) form one node whose likelihood is
    estimated on their joint vote pattern, so correlated evidence is counted once (at most
    ``MAX_GROUP_SIGNALS`` signals per group). ConfigError on bad input or when no label is known by
    ``until_ns``.
    """
    matrix, signal_names = _vote_matrix(votes, names)
    n = matrix.shape[1]
    c = _close(close, n)
    t = _known(known_ns, n)
    alpha = _alpha(alpha)
    if dependence not in ("independent", "grouped"):
        raise ConfigError(f"dependence: expected 'independent' or 'grouped', found {dependence!r}")
    threshold = dependence_threshold
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.floating) or not 0 <= threshold < 1:
        raise ConfigError(f"dependence_threshold: expected a |phi| in [0, 1), found {threshold!r}")
    h = int(outcome.horizon_bars)
    if until_ns is None:
        cutoff = int(t[-1]) if n else 0
    elif isinstance(until_ns, bool) or not isinstance(until_ns, int | np.integer):
        raise ConfigError(f"until_ns: expected int64 UTC nanoseconds, found {until_ns!r}")
    else:
        cutoff = int(until_ns)
    labels = forward_labels(c, outcome)
    counted = np.zeros(n, dtype=bool)
    if n > h:
        counted[: n - h] = t[h:] <= cutoff
    counted &= np.isfinite(labels)
    n_obs = int(counted.sum())
    if n_obs == 0:
        when = ns_to_iso(cutoff) if n else "(no bars)"
        raise ConfigError(
            f"fit_likelihoods: expected at least one label known by until_ns {when}, found none "
            f"({n} bars; bar i's label is known at bar i + {h}'s close)"
        )
    fitted_until_ns = int(t[int(np.searchsorted(t, cutoff, side="right")) - 1])
    x = matrix[:, counted]
    up = labels[counted] == 1.0
    n_up = int(up.sum())
    n_down = n_obs - n_up
    count_on_up = x[:, up].sum(axis=1).astype(np.int64)
    count_on_down = x[:, ~up].sum(axis=1).astype(np.int64)
    phi_up, phi_down = _phi(x[:, up]), _phi(x[:, ~up])
    k = len(signal_names)
    linked: list[tuple[int, int]] = []
    pairs: list[DependentPair] = []
    for a in range(k):
        for b in range(a + 1, k):
            pu, pd_ = float(phi_up[a, b]), float(phi_down[a, b])
            if abs(pu) > threshold or abs(pd_) > threshold:  # NaN compares False: a constant signal is not linked
                linked.append((a, b))
                pairs.append(DependentPair(first=signal_names[a], second=signal_names[b], phi_up=pu, phi_down=pd_))
    groups = _groups(k, linked) if dependence == "grouped" else tuple((i,) for i in range(k))
    return LikelihoodTable(
        names=signal_names,
        outcome=outcome,
        alpha=alpha,
        n_obs=n_obs,
        n_up=n_up,
        n_down=n_down,
        prior_up=(n_up + alpha) / (n_obs + 2.0 * alpha),
        count_on_up=count_on_up,
        count_on_down=count_on_down,
        p_on_given_up=(count_on_up + alpha) / (n_up + 2.0 * alpha),
        p_on_given_down=(count_on_down + alpha) / (n_down + 2.0 * alpha),
        phi_up=phi_up,
        phi_down=phi_down,
        dependence=dependence,
        dependence_threshold=float(threshold),
        dependent_pairs=tuple(pairs),
        nodes=tuple(_fit_node(x, up, g, signal_names, alpha) for g in groups),
        fitted_until_ns=fitted_until_ns,
    )


# ---- scoring -------------------------------------------------------------------------------------------


def _sigmoid(log_odds: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -log_odds))


def posterior(table: LikelihoodTable, votes: Votes, known_ns: Any) -> np.ndarray:
    """P(up | the bar's votes) per bar, by the table's naive Bayes (one term per evidence node).

    ``votes`` holds the table's signals: a (K, n) array in ``table.names`` order or a mapping with exactly
    those names. Raises ``LookAheadError`` when a bar is known at or before ``table.fitted_until_ns``: the
    fit may have seen that bar's outcome.
    """
    if isinstance(votes, Mapping):
        extra = [str(k) for k in votes if k not in table.names]
        if extra:
            raise ConfigError(f"votes: expected the table's signals {list(table.names)}, found also {extra}")
        matrix, _ = _vote_matrix(votes, table.names)
    else:
        array = np.asarray(votes)
        if array.ndim == 2 and array.shape[0] != len(table.names):
            raise ConfigError(
                f"votes: expected {len(table.names)} rows {list(table.names)}, found {array.shape[0]} rows"
            )
        matrix, _ = _vote_matrix(array, table.names)
    t = _known(known_ns, matrix.shape[1])
    early = t <= table.fitted_until_ns
    if early.any():
        i = int(np.argmax(early))
        raise LookAheadError(
            f"posterior: the table was fitted on outcomes known up to {ns_to_iso(table.fitted_until_ns)}; "
            f"expected bars known after that, found bar {i} known at {ns_to_iso(int(t[i]))}"
        )
    log_odds = np.full(matrix.shape[1], table.log_prior_odds)
    for node in table.nodes:
        log_odds = log_odds + node.log_lr[_pattern_codes(matrix[list(node.members)])]
    return _sigmoid(log_odds)


def expanding_posterior(
    votes: Votes,
    close: Any,
    known_ns: Any,
    outcome: Outcome,
    *,
    names: Sequence[str] | None = None,
    min_labels: int = DEFAULT_MIN_LABELS,
    alpha: float = 1.0,
    window_labels: int | None = None,
) -> PosteriorSeries:
    """The point-in-time posterior a strategy uses: at bar t, naive Bayes (independent signals) fitted on the
    labels of bars i <= t - horizon_bars (all known by bar t's close), or on the last ``window_labels`` of
    them; NaN until ``min_labels`` labels exist.

    Bar t's numbers equal those of ``fit_likelihoods(..., until_ns=known_ns[t])`` (its prior and
    per-signal likelihoods) applied to bar t's votes. Counted with cumulative sums over the labels, O(n K),
    so the output on ``data[:k]`` equals the output on the full data up to k.
    """
    matrix, signal_names = _vote_matrix(votes, names)
    n = matrix.shape[1]
    c = _close(close, n)
    _known(known_ns, n)  # checked; with increasing known times, bar i's label is known at bar t iff i + h <= t
    alpha = _alpha(alpha)
    min_labels = _whole("min_labels", min_labels, 1)
    if window_labels is not None:
        window_labels = _whole("window_labels", window_labels, 1)
        if window_labels < min_labels:
            raise ConfigError(
                f"window_labels: expected at least min_labels ({min_labels}) labels, found {window_labels}"
            )
    labels = forward_labels(c, outcome)
    where = np.flatnonzero(np.isfinite(labels))  # bars with a label, in order
    up = labels[where] == 1.0
    x = matrix[:, where]
    zero = np.zeros((matrix.shape[0], 1), dtype=np.int64)
    cum_up = np.concatenate(([0], np.cumsum(up, dtype=np.int64)))
    cum_on_up = np.concatenate((zero, np.cumsum(x & up, axis=1, dtype=np.int64)), axis=1)
    cum_on_down = np.concatenate((zero, np.cumsum(x & ~up, axis=1, dtype=np.int64)), axis=1)
    hi = np.searchsorted(where, np.arange(n, dtype=np.int64) - outcome.horizon_bars, side="right")
    lo = np.zeros(n, dtype=np.int64) if window_labels is None else np.maximum(hi - window_labels, 0)
    n_labels = (hi - lo).astype(np.int64)
    n_up = (cum_up[hi] - cum_up[lo]).astype(np.float64)
    n_down = n_labels - n_up
    on_up = (cum_on_up[:, hi] - cum_on_up[:, lo]).astype(np.float64)
    on_down = (cum_on_down[:, hi] - cum_on_down[:, lo]).astype(np.float64)
    seen_up = np.where(matrix, on_up, n_up - on_up)  # labelled up bars with this bar's vote
    seen_down = np.where(matrix, on_down, n_down - on_down)
    log_lr = np.log((seen_up + alpha) / (n_up + 2.0 * alpha)) - np.log((seen_down + alpha) / (n_down + 2.0 * alpha))
    prior = (n_up + alpha) / (n_labels + 2.0 * alpha)
    log_odds = np.log(n_up + alpha) - np.log(n_down + alpha) + log_lr.sum(axis=0)
    post = _sigmoid(log_odds)
    short = n_labels < min_labels
    post[short] = np.nan
    prior[short] = np.nan
    log_lr[:, short] = np.nan
    return PosteriorSeries(
        names=signal_names,
        outcome=outcome,
        alpha=alpha,
        min_labels=min_labels,
        window_labels=window_labels,
        posterior=post,
        prior_up=prior,
        log_lr=log_lr,
        n_labels=n_labels,
    )


# ---- calibration ---------------------------------------------------------------------------------------


def reliability(prob: Any, labels: Any, n_bins: int = 10) -> ReliabilityTable:
    """How well probabilities match outcomes (see ``ReliabilityTable``). Pairs where either is NaN are left
    out; ``prob`` must lie in [0, 1] and ``labels`` be 0 or 1 (ConfigError otherwise)."""
    p = np.asarray(prob, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if p.ndim != 1 or y.ndim != 1 or len(p) != len(y):
        raise ConfigError(
            f"reliability: expected prob and labels of equal length, found shapes {p.shape} and {y.shape}"
        )
    n_bins = _whole("n_bins", n_bins, 1)
    keep = np.isfinite(p) & np.isfinite(y)
    p, y = p[keep], y[keep]
    if ((p < 0) | (p > 1)).any():
        raise ConfigError(
            f"reliability prob: expected probabilities in [0, 1], found {float(p[(p < 0) | (p > 1)][0])!r}"
        )
    if (~((y == 0) | (y == 1))).any():
        raise ConfigError(f"reliability labels: expected 0 or 1, found {float(y[~((y == 0) | (y == 1))][0])!r}")
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(idx, minlength=n_bins).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_predicted = np.bincount(idx, weights=p, minlength=n_bins) / count
        observed = np.bincount(idx, weights=y, minlength=n_bins) / count
        std_error = np.sqrt(mean_predicted * (1.0 - mean_predicted) / count)
    total = len(p)
    populated = count > 0
    ece = (
        float(np.sum(count[populated] * np.abs(observed[populated] - mean_predicted[populated])) / total)
        if total
        else math.nan
    )
    return ReliabilityTable(
        bin_edges=np.linspace(0.0, 1.0, n_bins + 1),
        count=count,
        mean_predicted=mean_predicted,
        observed_frequency=observed,
        std_error=std_error,
        brier=float(np.mean((p - y) ** 2)) if total else math.nan,
        expected_calibration_error=ece,
        n=total,
    )
