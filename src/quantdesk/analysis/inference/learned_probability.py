"""The learned probability P(up | evidence): scikit-learn's ``HistGradientBoostingClassifier`` wrapped in
``CalibratedClassifierCV`` (``isotonic`` or ``sigmoid``, Platt's method), fitted walk-forward on the strategy's
signal votes and a few bar features, as the alternative to the Bayesian posterior (``bayes``). The outcome is
``bayes.Outcome``'s: bar i is up when ``close[i + h] / close[i] - 1 > min_return``, and its label is known at bar
i + h's close, so a fit at bar f trains on the bars i <= f - h only (purged of the last h bars, whose outcomes are
still open), or on the last ``window_labels`` of them. Fits happen at bar indices: the first at the first bar
with ``min_labels`` known labels, then every ``refit_every_bars`` bars; each records ``fitted_through_ns =
known_ns[f]`` and scores bars f + 1 up to the next fit's bar, so no bar is scored by a fit that saw its close.
Calibration uses ``calibration_folds`` time-ordered folds (``TimeSeriesSplit`` with a gap of h bars between each
fold's training and calibration rows). Probabilities are clipped to [``PROBABILITY_FLOOR``, 1 -
``PROBABILITY_FLOOR``]: an isotonic map can give 0 or 1, which no Kelly fraction or log loss should meet.
Features (``bar_features``): each vote as 0/1, the log return over 1 bar and over ``h`` bars, the rolling
volatility of 1-bar log returns over ``VOL_BARS`` bars and the close's distance from its ``VOL_BARS``-bar mean
in those volatilities; all known at the bar's close. A bar is usable when its features are all defined (after
the first ``VOL_BARS`` bars, and its close is there): fits train on usable labelled bars and score usable bars,
and the probability is NaN elsewhere, and before the first fit, like the posterior before ``min_labels``. The
output depends on nothing after a bar (the truncation property) and is the same on every run (fixed
``random_state``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from quantdesk.analysis.inference.bayes import Outcome, Votes, _vote_matrix, forward_labels
from quantdesk.analysis.inference.learned_regime import _check_int, _one_thread
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso

if TYPE_CHECKING:  # imported where a fit runs: scikit-learn takes seconds to load, and loading a strategy needs none
    from sklearn.calibration import CalibratedClassifierCV

__all__ = [
    "CALIBRATIONS",
    "DEFAULT_CLASSIFIER_SETTINGS",
    "PROBABILITY_FLOOR",
    "ClassifierSettings",
    "LearnedProbabilitySeries",
    "ProbabilityFit",
    "bar_features",
    "learned_probability",
]

Calibration = Literal["isotonic", "sigmoid"]
CALIBRATIONS = ("isotonic", "sigmoid")
PROBABILITY_FLOOR = 1e-3
VOL_BARS = 20
BAR_FEATURE_NAMES = ("log_return_1", "log_return_horizon", "volatility_20", "distance_from_mean_20")


def _check_float(name: str, value: object, low: float, high: float) -> None:
    ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    if not ok or not low < float(value) <= high:  # type: ignore[arg-type]
        raise ConfigError(f"{name}: expected a number in ({low:g}, {high:g}], found {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassifierSettings:
    """The classifier, its calibration and the walk-forward schedule."""

    calibration: Calibration = "isotonic"
    refit_every_bars: int = 250
    min_labels: int = 100  # known labels the first fit waits for
    window_labels: int | None = None  # train on the latest labels only; None: every known label
    calibration_folds: int = 3
    max_iter: int = 100  # boosting rounds
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 20
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.calibration not in CALIBRATIONS:
            raise ConfigError(f"calibration: expected one of {list(CALIBRATIONS)}, found {self.calibration!r}")
        _check_int("refit_every_bars", self.refit_every_bars, 1)
        _check_int("calibration_folds", self.calibration_folds, 2, 20)
        _check_int("min_labels", self.min_labels, 10 * self.calibration_folds)
        if self.window_labels is not None:
            _check_int("window_labels", self.window_labels, self.min_labels)
        _check_int("max_iter", self.max_iter, 1, 10_000)
        _check_float("learning_rate", self.learning_rate, 0.0, 1.0)
        _check_int("max_leaf_nodes", self.max_leaf_nodes, 2, 1_000)
        _check_int("min_samples_leaf", self.min_samples_leaf, 1, 100_000)
        _check_int("random_state", self.random_state, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calibration": self.calibration,
            "refit_every_bars": self.refit_every_bars,
            "min_labels": self.min_labels,
            "window_labels": self.window_labels,
            "calibration_folds": self.calibration_folds,
            "max_iter": self.max_iter,
            "learning_rate": self.learning_rate,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
            "random_state": self.random_state,
        }


DEFAULT_CLASSIFIER_SETTINGS = ClassifierSettings()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ProbabilityFit:
    """One walk-forward fit: the bar it ran at, the labelled bars it trained on, and the last time it saw."""

    fit_bar: int  # the bar at whose close the fit ran (a position in the bars given)
    fitted_through_ns: int
    first_label_bar: int  # the first and last bar whose outcome it learned from
    last_label_bar: int
    n_labels: int
    n_up: int
    calibration: Calibration
    single_class: bool  # every label alike: the fit predicts that class's share, smoothed (no classifier)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fitted_through": ns_to_iso(self.fitted_through_ns),
            "n_labels": self.n_labels,
            "n_up": self.n_up,
            "calibration": self.calibration,
            "single_class": self.single_class,
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LearnedProbabilitySeries:
    """P(up | evidence) per bar from the walk-forward classifier (``learned_probability``).

    ``probability[t]`` is the calibrated probability of the fit ``fits[fit_index[t]]`` for bar t's features, NaN
    where no fit scores the bar (``fit_index`` -1); ``n_labels[t]`` is that fit's number of labels (0 before the
    first). ``posterior`` is ``probability`` by the name the Bayesian series uses.
    """

    names: tuple[str, ...]  # the signals, in vote order
    feature_names: tuple[str, ...]  # the classifier's columns: the signals, then BAR_FEATURE_NAMES
    outcome: Outcome
    settings: ClassifierSettings
    probability: np.ndarray  # float64 (n,)
    n_labels: np.ndarray  # int64 (n,)
    fit_index: np.ndarray  # int64 (n,)
    known_ns: np.ndarray  # int64 (n,)
    fits: tuple[ProbabilityFit, ...]

    @property
    def posterior(self) -> np.ndarray:
        return self.probability

    def __len__(self) -> int:
        return len(self.probability)


def bar_features(close: Any, horizon_bars: int) -> np.ndarray:
    """(n, 4) bar features known at each bar's close (``BAR_FEATURE_NAMES``): the log return over 1 bar and over
    ``horizon_bars`` bars, the sample standard deviation of the last ``VOL_BARS`` 1-bar log returns, and
    ``(close - SMA(VOL_BARS)) / (close * volatility)``; NaN where undefined."""
    c = np.asarray(close, dtype=np.float64)
    n = len(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_c = np.where(c > 0, np.log(c), np.nan)
    r1 = np.full(n, np.nan)
    rh = np.full(n, np.nan)
    r1[1:] = log_c[1:] - log_c[:-1]
    if n > horizon_bars:
        rh[horizon_bars:] = log_c[horizon_bars:] - log_c[:-horizon_bars]
    vol = np.full(n, np.nan)
    distance = np.full(n, np.nan)
    if n >= VOL_BARS:
        vol[VOL_BARS - 1 :] = np.std(np.lib.stride_tricks.sliding_window_view(r1, VOL_BARS), axis=1, ddof=1)
        mean = np.full(n, np.nan)
        mean[VOL_BARS - 1 :] = np.mean(np.lib.stride_tricks.sliding_window_view(c, VOL_BARS), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = (c - mean) / (c * vol)
    out = np.column_stack([r1, rh, vol, distance])
    out[~np.isfinite(out)] = np.nan
    return out


def _fit_schedule(label_known_count: np.ndarray, settings: ClassifierSettings) -> list[int]:
    ready = np.flatnonzero(label_known_count >= settings.min_labels)
    if len(ready) == 0:
        return []
    return list(range(int(ready[0]), len(label_known_count), settings.refit_every_bars))


def _classifier(settings: ClassifierSettings, horizon_bars: int) -> CalibratedClassifierCV:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import TimeSeriesSplit

    booster = HistGradientBoostingClassifier(
        max_iter=settings.max_iter,
        learning_rate=settings.learning_rate,
        max_leaf_nodes=settings.max_leaf_nodes,
        min_samples_leaf=settings.min_samples_leaf,
        early_stopping=False,  # a random validation split otherwise
        random_state=settings.random_state,
    )
    folds = TimeSeriesSplit(n_splits=settings.calibration_folds, gap=horizon_bars)
    return CalibratedClassifierCV(booster, method=settings.calibration, cv=folds)


def _fit_predict(
    settings: ClassifierSettings, horizon_bars: int, x: np.ndarray, y: np.ndarray, scored: np.ndarray
) -> np.ndarray:
    """P(up) of the ``scored`` rows from a calibrated classifier fitted on ``(x, y)``."""
    model = _classifier(settings, horizon_bars).fit(x, y)
    return np.asarray(model.predict_proba(scored)[:, 1], dtype=np.float64)


def _both_classes_in_every_fold(y: np.ndarray, settings: ClassifierSettings, horizon_bars: int) -> bool:
    from sklearn.model_selection import TimeSeriesSplit

    folds = TimeSeriesSplit(n_splits=settings.calibration_folds, gap=horizon_bars)
    return all(len(np.unique(y[train])) == 2 for train, _ in folds.split(y))


def learned_probability(
    votes: Votes,
    close: Any,
    known_ns: Any,
    outcome: Outcome,
    *,
    names: Sequence[str] | None = None,
    settings: ClassifierSettings = DEFAULT_CLASSIFIER_SETTINGS,
) -> LearnedProbabilitySeries:
    """P(up | votes and bar features) per bar, walk-forward (see the module docstring).

    ``votes`` as for ``bayes.expanding_posterior``: a (K, n) bool or 0/1 array with optional ``names``, or a
    mapping name -> array. ``known_ns`` must increase strictly. A fit whose training labels are all of one class,
    or whose earliest calibration fold holds one class only, predicts the smoothed share of up labels,
    ``(n_up + 1) / (n + 2)``, for every bar it scores (``ProbabilityFit.single_class``).
    """
    if not isinstance(settings, ClassifierSettings):
        raise ConfigError(f"settings: expected a ClassifierSettings, found {type(settings).__name__}")
    matrix, signal_names = _vote_matrix(votes, names)
    n = matrix.shape[1]
    c = np.asarray(close, dtype=np.float64)
    t = np.asarray(known_ns, dtype=np.int64)
    if c.shape != (n,) or t.shape != (n,):
        raise ConfigError(f"close and known_ns: expected {n} values each (one per bar), found {c.shape} and {t.shape}")
    if n > 1 and (np.diff(t) <= 0).any():
        raise ConfigError("known_ns: expected strictly increasing known times (one per bar), found repeats")
    h = int(outcome.horizon_bars)
    x = np.column_stack([matrix.T.astype(np.float64), bar_features(c, h)])
    labels = forward_labels(c, outcome)
    usable = np.isfinite(x).all(axis=1)
    labelled = np.isfinite(labels) & usable
    # labels known at bar f's close: those of bars i <= f - h
    known_count = np.zeros(n, dtype=np.int64)
    if n > h:
        known_count[h:] = np.cumsum(labelled)[: n - h]
    probability = np.full(n, np.nan)
    n_labels = np.zeros(n, dtype=np.int64)
    fit_index = np.full(n, -1, dtype=np.int64)
    fits: list[ProbabilityFit] = []
    schedule = _fit_schedule(known_count, settings)
    with _one_thread():  # the booster's OpenMP threads cost more than they save on a few thousand rows
        for j, f in enumerate(schedule):
            rows = np.flatnonzero(labelled[: f - h + 1])
            if settings.window_labels is not None:
                rows = rows[-settings.window_labels :]
            y = labels[rows].astype(np.int64)
            n_up = int(y.sum())
            last = schedule[j + 1] if j + 1 < len(schedule) else n - 1  # scores f + 1 .. the next fit's bar
            single = n_up in (0, len(y)) or not _both_classes_in_every_fold(y, settings, h)
            if last > f:
                scored = slice(f + 1, last + 1)
                if single:
                    p = np.full(last - f, (n_up + 1.0) / (len(y) + 2.0))
                else:
                    p = _fit_predict(settings, h, x[rows], y, np.nan_to_num(x[scored]))
                p = np.clip(p, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
                probability[scored] = np.where(usable[scored], p, np.nan)
                n_labels[scored] = len(y)
                fit_index[scored] = j
            fits.append(
                ProbabilityFit(
                    fit_bar=f,
                    fitted_through_ns=int(t[f]),
                    first_label_bar=int(rows[0]),
                    last_label_bar=int(rows[-1]),
                    n_labels=len(y),
                    n_up=n_up,
                    calibration=settings.calibration,
                    single_class=single,
                )
            )
    return LearnedProbabilitySeries(
        names=signal_names,
        feature_names=(*signal_names, *BAR_FEATURE_NAMES),
        outcome=outcome,
        settings=settings,
        probability=probability,
        n_labels=n_labels,
        fit_index=fit_index,
        known_ns=t,
        fits=tuple(fits),
    )
