"""Trading calendar rules: when a bar becomes known, and how bars group into longer ones.

This is the one place that turns a bar's stored timestamp into its *known time* (``DESIGN.md``
section 2), a deterministic function of the timestamp, the timeframe and the instrument's session,
never of the data around it, so that cutting the data at any bar cannot change what an earlier bar
knew:

- intraday bars are known at open + duration (conservative when a session ends inside the bar);
- a daily bar is known at its session's regular close in the exchange's time zone, or at the next
  midnight of its date when the instrument trades around the clock;
- a weekly bar (labelled by its Monday) at Friday's close; a monthly bar (labelled by its first
  day) at the close of the month's last weekday. A holiday on that day only makes these later,
  never earlier, so they are safe.

Grouping (for resampling) is anchored to the session open for intraday bins (so 1h bars of a US
stock run 09:30-10:30, ...), and to the exchange's local session date for daily and longer bars.
Pandas does the time-zone arithmetic, including daylight-saving changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.core.timestamps import NS_PER_DAY, NS_PER_MINUTE
from quantdesk.domain.timeframe import Timeframe
from quantdesk.kernels.calendar import local_day_numbers
from quantdesk.kernels.search import searchsorted_left_sorted


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingCalendar:
    """An instrument's time zone and regular session; ``session`` None means trading around the clock."""

    timezone: str = "UTC"
    session_open: dt.time | None = None  # regular open: intraday bins anchor here
    session_close: dt.time | None = None  # the day is complete: end of the last trading window
    day_open: dt.time | None = None  # start of the first trading window when earlier than the regular open
    # around the clock on weekdays only (FX): Saturday and Sunday, local days, are not missing data
    weekdays_only: bool = False

    @property
    def has_session(self) -> bool:
        return self.session_open is not None and self.session_close is not None

    # ---- known times -------------------------------------------------------------------------

    def known_ns(self, ts_ns: np.ndarray, timeframe: Timeframe) -> np.ndarray:
        """The instant each bar of ``timeframe`` stored at ``ts_ns`` is complete (int64 UTC ns)."""
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        if timeframe.is_intraday:
            return ts_ns + np.int64(timeframe.duration_ns)
        labels = _ns_to_naive_dates(ts_ns)
        if timeframe is Timeframe.D1:
            last_day = labels
        elif timeframe is Timeframe.W1:
            last_day = labels + pd.Timedelta(days=4)  # Monday label -> Friday
        else:
            last_day = labels + (pd.offsets.BMonthEnd(0) if self.has_session else pd.offsets.MonthEnd(0))
        if not self.has_session:
            if timeframe is Timeframe.W1:
                last_day = labels + pd.Timedelta(days=6)
            return _naive_to_ns(last_day) + np.int64(NS_PER_DAY)
        assert self.session_close is not None
        close_offset = pd.Timedelta(hours=self.session_close.hour, minutes=self.session_close.minute)
        # a close inside a daylight-saving fold takes the later instant: known later, never earlier
        local_close = (last_day + close_offset).tz_localize(
            self.timezone, ambiguous=np.zeros(len(last_day), dtype=bool), nonexistent="shift_forward"
        )
        return _aware_to_ns(local_close)

    def outside_hours(self, ts_ns: np.ndarray) -> np.ndarray:
        """True for intraday bar times that start outside the trading day (before its first window
        opens or at/after the day's close). Such bars would join a daily bar after it is known."""
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        if not self.has_session or len(ts_ns) == 0:
            return np.zeros(len(ts_ns), dtype=bool)
        assert self.session_open is not None and self.session_close is not None
        first = self.day_open or self.session_open
        local = pd.DatetimeIndex(ts_ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(self.timezone)
        naive = local.tz_localize(None)
        minute_of_day = ((naive - naive.normalize()).to_numpy().view(np.int64)) // NS_PER_MINUTE
        start = first.hour * 60 + first.minute
        end = self.session_close.hour * 60 + self.session_close.minute
        return np.asarray((minute_of_day < start) | (minute_of_day >= end))

    # ---- grouping for resampling ----------------------------------------------------------------

    def bin_labels(self, ts_ns: np.ndarray, source: Timeframe, target: Timeframe) -> np.ndarray:
        """The ``target`` bar label that each ``source`` bar stored at ``ts_ns`` belongs to."""
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        if target.is_intraday:
            return self._intraday_bins(ts_ns, target)
        dates = self.session_dates(ts_ns, source)
        if target is Timeframe.D1:
            out = dates
        elif target is Timeframe.W1:
            out = dates - pd.to_timedelta(dates.day_of_week, unit="D")
        else:
            out = dates.to_period("M").to_timestamp()
        return _naive_to_ns(pd.DatetimeIndex(out))

    def session_dates(self, ts_ns: np.ndarray, timeframe: Timeframe) -> pd.DatetimeIndex:
        """Naive midnight of each bar's local session date."""
        if not timeframe.is_intraday:
            return _ns_to_naive_dates(ts_ns)
        local = pd.DatetimeIndex(ts_ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(self.timezone)
        return local.tz_localize(None).normalize()

    def session_day_numbers(self, ts_ns: np.ndarray, timeframe: Timeframe) -> np.ndarray:
        """Each bar's local session date as int64 days since 1970-01-01; equal to ``session_dates``.

        Cheap on millions of bars: the time zone's offset changes between the first and last bar are
        found on a quarter-hour grid around each change (offsets change on the quarter hour at the
        finest), and a kernel applies them in one pass.
        """
        ts_ns = np.ascontiguousarray(ts_ns, dtype=np.int64)
        if not timeframe.is_intraday or self.timezone == "UTC" or len(ts_ns) == 0:
            return np.floor_divide(ts_ns, NS_PER_DAY)
        starts, offsets = self._offset_table(int(ts_ns.min()), int(ts_ns.max()))
        return local_day_numbers(ts_ns, starts, offsets)

    def session_starts(self, ts_ns: np.ndarray, timeframe: Timeframe) -> np.ndarray:
        """Positions (int64) of the bars that begin a new local session date in sorted ``ts_ns``.

        Bar 0 always begins one. Equal to where ``session_day_numbers`` changes, but found by placing
        the few local midnights of the range among the bars, without a per-bar array.
        """
        ts_ns = np.ascontiguousarray(ts_ns, dtype=np.int64)
        n = len(ts_ns)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        if not timeframe.is_intraday:
            days = np.floor_divide(ts_ns, NS_PER_DAY)
            return np.flatnonzero(np.concatenate(([True], days[1:] != days[:-1]))).astype(np.int64)
        first_day = int(ts_ns[0]) // NS_PER_DAY - 1
        local_midnights = np.arange(first_day, int(ts_ns[-1]) // NS_PER_DAY + 2, dtype=np.int64) * NS_PER_DAY
        if self.timezone == "UTC":
            boundaries = local_midnights
        else:
            naive = pd.DatetimeIndex(local_midnights.view("datetime64[ns]"))
            aware = naive.tz_localize(self.timezone, ambiguous=True, nonexistent="shift_forward")
            boundaries = _aware_to_ns(aware)
        # ascending boundaries give non-decreasing positions: a day without bars repeats the next one's
        positions = searchsorted_left_sorted(ts_ns, np.ascontiguousarray(boundaries, dtype=np.int64))
        inner = positions[(positions > 0) & (positions < n)]
        fresh = np.empty(len(inner), dtype=bool)
        fresh[:1] = True
        np.not_equal(inner[1:], inner[:-1], out=fresh[1:])
        return np.concatenate(([0], inner[fresh])).astype(np.int64)

    def sessions_per_bar(self, ts_ns: np.ndarray, timeframe: Timeframe) -> np.ndarray:
        """Trading days each daily, weekly or monthly bar spans (float64): 1 for a daily bar; the weekdays
        of its week or month for a session market or FX, and every day around the clock. Holidays are
        not known to quantdesk yet, so a holiday week still counts five."""
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        if timeframe.is_intraday:
            raise ValueError(f"sessions_per_bar is for daily and longer bars, not {timeframe.value}")
        if timeframe is Timeframe.D1:
            return np.ones(len(ts_ns))
        first = ts_ns.view("datetime64[ns]").astype("datetime64[D]")
        if timeframe is Timeframe.W1:
            end = first + np.timedelta64(7, "D")
        else:
            end = (first.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[D]")
        if self.has_session or self.weekdays_only:
            return np.busday_count(first, end).astype(np.float64)
        return (end - first).astype(np.int64).astype(np.float64)

    def weekday_ns_before(self, ts_ns: np.ndarray) -> np.ndarray:
        """Monday-to-Friday time (ns, local days) from 1970-01-01 local to each instant: the difference
        of two values is the weekday time between them, which is what a weekdays-only market trades."""
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        local = ts_ns if self.timezone == "UTC" else ts_ns + self._utc_offsets_ns(ts_ns)
        days = np.floor_divide(local, NS_PER_DAY)
        dates = days.astype("datetime64[D]")
        whole = np.busday_count(np.datetime64("1970-01-01", "D"), dates).astype(np.int64)
        return whole * NS_PER_DAY + np.where(np.is_busday(dates), local - days * NS_PER_DAY, 0)

    def _offset_table(self, first_ns: int, last_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """(instants, offsets): the UTC offset in force from each instant on, covering [first, last]."""
        day0 = first_ns // NS_PER_DAY
        days = np.arange(day0, last_ns // NS_PER_DAY + 2, dtype=np.int64) * NS_PER_DAY
        at_days = self._utc_offsets_ns(days)
        changed = np.flatnonzero(at_days[1:] != at_days[:-1])  # the offset changes during day k
        starts = [days[:1]]
        offsets = [at_days[:1]]
        quarter = NS_PER_DAY // 96
        for k in changed:
            grid = days[k] + np.arange(1, 97, dtype=np.int64) * quarter
            at_grid = self._utc_offsets_ns(grid)
            steps = np.flatnonzero(np.concatenate(([at_grid[0] != at_days[k]], at_grid[1:] != at_grid[:-1])))
            starts.append(grid[steps])
            offsets.append(at_grid[steps])
        return np.concatenate(starts), np.concatenate(offsets)

    def _utc_offsets_ns(self, ts_ns: np.ndarray) -> np.ndarray:
        utc = pd.DatetimeIndex(np.asarray(ts_ns, dtype=np.int64).view("datetime64[ns]")).tz_localize("UTC")
        local = utc.tz_convert(self.timezone).tz_localize(None)
        return np.asarray(local.asi8 - utc.tz_localize(None).asi8, dtype=np.int64)

    def _intraday_bins(self, ts_ns: np.ndarray, target: Timeframe) -> np.ndarray:
        step = np.int64(target.duration_ns)
        if not self.has_session:
            return (ts_ns // step) * step
        assert self.session_open is not None
        local = pd.DatetimeIndex(ts_ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(self.timezone)
        naive = local.tz_localize(None)
        day = naive.normalize()
        anchor_ns = np.int64((self.session_open.hour * 60 + self.session_open.minute) * NS_PER_MINUTE)
        since_anchor = (naive - day).to_numpy().view(np.int64) - anchor_ns
        offset_ns = np.floor_divide(since_anchor, step) * step + anchor_ns
        local_label = pd.DatetimeIndex(day.to_numpy() + offset_ns.view("timedelta64[ns]"))
        # the UTC offset of each source bar carries over to its bin (bins never straddle a DST change
        # inside a session, which happens at night)
        utc_offset = (naive - local.tz_convert("UTC").tz_localize(None)).to_numpy().view(np.int64)
        return local_label.to_numpy().view(np.int64) - utc_offset


UTC_CALENDAR = TradingCalendar()


def _ns_to_naive_dates(ts_ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ts_ns, dtype=np.int64).view("datetime64[ns]")).normalize()


def _naive_to_ns(idx: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)


def _aware_to_ns(idx: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(idx.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)
