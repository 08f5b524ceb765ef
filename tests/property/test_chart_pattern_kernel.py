"""The chart-pattern and support/resistance kernels equal their plain-Python references."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.analysis.technical.pivots import fractal, zigzag
from quantdesk.kernels.chart_patterns import scan_chart_patterns
from quantdesk.kernels.structure import nearest_levels
from tests.reference.chart_patterns_reference import KINDS, reference_chart_patterns, reference_nearest_levels


@st.composite
def prices(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=1, max_value=600))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vol = draw(st.sampled_from([0.01, 0.02, 0.04]))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, vol / 2, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, vol / 2, n))
    return high, low, close


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hlc=prices(),
    threshold=st.sampled_from([0.02, 0.03, 0.05]),
    kinds=st.sets(st.sampled_from(KINDS), min_size=1),
    shoulder_tolerance=st.sampled_from([0.03, 0.08]),
    shoulder_time_ratio=st.sampled_from([1.5, 4.0]),
    top_tolerance=st.sampled_from([0.02, 0.05]),
    flat_tolerance=st.sampled_from([0.0, 0.01, 0.03]),
    pole_min_move=st.sampled_from([0.05, 0.1]),
    max_pole_bars=st.sampled_from([10, 40]),
    max_flag_retrace=st.sampled_from([0.5, 0.9]),
    max_breakout_bars=st.sampled_from([1, 10, 60]),
)
def test_chart_pattern_kernel_equals_reference(
    hlc: tuple[np.ndarray, np.ndarray, np.ndarray],
    threshold: float,
    kinds: set[str],
    shoulder_tolerance: float,
    shoulder_time_ratio: float,
    top_tolerance: float,
    flat_tolerance: float,
    pole_min_move: float,
    max_pole_bars: int,
    max_flag_retrace: float,
    max_breakout_bars: int,
) -> None:
    high, low, close = hlc
    piv = zigzag(high, low, threshold * 100)
    enabled = np.array([k in kinds for k in KINDS])
    rules = (
        shoulder_tolerance,
        shoulder_time_ratio,
        top_tolerance,
        flat_tolerance,
        pole_min_move,
        max_pole_bars,
        max_flag_retrace,
        max_breakout_bars,
    )
    got = scan_chart_patterns(close, piv.index, piv.confirmed, piv.price, piv.kind, enabled, *rules)
    order = np.lexsort((got[0], got[2]))
    pivots = list(zip(piv.index.tolist(), piv.confirmed.tolist(), piv.price.tolist(), piv.kind.tolist(), strict=True))
    want = reference_chart_patterns(close.tolist(), pivots, sorted(kinds), *rules)
    assert [tuple(int(col[i]) for col in got[:4]) for i in order] == [w[:4] for w in want]
    for col, w in zip(got[4:], (4, 5, 6), strict=True):
        np.testing.assert_allclose(col[order], [x[w] for x in want], rtol=1e-12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hlc=prices(),
    left_right=st.sampled_from([(1, 1), (2, 2), (3, 1)]),
    lookback_bars=st.sampled_from([5, 30, 200]),
    tolerance=st.sampled_from([0.0, 0.005, 0.02]),
    min_touches=st.sampled_from([1, 2, 3]),
)
def test_support_resistance_kernel_equals_reference(
    hlc: tuple[np.ndarray, np.ndarray, np.ndarray],
    left_right: tuple[int, int],
    lookback_bars: int,
    tolerance: float,
    min_touches: int,
) -> None:
    high, low, close = hlc
    piv = fractal(high, low, *left_right)
    got = nearest_levels(close, piv.index, piv.confirmed, piv.price, lookback_bars, tolerance, min_touches)
    pivots = list(zip(piv.index.tolist(), piv.confirmed.tolist(), piv.price.tolist(), piv.kind.tolist(), strict=True))
    want = np.array(reference_nearest_levels(close.tolist(), pivots, lookback_bars, tolerance, min_touches))
    want = want.reshape(len(close), 4)
    for i, col in enumerate(got):
        np.testing.assert_allclose(col, want[:, i], rtol=1e-12)
