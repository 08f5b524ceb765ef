"""Hypothesis generators of random minute bars shared by the property tests.

New York regular-session minutes on days around a month end, a week end and both 2024 daylight-saving
changes, and around-the-clock (UTC) minutes over 40 days; prices are a random walk with consistent OHLC.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from quantdesk.core.timestamps import NS_PER_MINUTE, to_utc_ns
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.timeframe import Timeframe

NYSE = TradingCalendar(timezone="America/New_York", session_open=dt.time(9, 30), session_close=dt.time(16, 0))
UTC = TradingCalendar()

# weekdays around a month end, a week end, and both US daylight-saving changes of 2024
SESSION_DAYS = [
    "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-04", "2024-03-08", "2024-03-11", "2024-03-12",
    "2024-03-28", "2024-03-29", "2024-04-01", "2024-10-31", "2024-11-01", "2024-11-04",
]  # fmt: skip
UTC_START = to_utc_ns("2024-02-26")
UTC_SPAN_MINUTES = 40 * 24 * 60


def _bars(ts: np.ndarray, seed: int, calendar: TradingCalendar) -> Bars:
    """Random-walk OHLCV at ``ts`` (sorted, unique)."""
    rng = np.random.default_rng(seed)
    n = len(ts)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    volume = rng.integers(0, 1000, n).astype(np.float64)
    return Bars.from_arrays(
        "RND",
        Timeframe.M1,
        {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume},
        calendar,
    )


@st.composite
def session_minute_bars(draw: st.DrawFn) -> Bars:
    """Minute bars of a New York stock, inside the regular session, on a few days with random holes."""
    days = sorted(draw(st.lists(st.sampled_from(SESSION_DAYS), min_size=1, max_size=4, unique=True)))
    local: list[pd.Timestamp] = []
    for day in days:
        offsets = sorted(draw(st.lists(st.integers(0, 389), min_size=1, max_size=30, unique=True)))
        base = pd.Timestamp(day) + pd.Timedelta(hours=9, minutes=30)
        local.extend(base + pd.Timedelta(minutes=m) for m in offsets)
    idx = pd.DatetimeIndex(local).tz_localize("America/New_York").tz_convert("UTC")
    ts = np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)
    return _bars(ts, draw(st.integers(0, 2**32 - 1)), NYSE)


@st.composite
def around_the_clock_minute_bars(draw: st.DrawFn) -> Bars:
    """Minute bars of an instrument trading around the clock (UTC), at any minute over 40 days."""
    minutes = sorted(draw(st.lists(st.integers(0, UTC_SPAN_MINUTES - 1), min_size=1, max_size=80, unique=True)))
    ts = UTC_START + np.asarray(minutes, dtype=np.int64) * NS_PER_MINUTE
    return _bars(ts, draw(st.integers(0, 2**32 - 1)), UTC)


any_minute_bars = st.one_of(session_minute_bars(), around_the_clock_minute_bars())
