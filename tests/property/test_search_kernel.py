"""The galloping search the calendar uses equals numpy's ``searchsorted(side="left")`` for ascending
keys: repeated values, keys before, between and after the values, and empty inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from quantdesk.kernels.search import searchsorted_left_sorted

small_ints = st.integers(min_value=-50, max_value=50)


@settings(max_examples=300, deadline=None)
@given(
    values=arrays(np.int64, st.integers(0, 60), elements=small_ints),
    keys=arrays(np.int64, st.integers(0, 30), elements=small_ints),
)
def test_galloping_search_equals_numpy_searchsorted_left(values: np.ndarray, keys: np.ndarray) -> None:
    values = np.sort(values)
    keys = np.sort(keys)
    np.testing.assert_array_equal(searchsorted_left_sorted(values, keys), np.searchsorted(values, keys, side="left"))


def test_galloping_search_on_sparse_keys_over_a_long_array() -> None:
    values = np.arange(0, 3_000_000, 3, dtype=np.int64)  # one key per ~400 values, as midnights among minute bars
    keys = np.arange(-1_000, 3_100_000, 1_201, dtype=np.int64)
    got = searchsorted_left_sorted(values, keys)
    np.testing.assert_array_equal(got, np.searchsorted(values, keys, side="left"))
    assert got[0] == 0 and got[-1] == len(values)
