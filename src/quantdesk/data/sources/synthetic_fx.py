"""The seeded synthetic FX market: made-up spot rates of currency pairs with the short-rate series that drive them.

It is synthetic, labelled so on every instrument and series, and exists so that a carry-trade strategy can be
tested end to end on data with a known, planted effect. Each currency (USD, EUR, JPY, AUD, GBP) has a policy rate
in percent per year that is piecewise constant: it changes only at about ``meetings_per_year`` seeded "central
bank meetings", by whole steps of ``step_pct`` (at most two at once), following a mean-reverting random walk with
a persistent policy stance, kept within ``rate_bounds_pct``. It is written as the macro series ``RATE_<CCY>``:
one observation per business day, ``ts`` at that date's midnight UTC, the value in force at the end of that date
(a decision announced that day included), and ``known_ts`` at the end of that date in New York (next midnight,
America/New_York), so the data never tells anyone a decision before the day it was announced is over. Each pair
``BASEQUOTE`` (the price of one unit of BASE in QUOTE) trades around the clock on weekdays: hourly bars on a UTC
day, and daily bars that are exactly those hours resampled, stored at midnight UTC and known at the next
midnight UTC. The planted model, in log price per business day ``d``::

    log(close[d] / close[d-1]) = carry_loading * diff_pct[d] / 100 / 252 + trend[d] + vol_daily * eps[d]

where ``diff_pct[d]`` is rate(BASE) - rate(QUOTE) as known when bar ``d-1`` closed (the as-of join of the rate
series on their ``known_ts`` at the decision time of a strategy trading bar ``d``; before any observation is
known, the starting rates, which no meeting changes on the first day), ``trend[d]`` is +-``trend_drift_daily`` or
0 from a per-pair Markov chain of trend spells, and ``eps`` is Student-t with 4 degrees of freedom scaled to unit
variance. The spot price carries no interest accrual: ``carry_loading`` above 0 is the forward-premium puzzle
(high yielders appreciate), and a long-high-yield position earns it in the price alone. Each bar opens at the
previous close (no weekend gap); hours split the day's move along a London/New York activity profile, with
high and low from the exact law of a Brownian bridge's extremes and tick volume that rises with the move. The
same seed gives the same market, and each currency's meetings and rates and each pair's draws come from their
own streams spawned from the seed, keyed by fixed positions in ``CURRENCIES``, so nothing depends on which other
currencies or pairs were asked for. For a six-letter FX symbol the base currency is the first three letters and
the quote is the instrument's ``currency`` (``fx_currencies``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_HOUR
from quantdesk.data.catalog import Catalog, WriteReport
from quantdesk.data.resample import resample
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.timeframe import Timeframe

__all__ = [
    "CURRENCIES",
    "DEFAULT_PAIRS",
    "RATE_SERIES_PREFIX",
    "SyntheticFxConfig",
    "SyntheticFxMarket",
    "fx_currencies",
    "generate_fx_market",
    "rate_series_name",
    "write_synthetic_fx",
]

CURRENCIES: tuple[str, ...] = ("USD", "EUR", "JPY", "AUD", "GBP")  # positions key the random streams
DEFAULT_PAIRS: tuple[str, ...] = ("AUDUSD", "USDJPY", "EURUSD", "GBPUSD")
RATE_SERIES_PREFIX = "RATE_"

_MARKET = "FX_SYN"  # prefix FX: the UTC time zone; no trading hours: around the clock
_RATE_KNOWN_TZ = "America/New_York"
_DAYS_PER_YEAR = 252  # the carry formula's year, in business days

# Per currency: (starting policy rate, long-run level it reverts to), percent per year; roughly 2010 levels.
_RATE_PROFILE_PCT: dict[str, tuple[float, float]] = {
    "USD": (0.25, 2.0),
    "EUR": (1.0, 1.25),
    "JPY": (0.0, 0.25),
    "AUD": (3.75, 3.5),
    "GBP": (0.5, 2.0),
}
# Value of one unit in USD at the start: AUDUSD 0.70, USDJPY 110, EURUSD 1.15, GBPUSD 1.30.
_START_VALUE_USD: dict[str, float] = {"USD": 1.0, "EUR": 1.15, "JPY": 1.0 / 110.0, "AUD": 0.70, "GBP": 1.30}

# The rate model, per meeting. The change aimed at is reversion to the long-run level plus a persistent stance
# (an AR(1) in percent), rounded to whole steps.
_MEAN_REVERSION_PER_MEETING = 0.05
_STANCE_PERSISTENCE = 0.8
_STANCE_SIGMA_PCT = 0.09
_MAX_STEPS_PER_MEETING = 2
_MEETING_JITTER = 0.3  # a meeting falls within +-30 % of the spacing around its slot

# The price model.
_TAIL_DF = 4.0
_TREND_STAY = 0.985  # daily probability that a trend spell (or a spell without one) goes on: ~67 days
_TICKS_PER_DAY = (3e4, 1.5e5)  # log-uniform per pair
_VOLUME_MOVE_SENSITIVITY = 0.5
_VOLUME_NOISE_SIGMA = 0.3
# Relative activity per UTC hour, busiest in the London/New York overlap.
_HOUR_ACTIVITY = np.array(
    [
        [0.6, 0.6, 0.6, 0.7, 0.6, 0.6],  # 00-05 UTC: Asia
        [0.8, 1.2, 1.5, 1.4, 1.3, 1.3],  # 06-11: London opens
        [1.6, 1.8, 1.8, 1.6, 1.2, 0.9],  # 12-17: London and New York overlap
        [0.8, 0.7, 0.6, 0.4, 0.35, 0.45],  # 18-23: New York, then quiet
    ]
).ravel()


class _Stream(IntEnum):
    """What a random stream is for; with the seed and an index (currency or pair) it names the stream."""

    MEETINGS = 0
    RATES = 1
    PAIR_PROFILE = 2
    PAIR_TREND = 3
    PAIR_DAILY = 4
    PAIR_HOURLY = 5


@dataclass(frozen=True, kw_only=True)
class SyntheticFxConfig:
    """What to generate: the rates of ``currencies`` and the bars of ``pairs`` over the business days from
    ``start`` to ``end`` (inclusive), at each of ``timeframes`` (1h or coarser)."""

    currencies: tuple[str, ...] = CURRENCIES
    pairs: tuple[str, ...] = DEFAULT_PAIRS
    start: str = "2010-01-04"
    end: str = "2019-12-31"
    timeframes: tuple[Timeframe, ...] = (Timeframe.D1,)
    seed: int = 7
    carry_loading: float = 2.0  # daily log-return drift per unit of differential / 100 / 252
    trend_drift_daily: float = 0.0002  # log return per day during a trend spell
    vol_daily_range: tuple[float, float] = (0.005, 0.008)  # each pair's std dev of daily log returns, drawn in it
    meetings_per_year: int = 8
    step_pct: float = 0.25
    rate_bounds_pct: tuple[float, float] = (-0.75, 8.0)

    def __post_init__(self) -> None:
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ConfigError(f"SyntheticFxConfig.seed: expected an integer >= 0, found {seed!r}")
        object.__setattr__(self, "seed", int(seed))
        meetings = self.meetings_per_year
        if isinstance(meetings, bool) or not isinstance(meetings, int | np.integer) or not 1 <= meetings <= 52:
            raise ConfigError(f"SyntheticFxConfig.meetings_per_year: expected an integer 1..52, found {meetings!r}")
        object.__setattr__(self, "meetings_per_year", int(meetings))
        currencies = _currencies(self.currencies)
        object.__setattr__(self, "currencies", currencies)
        object.__setattr__(self, "pairs", _pairs(self.pairs, currencies))
        object.__setattr__(self, "timeframes", _timeframes(self.timeframes))
        first, last = _date("start", self.start), _date("end", self.end)
        if len(pd.bdate_range(first, last)) < 2:
            raise ConfigError(
                f"SyntheticFxConfig.end: expected a date at least one business day after start ({self.start!r}), "
                f"found {self.end!r}"
            )
        for name, low, high in (
            ("carry_loading", -100.0, 100.0),
            ("trend_drift_daily", 0.0, 0.01),
            ("step_pct", 0.01, 5.0),
        ):
            object.__setattr__(self, name, _number(name, getattr(self, name), low, high))
        vol = _bounds("vol_daily_range", self.vol_daily_range, 1e-5, 0.1)
        object.__setattr__(self, "vol_daily_range", vol)
        bounds = _bounds("rate_bounds_pct", self.rate_bounds_pct, -20.0, 100.0)
        starts = {c: _RATE_PROFILE_PCT[c][0] for c in currencies}
        if any(not bounds[0] <= s <= bounds[1] for s in starts.values()) or bounds[1] - bounds[0] < self.step_pct:
            shown = ", ".join(f"{c} {s:g}" for c, s in starts.items())
            raise ConfigError(
                f"SyntheticFxConfig.rate_bounds_pct: expected bounds at least step_pct ({self.step_pct:g}) apart "
                f"that contain the starting rates ({shown}), found {self.rate_bounds_pct!r}"
            )
        object.__setattr__(self, "rate_bounds_pct", bounds)

    @property
    def source(self) -> str:
        """The provenance label written on instruments, bar datasets and series."""
        return f"synthetic_fx(seed={self.seed})"

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The business days generated (naive midnights)."""
        return pd.bdate_range(_date("start", self.start), _date("end", self.end))


@dataclass(frozen=True)
class SyntheticFxMarket:
    """A generated FX market: instruments, bars, the rate series and the planted components of each pair."""

    instruments: list[Instrument]
    bars: dict[str, dict[Timeframe, Bars]]  # pair -> timeframe -> bars, for each configured timeframe
    rates: dict[str, MacroSeries]  # currency -> its RATE_<CCY> series
    meeting_dates: dict[str, np.ndarray]  # currency -> int64 ns (midnight UTC) of the dates its rate could change
    carry_differential_pct: dict[str, np.ndarray]  # pair -> per business day, diff_pct[d] of the model
    trend: dict[str, np.ndarray]  # pair -> per business day, the trend drift (log return per day)
    vol_daily: dict[str, float]  # pair -> std dev of the noise in daily log returns
    dates: np.ndarray  # int64 ns, midnight UTC of each business day


def generate_fx_market(config: SyntheticFxConfig) -> SyntheticFxMarket:
    """The market that ``config`` describes; the same config always gives identical arrays."""
    dates = config.dates
    dates_ns = np.asarray(dates.as_unit("ns").asi8, dtype=np.int64)
    known_ns = _rate_known_ns(dates)
    rates: dict[str, MacroSeries] = {}
    meetings: dict[str, np.ndarray] = {}
    rate_values: dict[str, np.ndarray] = {}
    for ccy in config.currencies:  # every pair's currencies are among them (checked by the config)
        positions, values = _rate_path(config, ccy, dates)
        rate_values[ccy] = values
        meetings[ccy] = dates_ns[positions]
        rates[ccy] = _rate_series(config, ccy, dates_ns, known_ns, values)

    # the decision time of a strategy trading bar d: the close of bar d-1 (a 1d bar is known at next midnight UTC)
    decision_ns = dates_ns[:-1] + np.int64(NS_PER_DAY)
    known_row = np.searchsorted(known_ns, decision_ns, side="right") - 1
    known_row = np.concatenate(([-1], known_row))
    instruments: list[Instrument] = []
    bars: dict[str, dict[Timeframe, Bars]] = {}
    differentials: dict[str, np.ndarray] = {}
    trends: dict[str, np.ndarray] = {}
    vols: dict[str, float] = {}
    for pair in config.pairs:
        base, quote = pair[:3], pair[3:]
        diff = rate_values[base] - rate_values[quote]
        differential = np.where(known_row >= 0, diff[np.maximum(known_row, 0)], diff[0])
        inst = _instrument(config, pair)
        hourly, trend, vol = _pair_hourly(config, pair, dates_ns, differential, inst.calendar)
        daily = resample(hourly, Timeframe.D1)
        instruments.append(inst)
        bars[pair] = {tf: _at(tf, hourly, daily) for tf in config.timeframes}
        differentials[pair] = differential
        trends[pair] = trend
        vols[pair] = vol
    return SyntheticFxMarket(
        instruments=instruments,
        bars=bars,
        rates=rates,
        meeting_dates=meetings,
        carry_differential_pct=differentials,
        trend=trends,
        vol_daily=vols,
        dates=dates_ns,
    )


def write_synthetic_fx(
    catalog: Catalog,
    config: SyntheticFxConfig,
    progress: Callable[[int, int], None] | None = None,
    market: SyntheticFxMarket | None = None,
) -> list[WriteReport]:
    """Generate the market (or take ``market``, generated from ``config``), store every ``RATE_<CCY>`` series
    and every pair's bars at each configured timeframe; ``progress(done, total)`` after each pair. Returns one
    report per stored bar dataset (series writes replace the stored series and report nothing)."""
    market = market if market is not None else generate_fx_market(config)
    for series in market.rates.values():
        catalog.write_series(series)
    reports: list[WriteReport] = []
    total = len(market.instruments)
    for done, inst in enumerate(market.instruments, start=1):
        for bars in market.bars[inst.symbol].values():
            reports.append(catalog.write_bars(bars, instrument=inst, source=config.source))
        if progress is not None:
            progress(done, total)
    return reports


def rate_series_name(currency: str) -> str:
    """The macro series holding ``currency``'s policy rate: ``RATE_USD`` for ``USD``."""
    return f"{RATE_SERIES_PREFIX}{currency.upper()}"


def fx_currencies(instrument: Instrument) -> tuple[str, str]:
    """(base, quote) of an FX instrument: the first three letters of its six-letter symbol, and its currency."""
    symbol = instrument.symbol
    if instrument.asset_class is not AssetClass.FOREX or len(symbol) != 6 or not symbol.isalpha():
        raise ConfigError(
            f"fx_currencies: expected a forex instrument with a six-letter symbol such as 'AUDUSD', found "
            f"{symbol!r} ({instrument.asset_class.value})"
        )
    if symbol[3:] != instrument.currency.upper():
        raise ConfigError(
            f"fx_currencies: expected {symbol}'s currency to be its quote {symbol[3:]!r}, found {instrument.currency!r}"
        )
    return symbol[:3], symbol[3:]


# ---- configuration ----------------------------------------------------------------------------


def _as_tuple(value: object) -> tuple[object, ...]:
    if isinstance(value, str | Timeframe):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    return (value,)


def _currencies(value: object) -> tuple[str, ...]:
    out: list[str] = []
    for item in _as_tuple(value):
        ccy = item.upper().strip() if isinstance(item, str) else item
        if ccy not in CURRENCIES:
            raise ConfigError(
                f"SyntheticFxConfig.currencies: expected currencies from {', '.join(CURRENCIES)}, found {item!r}"
            )
        if ccy in out:
            raise ConfigError(f"SyntheticFxConfig.currencies: expected each currency once, found {item!r} twice")
        out.append(str(ccy))
    if not out:
        raise ConfigError("SyntheticFxConfig.currencies: expected at least one currency, found none")
    return tuple(out)


def _pairs(value: object, currencies: tuple[str, ...]) -> tuple[str, ...]:
    expected = "SyntheticFxConfig.pairs: expected six-letter pairs of two different configured currencies"
    out: list[str] = []
    for item in _as_tuple(value):
        pair = item.upper().replace("/", "").strip() if isinstance(item, str) else ""
        base, quote = pair[:3], pair[3:]
        if len(pair) != 6 or base not in CURRENCIES or quote not in CURRENCIES:
            raise ConfigError(f"{expected} from {', '.join(CURRENCIES)} such as 'AUDUSD', found {item!r}")
        if base == quote:
            raise ConfigError(f"{expected}, found {item!r} (the same currency twice)")
        missing = [c for c in (base, quote) if c not in currencies]
        if missing:
            raise ConfigError(
                f"{expected} ({', '.join(currencies)}), found {item!r} ({', '.join(missing)} not in currencies)"
            )
        if pair in out or quote + base in out:
            raise ConfigError(f"SyntheticFxConfig.pairs: expected each pair once, found {item!r} twice")
        out.append(pair)
    if not out:
        raise ConfigError("SyntheticFxConfig.pairs: expected at least one pair, found none")
    return tuple(out)


def _timeframes(value: object) -> tuple[Timeframe, ...]:
    out: set[Timeframe] = set()
    for item in _as_tuple(value):
        try:
            tf = Timeframe.parse(item)  # type: ignore[arg-type]
        except ConfigError as exc:
            raise ConfigError(f"SyntheticFxConfig.timeframes: {exc}") from None
        if tf.is_finer_than(Timeframe.H1):
            raise ConfigError(f"SyntheticFxConfig.timeframes: expected 1h or coarser, found {item!r}")
        out.add(tf)
    if not out:
        raise ConfigError("SyntheticFxConfig.timeframes: expected at least one timeframe, found none")
    return tuple(sorted(out, key=lambda t: t.rank))


def _date(name: str, value: object) -> pd.Timestamp:
    expected = f"SyntheticFxConfig.{name}: expected a date such as '2010-01-04'"
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise ConfigError(f"{expected}, found {value!r}") from None
    if ts is pd.NaT or ts.tzinfo is not None or ts != ts.normalize():
        raise ConfigError(f"{expected} (no time of day or time zone), found {value!r}")
    if not 1900 <= ts.year <= 2200:
        raise ConfigError(f"{expected} between 1900 and 2200, found {value!r}")
    return ts


def _number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"SyntheticFxConfig.{name}: expected a number in [{low:g}, {high:g}], found {value!r}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise ConfigError(f"SyntheticFxConfig.{name}: expected a number in [{low:g}, {high:g}], found {value!r}")
    return number


def _bounds(name: str, value: object, low: float, high: float) -> tuple[float, float]:
    items = _as_tuple(value)
    if len(items) != 2:
        raise ConfigError(f"SyntheticFxConfig.{name}: expected (lower, upper), found {value!r}")
    lower, upper = (_number(name, v, low, high) for v in items)
    if lower > upper:
        raise ConfigError(f"SyntheticFxConfig.{name}: expected lower <= upper, found {value!r}")
    return lower, upper


# ---- rates --------------------------------------------------------------------------------------


def _rng(seed: int, stream: _Stream, index: int = 0, part: int = 0) -> np.random.Generator:
    """The generator for one purpose: a child of ``SeedSequence(seed)`` keyed by (stream, index, part)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(stream), index, part)))


def _pair_index(pair: str) -> int:
    return CURRENCIES.index(pair[:3]) * len(CURRENCIES) + CURRENCIES.index(pair[3:])


def _unit_t(rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """Student-t draws with ``_TAIL_DF`` degrees of freedom, scaled to unit variance."""
    return rng.standard_t(_TAIL_DF, size) * np.sqrt((_TAIL_DF - 2.0) / _TAIL_DF)


def _meeting_positions(rng: np.random.Generator, dates: pd.DatetimeIndex, meetings_per_year: int) -> np.ndarray:
    """Positions in ``dates`` of the meetings: one per slot of 365.25 / meetings_per_year days, jittered, moved
    to the next business day; never the first day, so the starting rates are in force there."""
    spacing_days = 365.25 / meetings_per_year
    span_days = (dates[-1] - dates[0]).days
    slots = int(span_days // spacing_days) + 1
    offsets = spacing_days * (np.arange(slots) + 0.5 + rng.uniform(-_MEETING_JITTER, _MEETING_JITTER, slots))
    days = dates[0] + pd.to_timedelta(np.floor(offsets), unit="D")
    positions = np.searchsorted(dates.asi8, days.as_unit(dates.unit).asi8, side="left")
    return np.unique(positions[(positions > 0) & (positions < len(dates))]).astype(np.int64)


def _rate_path(config: SyntheticFxConfig, ccy: str, dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """(meeting positions, the rate in force at the end of each business day in percent per year)."""
    index = CURRENCIES.index(ccy)
    positions = _meeting_positions(_rng(config.seed, _Stream.MEETINGS, index), dates, config.meetings_per_year)
    shocks = _rng(config.seed, _Stream.RATES, index).standard_normal(len(positions)).tolist()
    start, mean = _RATE_PROFILE_PCT[ccy]
    step = config.step_pct
    lower, upper = config.rate_bounds_pct
    after = np.empty(len(positions), dtype=np.float64)
    rate, stance, steps_from_start = start, 0.0, 0
    for k, shock in enumerate(shocks):
        stance = _STANCE_PERSISTENCE * stance + _STANCE_SIGMA_PCT * shock
        aim = _MEAN_REVERSION_PER_MEETING * (mean - rate) + stance
        steps = max(-_MAX_STEPS_PER_MEETING, min(_MAX_STEPS_PER_MEETING, round(aim / step)))
        room_up = math.floor((upper - rate) / step + 1e-9)  # whole steps left before each bound
        room_down = math.floor((rate - lower) / step + 1e-9)
        steps_from_start += max(-room_down, min(room_up, steps))
        rate = start + steps_from_start * step  # on the lattice start + k * step, without drift from rounding
        after[k] = rate
    which = np.searchsorted(positions, np.arange(len(dates)), side="right") - 1
    values = np.where(which >= 0, after[np.maximum(which, 0)], start)
    return positions, values


def _rate_known_ns(dates: pd.DatetimeIndex) -> np.ndarray:
    """The end of each date in New York (its next local midnight) as int64 UTC ns."""
    ends = (dates + pd.Timedelta(days=1)).tz_localize(_RATE_KNOWN_TZ)
    return np.asarray(ends.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def _rate_series(
    config: SyntheticFxConfig, ccy: str, dates_ns: np.ndarray, known_ns: np.ndarray, values: np.ndarray
) -> MacroSeries:
    return MacroSeries(
        name=rate_series_name(ccy),
        ts=dates_ns,
        known_ts=known_ns,
        value=values,
        description=(
            f"Synthetic {ccy} policy rate (quantdesk seed {config.seed}), not a real central bank's: piecewise "
            f"constant, changed in steps of {config.step_pct:g} at about {config.meetings_per_year} seeded meetings "
            "a year. Each business day's value is the rate in force at the end of that date (ts, midnight UTC), "
            "known at the end of that date in New York."
        ),
        unit="percent per year",
        frequency="daily",
        source=config.source,
        synthetic=True,
    )


# ---- pairs --------------------------------------------------------------------------------------


def _instrument(config: SyntheticFxConfig, pair: str) -> Instrument:
    base, quote = pair[:3], pair[3:]
    return Instrument(
        symbol=pair,
        name=f"{base}/{quote} (synthetic)",
        asset_class=AssetClass.FOREX,
        market=_MARKET,
        currency=quote,
        tick_size=0.001 if quote == "JPY" else 0.00001,
        lot_size=1000,
        technical_availability=list(config.timeframes),
        synthetic=True,
        source=config.source,
        description=(
            f"Generated by quantdesk's synthetic FX market (seed {config.seed}), not real quotes: the price of one "
            f"{base} in {quote}, trading around the clock on weekdays (UTC days). Daily log-return drift = "
            f"{config.carry_loading:g} x (RATE_{base} - RATE_{quote}) / 100 / 252 as known at the previous close, "
            "plus trend spells and Student-t noise. Base currency = the symbol's first three letters, quote = "
            "currency."
        ),
    )


def _trend(rng: np.random.Generator, days: int, drift: float) -> np.ndarray:
    """Per day 0, +drift or -drift: spells that each go on with probability ``_TREND_STAY`` a day; a spell
    without a trend is followed by an up or a down one with equal chance, a trend by a spell without one."""
    draws = rng.random((days, 2)).tolist()
    out = np.empty(days, dtype=np.float64)
    state = 0.0
    for d, (go_on, direction) in enumerate(draws):
        if d == 0:
            state = 0.0 if go_on < 0.5 else (drift if direction < 0.5 else -drift)
        elif go_on >= _TREND_STAY:
            state = (drift if direction < 0.5 else -drift) if state == 0.0 else 0.0
        out[d] = state
    return out


def _pair_hourly(
    config: SyntheticFxConfig,
    pair: str,
    dates_ns: np.ndarray,
    differential_pct: np.ndarray,
    calendar: TradingCalendar,
) -> tuple[Bars, np.ndarray, float]:
    """(hourly bars of every business day, the trend per day, vol_daily)."""
    index = _pair_index(pair)
    profile = _rng(config.seed, _Stream.PAIR_PROFILE, index)
    vol_daily = float(profile.uniform(*config.vol_daily_range))
    low, high = np.log(_TICKS_PER_DAY[0]), np.log(_TICKS_PER_DAY[1])
    ticks_per_day = float(np.exp(profile.uniform(low, high)))
    days = len(dates_ns)
    trend = _trend(_rng(config.seed, _Stream.PAIR_TREND, index), days, config.trend_drift_daily)
    drift = config.carry_loading * differential_pct / 100.0 / _DAYS_PER_YEAR + trend
    move = drift + vol_daily * _unit_t(_rng(config.seed, _Stream.PAIR_DAILY, index), days)

    hourly = _rng(config.seed, _Stream.PAIR_HOURLY, index)
    weight = _HOUR_ACTIVITY / _HOUR_ACTIVITY.sum()  # share of a day's variance and of its ticks per hour
    sigma = vol_daily * np.sqrt(weight)
    steps = _unit_t(hourly, (days, 24)) * sigma
    steps -= weight * (steps.sum(axis=1) - move)[:, None]  # bridged: the hours add up to the day's move
    start_price = _START_VALUE_USD[pair[:3]] / _START_VALUE_USD[pair[3:]]
    log_close = np.log(start_price) + np.cumsum(steps.ravel()).reshape(days, 24)
    log_open = log_close - steps
    b = steps
    extremes = hourly.standard_exponential((2, days, 24))
    two_var = 2.0 * sigma * sigma
    log_high = log_open + 0.5 * (b + np.sqrt(b * b + two_var * extremes[0]))
    log_low = log_open + 0.5 * (b - np.sqrt(b * b + two_var * extremes[1]))
    noise = np.exp(_VOLUME_NOISE_SIGMA * hourly.standard_normal((days, 24)) - 0.5 * _VOLUME_NOISE_SIGMA**2)
    ticks = ticks_per_day * weight * (1.0 + _VOLUME_MOVE_SENSITIVITY * np.abs(b) / sigma) * noise
    open_, close = np.exp(log_open), np.exp(log_close)
    ts = (dates_ns[:, None] + np.arange(24, dtype=np.int64) * np.int64(NS_PER_HOUR)).ravel()
    bars = Bars(
        symbol=pair,
        timeframe=Timeframe.H1,
        ts=ts,
        open=open_.ravel(),
        high=np.maximum(np.exp(log_high), np.maximum(open_, close)).ravel(),
        low=np.minimum(np.exp(log_low), np.minimum(open_, close)).ravel(),
        close=close.ravel(),
        volume=np.maximum(np.rint(ticks), 1.0).ravel(),
        calendar=calendar,
    )
    return bars, trend, vol_daily


def _at(timeframe: Timeframe, hourly: Bars, daily: Bars) -> Bars:
    if timeframe is Timeframe.H1:
        return hourly
    if timeframe is Timeframe.D1:
        return daily
    return resample(hourly if timeframe.is_intraday else daily, timeframe)
