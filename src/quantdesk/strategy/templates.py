"""The template library: the plan's five archetypes (section 4.2), its own example, and the demo's EMA cross.

Each template is a strategy file shipped in ``quantdesk/strategy/library/`` whose ``strategy_meta``
describes the idea and whose ``harvesting_rules.required_data`` names the data it needs; ``RUN_HINTS``
says the base timeframe it is written for and where to find data to run it on. ``new_from_template``
returns a copy under a new name, to edit and save.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from quantdesk.core.errors import ConfigError
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.models import Strategy

__all__ = ["RUN_HINTS", "TemplateInfo", "list_templates", "load_template", "new_from_template", "template_text"]

# key -> (base timeframe, data to run it on)
RUN_HINTS: dict[str, tuple[str, str]] = {
    "plan_example": (
        "5m",
        "a synthetic company's 5m bars with its fundamentals: quantdesk data synthetic --timeframe 5m",
    ),
    "momentum_breakout": ("1d", "a synthetic company's daily bars and fundamentals: quantdesk data synthetic"),
    "mean_reversion": ("1d", "a synthetic company's daily bars and fundamentals: quantdesk data synthetic"),
    "trend_following": ("1d", "the bundled S&P 500: quantdesk data sample, then --symbol SPX"),
    "earnings_play": ("1d", "a synthetic company's daily bars and earnings: quantdesk data synthetic"),
    "carry_trade": (
        "1d",
        "a synthetic currency pair and short rates: quantdesk data synthetic --fx, then --symbol AUDUSD",
    ),
    "ema_cross": ("1d", "the bundled S&P 500 and NASDAQ: quantdesk data sample"),
}


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    key: str
    title: str
    description: str
    direction: str
    base_timeframe: str
    required_data: tuple[str, ...]
    run_on: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.title,
            "description": self.description,
            "direction": self.direction,
            "base_timeframe": self.base_timeframe,
            "required_data": list(self.required_data),
            "run_on": self.run_on,
        }


def _library() -> Any:
    return resources.files("quantdesk.strategy").joinpath("library")


def template_keys() -> list[str]:
    return sorted(p.name.removesuffix(".json") for p in _library().iterdir() if p.name.endswith(".json"))


def template_text(key: str) -> str:
    """The template's strategy file as shipped (what a run spec of it carries)."""
    keys = template_keys()
    if key not in keys:
        close = difflib.get_close_matches(key, keys, n=2, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"--template: unknown template {key!r}{hint}; valid templates: {', '.join(keys)}")
    text: str = _library().joinpath(f"{key}.json").read_text(encoding="utf-8")
    return text


def load_template(key: str) -> Strategy:
    return parse_strategy(template_text(key), f"template {key}")


def list_templates() -> list[TemplateInfo]:
    out = []
    for key in template_keys():
        strategy = load_template(key)
        timeframe, run_on = RUN_HINTS.get(key, ("1d", ""))
        out.append(
            TemplateInfo(
                key=key,
                title=strategy.strategy_meta.name,
                description=strategy.strategy_meta.description,
                direction=strategy.entry_conditions.direction,
                base_timeframe=timeframe,
                required_data=tuple(strategy.harvesting_rules.required_data) or ("bars",),
                run_on=run_on,
            )
        )
    return out


def new_from_template(key: str, name: str) -> Strategy:
    """The template ``key`` renamed ``name``, ready to edit."""
    if not name.strip():
        raise ConfigError("NAME: expected a strategy name, found an empty string")
    strategy = load_template(key)
    meta = strategy.strategy_meta.model_copy(update={"name": name.strip(), "author": "", "version": "1.0"})
    return strategy.model_copy(update={"strategy_meta": meta})
