"""``Bars``: one instrument's OHLCV bars of one timeframe as columnar numpy arrays.

The container every layer passes around: the store reads into it, indicators and kernels take its
arrays, resampling returns a new one. Times are int64 UTC nanoseconds (``ts``, the bar's open time
or date label, see ``domain.timeframe``); prices and volume are float64. Arrays are read-only so a
consumer cannot change what another sees. Slicing (``bars[:k]``) is a view, cheap enough for the
truncation tests to slice at every bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quantdesk.core.timestamps import ns_to_index
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe

PRICE_COLUMNS = ("open", "high", "low", "close")
BAR_COLUMNS = (*PRICE_COLUMNS, "volume")


def _frozen(values: np.ndarray, dtype: type) -> np.ndarray:
    arr: np.ndarray = np.asarray(values, dtype=dtype)
    if arr.flags.writeable:
        arr = arr.view()
        arr.flags.writeable = False
    return arr


@dataclass(frozen=True, slots=True, kw_only=True)
class Bars:
    """OHLCV bars of one symbol and timeframe; all arrays have the same length."""

    symbol: str
    timeframe: Timeframe
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    calendar: TradingCalendar = field(default_factory=TradingCalendar)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", _frozen(self.ts, np.int64))
        n = len(self.ts)
        for name in BAR_COLUMNS:
            arr = _frozen(getattr(self, name), np.float64)
            if len(arr) != n:
                raise ValueError(f"Bars.{name} has {len(arr)} values, ts has {n}")
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.ts)

    def __getitem__(self, item: slice) -> Bars:
        if not isinstance(item, slice):
            raise TypeError("Bars can be sliced by position (bars[a:b]); use .to_frame() for row access")
        return Bars(
            symbol=self.symbol,
            timeframe=self.timeframe,
            ts=self.ts[item],
            open=self.open[item],
            high=self.high[item],
            low=self.low[item],
            close=self.close[item],
            volume=self.volume[item],
            calendar=self.calendar,
        )

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> Bars:
        """Bars with ``start_ns <= ts <= end_ns`` (either bound may be None)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.ts, start_ns, side="left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.ts, end_ns, side="right"))
        return self[lo:hi]

    def known_ns(self) -> np.ndarray:
        """When each bar became known (int64 UTC ns), by the instrument's calendar."""
        return self.calendar.known_ns(self.ts, self.timeframe)

    @property
    def index(self) -> pd.DatetimeIndex:
        return ns_to_index(self.ts)

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame indexed by tz-aware UTC ``ts`` with the five OHLCV columns."""
        frame = pd.DataFrame({name: getattr(self, name) for name in BAR_COLUMNS}, index=self.index)
        frame.index.name = "ts"
        return frame

    @classmethod
    def from_arrays(
        cls,
        symbol: str,
        timeframe: Timeframe,
        columns: dict[str, np.ndarray],
        calendar: TradingCalendar | None = None,
    ) -> Bars:
        return cls(
            symbol=symbol,
            timeframe=timeframe,
            ts=columns["ts"],
            calendar=calendar or TradingCalendar(),
            **{name: columns[name] for name in BAR_COLUMNS},
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        symbol: str,
        timeframe: Timeframe,
        calendar: TradingCalendar | None = None,
    ) -> Bars:
        """From a DataFrame with a tz-aware DatetimeIndex (or ``ts`` column) and OHLCV columns."""
        idx = pd.DatetimeIndex(frame["ts"] if "ts" in frame.columns else frame.index)
        if idx.tz is None:
            raise ValueError("Bars.from_frame needs tz-aware timestamps")
        ts = np.asarray(idx.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)
        cols = {name: frame[name].to_numpy(dtype=np.float64) for name in BAR_COLUMNS}
        return cls.from_arrays(symbol, timeframe, {"ts": ts, **cols}, calendar)
