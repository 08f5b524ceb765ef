"""Anchored VWAP with standard-deviation bands, computed by ``kernels.vwap``. The price is the typical
price (high + low + close) / 3; the average restarts at each anchor boundary: every session (the bar's
local session date from the instrument's calendar, so each daily bar is its own session), every week
(Monday to Sunday of the session date) or every month. Bands are vwap +- 1, 2 and 3 volume-weighted
standard deviations of the typical price since the anchor. All outputs are NaN until the anchor
period's first bar with positive volume; a zero-volume bar later in the period leaves them unchanged.
"""

from __future__ import annotations

import numpy as np

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, choice
from quantdesk.domain.bars import Bars
from quantdesk.kernels.vwap import anchored_vwap_bands_into

ANCHORS = ("session", "week", "month")
BAND_WIDTHS = (1, 2, 3)


def anchor_ids(bars: Bars, anchor: str) -> np.ndarray:
    """An int64 label per bar that changes exactly where a new ``anchor`` period starts."""
    days = bars.calendar.session_day_numbers(bars.ts, bars.timeframe)
    if anchor == "month":
        return np.asarray(days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64))
    if anchor == "week":
        return days - (days + 3) % 7  # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays
    return days


def _vwap(bars: Bars, p: Params) -> Outputs:
    out = np.empty((7, len(bars)))  # allocated by numpy, which asks for huge pages: far fewer page faults
    ids = anchor_ids(bars, str(p["anchor"]))
    anchored_vwap_bands_into(bars.high, bars.low, bars.close, bars.volume, ids, out)
    return {"vwap": out[0], "upper_1": out[1], "lower_1": out[2], "upper_2": out[3], "lower_2": out[4],
            "upper_3": out[5], "lower_3": out[6]}  # fmt: skip


SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="VWAP",
        category="volume",
        description=(
            "volume-weighted average of the typical price since the anchor (session, week or month) with bands "
            "at 1, 2 and 3 volume-weighted standard deviations; NaN until the anchor's first traded volume"
        ),
        params=(choice("anchor", "session", ANCHORS, "period after which the average restarts"),),
        outputs=("vwap", "upper_1", "lower_1", "upper_2", "lower_2", "upper_3", "lower_3"),
        warmup=lambda p: 0,
        compute=_vwap,
        source="numba",
        inputs=("high", "low", "close", "volume"),
        warmup_exact=False,
    ),
)
