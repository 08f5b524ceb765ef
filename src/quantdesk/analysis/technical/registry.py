"""The registry of named indicators that strategies, the CLI, the API and the UI share.

Each entry says what an indicator is called, its parameters (type, default, range), its output
columns, how many bars it needs before its first value (warm-up), its category and a one-line
description, and computes it from ``Bars``. Standard indicators come from TA-Lib (C, what traders
compare against). A strategy names an indicator and its parameters; ``resolve`` checks both and
answers an unknown name or a bad parameter with a ``ConfigError`` that lists what is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import talib

from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars

Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    name: str
    kind: type  # int or float
    default: int | float
    minimum: int | float
    maximum: int | float
    description: str

    def coerce(self, value: Any, where: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a {self.kind.__name__}, found {value!r}")
        if self.kind is int and float(value) != int(value):
            raise ConfigError(f"{where}: expected a whole number, found {value!r}")
        number = self.kind(value)
        if not (self.minimum <= number <= self.maximum):
            raise ConfigError(f"{where}: expected {self.minimum} <= {self.name} <= {self.maximum}, found {value!r}")
        return number


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorSpec:
    name: str
    category: str
    description: str
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]
    warmup: Callable[[Params], int]
    compute: Callable[[Bars, Params], dict[str, np.ndarray]]
    line_pair: tuple[str, str] | None = None  # (fast, slow) for crossover conditions on a pair of lines

    @property
    def primary(self) -> str:
        return self.outputs[0]

    def defaults(self) -> dict[str, int | float]:
        return {p.name: p.default for p in self.params}


def _period(name: str, default: int, description: str) -> ParamSpec:
    return ParamSpec(name=name, kind=int, default=default, minimum=1, maximum=100_000, description=description)


def _ma_cross(ma: Callable[..., np.ndarray]) -> Callable[[Bars, Params], dict[str, np.ndarray]]:
    def compute(bars: Bars, params: Params) -> dict[str, np.ndarray]:
        fast = ma(bars.close, timeperiod=int(params["fast"]))
        slow = ma(bars.close, timeperiod=int(params["slow"]))
        above = fast > slow
        below = fast < slow
        cross_up = np.zeros(len(fast), dtype=np.float64)
        cross_down = np.zeros(len(fast), dtype=np.float64)
        cross_up[1:] = above[1:] & (fast[:-1] <= slow[:-1])
        cross_down[1:] = below[1:] & (fast[:-1] >= slow[:-1])
        # an event needs both lines on this bar and the one before: undefined (NaN) until then
        warm = min(len(fast), int(max(params["fast"], params["slow"])))
        cross_up[:warm] = np.nan
        cross_down[:warm] = np.nan
        return {"fast": fast, "slow": slow, "cross_up": cross_up, "cross_down": cross_down}

    return compute


def _single(fn: Callable[..., np.ndarray]) -> Callable[[Bars, Params], dict[str, np.ndarray]]:
    def compute(bars: Bars, params: Params) -> dict[str, np.ndarray]:
        return {"value": fn(bars.close, timeperiod=int(params["period"]))}

    return compute


def _cross_spec(name: str, ma_name: str, ma: Callable[..., np.ndarray]) -> IndicatorSpec:
    return IndicatorSpec(
        name=name,
        category="trend",
        description=f"fast and slow {ma_name} of the close, with cross-up and cross-down events",
        params=(
            _period("fast", 9, f"fast {ma_name} period in bars"),
            _period("slow", 21, f"slow {ma_name} period in bars"),
        ),
        outputs=("fast", "slow", "cross_up", "cross_down"),
        warmup=lambda p: int(max(p["fast"], p["slow"])),
        compute=_ma_cross(ma),
        line_pair=("fast", "slow"),
    )


_SPECS = (
    IndicatorSpec(
        name="SMA",
        category="trend",
        description="simple moving average of the close",
        params=(_period("period", 20, "window in bars"),),
        outputs=("value",),
        warmup=lambda p: int(p["period"]) - 1,
        compute=_single(talib.SMA),
    ),
    IndicatorSpec(
        name="EMA",
        category="trend",
        description="exponential moving average of the close (seeded with the SMA of its first window)",
        params=(_period("period", 20, "span in bars"),),
        outputs=("value",),
        warmup=lambda p: int(p["period"]) - 1,
        compute=_single(talib.EMA),
    ),
    _cross_spec("EMA_Cross", "EMA", talib.EMA),
    _cross_spec("SMA_Cross", "SMA", talib.SMA),
)

INDICATORS: Mapping[str, IndicatorSpec] = {s.name: s for s in _SPECS}


def get_indicator(name: str, where: str = "indicator") -> IndicatorSpec:
    spec = INDICATORS.get(name)
    if spec is None:
        raise ConfigError(f"{where}: unknown indicator {name!r}; valid indicators: {', '.join(sorted(INDICATORS))}")
    return spec


def resolve_params(spec: IndicatorSpec, params: Params, where: str = "params") -> dict[str, int | float]:
    """``params`` checked against ``spec`` and completed with defaults."""
    valid = {p.name: p for p in spec.params}
    unknown = sorted(set(params) - set(valid))
    if unknown:
        names = ", ".join(valid) or "none"
        raise ConfigError(f"{where}: unknown parameter {unknown[0]!r} for {spec.name}; valid parameters: {names}")
    out = spec.defaults()
    for key, value in params.items():
        out[key] = valid[key].coerce(value, f"{where}.{key}")
    if spec.line_pair and out["fast"] >= out["slow"]:
        raise ConfigError(
            f"{where}: expected fast < slow for {spec.name}, found fast={out['fast']}, slow={out['slow']}"
        )
    return out


def compute_indicator(name: str, bars: Bars, params: Params | None = None) -> dict[str, np.ndarray]:
    """Every output column of indicator ``name`` over ``bars`` (NaN during warm-up)."""
    spec = get_indicator(name)
    resolved = resolve_params(spec, params or {})
    return spec.compute(bars, resolved)
