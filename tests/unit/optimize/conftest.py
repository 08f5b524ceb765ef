"""A data home with two daily series for the search and walk-forward tests: ``EDGE``, whose returns carry a
planted momentum (AR(1), phi 0.35: a positive day tends to be followed by another), and ``NOISE``, independent
returns of the same volatility; and the momentum strategy searched on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from quantdesk.core.timestamps import to_utc_ns
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.domain.timeframe import Timeframe

N_DAYS = 1600
NS_PER_DAY = 86_400 * 10**9


def planted_bars(symbol: str, phi: float, seed: int, n: int = N_DAYS) -> Bars:
    rng = np.random.default_rng(seed)
    eps = rng.normal(0.0, 0.01, n)
    eps -= eps.mean()  # no drift over the whole series: a long-only or short-only rule gains nothing by itself
    r = np.empty(n)
    r[0] = eps[0]
    for t in range(1, n):
        r[t] = phi * r[t - 1] + eps[t]
    close = 100.0 * np.exp(np.cumsum(r))
    open_ = np.r_[100.0, close[:-1]]
    spread = np.abs(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * (1.0 + spread)
    low = np.minimum(open_, close) * (1.0 - spread)
    ts = to_utc_ns("2018-01-01") + np.arange(n, dtype=np.int64) * NS_PER_DAY
    return Bars(
        symbol=symbol,
        timeframe=Timeframe.D1,
        ts=ts,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.full(n, 1e6),
    )


@pytest.fixture(scope="session")
def momentum_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("momentum_home")
    catalog = Catalog(home / "catalog")
    for symbol, phi, seed in (("EDGE", 0.35, 1), ("NOISE", 0.0, 2)):
        inst = Instrument(symbol=symbol, asset_class=AssetClass.CRYPTO, market="CRYPTO", currency="USD",
                          synthetic=True, source="planted(test)")  # fmt: skip
        catalog.write_bars(planted_bars(symbol, phi, seed), instrument=inst)
    return home


def momentum_strategy(**optimization: Any) -> dict[str, Any]:
    """Long while the N-day rate of change is above a threshold, out when it falls below it; N and the
    threshold searched with the exit's N and the direction (192 grid points)."""
    block = {
        "parameters": [
            {"path": "entry_conditions.technical_signals[0].params.period", "name": "period", "range": [1, 8]},
            {
                "path": "entry_conditions.technical_signals[0].values[0]",
                "name": "threshold",
                "choices": [-0.5, 0.0, 0.5],
            },
            {
                "path": "exit_conditions.signal_exit.technical_signals[0].params.period",
                "name": "exit_period",
                "range": [1, 4],
            },
            {"path": "entry_conditions.direction", "name": "direction", "choices": ["long", "short"]},
        ],
        "objective": "sharpe",
        "min_trades": 5,
        "sampler": "grid",
        "walk_forward": {"train": "1y", "test": "6m"},
    }
    block.update(optimization)
    return {
        "strategy_meta": {"name": "Momentum <b>test</b>"},
        "entry_conditions": {
            "technical_signals": [
                {
                    "indicator": "ROC",
                    "params": {"period": 1},
                    "condition": "greater_than",
                    "values": [0.0],
                    "weight": 1.0,
                }
            ],
            "confluence_threshold": 1.0,
        },
        "exit_conditions": {
            "signal_exit": {
                "technical_signals": [
                    {
                        "indicator": "ROC",
                        "params": {"period": 1},
                        "condition": "less_than",
                        "values": [0.0],
                        "weight": 1.0,
                    }
                ],
                "confluence_threshold": 1.0,
            },
        },
        "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.9}},
        "execution_rules": {"order_type": "market", "mock_trading": {"enabled": True, "fill_model": "optimistic"}},
        "optimization": block,
    }


def momentum_text(**optimization: Any) -> str:
    return json.dumps(momentum_strategy(**optimization))
