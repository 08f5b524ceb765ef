"""Loading strategy files: the shipped example, typed compound strings, and errors that list every problem."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.strategy.load import load_strategy, parse_strategy

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "strategies" / "ema_cross.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def test_shipped_example_is_the_packaged_one() -> None:
    packaged = resources.files("quantdesk.strategy").joinpath("library/ema_cross.json").read_text()
    assert packaged == EXAMPLE.read_text()


def test_example_loads_with_typed_values() -> None:
    s = load_strategy(EXAMPLE)
    sig = s.entry_conditions.technical_signals[0]
    assert (sig.indicator, sig.params, sig.condition, sig.timeframe) == (
        "EMA_Cross",
        {"fast": 9, "slow": 21},
        "crossover",
        "current",
    )
    assert s.entry_conditions.confirmation_delay == 0
    sizing = s.risk_management.position_sizing
    assert (sizing.method, sizing.target_risk_per_trade, sizing.fixed_fraction_cap) == ("volatility_target", 0.01, 0.5)
    assert s.exit_conditions.stop_loss is not None and s.exit_conditions.stop_loss.offset == 3.0
    assert s.execution_rules.commission.fee_rate == pytest.approx(0.0005)
    assert s.exit_conditions.signal_exit is not None


def test_round_trip_dump_and_load_is_equal() -> None:
    s = load_strategy(EXAMPLE)
    again = parse_strategy(s.model_dump_json())
    assert again == s
    assert json.loads(s.model_dump_json())["entry_conditions"]["confirmation_delay"] == "0_bars"


def test_confirmation_delay_and_timeframe_aliases_parse() -> None:
    doc = example()
    doc["entry_conditions"]["confirmation_delay"] = "2_bars"
    doc["entry_conditions"]["technical_signals"][0]["timeframe"] = "daily"
    s = parse_strategy(json.dumps(doc))
    assert s.entry_conditions.confirmation_delay == 2
    assert s.entry_conditions.technical_signals[0].timeframe == "1d"


def test_every_shape_problem_is_reported_at_once_with_its_json_path() -> None:
    doc = example()
    sig = doc["entry_conditions"]["technical_signals"][0]
    sig["weight"] = 1.5
    sig["condition"] = "crossovr"
    doc["entry_conditions"]["confirmation_delay"] = "2 days"
    doc["entry_conditions"]["extra"] = 1
    doc["risk_management"]["position_sizing"]["fraction"] = 0
    with pytest.raises(ConfigError) as info:
        parse_strategy(json.dumps(doc), "s.json")
    lines = str(info.value).splitlines()
    assert lines[0] == "s.json: 5 problems:"
    assert (
        "  - entry_conditions.technical_signals[0].weight: Input should be less than or equal to 1, found 1.5" in lines
    )
    assert "  - entry_conditions.confirmation_delay: expected a bar count such as '2_bars', found '2 days'" in lines
    assert "  - entry_conditions.extra: unknown key (not part of the strategy format)" in lines
    assert "  - risk_management.position_sizing.fraction: Input should be greater than 0, found 0" in lines
    assert any(
        line.startswith("  - entry_conditions.technical_signals[0].condition: Input should be 'crossover'")
        for line in lines
    )


def test_unknown_indicator_lists_valid_names_and_bad_params_are_named() -> None:
    doc = example()
    doc["entry_conditions"]["technical_signals"][0]["indicator"] = "EMA_Crosss"
    doc["exit_conditions"]["signal_exit"]["technical_signals"][0]["params"] = {"fast": 30, "slow": 21}
    with pytest.raises(ConfigError) as info:
        parse_strategy(json.dumps(doc), "s.json")
    text = str(info.value)
    assert (
        "entry_conditions.technical_signals[0].indicator: unknown indicator 'EMA_Crosss' "
        "(did you mean EMA_Cross, MA_Cross, SMA_Cross?); valid indicators: ADX, ATR, " in text
    )
    assert ", EMA_Cross, " in text and ", RSI, " in text and "every TA-Lib function by its TA-Lib name" in text
    assert (
        "exit_conditions.signal_exit.technical_signals[0].params: expected fast < slow, found fast=30, slow=21 "
        "for EMA_Cross" in text
    )


def test_between_needs_two_ascending_values() -> None:
    doc = example()
    doc["entry_conditions"]["technical_signals"][0].update(
        {"indicator": "EMA", "params": {}, "condition": "between", "values": [70, 50]}
    )
    with pytest.raises(ConfigError, match=r"condition 'between' needs values \[low, high\] with low < high"):
        parse_strategy(json.dumps(doc))


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "strategy_meta": {\n}')
    with pytest.raises(ConfigError, match=r"bad.json: not valid JSON at line 3, column 2"):
        load_strategy(bad)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such strategy file"):
        load_strategy(tmp_path / "nope.json")
