"""The pivot kernels equal their plain-Python references, and a pivot is never known before its bar."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.analysis.technical.pivots import fractal, zigzag
from tests.reference.pivots_reference import reference_fractal, reference_zigzag


def _prices(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    high = np.round(close * (1 + rng.uniform(0, 0.01, n)), 0)  # rounding makes equal highs and lows common
    low = np.round(close * (1 - rng.uniform(0, 0.01, n)), 0)
    return high, np.minimum(low, high)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 300), left=st.integers(1, 5), right=st.integers(1, 5))
def test_fractal_kernel_equals_reference(seed: int, n: int, left: int, right: int) -> None:
    high, low = _prices(seed, n)
    got = fractal(high, low, left, right)
    expected = reference_fractal(list(high), list(low), left, right)
    assert list(zip(got.index, got.confirmed, got.price, got.kind, strict=True)) == expected
    assert (got.confirmed - got.index == right).all()


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 300), threshold_pct=st.sampled_from([0.5, 2.0, 5.0, 10.0]))
def test_zigzag_kernel_equals_reference_and_alternates(seed: int, n: int, threshold_pct: float) -> None:
    high, low = _prices(seed, n)
    got = zigzag(high, low, threshold_pct)
    expected = reference_zigzag(list(high), list(low), threshold_pct / 100)
    assert list(zip(got.index, got.confirmed, got.price, got.kind, strict=True)) == expected
    assert (got.confirmed > got.index).all() and (np.diff(got.kind) != 0).all()
    assert (np.diff(got.confirmed) > 0).all()


def test_known_by_keeps_only_confirmed_pivots() -> None:
    high = np.array([1.0, 2, 5, 2, 1, 1, 4, 1, 1])
    low = high - 0.5
    piv = fractal(high, low, 2, 2)
    # highs at 2 and 6; bar 4's low (0.5) is below the two before and not above the two after
    assert piv.index.tolist() == [2, 4, 6] and piv.kind.tolist() == [1, -1, 1]
    assert len(piv.known_by(3)) == 0 and piv.known_by(4).index.tolist() == [2]
    assert piv.known_by(7).index.tolist() == [2, 4] and piv.known_by(8).index.tolist() == [2, 4, 6]
    assert piv.lows().price.tolist() == [0.5] and piv.highs().price.tolist() == [5.0, 4.0]
