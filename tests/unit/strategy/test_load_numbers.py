"""Numbers in a strategy file that no field can take are ConfigErrors naming the file and the JSON path."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.strategy.load import load_strategy, validate_data

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "strategies" / "ema_cross.json"


def with_number(tmp_path: Path, before: str, number: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert before in text
    path = tmp_path / "s.json"
    path.write_text(text.replace(before, before.split(":")[0] + ": " + number, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("number", "found"),
    [
        ("9" * 5000, "a number of 5000 digits"),
        ("9" * 400, "a number of 400 digits"),
        ("1e400", "1e400, beyond the range of a float"),
        ("-Infinity", "-Infinity (not a JSON number)"),
        ("NaN", "NaN (not a JSON number)"),
    ],
)
def test_an_unusable_number_is_a_config_error_naming_file_and_path(tmp_path: Path, number: str, found: str) -> None:
    for before, where in (
        ('"fast": 9', "entry_conditions.technical_signals[0].params.fast"),
        ('"fee_bps": 5.0', "execution_rules.commission.fee_bps"),
    ):
        path = with_number(tmp_path, before, number)
        with pytest.raises(ConfigError) as info:
            load_strategy(path)
        assert str(info.value) == (
            f"{path}: 1 problem:\n  - {where}: expected a finite number of at most 18 digits, found {found}"
        )


def test_a_python_dict_with_a_huge_int_or_inf_is_reported_not_raised() -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["entry_conditions"]["technical_signals"][0]["params"]["fast"] = 10 ** (sys.get_int_max_str_digits() + 10)
    data["execution_rules"]["commission"]["fee_bps"] = float("inf")
    report = validate_data(data)
    assert not report.ok
    assert [(p.path, p.message.split(", found ")[1]) for p in report.problems] == [
        ("entry_conditions.technical_signals[0].params.fast", "a number of about 4311 digits"),
        ("execution_rules.commission.fee_bps", "inf"),
    ]
