"""The market regime of each bar: trending up, trending down, mean-reverting or high-volatility, by
transparent rules on one instrument's bars (or the market's, given an index's bars), point in time.

Rules, evaluated at each bar's close on the bars' own timeframe with ``RegimeRules`` (defaults in brackets):
``vol = ATR(vol_period_bars [14]) / close``; ``vol_pct`` is the mid-rank percentile of today's ``vol`` among
the finite ``vol`` of the previous ``vol_lookback_bars`` [252] bars (today excluded, at least
``vol_min_history_bars`` [126] of them) and ``vol_median`` their median (``kernels.regime.trailing_rank``).
``ema = EMA(close, trend_ema_bars [50])``, ``slope = ema[i] / ema[i - trend_slope_bars [10]] - 1`` and
``adx = ADX(adx_period_bars [14])`` (all TA-Lib). Then, first match wins:

1. ``unknown`` (code 0) while any of ``vol_pct``, ``vol_median``, ``adx``, ``ema``, ``slope`` or the close is
   NaN (the warm-up: about ``vol_period_bars + vol_min_history_bars`` bars);
2. ``high_volatility`` (4) when ``vol_pct >= vol_percentile`` [0.80] and ``vol >= vol_median_multiple``
   [1.25] ``* vol_median`` (both: the top of its own past range, and clearly above its usual level);
3. ``trending_up`` (1) when ``adx >= adx_trend`` [25], ``close > ema``, ``slope > min_trend_slope`` [0] and
   the benchmark's trend is not down;
4. ``trending_down`` (2) when ``adx >= adx_trend``, ``close < ema``, ``slope < -min_trend_slope`` and the
   benchmark's trend is not up;
5. ``mean_reverting`` (3) otherwise.

The benchmark (optional; any timeframe) enters only through its own trend, from the same ``ema`` and
``slope`` rules on its own bars: +1 when its close is above its EMA and the slope is above
``min_trend_slope``, -1 for the mirror, 0 otherwise; aligned onto the bars by known time (a daily
benchmark bar counts only from its close on, ``data.align``). Where it is not yet known, or its latest bar
closed longer ago than its timeframe allows (``data.align.bars_max_age_ns``: 7 days for daily bars), it is
NaN and opposes nothing: a benchmark whose data ended years ago does not veto today's trends. A trend
against the benchmark's is classed ``mean_reverting``.

``regime_codes_at(bars, at)`` is ``classify_regime(bars).codes[at]`` for a few bars of many (one per trade's
decision), with the trailing rank computed at those bars only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType

import numpy as np
import talib

from quantdesk.analysis.technical.mtf import align_outputs
from quantdesk.core.errors import ConfigError
from quantdesk.data.align import asof_indices, bars_max_age_ns, stale_mask
from quantdesk.domain.bars import Bars
from quantdesk.kernels.regime import trailing_rank, trailing_rank_at

__all__ = [
    "DEFAULT_REGIME_RULES",
    "REGIME_NAMES",
    "RULE_REGIME_NAMES",
    "Regime",
    "RegimeRules",
    "RegimeSeries",
    "classify_regime",
    "regime_codes_at",
]


class Regime(IntEnum):
    """The int8 codes of ``RegimeSeries.codes``."""

    UNKNOWN = 0
    TRENDING_UP = 1
    TRENDING_DOWN = 2
    MEAN_REVERTING = 3
    HIGH_VOLATILITY = 4


REGIME_NAMES: Mapping[int, str] = MappingProxyType({int(r): r.name.lower() for r in Regime})
RULE_REGIME_NAMES: tuple[str, ...] = tuple(r.name.lower() for r in Regime if r is not Regime.UNKNOWN)
"""The regimes the rules give once a bar is known (``unknown`` left out): what a regime filter may allow."""


def _check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise ConfigError(f"{name}: expected an integer of at least {low}{upper}, found {value!r}")


def _check_number(name: str, value: object, expectation: str, ok: Callable[[float], bool]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not ok(value):
        raise ConfigError(f"{name}: expected {expectation}, found {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeRules:
    """The classifier's thresholds; bar counts are bars of the classified timeframe."""

    adx_period_bars: int = 14
    adx_trend: float = 25.0  # ADX points (0-100) at or above which a market trends
    trend_ema_bars: int = 50
    trend_slope_bars: int = 10
    min_trend_slope: float = 0.0  # fraction: the EMA's change over trend_slope_bars must exceed it
    vol_period_bars: int = 14  # ATR period; vol = ATR / close (a fraction of price)
    vol_lookback_bars: int = 252
    vol_min_history_bars: int = 126
    vol_percentile: float = 0.80  # fraction in (0, 1)
    vol_median_multiple: float = 1.25  # vol must also be at least this multiple of its trailing median

    def __post_init__(self) -> None:
        _check_int("adx_period_bars", self.adx_period_bars, 2, 100_000)
        _check_int("trend_ema_bars", self.trend_ema_bars, 2, 100_000)
        _check_int("trend_slope_bars", self.trend_slope_bars, 1, 100_000)
        _check_int("vol_period_bars", self.vol_period_bars, 1, 100_000)
        _check_int("vol_lookback_bars", self.vol_lookback_bars, 1, 100_000)
        _check_int("vol_min_history_bars", self.vol_min_history_bars, 1, self.vol_lookback_bars)
        _check_number("adx_trend", self.adx_trend, "ADX points from 0 to 100", lambda v: 0 <= v <= 100)
        _check_number("min_trend_slope", self.min_trend_slope, "a fraction >= 0", lambda v: v >= 0)
        _check_number("vol_percentile", self.vol_percentile, "a fraction strictly between 0 and 1", lambda v: 0 < v < 1)
        _check_number("vol_median_multiple", self.vol_median_multiple, "a number >= 0", lambda v: v >= 0)


DEFAULT_REGIME_RULES = RegimeRules()


@dataclass(frozen=True, slots=True)
class RegimeSeries:
    """Per-bar regime codes (``Regime``, int8) with every input of the rules, so a log can say why."""

    codes: np.ndarray  # int8, Regime values
    ts: np.ndarray  # the bars' ts (int64 UTC ns)
    adx: np.ndarray
    vol: np.ndarray  # ATR / close
    vol_percentile: np.ndarray  # [0, 1], point in time
    vol_median: np.ndarray  # trailing median of vol
    ema: np.ndarray
    trend_slope: np.ndarray  # ema[i] / ema[i - trend_slope_bars] - 1
    benchmark_trend: np.ndarray  # +1 / 0 / -1, NaN without a benchmark or before it is known
    rules: RegimeRules

    def __len__(self) -> int:
        return len(self.codes)

    def name_at(self, i: int) -> str:
        """The regime's name at bar ``i`` (negative counts from the end)."""
        return REGIME_NAMES[int(self.codes[i])]

    def names(self) -> np.ndarray:
        """The regime name of every bar (an object array)."""
        lookup = np.array([REGIME_NAMES[int(r)] for r in Regime], dtype=object)
        return lookup[self.codes.astype(np.intp)]

    def share(self, regime: Regime | str) -> float:
        """The fraction of bars in ``regime`` (NaN for no bars)."""
        code = Regime[regime.upper()] if isinstance(regime, str) else Regime(regime)
        return float(np.mean(self.codes == code)) if len(self.codes) else math.nan


def _ema_slope(close: np.ndarray, rules: RegimeRules) -> tuple[np.ndarray, np.ndarray]:
    n = len(close)
    ema = np.asarray(talib.EMA(close, timeperiod=rules.trend_ema_bars), dtype=np.float64)
    slope = np.full(n, np.nan)
    k = rules.trend_slope_bars
    if n > k:
        with np.errstate(divide="ignore", invalid="ignore"):
            slope[k:] = ema[k:] / ema[:-k] - 1.0
    return ema, slope


def _trend_direction(close: np.ndarray, ema: np.ndarray, slope: np.ndarray, min_slope: float) -> np.ndarray:
    """+1 above a rising EMA, -1 below a falling one, 0 otherwise, NaN where an input is NaN."""
    out = np.where((close > ema) & (slope > min_slope), 1.0, np.where((close < ema) & (slope < -min_slope), -1.0, 0.0))
    out[np.isnan(close) | np.isnan(ema) | np.isnan(slope)] = np.nan
    return out


def _benchmark_trend(bars: Bars, benchmark: Bars | None, rules: RegimeRules) -> np.ndarray:
    if benchmark is None or len(benchmark) == 0:
        return np.full(len(bars), np.nan)
    close = np.asarray(benchmark.close, dtype=np.float64)
    ema, slope = _ema_slope(close, rules)
    own = {"trend": _trend_direction(close, ema, slope, rules.min_trend_slope)}
    trend = align_outputs(bars, benchmark, own)["trend"]
    if benchmark is bars:
        return trend
    base_known, bench_known = bars.known_ns(), benchmark.known_ns()
    idx = asof_indices(base_known, bench_known)
    return np.where(stale_mask(base_known, bench_known, idx, bars_max_age_ns(benchmark.timeframe)), np.nan, trend)


def _check(bars: Bars, rules: RegimeRules) -> None:
    if not isinstance(rules, RegimeRules):
        raise ConfigError(f"rules: expected a RegimeRules, found {type(rules).__name__}")
    if len(bars) == 0:
        raise ConfigError(f"bars: expected at least one bar to classify, found 0 bars of {bars.symbol}")


def _trend_inputs(bars: Bars, rules: RegimeRules) -> tuple[np.ndarray, ...]:
    """Every bar's close, ADX, vol (ATR / close), EMA and its slope."""
    high = np.asarray(bars.high, dtype=np.float64)
    low = np.asarray(bars.low, dtype=np.float64)
    close = np.asarray(bars.close, dtype=np.float64)
    adx = np.asarray(talib.ADX(high, low, close, timeperiod=rules.adx_period_bars), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        vol = np.asarray(talib.ATR(high, low, close, timeperiod=rules.vol_period_bars), dtype=np.float64) / close
    ema, slope = _ema_slope(close, rules)
    return close, adx, vol, ema, slope


def _codes(close: np.ndarray, adx: np.ndarray, vol: np.ndarray, vol_pct: np.ndarray, vol_median: np.ndarray,
           ema: np.ndarray, slope: np.ndarray, bench: np.ndarray, rules: RegimeRules) -> np.ndarray:  # fmt: skip
    """The rules of the module docstring, first match wins, on aligned arrays of the rules' inputs."""
    known = ~(
        np.isnan(close) | np.isnan(vol_pct) | np.isnan(vol_median) | np.isnan(adx) | np.isnan(ema) | np.isnan(slope)
    )
    high_vol = (vol_pct >= rules.vol_percentile) & (vol >= rules.vol_median_multiple * vol_median)
    trending = adx >= rules.adx_trend
    up = trending & (close > ema) & (slope > rules.min_trend_slope) & ~(bench < 0)
    down = trending & (close < ema) & (slope < -rules.min_trend_slope) & ~(bench > 0)
    return np.select(
        [~known, high_vol, up, down],
        [Regime.UNKNOWN, Regime.HIGH_VOLATILITY, Regime.TRENDING_UP, Regime.TRENDING_DOWN],
        default=Regime.MEAN_REVERTING,
    ).astype(np.int8)


def classify_regime(
    bars: Bars, *, benchmark: Bars | None = None, rules: RegimeRules = DEFAULT_REGIME_RULES
) -> RegimeSeries:
    """The regime of every bar of ``bars`` by the module's rules; ``benchmark`` may be another timeframe."""
    _check(bars, rules)
    close, adx, vol, ema, slope = _trend_inputs(bars, rules)
    rank = trailing_rank(vol, rules.vol_lookback_bars, rules.vol_min_history_bars, np.empty((2, len(close))))
    vol_pct, vol_median = rank[0], rank[1]
    bench = _benchmark_trend(bars, benchmark, rules)
    return RegimeSeries(
        codes=_codes(close, adx, vol, vol_pct, vol_median, ema, slope, bench, rules),
        ts=np.asarray(bars.ts, dtype=np.int64),
        adx=adx,
        vol=vol,
        vol_percentile=vol_pct,
        vol_median=vol_median,
        ema=ema,
        trend_slope=slope,
        benchmark_trend=bench,
        rules=rules,
    )


def regime_codes_at(
    bars: Bars, at: np.ndarray, *, benchmark: Bars | None = None, rules: RegimeRules = DEFAULT_REGIME_RULES
) -> np.ndarray:
    """``classify_regime(bars, ...).codes[at]``, with the trailing rank of vol computed at the bars ``at`` only
    (``kernels.regime.trailing_rank_at``): the regimes of a few thousand bars of a million for the price of the
    TA-Lib passes."""
    _check(bars, rules)
    at = np.asarray(at, dtype=np.int64)
    if len(at) and (at.min() < 0 or at.max() >= len(bars)):
        raise ConfigError(f"at: expected bar indices from 0 to {len(bars) - 1}, found {at.min()} to {at.max()}")
    close, adx, vol, ema, slope = _trend_inputs(bars, rules)
    rank = trailing_rank_at(vol, rules.vol_lookback_bars, rules.vol_min_history_bars, at, np.empty((2, len(at))))
    bench = _benchmark_trend(bars, benchmark, rules)[at]
    return _codes(close[at], adx[at], vol[at], rank[0], rank[1], ema[at], slope[at], bench, rules)
