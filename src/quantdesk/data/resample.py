"""Resampling bars to a coarser timeframe.

Bins come from the instrument's calendar (``TradingCalendar.bin_labels``): intraday bins anchored
at the session open, days by local session date, weeks labelled by their Monday, months by their
first day. Each bin's open is its first bar's open, high the max, low the min, close the last close,
volume the sum. A bin at the end of the data that is not yet complete is still returned; its known
time (the bin's end by the calendar) keeps it invisible to earlier decisions, so resampling cut data
and resampling full data agree on every bin that was complete at the cut.
"""

from __future__ import annotations

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe


def resample(bars: Bars, target: Timeframe | str) -> Bars:
    """``bars`` aggregated to ``target``, which must be coarser than (or equal to) the bars' timeframe."""
    tf = Timeframe.parse(target)
    if tf == bars.timeframe:
        return bars
    if not bars.timeframe.is_finer_than(tf):
        raise ConfigError(f"cannot resample {bars.timeframe.value} bars to the finer timeframe {tf.value}")
    if len(bars) == 0:
        return Bars.from_arrays(
            bars.symbol,
            tf,
            {k: np.empty(0) for k in ("ts", "open", "high", "low", "close", "volume")},
            bars.calendar,
        )
    labels = bars.calendar.bin_labels(bars.ts, bars.timeframe, tf)
    starts = np.flatnonzero(np.concatenate([[True], labels[1:] != labels[:-1]]))
    ends = np.concatenate([starts[1:], [len(labels)]]) - 1
    return Bars.from_arrays(
        bars.symbol,
        tf,
        {
            "ts": labels[starts],
            "open": bars.open[starts],
            "high": np.maximum.reduceat(bars.high, starts),
            "low": np.minimum.reduceat(bars.low, starts),
            "close": bars.close[ends],
            "volume": np.add.reduceat(bars.volume, starts),
        },
        bars.calendar,
    )
