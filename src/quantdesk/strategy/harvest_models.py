"""The ``harvesting_rules`` block: the drill-down composite's levels and weights, and the data the strategy needs.

Each ``drill_down_sequence`` entry names a level of the plan's drill-down (1 macro, 2 sector, 3
fundamental, 4 technical, 5 alternative) with its focus and its weight in the composite score.
``required_data`` names data kinds (``REQUIRED_DATA``); a run checks that what its evaluation uses is
there and says what is missing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from quantdesk.strategy.base import StrictModel

LEVEL_FOCUS = {
    1: ("macro_trend",),
    2: ("sector_rotation", "sector_strength"),
    3: ("fundamental_quality",),
    4: ("technical_setup",),
    5: ("alternative_data",),
}
REQUIRED_DATA = {
    "bars": "OHLCV bars of the instrument (the catalog)",
    "fundamentals": "point-in-time statements (`quantdesk fundamentals import`, EDGAR, or the synthetic market)",
    "earnings_calendar": "earnings dates with estimates and actuals (the fundamentals store)",
    "macro": "the benchmark, VIX and the BAA/AAA yields (`quantdesk data sample`)",
    "sector_rotation": "bars of the instrument's sector peers (the catalog's instruments with a sector)",
    "level2_depth": "order-book depth (moomoo OpenD; used by live and paper execution, not by bar backtests)",
    "tick_data": "time and sales (moomoo OpenD; not used by bar backtests)",
    "interest_rate_differentials": (
        "short-rate series per currency, RATE_<CCY> (`quantdesk data import-series FILE --name RATE_<CCY> "
        "--frequency daily`, or the synthetic FX market: `quantdesk data synthetic --fx`)"
    ),
    "news_sentiment": "news sentiment scores (`quantdesk data import-news FILE`: headlines scored offline by VADER)",
}
Focus = Literal["macro_trend", "sector_rotation", "sector_strength", "fundamental_quality", "technical_setup",
                "alternative_data"]  # fmt: skip
DataKind = Literal["bars", "fundamentals", "earnings_calendar", "macro", "sector_rotation", "level2_depth",
                   "tick_data", "interest_rate_differentials", "news_sentiment"]  # fmt: skip


class DrillDownLevel(StrictModel):
    level: int = Field(ge=1, le=5)
    focus: Focus
    weight: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _focus_fits_level(self) -> DrillDownLevel:
        if self.focus not in LEVEL_FOCUS[self.level]:
            raise ValueError(
                f"level {self.level} has focus {' or '.join(repr(f) for f in LEVEL_FOCUS[self.level])}, "
                f"found {self.focus!r}"
            )
        return self


class HarvestingRules(StrictModel):
    drill_down_sequence: list[DrillDownLevel] = Field(default_factory=list)
    required_data: list[DataKind] = Field(default_factory=list)

    @model_validator(mode="after")
    def _levels_distinct(self) -> HarvestingRules:
        levels = [d.level for d in self.drill_down_sequence]
        if len(set(levels)) != len(levels):
            raise ValueError(f"each level appears once in drill_down_sequence, found levels {levels}")
        if self.drill_down_sequence and sum(d.weight for d in self.drill_down_sequence) <= 0:
            raise ValueError("the drill-down weights sum to 0; give at least one level a weight above 0")
        return self
