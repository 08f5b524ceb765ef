"""Conditions, confluence and the confirmation delay, on hand-built bars."""

from __future__ import annotations

import json

import numpy as np

from quantdesk.analysis.technical.registry import get_indicator
from quantdesk.domain.bars import Bars
from quantdesk.domain.timeframe import Timeframe
from quantdesk.strategy.compile import compile_signals
from quantdesk.strategy.conditions import evaluate_condition
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import TechnicalSignal
from quantdesk.strategy.signals import held_for


def bars_from_close(close: list[float]) -> Bars:
    c = np.asarray(close, dtype=float)
    ts = (np.arange(len(c)) * 86_400 + 1_704_153_600) * 1_000_000_000
    return Bars.from_arrays(
        "T", Timeframe.D1, {"ts": ts, "open": c, "high": c, "low": c, "close": c, "volume": np.ones(len(c))}
    )


def test_held_for_counts_consecutive_bars() -> None:
    cond = np.array([True, True, False, True, True, True, False, True])
    assert held_for(cond, 0).tolist() == cond.tolist()
    assert held_for(cond, 1).tolist() == [False, True, False, False, True, True, False, False]
    assert held_for(cond, 2).tolist() == [False, False, False, False, False, True, False, False]


def test_line_pair_conditions() -> None:
    spec = get_indicator("EMA_Cross")
    outputs = {"fast": np.array([1.0, 2.0, 3.0, 2.0, 1.0]), "slow": np.array([2.0, 2.0, 2.0, 2.0, 2.0])}
    close = np.zeros(5)

    def votes(condition: str) -> list[bool]:
        sig = TechnicalSignal(indicator="EMA_Cross", condition=condition)  # type: ignore[arg-type]
        return evaluate_condition(sig, spec, outputs, close).tolist()

    assert votes("crossover") == [False, False, True, False, False]  # 2 -> 3 crosses above 2 on bar 2
    assert votes("crossunder") == [False, False, False, False, True]
    assert votes("greater_than") == [False, False, True, False, False]
    assert votes("less_than") == [True, False, False, False, True]


def test_level_conditions_on_a_single_line() -> None:
    spec = get_indicator("SMA")
    line = np.array([np.nan, 40.0, 55.0, 72.0, 65.0])
    close = np.array([50.0, 50.0, 50.0, 50.0, 70.0])

    def votes(condition: str, values: list[float] | None) -> list[bool]:
        sig = TechnicalSignal(indicator="SMA", condition=condition, values=values)  # type: ignore[arg-type]
        return evaluate_condition(sig, spec, {"value": line}, close).tolist()

    assert votes("between", [50, 70]) == [False, False, True, False, True]
    assert votes("crossover", [50]) == [False, False, True, False, False]
    assert votes("crossunder", [70]) == [False, False, False, False, True]
    assert votes("greater_than", [60]) == [False, False, False, True, True]
    assert votes("price_above", None) == [False, True, False, False, True]
    assert votes("price_below", None) == [False, False, True, True, False]


def test_weighted_confluence_threshold_and_exit() -> None:
    close = [10, 9, 8, 7, 6, 7, 8, 9, 10, 11, 12, 11, 10, 9, 8, 7]
    doc = {
        "strategy_meta": {"name": "t"},
        "entry_conditions": {
            "technical_signals": [
                {
                    "indicator": "SMA_Cross",
                    "params": {"fast": 2, "slow": 4},
                    "condition": "greater_than",
                    "weight": 0.6,
                },
                {
                    "indicator": "SMA",
                    "params": {"period": 2},
                    "condition": "greater_than",
                    "values": [9.5],
                    "weight": 0.4,
                },
            ],
            "confluence_threshold": 0.6,
        },
        "exit_conditions": {
            "signal_exit": {
                "technical_signals": [
                    {"indicator": "SMA_Cross", "params": {"fast": 2, "slow": 4}, "condition": "crossunder"}
                ],
                "confluence_threshold": 1.0,
            }
        },
    }
    s = compile_signals(parse_strategy(json.dumps(doc)), bars_from_close([float(x) for x in close]))
    # SMA2 > SMA4 from bar 6 (7.5 > 7.0) to bar 11 (11.5 > 11.0); SMA2 > 9.5 on bars 9..12 (bars 1 and 8 equal it)
    fast_above = [False] * 6 + [True] * 6 + [False] * 4
    level = [False] * 9 + [True] * 4 + [False] * 3
    expected = 0.6 * np.array(fast_above) + 0.4 * np.array(level)
    np.testing.assert_allclose(s.entry_confluence, expected)
    assert s.entry.tolist() == [bool(x >= 0.6 - 1e-9) for x in expected]
    assert np.flatnonzero(s.exit).tolist() == [12]
