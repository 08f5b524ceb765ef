"""No look-ahead in resampling: bins complete at a cut are the same whether or not later bars exist."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.data.resample import resample
from quantdesk.domain.bars import BAR_COLUMNS, Bars
from quantdesk.domain.timeframe import Timeframe
from tests.property.minute_bars import any_minute_bars

TARGETS = [tf for tf in Timeframe if tf is not Timeframe.M1]


def assert_complete_bins_agree(full_bars: Bars, k: int, target: Timeframe) -> None:
    full = resample(full_bars, target)
    cut = resample(full_bars[:k], target)
    cut_instant = int(full_bars.known_ns()[k - 1])
    complete = int(np.sum(full.known_ns() <= cut_instant))
    assert int(np.sum(cut.known_ns() <= cut_instant)) == complete, target
    for name in ("ts", *BAR_COLUMNS):
        np.testing.assert_array_equal(getattr(cut, name)[:complete], getattr(full, name)[:complete], err_msg=name)


@settings(max_examples=120, deadline=None)
@given(bars=any_minute_bars, data=st.data())
def test_resampling_cut_data_matches_full_data_on_every_bin_complete_at_the_cut(
    bars: Bars, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(bars)), label="k")
    for target in TARGETS:
        assert_complete_bins_agree(bars, k, target)


@settings(max_examples=60, deadline=None)
@given(bars=any_minute_bars)
def test_resampled_bins_are_in_time_order_and_known_after_every_bar_in_them(bars: Bars) -> None:
    known = bars.known_ns()
    for target in TARGETS:
        out = resample(bars, target)
        assert np.all(np.diff(out.ts) > 0), target
        assert np.all(np.diff(out.known_ns()) > 0), target
        labels = bars.calendar.bin_labels(bars.ts, Timeframe.M1, target)
        bin_known = out.known_ns()[np.searchsorted(out.ts, labels)]
        assert np.all(known <= bin_known), target
        assert int(out.volume.sum()) == int(bars.volume.sum())
