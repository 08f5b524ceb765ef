"""The shared edge of the quality scores (Piotroski F, Altman Z, Beneish M): one fiscal year's statement
figures as a validated ``FiscalYear``, the safe ratio every score divides with, and the JSON form of a
number. A year is a mapping keyed by the names in ``quantdesk.domain.fundamentals.ITEMS``; a missing
figure is absent (or NaN) and reads as ``None``, so a score marks what it cannot compute instead of
raising. A bad shape or type (not a mapping, an unknown item, a value that is not a number) is a
``ConfigError`` naming the argument, the item, what was expected and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real

from quantdesk.core.errors import ConfigError
from quantdesk.domain.fundamentals import ITEMS

__all__ = ["FiscalYear", "json_float", "ratio", "read_year", "real_number"]


@dataclass(frozen=True, slots=True)
class FiscalYear:
    """One fiscal year's figures under a label (``current``, ``prior``, ``prior2``) used to name inputs."""

    label: str
    figures: Mapping[str, float]  # only finite figures; a missing item is absent

    def get(self, item: str) -> float | None:
        return self.figures.get(item)

    def key(self, item: str) -> str:
        """How an input is named in a result's ``inputs``: ``prior.total_assets``."""
        return f"{self.label}.{item}"

    def gross_profit(self) -> float | None:
        """``gross_profit``, or ``revenue - cost_of_revenue`` when gross profit is not reported."""
        reported = self.get("gross_profit")
        if reported is not None:
            return reported
        revenue, cost = self.get("revenue"), self.get("cost_of_revenue")
        if revenue is None or cost is None:
            return None
        return revenue - cost

    def gross_margin_inputs(self) -> dict[str, float | None]:
        """The figures a gross margin was computed from, keyed for a result's ``inputs``."""
        inputs = {self.key("revenue"): self.get("revenue")}
        if self.get("gross_profit") is not None:
            inputs[self.key("gross_profit")] = self.get("gross_profit")
        else:
            inputs[self.key("cost_of_revenue")] = self.get("cost_of_revenue")
        return inputs

    def gross_margin(self) -> float | None:
        return ratio(self.gross_profit(), self.get("revenue"))


def read_year(values: object, *, label: str) -> FiscalYear:
    """Validate one year's mapping (argument ``label``) into a ``FiscalYear``; NaN reads as missing."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{label}: expected a mapping of statement item to number, found {type(values).__name__}")
    figures: dict[str, float] = {}
    for item, value in values.items():
        if not isinstance(item, str) or item not in ITEMS:
            raise ConfigError(f"{label}: unknown statement item {item!r}; valid items: {', '.join(ITEMS)}")
        number = real_number(value, what=f"{label}[{item!r}]")
        if math.isfinite(number):
            figures[item] = number
        elif not math.isnan(number):
            raise ConfigError(f"{label}[{item!r}]: expected a finite number or NaN (missing), found {number!r}")
    return FiscalYear(label, figures)


def real_number(value: object, *, what: str) -> float:
    """``value`` as a float; a bool, a string or any non-real is a ConfigError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ConfigError(f"{what}: expected a number, found {type(value).__name__} {value!r}")
    return float(value)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``; ``None`` when either is missing or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def json_float(value: float | None) -> float | None:
    """A number for JSON: NaN and infinities become ``None`` (JSON has no such numbers)."""
    if value is None or not math.isfinite(value):
        return None
    return value
