"""A company's valuation as known at one time: a DCF from its own trailing figures, the WACC x growth
sensitivity, and its multiples against its sector peers. This is what ``quantdesk fundamentals value``
prints.

Inputs, all as known at t:
- **Year-0 FCFF**: built from the TTM figures (``FCFFComponents``). EBIT is operating income and
  D&A and capex are the TTM figures. The tax rate is income tax / pretax income, clipped to
  [0, 35 %], or the assumption's tax rate when that ratio cannot be formed. The change in working
  capital is the change over the year of (current assets − cash − short-term investments) −
  (current liabilities − short-term debt).
- **Net debt**: debt − cash − short-term investments.
- **Shares**: the latest shares outstanding.
- **WACC**: given, or by CAPM with the given beta. The cost of debt is TTM interest / debt (the
  assumption's cost when there is no debt), and the weights are market values (price × shares for
  equity, book debt).
- **Forecast**: ``years`` years growing at ``growth``, then Gordon growth at ``terminal_growth``.
Peers are the companies of the same sector in ``fundamental_table``; multiples that are not meaningful
are left out, as ``valuation.relative_valuation`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.analysis.fundamental.statements import FinancialHistory
from quantdesk.analysis.fundamental.valuation import (
    CompanyFundamentals,
    DCFResult,
    FCFFComponents,
    RelativeValuation,
    WaccInputs,
    dcf,
    dcf_sensitivity,
    relative_valuation,
)
from quantdesk.core.errors import ConfigError, DataError

__all__ = ["ValuationAssumptions", "ValuationReport", "company_fundamentals", "value_company"]

MAX_TAX_RATE = 0.35


@dataclass(frozen=True, kw_only=True)
class ValuationAssumptions:
    """Annual fractions. ``wacc`` None: CAPM from ``risk_free``, ``beta`` and ``equity_risk_premium``."""

    years: int = 5
    growth: float = 0.05
    terminal_growth: float = 0.025
    wacc: float | None = None
    risk_free: float = 0.04
    beta: float = 1.0
    equity_risk_premium: float = 0.05
    tax_rate: float = 0.21
    cost_of_debt: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.years, bool) or not isinstance(self.years, int) or not 1 <= self.years <= 30:
            raise ConfigError(f"years: expected an integer from 1 to 30, found {self.years!r}")
        for name in ("growth", "terminal_growth", "risk_free", "beta", "equity_risk_premium", "tax_rate",
                     "cost_of_debt"):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"{name}: expected a finite number, found {value!r}")
        if self.wacc is not None and not (isinstance(self.wacc, int | float) and 0 < self.wacc < 1):
            raise ConfigError(f"wacc: expected a fraction between 0 and 1 (0.09 = 9 %), found {self.wacc!r}")


@dataclass(frozen=True)
class ValuationReport:
    symbol: str
    price: float
    dcf: DCFResult
    sensitivity: pd.DataFrame  # value per share, rows wacc, columns terminal_growth
    peers: RelativeValuation | None
    inputs: dict[str, Any]

    @property
    def upside(self) -> float:
        """DCF value per share / price - 1."""
        return self.dcf.value_per_share / self.price - 1 if self.price > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        grid = self.sensitivity
        return {
            "symbol": self.symbol,
            "price": self.price,
            "upside": None if math.isnan(self.upside) else self.upside,
            "inputs": self.inputs,
            "dcf": self.dcf.to_dict(),
            "sensitivity": {
                "wacc": [float(w) for w in grid.index],
                "terminal_growth": [float(g) for g in grid.columns],
                "value_per_share": [[None if math.isnan(v) else float(v) for v in row] for row in grid.to_numpy()],
            },
            "peers": self.peers.to_dict() if self.peers is not None else None,
        }


def _get(figures: dict[str, float], name: str, default: float = 0.0) -> float:
    return figures.get(name, default)


def _working_capital(figures: dict[str, float]) -> float:
    operating_assets = _get(figures, "current_assets") - _get(figures, "cash") - _get(figures, "short_term_investments")
    operating_liabilities = _get(figures, "current_liabilities") - _get(figures, "short_term_debt")
    return operating_assets - operating_liabilities


def company_fundamentals(symbol: str, history: FinancialHistory, price: float) -> CompanyFundamentals | None:
    """The figures ``relative_valuation`` compares, from the TTM as known; None without shares or revenue."""
    ttm = history.ttm()
    if "shares_outstanding" not in ttm or "revenue" not in ttm:
        return None
    debt = _get(ttm, "short_term_debt") + _get(ttm, "long_term_debt")
    return CompanyFundamentals(
        symbol=symbol,
        price=price,
        shares_outstanding=ttm["shares_outstanding"],
        net_debt=debt - _get(ttm, "cash") - _get(ttm, "short_term_investments"),
        earnings_ttm=_get(ttm, "net_income", math.nan),
        book_equity=_get(ttm, "shareholders_equity", math.nan),
        ebitda_ttm=_get(ttm, "operating_income", math.nan) + _get(ttm, "depreciation_amortization"),
        revenue_ttm=ttm["revenue"],
        eps_ttm=history.ttm_eps(),
    )


def value_company(
    history: FinancialHistory,
    *,
    price: float,
    assumptions: ValuationAssumptions,
    peers: dict[str, tuple[FinancialHistory, float]] | None = None,
) -> ValuationReport:
    """The DCF, its sensitivity and the peer comparison of ``history``'s company at ``price``."""
    symbol = history.symbol
    ttm, year_ago = history.ttm(), history.ttm(4)
    missing = [name for name in ("operating_income", "shares_outstanding") if name not in ttm]
    if missing or math.isnan(price):
        what = ", ".join(missing + (["a price"] if math.isnan(price) else []))
        raise DataError(f"{symbol}: cannot value the company without {what} known at this date")
    pretax = ttm.get("pretax_income")
    tax_rate = assumptions.tax_rate
    if pretax and pretax > 0 and "income_tax" in ttm:
        tax_rate = min(max(ttm["income_tax"] / pretax, 0.0), MAX_TAX_RATE)
    change_wc = _working_capital(ttm) - _working_capital(year_ago) if year_ago else 0.0
    components = FCFFComponents(
        ebit=ttm["operating_income"],
        tax_rate=tax_rate,
        depreciation_amortization=_get(ttm, "depreciation_amortization"),
        capex=_get(ttm, "capex"),
        change_in_working_capital=change_wc,
    )
    shares = ttm["shares_outstanding"]
    debt = _get(ttm, "short_term_debt") + _get(ttm, "long_term_debt")
    net_debt = debt - _get(ttm, "cash") - _get(ttm, "short_term_investments")
    wacc: float | WaccInputs
    if assumptions.wacc is not None:
        wacc = assumptions.wacc
    else:
        cost_of_debt = _get(ttm, "interest_expense") / debt if debt > 0 and "interest_expense" in ttm else None
        wacc = WaccInputs(
            risk_free=assumptions.risk_free,
            beta=assumptions.beta,
            equity_risk_premium=assumptions.equity_risk_premium,
            pre_tax_cost_of_debt=cost_of_debt if cost_of_debt is not None else assumptions.cost_of_debt,
            tax_rate=tax_rate,
            market_value_equity=price * shares,
            market_value_debt=debt,
        )
    growth = [assumptions.growth] * assumptions.years
    result = dcf(wacc=wacc, net_debt=net_debt, shares_outstanding=shares, base_fcff=components,
                 growth_rates=growth, terminal_growth=assumptions.terminal_growth)  # fmt: skip
    centre = result.wacc
    wacc_grid = [round(centre + step, 6) for step in (-0.02, -0.01, 0.0, 0.01, 0.02) if centre + step > 0]
    growth_grid = [round(assumptions.terminal_growth + step, 6) for step in (-0.01, -0.005, 0.0, 0.005, 0.01)]
    grid = dcf_sensitivity(net_debt=net_debt, shares_outstanding=shares, wacc_values=wacc_grid,
                           terminal_growth_values=growth_grid, base_fcff=components, growth_rates=growth)  # fmt: skip
    comparison = None
    target = company_fundamentals(symbol, history, price)
    if peers and target is not None:
        peer_figures = [f for s, (h, p) in peers.items() if s != symbol and (f := company_fundamentals(s, h, p))]
        if peer_figures:
            comparison = relative_valuation(target, peer_figures)
    inputs = {
        "ttm": dict(ttm),
        "tax_rate": tax_rate,
        "change_in_working_capital": change_wc,
        "net_debt": net_debt,
        "shares_outstanding": shares,
        "assumptions": dict(assumptions.__dict__),
    }
    return ValuationReport(symbol, price, result, grid, comparison, _plain(inputs))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value
