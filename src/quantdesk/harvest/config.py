"""The ``harvest_config`` file: which drill-down levels to collect, for which instrument, how far back, how often.

The plan's example (design plan section 2.2) is the format, accepted as written: a JSON object with one key,
``harvest_config``, holding ``instrument`` {symbol, asset_class, market, currency}, ``drill_down_levels`` (the
levels 1 macro, 2 sector, 3 fundamental, 4 technical, 5 alternative), ``timeframes`` {trading style, the analysis
timeframes (aliases such as ``daily`` become ``1d`` at load), ``historical_lookback`` such as ``2y``} and
``update_frequency`` per kind of data. The models are frozen and reject unknown keys; validation runs in two
stages (shape, then the rules joining fields) and reports every problem at once, each with its JSON path, what was
expected and what was found. ``historical_lookback`` is parsed once, at load, into ``Lookback``.
``harvest_json_schema`` is the JSON Schema (draft 2020-12) the models generate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from quantdesk.core.errors import ConfigError
from quantdesk.domain.instrument import MARKET_TIMEZONES, AssetClass
from quantdesk.domain.symbols import symbol_problem
from quantdesk.strategy.base import StrictModel, TimeframeName

__all__ = [
    "FREQUENCY_KEYS",
    "LEVEL_KINDS",
    "HarvestConfig",
    "HarvestDocument",
    "HarvestProblem",
    "Lookback",
    "harvest_json_schema",
    "load_harvest_config",
    "parse_harvest_config",
    "validate_harvest_data",
]

SCHEMA_ID = "https://quantdesk.dev/schemas/harvest-config-1.json"
LEVEL_KINDS: dict[int, str] = {1: "macro", 2: "sector", 3: "fundamental", 4: "technical", 5: "alternative"}
"""Each drill-down level and the ``update_frequency`` key that says how often it is refreshed."""
FREQUENCY_KEYS = tuple(LEVEL_KINDS.values())
TradingStyle = Literal["scalping", "intraday", "swing", "position"]
Frequency = Literal["real_time", "daily", "event_driven", "manual"]
# which update frequencies a kind of data can take: real time needs a stream of the instrument's bars (OpenD),
# event-driven needs a calendar of releases (the economic calendar for macro, the earnings calendar for
# fundamentals, the fund filings calendar for sector flows)
_ALLOWED: dict[str, tuple[str, ...]] = {
    "macro": ("daily", "event_driven", "manual"),
    "sector": ("daily", "event_driven", "manual"),
    "fundamental": ("daily", "event_driven", "manual"),
    "technical": ("real_time", "daily", "manual"),
    "alternative": ("daily", "manual"),
}
_LOOKBACK = re.compile(r"^\s*(\d{1,4})\s*(d|w|mo|y)\s*$", re.IGNORECASE)
_UNIT_WORDS = {"d": "days", "w": "weeks", "mo": "months", "y": "years"}


@dataclass(frozen=True, slots=True)
class Lookback:
    """A history length as written (``2y``, ``18mo``, ``6w``, ``90d``): a count of calendar units."""

    count: int
    unit: Literal["d", "w", "mo", "y"]

    @classmethod
    def parse(cls, text: str) -> Lookback:
        m = _LOOKBACK.match(text)
        if m is None or int(m.group(1)) == 0:
            raise ValueError(
                "expected a positive count and a unit: d (days), w (weeks), mo (months) or y (years), such as "
                f"'2y' or '18mo', found {text!r}"
            )
        return cls(int(m.group(1)), m.group(2).lower())  # type: ignore[arg-type]

    def start_before(self, end: pd.Timestamp) -> pd.Timestamp:
        """The first instant of the window that ends at ``end``."""
        offset = {
            "d": pd.DateOffset(days=self.count),
            "w": pd.DateOffset(weeks=self.count),
            "mo": pd.DateOffset(months=self.count),
            "y": pd.DateOffset(years=self.count),
        }[self.unit]
        return pd.Timestamp(end - offset)

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def describe(self) -> str:
        return f"{self.count} {_UNIT_WORDS[self.unit]}"


class HarvestInstrument(StrictModel):
    symbol: str
    asset_class: AssetClass
    market: str = Field(min_length=1)
    currency: str

    @field_validator("symbol")
    @classmethod
    def _symbol_rule(cls, value: str) -> str:
        problem = symbol_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("market")
    @classmethod
    def _known_market(cls, value: str) -> str:
        if value.upper().split("_")[0] not in MARKET_TIMEZONES:
            raise ValueError(f"expected a market with a known time zone ({', '.join(sorted(MARKET_TIMEZONES))}), "
                             f"found {value!r}")  # fmt: skip
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"expected an ISO 4217 code of three capital letters such as 'USD', found {value!r}")
        return value

    @property
    def timezone(self) -> str:
        """The market's time zone (``America/New_York`` for US): daily jobs run at a time in it."""
        return MARKET_TIMEZONES[self.market.upper().split("_")[0]]


class HarvestTimeframes(StrictModel):
    trading: TradingStyle
    analysis: list[TimeframeName] = Field(min_length=1)
    historical_lookback: str = Field(json_schema_extra={"pattern": r"^\s*[0-9]{1,4}\s*([dDwWyY]|[mM][oO])\s*$"})

    _lookback: Lookback = PrivateAttr()

    @field_validator("analysis")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"each timeframe appears once, found {value}")
        return value

    @field_validator("historical_lookback")
    @classmethod
    def _lookback_text(cls, value: str) -> str:
        Lookback.parse(value)
        return value

    def model_post_init(self, context: Any, /) -> None:
        self._lookback = Lookback.parse(self.historical_lookback)

    @property
    def lookback(self) -> Lookback:
        return self._lookback


class UpdateFrequency(StrictModel):
    """How often each kind of data is refreshed by ``quantdesk harvest schedule``; ``manual``: only by ``run``."""

    macro: Frequency = "daily"
    sector: Frequency = "daily"
    fundamental: Frequency = "daily"
    technical: Frequency = "daily"
    alternative: Frequency = "daily"

    @model_validator(mode="after")
    def _allowed(self) -> UpdateFrequency:
        problems = []
        for key in FREQUENCY_KEYS:
            value = getattr(self, key)
            if value not in _ALLOWED[key]:
                why = (
                    "a real-time subscription streams the instrument's own bars (level 4)"
                    if value == "real_time"
                    else "no calendar of releases triggers this kind of data"
                )
                problems.append(f"{key}: {why}; expected one of {', '.join(_ALLOWED[key])}, found {value!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def for_level(self, level: int) -> str:
        return str(getattr(self, LEVEL_KINDS[level]))


class HarvestConfig(StrictModel):
    instrument: HarvestInstrument
    drill_down_levels: list[int] = Field(min_length=1)
    timeframes: HarvestTimeframes
    update_frequency: UpdateFrequency = UpdateFrequency()

    @field_validator("drill_down_levels")
    @classmethod
    def _levels(cls, value: list[int]) -> list[int]:
        bad = [v for v in value if not 1 <= v <= 5]
        if bad:
            raise ValueError(f"levels are 1 (macro) ... 5 (alternative), found {bad}")
        if len(set(value)) != len(value):
            raise ValueError(f"each level appears once, found {value}")
        return sorted(value)


class HarvestDocument(StrictModel):
    """The file: ``{"harvest_config": {...}}``, as the plan writes it."""

    schema_version: int = Field(default=1, ge=1, le=1)
    harvest_config: HarvestConfig


@dataclass(frozen=True, slots=True)
class HarvestProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _json_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    kind, found = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return f"unknown key (not part of the harvest_config format), found {found!r}"
    if kind == "missing":
        return "required key is missing"
    message = str(err["msg"]).removeprefix("Value error, ")
    if "found" in message or (isinstance(found, str) and repr(found) in message):
        return message
    return f"{message}, found {found!r}"


def validate_harvest_data(data: Any) -> tuple[HarvestConfig | None, list[HarvestProblem]]:
    """The config in parsed JSON, or None with every problem found (each with its JSON path)."""
    if not isinstance(data, dict):
        return None, [HarvestProblem("(top level)", f"expected a JSON object, found {type(data).__name__}")]
    try:
        return HarvestDocument.model_validate(data).harvest_config, []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path, message = _json_path(err["loc"]), _describe(dict(err))
            if (err["type"] == "value_error" and "\n" in message) or path.endswith("update_frequency"):
                # a rule over several fields: each line is "field: message"
                for line in message.split("\n"):
                    key, sep, text = line.partition(": ")
                    problems.append(HarvestProblem(f"{path}.{key}", text) if sep and key in FREQUENCY_KEYS
                                    else HarvestProblem(path, line))  # fmt: skip
            else:
                problems.append(HarvestProblem(path, message))
        return None, problems


def parse_harvest_config(text: str, source: str = "harvest_config") -> HarvestConfig:
    """The config in ``text``; a ``ConfigError`` naming ``source`` and listing every problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a harvest_config file") from None
    config, problems = validate_harvest_data(data)
    if config is None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise ConfigError(f"{source}: {count}:\n" + "\n".join(f"  - {p}" for p in problems))
    return config


def load_harvest_config(path: Path | str) -> HarvestConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such harvest_config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the harvest_config file: {exc}") from None
    return parse_harvest_config(text, str(path))


def harvest_json_schema() -> dict[str, Any]:
    """The harvest_config format's JSON Schema (draft 2020-12), generated from the models."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **HarvestDocument.model_json_schema()}  # fmt: skip
