"""The ``risk_management`` block: position sizing, portfolio limits, volatility adjustment.

``position_sizing.method`` names the sizing rule: ``fixed_fraction`` (``fraction`` of equity per
entry), ``kelly_criterion_modified`` (f = (p b - q) / b, scaled by ``max_kelly_fraction`` and capped at
``fixed_fraction_cap`` of equity; p from the Bayesian posterior or the strategy's past win rate, b
from the exits) and ``volatility_target`` (``target_risk_per_trade`` of equity over the stop distance).
``beta_hedge`` (an addition) holds the benchmark against the portfolio's beta.
``volatility_adjustment.measure`` is written ``atr_14`` (ATR over 14 bars) and parsed at load.

The plan's section-7 size rules are blocks of their own, applied only when the file writes them (the
templates and ``strategy new`` write the plan's values): ``loss_streak`` (size times
``size_multiplier`` after ``after_losses`` losing trades in a row), ``volatility_expansion`` (ATR
expanded: above its mean plus ``threshold_sd`` standard deviations over ``lookback_bars``; size times
``size_multiplier`` while it is, and the stop's ``widen_in_expansion`` reads the same flag), and in
``portfolio_limits`` the liquidity check ``max_adv_fraction`` (a position under that share of average
daily volume) and the correlation check's ``correlation_window_bars``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator

from quantdesk.strategy.base import StrictModel

SIZING_METHODS = ("fixed_fraction", "kelly_criterion_modified", "volatility_target")
_SIZING_FIELDS = {
    "fixed_fraction": {"fraction"},
    "kelly_criterion_modified": {"max_kelly_fraction", "fixed_fraction_cap", "win_probability"},
    "volatility_target": {"target_risk_per_trade", "fixed_fraction_cap"},
}
DEFAULT_TARGET_RISK = 0.01  # volatility_target's share of equity at risk when the file gives none
_MEASURE_RE = re.compile(r"^\s*(atr|stdev)_(\d+)\s*$", re.IGNORECASE)


class PositionSizing(StrictModel):
    method: Literal["fixed_fraction", "kelly_criterion_modified", "volatility_target"] = "fixed_fraction"
    fraction: float | None = Field(default=None, gt=0, le=1, description="fixed_fraction: share of equity")
    max_kelly_fraction: float | None = Field(default=None, gt=0, le=1, description="kelly: share of full Kelly")
    fixed_fraction_cap: float | None = Field(default=None, gt=0, le=1, description="largest share of equity")
    win_probability: Literal["posterior", "win_rate"] | None = Field(
        default=None, description="kelly: p from the Bayesian posterior (default) or the in-sample win rate"
    )
    target_risk_per_trade: float | None = Field(default=None, gt=0, le=0.2, description="volatility_target")

    @model_validator(mode="after")
    def _fields_fit_method(self) -> PositionSizing:
        allowed = _SIZING_FIELDS[self.method]
        given = {k for k in self.model_fields_set if k != "method" and getattr(self, k) is not None}
        extra = sorted(given - allowed)
        if extra:
            raise ValueError(
                f"method {self.method!r} takes {', '.join(sorted(allowed))}; "
                f"{', '.join(extra)} belong{'s' if len(extra) == 1 else ''} to another method"
            )
        return self

    @property
    def fraction_of_equity(self) -> float:
        """fixed_fraction's share (default 1.0)."""
        return 1.0 if self.fraction is None else self.fraction

    def resolved(self) -> PositionSizing:
        """The same sizing with each field of its method written out at the value a run uses."""
        by_method: dict[str, dict[str, Any]] = {
            "fixed_fraction": {"fraction": self.fraction_of_equity},
            "kelly_criterion_modified": {
                "max_kelly_fraction": self.max_kelly_fraction or 1.0,
                "fixed_fraction_cap": self.fixed_fraction_cap or 1.0,
                "win_probability": self.win_probability or "posterior",
            },
            "volatility_target": {
                "target_risk_per_trade": self.target_risk_per_trade or DEFAULT_TARGET_RISK,
                "fixed_fraction_cap": self.fixed_fraction_cap or 1.0,
            },
        }
        return self.model_copy(update=by_method[self.method])


def _parse_measure(value: Any) -> Any:
    if isinstance(value, str):
        match = _MEASURE_RE.match(value)
        if not match:
            raise ValueError(f"expected a volatility measure such as 'atr_14' or 'stdev_20', found {value!r}")
        return (match.group(1).lower(), int(match.group(2)))
    return value


VolatilityMeasure = Annotated[
    tuple[Literal["atr", "stdev"], int],
    BeforeValidator(_parse_measure),
    PlainSerializer(lambda m: f"{m[0]}_{m[1]}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*([aA][tT][rR]|[sS][tT][dD][eE][vV])_\d+\s*$"}),
]


class VolatilityAdjustment(StrictModel):
    measure: VolatilityMeasure = ("atr", 14)
    target_risk_per_trade: float = Field(default=0.01, gt=0, le=0.2)
    scaling: Literal["inverse_volatility", "none"] = "inverse_volatility"

    @model_validator(mode="after")
    def _period(self) -> VolatilityAdjustment:
        if not 1 <= self.measure[1] <= 10_000:
            raise ValueError(f"measure's period must be 1..10000, found {self.measure[1]}")
        return self


class PortfolioLimits(StrictModel):
    max_correlated_positions: int | None = Field(default=None, ge=1, le=10_000)
    correlation_threshold: float = Field(default=0.7, gt=0, lt=1, description="addition: what counts as correlated")
    correlation_window_bars: int = Field(
        default=60, ge=2, le=100_000, description="addition: bars of returns the correlation check compares"
    )
    max_sector_exposure: float | None = Field(default=None, gt=0, le=1)
    daily_loss_limit: float | None = Field(default=None, gt=0, le=1)
    max_positions: int | None = Field(default=None, ge=1, le=10_000, description="addition")
    max_adv_fraction: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="addition (plan 7.1 liquidity check): largest position / average daily volume",
    )


class LossStreak(StrictModel):
    """Plan 7.1, the consecutive loss rule: entries sized times ``size_multiplier`` after ``after_losses`` losing
    trades in a row (a win resets the count)."""

    after_losses: int = Field(default=3, ge=1, le=1_000)
    size_multiplier: float = Field(default=0.5, gt=0, le=1)


class VolatilityExpansion(StrictModel):
    """Plan 7.1, volatility sizing: ATR(``atr_period``) above its mean plus ``threshold_sd`` standard deviations over
    the last ``lookback_bars`` bars is an expansion; entries are sized times ``size_multiplier`` while it lasts."""

    atr_period: int = Field(default=14, ge=1, le=1_000)
    lookback_bars: int = Field(default=100, ge=2, le=100_000)
    threshold_sd: float = Field(default=2.0, gt=0, le=10)
    size_multiplier: float = Field(default=0.5, gt=0, le=1)


class BetaHedge(StrictModel):
    """Addition (plan 7, beta neutrality): hold the benchmark against the portfolio's beta dollars.

    Betas are rolling over ``window_bars`` (at least ``min_obs`` pairs, else 1.0); the hedge is
    re-set only when it is off by more than ``rebalance_band`` of equity. Needs a benchmark.
    """

    window_bars: int = Field(default=60, ge=2, le=10_000)
    min_obs: int = Field(default=20, ge=2, le=10_000)
    rebalance_band: float = Field(default=0.02, ge=0, le=1, description="share of equity the hedge may drift")

    @model_validator(mode="after")
    def _min_obs_fits(self) -> BetaHedge:
        if self.min_obs > self.window_bars:
            raise ValueError(f"min_obs ({self.min_obs}) must not exceed window_bars ({self.window_bars})")
        return self


class RiskManagement(StrictModel):
    position_sizing: PositionSizing = PositionSizing()
    portfolio_limits: PortfolioLimits | None = None
    volatility_adjustment: VolatilityAdjustment | None = None
    loss_streak: LossStreak | None = Field(default=None, description="addition (plan 7.1): size down after losses")
    volatility_expansion: VolatilityExpansion | None = Field(
        default=None, description="addition (plan 7.1): size down while ATR is expanded"
    )
    beta_hedge: BetaHedge | None = Field(default=None, description="addition: a beta-neutral benchmark hedge")
