"""Loading a strategy file: JSON text -> validated ``Strategy``, or one ``ConfigError`` listing every problem.

Validation runs in two stages (as freqtrade does) and reports both in one run: the shape, by the
pydantic models (types, ranges, names, each block's own rules and the rules joining blocks), then
the registry rules on every signal whose own shape is right (indicator names, their parameters, a
level where a condition needs one). Each problem is a ``Problem`` with its JSON path and a message
saying what was expected and what was found. Warnings are not problems: weights that do not sum to 1
(they are normalised: confluence and the composite divide by their sum), a trailing stop that arms
at or beyond the profit target. A number no field can take (more than ``MAX_NUMBER_DIGITS`` digits,
beyond the float range, ``NaN``/``Infinity``) is a problem at its JSON path, found before the models
see it (Python would refuse to read a 5,000-digit integer, and huge values overflow the range checks).
``strategy_json_schema`` is the JSON Schema (draft 2020-12) the models
generate, for editors, the UI and ordinary validators.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from quantdesk.analysis.technical.registry import get_indicator, resolve_params
from quantdesk.core.errors import ConfigError
from quantdesk.strategy.entry_models import TechnicalSignal
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.optimization_models import CONSTRAINT, Optimization, SearchParameter, parent_problem, with_value

__all__ = ["Problem", "ValidationReport", "load_strategy", "parse_strategy", "strategy_json_schema", "validate_data"]

# conditions that compare a single line with a level (an indicator with a line pair compares its two lines)
_LEVEL_CONDITIONS = ("crossover", "crossunder", "greater_than", "less_than")
WEIGHT_SUM_TOLERANCE = 1e-6
# no field of the format needs more; Python refuses to read integers of 4,300 digits and floats overflow
MAX_NUMBER_DIGITS = 18
SCHEMA_ID = "https://quantdesk.dev/schemas/strategy-1.json"


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    strategy: Strategy | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.strategy is not None and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "name": self.strategy.strategy_meta.name if self.strategy is not None else None,
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "warnings": [{"path": p.path, "message": p.message} for p in self.warnings],
        }


def _json_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    kind = err["type"]
    found = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (not part of the strategy format)"
    if kind == "missing":
        return "required key is missing"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind in ("literal_error", "enum"):
        return f"{message}, found {found!r}"
    if "found" in message or isinstance(found, dict | list) or (isinstance(found, str) and repr(found) in message):
        return message
    return f"{message}, found {found!r}"


def _shape_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        path = _json_path(err["loc"])
        message = _describe(dict(err))
        if err["loc"] == () and err["type"] == "value_error":
            # rules joining blocks: the validator wrote "path: message" lines
            for line in message.split("\n"):
                where, _, text = line.partition(": ")
                problems.append(Problem(where, text))
        else:
            problems.append(Problem(path, message))
    return problems


def _signal_lists(data: Any) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    if not isinstance(data, dict):
        return out
    entry = data.get("entry_conditions")
    if isinstance(entry, dict) and isinstance(entry.get("technical_signals"), list):
        out.append(("entry_conditions.technical_signals", entry["technical_signals"]))
    exits = data.get("exit_conditions")
    signal_exit = exits.get("signal_exit") if isinstance(exits, dict) else None
    if isinstance(signal_exit, dict) and isinstance(signal_exit.get("technical_signals"), list):
        out.append(("exit_conditions.signal_exit.technical_signals", signal_exit["technical_signals"]))
    return out


def _registry_problems(data: Any) -> list[Problem]:
    problems = []
    for prefix, raw_signals in _signal_lists(data):
        for i, raw in enumerate(raw_signals):
            where = f"{prefix}[{i}]"
            try:
                sig = TechnicalSignal.model_validate(raw)
            except ValidationError:
                continue  # its shape problems are already reported
            try:
                spec = get_indicator(sig.indicator, f"{where}.indicator")
                resolve_params(spec, sig.params, f"{where}.params")
                if sig.output is not None and sig.output not in spec.outputs:
                    raise ConfigError(
                        f"{where}.output: {sig.indicator} has outputs {', '.join(spec.outputs)}, found {sig.output!r}"
                    )
                single_line = spec.line_pair is None or sig.output is not None
                if sig.condition in _LEVEL_CONDITIONS and single_line and not sig.values:
                    raise ConfigError(
                        f"{where}.values: condition {sig.condition!r} on the single line {sig.indicator} needs "
                        "a level to compare with (values: [LEVEL])"
                    )
            except ConfigError as exc:
                where_text, _, message = str(exc).partition(": ")
                problems.append(Problem(where_text, message))
    return problems


def _warnings(strategy: Strategy) -> list[Problem]:
    out = []
    blocks = [("entry_conditions.technical_signals", strategy.entry_conditions.technical_signals)]
    if strategy.exit_conditions.signal_exit is not None:
        blocks.append(
            ("exit_conditions.signal_exit.technical_signals", strategy.exit_conditions.signal_exit.technical_signals)
        )
    for path, signals in blocks:
        total = sum(s.weight for s in signals)
        if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
            out.append(
                Problem(path, f"weights sum to {total:g}, not 1; they are normalised (each divided by {total:g})")
            )
    levels = strategy.harvesting_rules.drill_down_sequence
    total = sum(level.weight for level in levels)
    if levels and abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        out.append(
            Problem(
                "harvesting_rules.drill_down_sequence",
                f"weights sum to {total:g}, not 1; they are normalised (each divided by {total:g})",
            )
        )
    tp = strategy.exit_conditions.take_profit
    if (
        tp is not None
        and tp.trailing_stop is not None
        and tp.ratio is not None
        and tp.trailing_stop.activation >= tp.ratio
    ):
        out.append(
            Problem(
                "exit_conditions.take_profit.trailing_stop.activation",
                f"arms at {tp.trailing_stop.activation:g} R, at or beyond the {tp.ratio:g} R target: "
                "it can never trail",
            )
        )
    return out


def _probe_values(p: SearchParameter) -> list[Any]:
    """The values of a search parameter checked at load: every choice, or both ends of the range."""
    if p.choices is not None:
        return list(p.choices)
    assert p.range is not None
    low, high = p.range
    return [int(low), int(high)] if p.is_integer else [float(low), float(high)]


def _optimization_problems(data: dict[str, Any], opt: Optimization) -> list[Problem]:
    """The optimization block against the rest of the file: names, constraints, objectives, and each parameter's
    path and values (the file with a value set must itself be a valid strategy)."""
    problems: list[Problem] = []
    labels = [p.label for p in opt.parameters]
    for name in sorted({x for x in labels if labels.count(x) > 1}):
        problems.append(Problem("optimization.parameters", f"the name {name!r} is used twice; give each a name"))
    paths = [p.path for p in opt.parameters]
    for path in sorted({x for x in paths if paths.count(x) > 1}):
        problems.append(Problem("optimization.parameters", f"{path} is searched twice"))
    for i, text in enumerate(opt.constraints):
        m = CONSTRAINT.match(text)
        if m is None:
            problems.append(Problem(f"optimization.constraints[{i}]", 'expected "NAME < NAME" (or <=, >, >=, !=; a '
                                    f"number may stand on either side), found {text!r}"))  # fmt: skip
            continue
        for side in (m.group(1), m.group(3)):
            if (side[0].isalpha() or side[0] == "_") and side not in labels:
                problems.append(Problem(f"optimization.constraints[{i}]",
                                        f"{side!r} is not a parameter; the names are {', '.join(labels)}"))  # fmt: skip
    if opt.objectives is not None and len(opt.objectives) < 2:
        problems.append(Problem("optimization.objectives", "a multi-objective search needs two or more, found "
                                f"{len(opt.objectives)}; use objective for one"))  # fmt: skip
    if opt.sampler == "nsga2" and opt.objectives is None:
        problems.append(Problem("optimization.sampler", "'nsga2' searches several objectives; give objectives"))
    if opt.objectives is not None and opt.folds > 1:
        problems.append(Problem("optimization.folds", "pruning across folds needs one objective; set folds to 1"))
    base = {k: v for k, v in data.items() if k != "optimization"}
    for i, p in enumerate(opt.parameters):
        where = f"optimization.parameters[{i}]"
        why = parent_problem(base, p.path)
        if why is not None:
            problems.append(Problem(f"{where}.path", why))
            continue
        for value in _probe_values(p):
            report = validate_data(with_value(base, p.path, value))
            if report.problems:
                first = report.problems[0]
                field_name = "choices" if p.choices is not None else "range"
                problems.append(Problem(f"{where}.{field_name}", f"{value!r} at {p.path} does not make a valid "
                                        f"strategy: {first.path}: {first.message}"))  # fmt: skip
                break
    return problems


@dataclass(frozen=True, slots=True)
class _UnusableNumber:
    """A number as written in the file that no field can take (too many digits, beyond float, NaN)."""

    text: str


def _number_problems(data: Any, loc: tuple[Any, ...] = ()) -> list[Problem]:
    """Every number no field could take, with its JSON path: from the file (``_UnusableNumber``) or from
    Python (an int of more than ``MAX_NUMBER_DIGITS`` digits, a float that is not finite)."""
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in _number_problems(value, (*loc, key))]
    if isinstance(data, list):
        return [p for i, value in enumerate(data) for p in _number_problems(value, (*loc, i))]
    found: str | None = None
    if isinstance(data, _UnusableNumber):
        found = data.text
    elif isinstance(data, int) and not isinstance(data, bool) and abs(data) >= 10**MAX_NUMBER_DIGITS:
        # str() of an int of 4,300 digits or more is refused by Python itself
        found = f"a number of about {int(data.bit_length() * math.log10(2)) + 1} digits"
    elif isinstance(data, float) and not math.isfinite(data):
        found = repr(data)
    if found is None:
        return []
    return [
        Problem(
            _json_path(loc),
            f"expected a finite number of at most {MAX_NUMBER_DIGITS} digits, found {found}",
        )
    ]


def _parse_int(text: str) -> int | _UnusableNumber:
    digits = len(text.lstrip("-"))
    return int(text) if digits <= MAX_NUMBER_DIGITS else _UnusableNumber(f"a number of {digits} digits")


def _parse_float(text: str) -> float | _UnusableNumber:
    value = float(text)
    if math.isfinite(value):
        return value
    shown = text if len(text) <= 24 else f"{text[:12]}... ({len(text)} characters)"
    return _UnusableNumber(f"{shown}, beyond the range of a float")


def _parse_constant(text: str) -> _UnusableNumber:
    return _UnusableNumber(f"{text} (not a JSON number)")


def validate_data(data: Any) -> ValidationReport:
    """Validate parsed JSON: the strategy (or None) with every problem and warning found."""
    problems: list[Problem] = []
    strategy: Strategy | None = None
    if not isinstance(data, dict):
        return ValidationReport(None, [Problem("(top level)", f"expected a JSON object, found {type(data).__name__}")])
    numbers = _number_problems(data)
    if numbers:  # checked first: such a number would overflow the checks below
        return ValidationReport(None, numbers)
    try:
        strategy = Strategy.model_validate(data)
    except ValidationError as exc:
        problems.extend(_shape_problems(exc))
    problems.extend(_registry_problems(data))
    if strategy is not None and strategy.optimization is not None:
        problems.extend(_optimization_problems(data, strategy.optimization))
    if problems:
        return ValidationReport(None, problems)
    assert strategy is not None
    return ValidationReport(strategy, [], _warnings(strategy))


def validate_text(text: str, source: str = "strategy") -> ValidationReport:
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        return ValidationReport(None, [Problem("(file)", f"{source}: nested too deeply to be a strategy file")])
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        return ValidationReport(None, [Problem("(file)", f"{source}: not valid JSON at {where}: {exc.msg}")])
    return validate_data(data)


def _raise_for(report: ValidationReport, source: str) -> Strategy:
    if report.strategy is None or report.problems:
        count = f"{len(report.problems)} problem{'s' if len(report.problems) != 1 else ''}"
        raise ConfigError(f"{source}: {count}:\n" + "\n".join(f"  - {p}" for p in report.problems))
    return report.strategy


def parse_strategy(text: str, source: str = "strategy") -> Strategy:
    return _raise_for(validate_text(text, source), source)


def read_strategy_text(path: Path | str) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such strategy file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the strategy file: {exc}") from exc


def load_strategy(path: Path | str) -> Strategy:
    return parse_strategy(read_strategy_text(path), str(path))


def strategy_json_schema() -> dict[str, Any]:
    """The strategy format's JSON Schema (draft 2020-12), generated from the models."""
    schema = Strategy.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
