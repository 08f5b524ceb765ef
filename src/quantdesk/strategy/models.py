"""The strategy file format: pydantic models of the plan's strategy JSON.

This version models the blocks a single-instrument, long-only strategy needs: ``strategy_meta``,
``entry_conditions`` (``technical_signals``, ``confluence_threshold``, ``confirmation_delay``),
``exit_conditions.signal_exit``, ``risk_management.position_sizing`` (fixed fraction) and
``execution_rules`` (market orders with a commission). Two additions to the plan's format, both
documented in docs/strategy_format.md: ``exit_conditions.signal_exit`` (leave on technical signals,
with the same vocabulary as entries and its own threshold) and ``execution_rules.commission``.
Models are frozen and reject unknown keys; compound strings such as ``2_bars`` become typed values
here, once, at load.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from quantdesk.domain.timeframe import Timeframe

SCHEMA_VERSION = "1"

CONDITIONS = ("crossover", "crossunder", "greater_than", "less_than", "between", "price_above", "price_below")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_BARS_RE = re.compile(r"^\s*(\d+)\s*_?\s*bars?\s*$", re.IGNORECASE)


def _parse_bar_count(value: Any) -> Any:
    if isinstance(value, str):
        match = _BARS_RE.match(value)
        if not match:
            raise ValueError(f"expected a bar count such as '2_bars', found {value!r}")
        return int(match.group(1))
    return value


BarCount = Annotated[
    int,
    BeforeValidator(_parse_bar_count),
    Field(ge=0, le=10_000),
    PlainSerializer(lambda n: f"{n}_bars", return_type=str),
]


def _parse_signal_timeframe(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() != "current":
        try:
            return Timeframe.parse(value).value
        except Exception as exc:
            raise ValueError(str(exc)) from exc
    return value


SignalTimeframe = Annotated[str, BeforeValidator(_parse_signal_timeframe)]


class StrategyMeta(_Strict):
    name: str = Field(min_length=1)
    version: str = "1.0"
    author: str = ""
    created_date: dt.date | None = None
    asset_classes: list[str] = Field(default_factory=list)
    timeframes: list[str] = Field(default_factory=list)
    risk_profile: str = ""
    description: str = ""


class TechnicalSignal(_Strict):
    """One vote: an indicator with parameters, a condition on it, its timeframe and its weight."""

    indicator: str = Field(min_length=1)
    params: dict[str, int | float] = Field(default_factory=dict)
    condition: Literal["crossover", "crossunder", "greater_than", "less_than", "between", "price_above", "price_below"]
    values: list[float] | None = None
    timeframe: SignalTimeframe = "current"
    weight: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _values_fit_condition(self) -> TechnicalSignal:
        if self.condition == "between":
            if self.values is None or len(self.values) != 2 or self.values[0] >= self.values[1]:
                raise ValueError(f"condition 'between' needs values [low, high] with low < high, found {self.values}")
        elif self.condition in ("greater_than", "less_than", "crossover", "crossunder"):
            if self.values is not None and len(self.values) != 1:
                raise ValueError(f"condition {self.condition!r} takes at most one value, found {self.values}")
        elif self.values is not None:
            raise ValueError(f"condition {self.condition!r} takes no values, found {self.values}")
        return self


class _SignalBlock(_Strict):
    technical_signals: list[TechnicalSignal] = Field(min_length=1)
    confluence_threshold: float = Field(gt=0, le=1)

    @field_validator("technical_signals")
    @classmethod
    def _some_weight(cls, signals: list[TechnicalSignal]) -> list[TechnicalSignal]:
        if sum(s.weight for s in signals) <= 0:
            raise ValueError("the signals' weights sum to 0; give at least one signal a weight above 0")
        return signals


class EntryConditions(_SignalBlock):
    confirmation_delay: BarCount = 0


class SignalExit(_SignalBlock):
    """Addition to the plan: close the position when these signals' confluence reaches the threshold."""


class ExitConditions(_Strict):
    signal_exit: SignalExit | None = None


class PositionSizing(_Strict):
    method: Literal["fixed_fraction"] = "fixed_fraction"
    fraction: float = Field(default=1.0, gt=0, le=1, description="share of equity committed to each entry")


class RiskManagement(_Strict):
    position_sizing: PositionSizing = PositionSizing()


class Commission(_Strict):
    """Addition to the plan: a percent-of-value commission charged on every fill."""

    type: Literal["percent_of_value"] = "percent_of_value"
    fee_bps: float = Field(default=0.0, ge=0, le=1000)

    @property
    def fee_rate(self) -> float:
        return self.fee_bps / 10_000.0


class ExecutionRules(_Strict):
    order_type: Literal["market"] = "market"
    commission: Commission = Commission()


class Strategy(_Strict):
    """A whole strategy file."""

    schema_version: str = SCHEMA_VERSION
    strategy_meta: StrategyMeta
    entry_conditions: EntryConditions
    exit_conditions: ExitConditions = ExitConditions()
    risk_management: RiskManagement = RiskManagement()
    execution_rules: ExecutionRules = ExecutionRules()

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value != SCHEMA_VERSION:
            raise ValueError(f"expected schema_version {SCHEMA_VERSION!r}, found {value!r}")
        return value
