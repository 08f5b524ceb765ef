"""The instrument master record: the plan's ``instrument.json`` fields plus what a calendar needs.

Fields follow ``spec/examples/instrument.json`` as written (that file loads unchanged). Additions,
all optional: ``name``, ``timezone`` (filled from the market when it is a known one), ``sector``,
``synthetic`` (True for generated data, shown wherever the instrument is), ``source`` and
``description``. The symbol follows the one rule of ``domain.symbols`` (refused, not upper-cased,
when it does not). Trading hours are written ``"HH:MM-HH:MM"`` in the exchange's local time and
parsed once, here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from quantdesk.core.errors import ConfigError
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.symbols import symbol_problem
from quantdesk.domain.timeframe import Timeframe

_QUANTDESK_NAMESPACE = uuid.UUID("5d1c1f2e-6a0e-4c55-9d61-2f6a8a7c0b11")

MARKET_TIMEZONES: dict[str, str] = {
    "US": "America/New_York",
    "HK": "Asia/Hong_Kong",
    "CN": "Asia/Shanghai",
    "SH": "Asia/Shanghai",
    "SZ": "Asia/Shanghai",
    "JP": "Asia/Tokyo",
    "SG": "Asia/Singapore",
    "AU": "Australia/Sydney",
    "UK": "Europe/London",
    "LSE": "Europe/London",
    "EU": "Europe/Berlin",
    "CA": "America/Toronto",
    "FX": "UTC",
    "CRYPTO": "UTC",
    "MACRO": "UTC",
    "SYN": "America/New_York",
}


class AssetClass(StrEnum):
    EQUITY = "equity"
    ETF = "etf"
    INDEX = "index"
    FOREX = "forex"
    FUTURE = "future"
    OPTION = "option"
    CRYPTO = "crypto"
    COMMODITY = "commodity"
    BOND = "bond"


class SessionWindow(BaseModel):
    """A local-time window such as ``09:30-16:00``; written and read back in that form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: dt.time
    end: dt.time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.strip().split("-")
            if len(parts) != 2:
                raise ValueError(f"expected 'HH:MM-HH:MM', found {value!r}")
            try:
                start, end = (dt.datetime.strptime(p.strip(), "%H:%M").time() for p in parts)
            except ValueError as exc:
                raise ValueError(f"expected 'HH:MM-HH:MM' with 24-hour times, found {value!r}") from exc
            return {"start": start, "end": end}
        return value

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


_Session = Annotated[SessionWindow, PlainSerializer(lambda w: str(w), return_type=str)]


def _parse_timeframe(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return Timeframe.parse(value)
    except ConfigError as exc:  # pydantic reports ValueError with the field's path; ConfigError would escape
        raise ValueError(str(exc)) from exc


_TimeframeName = Annotated[
    Timeframe, BeforeValidator(_parse_timeframe), PlainSerializer(lambda t: t.value, return_type=str)
]


class TradingHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pre_market: _Session | None = None
    regular: _Session | None = None
    after_hours: _Session | None = None


class MarginRequirements(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    initial: float = Field(ge=0, le=1)
    maintenance: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _maintenance_not_above_initial(self) -> MarginRequirements:
        if self.maintenance > self.initial:
            raise ValueError(f"maintenance margin ({self.maintenance}) must not exceed initial margin ({self.initial})")
        return self


class Instrument(BaseModel):
    """One tradable (or observable) instrument, as in the plan's instrument master."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument_id: str = ""
    symbol: str
    isin: str | None = None
    asset_class: AssetClass
    market: str = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)
    tick_size: float = Field(default=0.01, gt=0)
    lot_size: float = Field(default=1, gt=0)
    trading_hours: TradingHours = TradingHours()
    fundamental_frequency: Literal["quarterly", "semiannual", "annual", "none"] = "none"
    technical_availability: list[_TimeframeName] = Field(default_factory=list)
    margin_requirements: MarginRequirements | None = None
    # additions to the plan's record
    name: str = ""
    timezone: str = ""
    sector: str | None = None
    synthetic: bool = False
    source: str = ""
    description: str = ""

    @field_validator("symbol")
    @classmethod
    def _symbol_rule(cls, value: str) -> str:
        problem = symbol_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _fill_derived(self) -> Instrument:
        if not self.timezone:
            prefix = self.market.upper().split("_")[0]
            tz = MARKET_TIMEZONES.get(prefix)
            if tz is None:
                known = ", ".join(sorted(MARKET_TIMEZONES))
                raise ValueError(
                    f"timezone is required for market {self.market!r} (markets with a known time zone: {known})"
                )
            object.__setattr__(self, "timezone", tz)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"timezone: expected an IANA zone such as 'America/New_York', found {self.timezone!r}"
            ) from exc
        if not self.instrument_id:
            derived = uuid.uuid5(_QUANTDESK_NAMESPACE, f"{self.market.upper()}:{self.symbol}")
            object.__setattr__(self, "instrument_id", str(derived))
        return self

    @property
    def calendar(self) -> TradingCalendar:
        """Intraday bins anchor at the regular open; a day is complete when its last trading window ends.

        An instrument with after-hours trading may have after-hours bars in its daily bar, so its
        daily bar is known only when after-hours ends (conservative for regular-session data).
        """
        regular = self.trading_hours.regular
        if regular is None:  # around the clock; the FX market closes at the weekend
            return TradingCalendar(timezone=self.timezone, weekdays_only=self.asset_class is AssetClass.FOREX)
        after = self.trading_hours.after_hours
        pre = self.trading_hours.pre_market
        day_end = after.end if after is not None and after.end > regular.end else regular.end
        day_start = pre.start if pre is not None and pre.start < regular.start else None
        return TradingCalendar(
            timezone=self.timezone, session_open=regular.start, session_close=day_end, day_open=day_start
        )
