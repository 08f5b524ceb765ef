"""The signal engine's parts on hand-built inputs: the new conditions, the gate's logic, directions,
the confluence adjustments, the composite's renormalisation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from tests.unit.strategy.test_signals import bars_from_close

from quantdesk.analysis.technical.registry import get_indicator
from quantdesk.core.errors import ConfigError
from quantdesk.strategy.compile import compile_signals
from quantdesk.strategy.conditions import evaluate_condition
from quantdesk.strategy.entry_models import FundamentalGate, TechnicalSignal
from quantdesk.strategy.gate import evaluate_gate
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.signals import held_recently

NAN = float("nan")


def _votes(condition: str, line: list[float], values: list[float] | None = None, output: str | None = None) -> list:
    spec = get_indicator("Bollinger")
    n = len(line)
    outputs = {name: np.full(n, 5.0) for name in spec.outputs}
    outputs[output or spec.primary] = np.asarray(line)
    sig = TechnicalSignal(indicator="Bollinger", condition=condition, values=values, output=output)  # type: ignore[arg-type]
    return evaluate_condition(sig, spec, outputs, np.zeros(n)).tolist()


def test_outside_rising_falling_and_a_named_output() -> None:
    line = [1.0, 5.0, 9.0, NAN, 4.0, 3.0]
    assert _votes("outside", line, [2, 8]) == [True, False, True, False, False, False]
    assert _votes("rising", line) == [False, True, True, False, False, False]
    assert _votes("falling", line) == [False, False, False, False, False, True]
    assert _votes("rising", line, [2]) == [False, False, True, False, False, False]  # 9 > 1; 4 vs 9 no
    assert _votes("less_than", line, [4.5], output="percent_b") == [True, False, False, False, True, True]


def test_gate_logic_and_unknown_values_fail() -> None:
    table = {
        "fscore": np.array([7.0, 7.0, 3.0, NAN]),
        "pe": np.array([10.0, 30.0, 30.0, 10.0]),
        "debt_equity": np.array([0.2, 0.2, 0.2, 0.2]),
    }
    thresholds = {"min_fscore": 6, "pe_max": 25, "debt_equity_max": 0.5}
    result = evaluate_gate(FundamentalGate(**thresholds), table)  # type: ignore[arg-type]
    assert result.passed.tolist() == [True, False, False, False]
    assert result.checks["min_fscore"].tolist() == [True, True, False, False]
    any_gate = FundamentalGate(**thresholds, logic="ANY")  # type: ignore[arg-type]
    assert evaluate_gate(any_gate, table).passed.tolist() == [True, True, True, True]
    majority = FundamentalGate(**thresholds, logic="MAJORITY")  # type: ignore[arg-type]
    assert evaluate_gate(majority, table).passed.tolist() == [True, True, False, True]
    with pytest.raises(ValueError, match="needs at least one threshold"):
        FundamentalGate()


def test_held_recently_keeps_an_event_alive_for_its_window() -> None:
    event = np.array([False, True, False, False, False, True, False])
    assert held_recently(event, 2).tolist() == [False, True, True, False, False, True, True]


def _strategy(direction: str, **entry: Any) -> Any:
    doc = {
        "strategy_meta": {"name": "t"},
        "entry_conditions": {
            "direction": direction,
            "technical_signals": [{"indicator": "SMA", "params": {"period": 2}, "condition": "price_above"}],
            "confluence_threshold": 1.0,
            **entry,
        },
        "exit_conditions": {
            "signal_exit": {
                "technical_signals": [{"indicator": "SMA", "params": {"period": 2}, "condition": "price_below"}],
                "confluence_threshold": 1.0,
            }
        },
    }
    return parse_strategy(json.dumps(doc))


CLOSE = [10.0, 11, 12, 11, 10, 9, 10, 11]  # above SMA(2) on bars 1, 2, 6, 7; below on 3, 4, 5


def test_directions_route_the_entries_and_the_signal_exit() -> None:
    bars = bars_from_close(CLOSE)
    above = [False, True, True, False, False, False, True, True]
    below = [False, False, False, True, True, True, False, False]
    long = compile_signals(_strategy("long"), bars)
    assert long.long_entry.tolist() == above and long.long_exit.tolist() == below
    assert not long.short_entry.any() and not long.short_exit.any()
    short = compile_signals(_strategy("short"), bars)
    assert short.short_entry.tolist() == above and short.short_exit.tolist() == below
    assert not short.long_entry.any()
    both = compile_signals(_strategy("both", confirmation_delay="1_bars"), bars)
    assert both.long_entry.tolist() == [False, False, True, False, False, False, False, True]
    assert both.short_entry.tolist() == [False, False, False, False, True, True, False, False]  # delay applies
    assert both.short_exit.tolist() == both.long_entry.tolist()
    assert both.long_exit.tolist() == below


def test_signal_timeframe_finer_than_the_base_is_a_clear_error() -> None:
    doc = json.loads(_strategy("long").model_dump_json())
    doc["entry_conditions"]["technical_signals"][0]["timeframe"] = "15m"
    with pytest.raises(ConfigError, match=r"15m is finer than the run's base timeframe 1d"):
        compile_signals(parse_strategy(json.dumps(doc)), bars_from_close(CLOSE))


def test_composite_renormalises_over_the_levels_present() -> None:
    strategy = parse_strategy(
        json.dumps(
            {
                "strategy_meta": {"name": "t"},
                "harvesting_rules": {
                    "drill_down_sequence": [
                        {"level": 4, "focus": "technical_setup", "weight": 0.5},
                        {"level": 5, "focus": "alternative_data", "weight": 0.5},
                    ]
                },
                "entry_conditions": json.loads(_strategy("long").model_dump_json())["entry_conditions"],
            }
        )
    )
    s = compile_signals(strategy, bars_from_close(CLOSE))
    assert s.composite is not None
    np.testing.assert_array_equal(s.composite.score, s.adjusted_confluence)
    np.testing.assert_array_equal(s.composite.coverage, np.full(len(CLOSE), 0.5))
    assert "no catalog to read alternative-data scores from" in s.composite.missing[5]
