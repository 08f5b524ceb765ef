"""Beneish's M-Score: the eight-variable probit model of earnings manipulation, from two fiscal years.

Source: M. D. Beneish (1999), "The Detection of Earnings Manipulation", Financial Analysts Journal 55(5),
pp. 24-36: M = -4.84 + 0.920 DSRI + 0.528 GMI + 0.404 AQI + 0.892 SGI + 0.115 DEPI - 0.172 SGAI
+ 4.679 TATA - 0.327 LVGI, a likely manipulator when M > -1.78 (the paper's cut-off for this model);
-2.22 is the other cut-off in common use (``BENEISH_THRESHOLD_ALTERNATIVE``).

Variables, t = ``current``, t-1 = ``prior``, sales = ``revenue``:
- DSRI = (receivables_t / sales_t) / (receivables_t-1 / sales_t-1)
- GMI = gross margin_t-1 / gross margin_t; gross margin = gross_profit / revenue, or
  (revenue - cost_of_revenue) / revenue when gross profit is absent
- AQI = [1 - (current_assets_t + ppe_net_t) / total_assets_t] / [same at t-1]. The paper's asset
  quality is the share of assets other than current assets and PP&E. Later restatements add
  "securities" meaning long-term investments; the item vocabulary has none, and its
  ``short_term_investments`` are already inside ``current_assets``, so adding them would count them twice.
- SGI = sales_t / sales_t-1
- DEPI = rate_t-1 / rate_t with rate = depreciation / (depreciation + ppe_net), read from
  ``depreciation_amortization`` (the vocabulary does not split amortization out)
- SGAI = (sga_expense_t / sales_t) / (sga_expense_t-1 / sales_t-1)
- LVGI = [(current_liabilities_t + long_term_debt_t) / total_assets_t] / [same at t-1]. Total debt is
  current liabilities plus the non-current ``long_term_debt``: ``current_liabilities`` already include
  ``short_term_debt`` (short-term borrowings and the current part of long-term debt), so it is not
  added again. This is the paper's Compustat definition (current liabilities + long-term debt).
- TATA = (net_income_t - operating_cash_flow_t) / total_assets_t. The paper computes accruals from
  balance-sheet changes; income from continuing operations minus cash from operations is the cash-flow
  form (Beneish, Lee and Nichols 2013), with ``net_income`` standing in for continuing income.
A variable whose figures are missing (or whose denominator is zero) is not computable, and so is M.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from quantdesk.analysis.fundamental._inputs import FiscalYear, json_float, ratio, read_year, real_number
from quantdesk.core.errors import ConfigError

__all__ = [
    "BENEISH_INTERCEPT",
    "BENEISH_THRESHOLD_ALTERNATIVE",
    "BENEISH_THRESHOLD_EIGHT_VARIABLE",
    "BeneishM",
    "BeneishVariable",
    "beneish_mscore",
]

BENEISH_INTERCEPT = -4.84
BENEISH_THRESHOLD_EIGHT_VARIABLE = -1.78  # Beneish (1999), the eight-variable model
BENEISH_THRESHOLD_ALTERNATIVE = -2.22  # the cut-off widely quoted by practitioners


@dataclass(frozen=True, slots=True, kw_only=True)
class BeneishVariable:
    """One index: the figures read, the year-t and year-t-1 parts, its value, coefficient and contribution."""

    name: str  # "DSRI", "GMI", ...
    definition: str
    inputs: dict[str, float | None]
    current_part: float | None  # the year-t ratio (SGI: sales_t; TATA: the whole variable)
    prior_part: float | None  # the year t-1 ratio (SGI: sales_t-1; TATA: None, it has no t-1 part)
    value: float | None
    coefficient: float
    contribution: float | None

    @property
    def computable(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "definition": self.definition,
            "inputs": {key: json_float(value) for key, value in self.inputs.items()},
            "current_part": json_float(self.current_part),
            "prior_part": json_float(self.prior_part),
            "value": json_float(self.value),
            "coefficient": self.coefficient,
            "contribution": json_float(self.contribution),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BeneishM:
    """The M-Score: the eight variables, M, the threshold and the verdict (``None`` when not computable)."""

    intercept: float
    variables: tuple[BeneishVariable, ...]
    m: float | None
    threshold: float
    likely_manipulator: bool | None  # m > threshold

    @property
    def computable(self) -> int:
        return sum(1 for variable in self.variables if variable.computable)

    def variable(self, name: str) -> BeneishVariable:
        return next(variable for variable in self.variables if variable.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "Beneish (1999) eight-variable M-Score",
            "intercept": self.intercept,
            "variables": [variable.to_dict() for variable in self.variables],
            "m": json_float(self.m),
            "threshold": self.threshold,
            "likely_manipulator": self.likely_manipulator,
            "computable": self.computable,
        }


def beneish_mscore(
    current: Mapping[str, float],
    prior: Mapping[str, float],
    *,
    threshold: float = BENEISH_THRESHOLD_EIGHT_VARIABLE,
) -> BeneishM:
    """The M-Score of fiscal year t (``current``) against t-1 (``prior``); flagged when M > ``threshold``."""
    t = read_year(current, label="current")
    t1 = read_year(prior, label="prior")
    cutoff = real_number(threshold, what="threshold")
    if not math.isfinite(cutoff):
        raise ConfigError(f"threshold: expected a finite number, found {cutoff!r}")
    variables = tuple(build(t, t1) for build in _VARIABLES)
    contributions = [variable.contribution for variable in variables]
    m = None
    if all(value is not None for value in contributions):
        m = BENEISH_INTERCEPT + math.fsum(value for value in contributions if value is not None)
    return BeneishM(
        intercept=BENEISH_INTERCEPT,
        variables=variables,
        m=m,
        threshold=cutoff,
        likely_manipulator=None if m is None else m > cutoff,
    )


def _index(
    name: str,
    definition: str,
    coefficient: float,
    inputs: dict[str, float | None],
    current_part: float | None,
    prior_part: float | None,
    value: float | None,
) -> BeneishVariable:
    return BeneishVariable(
        name=name,
        definition=definition,
        inputs=inputs,
        current_part=current_part,
        prior_part=prior_part,
        value=value,
        coefficient=coefficient,
        contribution=None if value is None else coefficient * value,
    )


def _read(year: FiscalYear, *items: str) -> dict[str, float | None]:
    return {year.key(item): year.get(item) for item in items}


def _dsri(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    part = ratio(t.get("receivables"), t.get("revenue"))
    prior_part = ratio(t1.get("receivables"), t1.get("revenue"))
    return _index(
        "DSRI",
        "(receivables_t / sales_t) / (receivables_t-1 / sales_t-1)",
        0.920,
        {**_read(t, "receivables", "revenue"), **_read(t1, "receivables", "revenue")},
        part,
        prior_part,
        ratio(part, prior_part),
    )


def _gmi(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    margin, prior_margin = t.gross_margin(), t1.gross_margin()
    return _index(
        "GMI",
        "gross margin_t-1 / gross margin_t",
        0.528,
        {**t.gross_margin_inputs(), **t1.gross_margin_inputs()},
        margin,
        prior_margin,
        ratio(prior_margin, margin),
    )


def _soft_assets_share(year: FiscalYear) -> float | None:
    current_assets, ppe = year.get("current_assets"), year.get("ppe_net")
    if current_assets is None or ppe is None:
        return None
    hard_share = ratio(current_assets + ppe, year.get("total_assets"))
    return None if hard_share is None else 1.0 - hard_share


def _aqi(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    part, prior_part = _soft_assets_share(t), _soft_assets_share(t1)
    items = ("current_assets", "ppe_net", "total_assets")
    return _index(
        "AQI",
        "[1 - (current assets_t + PP&E_t) / total assets_t] / [same at t-1]",
        0.404,
        {**_read(t, *items), **_read(t1, *items)},
        part,
        prior_part,
        ratio(part, prior_part),
    )


def _sgi(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    sales, prior_sales = t.get("revenue"), t1.get("revenue")
    return _index(
        "SGI",
        "sales_t / sales_t-1",
        0.892,
        {**_read(t, "revenue"), **_read(t1, "revenue")},
        sales,
        prior_sales,
        ratio(sales, prior_sales),
    )


def _depreciation_rate(year: FiscalYear) -> float | None:
    depreciation, ppe = year.get("depreciation_amortization"), year.get("ppe_net")
    if depreciation is None or ppe is None:
        return None
    return ratio(depreciation, depreciation + ppe)


def _depi(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    rate, prior_rate = _depreciation_rate(t), _depreciation_rate(t1)
    items = ("depreciation_amortization", "ppe_net")
    return _index(
        "DEPI",
        "depreciation rate_t-1 / depreciation rate_t, rate = depreciation / (depreciation + PP&E)",
        0.115,
        {**_read(t, *items), **_read(t1, *items)},
        rate,
        prior_rate,
        ratio(prior_rate, rate),
    )


def _sgai(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    part = ratio(t.get("sga_expense"), t.get("revenue"))
    prior_part = ratio(t1.get("sga_expense"), t1.get("revenue"))
    return _index(
        "SGAI",
        "(SG&A_t / sales_t) / (SG&A_t-1 / sales_t-1)",
        -0.172,
        {**_read(t, "sga_expense", "revenue"), **_read(t1, "sga_expense", "revenue")},
        part,
        prior_part,
        ratio(part, prior_part),
    )


def _leverage(year: FiscalYear) -> float | None:
    current_liabilities, long_term_debt = year.get("current_liabilities"), year.get("long_term_debt")
    if current_liabilities is None or long_term_debt is None:
        return None
    return ratio(current_liabilities + long_term_debt, year.get("total_assets"))


def _lvgi(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    part, prior_part = _leverage(t), _leverage(t1)
    items = ("current_liabilities", "long_term_debt", "total_assets")
    return _index(
        "LVGI",
        "[(current liabilities_t + long-term debt_t) / total assets_t] / [same at t-1]",
        -0.327,
        {**_read(t, *items), **_read(t1, *items)},
        part,
        prior_part,
        ratio(part, prior_part),
    )


def _tata(t: FiscalYear, t1: FiscalYear) -> BeneishVariable:
    net_income, cash_flow = t.get("net_income"), t.get("operating_cash_flow")
    accruals = None if net_income is None or cash_flow is None else net_income - cash_flow
    value = ratio(accruals, t.get("total_assets"))
    return _index(
        "TATA",
        "(net income_t - operating cash flow_t) / total assets_t",
        4.679,
        _read(t, "net_income", "operating_cash_flow", "total_assets"),
        value,
        None,
        value,
    )


_VARIABLES: tuple[Callable[[FiscalYear, FiscalYear], BeneishVariable], ...] = (
    _dsri,
    _gmi,
    _aqi,
    _sgi,
    _depi,
    _sgai,
    _lvgi,
    _tata,
)
