"""The learned (HMM) regime: on a market with two planted volatility regimes its high-volatility state is the
planted one on most bars; every bar is labelled by a fit that ended before the bar was known, by forward
filtering (at a window's last bar the filtered probabilities equal hmmlearn's smoothed ones, and nowhere else
need they); states are named by their fitted variances and means; runs repeat exactly; bad settings are a
ConfigError naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.analysis.inference import (
    HMM_REGIME_NAMES,
    HmmSettings,
    LearnedRegime,
    LearnedRegimeSeries,
    hmm_regime,
    state_names,
)
from quantdesk.analysis.inference.learned_regime import (
    _emission_log_likelihood,
    _fit_one,
    _forward_filter,
    hmm_features,
)
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe

SETTINGS = HmmSettings(n_states=2, train_bars=1000, min_train_bars=250, refit_every_bars=300)


def planted_bars(seed: int, n: int = 3000) -> tuple[Bars, np.ndarray]:
    """Closes whose daily log returns switch between 0.6 % and 2.5 % volatility every 80-250 bars (zero drift)."""
    rng = np.random.default_rng(seed)
    wild = np.zeros(n, dtype=bool)
    i, state = 0, False
    while i < n:
        length = int(rng.integers(80, 250))
        wild[i : i + length] = state
        i += length
        state = not state
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, np.where(wild, 0.025, 0.006))))
    ts = (17_000 + np.arange(n, dtype=np.int64)) * NS_PER_DAY
    columns = {"ts": ts, "open": close, "high": close, "low": close, "close": close, "volume": np.ones(n)}
    return Bars.from_arrays("PLANTED", Timeframe.D1, columns), wild


@pytest.fixture(scope="module")
def planted() -> tuple[Bars, np.ndarray]:
    return planted_bars(0)


@pytest.fixture(scope="module")
def planted_series(planted: tuple[Bars, np.ndarray]) -> LearnedRegimeSeries:
    return hmm_regime(planted[0], SETTINGS)


def test_the_high_volatility_state_is_the_planted_one_on_most_bars_after_the_warm_up(
    planted: tuple[Bars, np.ndarray], planted_series: LearnedRegimeSeries
) -> None:
    bars, wild = planted
    series = planted_series
    known = series.codes != LearnedRegime.UNKNOWN
    assert known.sum() == len(bars) - 270  # the first fit at bar 269 (250 feature rows from bar 20), labels 270 on
    hit = (series.codes[known] == LearnedRegime.HIGH_VOLATILITY) == wild[known]
    assert hit.mean() >= 0.93  # 0.945 measured; the 20-bar volatility lags each switch by some bars
    assert set(np.unique(series.regime_names()[known])) == {"calm", "high_volatility"}
    assert series.share("high_volatility") == pytest.approx(float(np.mean(series.codes == 4)))


def test_every_bar_is_labelled_by_the_latest_fit_that_ended_before_it_was_known(
    planted: tuple[Bars, np.ndarray], planted_series: LearnedRegimeSeries
) -> None:
    bars, _ = planted
    series = planted_series
    known_ns = bars.known_ns()
    fit_bars = [f.fit_bar for f in series.fits]
    assert fit_bars == list(range(269, 3000, 300))  # the schedule: the first fit, then every refit_every_bars
    labelled = np.flatnonzero(series.fit_index >= 0)
    assert labelled[0] == 270 and (series.fit_index[:270] == -1).all()
    assert np.isnan(series.probabilities[:, :270]).all()
    for t in labelled:
        fit = series.fits[series.fit_index[t]]
        assert fit.fitted_through_ns == known_ns[fit.fit_bar] < known_ns[t]
        assert fit.fit_bar == max(f for f in fit_bars if f < t)  # the latest fit before the bar
    for fit in series.fits:
        assert fit.train_first_bar == max(0, fit.fit_bar - 999) and fit.n_train == min(fit.fit_bar - 19, 1000)
    np.testing.assert_allclose(series.probabilities[:, labelled].sum(axis=0), 1.0)


def test_the_filter_is_forward_only_and_agrees_with_smoothing_at_the_windows_last_bar(
    planted: tuple[Bars, np.ndarray],
) -> None:
    bars, _ = planted
    features = hmm_features(bars.close, SETTINGS.vol_bars)
    valid = np.isfinite(features).all(axis=1)
    fit, model, center, scale = _fit_one(features, valid, 1869, bars.known_ns(), SETTINGS)
    z = (features[fit.train_first_bar : 1870] - center) / scale
    assert fit.train_first_bar == 870 and np.isfinite(z).all()
    filtered = _forward_filter(
        fit.start_probability, fit.transition, _emission_log_likelihood(model, z), valid[870:1870]
    )
    smoothed = model.predict_proba(z)  # forward-backward: uses the rows after each one
    np.testing.assert_allclose(filtered[-1], smoothed[-1], atol=1e-9)  # nothing after the last row to smooth with
    assert np.abs(filtered[:-1] - smoothed[:-1]).max() > 0.1  # earlier rows: smoothing saw the future, filtering not


def test_states_are_named_by_variance_then_mean() -> None:
    mean, var = np.array([0.001, -0.002, 0.0]), np.array([1.0, 2.0, 9.0])
    assert state_names(mean[:2], var[:2]) == ("calm", "high_volatility")
    assert state_names(mean, var) == ("bull", "bear", "high_volatility")
    assert state_names(np.array([0.0, 0.002, 0.001, -0.001]), np.array([1.0, 1.0, 5.0, 1.0])) == (
        "neutral", "bull", "high_volatility", "bear",
    )  # fmt: skip
    assert {n: HMM_REGIME_NAMES[n] for n in (2, 3, 4)} == {
        2: ("calm", "high_volatility"),
        3: ("bull", "bear", "high_volatility"),
        4: ("bull", "neutral", "bear", "high_volatility"),
    }


def test_three_states_and_an_expanding_window_repeat_exactly(planted: tuple[Bars, np.ndarray]) -> None:
    bars, _ = planted
    settings = HmmSettings(n_states=3, train_bars=None, min_train_bars=300, refit_every_bars=600)
    first, again = hmm_regime(bars[:1500], settings), hmm_regime(bars[:1500], settings)
    np.testing.assert_array_equal(first.probabilities, again.probabilities)
    assert [(f.fit_bar, f.train_first_bar, f.n_train) for f in first.fits] == [(319, 0, 300), (919, 0, 900)]
    assert first.names == ("bull", "bear", "high_volatility")
    for fit in first.fits:  # the state of largest variance is named high_volatility: the planted 2.5 % a day
        wild_state = fit.state_names.index("high_volatility")
        assert int(np.argmax(fit.stdev_return)) == wild_state
        assert fit.stdev_return[wild_state] == pytest.approx(0.025, rel=0.1)


def test_too_few_bars_give_no_fit_and_unknown_everywhere(planted: tuple[Bars, np.ndarray]) -> None:
    bars, _ = planted
    series = hmm_regime(bars[:269], SETTINGS)  # 249 feature rows: one short of the first fit
    assert series.fits == () and (series.codes == 0).all() and series.name_at(-1) == "unknown"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"n_states": 5}, "n_states"),
        ({"n_states": 1}, "n_states"),
        ({"train_bars": 100, "min_train_bars": 250}, "train_bars"),
        ({"refit_every_bars": 0}, "refit_every_bars"),
        ({"vol_bars": 1}, "vol_bars"),
        ({"tol": 0.0}, "tol"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=f"^{field}: expected"):
        HmmSettings(**options)  # type: ignore[arg-type]
