"""The strategy format: the plan's example as written, its JSON Schema, typed compound strings, and
validation that reports every problem of a file at once with its JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.domain.quantities import parse_latency_ms, parse_lookback, parse_r_multiple
from quantdesk.strategy.load import parse_strategy, strategy_json_schema, validate_data

SPEC = Path(__file__).resolve().parents[2] / "data" / "spec" / "strategy.json"


def plan() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def test_plan_example_loads_as_written_with_typed_values() -> None:
    s = parse_strategy(SPEC.read_text(), "strategy.json")
    entry, exits, risk, rules = s.entry_conditions, s.exit_conditions, s.risk_management, s.execution_rules
    assert entry.confirmation_delay == 2
    assert [sig.timeframe for sig in entry.technical_signals] == ["15m", "5m", "current", "1d"]
    assert entry.fundamental_gate is not None and entry.fundamental_gate.thresholds() == {
        "min_fscore": 6.0, "pe_max": 25.0, "debt_equity_max": 0.5, "earnings_surprise_min": 0.05,
    }  # fmt: skip
    assert exits.take_profit is not None and exits.take_profit.trailing_stop is not None
    assert (exits.take_profit.ratio, exits.take_profit.trailing_stop.activation) == (2.0, 1.5)
    assert exits.take_profit.trailing_stop.distance == 1.0
    assert exits.stop_loss is not None and (exits.stop_loss.offset, exits.stop_loss.max_risk_percent) == (1.0, 0.02)
    assert exits.time_stop is not None and (exits.time_stop.max_bars, exits.time_stop.condition) == (
        20, "if_not_profitable",
    )  # fmt: skip
    assert risk.position_sizing.method == "kelly_criterion_modified"
    assert risk.volatility_adjustment is not None and risk.volatility_adjustment.measure == ("atr", 14)
    assert rules.mock_trading.latency_simulation == 50.0
    assert [(d.level, d.focus, d.weight) for d in s.harvesting_rules.drill_down_sequence] == [
        (1, "macro_trend", 0.15), (3, "fundamental_quality", 0.35), (4, "technical_setup", 0.5),
    ]  # fmt: skip
    assert s.entry_conditions.direction == "long"  # the default of the addition
    assert s.schema_version == "1"


def test_plan_example_round_trips_to_an_equal_object_with_its_strings_written_back() -> None:
    s = parse_strategy(SPEC.read_text())
    dumped = json.loads(s.to_json())
    assert parse_strategy(s.to_json()) == s
    assert parse_strategy(s.model_dump_json()) == s
    assert dumped["entry_conditions"]["confirmation_delay"] == "2_bars"
    assert dumped["exit_conditions"]["take_profit"]["trailing_stop"]["activation"] == "1.5_r"
    assert dumped["exit_conditions"]["stop_loss"]["offset"] == "1_atr"
    assert dumped["execution_rules"]["mock_trading"]["latency_simulation"] == "50ms"
    assert dumped["risk_management"]["volatility_adjustment"]["measure"] == "atr_14"


def test_plan_example_and_its_dump_validate_against_the_generated_json_schema() -> None:
    schema = strategy_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(plan())) == []
    assert list(validator.iter_errors(json.loads(parse_strategy(SPEC.read_text()).to_json()))) == []
    broken = plan()
    broken["entry_conditions"]["confirmation_delay"] = "two bars"
    broken["execution_rules"]["mock_trading"]["fill_model"] = "magic"
    assert {tuple(e.absolute_path)[-1] for e in validator.iter_errors(broken)} == {"confirmation_delay", "fill_model"}


FIVE_MISTAKES = {
    "entry_conditions.technical_signals[0].indicator": "unknown indicator 'EMA_Crosss' (did you mean EMA_Cross",
    "entry_conditions.technical_signals[1]": "condition 'between' needs values [low, high] with low < high",
    "entry_conditions.confirmation_delay": "expected a bar count such as '2_bars', found 'two_bars'",
    "exit_conditions.take_profit.trailing_stop": "activation must be above 0 R, found 0.0_r",
    "execution_rules.mock_trading.fill_model": (
        "Input should be 'optimistic', 'realistic', 'pessimistic' or 'book', found 'magic'"
    ),
}


def five_mistakes() -> dict[str, Any]:
    doc = plan()
    doc["entry_conditions"]["technical_signals"][0]["indicator"] = "EMA_Crosss"
    doc["entry_conditions"]["technical_signals"][1]["values"] = [70, 50]
    doc["entry_conditions"]["confirmation_delay"] = "two_bars"
    doc["exit_conditions"]["take_profit"]["trailing_stop"]["activation"] = "0_r"
    doc["execution_rules"]["mock_trading"]["fill_model"] = "magic"
    return doc


def test_a_file_with_five_mistakes_reports_all_five_with_their_json_paths() -> None:
    report = validate_data(five_mistakes())
    assert report.strategy is None and not report.ok
    assert sorted(p.path for p in report.problems) == sorted(FIVE_MISTAKES)
    for problem in report.problems:
        assert FIVE_MISTAKES[problem.path] in problem.message, problem


def test_unknown_names_are_answered_with_the_valid_ones() -> None:
    doc = plan()
    doc["risk_management"]["position_sizing"]["method"] = "kelly"
    doc["entry_conditions"]["technical_signals"][1]["timeframe"] = "7m"
    doc["entry_conditions"]["technical_signals"][2]["condition"] = "above"
    messages = {p.path: p.message for p in validate_data(doc).problems}
    assert (
        "'fixed_fraction', 'kelly_criterion_modified' or 'volatility_target'"
        in messages["risk_management.position_sizing.method"]
    )
    assert "valid timeframes: 1m, 5m, 15m" in messages["entry_conditions.technical_signals[1].timeframe"]
    assert "'outside'" in messages["entry_conditions.technical_signals[2].condition"]


def test_cross_field_rules_name_the_field_that_breaks_them() -> None:
    doc = plan()
    doc["entry_conditions"]["direction"] = "both"  # stop and reverse needs a signal exit
    del doc["exit_conditions"]["stop_loss"]  # Kelly needs its b from the exits
    paths = {p.path: p.message for p in validate_data(doc).problems}
    assert "exit_conditions.signal_exit is needed" in paths["entry_conditions.direction"]
    assert "exit_conditions.stop_loss" in paths["risk_management.position_sizing.method"]
    doc = plan()
    doc["entry_conditions"]["technical_signals"][0]["params"] = {"fast": 21, "slow": 9}
    (problem,) = validate_data(doc).problems
    assert problem.path == "entry_conditions.technical_signals[0].params"
    assert "fast" in problem.message and "slow" in problem.message
    doc = plan()
    doc["risk_management"]["position_sizing"]["fraction"] = 0.5  # belongs to fixed_fraction
    (problem,) = validate_data(doc).problems
    assert problem.path == "risk_management.position_sizing"
    assert "fraction belongs to another method" in problem.message


def test_weights_not_summing_to_one_are_normalised_with_a_warning() -> None:
    doc = plan()
    doc["entry_conditions"]["technical_signals"][0]["weight"] = 0.5  # sum 1.2
    report = validate_data(doc)
    assert report.ok
    (warning,) = report.warnings
    assert warning.path == "entry_conditions.technical_signals"
    assert "sum to 1.2" in warning.message and "normalised" in warning.message


def test_a_trailing_stop_armed_beyond_the_target_is_warned_about() -> None:
    doc = plan()
    doc["exit_conditions"]["take_profit"]["trailing_stop"]["activation"] = "2.5_r"
    (warning,) = validate_data(doc).warnings
    assert warning.path == "exit_conditions.take_profit.trailing_stop.activation"


def test_unknown_keys_are_refused_everywhere() -> None:
    doc = plan()
    doc["exit_conditions"]["stop_loss"]["ofset"] = "1_atr"
    doc["strategy_meta"]["nmae"] = "x"
    paths = sorted(p.path for p in validate_data(doc).problems)
    assert paths == ["exit_conditions.stop_loss.ofset", "strategy_meta.nmae"]


def test_condition_values_rules() -> None:
    doc = plan()
    sig = doc["entry_conditions"]["technical_signals"][1]
    sig["condition"], sig["values"] = "outside", [30, 70]
    assert validate_data(doc).ok
    sig["condition"], sig["values"] = "rising", [0.5]
    assert "whole number of bars" in validate_data(doc).problems[0].message
    sig["condition"], sig["values"] = "price_above", [3]
    assert "takes no values" in validate_data(doc).problems[0].message
    doc = plan()
    doc["entry_conditions"]["technical_signals"][2]["output"] = "spikes"
    (problem,) = validate_data(doc).problems
    assert problem.path == "entry_conditions.technical_signals[2].output"
    assert "ratio, threshold, spike, average_volume" in problem.message


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [(parse_r_multiple, "1.5_r", 1.5), (parse_r_multiple, "2R", 2.0), (parse_latency_ms, "50ms", 50.0),
     (parse_latency_ms, "0.2s", 200.0), (parse_latency_ms, "500us", 0.5)],
)  # fmt: skip
def test_compound_strings_parse(parse: Any, text: str, value: float) -> None:
    assert parse(text) == value


def test_lookback_and_malformed_compound_strings() -> None:
    span = parse_lookback("2y")
    assert (span.count, span.unit, str(span)) == (2, "years", "2y")
    assert str(parse_lookback("6m")) == "6m" and parse_lookback("6m").unit == "months"
    for bad in ("2 decades", "0y", ""):
        with pytest.raises(ValueError, match="expected a history length such as '2y'"):
            parse_lookback(bad)
    with pytest.raises(ValueError, match=r"found '1\.5 risk'"):
        parse_r_multiple("1.5 risk")


def test_bad_json_and_a_non_object_are_clear_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"s.json: 1 problem:\n  - \(file\): s.json: not valid JSON at line 1"):
        parse_strategy("{", "s.json")
    assert validate_data([1, 2]).problems[0].message == "expected a JSON object, found list"


def test_schema_version_defaults_and_an_unknown_one_is_refused() -> None:
    doc = plan()
    doc["schema_version"] = "9"
    (problem,) = validate_data(doc).problems
    assert problem.path == "schema_version" and "expected schema_version '1'" in problem.message
    assert copy.deepcopy(plan()).get("schema_version") is None
