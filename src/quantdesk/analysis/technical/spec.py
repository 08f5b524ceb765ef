"""What an indicator is, as the registry describes it: ``ParamSpec`` and ``IndicatorSpec``.

Every indicator module (trend, momentum, volatility, volume, structure, patterns, the TA-Lib
catalogue) declares its indicators as ``IndicatorSpec`` values in a module-level ``SPECS`` tuple;
``registry`` collects them. A spec carries the name strategies use, typed parameters with defaults
and ranges (or choices), the output columns, the warm-up (bars before the first value), a category,
a one-line description, and ``compute``: ``Bars`` and resolved parameters in, one float64 array per
output out, NaN during warm-up. Event outputs (a cross, a pattern) are 1.0/0.0 (or +1/-1 for a
direction) once defined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.core.errors import ConfigError
from quantdesk.domain.bars import Bars
from quantdesk.kernels import derived

ParamValue = int | float | str
Params = Mapping[str, Any]
Outputs = dict[str, np.ndarray]
CATEGORIES = ("trend", "momentum", "volatility", "volume", "structure", "pattern", "divergence", "statistic", "other")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    """One parameter: its type (int, float or str), default, and range or choices."""

    name: str
    kind: type
    default: ParamValue
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def coerce(self, value: Any, where: str) -> ParamValue:
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise ConfigError(f"{where}: expected one of {', '.join(self.choices)}, found {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"{where}: expected a {'whole number' if self.kind is int else 'number'}, found {value!r}"
            )
        if self.kind is int and float(value) != int(value):
            raise ConfigError(f"{where}: expected a whole number, found {value!r}")
        number: int | float = int(value) if self.kind is int else float(value)
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            raise ConfigError(f"{where}: expected {self.range_text()}, found {value!r}")
        return number

    def range_text(self) -> str:
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        low = "" if self.minimum is None else f"{_fmt(self.minimum)} <= "
        high = "" if self.maximum is None else f" <= {_fmt(self.maximum)}"
        return f"{low}{self.name}{high}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind.__name__, "default": self.default}
        if self.choices:
            out["choices"] = list(self.choices)
        else:
            out["minimum"] = self.minimum
            out["maximum"] = self.maximum
        out["description"] = self.description
        return out


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def period(name: str, default: int, description: str, minimum: int = 1, maximum: int = 100_000) -> ParamSpec:
    return ParamSpec(name=name, kind=int, default=default, minimum=minimum, maximum=maximum, description=description)


def number(name: str, default: float, description: str, minimum: float, maximum: float) -> ParamSpec:
    return ParamSpec(name=name, kind=float, default=default, minimum=minimum, maximum=maximum, description=description)


def choice(name: str, default: str, choices: tuple[str, ...], description: str) -> ParamSpec:
    return ParamSpec(name=name, kind=str, default=default, choices=choices, description=description)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorSpec:
    """A named indicator: parameters, outputs, warm-up and how to compute it from bars.

    ``warmup(params)`` is the number of leading bars on which some output has no value yet (NaN);
    with ``warmup_exact`` every output has a value from that bar on. An indicator whose first value
    waits on the data (a recent swing low waits for the first pivot) sets ``warmup_exact`` False and
    gives the least warm-up possible. ``line_pair`` names (fast, slow) lines that
    ``crossover``/``greater_than`` conditions compare with each other. ``check`` is a rule between
    parameters, answering a message when broken. ``source`` says what computes it: ``talib``,
    ``numba`` or ``numpy``.
    """

    name: str
    category: str
    description: str
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]
    warmup: Callable[[Params], int]
    compute: Callable[[Bars, Params], Outputs]
    source: str
    inputs: tuple[str, ...] = ("close",)
    line_pair: tuple[str, str] | None = None
    check: Callable[[Params], str | None] | None = None
    warmup_exact: bool = True
    alias_of: str | None = None

    @property
    def primary(self) -> str:
        return self.outputs[0]

    def defaults(self) -> dict[str, ParamValue]:
        return {p.name: p.default for p in self.params}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "params": [p.to_dict() for p in self.params],
            "outputs": list(self.outputs),
            "inputs": list(self.inputs),
            "warmup_default": self.warmup(self.defaults()),
            "source": self.source,
            "alias_of": self.alias_of,
        }


def nan_before(values: np.ndarray, warmup: int) -> np.ndarray:
    """``values`` as float64 with the first ``warmup`` entries NaN (a copy when it must change)."""
    out = np.array(values, dtype=np.float64, copy=True)
    out[: max(0, min(warmup, len(out)))] = np.nan
    return out


def cross_events(fast: np.ndarray, slow: np.ndarray, warmup: int) -> tuple[np.ndarray, np.ndarray]:
    """(cross_up, cross_down): 1.0 on the bar where ``fast`` closes above/below ``slow`` having been
    at or beyond it on the bar before, else 0.0; NaN until both lines exist on this bar and the one
    before (the first ``warmup + 1`` bars)."""
    block = np.empty((2, len(fast)), dtype=np.float64)
    derived.cross_events(
        np.ascontiguousarray(fast, dtype=np.float64), np.ascontiguousarray(slow, dtype=np.float64), int(warmup), block
    )
    return block[0], block[1]
