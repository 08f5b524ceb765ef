"""Bar timeframes (1m ... 1M) with their durations and the names users may write for them.

A timeframe says how long a bar lasts. Intraday bars (1m to 4h) are stored under their open time.
Bars of a day or longer are stored under a date label: midnight UTC of their first session date
(``2018-01-02T00:00Z`` is the daily bar of the 2 January 2018 session, whatever the exchange's time
zone). When each bar becomes *known* is the calendar's business (``domain.calendar``), because a
daily bar is complete at its session's close, not at midnight.
"""

from __future__ import annotations

from enum import StrEnum

from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE


class Timeframe(StrEnum):
    """A bar length. The value is the canonical name (``1M`` is a month, ``1m`` a minute)."""

    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"
    W1 = "1w"
    MN1 = "1M"

    @classmethod
    def parse(cls, text: str | Timeframe) -> Timeframe:
        """Canonical name or a common alias (``daily``, ``60m``, ``1D``, ``weekly``, ``monthly``)."""
        if isinstance(text, Timeframe):
            return text
        key = str(text).strip()
        if key in _BY_VALUE:
            return _BY_VALUE[key]
        alias = _ALIASES.get(key) or _ALIASES.get(key.lower())
        if alias is not None:
            return alias
        valid = ", ".join(t.value for t in cls)
        raise ConfigError(f"unknown timeframe {text!r}; valid timeframes: {valid} (or daily, weekly, monthly)")

    @property
    def is_intraday(self) -> bool:
        return self in _INTRADAY_NS

    @property
    def duration_ns(self) -> int:
        """Nominal length in nanoseconds: exact for intraday, 1d and 1w; 31 days for 1M (its longest)."""
        if self in _INTRADAY_NS:
            return _INTRADAY_NS[self]
        return {Timeframe.D1: NS_PER_DAY, Timeframe.W1: 7 * NS_PER_DAY, Timeframe.MN1: 31 * NS_PER_DAY}[self]

    @property
    def rank(self) -> int:
        """Order from finest (0) to coarsest."""
        return _ORDER.index(self)

    def is_finer_than(self, other: Timeframe) -> bool:
        return self.rank < other.rank


_ORDER = list(Timeframe)
_BY_VALUE = {t.value: t for t in Timeframe}
_INTRADAY_NS = {
    Timeframe.M1: NS_PER_MINUTE,
    Timeframe.M5: 5 * NS_PER_MINUTE,
    Timeframe.M15: 15 * NS_PER_MINUTE,
    Timeframe.M30: 30 * NS_PER_MINUTE,
    Timeframe.H1: NS_PER_HOUR,
    Timeframe.H4: 4 * NS_PER_HOUR,
}
_ALIASES = {
    "1min": Timeframe.M1,
    "5min": Timeframe.M5,
    "15min": Timeframe.M15,
    "30min": Timeframe.M30,
    "1H": Timeframe.H1,
    "4H": Timeframe.H4,
    "60m": Timeframe.H1,
    "60min": Timeframe.H1,
    "hourly": Timeframe.H1,
    "240m": Timeframe.H4,
    "1D": Timeframe.D1,
    "d": Timeframe.D1,
    "day": Timeframe.D1,
    "daily": Timeframe.D1,
    "1W": Timeframe.W1,
    "w": Timeframe.W1,
    "week": Timeframe.W1,
    "weekly": Timeframe.W1,
    "1mo": Timeframe.MN1,
    "month": Timeframe.MN1,
    "monthly": Timeframe.MN1,
}
