"""The one-pass curve kernel equals its numpy definitions, and objectives of a weighted mix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.kernels.curve_stats import curve_stats
from quantdesk.optimize.scores import day_returns, objective_value


def _reference(curve: np.ndarray, day_id: np.ndarray) -> tuple[float, float, float, float, np.ndarray]:
    r = curve[1:] / curve[:-1] - 1.0
    return (float(r.mean()), float(r.std(ddof=1)), float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))),
            float(np.min(curve / np.maximum.accumulate(curve) - 1.0)), day_returns(curve, day_id))  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=2, max_size=300),
    day_every=st.integers(1, 50),
)
def test_curve_stats_equals_its_numpy_definitions(steps: list[float], day_every: int) -> None:
    curve = 1000.0 * np.cumprod(np.r_[1.0, 1.0 + np.asarray(steps)])
    day_id = np.arange(len(steps), dtype=np.int64) // day_every
    got, want = curve_stats(curve, day_id), _reference(curve, day_id)
    for a, b in zip(got[:4], want[:4], strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-15)
    np.testing.assert_allclose(got[4], want[4], rtol=1e-12, atol=1e-15)
    assert len(got[4]) == -(-len(steps) // day_every)


def test_one_day_id_makes_the_whole_curve_one_day() -> None:
    curve = np.array([100.0, 110.0, 99.0, 121.0])
    *_, days = curve_stats(curve, np.zeros(1, dtype=np.int64))
    assert days.tolist() == pytest.approx([0.21])


def test_a_weighted_objective_is_the_weighted_mean_and_undefined_when_a_part_is() -> None:
    metrics = {"sharpe": 2.0, "calmar": 1.0, "sortino": None}
    assert objective_value(metrics, "sharpe") == 2.0
    assert objective_value(metrics, {"sharpe": 3.0, "calmar": 1.0}) == pytest.approx(1.75)
    assert objective_value(metrics, {"sharpe": 1.0, "sortino": 1.0}) is None
