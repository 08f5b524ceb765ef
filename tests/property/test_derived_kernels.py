"""The derived-output kernels equal their numpy references (to 1e-9 relative, NaN where NaN)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.kernels.derived import bollinger_extras, candle_direction, cross_events, volume_ratio
from tests.reference.derived_reference import (
    reference_bollinger_extras,
    reference_candle_direction,
    reference_cross_events,
    reference_volume_ratio,
)


def _series(seed: int, n: int, nan_head: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = np.round(rng.normal(0, 1, n), 1)  # rounding makes ties (equal lines) frequent
    b = np.round(rng.normal(0, 1, n), 1)
    a[:nan_head] = np.nan
    b[: nan_head // 2] = np.nan
    return a, b


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(0, 80), nan_head=st.integers(0, 10), warmup=st.integers(0, 12))
def test_kernels_equal_references(seed: int, n: int, nan_head: int, warmup: int) -> None:
    a, b = _series(seed, n, nan_head)
    got = cross_events(a, b, warmup, np.empty((2, n)))
    for mine, ref in zip(got, reference_cross_events(a, b, warmup), strict=True):
        np.testing.assert_array_equal(mine, ref)
    close = a
    upper, lower = np.abs(b) + 1.0, -np.abs(b)
    lower[::7] = upper[::7]  # touching bands
    middle = (upper + lower) / 2 + 3.0
    for mine, ref in zip(
        bollinger_extras(close, upper, middle, lower, np.empty((2, n))),
        reference_bollinger_extras(close, upper, middle, lower),
        strict=True,
    ):
        np.testing.assert_allclose(mine, ref, rtol=1e-9, equal_nan=True)
    volume = np.abs(a) * 10
    average = np.abs(b) * 10  # zeros where b rounds to 0
    for mine, ref in zip(
        volume_ratio(volume, average, 1.5, warmup, np.empty((3, n))),
        reference_volume_ratio(volume, average, 1.5, warmup),
        strict=True,
    ):
        np.testing.assert_allclose(mine, ref, rtol=1e-9, equal_nan=True)
    raw = (np.random.default_rng(seed).integers(-2, 3, n) * 100).astype(np.int32)
    np.testing.assert_array_equal(candle_direction(raw, warmup, np.empty(n)), reference_candle_direction(raw, warmup))
