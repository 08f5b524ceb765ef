"""No look-ahead in any registered indicator: its output on ``bars[:k]`` equals its full output up to ``k``.

Run for every name in the registry (the plan's library, the candle aliases, every TA-Lib function,
structure, patterns and divergences) over random daily bars and random New York session minute bars.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.analysis.technical.registry import INDICATORS
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from tests.property.minute_bars import session_minute_bars


@st.composite
def daily_bars(draw: st.DrawFn) -> Bars:
    n = draw(st.integers(min_value=1, max_value=400))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.005, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, n))
    volume = rng.integers(0, 10_000, n).astype(np.float64)
    ts = (17_000 + np.arange(n, dtype=np.int64)) * NS_PER_DAY  # consecutive days from 2016-07-18
    return Bars.from_arrays(
        "RND", Timeframe.D1, {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


@pytest.mark.parametrize("name", sorted(INDICATORS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=st.one_of(daily_bars(), session_minute_bars()), cut=st.floats(0.0, 1.0))
def test_indicator_output_on_a_prefix_equals_the_full_output_up_to_the_cut(name: str, bars: Bars, cut: float) -> None:
    spec = INDICATORS[name]
    params = spec.defaults()
    k = int(cut * len(bars))
    full = spec.compute(bars, params)
    prefix = spec.compute(bars[:k], params)
    for col in spec.outputs:
        np.testing.assert_array_equal(np.asarray(prefix[col], dtype=np.float64), np.asarray(full[col])[:k], err_msg=col)
