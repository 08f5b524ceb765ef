"""Market beta and factor exposure by ordinary least squares (statsmodels), on returns given as pandas objects
or arrays. ``beta`` regresses an asset's returns on a benchmark's; ``factor_exposure`` regresses its excess
returns (returns less the risk-free rate) on factor returns such as Fama-French's Mkt-RF, SMB and HML (and any
other columns given), over the whole sample and, with ``window``, in a rolling window whose value at date t
uses only the ``window`` observations ending at t, so a result on ``data[:t+1]`` equals the full result at t.
Returns and factors must share units and period (daily fractions, or monthly percent as the French library
publishes them): alpha is in those units per period. Indexes are inner-joined and rows with a missing value
dropped; too few rows left is a DataError. ``fama_french_factors`` turns the bundled ``FF_*`` macro series
into such a frame, in fractions, indexed by the month each return describes (it becomes known later, at the
series' ``known_ts``; the as-of join that respects that belongs to the caller)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.core.timestamps import ns_to_index
from quantdesk.domain.series import MacroSeries

__all__ = [
    "FAMA_FRENCH_COLUMNS",
    "BetaEstimate",
    "FactorExposure",
    "beta",
    "factor_exposure",
    "fama_french_factors",
]

# bundled macro series name -> the Kenneth French library's column name
FAMA_FRENCH_COLUMNS: dict[str, str] = {"FF_MKT_RF": "Mkt-RF", "FF_SMB": "SMB", "FF_HML": "HML", "FF_RF": "RF"}
_RF_COLUMN = "RF"


def _clean(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _label(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _as_series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype(np.float64).rename(name)
    if isinstance(values, pd.DataFrame):
        raise ConfigError(f"{name}: expected a pandas Series or a 1-D array of returns, found a DataFrame")
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ConfigError(f"{name}: expected a 1-D array of returns, found shape {array.shape}")
    return pd.Series(array, name=name)


def _index_arrays(
    parts: dict[str, pd.Series | pd.DataFrame], given: dict[str, Any]
) -> dict[str, pd.Series | pd.DataFrame]:
    """Arrays carry no index: they must be as long as every other input, and take the index of the first
    pandas input (or 0..n-1 when there is none)."""
    arrays = [k for k, v in given.items() if not isinstance(v, pd.Series | pd.DataFrame)]
    if not arrays:
        return parts
    if len({len(v) for v in parts.values()}) > 1:
        lengths = ", ".join(f"{k} {len(v)}" for k, v in parts.items())
        raise DataError(
            "returns given as arrays differ in length from the other inputs",
            expected="equal lengths (arrays carry no index to align on)",
            found=lengths,
        )
    pandas_inputs = [k for k in given if k not in arrays]
    index = parts[pandas_inputs[0]].index if pandas_inputs else pd.RangeIndex(len(parts[arrays[0]]))
    return {k: v.set_axis(index, axis=0) if k in arrays else v for k, v in parts.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class BetaEstimate:
    """OLS of ``asset = alpha + beta × benchmark + e``. Standard errors are the classical (homoskedastic)
    ones; t-statistics are estimate / standard error. ``alpha`` is per period, in the returns' units."""

    beta: float
    beta_std_error: float
    beta_t_stat: float
    alpha: float
    alpha_std_error: float
    alpha_t_stat: float
    r_squared: float
    n: int
    start: str  # first observation's label (ISO time for a DatetimeIndex)
    end: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "beta": _clean(self.beta),
            "beta_std_error": _clean(self.beta_std_error),
            "beta_t_stat": _clean(self.beta_t_stat),
            "alpha": _clean(self.alpha),
            "alpha_std_error": _clean(self.alpha_std_error),
            "alpha_t_stat": _clean(self.alpha_t_stat),
            "r_squared": _clean(self.r_squared),
            "n": self.n,
            "start": self.start,
            "end": self.end,
        }


def _ols(y: np.ndarray, x: np.ndarray) -> Any:
    import statsmodels.api as sm

    return sm.OLS(y, x, hasconst=True).fit()


def beta(asset_returns: Any, benchmark_returns: Any) -> BetaEstimate:
    """The asset's beta to a benchmark: the OLS slope of its returns on the benchmark's, with the slope's
    standard error and t-statistic, the intercept (alpha), R² and the number of observations. Series are
    inner-joined on their index; arrays must be equally long. At least 3 observations are needed."""
    given = {"asset_returns": asset_returns, "benchmark_returns": benchmark_returns}
    parts = _index_arrays({k: _as_series(v, k) for k, v in given.items()}, given)
    frame = pd.concat(list(parts.values()), axis=1, join="inner").dropna()
    if len(frame) < 3:
        raise DataError(
            "beta: too few observations after aligning and dropping missing values",
            expected="at least 3",
            found=str(len(frame)),
        )
    y = frame["asset_returns"].to_numpy(np.float64)
    x = np.column_stack([np.ones(len(frame)), frame["benchmark_returns"].to_numpy(np.float64)])
    if float(np.ptp(x[:, 1])) == 0.0:
        raise DataError("beta: the benchmark's returns do not vary", column="benchmark_returns")
    fit = _ols(y, x)
    params, bse, tvalues = (np.asarray(a, dtype=np.float64) for a in (fit.params, fit.bse, fit.tvalues))
    return BetaEstimate(
        beta=float(params[1]),
        beta_std_error=float(bse[1]),
        beta_t_stat=float(tvalues[1]),
        alpha=float(params[0]),
        alpha_std_error=float(bse[0]),
        alpha_t_stat=float(tvalues[0]),
        r_squared=float(fit.rsquared),
        n=len(frame),
        start=_label(frame.index[0]),
        end=_label(frame.index[-1]),
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FactorExposure:
    """OLS of excess returns on factor returns: ``r - rf = alpha + sum_k loading_k × factor_k + e``.

    The whole-sample fit: ``loadings``, ``std_errors`` and ``t_stats`` by factor name, ``alpha`` (per period,
    in the returns' units) with its t-statistic, R² and adjusted R², and ``n``. With a ``window``: the rolling
    fit per date, ``rolling_loadings`` and ``rolling_t_stats`` (columns ``alpha`` and the factors) and
    ``rolling_r_squared``; the row at date t comes from the ``window`` observations ending at t, NaN before
    the first full window.
    """

    factors: tuple[str, ...]
    alpha: float
    alpha_std_error: float
    alpha_t_stat: float
    loadings: dict[str, float]
    std_errors: dict[str, float]
    t_stats: dict[str, float]
    r_squared: float
    adj_r_squared: float
    n: int
    start: str
    end: str
    window: int | None
    rolling_loadings: pd.DataFrame | None
    rolling_t_stats: pd.DataFrame | None
    rolling_r_squared: pd.Series | None

    def to_dict(self) -> dict[str, Any]:
        rolling: list[dict[str, Any]] | None = None
        if (
            self.rolling_loadings is not None
            and self.rolling_t_stats is not None
            and self.rolling_r_squared is not None
        ):
            rolling = [
                {
                    "date": _label(ts),
                    "loadings": {k: _clean(v) for k, v in self.rolling_loadings.loc[ts].items()},
                    "t_stats": {k: _clean(v) for k, v in self.rolling_t_stats.loc[ts].items()},
                    "r_squared": _clean(self.rolling_r_squared.loc[ts]),
                }
                for ts in self.rolling_loadings.index
            ]
        return {
            "factors": list(self.factors),
            "alpha": _clean(self.alpha),
            "alpha_std_error": _clean(self.alpha_std_error),
            "alpha_t_stat": _clean(self.alpha_t_stat),
            "loadings": {k: _clean(v) for k, v in self.loadings.items()},
            "std_errors": {k: _clean(v) for k, v in self.std_errors.items()},
            "t_stats": {k: _clean(v) for k, v in self.t_stats.items()},
            "r_squared": _clean(self.r_squared),
            "adj_r_squared": _clean(self.adj_r_squared),
            "n": self.n,
            "start": self.start,
            "end": self.end,
            "window": self.window,
            "rolling": rolling,
        }


def _spans(asset_returns: Any, factors: pd.DataFrame) -> str:
    """Where the returns and the factors lie in time, when both have dates (why they may not overlap)."""

    def span(index: Any) -> str | None:
        if not isinstance(index, pd.DatetimeIndex) or len(index) == 0:
            return None
        return f"{index.min():%Y-%m} to {index.max():%Y-%m}"

    mine, theirs = span(getattr(asset_returns, "index", None)), span(factors.dropna(how="all").index)
    return f" (the returns cover {mine}, the factors {theirs})" if mine and theirs else ""


def _excess_frame(asset_returns: Any, factors: pd.DataFrame, risk_free: Any) -> pd.DataFrame:
    asset = _as_series(asset_returns, "__excess__")
    given: dict[str, Any] = {"asset_returns": asset_returns, "factors": factors}
    parts: dict[str, pd.Series | pd.DataFrame] = {"asset_returns": asset, "factors": factors.astype(np.float64)}
    if risk_free is not None and not isinstance(risk_free, int | float):
        given["risk_free"] = risk_free
        parts["risk_free"] = _as_series(risk_free, "__rf__")
    parts = _index_arrays(parts, given)
    frame = pd.concat(list(parts.values()), axis=1, join="inner").dropna()
    if "__rf__" in frame:
        frame["__excess__"] = frame["__excess__"] - frame.pop("__rf__")
    elif risk_free is not None:
        rate = float(risk_free)
        if not math.isfinite(rate):
            raise ConfigError(f"risk_free: expected a finite per-period rate or a Series, found {risk_free!r}")
        frame["__excess__"] = frame["__excess__"] - rate
    return frame


def factor_exposure(
    asset_returns: Any,
    factors: pd.DataFrame,
    *,
    window: int | None = None,
    risk_free: Any = None,
) -> FactorExposure:
    """Regress the asset's excess returns on the factor returns (every column of ``factors``) with OLS.

    ``risk_free`` is the per-period risk-free return (a Series aligned like the returns, or one number);
    None means ``asset_returns`` are already excess returns. A column named ``RF`` among the factors is a
    ConfigError (it is the risk-free rate: pass it as ``risk_free``, not as a factor). ``window`` (at least
    the number of factors + 2 observations) adds the rolling regression (statsmodels RollingOLS). The whole
    sample needs at least the number of factors + 2 observations (one residual degree of freedom) after the
    inner join and dropping rows with a missing value, else DataError; so does a window larger than the
    sample.
    """
    if not isinstance(factors, pd.DataFrame):
        raise ConfigError(f"factors: expected a pandas DataFrame of factor returns, found {type(factors).__name__}")
    if factors.shape[1] == 0:
        raise ConfigError("factors: expected at least one factor column, found none")
    names = tuple(str(c) for c in factors.columns)
    if len(set(names)) != len(names):
        raise ConfigError(f"factors: expected distinct column names, found {list(names)}")
    if _RF_COLUMN in names:
        raise ConfigError(
            "factors: expected factor returns only, found the risk-free column 'RF'; "
            "pass it as risk_free=factors['RF'] and drop it from the factors"
        )
    if {"__excess__", "__rf__"} & set(names):
        raise ConfigError(f"factors: column names '__excess__' and '__rf__' are reserved, found {list(names)}")
    factors = factors.set_axis(list(names), axis=1)
    k = len(names)
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < k + 2):
        raise ConfigError(f"window: expected a whole number of observations >= {k + 2} (factors + 2), found {window!r}")
    frame = _excess_frame(asset_returns, factors, risk_free)
    needed = max(k + 2, window or 0)
    if len(frame) < needed:
        raise DataError(
            "factor_exposure: too few observations after aligning and dropping missing values",
            expected=f"at least {needed}" + (f" (window {window})" if window else f" ({k} factors + 2)"),
            found=f"{len(frame)}{_spans(asset_returns, factors)}",
        )
    y = frame["__excess__"].to_numpy(np.float64)
    x_frame = frame[list(names)]
    x = np.column_stack([np.ones(len(frame)), x_frame.to_numpy(np.float64)])
    if np.linalg.matrix_rank(x) < k + 1:
        raise DataError(
            "factor_exposure: the factors are collinear (or one does not vary)",
            expected="linearly independent factor columns",
            found=", ".join(names),
        )
    fit = _ols(y, x)
    params, bse, tvalues = (np.asarray(a, dtype=np.float64) for a in (fit.params, fit.bse, fit.tvalues))

    rolling_loadings = rolling_t = rolling_r2 = None
    if window is not None:
        from statsmodels.regression.rolling import RollingOLS

        columns = ["alpha", *names]
        # reset=1: every window's inner products are computed afresh from its own rows, never carried over, so
        # the row at t depends on the window ending at t alone (and not on how long the sample is)
        rolled = RollingOLS(y, x, window=window).fit(reset=1)
        rolling_loadings = pd.DataFrame(np.asarray(rolled.params, dtype=np.float64), index=frame.index, columns=columns)
        rolling_t = pd.DataFrame(np.asarray(rolled.tvalues, dtype=np.float64), index=frame.index, columns=columns)
        rolling_r2 = pd.Series(np.asarray(rolled.rsquared, dtype=np.float64), index=frame.index, name="r_squared")

    return FactorExposure(
        factors=names,
        alpha=float(params[0]),
        alpha_std_error=float(bse[0]),
        alpha_t_stat=float(tvalues[0]),
        loadings={n: float(v) for n, v in zip(names, params[1:], strict=True)},
        std_errors={n: float(v) for n, v in zip(names, bse[1:], strict=True)},
        t_stats={n: float(v) for n, v in zip(names, tvalues[1:], strict=True)},
        r_squared=float(fit.rsquared),
        adj_r_squared=float(fit.rsquared_adj),
        n=len(frame),
        start=_label(frame.index[0]),
        end=_label(frame.index[-1]),
        window=window,
        rolling_loadings=rolling_loadings,
        rolling_t_stats=rolling_t,
        rolling_r_squared=rolling_r2,
    )


def fama_french_factors(series: Iterable[MacroSeries]) -> pd.DataFrame:
    """A factor frame from the bundled Fama-French macro series (``FF_MKT_RF``, ``FF_SMB``, ``FF_HML``,
    ``FF_RF``), columns renamed to the French library's ``Mkt-RF``, ``SMB``, ``HML``, ``RF``, converted from
    percent to fractions when the series' unit starts with "percent", indexed by the start of the month each
    return describes (UTC). Other series are a ConfigError. Drop ``RF`` and pass it as ``risk_free``."""
    columns: dict[str, pd.Series] = {}
    for s in series:
        if s.name not in FAMA_FRENCH_COLUMNS:
            raise ConfigError(
                f"fama_french_factors: expected series named {', '.join(FAMA_FRENCH_COLUMNS)}, found {s.name!r}"
            )
        scale = 0.01 if s.unit.lower().startswith("percent") else 1.0
        columns[FAMA_FRENCH_COLUMNS[s.name]] = pd.Series(np.asarray(s.value) * scale, index=ns_to_index(s.ts))
    if not columns:
        raise ConfigError("fama_french_factors: expected at least one FF_* series, found none")
    frame = pd.concat(columns, axis=1, join="inner").sort_index()
    frame.index.name = "ts"
    return frame
