"""A run that never trades reports no ratio against its benchmark (n/a in the table, null in the JSON), and
the same run with trades still reports numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from quantdesk.backtest.engine import run_backtest
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy

RELATIVE = ("alpha", "beta", "correlation", "tracking_error", "information_ratio")
DAYS = 300


def daily(symbol: str, close: np.ndarray) -> Bars:
    ts = pd.bdate_range("2022-01-03", periods=len(close)).as_unit("ns").asi8
    return Bars.from_arrays(
        symbol,
        Timeframe.D1,
        {"ts": ts, "open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
         "volume": np.full(len(close), 1e6)},
    )  # fmt: skip


def crossover(level: float) -> Strategy:
    """Long while SMA(3) is above ``level``: a level above every price never trades."""
    signal = {"indicator": "SMA", "params": {"period": 3}, "values": [level]}
    return parse_strategy(
        json.dumps(
            {
                "strategy_meta": {"name": "level probe"},
                "entry_conditions": {
                    "technical_signals": [{**signal, "condition": "crossover"}],
                    "confluence_threshold": 1.0,
                },
                "exit_conditions": {
                    "signal_exit": {
                        "technical_signals": [{**signal, "condition": "crossunder"}],
                        "confluence_threshold": 1.0,
                    }
                },
                "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.5}},
            }
        )
    )


def market() -> tuple[Bars, Bars]:
    rng = np.random.default_rng(11)
    bench = 100 * np.cumprod(1 + rng.normal(0.0005, 0.01, DAYS))
    wave = 100 + 10 * np.sin(np.arange(DAYS) * 2 * np.pi / 50) + rng.normal(0, 0.2, DAYS)
    return daily("AAA", wave), daily("IDX", bench)


def test_a_run_with_no_order_has_no_ratio_against_the_benchmark() -> None:
    asset, bench = market()
    idle = run_backtest(crossover(1_000.0), [asset], benchmark=bench)
    assert idle.metrics.n_trades == 0 and len(idle.fills) == 0
    assert {key: getattr(idle.metrics, key) for key in RELATIVE} == dict.fromkeys(RELATIVE)
    rows = {label: mine for label, mine, _ in idle.summary_rows()}
    for label in ("Alpha (ann.)", "Beta", "Correlation", "Tracking error (ann.)", "Information ratio"):
        assert rows[label] == "n/a"
    doc = json.loads(idle.to_json())
    assert all(doc["metrics"][key] is None for key in RELATIVE)
    assert doc["metrics"]["total_return"] == 0.0
    # the benchmark's own metrics are still there: only the comparison rests on trades
    assert idle.benchmark_metrics is not None and idle.benchmark_metrics.total_return != 0.0


def test_the_same_run_with_trades_reports_the_ratios() -> None:
    asset, bench = market()
    busy = run_backtest(crossover(100.0), [asset], benchmark=bench)
    assert busy.metrics.n_trades >= 3
    assert all(isinstance(getattr(busy.metrics, key), float) for key in RELATIVE)
    doc = json.loads(busy.to_json())
    assert all(isinstance(doc["metrics"][key], float) for key in RELATIVE)
