"""No look-ahead in the Bayesian posterior.

``expanding_posterior`` on ``data[:k]`` equals its output on the full data up to ``k``; a fit until bar
``k - 1``'s known time on the full data equals the fit on ``data[:k]`` (it sees no later bar); and labels
computed on a prefix agree with the full labels wherever the prefix knows them. Random votes, closes with
gaps (NaN), irregular known times, horizons, windows and smoothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.analysis.inference import Outcome, expanding_posterior, fit_likelihoods, forward_labels
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_MINUTE


@dataclass(frozen=True)
class Case:
    votes: np.ndarray  # (K, n) bool
    close: np.ndarray
    known_ns: np.ndarray
    outcome: Outcome
    cut: int


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(min_value=0, max_value=300))
    k = draw(st.integers(min_value=1, max_value=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    votes = rng.random((k, n)) < rng.uniform(0.05, 0.95, (k, 1))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    if draw(st.booleans()):
        close[rng.random(n) < 0.05] = np.nan  # missing closes: their labels are NaN
    gaps = rng.integers(1, 3 * NS_PER_DAY // NS_PER_MINUTE, n) * NS_PER_MINUTE
    known_ns = 17_000 * NS_PER_DAY + np.cumsum(gaps).astype(np.int64)
    outcome = Outcome(horizon_bars=draw(st.integers(1, 6)), min_return=draw(st.sampled_from([0.0, 0.005, -0.01])))
    return Case(votes, close, known_ns, outcome, cut=draw(st.integers(0, n)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=cases(),
    min_labels=st.integers(1, 30),
    window_extra=st.one_of(st.none(), st.integers(0, 60)),
    alpha=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_expanding_posterior_on_a_prefix_equals_the_full_output_up_to_the_cut(
    case: Case, min_labels: int, window_extra: int | None, alpha: float
) -> None:
    window = None if window_extra is None else min_labels + window_extra
    k = case.cut

    def run(end: int) -> object:
        return expanding_posterior(
            case.votes[:, :end],
            case.close[:end],
            case.known_ns[:end],
            case.outcome,
            min_labels=min_labels,
            alpha=alpha,
            window_labels=window,
        )

    full, prefix = run(len(case.close)), run(k)
    np.testing.assert_array_equal(prefix.posterior, full.posterior[:k])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(prefix.prior_up, full.prior_up[:k])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(prefix.log_lr, full.log_lr[:, :k])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(prefix.n_labels, full.n_labels[:k])  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), grouped=st.booleans())
def test_fit_until_a_bars_known_time_equals_the_fit_on_the_data_cut_there(case: Case, grouped: bool) -> None:
    k = case.cut
    if k == 0:
        return
    dependence = "grouped" if grouped else "independent"
    try:
        cut = fit_likelihoods(case.votes[:, :k], case.close[:k], case.known_ns[:k], case.outcome, dependence=dependence)
    except ConfigError:  # no label known yet: the full data must say the same
        try:
            fit_likelihoods(
                case.votes,
                case.close,
                case.known_ns,
                case.outcome,
                until_ns=int(case.known_ns[k - 1]),
                dependence=dependence,
            )
        except ConfigError:
            return
        raise AssertionError("the full data fitted until the cut found labels the cut data did not") from None
    full = fit_likelihoods(
        case.votes, case.close, case.known_ns, case.outcome, until_ns=int(case.known_ns[k - 1]), dependence=dependence
    )
    assert full.fitted_until_ns == cut.fitted_until_ns == case.known_ns[k - 1]
    assert (full.n_obs, full.n_up, full.prior_up) == (cut.n_obs, cut.n_up, cut.prior_up)
    for name in ("count_on_up", "count_on_down", "p_on_given_up", "p_on_given_down", "phi_up", "phi_down"):
        np.testing.assert_array_equal(getattr(full, name), getattr(cut, name), err_msg=name)
    assert [p.to_dict() for p in full.dependent_pairs] == [p.to_dict() for p in cut.dependent_pairs]  # NaN-safe
    assert [node.members for node in full.nodes] == [node.members for node in cut.nodes]
    for a, b in zip(full.nodes, cut.nodes, strict=True):
        np.testing.assert_array_equal(a.log_lr, b.log_lr)


@settings(max_examples=100, deadline=None)
@given(case=cases())
def test_labels_on_a_prefix_agree_with_the_full_labels_where_the_prefix_knows_them(case: Case) -> None:
    k = case.cut
    full = forward_labels(case.close, case.outcome)
    prefix = forward_labels(case.close[:k], case.outcome)
    h = case.outcome.horizon_bars
    assert np.isnan(prefix[max(k - h, 0) :]).all()  # the last h outcomes are not known at the cut
    np.testing.assert_array_equal(prefix[: max(k - h, 0)], full[: max(k - h, 0)])
