"""What the portfolio kernel reads besides prices and signals, built from one instrument's bars.

Each array is on the instrument's own bars and depends only on what was known when the kernel
reads it. The kernel reads the stop's ATR, the swing low and high, the volatility measure, the
ATR-expansion flag and the win probability at a decision (a bar's close), so those include that
bar. It reads the cost inputs (per-bar and daily volatility, average daily volume) when an order
fills at a later bar's open, so those are shifted: row ``t`` holds what was known before bar ``t``
opened. Definitions:

- ATR: TA-Lib's ``ATR`` over each exit's ``atr_period`` (stop, trailing stop, chandelier).
- Swing low / high: the lowest low / highest high of the last ``swing_lookback_bars`` bars.
- Volatility measure (``volatility_adjustment.measure``): ``atr_N``, or ``stdev_N``, the standard
  deviation of close-to-close price changes over N bars; both in price units.
- Expansion (with ``risk_management.volatility_expansion``): ATR over its ``atr_period`` above its own
  mean plus ``threshold_sd`` standard deviations over the last ``lookback_bars`` bars (plan section 7.1).
- Per-bar volatility: the standard deviation of log returns over the last 20 bars. Daily volatility
  and average daily volume: over the last 20 completed sessions (session days from the calendar;
  the bars of a day sum to its volume, its last close is its close), so on intraday bars the
  current day's partial volume never counts.
- Returns: simple close-to-close returns (the correlation check).
- Arrival: with ``latency_simulation``, an order decided at a bar's close reaches the market at
  the first later bar that opens at or after that close plus the latency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import talib

from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.compile import SignalArrays
from quantdesk.strategy.models import Strategy

COST_WINDOW_BARS = 20
ADV_WINDOW_DAYS = 20
DEFAULT_ATR_PERIOD = 14
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """One instrument's kernel evidence on its own bars; ``None`` where the run does not need it."""

    atr_stop: np.ndarray | None = None
    atr_trail: np.ndarray | None = None
    atr_chandelier: np.ndarray | None = None
    vol_measure: np.ndarray | None = None
    expansion: np.ndarray | None = None
    swing_low: np.ndarray | None = None
    swing_high: np.ndarray | None = None
    adv: np.ndarray | None = None
    sigma_bar: np.ndarray | None = None
    sigma_daily: np.ndarray | None = None
    win_probability: np.ndarray | None = None
    returns: np.ndarray | None = None


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def atr(bars: Bars, period: int) -> np.ndarray:
    out: np.ndarray = talib.ATR(_f64(bars.high), _f64(bars.low), _f64(bars.close), timeperiod=period)
    return out


def shifted(a: np.ndarray) -> np.ndarray:
    """``a`` one bar later: row ``t`` holds ``a[t - 1]`` (what was known before bar ``t`` opened)."""
    out = np.empty_like(a)
    out[:1] = np.nan
    out[1:] = a[:-1]
    return out


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Population standard deviation of the last ``window`` values (NaN until there are that many)."""
    out = np.full(len(x), np.nan)
    if len(x) >= window + 1:
        # x[0] is NaN for return series; TA-Lib starts after leading NaNs
        out[:] = talib.STDDEV(_f64(x), timeperiod=window, nbdev=1.0)
    return out


def expansion_flag(atr_values: np.ndarray, lookback: int, sd: float) -> np.ndarray:
    """True where ATR is above its mean plus ``sd`` standard deviations over the last ``lookback`` bars."""
    valid = np.isfinite(atr_values)
    if valid.sum() < lookback:
        return np.zeros(len(atr_values), dtype=bool)
    mean = talib.SMA(_f64(atr_values), timeperiod=lookback)
    std = talib.STDDEV(_f64(atr_values), timeperiod=lookback, nbdev=1.0)
    with np.errstate(invalid="ignore"):
        # a flat ATR has no spread: TA-Lib's running mean may sit a hair under it, which is no expansion
        spread = std > 1e-12 * np.abs(mean)
        flag: np.ndarray = spread & (atr_values > mean + sd * std)
    return flag & np.isfinite(mean)


def daily_cost_inputs(bars: Bars) -> tuple[np.ndarray, np.ndarray]:
    """Average daily volume and daily log-return volatility over the last completed sessions, per bar.

    Weekly and monthly bars are put on a daily scale: a bar's volume is spread over the trading days it
    spans and its log return divided by their square root, so ADV and the volatility mean the same as on
    daily bars; the window is 20 bars then.
    """
    n = len(bars)
    per_day = 1.0
    if bars.timeframe in (Timeframe.W1, Timeframe.MN1):
        per_day = np.maximum(bars.calendar.sessions_per_bar(bars.ts, bars.timeframe), 1.0)
    days = bars.calendar.session_day_numbers(bars.ts, bars.timeframe)
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    day_volume = np.add.reduceat(_f64(bars.volume) / per_day, starts) if n else np.empty(0)
    day_close = _f64(bars.close)[np.r_[starts[1:] - 1, n - 1]] if n else np.empty(0)
    n_days = len(starts)
    csum = np.r_[0.0, np.cumsum(day_volume)]
    d = np.arange(n_days)
    lo = np.maximum(d - ADV_WINDOW_DAYS, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        adv_day = np.where(d > 0, (csum[d] - csum[lo]) / np.maximum(d - lo, 1), np.nan)
        log_ret = np.r_[np.nan, np.diff(np.log(day_close))] / np.sqrt(per_day)
    sigma_day_known = rolling_std(log_ret, ADV_WINDOW_DAYS)  # through day d's close
    sigma_day = shifted(sigma_day_known) if n_days else sigma_day_known  # known before day d opens
    day_of_bar = np.repeat(d, np.diff(np.r_[starts, n]))
    return adv_day[day_of_bar], sigma_day[day_of_bar]


def arrival_bars(bars: Bars, latency_ms: float) -> np.ndarray:
    """The bar an order decided at each bar's close arrives on (-1: after the last bar)."""
    known = bars.known_ns()
    ready = known + np.int64(round(latency_ms * NS_PER_MS))
    first = np.searchsorted(bars.ts, ready, side="left")
    first = np.maximum(first, np.arange(1, len(bars) + 1))
    return np.where(first < len(bars), first, -1).astype(np.int64)


def evidence_key(strategy: Strategy, params_need: dict[str, bool]) -> tuple[object, ...]:
    """Everything ``build_evidence`` reads of a strategy besides its signals, as a key: two strategies with the
    same key (and the same signals) have the same evidence on the same bars. Kept beside ``build_evidence`` so the
    two change together."""
    exits = strategy.exit_conditions
    stop = exits.stop_loss
    trail = exits.take_profit.trailing_stop if exits.take_profit is not None else None
    adj = strategy.risk_management.volatility_adjustment
    rule = strategy.risk_management.volatility_expansion
    return (
        stop.atr_period if stop is not None else None,
        stop.swing_lookback_bars if stop is not None and stop.reference != "entry" else None,
        trail.atr_period if trail is not None else None,
        exits.chandelier.atr_period if exits.chandelier is not None else None,
        (adj.measure, adj.scaling) if adj is not None else None,
        (rule.atr_period, rule.lookback_bars, rule.threshold_sd) if rule is not None else None,
        tuple(sorted(params_need.items())),
    )


def build_evidence(strategy: Strategy, bars: Bars, signals: SignalArrays, params_need: dict[str, bool]) -> Evidence:
    """The evidence ``strategy`` needs on ``bars``; ``params_need`` says which optional parts are read."""
    exits = strategy.exit_conditions
    stop_period = exits.stop_loss.atr_period if exits.stop_loss is not None else DEFAULT_ATR_PERIOD
    atr_cache: dict[int, np.ndarray] = {}

    def atr_of(period: int) -> np.ndarray:
        if period not in atr_cache:
            atr_cache[period] = atr(bars, period)
        return atr_cache[period]

    atr_stop = atr_of(stop_period)
    trail = exits.take_profit.trailing_stop if exits.take_profit is not None else None
    chandelier = exits.chandelier
    vol_measure = None
    adj = strategy.risk_management.volatility_adjustment
    if adj is not None and adj.scaling == "inverse_volatility":
        kind, period = adj.measure
        changes = np.r_[np.nan, np.diff(_f64(bars.close))]
        vol_measure = atr_of(period) if kind == "atr" else rolling_std(changes, period)
    swing_low = swing_high = None
    if exits.stop_loss is not None and exits.stop_loss.reference != "entry":
        lookback = exits.stop_loss.swing_lookback_bars
        if len(bars) >= lookback:
            swing_low = talib.MIN(_f64(bars.low), timeperiod=lookback)
            swing_high = talib.MAX(_f64(bars.high), timeperiod=lookback)
        else:  # not one full window yet: no swing (the stop falls back to its max_risk_percent bound)
            swing_low = swing_high = np.full(len(bars), np.nan)
    close = _f64(bars.close)
    sigma_bar = sigma_daily = adv = None
    if params_need.get("costs") or params_need.get("liquidity"):
        with np.errstate(invalid="ignore", divide="ignore"):
            log_ret = np.r_[np.nan, np.diff(np.log(close))]
        sigma_bar = shifted(rolling_std(log_ret, COST_WINDOW_BARS))
        adv, sigma_daily = daily_cost_inputs(bars)
    returns = None
    if params_need.get("correlation"):
        with np.errstate(invalid="ignore", divide="ignore"):
            returns = np.r_[np.nan, close[1:] / close[:-1] - 1.0]
    expansion = None
    rule = strategy.risk_management.volatility_expansion
    if rule is not None:
        expansion = expansion_flag(atr_of(rule.atr_period), rule.lookback_bars, rule.threshold_sd)
    win_p = None
    if params_need.get("posterior") and signals.p_up is not None:
        win_p = _f64(signals.p_up)  # the Bayesian posterior or the learned probability, as the strategy names
    return Evidence(
        atr_stop=atr_stop,
        atr_trail=atr_of(trail.atr_period) if trail is not None else None,
        atr_chandelier=atr_of(chandelier.atr_period) if chandelier is not None else None,
        vol_measure=vol_measure,
        expansion=expansion,
        swing_low=swing_low,
        swing_high=swing_high,
        adv=adv,
        sigma_bar=sigma_bar,
        sigma_daily=sigma_daily,
        win_probability=win_p,
        returns=returns,
    )
