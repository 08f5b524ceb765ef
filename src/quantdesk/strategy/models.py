"""The strategy file format: the root ``Strategy`` model and ``strategy_meta``, over the block modules.

One pydantic model per block of the plan's ``strategy.json``: ``harvest_models`` (harvesting_rules),
``entry_models`` (entry_conditions), ``exit_models``, ``risk_models``, ``execution_models``. Every
model is frozen and rejects unknown keys; compound strings (``2_bars``, ``1.5_r``, ``1_atr``,
``50ms``, ``atr_14``) become typed values at load and are written back in the same form, so a file
round-trips. Rules that join blocks (a stop-and-reverse strategy needs a signal exit; Kelly sizing
needs the exits that give its reward-to-risk ratio) are checked here; rules that need the indicator
registry are checked in ``load``. ``Strategy.model_json_schema()`` is the format's JSON Schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from quantdesk.domain.instrument import AssetClass
from quantdesk.strategy.base import StrictModel
from quantdesk.strategy.entry_models import (
    CONDITIONS,
    DEFAULT_HMM_OPTIONS,
    EntryConditions,
    FundamentalGate,
    SignalExit,
    TechnicalSignal,
)
from quantdesk.strategy.execution_models import Commission, ExecutionRules
from quantdesk.strategy.exit_models import ExitConditions
from quantdesk.strategy.harvest_models import HarvestingRules
from quantdesk.strategy.optimization_models import Optimization
from quantdesk.strategy.risk_models import PositionSizing, RiskManagement

__all__ = [
    "CONDITIONS",
    "SCHEMA_VERSION",
    "Commission",
    "EntryConditions",
    "ExecutionRules",
    "ExitConditions",
    "FundamentalGate",
    "HarvestingRules",
    "Optimization",
    "PositionSizing",
    "RiskManagement",
    "SignalExit",
    "Strategy",
    "StrategyMeta",
    "TechnicalSignal",
]

SCHEMA_VERSION = "1"
_NOT_OF_A_RUN = {"optimization"}


class StrategyMeta(StrictModel):
    name: str = Field(min_length=1)
    version: str = "1.0"
    author: str = ""
    created_date: dt.date | None = None
    asset_classes: list[AssetClass] = Field(default_factory=list)
    timeframes: list[Literal["scalp", "intraday", "swing", "position"]] = Field(
        default_factory=list, description="trading styles"
    )
    risk_profile: Literal["", "conservative", "moderate", "moderate_aggressive", "aggressive"] = ""
    description: str = ""


class Strategy(StrictModel):
    """A whole strategy file."""

    schema_version: str = SCHEMA_VERSION
    strategy_meta: StrategyMeta
    harvesting_rules: HarvestingRules = HarvestingRules()
    entry_conditions: EntryConditions
    exit_conditions: ExitConditions = ExitConditions()
    risk_management: RiskManagement = RiskManagement()
    execution_rules: ExecutionRules = ExecutionRules()
    # read by optimize and walkforward only; a run ignores it (and it stays out of dumps while unset)
    optimization: Optimization | None = Field(default=None, exclude_if=lambda v: v is None)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        if value != SCHEMA_VERSION:
            raise ValueError(f"expected schema_version {SCHEMA_VERSION!r}, found {value!r}")
        return value

    @model_validator(mode="after")
    def _blocks_agree(self) -> Strategy:
        exits, sizing = self.exit_conditions, self.risk_management.position_sizing
        problems = []
        if self.entry_conditions.direction == "both" and exits.signal_exit is None:
            problems.append(
                "entry_conditions.direction: 'both' reverses on the signal exit, so exit_conditions.signal_exit "
                "is needed, found none"
            )
        if sizing.method == "kelly_criterion_modified":
            tp = exits.take_profit
            if tp is None or tp.type != "risk_multiple" or exits.stop_loss is None:
                problems.append(
                    "risk_management.position_sizing.method: 'kelly_criterion_modified' takes its reward-to-risk "
                    "ratio b from the exits, so exit_conditions.take_profit (type risk_multiple) and "
                    "exit_conditions.stop_loss are needed"
                )
        if sizing.method == "volatility_target" and exits.stop_loss is None:
            problems.append(
                "risk_management.position_sizing.method: 'volatility_target' divides the risk by the stop "
                "distance, so exit_conditions.stop_loss is needed, found none"
            )
        stop = exits.stop_loss
        if stop is not None and stop.widen_in_expansion != 1.0 and self.risk_management.volatility_expansion is None:
            problems.append(
                "exit_conditions.stop_loss.widen_in_expansion: widens the stop while ATR is expanded, which "
                "risk_management.volatility_expansion defines; add that block (its size_multiplier may be 1)"
            )
        if problems:
            raise ValueError("\n".join(problems))  # one "path: message" per line (load splits them)
        return self

    def resolved(self) -> Strategy:
        """The same strategy with every default a run uses written out (``strategy resolve``; every result keeps it).

        A key the file left out appears with the value the run uses; a rule block left out appears as null
        (the rule is off); position sizing writes the fields of its method at their effective values (and
        none of another method's), and so do a gradient-boosting ``inference``, an hmm ``regime_filter`` and the
        ``book`` fill model's ``mock_trading.book``.
        The learned layer's blocks and options stay out while off (no ``regime_filter``, ``model`` bayes), so
        that the documents of strategies written before them are unchanged.
        """
        risk = self.risk_management
        sizing = risk.position_sizing.resolved()
        update: dict[str, Any] = {"risk_management": risk.model_copy(update={"position_sizing": sizing})}
        entry = self.entry_conditions
        entry_update: dict[str, Any] = {}
        inference = entry.inference
        if inference is not None and inference.model == "gradient_boosting":
            entry_update["inference"] = inference.model_copy(
                update={
                    "calibration": inference.effective_calibration(),
                    "refit_every_bars": inference.effective_refit_every_bars(),
                }
            )
        regime = entry.regime_filter
        if regime is not None and regime.model == "hmm":
            entry_update["regime_filter"] = regime.model_copy(
                update={option: regime.effective(option) for option in DEFAULT_HMM_OPTIONS}
            )
        if entry_update:
            update["entry_conditions"] = entry.model_copy(update=entry_update)
        rules = self.execution_rules
        mock = rules.mock_trading
        if mock.fill_model == "book" and mock.book is None:  # the book model's settings at their defaults
            update["execution_rules"] = rules.model_copy(
                update={"mock_trading": mock.model_copy(update={"book": mock.book_settings})}
            )
        return self.model_copy(update=update)

    def resolved_document(self) -> dict[str, Any]:
        """``resolved()`` as JSON-ready data: every key, null where a block or option is off."""
        document: dict[str, Any] = self.resolved().model_dump(mode="json", exclude=_NOT_OF_A_RUN)
        if self.optimization is not None:
            document["optimization"] = self.optimization.model_dump(mode="json")
        sizing = document["risk_management"]["position_sizing"]
        document["risk_management"]["position_sizing"] = {k: v for k, v in sizing.items() if v is not None}
        return document

    def identity_json(self) -> str:
        """What the strategy's runs are identified by (run, instance and session ids): every rule of a run, not the
        ``optimization`` block, which changes no run (and was not there when the first ids were made)."""
        return self.model_dump_json(exclude=_NOT_OF_A_RUN)

    def without_optimization(self) -> Strategy:
        return self if self.optimization is None else self.model_copy(update={"optimization": None})

    def to_json(self, indent: int | None = 2) -> str:
        """The file form: compound strings written back (``2_bars``), unset optional blocks left out."""
        return self.model_dump_json(indent=indent, exclude_none=True)

    @property
    def uses_posterior(self) -> bool:
        sizing = self.risk_management.position_sizing
        kelly_p = sizing.method == "kelly_criterion_modified" and sizing.win_probability != "win_rate"
        inference = self.entry_conditions.inference
        return kelly_p or (inference is not None and inference.min_posterior is not None)
