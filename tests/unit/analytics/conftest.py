"""Builders of small ``PerformanceInputs`` for the analytics tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.analytics.inputs import FILL_COLUMNS, TRADE_COLUMNS, PerformanceInputs

START = pd.Timestamp("2021-01-01T00:00:00Z")


def trade(**fields: Any) -> dict[str, Any]:
    """One trade row with harmless defaults for the columns a test does not care about."""
    row: dict[str, Any] = {
        "trade_id": "t",
        "symbol": "AAA",
        "side": "buy",
        "status": "closed",
        "quantity": 1.0,
        "entry_time": START,
        "entry_price": 100.0,
        "exit_time": START,
        "exit_price": 100.0,
        "exit_reason": "signal",
        "initial_risk": np.nan,
        "r_multiple": np.nan,
        "pnl": 0.0,
        "return_pct": 0.0,
        "commission": 0.0,
        "spread_slippage": 0.0,
        "impact": 0.0,
        "bars_held": 1,
    }
    row.update(fields)
    return row


def fill(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "time": START,
        "symbol": "AAA",
        "side": "buy",
        "quantity": 1.0,
        "price": 100.0,
        "reference_price": 100.0,
        "commission": 0.0,
        "spread_slippage": 0.0,
        "impact": 0.0,
        "reason": "entry",
    }
    row.update(fields)
    return row


def frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


MakeInputs = Callable[..., PerformanceInputs]


@pytest.fixture
def make_inputs() -> MakeInputs:
    """``make_inputs(equity_values, times, **overrides)``: flat positions, no trades unless given."""

    def build(values: list[float] | np.ndarray, times: pd.DatetimeIndex, **overrides: Any) -> PerformanceInputs:
        equity = pd.Series(np.asarray(values, dtype=float), index=times)
        fields: dict[str, Any] = {
            "equity": equity,
            "initial_cash": 100.0,
            "start": START,
            "positions": pd.DataFrame({"AAA": np.zeros(len(times))}, index=times),
            "strategy_name": "test",
            "timeframe": "1d",
        }
        if "trades" in overrides and isinstance(overrides["trades"], list):
            overrides["trades"] = frame(overrides["trades"], TRADE_COLUMNS)
        if "fills" in overrides and isinstance(overrides["fills"], list):
            overrides["fills"] = frame(overrides["fills"], FILL_COLUMNS)
        fields.update(overrides)
        return PerformanceInputs(**fields)

    return build


@pytest.fixture
def make_trade() -> Callable[..., dict[str, Any]]:
    return trade


@pytest.fixture
def make_fill() -> Callable[..., dict[str, Any]]:
    return fill
