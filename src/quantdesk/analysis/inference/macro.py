"""The level-1 macro score of the drill-down (``macro_trend``): how supportive the market backdrop is for
long risk at each base bar, in [0, 1] (1 = supportive), from what was known at that bar's close.

Three components, each in [0, 1], with ``MacroRules`` (defaults in brackets):

- ``benchmark`` (weight ``benchmark_weight`` [0.5]): on the benchmark's ``benchmark_timeframe`` [1d] bars
  (resampled from finer bars when needed), ``0.5 * [close > SMA] + 0.5 * [SMA[j] > SMA[j - benchmark_slope_bars]]``
  with ``SMA = SMA(close, benchmark_sma_bars [200])`` and ``benchmark_slope_bars`` [20]: 1 above a rising
  200-day average, 0 below a falling one. Known at each benchmark bar's close.
- ``vix`` (``vix_weight`` [0.25]): ``1 - p`` with ``p`` the mid-rank percentile of the VIX observation among
  the previous ``vix_lookback_obs`` [252] finite observations (at least ``vix_min_history_obs`` [60]),
  ``kernels.regime.trailing_rank``: a VIX at the top of its past year scores 0.
- ``credit`` (``credit_weight`` [0.25]): ``1 - p`` for the BAA - AAA yield spread (percentage points),
  paired by period (``ts``), known when both yields are (the later ``known_ts``), ranked among the previous
  ``spread_lookback_obs`` [120] observations (ten years of monthly figures; at least
  ``spread_min_history_obs`` [24]): the widest spread of the past decade scores 0.

Series observations are ranked in known-time order and reach a base bar only from their ``known_ts``
on (an as-of join, ``data.align``): a monthly yield average of March, known on April 1, is invisible to the
bars of March. A component that is absent (None, empty, or one of BAA/AAA missing) or not yet known at a
bar (warm-up, NaN) is dropped there and the other weights renormalised: ``score = sum(w_k * c_k) /
sum(w_k)`` over the components known at the bar, ``coverage = sum(w_k known) / sum(all w_k)``, and the
score is NaN where the coverage is 0.

Stale inputs are missing, not carried forward: a VIX or yield value is used at most its series' maximum
age after it became known (``domain.series.MAX_AGE_DAYS`` by frequency: daily 7 days, monthly 45, ...), and
a benchmark bar at most the age of its timeframe's frequency (intraday and daily 7 days, weekly 14,
monthly 45). Past it the component is NaN at the bar (so the coverage falls), and ``stale`` records which
series was refused and since when (``stale_notes(i)`` at a bar, ``stale_summary()`` over all bars). The
credit spread is stale where the BAA, the AAA or their latest common period is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import talib

from quantdesk.analysis.technical.mtf import bars_on_timeframe
from quantdesk.core.errors import ConfigError, NotFoundError
from quantdesk.data.align import StaleValues, align_values, asof_indices, bars_max_age_ns
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe
from quantdesk.kernels.regime import trailing_rank

__all__ = [
    "DEFAULT_MACRO_RULES",
    "MACRO_COMPONENTS",
    "MacroInputs",
    "MacroRules",
    "MacroScore",
    "load_macro_inputs",
    "macro_score",
]

MACRO_COMPONENTS = ("benchmark", "vix", "credit")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name}: expected an integer from {low} to {high}, found {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MacroRules:
    """Weights (any non-negative numbers, renormalised) and windows; ``_obs`` counts a series' observations."""

    benchmark_weight: float = 0.5
    vix_weight: float = 0.25
    credit_weight: float = 0.25
    benchmark_timeframe: Timeframe = Timeframe.D1
    benchmark_sma_bars: int = 200
    benchmark_slope_bars: int = 20
    vix_lookback_obs: int = 252
    vix_min_history_obs: int = 60
    spread_lookback_obs: int = 120
    spread_min_history_obs: int = 24

    def __post_init__(self) -> None:
        for name in ("benchmark_weight", "vix_weight", "credit_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name}: expected a finite weight >= 0, found {value!r}")
        total = self.benchmark_weight + self.vix_weight + self.credit_weight
        if total <= 0:
            raise ConfigError(f"benchmark_weight, vix_weight, credit_weight: expected a positive sum, found {total!r}")
        try:
            object.__setattr__(self, "benchmark_timeframe", Timeframe.parse(self.benchmark_timeframe))
        except ConfigError as exc:
            raise ConfigError(f"benchmark_timeframe: {exc}") from exc
        _check_int("benchmark_sma_bars", self.benchmark_sma_bars, 2, 100_000)
        _check_int("benchmark_slope_bars", self.benchmark_slope_bars, 1, 100_000)
        _check_int("vix_lookback_obs", self.vix_lookback_obs, 1, 100_000)
        _check_int("vix_min_history_obs", self.vix_min_history_obs, 1, self.vix_lookback_obs)
        _check_int("spread_lookback_obs", self.spread_lookback_obs, 1, 100_000)
        _check_int("spread_min_history_obs", self.spread_min_history_obs, 1, self.spread_lookback_obs)

    def weights(self) -> dict[str, float]:
        return {"benchmark": self.benchmark_weight, "vix": self.vix_weight, "credit": self.credit_weight}


DEFAULT_MACRO_RULES = MacroRules()


@dataclass(frozen=True, slots=True)
class MacroScore:
    """The score per base bar, its coverage, each component and the raw inputs behind them."""

    score: np.ndarray  # [0, 1], NaN where no component is known
    coverage: np.ndarray  # [0, 1]: share of the total weight known at the bar
    benchmark: np.ndarray  # component, [0, 1] or NaN
    vix: np.ndarray
    credit: np.ndarray
    vix_level: np.ndarray  # the VIX as known (index points)
    vix_percentile: np.ndarray
    credit_spread: np.ndarray  # BAA - AAA as known (percentage points)
    credit_percentile: np.ndarray
    weights: dict[str, float]
    missing: dict[str, str] = field(default_factory=dict)  # component -> why it is absent everywhere
    stale: dict[str, tuple[StaleValues, ...]] = field(default_factory=dict)  # component -> its stale inputs

    def __len__(self) -> int:
        return len(self.score)

    def stale_notes(self, i: int) -> dict[str, str]:
        """Component -> why it is missing at bar ``i`` because an input is stale; only the stale ones."""
        out = {}
        for name, records in self.stale.items():
            notes = [note for record in records if (note := record.note(i)) is not None]
            if notes:
                out[name] = "; ".join(notes)
        return out

    def stale_summary(self) -> dict[str, str]:
        """Component -> which input went stale, since when, and on how many bars; only components that did."""
        out = {}
        for name, records in self.stale.items():
            lines = [line for record in records if (line := record.summary()) is not None]
            if lines:
                out[name] = "; ".join(lines)
        return out

    def components(self) -> dict[str, np.ndarray]:
        return {"benchmark": self.benchmark, "vix": self.vix, "credit": self.credit}


@dataclass(frozen=True, slots=True)
class MacroInputs:
    """What ``macro_score`` reads, each None when the catalog does not hold it."""

    benchmark: Bars | None
    vix: MacroSeries | None
    baa: MacroSeries | None
    aaa: MacroSeries | None


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


_TIMEFRAME_FREQUENCY = {Timeframe.W1: "weekly", Timeframe.MN1: "monthly"}  # finer ones: daily


def _benchmark_component(base: Bars, benchmark: Bars, rules: MacroRules) -> tuple[np.ndarray, StaleValues | None]:
    tf = rules.benchmark_timeframe
    if tf.is_finer_than(benchmark.timeframe):
        raise ConfigError(
            f"benchmark: expected bars of {tf.value} or finer for its {rules.benchmark_sma_bars}-bar SMA, "
            f"found {benchmark.timeframe.value} bars of {benchmark.symbol}"
        )
    if len(benchmark) == 0:  # no benchmark bar yet
        return _nan(len(base)), None
    own = bars_on_timeframe(benchmark, tf, where="benchmark")
    close = np.asarray(own.close, dtype=np.float64)
    m = len(close)
    sma = np.asarray(talib.SMA(close, timeperiod=rules.benchmark_sma_bars), dtype=np.float64)
    k = rules.benchmark_slope_bars
    lagged = _nan(m)
    if m > k:
        lagged[k:] = sma[:-k]
    component = 0.5 * (close > sma) + 0.5 * (sma > lagged)
    component[np.isnan(close) | np.isnan(sma) | np.isnan(lagged)] = np.nan
    base_known, own_known = base.known_ns(), own.known_ns()
    stale = StaleValues.of(
        f"the benchmark {benchmark.symbol} ({tf.value} bars)",
        _TIMEFRAME_FREQUENCY.get(tf, "daily"),
        bars_max_age_ns(tf),
        base_known,
        own_known,
        asof_indices(base_known, own_known),
    )
    return np.where(stale.stale, np.nan, align_values(base_known, own_known, component)), stale


def _ranked(
    base: Bars,
    ts: np.ndarray,
    known: np.ndarray,
    values: np.ndarray,
    lookback: int,
    min_history: int,
    *,
    label: str,
    frequency: str,
    max_age_ns: int,
) -> tuple[np.ndarray, np.ndarray, StaleValues | None]:
    """(value as known, its trailing percentile as known, where it was stale) at each base bar.

    Rows are ranked in known order; a row older than ``max_age_ns`` at a bar is NaN there.
    """
    ok = np.isfinite(values)
    ts, known, values = ts[ok], known[ok], values[ok]
    if len(values) == 0:  # nothing observed yet
        return _nan(len(base)), _nan(len(base)), None
    order = np.lexsort((ts, known))
    known, values = known[order], values[order]
    pct = trailing_rank(values, lookback, min_history, np.empty((2, len(values))))[0]
    at = base.known_ns()
    stale = StaleValues.of(label, frequency, max_age_ns, at, known, asof_indices(at, known))
    level = np.where(stale.stale, np.nan, align_values(at, known, values))
    return level, np.where(stale.stale, np.nan, align_values(at, known, pct)), stale


def _own_staleness(base: Bars, series: MacroSeries) -> StaleValues:
    """Where ``series`` on its own (every row, finite or not) is stale at the bars of ``base``."""
    known = np.sort(series.known_ts[np.isfinite(series.value)])
    at = base.known_ns()
    return StaleValues.of(series.name, series.frequency, series.max_age_ns, at, known, asof_indices(at, known))


def _credit_rows(baa: MacroSeries, aaa: MacroSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    for label, series in (("baa", baa), ("aaa", aaa)):
        if len(np.unique(series.ts)) != len(series.ts):
            raise ConfigError(
                f"{label}: expected one observation per period (unique ts), found repeated ts in {series.name}"
            )
    common, i_baa, i_aaa = np.intersect1d(baa.ts, aaa.ts, assume_unique=True, return_indices=True)
    spread = baa.value[i_baa] - aaa.value[i_aaa]
    known = np.maximum(baa.known_ts[i_baa], aaa.known_ts[i_aaa])
    return common.astype(np.int64), known, spread


def macro_score(
    base: Bars,
    *,
    benchmark: Bars | None,
    vix: MacroSeries | None = None,
    baa: MacroSeries | None = None,
    aaa: MacroSeries | None = None,
    rules: MacroRules = DEFAULT_MACRO_RULES,
) -> MacroScore:
    """The macro score of every bar of ``base`` by the module's rules, from what was known at its close."""
    if not isinstance(rules, MacroRules):
        raise ConfigError(f"rules: expected a MacroRules, found {type(rules).__name__}")
    n = len(base)
    if n == 0:
        raise ConfigError(f"base: expected at least one bar to score, found 0 bars of {base.symbol}")
    missing: dict[str, str] = {}
    stale: dict[str, tuple[StaleValues, ...]] = {}
    weights = rules.weights()

    if benchmark is None:
        bench = _nan(n)
        missing["benchmark"] = "no benchmark bars given"
    else:
        bench, bench_stale = _benchmark_component(base, benchmark, rules)
        if bench_stale is not None:
            stale["benchmark"] = (bench_stale,)

    vix_level, vix_pct = _nan(n), _nan(n)
    if vix is None:
        missing["vix"] = "no VIX series given"
    else:
        vix_level, vix_pct, vix_stale = _ranked(
            base, vix.ts, vix.known_ts, vix.value, rules.vix_lookback_obs, rules.vix_min_history_obs,
            label=vix.name, frequency=vix.frequency, max_age_ns=vix.max_age_ns,
        )  # fmt: skip
        if vix_stale is not None:
            stale["vix"] = (vix_stale,)

    spread, spread_pct = _nan(n), _nan(n)
    if baa is None or aaa is None:
        missing["credit"] = "needs both the BAA and the AAA yield series; " + (
            "neither given" if baa is None and aaa is None else f"no {'BAA' if baa is None else 'AAA'} series given"
        )
    else:
        ts, known, values = _credit_rows(baa, aaa)
        spread, spread_pct, pair_stale = _ranked(
            base, ts, known, values, rules.spread_lookback_obs, rules.spread_min_history_obs,
            label=f"the {baa.name}-{aaa.name} spread (their latest common period)",
            frequency=baa.frequency if baa.max_age_ns >= aaa.max_age_ns else aaa.frequency,
            max_age_ns=max(baa.max_age_ns, aaa.max_age_ns),
        )  # fmt: skip
        baa_stale, aaa_stale = _own_staleness(base, baa), _own_staleness(base, aaa)
        alone = baa_stale.stale | aaa_stale.stale
        records = [baa_stale, aaa_stale]
        if pair_stale is not None:  # the pair's record where neither yield alone explains it: periods no longer shared
            only_pair = pair_stale.stale & ~alone
            records.append(StaleValues(pair_stale.name, pair_stale.frequency, pair_stale.max_age_ns, only_pair,
                                       np.where(only_pair, pair_stale.last_known_ns, -1)))  # fmt: skip
        spread, spread_pct = np.where(alone, np.nan, spread), np.where(alone, np.nan, spread_pct)
        stale["credit"] = tuple(records)

    components = {"benchmark": bench, "vix": 1.0 - vix_pct, "credit": 1.0 - spread_pct}
    total = sum(weights.values())
    weighted, present = np.zeros(n), np.zeros(n)
    for name, values in components.items():
        ok = np.isfinite(values)
        weighted[ok] += weights[name] * values[ok]
        present[ok] += weights[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(present > 0, weighted / present, np.nan)
    return MacroScore(
        score=np.clip(score, 0.0, 1.0),
        coverage=present / total,
        benchmark=components["benchmark"],
        vix=components["vix"],
        credit=components["credit"],
        vix_level=vix_level,
        vix_percentile=vix_pct,
        credit_spread=spread,
        credit_percentile=spread_pct,
        weights=weights,
        missing=missing,
        stale=stale,
    )


def load_macro_inputs(
    catalog: Catalog,
    benchmark_symbol: str = "SPX",
    *,
    benchmark_timeframe: Timeframe | str = Timeframe.D1,
    vix_name: str = "VIX",
    baa_name: str = "BAA",
    aaa_name: str = "AAA",
) -> MacroInputs:
    """The benchmark's bars and the VIX/BAA/AAA series from ``catalog``; None for each one it lacks."""
    try:
        bench: Bars | None = catalog.read_bars(benchmark_symbol, benchmark_timeframe)
    except NotFoundError:
        bench = None

    def series(name: str) -> MacroSeries | None:
        try:
            return catalog.read_series(name)
        except NotFoundError:
            return None

    return MacroInputs(benchmark=bench, vix=series(vix_name), baa=series(baa_name), aaa=series(aaa_name))
