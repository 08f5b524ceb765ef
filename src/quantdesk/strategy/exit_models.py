"""The ``exit_conditions`` block: R-multiple target with a trailing stop, the stop loss, the time stop.

As the plan writes them: ``take_profit`` (``risk_multiple`` with ``ratio`` R, an optional
``trailing_stop`` armed at ``activation`` R that trails ``distance`` ATRs behind the best price),
``stop_loss`` (``technical``: under the recent swing low, less ``offset`` ATRs, never more than
``max_risk_percent`` from entry; ``atr``: ``offset`` ATRs from entry; ``percent``: ``max_risk_percent``
from entry) and ``time_stop`` (leave after ``max_bars``, always or only if not profitable). Additions:
``signal_exit`` (technical signals, see ``entry_models``), ``chandelier`` (plan section 7.2), and on the
stop (plan section 7.1) ``tighten_after_bars`` (once a position has aged that many bars without
profit, its stop moves ``tighten_fraction`` of the way to the entry) and ``widen_in_expansion``
(stop distances times this while ATR is expanded, as ``risk_management.volatility_expansion`` defines it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from quantdesk.domain.quantities import AtrMultiple, RMultiple
from quantdesk.strategy.base import StrictModel
from quantdesk.strategy.entry_models import SignalExit

STOP_REFERENCES = ("recent_swing_low", "recent_swing_high", "entry")


class TrailingStop(StrictModel):
    activation: RMultiple = Field(description="armed once the open profit reaches this many R")
    distance: AtrMultiple = Field(description="trails this many ATRs behind the best price since arming")
    atr_period: int = Field(default=14, ge=1, le=1000)

    @model_validator(mode="after")
    def _positive(self) -> TrailingStop:
        if self.activation <= 0:
            raise ValueError(f"activation must be above 0 R, found {self.activation}_r")
        if self.distance <= 0:
            raise ValueError(f"distance must be above 0 ATR, found {self.distance}_atr")
        return self


class TakeProfit(StrictModel):
    type: Literal["risk_multiple", "percent"] = "risk_multiple"
    ratio: float | None = Field(default=None, gt=0, le=100, description="risk_multiple: the target in R")
    percent: float | None = Field(default=None, gt=0, le=10, description="percent: the target as a fraction")
    trailing_stop: TrailingStop | None = None

    @model_validator(mode="after")
    def _fields_fit_type(self) -> TakeProfit:
        if self.type == "risk_multiple" and (self.ratio is None or self.percent is not None):
            raise ValueError("type 'risk_multiple' needs ratio (the target in R) and no percent")
        if self.type == "percent" and (self.percent is None or self.ratio is not None):
            raise ValueError("type 'percent' needs percent (for example 0.05) and no ratio")
        return self


class StopLoss(StrictModel):
    type: Literal["technical", "atr", "percent"] = "technical"
    reference: Literal["recent_swing_low", "recent_swing_high", "entry"] = "recent_swing_low"
    offset: AtrMultiple = 0.0
    max_risk_percent: float = Field(default=0.02, gt=0, le=0.5, description="furthest stop from entry, a fraction")
    swing_lookback_bars: int = Field(default=20, ge=2, le=10_000, description="addition: the recent swing's window")
    atr_period: int = Field(default=14, ge=1, le=1000)
    tighten_after_bars: int | None = Field(
        default=None, ge=1, le=1_000_000, description="addition: after this many bars without profit, tighten the stop"
    )
    tighten_fraction: float = Field(default=0.5, gt=0, le=1, description="addition: share of the way to the entry")
    widen_in_expansion: float = Field(
        default=1.0,
        ge=1,
        le=10,
        description="addition: stop distances times this while ATR is expanded (risk_management.volatility_expansion)",
    )

    @model_validator(mode="after")
    def _fields_fit_type(self) -> StopLoss:
        if self.type == "atr" and self.offset <= 0:
            raise ValueError("type 'atr' needs offset above 0 (for example '2_atr')")
        return self


class TimeStop(StrictModel):
    max_bars: int = Field(ge=1, le=1_000_000)
    condition: Literal["always", "if_not_profitable"] = "always"


class Chandelier(StrictModel):
    """Addition (plan 7.2): a stop ``multiple`` ATRs under the highest high since entry (short: above the low)."""

    multiple: float = Field(default=3.0, gt=0, le=100)
    atr_period: int = Field(default=14, ge=1, le=1000)


class ExitConditions(StrictModel):
    take_profit: TakeProfit | None = None
    stop_loss: StopLoss | None = None
    time_stop: TimeStop | None = None
    chandelier: Chandelier | None = None
    signal_exit: SignalExit | None = None
