"""Loading a strategy file: JSON text -> validated ``Strategy``, or one ``ConfigError`` listing every problem.

Validation runs in two stages (as freqtrade does): the shape, by the pydantic models, then the
registry rules (indicator names and parameters), so that every problem of a file is reported in one
run, each with its JSON path, what was expected and what was found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from quantdesk.analysis.technical.registry import get_indicator, resolve_params
from quantdesk.core.errors import ConfigError
from quantdesk.strategy.models import Strategy, TechnicalSignal

# conditions that compare a single line with a level (an indicator with a line pair compares its two lines)
_LEVEL_CONDITIONS = ("crossover", "crossunder", "greater_than", "less_than")


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
    if "found" in message or isinstance(found, dict | list):
        return message
    return f"{message}, found {found!r}"


def strategy_problems(data: Any) -> tuple[Strategy | None, list[str]]:
    """Validate parsed JSON; returns the strategy (or None) and every problem found."""
    try:
        strategy = Strategy.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_json_path(e['loc'])}: {_describe(dict(e))}" for e in exc.errors()]
        return None, problems
    problems = []
    blocks: list[tuple[str, list[TechnicalSignal]]] = [
        ("entry_conditions.technical_signals", strategy.entry_conditions.technical_signals)
    ]
    if strategy.exit_conditions.signal_exit is not None:
        blocks.append(
            (
                "exit_conditions.signal_exit.technical_signals",
                strategy.exit_conditions.signal_exit.technical_signals,
            )
        )
    for prefix, signals in blocks:
        for i, sig in enumerate(signals):
            where = f"{prefix}[{i}]"
            try:
                spec = get_indicator(sig.indicator, f"{where}.indicator")
                resolve_params(spec, sig.params, f"{where}.params")
                if sig.condition in _LEVEL_CONDITIONS and spec.line_pair is None and not sig.values:
                    raise ConfigError(
                        f"{where}.values: condition {sig.condition!r} on the single line {sig.indicator} needs "
                        "a level to compare with (values: [LEVEL])"
                    )
            except ConfigError as exc:
                problems.append(str(exc))
    return (strategy if not problems else None), problems


def parse_strategy(text: str, source: str = "strategy") -> Strategy:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    strategy, problems = strategy_problems(data)
    if strategy is None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise ConfigError(f"{source}: {count}:\n" + "\n".join(f"  - {p}" for p in problems))
    return strategy


def load_strategy(path: Path | str) -> Strategy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such strategy file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the strategy file: {exc}") from exc
    return parse_strategy(text, str(path))
