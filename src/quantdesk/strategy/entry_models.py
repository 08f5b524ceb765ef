"""The ``entry_conditions`` block: technical signals, the fundamental gate, and what turns them into an entry.

Fields the plan's example writes (``fundamental_gate``, ``technical_signals``, ``confluence_threshold``,
``confirmation_delay``) mean what docs/strategy_format.md says. Additions to the plan's format, each
optional and documented there: ``direction`` (long, short or both), ``carry_gate`` (the short-rate
differential of a currency pair), ``confluence_adjustments``
(timeframe alignment and divergence, plan section 3.3), ``inference`` (the Bayesian posterior's
outcome definition, an optional ``min_posterior``, and the ``model`` behind it: the Bayesian posterior or a
calibrated gradient-boosting classifier), ``regime_filter`` (entries only in the allowed regimes of the rules or
of a hidden Markov model), ``min_composite_score`` (a floor on the drill-down composite), and the gate thresholds
the wizard offers beyond the plan's four. The learned layer's fields are left out of a dump while unset (or, for
``inference.model``, at ``bayes``), so that the documents and ids of the strategies written before them are
unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from quantdesk.analysis.inference.learned_regime import HMM_REGIME_NAMES
from quantdesk.analysis.inference.regime import RULE_REGIME_NAMES
from quantdesk.domain.quantities import BarCount
from quantdesk.strategy.base import SignalTimeframe, StrictModel, TimeframeName

CONDITIONS = (
    "crossover",
    "crossunder",
    "greater_than",
    "less_than",
    "between",
    "outside",
    "price_above",
    "price_below",
    "rising",
    "falling",
)
Condition = Literal[
    "crossover",
    "crossunder",
    "greater_than",
    "less_than",
    "between",
    "outside",
    "price_above",
    "price_below",
    "rising",
    "falling",
]
_TWO_VALUES = ("between", "outside")
_AT_MOST_ONE_VALUE = ("greater_than", "less_than", "crossover", "crossunder", "rising", "falling")
GATE_LOGIC = ("ALL_REQUIRED", "ANY", "MAJORITY")
DIRECTIONS = ("long", "short", "both")
INFERENCE_MODELS = ("bayes", "gradient_boosting")
REGIME_MODELS = ("rules", "hmm")
# the effective values of the learned layer's options a file leaves out (Strategy.resolved writes them)
DEFAULT_CALIBRATION = "isotonic"
DEFAULT_REFIT_EVERY_BARS = 250
DEFAULT_HMM_OPTIONS: dict[str, Any] = {
    "n_states": 2,
    "train_bars": 1000,
    "min_train_bars": 250,
    "refit_every_bars": 250,
    "vol_bars": 20,
}
_HMM_ONLY = tuple(DEFAULT_HMM_OPTIONS)


def _unset(value: object) -> bool:
    return value is None


class TechnicalSignal(StrictModel):
    """One vote: an indicator with parameters, a condition on it, its timeframe and its weight."""

    indicator: str = Field(min_length=1, description="registry name (`quantdesk indicators list`)")
    params: dict[str, int | float | str] = Field(default_factory=dict)
    condition: Condition
    output: str | None = Field(
        default=None, description="addition: the output line the condition reads (default: the indicator's main line)"
    )
    values: list[float] | None = Field(
        default=None, description="levels: one for comparisons and crosses, [low, high] for between/outside"
    )
    timeframe: SignalTimeframe = "current"
    weight: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _values_fit_condition(self) -> TechnicalSignal:
        cond, values = self.condition, self.values
        if cond in _TWO_VALUES:
            if values is None or len(values) != 2 or values[0] >= values[1]:
                raise ValueError(
                    f"condition {cond!r} needs values [low, high] with low < high (two ascending numbers), "
                    f"found {values}"
                )
        elif cond in _AT_MOST_ONE_VALUE:
            if values is not None and len(values) != 1:
                raise ValueError(f"condition {cond!r} takes at most one value, found {values}")
            if cond in ("rising", "falling") and values is not None and (values[0] < 1 or not values[0].is_integer()):
                raise ValueError(f"condition {cond!r} takes a whole number of bars >= 1 as its value, found {values}")
        elif values is not None:
            raise ValueError(f"condition {cond!r} takes no values, found {values}")
        return self


class FundamentalGate(StrictModel):
    """A hard point-in-time filter on the fundamental analysis module's table (NaN fails a threshold)."""

    min_fscore: int | None = Field(default=None, ge=0, le=9)
    pe_max: float | None = Field(default=None, gt=0)
    pb_max: float | None = Field(default=None, gt=0)
    debt_equity_max: float | None = Field(default=None, ge=0)
    earnings_surprise_min: float | None = None
    roe_min: float | None = None
    eps_growth_min: float | None = None
    pe_percentile_max: float | None = Field(default=None, ge=0, le=100)
    pb_percentile_max: float | None = Field(default=None, ge=0, le=100)
    days_since_earnings_max: float | None = Field(
        default=None, gt=0, description="addition: the last earnings announcement at most this many days ago"
    )
    logic: Literal["ALL_REQUIRED", "ANY", "MAJORITY"] = "ALL_REQUIRED"

    def thresholds(self) -> dict[str, float]:
        """The thresholds set in this gate, by field name."""
        return {name: float(value) for name, value in self.model_dump(exclude={"logic"}).items() if value is not None}

    @model_validator(mode="after")
    def _some_threshold(self) -> FundamentalGate:
        if not self.thresholds():
            raise ValueError("a fundamental gate needs at least one threshold (for example min_fscore or pe_max)")
        return self


class TimeframeAlignment(StrictModel):
    """Addition (plan 3.3): confluence x (1 + ``aligned_bonus``) when every listed timeframe trends with the trade."""

    timeframes: list[TimeframeName] = Field(default_factory=lambda: ["1d", "1h", "15m"], min_length=2)
    fast: int = Field(default=20, ge=1, le=1000, description="trend = EMA(fast) above EMA(slow) on each timeframe")
    slow: int = Field(default=50, ge=2, le=5000)
    aligned_bonus: float = Field(default=0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> TimeframeAlignment:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        if len(set(self.timeframes)) != len(self.timeframes):
            raise ValueError(f"timeframes must be distinct, found {self.timeframes}")
        return self


class DivergencePenalty(StrictModel):
    """Addition (plan 3.3): confluence x (1 - ``penalty``) for ``within_bars`` after a divergence against the trade."""

    oscillator: Literal["RSI", "MACD"] = "RSI"
    within_bars: int = Field(default=10, ge=1, le=1000)
    penalty: float = Field(default=0.5, ge=0, le=1)


class ConfluenceAdjustments(StrictModel):
    timeframe_alignment: TimeframeAlignment | None = None
    divergence: DivergencePenalty | None = None


class InferenceSettings(StrictModel):
    """Addition: what "up" means for P(up | evidence), the model that estimates it (the Bayesian posterior, or a
    calibrated gradient-boosting classifier fitted walk-forward), and an optional floor on it for entries."""

    horizon: BarCount = Field(default=10, description="an outcome is the return over this many base bars")
    min_return: float = Field(default=0.0, ge=-1, le=10, description="up = return over the horizon above this")
    min_labels: int = Field(default=100, ge=10, description="the posterior is undefined until this many outcomes")
    window_labels: int | None = Field(default=None, ge=10, description="count only the latest outcomes (rolling)")
    min_posterior: float | None = Field(default=None, gt=0, lt=1, description="enter only when P(up) >= this")
    model: Literal["bayes", "gradient_boosting"] = Field(
        default="bayes",
        exclude_if=lambda value: value == "bayes",
        description="addition: the Bayesian posterior (default) or a calibrated gradient-boosting classifier",
    )
    calibration: Literal["isotonic", "sigmoid"] | None = Field(
        default=None,
        exclude_if=_unset,
        description=f"gradient_boosting: isotonic (default {DEFAULT_CALIBRATION}) or sigmoid (Platt) calibration",
    )
    refit_every_bars: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        exclude_if=_unset,
        description=f"gradient_boosting: refit every this many base bars (default {DEFAULT_REFIT_EVERY_BARS})",
    )

    @field_validator("calibration", "refit_every_bars")
    @classmethod
    def _classifier_only(cls, value: object, info: ValidationInfo) -> object:
        model = info.data.get("model")
        if value is not None and model == "bayes":
            raise ValueError(f"an option of model 'gradient_boosting', found with model 'bayes' (value {value!r})")
        return value

    @model_validator(mode="after")
    def _horizon_positive(self) -> InferenceSettings:
        if self.horizon < 1:
            raise ValueError(f"horizon must be at least 1_bars, found {self.horizon}_bars")
        if self.model == "gradient_boosting" and self.min_labels < 30:
            raise ValueError(
                "min_labels: model 'gradient_boosting' calibrates on 3 time-ordered folds and needs at least 30 "
                f"outcomes, found {self.min_labels}"
            )
        return self

    def effective_calibration(self) -> Literal["isotonic", "sigmoid"]:
        return self.calibration or DEFAULT_CALIBRATION  # type: ignore[return-value]

    def effective_refit_every_bars(self) -> int:
        return self.refit_every_bars or DEFAULT_REFIT_EVERY_BARS


class RegimeFilter(StrictModel):
    """Addition: enter only on bars whose regime, as known at the bar's close, is one of ``allowed``; by the
    rule-based classifier (``rules``) or a Gaussian hidden Markov model fitted walk-forward (``hmm``)."""

    model: Literal["rules", "hmm"] = Field(description="rules: the rule-based regime; hmm: the learned one")
    n_states: int | None = Field(
        default=None, ge=2, le=4, exclude_if=_unset, description="hmm: the model's states, 2 to 4 (default 2)"
    )
    train_bars: int | Literal["expanding"] | None = Field(
        default=None,
        exclude_if=_unset,
        description="hmm: each fit's window in base bars (default 1000), or 'expanding' for every bar so far",
    )
    min_train_bars: int | None = Field(
        default=None, ge=20, le=100_000, exclude_if=_unset, description="hmm: bars the first fit waits for (250)"
    )
    refit_every_bars: int | None = Field(
        default=None, ge=1, le=100_000, exclude_if=_unset, description="hmm: refit every this many base bars (250)"
    )
    vol_bars: int | None = Field(
        default=None, ge=2, le=10_000, exclude_if=_unset, description="hmm: the rolling volatility's window (20)"
    )
    allowed: list[str] = Field(min_length=1, description="the regimes entries are allowed in")

    @field_validator(*_HMM_ONLY)
    @classmethod
    def _hmm_only(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("model") == "rules":
            raise ValueError(f"an option of model 'hmm', found with model 'rules' (value {value!r})")
        return value

    @field_validator("train_bars", mode="before")
    @classmethod
    def _bars_or_expanding(cls, value: object) -> object:
        whole = isinstance(value, int) and not isinstance(value, bool)
        if value is None or value == "expanding" or (whole and 20 <= value <= 100_000):  # type: ignore[operator]
            return value
        raise ValueError(f"expected a number of bars from 20 to 100000, or 'expanding', found {value!r}")

    @field_validator("allowed")
    @classmethod
    def _known_regimes(cls, value: list[str], info: ValidationInfo) -> list[str]:
        model = info.data.get("model")
        if model is None or "n_states" not in info.data:
            return value  # the model's or n_states' own problem is reported
        states = info.data["n_states"] or DEFAULT_HMM_OPTIONS["n_states"]
        valid = RULE_REGIME_NAMES if model == "rules" else HMM_REGIME_NAMES[states]
        which = "model 'rules'" if model == "rules" else f"model 'hmm' with {states} states"
        unknown = [name for name in value if name not in valid]
        if unknown:
            raise ValueError(f"expected regimes of {which} ({', '.join(valid)}), found {unknown}")
        if len(set(value)) != len(value):
            raise ValueError(f"expected distinct regimes, found {value}")
        return value

    @model_validator(mode="after")
    def _window_holds_the_first_fit(self) -> RegimeFilter:
        train, first = self.train_bars, self.effective("min_train_bars")
        if isinstance(train, int) and train < first:
            raise ValueError(f"train_bars ({train}) must hold the first fit's min_train_bars ({first})")
        return self

    def effective(self, option: str) -> Any:
        """An hmm option's value as the run uses it: the file's, or the default."""
        value = getattr(self, option)
        return DEFAULT_HMM_OPTIONS[option] if value is None else value


class CarryGate(StrictModel):
    """Addition (plan 4.2, carry trade): long only when base minus quote rate >= the minimum; short when <= -it."""

    min_differential_pct: float = Field(default=0.5, ge=0, le=50, description="percentage points a year")


class SignalBlock(StrictModel):
    technical_signals: list[TechnicalSignal] = Field(min_length=1)
    confluence_threshold: float = Field(gt=0, le=1)


class EntryConditions(SignalBlock):
    direction: Literal["long", "short", "both"] = "long"
    fundamental_gate: FundamentalGate | None = None
    carry_gate: CarryGate | None = None
    confirmation_delay: BarCount = 0
    confluence_adjustments: ConfluenceAdjustments | None = None
    inference: InferenceSettings | None = None
    min_composite_score: float | None = Field(default=None, gt=0, le=1)
    regime_filter: RegimeFilter | None = Field(
        default=None, exclude_if=_unset, description="addition: enter only in these regimes (rules or hmm)"
    )


class SignalExit(SignalBlock):
    """Addition to the plan: close the position when these signals' confluence reaches the threshold."""
