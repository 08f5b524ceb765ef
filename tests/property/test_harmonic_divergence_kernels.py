"""The harmonic and divergence kernels equal their plain-Python references on random pivots and random bars."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantdesk.analysis.technical.divergence import divergences_from_arrays
from quantdesk.analysis.technical.patterns.harmonic import _RATIO_HIGH, _RATIO_LOW, HARMONIC_RATIOS, PATTERN_NAMES
from quantdesk.kernels.harmonic import scan_harmonic
from tests.reference.divergence_reference import reference_divergences
from tests.reference.harmonic_reference import reference_harmonic


@st.composite
def alternating_pivots(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Alternating high/low pivot prices, each leg a random fraction of the one before."""
    n = draw(st.integers(0, 300))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    first_kind = draw(st.sampled_from([-1, 1]))
    kinds = np.array([first_kind * (-1) ** i for i in range(n)], dtype=np.int8)
    prices = np.empty(n)
    price, leg = 100.0, 10.0
    for i in range(n):
        # a low follows a high: price falls to it, and the other way round
        price = price - leg if kinds[i] == -1 else price + leg
        prices[i] = price
        leg = leg * rng.choice([0.382, 0.5, 0.618, 0.786, 0.886, 1.272, 1.618, 2.24, 3.618]) * rng.uniform(0.9, 1.1)
        leg = min(max(leg, 0.5), 50.0)
    return prices, kinds


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pivots=alternating_pivots(),
    tolerance=st.sampled_from([0.0, 0.05, 0.1, 0.3]),
    enabled=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_harmonic_kernel_equals_reference(
    pivots: tuple[np.ndarray, np.ndarray], tolerance: float, enabled: list[bool]
) -> None:
    prices, kinds = pivots
    code, d_pivot, ratios, prz_low, prz_high = scan_harmonic(
        prices, kinds, np.array(enabled), _RATIO_LOW, _RATIO_HIGH, tolerance
    )
    table = [list(HARMONIC_RATIOS[name]) for name in PATTERN_NAMES]
    expected = reference_harmonic(prices.tolist(), kinds.tolist(), table, enabled, tolerance)
    assert [(int(c), int(j)) for c, j in zip(code, d_pivot, strict=True)] == [(c, j) for c, j, *_ in expected]
    for m, (_, _, r, low, high) in enumerate(expected):
        np.testing.assert_allclose(ratios[m], r, rtol=1e-12)
        assert (prz_low[m], prz_high[m]) == (low, high) or np.allclose((prz_low[m], prz_high[m]), (low, high))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 300),
    seed=st.integers(0, 2**32 - 1),
    left=st.integers(1, 4),
    right=st.integers(1, 4),
    min_bars=st.integers(1, 10),
    span=st.integers(0, 40),
)
def test_divergence_kernel_equals_reference(n: int, seed: int, left: int, right: int, min_bars: int, span: int) -> None:
    rng = np.random.default_rng(seed)
    close = np.round(100 + np.cumsum(rng.normal(0, 1, n)), 1)  # rounded so that ties happen
    high = close + np.round(rng.uniform(0, 1, n), 1)
    low = close - np.round(rng.uniform(0, 1, n), 1)
    values = np.round(rng.normal(50, 10, n), 0)
    values[: min(n, 5)] = np.nan
    max_bars = min_bars + span
    got = [
        (d.confirmed, d.direction, d.kind, d.first_bar, d.second_bar)
        for d in divergences_from_arrays(
            high, low, values, left=left, right=right, min_bars=min_bars, max_bars=max_bars
        )
    ]
    assert got == reference_divergences(high.tolist(), low.tolist(), values.tolist(), left, right, min_bars, max_bars)
