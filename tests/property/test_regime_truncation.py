"""No look-ahead in the regime classifier and the macro score.

A run on the base bars ``[:k]`` (several cuts per case), with the benchmark and the macro series cut to
what was known at base bar ``k - 1``'s close, equals the first ``k`` values of the run on everything.
Random daily base bars with volatility bursts, on the New York session calendar (a bar known at 16:00
New York) or without a session (known at the next midnight UTC); a daily or weekly benchmark on either
calendar, starting earlier or later than the base; a daily VIX and monthly BAA/AAA yields with random
publication lags (AAA and BAA lagging differently), gaps (NaN), and short windows so that every
component is known inside the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.analysis.inference import MacroRules, RegimeRules, classify_regime, macro_score
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_MINUTE
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

NYSE = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))
UTC = TradingCalendar()  # no session: a daily bar is known at the next midnight UTC
START_DAY = 17_000  # 2016-07-18, a Monday


def _bars(
    rng: np.random.Generator, n: int, start_day: int, tf: Timeframe, calendar: TradingCalendar, symbol: str
) -> Bars:
    vol = np.where(rng.random(n) < 0.1, 0.04, 0.008)  # bursts of wide bars
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0005, 1.0, n) * vol))
    open_ = np.concatenate([[100.0], close[:-1]])[:n]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 1, n) * vol)
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 1, n) * vol)
    step = 7 if tf is Timeframe.W1 else 1
    ts = (start_day + step * np.arange(n, dtype=np.int64)) * NS_PER_DAY
    columns = {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": np.ones(n)}
    return Bars.from_arrays(symbol, tf, columns, calendar)


def _series(rng: np.random.Generator, name: str, ts_days: np.ndarray, lag_ns: np.ndarray, level: float) -> MacroSeries:
    value = level + np.cumsum(rng.normal(0, 0.1 * level, len(ts_days)))
    value[rng.random(len(ts_days)) < 0.05] = np.nan
    ts = ts_days.astype(np.int64) * NS_PER_DAY
    return MacroSeries(name=name, ts=ts, known_ts=ts + lag_ns, value=value)


@dataclass(frozen=True)
class Case:
    base: Bars
    benchmark: Bars | None
    vix: MacroSeries | None
    baa: MacroSeries | None
    aaa: MacroSeries | None
    cuts: list[int]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 450))
    calendars = st.sampled_from([NYSE, UTC])
    base = _bars(rng, n, START_DAY, Timeframe.D1, draw(calendars), "BASE")
    bench_kind = draw(st.sampled_from(["none", "daily", "weekly"]))
    offset = draw(st.integers(-150, 150))
    benchmark: Bars | None = None
    if bench_kind == "daily":
        benchmark = _bars(rng, draw(st.integers(0, 500)), START_DAY + offset, Timeframe.D1, draw(calendars), "BM")
    elif bench_kind == "weekly":
        weeks = draw(st.integers(0, 80))
        benchmark = _bars(rng, weeks, START_DAY + 7 * (offset // 7), Timeframe.W1, draw(calendars), "BM")
    vix = baa = aaa = None
    if draw(st.booleans()):
        days = START_DAY + offset + np.sort(rng.choice(700, size=draw(st.integers(0, 400)), replace=False))
        vix = _series(rng, "VIX", days, (16 * 60 + rng.integers(0, 600, len(days))) * NS_PER_MINUTE, 20.0)
    if draw(st.booleans()):
        months = START_DAY - 400 + 30 * np.arange(draw(st.integers(0, 40)))
        baa = _series(rng, "BAA", months, rng.integers(25, 60, len(months)) * NS_PER_DAY, 6.0)
        aaa = _series(rng, "AAA", months, rng.integers(25, 60, len(months)) * NS_PER_DAY, 4.0)
        if draw(st.booleans()):
            aaa = None
    return Case(base, benchmark, vix, baa, aaa, draw(st.lists(st.integers(1, n), min_size=1, max_size=12)))


def _bars_known_by(bars: Bars | None, at_ns: int) -> Bars | None:
    if bars is None:
        return None
    return bars[: int(np.searchsorted(bars.known_ns(), at_ns, side="right"))]


def _series_known_by(series: MacroSeries | None, at_ns: int) -> MacroSeries | None:
    if series is None:
        return None
    keep = series.known_ts <= at_ns
    return MacroSeries(name=series.name, ts=series.ts[keep], known_ts=series.known_ts[keep], value=series.value[keep])


# short windows: every input is known early and the benchmark trend flips often
REGIME_RULES = RegimeRules(trend_ema_bars=8, trend_slope_bars=2, vol_lookback_bars=60, vol_min_history_bars=20)
MACRO_RULES = MacroRules(
    benchmark_sma_bars=10,
    benchmark_slope_bars=2,
    vix_lookback_obs=60,
    vix_min_history_obs=10,
    spread_lookback_obs=12,
    spread_min_history_obs=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_regime_on_a_prefix_equals_the_full_run_up_to_the_cut(case: Case) -> None:
    full = classify_regime(case.base, benchmark=case.benchmark, rules=REGIME_RULES)
    for k in case.cuts:
        at_ns = int(case.base.known_ns()[k - 1])
        prefix = classify_regime(case.base[:k], benchmark=_bars_known_by(case.benchmark, at_ns), rules=REGIME_RULES)
        np.testing.assert_array_equal(prefix.codes, full.codes[:k], err_msg=f"codes, cut {k}")
        for name in ("adx", "vol", "vol_percentile", "vol_median", "ema", "trend_slope", "benchmark_trend"):
            np.testing.assert_array_equal(getattr(prefix, name), getattr(full, name)[:k], err_msg=f"{name}, cut {k}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_macro_score_on_a_prefix_equals_the_full_run_up_to_the_cut(case: Case) -> None:
    weekly = case.benchmark is not None and case.benchmark.timeframe is Timeframe.W1
    rules = replace(MACRO_RULES, benchmark_timeframe=Timeframe.W1) if weekly else MACRO_RULES
    full = macro_score(case.base, benchmark=case.benchmark, vix=case.vix, baa=case.baa, aaa=case.aaa, rules=rules)
    for k in case.cuts:
        at_ns = int(case.base.known_ns()[k - 1])
        prefix = macro_score(
            case.base[:k],
            benchmark=_bars_known_by(case.benchmark, at_ns),
            vix=_series_known_by(case.vix, at_ns),
            baa=_series_known_by(case.baa, at_ns),
            aaa=_series_known_by(case.aaa, at_ns),
            rules=rules,
        )
        for name in (
            "score", "coverage", "benchmark", "vix", "credit", "vix_level", "vix_percentile", "credit_spread",
            "credit_percentile",
        ):  # fmt: skip
            np.testing.assert_array_equal(getattr(prefix, name), getattr(full, name)[:k], err_msg=f"{name}, cut {k}")


def test_the_generated_cases_reach_every_component() -> None:
    """Guard against a vacuous property: with these rules a long case has every component known."""
    rng = np.random.default_rng(3)
    base = _bars(rng, 400, START_DAY, Timeframe.D1, TradingCalendar(), "BASE")
    bench = _bars(rng, 400, START_DAY, Timeframe.D1, NYSE, "BM")
    days = START_DAY + np.arange(400)
    vix = _series(rng, "VIX", days, np.full(400, 17 * 60 * NS_PER_MINUTE), 20.0)
    months = START_DAY - 400 + 30 * np.arange(40)
    baa = _series(rng, "BAA", months, np.full(40, 31 * NS_PER_DAY), 6.0)
    aaa = _series(rng, "AAA", months, np.full(40, 31 * NS_PER_DAY), 4.0)
    result = macro_score(base, benchmark=bench, vix=vix, baa=baa, aaa=aaa, rules=MACRO_RULES)
    assert (result.coverage[-50:] == 1.0).mean() > 0.8
    regimes = classify_regime(base, benchmark=bench, rules=REGIME_RULES)
    assert len(set(regimes.codes[100:].tolist())) >= 3
