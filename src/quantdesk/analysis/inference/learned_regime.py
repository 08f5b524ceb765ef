"""The learned market regime: a Gaussian hidden Markov model (hmmlearn ``GaussianHMM``) on one instrument's own
bars, fitted walk-forward and read by forward filtering only, so that every bar's regime is what was knowable at
its close. Features per bar: the log return ``log(close[t] / close[t - 1])`` and the log of the rolling
volatility, the sample standard deviation of the last ``vol_bars`` log returns, both standardised by the mean
and standard deviation of the training rows. Fits happen at bar indices: the first at the first bar with
``min_train_bars`` feature rows, then every ``refit_every_bars`` bars; a fit at bar f sees the feature rows of
the last ``train_bars`` bars up to and including f (all of them when ``train_bars`` is None), records
``fitted_through_ns = known_ns[f]`` and labels bars f + 1 up to the next fit's bar. Between refits a bar's state
probabilities are the forward filter ``P(state_t | features up to t)`` of the last fit, run from the first bar
of that fit's training window: never Viterbi paths or smoothed (forward-backward) posteriors, which use later
bars. EM starts from the training rows split into ``n_states`` equal groups by their volatility feature (each
group's mean and covariance, a sticky transition matrix with 0.95 on the diagonal), which is deterministic and
finds better optima on returns than k-means. States are named by a deterministic rule on each fit's own
parameters (``state_names``), by the variance of the log return first, because that is what such a model
separates reliably (state mean returns differ by hundredths of a percent a day and swap between fits): with 2
states ``calm`` and ``high_volatility``; with 3 or 4 states ``high_volatility`` is the state of largest
log-return variance and, of the others, ``bull`` has the highest mean log return, ``bear`` the lowest and (4
states) ``neutral`` the one between. A bar before the first fit has NaN probabilities and the code
``unknown``. The output depends on nothing after a bar (the truncation property) and is the same on every run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.domain.bars import Bars

if TYPE_CHECKING:  # imported where a fit runs: hmmlearn loads scikit-learn, which loading a strategy does not need
    from hmmlearn.hmm import GaussianHMM

__all__ = [
    "DEFAULT_HMM_SETTINGS",
    "HMM_REGIME_NAMES",
    "HmmFit",
    "HmmSettings",
    "LearnedRegime",
    "LearnedRegimeSeries",
    "hmm_features",
    "hmm_regime",
    "state_names",
]


class LearnedRegime(IntEnum):
    """The int8 codes of ``LearnedRegimeSeries.codes``."""

    UNKNOWN = 0
    BULL = 1
    NEUTRAL = 2
    BEAR = 3
    HIGH_VOLATILITY = 4
    CALM = 5


LEARNED_REGIME_NAMES: Mapping[int, str] = MappingProxyType({int(r): r.name.lower() for r in LearnedRegime})

HMM_REGIME_NAMES: Mapping[int, tuple[str, ...]] = MappingProxyType(
    {
        2: ("calm", "high_volatility"),
        3: ("bull", "bear", "high_volatility"),
        4: ("bull", "neutral", "bear", "high_volatility"),
    }
)
"""The regime names a model of ``n_states`` states gives, by ``n_states``."""


STICKY_START = 0.95  # EM's starting probability of staying in a state from one bar to the next
INIT_RIDGE = 1e-3  # added to the starting covariances (standardised units), so that none is singular


def _check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or value < low
        or (high is not None and value > high)
    ):
        upper = f" and at most {high}" if high is not None else ""
        raise ConfigError(f"{name}: expected a whole number of at least {low}{upper}, found {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class HmmSettings:
    """The model and its walk-forward schedule; bar counts are bars of the classified timeframe."""

    n_states: int = 2
    train_bars: int | None = 1000  # the window of each fit, in bars up to the fit's bar; None: every bar so far
    min_train_bars: int = 250  # feature rows the first fit waits for
    refit_every_bars: int = 250
    vol_bars: int = 20  # the rolling volatility's window of log returns
    n_iter: int = 100  # EM iterations at most (hmmlearn's n_iter)
    tol: float = 1e-4  # EM stops when the log-likelihood gains less (hmmlearn's tol)
    random_state: int = 0  # hmmlearn's; the deterministic start above draws nothing at random

    def __post_init__(self) -> None:
        _check_int("n_states", self.n_states, 2, 4)
        _check_int("min_train_bars", self.min_train_bars, 10 * self.n_states)
        if self.train_bars is not None:
            _check_int("train_bars", self.train_bars, self.min_train_bars)
        _check_int("refit_every_bars", self.refit_every_bars, 1)
        _check_int("vol_bars", self.vol_bars, 2, 10_000)
        _check_int("n_iter", self.n_iter, 1, 10_000)
        _check_int("random_state", self.random_state, 0)
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, int | float) or not math.isfinite(tol) or tol <= 0:
            raise ConfigError(f"tol: expected a positive log-likelihood gain, found {tol!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return HMM_REGIME_NAMES[self.n_states]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_states": self.n_states,
            "train_bars": self.train_bars,
            "min_train_bars": self.min_train_bars,
            "refit_every_bars": self.refit_every_bars,
            "vol_bars": self.vol_bars,
            "n_iter": self.n_iter,
            "tol": self.tol,
            "random_state": self.random_state,
        }


DEFAULT_HMM_SETTINGS = HmmSettings()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class HmmFit:
    """One walk-forward fit. Per-state arrays are in the model's state order; ``state_names[k]`` names state k.

    ``mean_return`` and ``stdev_return`` are of the log return per bar, ``mean_log_vol`` of the log rolling
    volatility, all in the features' own units (not standardised). ``fitted_through_ns`` is the known time of
    the fit's bar, the last the fit saw; the fit labels only bars known after it.
    """

    fit_bar: int  # the bar at whose close the fit ran (a position in the bars given)
    fitted_through_ns: int
    train_first_bar: int  # the first bar of the training window (the filter starts there)
    n_train: int  # feature rows the fit used
    state_names: tuple[str, ...]
    mean_return: np.ndarray  # (n_states,)
    stdev_return: np.ndarray  # (n_states,)
    mean_log_vol: np.ndarray  # (n_states,)
    start_probability: np.ndarray  # (n_states,)
    transition: np.ndarray  # (n_states, n_states), rows: from, columns: to
    log_likelihood: float  # of the training rows under the fitted model
    converged: bool  # EM's last iteration gained less than ``tol`` (a loss of rounding size included)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fitted_through": ns_to_iso(self.fitted_through_ns),
            "n_train": self.n_train,
            "states": [
                {
                    "name": name,
                    "mean_return": float(self.mean_return[k]),
                    "stdev_return": float(self.stdev_return[k]),
                    "mean_log_vol": float(self.mean_log_vol[k]),
                    "stay_probability": float(self.transition[k, k]),
                }
                for k, name in enumerate(self.state_names)
            ],
            "log_likelihood": self.log_likelihood,
            "converged": self.converged,
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LearnedRegimeSeries:
    """The HMM regime per bar (``hmm_regime``): filtered probabilities, the most probable regime, and the fits.

    ``probabilities[j, t]`` is P(regime ``names[j]`` | features up to bar t) under the fit that labels bar t
    (``fits[fit_index[t]]``), NaN where no fit labels the bar (``fit_index`` -1). ``codes`` are
    ``LearnedRegime`` values (int8) of the most probable regime, 0 (``unknown``) where none is known.
    """

    names: tuple[str, ...]
    probabilities: np.ndarray  # float64 (n_states, n)
    codes: np.ndarray  # int8 (n,)
    fit_index: np.ndarray  # int64 (n,)
    known_ns: np.ndarray  # int64 (n,)
    fits: tuple[HmmFit, ...]
    settings: HmmSettings

    def __len__(self) -> int:
        return len(self.codes)

    def name_at(self, i: int) -> str:
        """The regime's name at bar ``i`` (negative counts from the end); ``unknown`` before the first fit."""
        return LEARNED_REGIME_NAMES[int(self.codes[i])]

    def regime_names(self) -> np.ndarray:
        """The regime name of every bar (an object array)."""
        lookup = np.array([LEARNED_REGIME_NAMES[int(r)] for r in LearnedRegime], dtype=object)
        return lookup[self.codes.astype(np.intp)]

    def probability(self, name: str) -> np.ndarray:
        """P(regime ``name`` | features up to the bar), per bar."""
        if name not in self.names:
            raise ConfigError(f"probability: expected one of the regimes {list(self.names)}, found {name!r}")
        return self.probabilities[self.names.index(name)]

    def share(self, name: str) -> float:
        """The fraction of bars whose most probable regime is ``name`` (NaN for no bars)."""
        code = LearnedRegime[name.upper()]
        return float(np.mean(self.codes == code)) if len(self.codes) else math.nan


def hmm_features(close: Any, vol_bars: int) -> np.ndarray:
    """(n, 2) features per bar: the log return and the log of the rolling volatility (the sample standard
    deviation, ddof 1, of the ``vol_bars`` log returns ending at the bar); NaN where either is undefined (the
    first ``vol_bars`` bars, a missing or non-positive close in reach, a flat window)."""
    c = np.asarray(close, dtype=np.float64)
    n = len(c)
    log_return = np.full(n, np.nan)
    if n > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_return[1:] = np.log(c[1:] / c[:-1])
    log_return[~np.isfinite(log_return)] = np.nan
    log_vol = np.full(n, np.nan)
    if n >= vol_bars:
        windows = np.lib.stride_tricks.sliding_window_view(log_return, vol_bars)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_vol[vol_bars - 1 :] = np.log(np.std(windows, axis=1, ddof=1))
    log_vol[~np.isfinite(log_vol)] = np.nan
    return np.column_stack([log_return, log_vol])


def state_names(mean_return: np.ndarray, variance_return: np.ndarray) -> tuple[str, ...]:
    """The name of each state by the module's rule (ties go to the lower state index)."""
    k = len(mean_return)
    names = [""] * k
    wild = int(np.argmax(variance_return))
    names[wild] = "high_volatility"
    rest = [s for s in range(k) if s != wild]
    if k == 2:
        names[rest[0]] = "calm"
        return tuple(names)
    by_mean = sorted(rest, key=lambda s: (-float(mean_return[s]), s))  # highest mean first
    names[by_mean[0]] = "bull"
    names[by_mean[-1]] = "bear"
    for s in by_mean[1:-1]:
        names[s] = "neutral"
    return tuple(names)


def _emission_log_likelihood(model: GaussianHMM, x: np.ndarray) -> np.ndarray:
    """(m, n_states) log density of each standardised feature row under each state's Gaussian:
    ``-(d log(2 pi) + log det S + (x - mu)' S^-1 (x - mu)) / 2``."""
    d = x.shape[1]
    columns = []
    for mean, cov in zip(model.means_, np.asarray(model.covars_), strict=True):
        _, log_det = np.linalg.slogdet(cov)
        centred = x - mean
        mahalanobis = np.einsum("ij,ij->i", centred, np.linalg.solve(cov, centred.T).T)
        columns.append(-0.5 * (d * math.log(2.0 * math.pi) + log_det + mahalanobis))
    return np.column_stack(columns)


def _forward_filter(start: np.ndarray, transition: np.ndarray, log_b: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(m, n_states) P(state_t | rows up to t): the forward recursion, normalised at each step. A row without
    features (``valid`` False) is a prediction step alone; the filter starts at the first valid row (NaN before)."""
    m, k = log_b.shape
    out = np.full((m, k), np.nan)
    belief: np.ndarray | None = None
    for t in range(m):
        if belief is None:
            if not valid[t]:
                continue
            prior = start
        else:
            prior = belief @ transition
        if valid[t]:
            likelihood = np.exp(log_b[t] - np.max(log_b[t]))
            joint = prior * likelihood
            total = float(joint.sum())
            belief = joint / total if total > 0 and math.isfinite(total) else prior / prior.sum()
        else:
            belief = prior
        out[t] = belief
    return out


def _fit_schedule(valid: np.ndarray, settings: HmmSettings) -> list[int]:
    """The bars at whose close a fit runs: the first with ``min_train_bars`` feature rows so far (and in the
    training window), then every ``refit_every_bars`` bars."""
    n = len(valid)
    counts = np.cumsum(valid)
    if settings.train_bars is not None:
        window = settings.train_bars
        in_window = counts - np.concatenate((np.zeros(window, dtype=counts.dtype), counts[:-window]))[:n]
    else:
        in_window = counts
    ready = np.flatnonzero(in_window >= settings.min_train_bars)
    if len(ready) == 0:
        return []
    return list(range(int(ready[0]), n, settings.refit_every_bars))


@contextmanager
def _one_thread() -> Iterator[None]:
    """BLAS and OpenMP limited to one thread while a learned model fits (this one and ``learned_probability``):
    on a few thousand rows and covariances of 2 x 2, threads only wait on each other (ten times slower on two
    busy cores), and one thread gives the same numbers on every machine."""
    import sklearn  # noqa: F401  (loads its OpenMP runtime and SciPy's BLAS: threadpoolctl limits loaded ones only)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


class _DropNotConverging(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Model is not converging")


@contextmanager
def _quiet_em() -> Iterator[None]:
    """hmmlearn logs a warning whenever an EM step loses log-likelihood to rounding; the fit records whether EM
    converged (``HmmFit.converged``), so those lines are dropped while it runs."""
    logger = logging.getLogger("hmmlearn.base")
    drop = _DropNotConverging()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _fit_one(
    features: np.ndarray, valid: np.ndarray, f: int, known_ns: np.ndarray, settings: HmmSettings
) -> tuple[HmmFit, GaussianHMM, np.ndarray, np.ndarray]:
    """The fit at bar ``f`` (see the module docstring), its model, and the standardisation it used."""
    from hmmlearn.hmm import GaussianHMM

    first = 0 if settings.train_bars is None else max(0, f - settings.train_bars + 1)
    rows = features[first : f + 1][valid[first : f + 1]]
    center = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale == 0] = 1.0
    z = (rows - center) / scale
    model = GaussianHMM(
        n_components=settings.n_states,
        covariance_type="full",
        n_iter=settings.n_iter,
        tol=settings.tol,
        random_state=settings.random_state,
        init_params="",  # set below
    )
    k = settings.n_states
    groups = np.array_split(np.argsort(z[:, 1], kind="stable"), k)  # by the volatility feature, calm first
    model.startprob_ = np.full(k, 1.0 / k)
    off = (1.0 - STICKY_START) / (k - 1)
    model.transmat_ = np.full((k, k), off) + np.eye(k) * (STICKY_START - off)
    model.means_ = np.array([z[g].mean(axis=0) for g in groups])
    model.covars_ = np.array([np.cov(z[g].T) + INIT_RIDGE * np.eye(z.shape[1]) for g in groups])
    with _quiet_em():
        model.fit(z)
    history = list(model.monitor_.history)
    covars = np.asarray(model.covars_)
    mean_return = model.means_[:, 0] * scale[0] + center[0]
    variance_return = covars[:, 0, 0] * scale[0] ** 2
    fit = HmmFit(
        fit_bar=f,
        fitted_through_ns=int(known_ns[f]),
        train_first_bar=first,
        n_train=len(rows),
        state_names=state_names(mean_return, variance_return),
        mean_return=mean_return,
        stdev_return=np.sqrt(variance_return),
        mean_log_vol=model.means_[:, 1] * scale[1] + center[1],
        start_probability=np.asarray(model.startprob_, dtype=np.float64),
        transition=np.asarray(model.transmat_, dtype=np.float64),
        log_likelihood=float(model.score(z)),
        converged=len(history) >= 2 and history[-1] - history[-2] < settings.tol,
    )
    return fit, model, center, scale


def hmm_regime(bars: Bars, settings: HmmSettings = DEFAULT_HMM_SETTINGS) -> LearnedRegimeSeries:
    """The HMM regime of every bar of ``bars``, walk-forward (see the module docstring)."""
    if not isinstance(settings, HmmSettings):
        raise ConfigError(f"settings: expected an HmmSettings, found {type(settings).__name__}")
    n = len(bars)
    known_ns = np.asarray(bars.known_ns(), dtype=np.int64)
    if n > 1 and (np.diff(known_ns) <= 0).any():
        raise ConfigError(f"bars: expected strictly increasing known times, found repeats in {bars.symbol}")
    features = hmm_features(bars.close, settings.vol_bars)
    valid = np.isfinite(features).all(axis=1)
    names = settings.names
    probabilities = np.full((settings.n_states, n), np.nan)
    fit_index = np.full(n, -1, dtype=np.int64)
    fits: list[HmmFit] = []
    schedule = _fit_schedule(valid, settings)
    with _one_thread():
        for j, f in enumerate(schedule):
            fit, model, center, scale = _fit_one(features, valid, f, known_ns, settings)
            fits.append(fit)
            last = schedule[j + 1] if j + 1 < len(schedule) else n - 1  # labels f + 1 .. the next fit's bar
            if last <= f:
                continue
            span = slice(fit.train_first_bar, last + 1)
            z = (np.nan_to_num(features[span]) - center) / scale
            log_b = _emission_log_likelihood(model, z)
            filtered = _forward_filter(fit.start_probability, fit.transition, log_b, valid[span])
            labelled = filtered[f + 1 - fit.train_first_bar :]
            for s, name in enumerate(fit.state_names):
                probabilities[names.index(name), f + 1 : last + 1] = labelled[:, s]
            fit_index[f + 1 : last + 1] = j
    codes = np.zeros(n, dtype=np.int8)
    known = np.isfinite(probabilities).all(axis=0)
    if known.any():
        lookup = np.array([LearnedRegime[name.upper()] for name in names], dtype=np.int8)
        codes[known] = lookup[np.argmax(probabilities[:, known], axis=0)]
    return LearnedRegimeSeries(
        names=names,
        probabilities=probabilities,
        codes=codes,
        fit_index=fit_index,
        known_ns=known_ns,
        fits=tuple(fits),
        settings=settings,
    )
