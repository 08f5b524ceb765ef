"""The nouns of trading: instruments, timeframes, calendars and bars."""

from quantdesk.domain.bars import BAR_COLUMNS, PRICE_COLUMNS, Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.timeframe import Timeframe

__all__ = ["BAR_COLUMNS", "PRICE_COLUMNS", "AssetClass", "Bars", "Instrument", "Timeframe", "TradingCalendar"]
