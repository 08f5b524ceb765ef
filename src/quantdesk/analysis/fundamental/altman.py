"""Altman's Z-Scores of bankruptcy risk from one fiscal year's statements: the original Z of 1968 for
public manufacturers and the Z'' for non-manufacturers and emerging markets.

Sources: E. I. Altman (1968), "Financial Ratios, Discriminant Analysis and the Prediction of Corporate
Bankruptcy", Journal of Finance 23(4), pp. 589-609: Z = 1.2 X1 + 1.4 X2 + 3.3 X3 + 0.6 X4 + 1.0 X5 (the
paper prints .012, .014, .033, .006 and .999 with X1..X4 in percent; this is the usual form with all
ratios as fractions) and its zone of ignorance 1.81-2.99. Z'' (four variables, no sales/assets, book
equity in X4, zones 1.10-2.60): Altman, Hartzell and Peck (1995), "Emerging Markets Corporate Bonds: A
Scoring System", and E. I. Altman and E. Hotchkiss (2006), "Corporate Financial Distress and
Bankruptcy", 3rd ed., Wiley. The emerging-market variant Z''-EM adds a constant 3.25; it is not this
function.

Figures: X1 = (current_assets - current_liabilities) / total_assets, X2 = retained_earnings /
total_assets, X3 = EBIT / total_assets with EBIT = ``operating_income``, X4 = market value of equity
(Z) or ``shareholders_equity`` (Z'') / total_liabilities, X5 = revenue / total_assets. A missing figure
leaves its ratio, ``z`` and ``zone`` as ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from quantdesk.analysis.fundamental._inputs import FiscalYear, json_float, ratio, read_year, real_number

__all__ = [
    "ALTMAN_Z_1968",
    "ALTMAN_Z_DOUBLE_PRIME",
    "AltmanModel",
    "AltmanRatio",
    "AltmanZ",
    "AltmanZone",
    "altman_z",
    "altman_z_double_prime",
]


class AltmanZone(StrEnum):
    SAFE = "safe"
    GREY = "grey"
    DISTRESS = "distress"


@dataclass(frozen=True, slots=True, kw_only=True)
class AltmanModel:
    """A Z model's coefficients (X1, X2, ...) and zone bounds: safe when z > ``safe_above``, distress when
    z < ``distress_below``, grey in between (bounds included)."""

    name: str
    coefficients: tuple[float, ...]
    safe_above: float
    distress_below: float

    def zone(self, z: float) -> AltmanZone:
        if z > self.safe_above:
            return AltmanZone.SAFE
        if z < self.distress_below:
            return AltmanZone.DISTRESS
        return AltmanZone.GREY


ALTMAN_Z_1968 = AltmanModel(
    name="Altman (1968) Z, public manufacturers",
    coefficients=(1.2, 1.4, 3.3, 0.6, 1.0),
    safe_above=2.99,
    distress_below=1.81,
)
ALTMAN_Z_DOUBLE_PRIME = AltmanModel(
    name="Altman Z'', non-manufacturers and emerging markets",
    coefficients=(6.56, 3.26, 6.72, 1.05),
    safe_above=2.60,
    distress_below=1.10,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AltmanRatio:
    """One X: its numerator and denominator, its value, its coefficient and coefficient * value."""

    name: str  # "X1" .. "X5"
    definition: str
    numerator: float | None
    denominator: float | None
    value: float | None
    coefficient: float
    contribution: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "definition": self.definition,
            "numerator": json_float(self.numerator),
            "denominator": json_float(self.denominator),
            "value": json_float(self.value),
            "coefficient": self.coefficient,
            "contribution": json_float(self.contribution),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AltmanZ:
    """A Z-Score: the model, each X, the figures read, ``z`` and its zone (``None`` when not computable)."""

    model: AltmanModel
    ratios: tuple[AltmanRatio, ...]
    inputs: dict[str, float | None]
    z: float | None
    zone: AltmanZone | None

    def ratio(self, name: str) -> AltmanRatio:
        return next(item for item in self.ratios if item.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "coefficients": list(self.model.coefficients),
            "safe_above": self.model.safe_above,
            "distress_below": self.model.distress_below,
            "ratios": [item.to_dict() for item in self.ratios],
            "inputs": {key: json_float(value) for key, value in self.inputs.items()},
            "z": json_float(self.z),
            "zone": None if self.zone is None else self.zone.value,
        }


def altman_z(current: Mapping[str, float], *, market_value_equity: float) -> AltmanZ:
    """The original Z (Altman 1968) of one fiscal year; ``market_value_equity`` in the statements' currency
    units (price x shares at the fiscal year end, or when the score is used). NaN means unknown."""
    year = read_year(current, label="current")
    equity = real_number(market_value_equity, what="market_value_equity")
    x4 = ("market value of equity / total liabilities", "market_value_equity", None if math.isnan(equity) else equity)
    return _score(ALTMAN_Z_1968, year, x4, with_sales=True)


def altman_z_double_prime(current: Mapping[str, float]) -> AltmanZ:
    """Z'' of one fiscal year: book equity (``shareholders_equity``) in X4 and no sales / total assets."""
    year = read_year(current, label="current")
    x4 = (
        "book value of equity / total liabilities",
        year.key("shareholders_equity"),
        year.get("shareholders_equity"),
    )
    return _score(ALTMAN_Z_DOUBLE_PRIME, year, x4, with_sales=False)


def _score(model: AltmanModel, year: FiscalYear, x4: tuple[str, str, float | None], *, with_sales: bool) -> AltmanZ:
    assets = year.get("total_assets")
    current_assets, current_liabilities = year.get("current_assets"), year.get("current_liabilities")
    working_capital = (
        None if current_assets is None or current_liabilities is None else current_assets - current_liabilities
    )
    x4_definition, x4_key, x4_numerator = x4
    parts: list[tuple[str, float | None, float | None]] = [
        ("working capital / total assets", working_capital, assets),
        ("retained earnings / total assets", year.get("retained_earnings"), assets),
        ("EBIT (operating income) / total assets", year.get("operating_income"), assets),
        (x4_definition, x4_numerator, year.get("total_liabilities")),
    ]
    if with_sales:
        parts.append(("sales (revenue) / total assets", year.get("revenue"), assets))
    ratios = tuple(
        _ratio(f"X{number}", definition, numerator, denominator, coefficient)
        for number, ((definition, numerator, denominator), coefficient) in enumerate(
            zip(parts, model.coefficients, strict=True), start=1
        )
    )
    inputs: dict[str, float | None] = {
        year.key(item): year.get(item)
        for item in ("current_assets", "current_liabilities", "retained_earnings", "operating_income")
    }
    inputs[x4_key] = x4_numerator
    inputs[year.key("total_liabilities")] = year.get("total_liabilities")
    inputs[year.key("total_assets")] = assets
    if with_sales:
        inputs[year.key("revenue")] = year.get("revenue")
    contributions = [item.contribution for item in ratios]
    z = None if any(value is None for value in contributions) else math.fsum(v for v in contributions if v is not None)
    return AltmanZ(model=model, ratios=ratios, inputs=inputs, z=z, zone=None if z is None else model.zone(z))


def _ratio(
    name: str, definition: str, numerator: float | None, denominator: float | None, coefficient: float
) -> AltmanRatio:
    value = ratio(numerator, denominator)
    return AltmanRatio(
        name=name,
        definition=definition,
        numerator=numerator,
        denominator=denominator,
        value=value,
        coefficient=coefficient,
        contribution=None if value is None else coefficient * value,
    )
