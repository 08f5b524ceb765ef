"""Bars drawn through turning points: closes interpolated linearly between ``(bar, price)`` points,
each bar opening at the previous close, its high and low the larger and smaller of open and close."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe


def bars_from_points(points: Sequence[tuple[float, float]]) -> Bars:
    at = [int(p[0]) for p in points]
    n = at[-1] + 1
    close = np.interp(np.arange(n), at, [p[1] for p in points])
    open_ = np.concatenate([[close[0]], close[:-1]])
    ts = (17_000 + np.arange(n, dtype=np.int64)) * NS_PER_DAY
    return Bars.from_arrays(
        "PTS",
        Timeframe.D1,
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": np.ones(n),
        },
    )
