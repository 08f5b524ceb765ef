"""No look-ahead in channels, VWAP and volume profiles: output on bars[:k] equals the full output up to k."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.analysis.technical.registry import compute_indicator
from quantdesk.domain.bars import Bars
from tests.property.minute_bars import any_minute_bars

CASES: list[tuple[str, dict[str, int | float | str]]] = [
    ("Keltner", {}),
    ("Keltner", {"period": 3, "atr_period": 2, "multiplier": 1.0}),
    ("Donchian", {"period": 4}),
    ("Ichimoku", {"tenkan_period": 2, "kijun_period": 3, "senkou_b_period": 5, "displacement": 3}),
    ("Ichimoku", {"tenkan_period": 2, "kijun_period": 3, "senkou_b_period": 8, "displacement": 2}),
    ("VWAP", {}),
    ("VWAP", {"anchor": "week"}),
    ("VWAP", {"anchor": "month"}),
    ("VWAP_Bands", {}),
    ("VWAP_Bands", {"anchor": "week"}),
    ("Volume_Profile", {"period": 5, "rows": 6}),
    ("Volume_Profile", {}),
    ("Session_Volume_Profile", {}),
    ("Session_Volume_Profile", {"rows": 3, "value_area_pct": 50.0}),
]


@settings(max_examples=80, deadline=None)
@given(bars=any_minute_bars, data=st.data())
def test_cut_output_equals_full_output_up_to_the_cut(bars: Bars, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(bars)), label="k")
    for name, params in CASES:
        full = compute_indicator(name, bars, params)
        cut = compute_indicator(name, bars[:k], params)
        assert tuple(cut) == tuple(full)
        for column, values in cut.items():
            assert len(values) == k
            np.testing.assert_array_equal(values, full[column][:k], err_msg=f"{name} {params} {column}")
