"""No look-ahead in harmonic patterns and divergences: a scan of ``bars[:k]`` finds exactly the full scan's
detections confirmed before ``k``, and the registry's event series on ``bars[:k]`` equal the full ones up to ``k``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.analysis.technical.divergence import divergences_from_arrays, find_divergences
from quantdesk.analysis.technical.patterns.harmonic import scan_harmonic_patterns
from quantdesk.analysis.technical.registry import compute_indicator
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe


@st.composite
def swinging_bars(draw: st.DrawFn) -> Bars:
    """Random walks volatile enough for 2 % zigzag swings to make many harmonic candidates."""
    n = draw(st.integers(min_value=1, max_value=600))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, draw(st.sampled_from([0.01, 0.02, 0.04])), n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    ts = (17_000 + np.arange(n, dtype=np.int64)) * NS_PER_DAY
    volume = rng.integers(1, 10_000, n).astype(np.float64)
    return Bars.from_arrays(
        "RND", Timeframe.D1, {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=swinging_bars(), cut=st.floats(0.0, 1.0), tolerance=st.sampled_from([0.05, 0.15, 0.3]))
def test_harmonic_scan_of_a_prefix_is_the_full_scan_confirmed_before_the_cut(
    bars: Bars, cut: float, tolerance: float
) -> None:
    k = int(cut * len(bars))
    full = scan_harmonic_patterns(bars, threshold_pct=2.0, tolerance=tolerance)
    assert all(p.confirmed >= p.pivot_bars[-1] and p.confirmed == p.pivot_confirmed[-1] for p in full)
    assert scan_harmonic_patterns(bars[:k], threshold_pct=2.0, tolerance=tolerance) == [
        p for p in full if p.confirmed < k
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=swinging_bars(), cut=st.floats(0.0, 1.0), right=st.integers(1, 4))
def test_divergences_of_a_prefix_are_the_full_ones_confirmed_before_the_cut(bars: Bars, cut: float, right: int) -> None:
    k = int(cut * len(bars))
    full = find_divergences(bars, "RSI", right=right)
    assert all(d.confirmed == d.second_bar + right for d in full)
    assert find_divergences(bars[:k], "RSI", right=right) == [d for d in full if d.confirmed < k]
    osc = np.sin(np.arange(len(bars)) / 3.0)
    full_arrays = divergences_from_arrays(bars.high, bars.low, osc, right=right)
    assert divergences_from_arrays(bars.high[:k], bars.low[:k], osc[:k], right=right) == [
        d for d in full_arrays if d.confirmed < k
    ]


REGISTRY_CASES = [
    ("Gartley", {"threshold_pct": 2.0, "tolerance": 0.3}),
    ("Butterfly", {"threshold_pct": 2.0, "tolerance": 0.3}),
    ("Bat", {"threshold_pct": 2.0, "tolerance": 0.3}),
    ("Crab", {"threshold_pct": 2.0, "tolerance": 0.3}),
    ("RSI_Divergence", {"period": 7, "right": 3}),
    ("MACD_Divergence", {"output": "histogram"}),
    ("Divergence", {"oscillator": "Stochastic"}),
    ("Divergence", {"oscillator": "MFI", "max_bars": 20}),
]


@pytest.mark.parametrize(("name", "params"), REGISTRY_CASES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=swinging_bars(), cut=st.floats(0.0, 1.0))
def test_registry_events_on_a_prefix_equal_the_full_events_up_to_the_cut(
    name: str, params: dict[str, object], bars: Bars, cut: float
) -> None:
    k = int(cut * len(bars))
    full = compute_indicator(name, bars, params)
    prefix = compute_indicator(name, bars[:k], params)
    for column, values in full.items():
        np.testing.assert_array_equal(prefix[column], values[:k], err_msg=column)
