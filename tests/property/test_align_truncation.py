"""No look-ahead in alignment: aligning data cut at an instant equals the full alignment's prefix."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.data.align import align_bars
from quantdesk.data.resample import resample
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.timeframe import Timeframe
from tests.property.minute_bars import any_minute_bars

PAIRS = [
    (Timeframe.M5, Timeframe.H1),
    (Timeframe.M5, Timeframe.D1),
    (Timeframe.M15, Timeframe.H4),
    (Timeframe.H1, Timeframe.D1),
    (Timeframe.D1, Timeframe.W1),
    (Timeframe.D1, Timeframe.MN1),
]


@settings(max_examples=100, deadline=None)
@given(minutes=any_minute_bars, data=st.data())
def test_aligning_a_higher_timeframe_cut_at_a_base_bar_equals_the_full_alignments_prefix(
    minutes: Bars, data: st.DataObject
) -> None:
    minute_known = minutes.known_ns()
    for base_tf, other_tf in PAIRS:
        base = resample(minutes, base_tf)
        full = align_bars(base, resample(minutes, other_tf))
        k = data.draw(st.integers(1, len(base)), label=f"k for {base_tf.value}")
        cut_instant = int(base.known_ns()[k - 1])
        # the other source as it stood at the cut: built only from minutes known by then
        seen = minutes[: int(np.searchsorted(minute_known, cut_instant, side="right"))]
        cut = align_bars(base[:k], resample(seen, other_tf))
        for name in ("ts", *BAR_COLUMNS):
            np.testing.assert_array_equal(cut[name], full[name][:k], err_msg=f"{base_tf}->{other_tf} {name}")
