"""The seeded synthetic market: made-up US equities with the structure of real ones, at any timeframe.

It stands in for what no package ships (single stocks down to 1-minute bars) and is labelled
synthetic wherever it is shown. ``generate_market`` builds N instruments (``SYN001`` ...) spread
round-robin over the eleven GICS sectors, on a New York 09:30-16:00 session, and their bars from 1m
to 1M. The model works on log prices, so prices stay positive. Each session a Markov chain picks a
regime (calm; trending, with a drift whose sign is drawn once per spell; high volatility) that
scales volatility, drift and trading activity. A stock's return is its beta times the market factor
plus its loading times its sector's factor plus idiosyncratic noise, every innovation Student-t with
4 degrees of freedom scaled to unit variance (fat tails), split into an overnight gap (15 % of the
variance) and the session's move. Daily bars come straight from that session layer, with high and
low drawn from the exact law of a Brownian bridge's extremes, so long histories are cheap. Intraday
bars come from minute paths of each factor and of the noise, bridged to add up to the same session
move, so a session's open, close and volume are the same in 1d and 1m bars. Minute volatility and
volume are U-shaped over the session (busy at the open and close, quiet at midday) and volume rises
with the size of the move; coarser intraday bars are the minutes put through ``data.resample``.
The same seed gives the same market: regimes, each factor and each symbol draw from their own
stream spawned from the seed, so a symbol's bars do not depend on how many symbols were asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_MINUTE
from quantdesk.data.catalog import Catalog, WriteReport
from quantdesk.data.resample import resample
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours
from quantdesk.domain.timeframe import Timeframe

__all__ = [
    "REGIME_CALM",
    "REGIME_HIGH_VOL",
    "REGIME_NAMES",
    "REGIME_TRENDING",
    "SECTORS",
    "SyntheticConfig",
    "SyntheticMarket",
    "generate_market",
    "write_synthetic_market",
]

SECTORS: tuple[str, ...] = (
    "Information Technology",
    "Health Care",
    "Financials",
    "Consumer Discretionary",
    "Communication Services",
    "Industrials",
    "Consumer Staples",
    "Energy",
    "Utilities",
    "Real Estate",
    "Materials",
)
REGIME_CALM, REGIME_TRENDING, REGIME_HIGH_VOL = 0, 1, 2
REGIME_NAMES: tuple[str, ...] = ("calm", "trending", "high_vol")

_MARKET = "SYN_US"
_REGULAR_SESSION = "09:30-16:00"

# The model. Volatilities are standard deviations of log returns per session (close to close).
_TAIL_DF = 4.0
_GAP_VARIANCE_SHARE = 0.15
_MARKET_VOL_PER_SESSION = 0.010
_SECTOR_VOL_PER_SESSION = 0.009
_IDIO_VOL_PER_SESSION = (0.010, 0.020)
_BETA = (0.6, 1.4)
_SECTOR_LOADING = (0.6, 1.2)
_START_PRICE_USD = (20.0, 300.0)  # log-uniform
_DOLLAR_VOLUME_PER_SESSION_USD = (2e7, 2e9)  # log-uniform, turned into shares at the start price
_VOLUME_MOVE_SENSITIVITY = 0.5  # volume x (1 + this x |move| / its standard deviation)
_VOLUME_NOISE_SIGMA_SESSION = 0.25  # log-normal noise on a session's volume
_VOLUME_NOISE_SIGMA_MINUTE = 0.35  # log-normal noise on a minute's share of it
# Per regime, indexed by REGIME_CALM, REGIME_TRENDING, REGIME_HIGH_VOL.
_REGIME_VOL_MULTIPLIER = (0.75, 1.0, 2.2)
_REGIME_MARKET_DRIFT_PER_SESSION = (0.0003, 0.0020, -0.0010)  # trending: times the spell's sign
_REGIME_ACTIVITY = (0.85, 1.0, 1.6)  # volume multiplier
_REGIME_TRANSITIONS = (  # row: today's regime, column: tomorrow's
    (0.96, 0.03, 0.01),
    (0.04, 0.94, 0.02),
    (0.06, 0.02, 0.92),
)


class _Stream(IntEnum):
    """What a random stream is for; with the seed (and an index) it names the stream."""

    REGIMES = 0
    MARKET_SESSION = 1
    MARKET_MINUTE = 2
    SECTOR_SESSION = 3
    SECTOR_MINUTE = 4
    SYMBOL_PROFILE = 5
    SYMBOL_SESSION = 6
    SYMBOL_MINUTE = 7
    SYMBOL_FUNDAMENTALS = 8


@dataclass(frozen=True, kw_only=True)
class SyntheticConfig:
    """What to generate: ``n_symbols`` stocks, ``days`` weekday sessions from ``start``, one timeframe."""

    n_symbols: int = 10
    days: int = 250
    timeframe: Timeframe = Timeframe.D1
    seed: int = 7
    start: str = "2024-01-02"

    def __post_init__(self) -> None:
        for name, minimum in (("n_symbols", 1), ("days", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
                raise ConfigError(f"SyntheticConfig.{name}: expected an integer >= {minimum}, found {value!r}")
            object.__setattr__(self, name, int(value))
        try:
            timeframe = Timeframe.parse(self.timeframe)
        except ConfigError as exc:
            raise ConfigError(f"SyntheticConfig.timeframe: {exc}") from None
        object.__setattr__(self, "timeframe", timeframe)
        _first_session(self.start)

    @property
    def source(self) -> str:
        """The provenance label written on instruments and datasets."""
        return f"synthetic(seed={self.seed})"


@dataclass(frozen=True)
class SyntheticMarket:
    """A generated universe: instruments, their bars, and the regime and date of each session."""

    instruments: list[Instrument]
    bars: dict[str, Bars]  # symbol -> bars of the configured timeframe, with the instrument's calendar
    regimes: np.ndarray  # int8 per session: REGIME_CALM, REGIME_TRENDING or REGIME_HIGH_VOL
    session_dates: np.ndarray  # int64 ns, midnight UTC of each session's date


def generate_market(config: SyntheticConfig) -> SyntheticMarket:
    """The market that ``config`` describes; the same config always gives identical arrays."""
    instruments = _instruments(config)
    calendar = instruments[0].calendar
    dates = pd.bdate_range(_first_session(config.start), periods=config.days)
    session_ns = np.asarray(dates.as_unit("ns").asi8, dtype=np.int64)

    regimes, market_drift = _simulate_regimes(_rng(config.seed, _Stream.REGIMES), config.days)
    vol_multiplier = np.asarray(_REGIME_VOL_MULTIPLIER)[regimes]
    activity = np.asarray(_REGIME_ACTIVITY)[regimes]
    market = _component(
        _rng(config.seed, _Stream.MARKET_SESSION), _MARKET_VOL_PER_SESSION * vol_multiplier, market_drift
    )
    n_sectors = min(config.n_symbols, len(SECTORS))
    sectors = [
        _component(_rng(config.seed, _Stream.SECTOR_SESSION, k), _SECTOR_VOL_PER_SESSION * vol_multiplier, 0.0)
        for k in range(n_sectors)
    ]

    tf = config.timeframe
    grid: _MinuteGrid | None = None
    if tf.is_intraday:
        grid = _minute_grid(dates, calendar)
        market_minutes = _bridged_minutes(_rng(config.seed, _Stream.MARKET_MINUTE), market, grid)
        sector_minutes = [
            _bridged_minutes(_rng(config.seed, _Stream.SECTOR_MINUTE, k), sectors[k], grid) for k in range(n_sectors)
        ]

    bars: dict[str, Bars] = {}
    for i, inst in enumerate(instruments):
        k = i % len(SECTORS)
        profile = _profile(_rng(config.seed, _Stream.SYMBOL_PROFILE, i))
        path = _session_path(
            _rng(config.seed, _Stream.SYMBOL_SESSION, i),
            profile,
            market,
            sectors[k],
            vol_multiplier,
            activity,
        )
        if grid is None:
            series = _daily_bars(inst.symbol, path, session_ns, calendar)
            bars[inst.symbol] = series if tf is Timeframe.D1 else resample(series, tf)
        else:
            minute_returns = profile.beta * market_minutes + profile.sector_loading * sector_minutes[k]
            minute_returns += _bridged_minutes(_rng(config.seed, _Stream.SYMBOL_MINUTE, i), path.idio, grid)
            series = _minute_bars(
                _rng(config.seed, _Stream.SYMBOL_MINUTE, i, 1),
                inst.symbol,
                path,
                minute_returns,
                grid,
                calendar,
            )
            bars[inst.symbol] = series if tf is Timeframe.M1 else resample(series, tf)
    return SyntheticMarket(instruments=instruments, bars=bars, regimes=regimes, session_dates=session_ns)


def write_synthetic_market(
    catalog: Catalog,
    config: SyntheticConfig,
    progress: Callable[[int, int], None] | None = None,
    market: SyntheticMarket | None = None,
) -> list[WriteReport]:
    """Generate the market (or take ``market``, generated from ``config``) and store every instrument's bars;
    ``progress(done, total)`` after each."""
    market = market if market is not None else generate_market(config)
    reports: list[WriteReport] = []
    total = len(market.instruments)
    for done, inst in enumerate(market.instruments, start=1):
        reports.append(catalog.write_bars(market.bars[inst.symbol], instrument=inst, source=config.source))
        if progress is not None:
            progress(done, total)
    return reports


# ---- the universe ------------------------------------------------------------------------------


def _first_session(start: object) -> pd.Timestamp:
    expected = "SyntheticConfig.start: expected a weekday date such as '2024-01-02'"
    try:
        ts = pd.Timestamp(start)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise ConfigError(f"{expected}, found {start!r}") from None
    if ts is pd.NaT or ts.tzinfo is not None or ts != ts.normalize():
        raise ConfigError(f"{expected} (no time of day or time zone), found {start!r}")
    if not 1900 <= ts.year <= 2200:
        raise ConfigError(f"{expected} between 1900 and 2200, found {start!r}")
    if ts.day_of_week >= 5:
        raise ConfigError(f"{expected}, found {start!r}, a {ts.day_name()}")
    return ts


def _instruments(config: SyntheticConfig) -> list[Instrument]:
    width = max(3, len(str(config.n_symbols)))
    hours = TradingHours.model_validate({"regular": _REGULAR_SESSION})
    description = (
        f"Generated by quantdesk's synthetic market (seed {config.seed}), not a real company: market, "
        "sector and idiosyncratic returns with regime switches and fat tails."
    )
    return [
        Instrument(
            symbol=f"SYN{i:0{width}d}",
            name=f"Synthetic Co {i:0{width}d}",
            asset_class=AssetClass.EQUITY,
            market=_MARKET,
            currency="USD",
            tick_size=0.01,
            lot_size=1,
            trading_hours=hours,
            technical_availability=[config.timeframe],
            sector=SECTORS[(i - 1) % len(SECTORS)],
            synthetic=True,
            source=config.source,
            description=description,
        )
        for i in range(1, config.n_symbols + 1)
    ]


def _rng(seed: int, stream: _Stream, index: int = 0, part: int = 0) -> np.random.Generator:
    """The generator for one purpose: a child of ``SeedSequence(seed)`` keyed by (stream, index, part)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(stream), index, part)))


def _unit_t(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    """Student-t draws with ``_TAIL_DF`` degrees of freedom, scaled to unit variance."""
    return rng.standard_t(_TAIL_DF, size) * np.sqrt((_TAIL_DF - 2.0) / _TAIL_DF)


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))


def _simulate_regimes(rng: np.random.Generator, days: int) -> tuple[np.ndarray, np.ndarray]:
    """(regime code per session as int8, the market's drift per session as a log return)."""
    transitions = np.asarray(_REGIME_TRANSITIONS)
    cumulative = np.cumsum(transitions, axis=1)
    cumulative[:, -1] = 1.0
    stationary = np.cumsum(np.linalg.matrix_power(transitions, 1024)[0])
    stationary[-1] = 1.0
    rows = cumulative.tolist()
    draws = rng.random((days, 2)).tolist()  # per session: one picks the regime, one a new trend's sign
    regimes = np.empty(days, dtype=np.int8)
    drift = np.empty(days, dtype=np.float64)
    state, previous, sign = REGIME_CALM, -1, 1.0
    for d, (pick, direction) in enumerate(draws):
        thresholds = stationary.tolist() if d == 0 else rows[state]
        state = next(j for j, edge in enumerate(thresholds) if pick < edge)
        if state == REGIME_TRENDING and previous != REGIME_TRENDING:
            sign = 1.0 if direction < 0.5 else -1.0
        regimes[d] = state
        drift[d] = _REGIME_MARKET_DRIFT_PER_SESSION[state] * (sign if state == REGIME_TRENDING else 1.0)
        previous = state
    return regimes, drift


# ---- the session layer -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Component:
    """One return component per session: the overnight gap, the session's move and its std dev."""

    gap: np.ndarray
    move: np.ndarray
    move_sigma: np.ndarray


@dataclass(frozen=True, slots=True)
class _Profile:
    beta: float
    sector_loading: float
    idio_vol_per_session: float
    start_price_usd: float
    shares_per_session: float


@dataclass(frozen=True, slots=True)
class _SessionPath:
    """One symbol's sessions: log open and close, the move's std dev, volume in shares, idio part."""

    log_open: np.ndarray
    log_close: np.ndarray
    move_sigma: np.ndarray
    volume_shares: np.ndarray
    extreme_draws: np.ndarray  # (2, days) unit exponentials for the daily high and low
    idio: _Component


def _component(rng: np.random.Generator, vol_per_session: np.ndarray, drift: np.ndarray | float) -> _Component:
    innovations = _unit_t(rng, (2, len(vol_per_session)))
    move_sigma = vol_per_session * np.sqrt(1.0 - _GAP_VARIANCE_SHARE)
    gap = vol_per_session * np.sqrt(_GAP_VARIANCE_SHARE) * innovations[0]
    return _Component(gap=gap, move=drift + move_sigma * innovations[1], move_sigma=move_sigma)


def _profile(rng: np.random.Generator) -> _Profile:
    start_price = _log_uniform(rng, _START_PRICE_USD)
    return _Profile(
        beta=float(rng.uniform(*_BETA)),
        sector_loading=float(rng.uniform(*_SECTOR_LOADING)),
        idio_vol_per_session=float(rng.uniform(*_IDIO_VOL_PER_SESSION)),
        start_price_usd=start_price,
        shares_per_session=_log_uniform(rng, _DOLLAR_VOLUME_PER_SESSION_USD) / start_price,
    )


def _session_path(
    rng: np.random.Generator,
    profile: _Profile,
    market: _Component,
    sector: _Component,
    vol_multiplier: np.ndarray,
    activity: np.ndarray,
) -> _SessionPath:
    idio = _component(rng, profile.idio_vol_per_session * vol_multiplier, 0.0)
    beta, loading = profile.beta, profile.sector_loading
    gap = beta * market.gap + loading * sector.gap + idio.gap
    gap[0] = 0.0  # the first session opens at the start price
    move = beta * market.move + loading * sector.move + idio.move
    move_sigma = np.sqrt((beta * market.move_sigma) ** 2 + (loading * sector.move_sigma) ** 2 + idio.move_sigma**2)
    log_close = np.log(profile.start_price_usd) + np.cumsum(gap + move)
    log_open = log_close - move
    noise = rng.standard_normal(len(move))
    sigma = _VOLUME_NOISE_SIGMA_SESSION
    volume = profile.shares_per_session * activity * (1.0 + _VOLUME_MOVE_SENSITIVITY * np.abs(move) / move_sigma)
    volume *= np.exp(sigma * noise - 0.5 * sigma**2)
    return _SessionPath(
        log_open=log_open,
        log_close=log_close,
        move_sigma=move_sigma,
        volume_shares=np.rint(volume),
        extreme_draws=rng.standard_exponential((2, len(move))),
        idio=idio,
    )


def _bridge_extremes(
    log_open: np.ndarray, log_close: np.ndarray, sigma: np.ndarray, draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log high and low of a Brownian bridge from open to close with variance ``sigma**2``.

    Exact law: P(max >= m) = exp(-2 m (m - b) / sigma**2), inverted with unit exponential draws.
    """
    b = log_close - log_open
    two_var = 2.0 * sigma * sigma
    high = log_open + 0.5 * (b + np.sqrt(b * b + two_var * draws[0]))
    low = log_open + 0.5 * (b - np.sqrt(b * b + two_var * draws[1]))
    return high, low


def _bars_from_logs(
    symbol: str,
    timeframe: Timeframe,
    ts_ns: np.ndarray,
    logs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    volume_shares: np.ndarray,
    calendar: TradingCalendar,
) -> Bars:
    log_open, log_high, log_low, log_close = logs
    open_, close = np.exp(log_open), np.exp(log_close)
    high = np.maximum(np.exp(log_high), np.maximum(open_, close))  # exact OHLC order despite rounding
    low = np.minimum(np.exp(log_low), np.minimum(open_, close))
    return Bars(
        symbol=symbol,
        timeframe=timeframe,
        ts=ts_ns,
        open=open_.ravel(),
        high=high.ravel(),
        low=low.ravel(),
        close=close.ravel(),
        volume=volume_shares.ravel(),
        calendar=calendar,
    )


def _daily_bars(symbol: str, path: _SessionPath, session_ns: np.ndarray, calendar: TradingCalendar) -> Bars:
    high, low = _bridge_extremes(path.log_open, path.log_close, path.move_sigma, path.extreme_draws)
    logs = (path.log_open, high, low, path.log_close)
    return _bars_from_logs(symbol, Timeframe.D1, session_ns, logs, path.volume_shares, calendar)


# ---- the minute layer --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _MinuteGrid:
    """The minutes of every session: open times and the intraday volume and volatility shape."""

    ts_ns: np.ndarray  # (days * minutes,) UTC open time of each minute
    volume_shape: np.ndarray  # (minutes,) expected share of volume, relative (U-shaped)
    vol_scale: np.ndarray  # (minutes,) a minute's std dev as a fraction of the session's; squares sum to 1
    bridge_weight: np.ndarray  # (minutes,) share of the session's variance in each minute

    @property
    def minutes(self) -> int:
        return len(self.volume_shape)


def _minute_grid(dates: pd.DatetimeIndex, calendar: TradingCalendar) -> _MinuteGrid:
    session_open = calendar.session_open or dt.time(9, 30)
    session_close = calendar.session_close or dt.time(16, 0)
    open_minute = session_open.hour * 60 + session_open.minute
    minutes = session_close.hour * 60 + session_close.minute - open_minute
    local_open = (dates + pd.Timedelta(minutes=open_minute)).tz_localize(calendar.timezone)
    open_ns = np.asarray(local_open.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)
    ts_ns = (open_ns[:, None] + np.arange(minutes, dtype=np.int64) * NS_PER_MINUTE).ravel()
    j = np.arange(minutes, dtype=np.float64)
    centred = (j + 0.5) / minutes * 2.0 - 1.0
    shape = 0.55 + 1.1 * centred**2 + 1.8 * np.exp(-j / 12.0) + 1.0 * np.exp(-(minutes - 1 - j) / 12.0)
    weight = shape / shape.sum()
    return _MinuteGrid(ts_ns=ts_ns, volume_shape=shape / shape.mean(), vol_scale=np.sqrt(weight), bridge_weight=weight)


def _bridged_minutes(rng: np.random.Generator, component: _Component, grid: _MinuteGrid) -> np.ndarray:
    """(days, minutes) log returns of ``component`` whose rows add up to its session moves."""
    days = len(component.move)
    steps = _unit_t(rng, (days, grid.minutes))
    steps *= component.move_sigma[:, None] * grid.vol_scale
    steps -= grid.bridge_weight * (steps.sum(axis=1) - component.move)[:, None]
    return steps


def _minute_bars(
    rng: np.random.Generator,
    symbol: str,
    path: _SessionPath,
    minute_returns: np.ndarray,
    grid: _MinuteGrid,
    calendar: TradingCalendar,
) -> Bars:
    days, minutes = minute_returns.shape
    log_close = path.log_open[:, None] + np.cumsum(minute_returns, axis=1)
    log_close[:, -1] = path.log_close  # the session layer's close exactly, not a rounding away from it
    log_open = np.empty_like(log_close)
    log_open[:, 0] = path.log_open
    log_open[:, 1:] = log_close[:, :-1]
    sigma = path.move_sigma[:, None] * grid.vol_scale
    high, low = _bridge_extremes(log_open, log_close, sigma, rng.standard_exponential((2, days, minutes)))
    noise_sigma = _VOLUME_NOISE_SIGMA_MINUTE
    weight = grid.volume_shape * (1.0 + _VOLUME_MOVE_SENSITIVITY * np.abs(log_close - log_open) / sigma)
    weight *= np.exp(noise_sigma * rng.standard_normal((days, minutes)))
    cumulative = np.cumsum(weight, axis=1)
    cumulative /= cumulative[:, -1:]
    # whole shares that add up to the session's volume exactly
    shares_so_far = np.rint(path.volume_shares[:, None] * cumulative)
    volume = np.diff(shares_so_far, axis=1, prepend=0.0)
    logs = (log_open, high, low, log_close)
    return _bars_from_logs(symbol, Timeframe.M1, grid.ts_ns, logs, volume, calendar)
