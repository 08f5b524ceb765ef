"""A company's fundamental metrics as known at one time: the ratios a screen or a strategy gate reads.

Inputs are the company's ``FinancialHistory`` as known at t, the last price known at t (a daily close
at or before t) and its earnings events known at t; nothing later. Definitions (TTM = trailing twelve
months, ``FinancialHistory.ttm``; "debt" = short-term + long-term debt):
``market_cap`` = price x shares outstanding (latest period end) · ``pe`` = price / TTM diluted EPS
(``valuation.price_earnings`` of ``FinancialHistory.ttm_eps``: net income / diluted shares, or shares
outstanding, when EPS is not filed; the P/E of every command) · ``pb`` = market cap / equity · ``ps`` =
market cap / TTM revenue · ``ev_ebitda`` = (market cap + debt - cash - short-term investments) /
(TTM operating income + TTM D&A) · ``roe`` = TTM net income / average of equity now and a year ago ·
``debt_equity`` = debt / equity · ``eps_growth``, ``revenue_growth`` = TTM over the TTM a year
earlier, less 1 · ``revenue_cagr_3y`` from the fiscal years · ``fscore`` (Piotroski, latest fiscal
year against the one before) · Altman Z (the original model; Z'' for Financials, Real Estate and
Utilities, whose balance sheets the manufacturing model misreads) · Beneish M · the latest earnings
surprise. A multiple with a non-positive denominator is NaN (not meaningful), never negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from quantdesk.analysis.fundamental.altman import AltmanZ, altman_z, altman_z_double_prime
from quantdesk.analysis.fundamental.beneish import BeneishM, beneish_mscore
from quantdesk.analysis.fundamental.growth import cagr
from quantdesk.analysis.fundamental.piotroski import FScore, piotroski_fscore
from quantdesk.analysis.fundamental.statements import FinancialHistory
from quantdesk.analysis.fundamental.valuation import price_earnings
from quantdesk.domain.fundamentals import ITEMS, EarningsEvent

__all__ = ["Z_DOUBLE_PRIME_SECTORS", "CompanyMetrics", "company_metrics"]

Z_DOUBLE_PRIME_SECTORS = frozenset({"Financials", "Real Estate", "Utilities"})
NAN = float("nan")
# the inputs whose presence ``completeness`` counts
_CORE_INPUTS = ("price", "market_cap", "pe", "pb", "ps", "ev_ebitda", "roe", "debt_equity", "eps_growth",
                "revenue_growth", "fscore", "altman_z", "beneish_m")  # fmt: skip


def _div(numerator: float | None, denominator: float | None, *, positive: bool = False) -> float:
    if numerator is None or denominator is None or denominator == 0 or math.isnan(numerator) or math.isnan(denominator):
        return NAN
    if positive and denominator < 0:
        return NAN
    return numerator / denominator


def _debt(figures: dict[str, float]) -> float | None:
    parts = [figures.get("short_term_debt"), figures.get("long_term_debt")]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


@dataclass(frozen=True)
class CompanyMetrics:
    symbol: str
    sector: str | None
    as_of_ns: int
    price: float
    market_cap: float
    pe: float
    pb: float
    ps: float
    ev_ebitda: float
    roe: float
    debt_equity: float
    eps_growth: float
    revenue_growth: float
    revenue_cagr_3y: float
    fscore: int | None
    altman_z: float
    altman_zone: str | None
    altman_model: str | None
    beneish_m: float
    beneish_flag: bool | None
    earnings_surprise: float
    roe_by_year: tuple[float, ...]  # oldest first, the last three fiscal years
    debt_equity_by_year: tuple[float, ...]
    latest_period_end: str | None
    last_filed_ns: int
    detail: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the scores' audit trails

    @property
    def completeness(self) -> float:
        """Share of the core inputs that could be computed (0..1)."""
        present = 0
        for name in _CORE_INPUTS:
            value = getattr(self, name)
            present += value is not None and not (isinstance(value, float) and math.isnan(value))
        return present / len(_CORE_INPUTS)

    def row(self) -> dict[str, Any]:
        """The flat values (no audit trail), for tables and gates."""
        out = asdict(self)
        out.pop("detail")
        out["completeness"] = self.completeness
        return out


def company_metrics(
    history: FinancialHistory,
    *,
    price: float,
    as_of_ns: int,
    sector: str | None = None,
    earnings: Sequence[EarningsEvent] = (),
    audit: bool = False,
) -> CompanyMetrics:
    """The metrics of ``history``'s company at ``as_of_ns`` with the last known ``price`` (NaN if none)."""
    ttm = history.ttm()
    ttm_year_ago = history.ttm(4)
    shares = ttm.get("shares_outstanding")
    market_cap = price * shares if shares is not None and not math.isnan(price) else NAN
    eps, eps_year_ago = history.ttm_eps(), history.ttm_eps(4)
    equity = ttm.get("shareholders_equity")
    equity_year_ago = ttm_year_ago.get("shareholders_equity")
    average_equity = (equity + equity_year_ago) / 2 if equity is not None and equity_year_ago is not None else equity
    debt = _debt(ttm)
    cash = (ttm.get("cash") or 0.0) + (ttm.get("short_term_investments") or 0.0)
    ebitda = None
    if "operating_income" in ttm:
        ebitda = ttm["operating_income"] + ttm.get("depreciation_amortization", 0.0)
    enterprise_value = market_cap + (debt or 0.0) - cash

    current, prior, prior2 = history.year(0), history.year(1), history.year(2)
    fscore: FScore | None = piotroski_fscore(current, prior, prior2 or None) if current and prior else None
    z: AltmanZ | None = None
    if current:
        if sector in Z_DOUBLE_PRIME_SECTORS:
            z = altman_z_double_prime(current)
        elif not math.isnan(market_cap):
            z = altman_z(current, market_value_equity=market_cap)
    m: BeneishM | None = beneish_mscore(current, prior) if current and prior else None

    years = history.years()[-3:]
    roe_by_year = []
    de_by_year = []
    for back in range(len(years) - 1, -1, -1):
        year, before = history.year(back), history.year(back + 1)
        eq = year.get("shareholders_equity")
        eq_before = before.get("shareholders_equity")
        avg = (eq + eq_before) / 2 if eq is not None and eq_before is not None else eq
        roe_by_year.append(_div(year.get("net_income"), avg, positive=True))
        de_by_year.append(_div(_debt(year), eq, positive=True))
    revenue_by_year = history.annual_values[:, list(ITEMS).index("revenue")]
    revenue_cagr = NAN
    if len(revenue_by_year) >= 4:
        revenue_cagr = cagr(float(revenue_by_year[-4]), float(revenue_by_year[-1]), 3)
    known_events = [e for e in earnings if e.announced_ns <= as_of_ns]
    surprise = known_events[-1].surprise if known_events else NAN

    detail: dict[str, Any] = {}
    if audit:
        detail = {
            "fscore": fscore.to_dict() if fscore else None,
            "altman": z.to_dict() if z else None,
            "beneish": m.to_dict() if m else None,
            "ttm": ttm,
            "fiscal_years": {"current": current, "prior": prior},
        }
    return CompanyMetrics(
        symbol=history.symbol,
        sector=sector,
        as_of_ns=as_of_ns,
        price=price,
        market_cap=market_cap,
        pe=price_earnings(price, eps),
        pb=_div(market_cap, equity, positive=True),
        ps=_div(market_cap, ttm.get("revenue"), positive=True),
        ev_ebitda=_div(enterprise_value, ebitda, positive=True),
        roe=_div(ttm.get("net_income"), average_equity, positive=True),
        debt_equity=_div(debt, equity, positive=True),
        eps_growth=_div(eps, eps_year_ago, positive=True) - 1.0,
        revenue_growth=_div(ttm.get("revenue"), ttm_year_ago.get("revenue"), positive=True) - 1.0,
        revenue_cagr_3y=revenue_cagr if revenue_cagr is not None else NAN,
        fscore=fscore.score if fscore and fscore.computable == 9 else None,
        altman_z=z.z if z and z.z is not None else NAN,
        altman_zone=str(z.zone) if z and z.zone is not None else None,
        altman_model=z.model.name if z else None,
        beneish_m=m.m if m and m.m is not None else NAN,
        beneish_flag=m.likely_manipulator if m else None,
        earnings_surprise=surprise,
        roe_by_year=tuple(roe_by_year),
        debt_equity_by_year=tuple(de_by_year),
        latest_period_end=history.latest_period_end(),
        last_filed_ns=history.last_known_ns,
        detail=detail,
    )
