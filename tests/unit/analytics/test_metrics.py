"""Metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.analytics.metrics import YEAR_NS, compute_metrics, drawdown


def test_drawdown_is_distance_below_running_peak() -> None:
    np.testing.assert_allclose(drawdown(np.array([100.0, 120.0, 90.0, 130.0, 104.0])), [0, 0, -0.25, 0, -0.2])


def test_metrics_of_a_hand_built_equity_curve() -> None:
    equity = np.array([110.0, 99.0, 118.8])  # returns from 100: +10%, -10%, +20%
    m = compute_metrics(
        equity,
        start_ns=0,
        end_ns=int(YEAR_NS),
        initial_cash=100.0,
        trade_pnl_closed=np.array([5.0, -2.0, 0.0, 3.0]),
        fees_paid=1.5,
        in_market=np.array([True, False, True]),
    )
    rets = np.array([0.1, -0.1, 0.2])
    assert m.total_return == pytest.approx(0.188)
    assert m.cagr == pytest.approx(0.188)  # exactly one year
    assert m.volatility == pytest.approx(np.std(rets, ddof=1) * math.sqrt(3))
    assert m.sharpe == pytest.approx(rets.mean() / np.std(rets, ddof=1) * math.sqrt(3))
    assert m.max_drawdown == pytest.approx(-0.1)
    assert (m.n_trades, m.win_rate, m.exposure, m.fees_paid, m.final_equity) == (
        4,
        0.5,
        pytest.approx(2 / 3),
        1.5,
        118.8,
    )


def test_no_trades_and_flat_equity_give_none_not_nan() -> None:
    m = compute_metrics(np.full(10, 100.0), 0, int(YEAR_NS), 100.0, np.empty(0), 0.0, np.zeros(10, dtype=bool))
    assert (m.win_rate, m.sharpe, m.total_return, m.max_drawdown, m.n_trades) == (None, None, 0.0, 0.0, 0)
