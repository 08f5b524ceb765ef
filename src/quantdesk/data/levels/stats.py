"""Rolling statistics the drill-down sources share: correlation and beta over a trailing window of paired
observations, computed from cumulative sums (vectorised, no pandas), and the changes they are taken on.

Every output at row ``t`` uses rows ``t - window + 1 .. t`` only (the truncation rule), and only the rows of
the window where both inputs are finite; with fewer than ``min_obs`` such rows, or no variance, it is NaN.
"""

from __future__ import annotations

import numpy as np

from quantdesk.core.errors import ConfigError


def _window_sums(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing ``window`` rows (fewer at the start) of a 1-D array."""
    c = np.concatenate([[0.0], np.cumsum(values)])
    out = c[1:].copy()
    out[window:] -= c[1 : len(c) - window]
    return out


def _check(window: int, min_obs: int) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ConfigError(f"window: expected an integer >= 2 observations, found {window!r}")
    if isinstance(min_obs, bool) or not isinstance(min_obs, int) or not 2 <= min_obs <= window:
        raise ConfigError(f"min_obs: expected an integer from 2 to the window ({window}), found {min_obs!r}")


def _moments(x: np.ndarray, y: np.ndarray, window: int) -> tuple[np.ndarray, ...]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ConfigError(f"x, y: expected two 1-D arrays of one length, found shapes {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    xs, ys = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    n = _window_sums(ok.astype(np.float64), window)
    sx, sy = _window_sums(xs, window), _window_sums(ys, window)
    sxx, syy, sxy = _window_sums(xs * xs, window), _window_sums(ys * ys, window), _window_sums(xs * ys, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        var_x = sxx - sx * sx / n
        var_y = syy - sy * sy / n
    return n, cov, var_x, var_y


def rolling_correlation(x: np.ndarray, y: np.ndarray, window: int, min_obs: int) -> np.ndarray:
    """Pearson correlation of ``x`` and ``y`` over each trailing window (``np.corrcoef`` on its paired rows)."""
    _check(window, min_obs)
    n, cov, var_x, var_y = _moments(x, y, window)
    tiny = 1e-14
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cov / np.sqrt(var_x * var_y)
    bad = (n < min_obs) | (var_x <= tiny * np.maximum(n, 1)) | (var_y <= tiny * np.maximum(n, 1))
    return np.where(bad, np.nan, np.clip(out, -1.0, 1.0))


def rolling_beta(y: np.ndarray, x: np.ndarray, window: int, min_obs: int) -> np.ndarray:
    """The OLS slope of ``y`` on ``x`` (with an intercept) over each trailing window: cov(x, y) / var(x)."""
    _check(window, min_obs)
    n, cov, var_x, _ = _moments(x, y, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cov / var_x
    return np.where((n < min_obs) | (var_x <= 1e-14 * np.maximum(n, 1)), np.nan, out)


def changes(values: np.ndarray, *, log: bool) -> np.ndarray:
    """Row-to-row change: ``log(v_t / v_{t-1})`` (levels such as prices) or ``v_t - v_{t-1}`` (rates, yields,
    scores); NaN in the first row and wherever either value is missing (or, for log changes, not positive)."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full(len(v), np.nan)
    if len(v) > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[1:] = np.log(v[1:] / v[:-1]) if log else v[1:] - v[:-1]
    out[~np.isfinite(out)] = np.nan
    return out
