"""No look-ahead in chart patterns and structure: scanning ``bars[:k]`` finds exactly the full scan's
patterns confirmed before ``k``, and every structure and chart-pattern registry entry gives on
``bars[:k]`` its full output up to ``k``."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.analysis.technical import structure
from quantdesk.analysis.technical.patterns import chart
from quantdesk.analysis.technical.patterns.chart import scan_chart_patterns
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe

# tolerances loose enough for a random walk to show every kind now and then
LOOSE = {
    "shoulder_tolerance_pct": 8.0,
    "shoulder_time_ratio": 4.0,
    "top_tolerance_pct": 5.0,
    "flat_tolerance_pct": 2.0,
    "pole_min_pct": 6.0,
    "max_pole_bars": 40,
    "max_flag_retrace_pct": 80.0,
}


def walk(n: int, seed: int, vol: float) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, vol / 2, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, vol / 2, n))
    ts = (17_000 + np.arange(n, dtype=np.int64)) * NS_PER_DAY
    return Bars.from_arrays(
        "RND", Timeframe.D1, {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": np.ones(n)}
    )


@st.composite
def volatile_bars(draw: st.DrawFn) -> Bars:
    return walk(
        draw(st.integers(min_value=1, max_value=800)),
        draw(st.integers(0, 2**32 - 1)),
        draw(st.sampled_from([0.01, 0.02, 0.04])),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bars=volatile_bars(),
    cut=st.floats(0.0, 1.0),
    threshold_pct=st.sampled_from([2.0, 3.0, 5.0]),
    loose=st.booleans(),
    max_breakout_bars=st.sampled_from([5, 50]),
)
def test_scan_of_a_prefix_is_the_full_scan_confirmed_before_the_cut(
    bars: Bars, cut: float, threshold_pct: float, loose: bool, max_breakout_bars: int
) -> None:
    params = {**(LOOSE if loose else {}), "max_breakout_bars": max_breakout_bars}
    k = int(cut * len(bars))
    full = scan_chart_patterns(bars, threshold_pct, **params)  # type: ignore[arg-type]
    prefix = scan_chart_patterns(bars[:k], threshold_pct, **params)  # type: ignore[arg-type]
    assert prefix == [p for p in full if p.confirmed < k]
    for p in full:
        assert max(p.pivot_confirmed) <= p.confirmed and p.pivot_bars == tuple(sorted(p.pivot_bars))


SPECS = {spec.name: spec for spec in (*structure.SPECS, *chart.SPECS)}


@pytest.mark.parametrize("name", sorted(SPECS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=volatile_bars(), cut=st.floats(0.0, 1.0), threshold_pct=st.sampled_from([2.0, 5.0]))
def test_registry_output_on_a_prefix_equals_the_full_output(
    name: str, bars: Bars, cut: float, threshold_pct: float
) -> None:
    spec = SPECS[name]
    params = spec.defaults()
    params.update({key: value for key, value in LOOSE.items() if key in params})
    if "threshold_pct" in params:
        params["threshold_pct"] = threshold_pct
    k = int(cut * len(bars))
    full = spec.compute(bars, params)
    prefix = spec.compute(bars[:k], params)
    for col in spec.outputs:
        np.testing.assert_array_equal(prefix[col], full[col][:k], err_msg=col)


def test_the_random_walk_shows_every_pattern_kind() -> None:
    """The walks above are volatile enough that the truncation tests see real detections."""
    counts: Counter[str] = Counter()
    for seed in range(40):
        counts.update(p.name for p in scan_chart_patterns(walk(800, seed, 0.02), 3.0, **LOOSE))  # type: ignore[arg-type]
    assert set(counts) == set(chart.PATTERN_KINDS), counts
