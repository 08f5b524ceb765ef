"""The harvest_config format: the plan's example as written, every problem with its JSON path, the JSON Schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.harvest.config import (
    Lookback,
    harvest_json_schema,
    load_harvest_config,
    parse_harvest_config,
    validate_harvest_data,
)

EXAMPLE = Path(__file__).parents[2] / "data" / "spec" / "harvest_config.json"
# the plan's own example, in the shared folder beside the checkout (where it is present)
SHARED = Path(__file__).resolve().parents[4] / "shared" / "spec" / "examples" / "harvest_config.json"


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_the_fixture_is_the_plans_example_byte_for_byte() -> None:
    if not SHARED.exists():
        pytest.skip("the shared spec folder is not on this machine")
    assert EXAMPLE.read_bytes() == SHARED.read_bytes()


def test_the_plans_example_validates_unchanged_with_aliases_and_lookback_parsed() -> None:
    config = load_harvest_config(EXAMPLE)
    assert config.instrument.symbol == "AAPL" and config.instrument.currency == "USD"
    assert config.instrument.timezone == "America/New_York"
    assert config.drill_down_levels == [1, 3, 4]
    assert config.timeframes.trading == "intraday"
    assert config.timeframes.analysis == ["5m", "15m", "1h", "1d"]  # daily -> 1d at load
    assert config.timeframes.lookback == Lookback(2, "y")
    assert config.update_frequency.for_level(1) == "event_driven"
    assert config.update_frequency.for_level(3) == "daily"
    assert config.update_frequency.for_level(4) == "real_time"


def test_the_example_is_valid_against_the_generated_json_schema_and_unknown_keys_are_not() -> None:
    schema = harvest_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(example(), schema)
    bad = example()
    bad["harvest_config"]["instrument"]["exchange"] = "NASDAQ"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_a_bad_config_reports_every_problem_with_its_json_path() -> None:
    data = example()
    cfg = data["harvest_config"]
    cfg["instrument"]["asset_class"] = "stock"
    cfg["instrument"]["currency"] = "usd"
    cfg["instrument"]["exchange"] = "NASDAQ"
    cfg["drill_down_levels"] = [1, 6]
    cfg["timeframes"]["analysis"] = ["5m", "7x"]
    cfg["timeframes"]["historical_lookback"] = "2 decades"
    cfg["update_frequency"]["macro"] = "real_time"
    del cfg["timeframes"]["trading"]
    config, problems = validate_harvest_data(data)
    assert config is None
    paths = [p.path for p in problems]
    assert paths == [
        "harvest_config.instrument.asset_class",
        "harvest_config.instrument.currency",
        "harvest_config.instrument.exchange",
        "harvest_config.drill_down_levels",
        "harvest_config.timeframes.trading",
        "harvest_config.timeframes.analysis[1]",
        "harvest_config.timeframes.historical_lookback",
        "harvest_config.update_frequency.macro",
    ]
    by_path = {p.path: p.message for p in problems}
    assert "found 'stock'" in by_path["harvest_config.instrument.asset_class"]
    assert "unknown key" in by_path["harvest_config.instrument.exchange"]
    assert "found [6]" in by_path["harvest_config.drill_down_levels"]
    assert by_path["harvest_config.timeframes.trading"] == "required key is missing"
    assert "'7x'" in by_path["harvest_config.timeframes.analysis[1]"]
    assert "found '2 decades'" in by_path["harvest_config.timeframes.historical_lookback"]
    assert "found 'real_time'" in by_path["harvest_config.update_frequency.macro"]


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (lambda c: c.update(extra=1), "harvest_config.extra", "unknown key"),
        (lambda c: c["timeframes"].update(analysis=["5m", "5m"]), "harvest_config.timeframes.analysis", "once"),
        (lambda c: c.update(drill_down_levels=[3, 3]), "harvest_config.drill_down_levels", "once"),
        (lambda c: c["instrument"].update(market="XX"), "harvest_config.instrument.market", "found 'XX'"),
        (lambda c: c["update_frequency"].update(technical="event_driven"), "harvest_config.update_frequency.technical",
         "found 'event_driven'"),
    ],
)  # fmt: skip
def test_each_rule_names_its_path(change: Any, path: str, fragment: str) -> None:
    data = copy.deepcopy(example())
    change(data["harvest_config"])
    _, problems = validate_harvest_data(data)
    assert [p.path for p in problems] == [path]
    assert fragment in problems[0].message


def test_the_config_is_frozen() -> None:
    config = load_harvest_config(EXAMPLE)
    with pytest.raises(Exception, match="frozen"):
        config.instrument.symbol = "MSFT"  # type: ignore[misc]


def test_a_config_error_names_the_file_and_counts_the_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such harvest_config file"):
        load_harvest_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"harvest_config": {"drill_down_levels": [1]}}', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_harvest_config(bad)
    text = str(info.value)
    assert text.startswith(f"{bad}: 2 problems:")
    assert "harvest_config.instrument: required key is missing" in text
    assert "harvest_config.timeframes: required key is missing" in text
    with pytest.raises(ConfigError, match="not valid JSON at line 1"):
        parse_harvest_config("{", "inline")


@pytest.mark.parametrize(("text", "expected"), [("2y", Lookback(2, "y")), ("18mo", Lookback(18, "mo")),
                                                ("6w", Lookback(6, "w")), ("90D", Lookback(90, "d"))])  # fmt: skip
def test_lookbacks_parse_into_counts_of_units(text: str, expected: Lookback) -> None:
    assert Lookback.parse(text) == expected


@pytest.mark.parametrize("text", ["0y", "2m", "two years", "", "-1y"])
def test_lookbacks_without_a_positive_count_and_known_unit_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected a positive count"):
        Lookback.parse(text)


def test_the_schema_documents_the_lookback_pattern() -> None:
    schema = harvest_json_schema()
    bad = example()
    bad["harvest_config"]["timeframes"]["historical_lookback"] = "2 decades"
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(bad, schema)
    good = example()
    good["harvest_config"]["timeframes"]["historical_lookback"] = "18mo"
    jsonschema.validate(good, schema)
