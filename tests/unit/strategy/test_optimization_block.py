"""The ``optimization`` block of the strategy format: validated against the rest of the file with JSON paths, and
outside a run's identity."""

from __future__ import annotations

import json

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.strategy.load import parse_strategy, strategy_json_schema, validate_text
from quantdesk.strategy.optimization_models import path_steps, value_at, with_value
from quantdesk.strategy.templates import template_text


def _doc(block: dict) -> dict:
    doc = json.loads(template_text("ema_cross"))
    doc["optimization"] = block
    return doc


def _problems(block: dict) -> list[str]:
    return [str(p) for p in validate_text(json.dumps(_doc(block))).problems]


FAST = "entry_conditions.technical_signals[0].params.fast"


def test_a_block_with_ranges_choices_and_a_constraint_loads() -> None:
    s = parse_strategy(json.dumps(_doc({
        "parameters": [
            {"path": FAST, "range": [5, 15], "step": 2},
            {"path": "entry_conditions.technical_signals[0].params.slow", "range": [20, 60], "step": 10},
            {"path": "exit_conditions.stop_loss.offset", "name": "offset", "range": [1, 4], "n": 4},
            {"path": "risk_management.position_sizing.target_risk_per_trade", "name": "risk",
             "choices": [0.005, 0.01]},
        ],
        "constraints": ["fast < slow"],
        "objective": {"sharpe": 0.7, "calmar": 0.3},
        "min_trades": 20,
    })))  # fmt: skip
    opt = s.optimization
    assert opt is not None
    assert [p.label for p in opt.parameters] == ["fast", "slow", "offset", "risk"]
    assert [p.is_integer for p in opt.parameters] == [True, True, True, False]
    assert opt.sampler == "tpe" and opt.trials == 100 and opt.walk_forward.train == "2y"


def test_every_problem_of_the_block_is_reported_with_its_json_path() -> None:
    problems = _problems({
        "parameters": [
            {"path": FAST, "range": [5, 15]},
            {"path": "exit_conditions.take_profit.ratio", "choices": [2, 3]},
            {"path": "exit_conditions.stop_loss.offsett", "range": [1, 3], "step": 1},
            {"path": "exit_conditions.stop_loss.max_risk_percent", "range": [-0.1, 0.2], "step": 0.1},
            {"path": "entry_conditions.technical_signals[3].params.fast", "name": "other", "range": [1, 2]},
        ],
        "constraints": ["fast < slow", "fast <<"],
    })  # fmt: skip
    assert problems == [
        "optimization.constraints[0]: 'slow' is not a parameter; the names are fast, ratio, offsett, "
        "max_risk_percent, other",
        'optimization.constraints[1]: expected "NAME < NAME" (or <=, >, >=, !=; a number may stand on either '
        "side), found 'fast <<'",
        "optimization.parameters[1].path: exit_conditions.take_profit is not in the file; add the block to search "
        "a value in it",
        "optimization.parameters[2].range: 1 at exit_conditions.stop_loss.offsett does not make a valid strategy: "
        "exit_conditions.stop_loss.offsett: unknown key (not part of the strategy format)",
        "optimization.parameters[3].range: -0.1 at exit_conditions.stop_loss.max_risk_percent does not make a "
        "valid strategy: exit_conditions.stop_loss.max_risk_percent: Input should be greater than 0, found -0.1",
        "optimization.parameters[4].path: entry_conditions.technical_signals[3] is not in the file (the list has "
        "1 item)",
    ]


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ({"path": FAST}, "give either range ([low, high]) or choices"),
        ({"path": FAST, "range": [5, 5]}, "range: expected low < high, found [5, 5]"),
        ({"path": FAST, "range": [5, 9], "step": 1, "n": 3}, "give step or n"),
        ({"path": FAST, "range": [0, 9], "log": True, "n": 3}, "a log-scale range must be above 0"),
        ({"path": FAST, "choices": [1, 2], "step": 1}, "step, n and log belong to a range"),
        ({"path": "optimization.trials", "choices": [1]}, "expected a path into a rule of the strategy"),
        ({"path": "entry conditions", "choices": [1]}, "expected a JSON path such as"),
    ],
)
def test_a_malformed_parameter_names_what_it_expected(parameter: dict, message: str) -> None:
    problems = _problems({"parameters": [parameter]})
    assert len(problems) == 1 and problems[0].startswith("optimization.parameters[0]") and message in problems[0]


def test_the_search_settings_are_checked_together() -> None:
    base = {"parameters": [{"path": FAST, "range": [5, 9]}]}
    assert _problems({**base, "sampler": "nsga2"}) == [
        "optimization.sampler: 'nsga2' searches several objectives; give objectives"
    ]
    assert _problems({**base, "objectives": ["sharpe"]})[0].startswith(
        "optimization.objectives: a multi-objective search needs two or more, found 1"
    )
    assert _problems({**base, "objective": {"sharp": 1.0}}) == [
        "optimization.objective: expected metrics among sharpe, sortino, calmar, expectancy_r, total_return, "
        "profit_factor, found 'sharp'"
    ]
    assert "expected a calendar length" in _problems({**base, "walk_forward": {"train": "2 years"}})[0]
    twice = _problems({"parameters": [{"path": FAST, "range": [5, 9]},
                                      {"path": "exit_conditions.signal_exit.technical_signals[0].params.fast",
                                       "range": [5, 9]}]})  # fmt: skip
    assert twice == ["optimization.parameters: the name 'fast' is used twice; give each a name"]


def test_the_block_changes_no_run_identity_and_stays_out_of_the_resolved_file_when_absent() -> None:
    plain = parse_strategy(template_text("ema_cross"))
    searched = parse_strategy(json.dumps(_doc({"parameters": [{"path": FAST, "range": [5, 9]}]})))
    assert plain.identity_json() == searched.identity_json()
    assert "optimization" not in plain.resolved_document()
    assert searched.resolved_document()["optimization"]["parameters"][0]["path"] == FAST
    assert parse_strategy(searched.to_json()) == searched  # the file form round-trips
    assert "optimization" in strategy_json_schema()["properties"]


def test_a_value_written_at_a_path_keeps_the_unit_the_file_writes_it_with() -> None:
    doc = json.loads(template_text("ema_cross"))
    assert path_steps(FAST) == ["entry_conditions", "technical_signals", 0, "params", "fast"]
    moved = with_value(doc, "exit_conditions.stop_loss.offset", 2.5)
    assert value_at(moved, "exit_conditions.stop_loss.offset") == (True, "2.5_atr")
    assert value_at(doc, "exit_conditions.stop_loss.offset") == (True, "3_atr")  # a copy: the original is kept
    assert value_at(with_value(doc, FAST, 12), FAST) == (True, 12)
    with pytest.raises(ConfigError):
        parse_strategy(json.dumps(with_value(doc, "exit_conditions.stop_loss.offset", "far")))
