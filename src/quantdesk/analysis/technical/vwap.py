"""Anchored VWAP, and VWAP with standard-deviation bands, computed by ``kernels.vwap``.

The price is the typical price (high + low + close) / 3; the average restarts at each anchor
boundary: every session (the bar's local session date from the instrument's calendar, so each
daily bar is its own session), every week (Monday to Sunday of the session date) or every month.
``VWAP`` is the line alone (what a ``price_above`` condition needs); ``VWAP_Bands`` adds bands at
vwap +- 1, 2 and 3 volume-weighted standard deviations of the typical price since the anchor. All
outputs are NaN until the anchor period's first bar with positive volume; a zero-volume bar later in
the period leaves them unchanged.
"""

from __future__ import annotations

import numpy as np

from quantdesk.analysis.technical.spec import IndicatorSpec, Outputs, Params, choice
from quantdesk.domain.bars import Bars
from quantdesk.kernels.vwap import anchored_vwap_into

ANCHORS = ("session", "week", "month")
BAND_OUTPUTS = ("upper_1", "lower_1", "upper_2", "lower_2", "upper_3", "lower_3")


def anchor_starts(bars: Bars, anchor: str) -> np.ndarray:
    """Positions of the bars that begin a new ``anchor`` period (bar 0 always does)."""
    starts = bars.calendar.session_starts(bars.ts, bars.timeframe)
    if anchor == "session" or len(starts) == 0:
        return starts
    days = bars.calendar.session_day_numbers(bars.ts[starts], bars.timeframe)
    if anchor == "week":
        labels = days - (days + 3) % 7  # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays
    else:
        labels = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    changed = np.concatenate(([True], labels[1:] != labels[:-1]))
    return starts[changed]


def anchor_ids(bars: Bars, anchor: str) -> np.ndarray:
    """An int64 label per bar, the same for the bars of one anchor period (for inspection and tests)."""
    ids = np.zeros(len(bars), dtype=np.int64)
    starts = anchor_starts(bars, anchor)
    ids[starts[1:]] = 1
    return np.cumsum(ids)


def _compute(rows: int, names: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def compute(bars: Bars, p: Params) -> Outputs:
        out = np.empty((rows, len(bars)))  # numpy asks for huge pages: far fewer page faults than numba
        anchored_vwap_into(bars.high, bars.low, bars.close, bars.volume, anchor_starts(bars, str(p["anchor"])), out)
        return dict(zip(names, out, strict=True))

    return compute


_ANCHOR = choice("anchor", "session", ANCHORS, "period after which the average restarts")

SPECS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        name="VWAP",
        category="volume",
        description=(
            "volume-weighted average of the typical price since the anchor (session, week or month); "
            "NaN until the anchor's first traded volume"
        ),
        params=(_ANCHOR,),
        outputs=("vwap",),
        warmup=lambda p: 0,
        compute=_compute(1, ("vwap",)),
        source="numba",
        inputs=("high", "low", "close", "volume"),
        warmup_exact=False,
    ),
    IndicatorSpec(
        name="VWAP_Bands",
        category="volume",
        description=(
            "anchored VWAP with bands at 1, 2 and 3 volume-weighted standard deviations of the typical price "
            "since the anchor; NaN until the anchor's first traded volume"
        ),
        params=(_ANCHOR,),
        outputs=("vwap", *BAND_OUTPUTS),
        warmup=lambda p: 0,
        compute=_compute(7, ("vwap", *BAND_OUTPUTS)),
        source="numba",
        inputs=("high", "low", "close", "volume"),
        warmup_exact=False,
    ),
)
