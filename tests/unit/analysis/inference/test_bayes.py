"""The Bayesian posterior: planted edges recovered, calibration out of sample, the look-ahead refusal,
the until_ns cut, dependence between signals, a hand-computed case and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from quantdesk.analysis.inference import (
    Outcome,
    expanding_posterior,
    fit_likelihoods,
    forward_labels,
    posterior,
    reliability,
)
from quantdesk.core.errors import ConfigError, LookAheadError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_HOUR, ns_to_iso

DAY0 = 17_000  # 2016-07-18


def known_days(n: int) -> np.ndarray:
    return (DAY0 + np.arange(n, dtype=np.int64)) * NS_PER_DAY


def close_from_ups(up: np.ndarray) -> np.ndarray:
    """n + 1 closes whose one-bar return from bar i is +1 % where ``up[i]`` and -1 % elsewhere."""
    return 100.0 * np.concatenate(([1.0], np.cumprod(np.where(up, 1.01, 0.99))))


def planted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signal ``edge`` fires with probability 0.3; the next bar is up with probability 0.70 after it fires
    and 0.45 otherwise. ``noise`` fires with probability 0.5 whatever happens. Returns (votes (2, n + 1),
    close (n + 1), known_ns (n + 1)); the last bar has no label."""
    rng = np.random.default_rng(seed)
    edge = rng.random(n + 1) < 0.3
    noise = rng.random(n + 1) < 0.5
    up = rng.random(n) < np.where(edge[:n], 0.70, 0.45)
    return np.vstack([edge, noise]), close_from_ups(up), known_days(n + 1)


ONE_BAR = Outcome(horizon_bars=1)


def test_planted_edge_is_recovered_within_four_standard_errors() -> None:
    """Planted: P(edge) = 0.3, P(up | edge) = 0.70, P(up | no edge) = 0.45, so P(up) = 0.525,
    P(edge | up) = 0.21 / 0.525 = 0.4 and P(edge | not up) = 0.09 / 0.475 = 0.18947; the noise signal has
    0.5 in both classes. Tolerance: 4 binomial standard errors, sqrt(p (1 - p) / m) with m the bars
    behind the estimate (up bars, not-up bars, or bars where edge fired): with 40 000 labels that is about
    0.019 for P(edge | up), 0.018 for P(edge | not up) and 0.024 for P(up | edge)."""
    n = 40_000
    votes, close, known = planted(n, seed=11)
    table = fit_likelihoods(votes, close, known, ONE_BAR, names=["edge", "noise"])

    assert table.n_obs == n
    assert table.fitted_until_ns == known[-1]
    p_edge = 0.3
    p_up = p_edge * 0.70 + (1 - p_edge) * 0.45
    expected_up = np.array([p_edge * 0.70 / p_up, 0.5])
    expected_down = np.array([p_edge * 0.30 / (1 - p_up), 0.5])

    def tol(p: np.ndarray | float, m: float) -> np.ndarray:
        return 4.0 * np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / m)

    assert abs(table.prior_up - p_up) < tol(p_up, n)
    assert np.all(np.abs(table.p_on_given_up - expected_up) < tol(expected_up, table.n_up))
    assert np.all(np.abs(table.p_on_given_down - expected_down) < tol(expected_down, table.n_down))
    fired = table.count_on_up[0] + table.count_on_down[0]
    assert abs(table.p_up_given_on[0] - 0.70) < tol(0.70, fired)
    assert abs(table.p_up_given_on[1] - p_up) < tol(p_up, n / 2)  # noise: P(up | noise) is the base rate
    assert table.dependent_pairs == ()  # the two signals are independent


def naive_bayes_world(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels first (P(up) = 0.52), then four signals independent given the label, with P(fired | up) /
    P(fired | not up) of 0.6/0.3, 0.3/0.5, 0.7/0.55 and 0.2/0.2: the world naive Bayes assumes, with
    16 vote patterns whose posteriors spread from about 0.3 to 0.8."""
    rng = np.random.default_rng(seed)
    up = rng.random(n) < 0.52
    on_up = np.array([0.6, 0.3, 0.7, 0.2])[:, None]
    on_down = np.array([0.3, 0.5, 0.55, 0.2])[:, None]
    votes = rng.random((4, n + 1)) < np.where(np.concatenate((up, [False])), on_up, on_down)
    return votes, close_from_ups(up), known_days(n + 1)


def test_posterior_fitted_on_the_first_half_is_calibrated_on_the_second() -> None:
    """Fit on the first 20 000 bars, score the next 20 000. Expected calibration error below 0.02, and
    every populated bin's observed frequency within 4 binomial standard errors of its mean prediction
    (plus 0.01 for the fit's own estimation error)."""
    n = 40_000
    votes, close, known = naive_bayes_world(n, seed=5)
    half = n // 2
    table = fit_likelihoods(votes, close, known, ONE_BAR, until_ns=int(known[half - 1]))
    assert table.fitted_until_ns == known[half - 1]
    assert table.n_obs == half - 1  # bar half - 1's label is known one bar later
    prob = posterior(table, votes[:, half:], known[half:])
    labels = forward_labels(close, ONE_BAR)[half:]
    rel = reliability(prob, labels, n_bins=10)

    assert rel.n == n - half  # the last bar has no label
    assert rel.expected_calibration_error < 0.02
    populated = rel.count > 0
    assert populated.sum() >= 5  # the probabilities really spread over the bins
    gap = np.abs(rel.observed_frequency[populated] - rel.mean_predicted[populated])
    assert np.all(gap < 4 * rel.std_error[populated] + 0.01)
    assert rel.brier < 0.25  # better than a coin


def test_posterior_refuses_bars_known_at_or_before_fitted_until() -> None:
    votes, close, known = planted(200, seed=1)
    table = fit_likelihoods(votes, close, known, ONE_BAR, until_ns=int(known[99]))
    assert table.fitted_until_ns == known[99]

    with pytest.raises(LookAheadError) as exc:
        posterior(table, votes[:, 99:], known[99:])  # bar 99 itself is the last bar the fit saw
    message = str(exc.value)
    assert ns_to_iso(int(known[99])) in message
    assert "found bar 0 known at 2016-10-25T00:00:00Z" in message
    with pytest.raises(LookAheadError, match=ns_to_iso(int(known[10]))):
        posterior(table, votes[:, 10:], known[10:])
    assert issubclass(LookAheadError, ConfigError)

    scored = posterior(table, votes[:, 100:], known[100:])
    assert scored.shape == (101,)
    assert np.all((scored > 0) & (scored < 1))


def test_fit_until_counts_only_labels_known_by_then() -> None:
    """Ten daily bars, a two-bar horizon. Labels (close[i + 2] > close[i]): 0 1 1 1 0 1 1 0, and bars 8, 9
    have none. Until bar 6's close (or any time before bar 7's), the labels of bars 0..4 are known
    (bar 4's at bar 6's close) and bar 5's is not: n_obs 5, 3 up. The signal fired at bars 0, 1, 3 among
    them: 2 of the 3 up bars, 1 of the 2 not-up bars. With alpha = 1: P(on | up) = 3/5, P(on | not up) =
    2/4, P(up) = 4/7."""
    close = np.array([10.0, 11, 9, 12, 12, 13, 10, 14, 15, 13])
    signal = np.array([[1, 1, 0, 1, 0, 1, 1, 1, 1, 1]], dtype=bool)
    known = known_days(10)
    two_bars = Outcome(horizon_bars=2)
    np.testing.assert_array_equal(forward_labels(close, two_bars), [0, 1, 1, 1, 0, 1, 1, 0, np.nan, np.nan])

    for until in (int(known[6]), int(known[6]) + 23 * NS_PER_HOUR):
        table = fit_likelihoods(signal, close, known, two_bars, until_ns=until)
        assert (table.n_obs, table.n_up, table.n_down) == (5, 3, 2)
        assert (int(table.count_on_up[0]), int(table.count_on_down[0])) == (2, 1)
        assert table.p_on_given_up[0] == pytest.approx(3 / 5, abs=1e-15)
        assert table.p_on_given_down[0] == pytest.approx(2 / 4, abs=1e-15)
        assert table.prior_up == pytest.approx(4 / 7, abs=1e-15)
        assert table.fitted_until_ns == known[6]

    early = fit_likelihoods(signal, close, known, two_bars, until_ns=int(known[6]) - 1)
    assert (early.n_obs, early.n_up) == (4, 3)  # bar 4's label is not known yet
    full = fit_likelihoods(signal, close, known, two_bars)
    assert (full.n_obs, full.n_up, int(full.count_on_up[0]), int(full.count_on_down[0])) == (8, 5, 4, 2)
    with pytest.raises(ConfigError, match="expected at least one label known by until_ns 2016-07-19T00:00:00Z"):
        fit_likelihoods(signal, close, known, two_bars, until_ns=int(known[1]))


@pytest.mark.parametrize("twin", ["copy", "complement"])
def test_duplicated_signal_shows_phi_one_and_grouping_gives_the_single_signal_posterior(twin: str) -> None:
    votes, close, known = planted(4_000, seed=3)
    edge, noise = votes
    other = edge if twin == "copy" else ~edge
    sign = 1.0 if twin == "copy" else -1.0
    tripled = {"edge": edge, "twin": other, "noise": noise}
    table = fit_likelihoods(tripled, close, known, ONE_BAR, until_ns=int(known[2_999]))

    assert table.phi_up[0, 1] == pytest.approx(sign, abs=1e-12)
    assert table.phi_down[0, 1] == pytest.approx(sign, abs=1e-12)
    assert [(p.first, p.second) for p in table.dependent_pairs] == [("edge", "twin")]
    assert abs(table.phi_up[0, 2]) < 0.1 and abs(table.phi_down[0, 2]) < 0.1
    assert [node.members for node in table.nodes] == [(0,), (1,), (2,)]  # reported, not handled

    grouped = fit_likelihoods(tripled, close, known, ONE_BAR, until_ns=int(known[2_999]), dependence="grouped")
    assert [node.names for node in grouped.nodes] == [("edge", "twin"), ("noise",)]
    single = fit_likelihoods({"edge": edge, "noise": noise}, close, known, ONE_BAR, until_ns=int(known[2_999]))
    later = {name: v[3_000:] for name, v in tripled.items()}
    expected = posterior(single, {"edge": edge[3_000:], "noise": noise[3_000:]}, known[3_000:])
    np.testing.assert_array_equal(posterior(grouped, later, known[3_000:]), expected)
    # counted twice, the edge pushes the posterior further from the prior than it should
    doubled = posterior(table, later, known[3_000:])
    assert np.all(np.abs(doubled - single.prior_up) > np.abs(expected - single.prior_up))


def test_two_signal_posterior_matches_the_hand_computation() -> None:
    """Eight labelled bars, 5 up then 3 not up; A fired at 3 up / 1 not-up bars, B at 3 up / 2 not-up bars.
    With alpha = 1: prior odds 6/4; P(A | up) = 4/7, P(A | not) = 2/5, P(B | up) = 4/7, P(B | not) = 3/5.
    Odds for (A, B) = 1.5 · (4/7)/(2/5) · (4/7)/(3/5) = 100/49; (A, not B) = 1.5 · (10/7) · (15/14) =
    225/98; (not A, B) = 1.5 · (5/7) · (20/21) = 50/49; (neither) = 1.5 · (5/7) · (15/14) = 225/196."""
    up = np.array([1, 1, 1, 1, 1, 0, 0, 0], dtype=bool)
    a = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
    b = np.array([1, 0, 1, 0, 1, 0, 1, 1, 0], dtype=bool)
    known = known_days(9)
    table = fit_likelihoods({"A": a, "B": b}, close_from_ups(up), known, ONE_BAR)
    assert table.prior_up == pytest.approx(0.6, abs=1e-15)
    np.testing.assert_allclose(table.p_on_given_up, [4 / 7, 4 / 7], rtol=1e-15)
    np.testing.assert_allclose(table.p_on_given_down, [2 / 5, 3 / 5], rtol=1e-15)

    new = {"A": np.array([1, 1, 0, 0], dtype=bool), "B": np.array([1, 0, 1, 0], dtype=bool)}
    new_known = (DAY0 + 9 + np.arange(4, dtype=np.int64)) * NS_PER_DAY
    odds = np.array([100 / 49, 225 / 98, 50 / 49, 225 / 196])
    np.testing.assert_allclose(posterior(table, new, new_known), odds / (1 + odds), rtol=1e-13)
    assert odds[0] / (1 + odds[0]) == pytest.approx(100 / 149)


def test_expanding_posterior_at_each_bar_is_the_fit_until_that_bars_close() -> None:
    votes, close, known = naive_bayes_world(600, seed=8)
    three = Outcome(horizon_bars=3, min_return=0.001)
    series = expanding_posterior(votes, close, known, three, min_labels=20)
    for t in (22, 23, 150, 599):
        table = fit_likelihoods(votes, close, known, three, until_ns=int(known[t]))
        assert series.n_labels[t] == table.n_obs == t - 2
        assert series.prior_up[t] == pytest.approx(table.prior_up, rel=1e-14)
        v = votes[:, t]
        expected = np.where(
            v,
            np.log(table.p_on_given_up / table.p_on_given_down),
            np.log((1 - table.p_on_given_up) / (1 - table.p_on_given_down)),
        )
        np.testing.assert_allclose(series.log_lr[:, t], expected, rtol=1e-12, atol=1e-14)
        log_odds = math.log(table.prior_up / (1 - table.prior_up)) + expected.sum()
        assert series.posterior[t] == pytest.approx(1 / (1 + math.exp(-log_odds)), rel=1e-12)
    # min_labels = 20 labels exist from bar 22 (labels of bars 0..19, known at bars 3..22)
    assert np.isnan(series.posterior[:22]).all() and not np.isnan(series.posterior[22:]).any()
    assert np.isnan(series.log_lr[:, 21]).all() and np.isnan(series.prior_up[21])
    np.testing.assert_array_equal(series.contribution("signal_2"), series.log_lr[2])


def test_expanding_posterior_window_uses_only_the_last_labels() -> None:
    votes, close, known = planted(400, seed=4)
    windowed = expanding_posterior(votes, close, known, ONE_BAR, min_labels=10, window_labels=50)
    assert windowed.n_labels[300] == 50
    start = 300 - 1 - 50 + 1  # labels of bars 250..299 are the last 50 known at bar 300
    cut = expanding_posterior(votes[:, start:], close[start:], known[start:], ONE_BAR, min_labels=10)
    assert cut.n_labels[300 - start] == 50
    assert windowed.posterior[300] == pytest.approx(cut.posterior[300 - start], rel=1e-14)
    np.testing.assert_allclose(windowed.log_lr[:, 300], cut.log_lr[:, 300 - start], rtol=1e-14)


def test_forward_labels_use_min_return_and_mark_unknown_outcomes() -> None:
    close = np.array([100.0, 100.5, 102.0, np.nan, 103.0, 0.0, 101.0])
    labels = forward_labels(close, Outcome(horizon_bars=1, min_return=0.01))
    # 100 -> 100.5 is +0.5 % (not above 1 %), 100.5 -> 102 is +1.49 %, NaNs around the gap and the bad base
    np.testing.assert_array_equal(labels, [0.0, 1.0, np.nan, np.nan, 0.0, np.nan, np.nan])


def test_reliability_bins_brier_and_calibration_error_by_hand() -> None:
    prob = np.array([0.05, 0.15, 0.15, 0.95, 1.0, np.nan])
    labels = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    rel = reliability(prob, labels, n_bins=2)
    np.testing.assert_array_equal(rel.count, [3, 2])
    np.testing.assert_allclose(rel.mean_predicted, [0.35 / 3, 0.975])
    np.testing.assert_allclose(rel.observed_frequency, [1 / 3, 1.0])
    assert rel.n == 5
    assert rel.brier == pytest.approx((0.05**2 + 0.85**2 + 0.15**2 + 0.05**2 + 0.0) / 5)
    assert rel.expected_calibration_error == pytest.approx((3 * abs(1 / 3 - 0.35 / 3) + 2 * 0.025) / 5)


# ---- bad input -------------------------------------------------------------------------------------------


def _good() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    votes, close, known = planted(30, seed=0)
    return votes, close, known


def test_length_mismatch_is_a_config_error_naming_both_lengths() -> None:
    votes, close, known = _good()
    with pytest.raises(ConfigError, match=r"close: expected 31 bars \(the length of the votes\), found 30"):
        fit_likelihoods(votes, close[:-1], known, ONE_BAR)
    with pytest.raises(ConfigError, match=r"known_ns: expected 31 bars .*found 29"):
        expanding_posterior(votes, close, known[:-2], ONE_BAR)
    with pytest.raises(ConfigError, match="expected every signal to have the same number of bars, found a: 31, b: 30"):
        fit_likelihoods({"a": votes[0], "b": votes[1][:-1]}, close, known, ONE_BAR)


def test_non_increasing_known_times_are_a_config_error_naming_the_bars() -> None:
    votes, close, known = _good()
    known = known.copy()
    known[5] = known[4]
    with pytest.raises(
        ConfigError,
        match="expected strictly increasing times, found 2016-07-22T00:00:00Z at bar 4 "
        "followed by 2016-07-22T00:00:00Z at bar 5",
    ):
        fit_likelihoods(votes, close, known, ONE_BAR)


@pytest.mark.parametrize("horizon", [0, -1, 1.5, True])
def test_horizon_below_one_bar_is_a_config_error(horizon: object) -> None:
    expected = f"outcome.horizon_bars: expected a whole number of bars >= 1, found {horizon!r}"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        Outcome(horizon_bars=horizon)  # type: ignore[arg-type]


def test_no_signals_is_a_config_error() -> None:
    _, close, known = _good()
    with pytest.raises(ConfigError, match="votes: expected at least one signal, found 0"):
        fit_likelihoods(np.zeros((0, 31), dtype=bool), close, known, ONE_BAR)
    with pytest.raises(ConfigError, match="votes: expected at least one signal, found 0"):
        expanding_posterior({}, close, known, ONE_BAR)


def test_non_boolean_votes_and_bad_options_are_config_errors() -> None:
    votes, close, known = _good()
    bad = votes.astype(np.float64)
    bad[1, 7] = np.nan
    with pytest.raises(ConfigError, match=r"votes signal 'signal_1': expected booleans .*found nan at bar 7"):
        fit_likelihoods(bad, close, known, ONE_BAR)
    with pytest.raises(ConfigError, match="alpha: expected a smoothing count > 0"):
        fit_likelihoods(votes, close, known, ONE_BAR, alpha=0.0)
    with pytest.raises(ConfigError, match="names: expected 2 names"):
        fit_likelihoods(votes, close, known, ONE_BAR, names=["only"])
    with pytest.raises(ConfigError, match="window_labels: expected at least min_labels"):
        expanding_posterior(votes, close, known, ONE_BAR, min_labels=20, window_labels=10)
    table = fit_likelihoods(votes, close, known, ONE_BAR, until_ns=int(known[10]))
    with pytest.raises(ConfigError, match=r"votes: expected 2 rows \['signal_0', 'signal_1'\], found 1 rows"):
        posterior(table, votes[:1, 20:], known[20:])
