"""The nouns of fundamental data: statement items, fiscal periods, and one filed figure (``StatementFact``).

A fact is one number from one filing: an item (``revenue``, ``total_assets``, ...) of one fiscal
period (``fiscal_year`` and ``Q1``..``Q4`` or ``FY``) of one company, with the period's end, the
instant it became known (``known_ns``, from the filing date, never the period end), its source and
form, and a ``version``: a restatement is a later filing of the same (symbol, item, year, period)
and gets the next version, so what was known before stays readable. ``ITEMS`` is the vocabulary
every source maps onto (EDGAR concepts, the long-format import, the synthetic market) and every
score reads from. Flow items (income statement, cash flow) cover the period (a quarter, or the
fiscal year for ``FY``); stock items (balance sheet, shares) are the value at the period end. Money
is in the reporting currency's units (not thousands), per-share items in currency per share.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quantdesk.core.errors import ConfigError

__all__ = [
    "ITEMS",
    "EarningsEvent",
    "FiscalPeriod",
    "InsiderTransaction",
    "ItemDef",
    "ItemKind",
    "RatingChange",
    "Statement",
    "StatementFact",
    "filing_known_ns",
    "item_def",
]


class Statement(StrEnum):
    INCOME = "income"
    BALANCE = "balance"
    CASH_FLOW = "cash_flow"


class ItemKind(StrEnum):
    FLOW = "flow"  # summed over the period (revenue, net income, operating cash flow)
    STOCK = "stock"  # measured at the period end (assets, debt, shares outstanding)


class FiscalPeriod(StrEnum):
    Q1 = "Q1"
    Q2 = "Q2"
    Q3 = "Q3"
    Q4 = "Q4"
    FY = "FY"

    @property
    def quarter(self) -> int:
        """1..4 for a quarter, 4 for the fiscal year (it ends where Q4 ends)."""
        return 4 if self is FiscalPeriod.FY else int(self.value[1])


@dataclass(frozen=True, slots=True)
class ItemDef:
    name: str
    statement: Statement
    kind: ItemKind
    unit: str  # "currency", "shares" or "currency/share"
    description: str


def _items(*defs: tuple[str, Statement, ItemKind, str, str]) -> dict[str, ItemDef]:
    return {name: ItemDef(name, statement, kind, unit, text) for name, statement, kind, unit, text in defs}


_I, _B, _C = Statement.INCOME, Statement.BALANCE, Statement.CASH_FLOW
_F, _S = ItemKind.FLOW, ItemKind.STOCK

ITEMS: dict[str, ItemDef] = _items(
    # income statement
    ("revenue", _I, _F, "currency", "total revenue (net sales)"),
    ("cost_of_revenue", _I, _F, "currency", "cost of goods sold / cost of revenue"),
    ("gross_profit", _I, _F, "currency", "revenue less cost of revenue"),
    ("sga_expense", _I, _F, "currency", "selling, general and administrative expense"),
    ("depreciation_amortization", _I, _F, "currency", "depreciation and amortization expense"),
    ("operating_income", _I, _F, "currency", "operating income (EBIT)"),
    ("interest_expense", _I, _F, "currency", "interest expense"),
    ("pretax_income", _I, _F, "currency", "income before income taxes"),
    ("income_tax", _I, _F, "currency", "income tax expense"),
    ("net_income", _I, _F, "currency", "net income attributable to the company"),
    ("eps_diluted", _I, _F, "currency/share", "diluted earnings per share"),
    ("shares_diluted", _I, _F, "shares", "weighted average diluted shares of the period"),
    # balance sheet
    ("cash", _B, _S, "currency", "cash and cash equivalents"),
    ("short_term_investments", _B, _S, "currency", "marketable securities held as current assets"),
    ("receivables", _B, _S, "currency", "accounts receivable, net"),
    ("inventory", _B, _S, "currency", "inventories"),
    ("current_assets", _B, _S, "currency", "total current assets"),
    ("ppe_net", _B, _S, "currency", "property, plant and equipment, net"),
    ("total_assets", _B, _S, "currency", "total assets"),
    ("current_liabilities", _B, _S, "currency", "total current liabilities"),
    ("short_term_debt", _B, _S, "currency", "short-term debt and the current part of long-term debt"),
    ("long_term_debt", _B, _S, "currency", "long-term debt, non-current part"),
    ("total_liabilities", _B, _S, "currency", "total liabilities"),
    ("retained_earnings", _B, _S, "currency", "retained earnings (accumulated deficit)"),
    ("shareholders_equity", _B, _S, "currency", "total shareholders' equity of the company"),
    ("shares_outstanding", _B, _S, "shares", "common shares outstanding at the period end"),
    # cash flow statement
    ("operating_cash_flow", _C, _F, "currency", "net cash from operating activities"),
    ("capex", _C, _F, "currency", "purchases of property, plant and equipment (a positive number)"),
    ("dividends_paid", _C, _F, "currency", "dividends paid (a positive number)"),
)


def item_def(name: str) -> ItemDef:
    """The definition of item ``name``; an unknown name is a ConfigError listing the valid ones."""
    try:
        return ITEMS[name]
    except KeyError:
        raise ConfigError(f"unknown statement item {name!r}; valid items: {', '.join(ITEMS)}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementFact:
    """One figure of one filing. ``known_ns``: int64 UTC ns when it became public (the filing)."""

    symbol: str
    item: str
    fiscal_year: int
    fiscal_period: FiscalPeriod
    period_end: str  # ISO date, YYYY-MM-DD
    known_ns: int
    value: float
    source: str = ""
    form: str = ""  # 10-Q, 10-K, 10-K/A, ...
    version: int = 1  # 1 for the first filing of this (symbol, item, year, period), then 2, 3 ...


@dataclass(frozen=True, slots=True, kw_only=True)
class EarningsEvent:
    """One earnings announcement: the consensus estimate before it and what was reported."""

    symbol: str
    fiscal_year: int
    fiscal_period: FiscalPeriod
    announced_ns: int  # int64 UTC ns
    eps_estimate: float
    eps_actual: float
    source: str = ""

    @property
    def surprise(self) -> float:
        """(actual - estimate) / |estimate|; NaN when the estimate is 0."""
        if self.eps_estimate == 0:
            return float("nan")
        return (self.eps_actual - self.eps_estimate) / abs(self.eps_estimate)


@dataclass(frozen=True, slots=True, kw_only=True)
class InsiderTransaction:
    """One insider trade as reported (Form 4): ``shares`` > 0 bought, < 0 sold."""

    symbol: str
    filed_ns: int  # int64 UTC ns when the report became public
    insider: str
    role: str  # "CEO", "CFO", "Director", ...
    shares: float
    price: float
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingChange:
    """One analyst's rating or price-target change. Ratings: "sell", "underperform", "hold", "outperform", "buy"."""

    symbol: str
    announced_ns: int  # int64 UTC ns
    firm: str
    from_rating: str
    to_rating: str
    price_target: float  # NaN when none was given
    source: str = ""


def filing_known_ns(filed: str) -> int:
    """When a filing dated ``filed`` (YYYY-MM-DD) is known: the end of that day in New York, so a daily
    bar closing that day does not see it and the next session's bars do. A full timestamp is exact."""
    import pandas as pd

    try:
        stamp = pd.Timestamp(filed)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"filing date: expected YYYY-MM-DD or an ISO 8601 time, found {filed!r}") from exc
    if stamp is pd.NaT:
        raise ConfigError(f"filing date: expected YYYY-MM-DD or an ISO 8601 time, found {filed!r}")
    if stamp.tzinfo is not None:
        return int(stamp.tz_convert("UTC").as_unit("ns").value)
    if stamp != stamp.normalize():
        return int(stamp.tz_localize("UTC").as_unit("ns").value)
    end_of_day = (stamp + pd.Timedelta(days=1)).tz_localize("America/New_York")
    return int(end_of_day.tz_convert("UTC").as_unit("ns").value)
