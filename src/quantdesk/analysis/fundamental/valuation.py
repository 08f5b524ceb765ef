"""Valuation as pure, auditable arithmetic: a discounted cash flow of free cash flow to the firm (FCFF), its
sensitivity table, and relative valuation against peers' multiples. Inputs are plain numbers (no store
access); every rate is an annual fraction (``wacc=0.09`` is 9 % a year, ``terminal_growth=0.025`` is 2.5 %),
money is in one currency's units and share counts in shares. FCFF is EBIT × (1 − tax rate) + depreciation and
amortization − capital expenditure − change in net working capital. Forecast year ``t`` (1..N) is discounted
by (1 + WACC)^t, or (1 + WACC)^(t − 0.5) under the mid-year convention (off by default). The terminal value
sits at the end of year N: by Gordon growth, FCFF_N × (1 + g) / (WACC − g), which needs g < WACC; or by an exit
multiple, EV/EBITDA × year-N EBITDA. Under the mid-year convention a Gordon value is discounted over N − 0.5
years (its flows arrive mid-year too) and an exit-multiple value over N years (it is a price at year end).
Enterprise value is the sum of the present values; equity value is enterprise value less net debt; value per
share divides that by the shares outstanding. Every intermediate number is kept in the result."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError

__all__ = [
    "MULTIPLES",
    "CompanyFundamentals",
    "DCFResult",
    "FCFFComponents",
    "MultipleComparison",
    "RelativeValuation",
    "WaccInputs",
    "dcf",
    "dcf_sensitivity",
    "peer_multiples",
    "price_earnings",
    "relative_valuation",
]


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _finite(value: float, name: str, *, expected: str = "a finite number") -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected {expected}, found {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name}: expected {expected}, found {value!r}")
    return number


def _positive(value: float, name: str) -> float:
    number = _finite(value, name, expected="a number > 0")
    if number <= 0:
        raise ConfigError(f"{name}: expected a number > 0, found {value!r}")
    return number


def _tax_rate(value: float, name: str) -> float:
    number = _finite(value, name, expected="a fraction in [0, 1)")
    if not 0.0 <= number < 1.0:
        raise ConfigError(f"{name}: expected a fraction in [0, 1) (0.21 for 21 %), found {value!r}")
    return number


# ---------------------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class FCFFComponents:
    """The pieces of one year's free cash flow to the firm, in currency units; ``tax_rate`` is a fraction.

    ``capex`` is spending as a positive number; ``change_in_working_capital`` is the increase in net working
    capital (an increase consumes cash)."""

    ebit: float
    tax_rate: float
    depreciation_amortization: float
    capex: float
    change_in_working_capital: float

    def __post_init__(self) -> None:
        _finite(self.ebit, "FCFFComponents.ebit")
        _tax_rate(self.tax_rate, "FCFFComponents.tax_rate")
        _finite(self.depreciation_amortization, "FCFFComponents.depreciation_amortization")
        _finite(self.capex, "FCFFComponents.capex")
        _finite(self.change_in_working_capital, "FCFFComponents.change_in_working_capital")

    @property
    def nopat(self) -> float:
        """EBIT × (1 − tax rate): operating profit after tax."""
        return self.ebit * (1.0 - self.tax_rate)

    @property
    def fcff(self) -> float:
        """NOPAT + D&A − capex − change in working capital."""
        return self.nopat + self.depreciation_amortization - self.capex - self.change_in_working_capital

    def to_dict(self) -> dict[str, Any]:
        return {
            "ebit": self.ebit,
            "tax_rate": self.tax_rate,
            "depreciation_amortization": self.depreciation_amortization,
            "capex": self.capex,
            "change_in_working_capital": self.change_in_working_capital,
            "nopat": self.nopat,
            "fcff": self.fcff,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class WaccInputs:
    """What builds a weighted average cost of capital. Rates are annual fractions; values in currency units.

    Cost of equity by CAPM: ``risk_free + beta × equity_risk_premium``. After-tax cost of debt:
    ``pre_tax_cost_of_debt × (1 − tax_rate)``. Weights: market value of equity and of debt over their sum.
    """

    risk_free: float
    beta: float
    equity_risk_premium: float
    pre_tax_cost_of_debt: float
    tax_rate: float
    market_value_equity: float
    market_value_debt: float

    def __post_init__(self) -> None:
        _finite(self.risk_free, "WaccInputs.risk_free")
        _finite(self.beta, "WaccInputs.beta")
        _finite(self.equity_risk_premium, "WaccInputs.equity_risk_premium")
        _finite(self.pre_tax_cost_of_debt, "WaccInputs.pre_tax_cost_of_debt")
        _tax_rate(self.tax_rate, "WaccInputs.tax_rate")
        _positive(self.market_value_equity, "WaccInputs.market_value_equity")
        debt = _finite(self.market_value_debt, "WaccInputs.market_value_debt", expected="a number >= 0")
        if debt < 0:
            raise ConfigError(f"WaccInputs.market_value_debt: expected a number >= 0, found {self.market_value_debt!r}")

    @property
    def cost_of_equity(self) -> float:
        return self.risk_free + self.beta * self.equity_risk_premium

    @property
    def after_tax_cost_of_debt(self) -> float:
        return self.pre_tax_cost_of_debt * (1.0 - self.tax_rate)

    @property
    def equity_weight(self) -> float:
        return self.market_value_equity / (self.market_value_equity + self.market_value_debt)

    @property
    def debt_weight(self) -> float:
        return self.market_value_debt / (self.market_value_equity + self.market_value_debt)

    @property
    def wacc(self) -> float:
        return self.equity_weight * self.cost_of_equity + self.debt_weight * self.after_tax_cost_of_debt

    def to_dict(self) -> dict[str, Any]:
        return {
            "risk_free": self.risk_free,
            "beta": self.beta,
            "equity_risk_premium": self.equity_risk_premium,
            "pre_tax_cost_of_debt": self.pre_tax_cost_of_debt,
            "tax_rate": self.tax_rate,
            "market_value_equity": self.market_value_equity,
            "market_value_debt": self.market_value_debt,
            "cost_of_equity": self.cost_of_equity,
            "after_tax_cost_of_debt": self.after_tax_cost_of_debt,
            "equity_weight": self.equity_weight,
            "debt_weight": self.debt_weight,
            "wacc": self.wacc,
        }


# ---------------------------------------------------------------------------------------------------------
# DCF


@dataclass(frozen=True, slots=True, kw_only=True)
class DCFResult:
    """A DCF with every intermediate number. Per-year tuples are aligned with ``years`` (1..N)."""

    years: tuple[int, ...]
    fcff: tuple[float, ...]  # forecast FCFF per year, currency
    discount_periods: tuple[float, ...]  # t, or t - 0.5 under the mid-year convention, years
    discount_factors: tuple[float, ...]  # 1 / (1 + wacc) ** period
    present_values: tuple[float, ...]  # fcff × discount factor
    sum_pv_fcff: float
    terminal_method: str  # "gordon" or "exit_multiple"
    terminal_value: float  # at the end of year N, currency
    terminal_discount_period: float
    terminal_discount_factor: float
    pv_terminal_value: float
    enterprise_value: float
    net_debt: float
    equity_value: float
    shares_outstanding: float
    value_per_share: float
    wacc: float  # annual fraction
    wacc_inputs: WaccInputs | None
    base_fcff: float | None  # year 0 FCFF when the forecast grows it
    fcff_components: FCFFComponents | None
    growth_rates: tuple[float, ...] | None  # per forecast year, fractions
    terminal_growth: float | None  # annual fraction (Gordon)
    exit_multiple: float | None  # EV / EBITDA (exit multiple)
    final_year_ebitda: float | None
    mid_year: bool

    @property
    def terminal_value_share(self) -> float:
        """The share of enterprise value that the terminal value's present value makes up (a fraction)."""
        return self.pv_terminal_value / self.enterprise_value if self.enterprise_value != 0 else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per forecast year: FCFF, discount period and factor, present value."""
        return pd.DataFrame(
            {
                "fcff": self.fcff,
                "discount_period": self.discount_periods,
                "discount_factor": self.discount_factors,
                "present_value": self.present_values,
            },
            index=pd.Index(self.years, name="year"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "years": [
                {
                    "year": year,
                    "fcff": _clean(fcff),
                    "discount_period": period,
                    "discount_factor": _clean(factor),
                    "present_value": _clean(pv),
                }
                for year, fcff, period, factor, pv in zip(
                    self.years,
                    self.fcff,
                    self.discount_periods,
                    self.discount_factors,
                    self.present_values,
                    strict=True,
                )
            ],
            "sum_pv_fcff": _clean(self.sum_pv_fcff),
            "terminal_method": self.terminal_method,
            "terminal_value": _clean(self.terminal_value),
            "terminal_discount_period": self.terminal_discount_period,
            "terminal_discount_factor": _clean(self.terminal_discount_factor),
            "pv_terminal_value": _clean(self.pv_terminal_value),
            "terminal_value_share": _clean(self.terminal_value_share),
            "enterprise_value": _clean(self.enterprise_value),
            "net_debt": _clean(self.net_debt),
            "equity_value": _clean(self.equity_value),
            "shares_outstanding": _clean(self.shares_outstanding),
            "value_per_share": _clean(self.value_per_share),
            "inputs": {
                "wacc": _clean(self.wacc),
                "wacc_inputs": self.wacc_inputs.to_dict() if self.wacc_inputs is not None else None,
                "base_fcff": _clean(self.base_fcff),
                "fcff_components": self.fcff_components.to_dict() if self.fcff_components is not None else None,
                "growth_rates": list(self.growth_rates) if self.growth_rates is not None else None,
                "terminal_growth": _clean(self.terminal_growth),
                "exit_multiple": _clean(self.exit_multiple),
                "final_year_ebitda": _clean(self.final_year_ebitda),
                "mid_year": self.mid_year,
            },
        }


def _resolve_wacc(wacc: float | WaccInputs) -> tuple[float, WaccInputs | None]:
    if isinstance(wacc, WaccInputs):
        return wacc.wacc, wacc
    if isinstance(wacc, bool) or not isinstance(wacc, int | float):
        raise ConfigError(f"wacc: expected an annual fraction (0.09 for 9 %) or WaccInputs, found {wacc!r}")
    return _finite(wacc, "wacc"), None


def _forecast(
    base_fcff: float | FCFFComponents | None,
    growth_rates: Sequence[float] | None,
    fcffs: Sequence[float] | None,
) -> tuple[tuple[float, ...], float | None, FCFFComponents | None, tuple[float, ...] | None]:
    if (growth_rates is None) == (fcffs is None):
        raise ConfigError(
            "dcf forecast: expected exactly one of growth_rates (with base_fcff) or fcffs, "
            f"found {'both' if growth_rates is not None else 'neither'}"
        )
    if fcffs is not None:
        if base_fcff is not None:
            raise ConfigError("dcf base_fcff: expected None when explicit fcffs are given, found a base FCFF")
        flows = tuple(_finite(v, f"fcffs[{i}]") for i, v in enumerate(fcffs))
        if not flows:
            raise ConfigError("fcffs: expected at least one forecast year, found an empty sequence")
        return flows, None, None, None
    assert growth_rates is not None
    if base_fcff is None:
        raise ConfigError("base_fcff: expected a base-year FCFF or FCFFComponents with growth_rates, found None")
    if isinstance(base_fcff, FCFFComponents):
        components: FCFFComponents | None = base_fcff
        base = base_fcff.fcff
    else:
        components = None
        base = _finite(base_fcff, "base_fcff")
    rates = tuple(_finite(v, f"growth_rates[{i}]") for i, v in enumerate(growth_rates))
    if not rates:
        raise ConfigError("growth_rates: expected at least one forecast year, found an empty sequence")
    for i, rate in enumerate(rates):
        if rate <= -1.0:
            raise ConfigError(f"growth_rates[{i}]: expected a fraction > -1 (0.05 for 5 %), found {rate!r}")
    flows_list: list[float] = []
    level = base
    for rate in rates:
        level = level * (1.0 + rate)
        flows_list.append(level)
    return tuple(flows_list), base, components, rates


def _terminal_value(
    final_fcff: float,
    wacc: float,
    terminal_growth: float | None,
    exit_multiple: float | None,
    final_year_ebitda: float | None,
) -> tuple[str, float]:
    if (terminal_growth is None) == (exit_multiple is None):
        raise ConfigError(
            "dcf terminal value: expected exactly one of terminal_growth (Gordon) or exit_multiple, "
            f"found {'both' if terminal_growth is not None else 'neither'}"
        )
    if terminal_growth is not None:
        g = _finite(terminal_growth, "terminal_growth")
        if g >= wacc:
            raise ConfigError(
                f"terminal_growth: expected an annual fraction below wacc ({wacc!r}) for a Gordon terminal value, "
                f"found {terminal_growth!r}"
            )
        return "gordon", final_fcff * (1.0 + g) / (wacc - g)
    assert exit_multiple is not None
    multiple = _positive(exit_multiple, "exit_multiple")
    if final_year_ebitda is None:
        raise ConfigError("final_year_ebitda: expected the year-N EBITDA for an exit multiple, found None")
    ebitda = _finite(final_year_ebitda, "final_year_ebitda")
    return "exit_multiple", multiple * ebitda


def dcf(
    *,
    wacc: float | WaccInputs,
    net_debt: float,
    shares_outstanding: float,
    base_fcff: float | FCFFComponents | None = None,
    growth_rates: Sequence[float] | None = None,
    fcffs: Sequence[float] | None = None,
    terminal_growth: float | None = None,
    exit_multiple: float | None = None,
    final_year_ebitda: float | None = None,
    mid_year: bool = False,
) -> DCFResult:
    """Value a firm by discounting its free cash flow to the firm.

    The forecast is either ``base_fcff`` (a year-0 FCFF, or ``FCFFComponents`` to build it) grown by
    ``growth_rates`` (one annual fraction per forecast year: FCFF_t = FCFF_(t-1) × (1 + g_t)), or ``fcffs``
    given year by year. The terminal value is either Gordon growth (``terminal_growth``, an annual fraction
    that must be below WACC) or an exit multiple (``exit_multiple`` × ``final_year_ebitda``). ``wacc`` is an
    annual fraction or ``WaccInputs`` (CAPM). ``net_debt`` (debt less cash, currency) is subtracted from
    enterprise value; ``shares_outstanding`` divides the equity value. ``mid_year`` discounts each year's flow
    half a year earlier. Bad parameters raise ConfigError naming the parameter.
    """
    rate, wacc_inputs = _resolve_wacc(wacc)
    if rate <= 0:
        raise ConfigError(f"wacc: expected an annual fraction > 0 (0.09 for 9 %), found {rate!r}")
    debt = _finite(net_debt, "net_debt")
    shares = _positive(shares_outstanding, "shares_outstanding")
    if not isinstance(mid_year, bool):
        raise ConfigError(f"mid_year: expected True or False, found {mid_year!r}")
    flows, base, components, rates = _forecast(base_fcff, growth_rates, fcffs)
    method, terminal = _terminal_value(flows[-1], rate, terminal_growth, exit_multiple, final_year_ebitda)

    years = tuple(range(1, len(flows) + 1))
    shift = 0.5 if mid_year else 0.0
    periods = tuple(year - shift for year in years)
    factors = tuple(1.0 / (1.0 + rate) ** period for period in periods)
    pvs = tuple(flow * factor for flow, factor in zip(flows, factors, strict=True))
    n = float(len(flows))
    terminal_period = n - shift if method == "gordon" else n
    terminal_factor = 1.0 / (1.0 + rate) ** terminal_period
    pv_terminal = terminal * terminal_factor
    sum_pv = math.fsum(pvs)
    enterprise = sum_pv + pv_terminal
    equity = enterprise - debt
    return DCFResult(
        years=years,
        fcff=flows,
        discount_periods=periods,
        discount_factors=factors,
        present_values=pvs,
        sum_pv_fcff=sum_pv,
        terminal_method=method,
        terminal_value=terminal,
        terminal_discount_period=terminal_period,
        terminal_discount_factor=terminal_factor,
        pv_terminal_value=pv_terminal,
        enterprise_value=enterprise,
        net_debt=debt,
        equity_value=equity,
        shares_outstanding=shares,
        value_per_share=equity / shares,
        wacc=rate,
        wacc_inputs=wacc_inputs,
        base_fcff=base,
        fcff_components=components,
        growth_rates=rates,
        terminal_growth=None if terminal_growth is None else float(terminal_growth),
        exit_multiple=None if exit_multiple is None else float(exit_multiple),
        final_year_ebitda=None if final_year_ebitda is None else float(final_year_ebitda),
        mid_year=mid_year,
    )


def dcf_sensitivity(
    *,
    net_debt: float,
    shares_outstanding: float,
    wacc_values: Sequence[float],
    terminal_growth_values: Sequence[float],
    base_fcff: float | FCFFComponents | None = None,
    growth_rates: Sequence[float] | None = None,
    fcffs: Sequence[float] | None = None,
    mid_year: bool = False,
) -> pd.DataFrame:
    """Value per share of a Gordon-growth DCF over a grid: rows ``wacc`` (index name ``wacc``), columns
    terminal growth (``terminal_growth``), both annual fractions. The forecast arguments mean what they mean
    in ``dcf``. A cell whose terminal growth is at or above its WACC has no Gordon value and is NaN. With
    positive cash flows, value falls down each column (higher WACC) and rises along each row (higher g)."""
    waccs = [_positive(w, f"wacc_values[{i}]") for i, w in enumerate(wacc_values)]
    growths = [_finite(g, f"terminal_growth_values[{i}]") for i, g in enumerate(terminal_growth_values)]
    if not waccs:
        raise ConfigError("wacc_values: expected at least one WACC, found an empty sequence")
    if not growths:
        raise ConfigError("terminal_growth_values: expected at least one growth rate, found an empty sequence")
    _forecast(base_fcff, growth_rates, fcffs)  # bad forecast inputs fail here even when every cell is NaN
    table = np.full((len(waccs), len(growths)), np.nan)
    for i, w in enumerate(waccs):
        for j, g in enumerate(growths):
            if g >= w:
                continue
            table[i, j] = dcf(
                wacc=w,
                net_debt=net_debt,
                shares_outstanding=shares_outstanding,
                base_fcff=base_fcff,
                growth_rates=growth_rates,
                fcffs=fcffs,
                terminal_growth=g,
                mid_year=mid_year,
            ).value_per_share
    return pd.DataFrame(
        table,
        index=pd.Index(waccs, name="wacc", dtype=np.float64),
        columns=pd.Index(growths, name="terminal_growth", dtype=np.float64),
    )


# ---------------------------------------------------------------------------------------------------------
# relative valuation

MULTIPLES: tuple[str, ...] = ("pe", "pb", "ev_ebitda", "ps")
_MULTIPLE_TEXT = {
    "pe": ("P/E", "price / TTM diluted EPS", "eps"),
    "pb": ("P/B", "market cap / book equity", "book_equity"),
    "ev_ebitda": ("EV/EBITDA", "(market cap + net debt) / TTM EBITDA", "ebitda_ttm"),
    "ps": ("P/S", "market cap / TTM revenue", "revenue_ttm"),
}


def price_earnings(price: float, eps: float | None) -> float:
    """P/E, the one definition every table, score, gate and comparison uses: price per share / TTM diluted EPS
    (``FinancialHistory.ttm_eps``). NaN (not meaningful) when EPS is unknown or not positive, or the price
    is unknown or not positive."""
    if eps is None or math.isnan(eps) or math.isnan(price) or eps <= 0 or price <= 0:
        return float("nan")
    return price / eps


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyFundamentals:
    """What relative valuation needs of one company: price per share, shares, net debt (debt less cash) and
    trailing-twelve-month (TTM) earnings, EBITDA and revenue, with book equity at the latest balance sheet.
    ``eps_ttm`` is the TTM diluted EPS (``FinancialHistory.ttm_eps``); without it EPS is earnings / shares
    outstanding."""

    symbol: str
    price: float
    shares_outstanding: float
    net_debt: float
    earnings_ttm: float
    book_equity: float
    ebitda_ttm: float
    revenue_ttm: float
    eps_ttm: float | None = None

    def __post_init__(self) -> None:
        _positive(self.price, f"{self.symbol}.price")
        _positive(self.shares_outstanding, f"{self.symbol}.shares_outstanding")
        for name in ("net_debt", "earnings_ttm", "book_equity", "ebitda_ttm", "revenue_ttm"):
            _finite(getattr(self, name), f"{self.symbol}.{name}")
        if self.eps_ttm is not None:
            _finite(self.eps_ttm, f"{self.symbol}.eps_ttm")

    @property
    def eps(self) -> float:
        """TTM diluted EPS: ``eps_ttm``, or earnings / shares outstanding without it."""
        return self.eps_ttm if self.eps_ttm is not None else self.earnings_ttm / self.shares_outstanding

    @property
    def market_cap(self) -> float:
        return self.price * self.shares_outstanding

    @property
    def enterprise_value(self) -> float:
        return self.market_cap + self.net_debt

    def multiple(self, name: str) -> float:
        """The multiple ``name`` (one of MULTIPLES), or NaN when it is not meaningful: a non-positive
        denominator (negative earnings, book equity, EBITDA or revenue) or a non-positive enterprise value."""
        if name == "pe":
            return price_earnings(self.price, self.eps)
        if name == "pb":
            num, den = self.market_cap, self.book_equity
        elif name == "ev_ebitda":
            num, den = self.enterprise_value, self.ebitda_ttm
        elif name == "ps":
            num, den = self.market_cap, self.revenue_ttm
        else:
            raise ConfigError(f"multiple: expected one of {', '.join(MULTIPLES)}, found {name!r}")
        if den <= 0 or num <= 0:
            return float("nan")
        return num / den

    def implied_price(self, name: str, multiple: float) -> float:
        """Value per share if this company traded at ``multiple`` of kind ``name``; NaN when its own
        denominator is non-positive (a multiple of a loss values nothing)."""
        if math.isnan(multiple):
            return float("nan")
        den = getattr(self, _MULTIPLE_TEXT[name][2])
        if den <= 0:
            return float("nan")
        if name == "pe":
            return multiple * den
        if name == "ev_ebitda":
            return (multiple * den - self.net_debt) / self.shares_outstanding
        return multiple * den / self.shares_outstanding


@dataclass(frozen=True, slots=True, kw_only=True)
class MultipleComparison:
    """The target against its peers on one multiple."""

    multiple: str  # "pe", "pb", "ev_ebitda", "ps"
    label: str  # "P/E", ...
    definition: str
    target_multiple: float  # NaN when not meaningful
    target_meaningful: bool
    note: str  # why the target's multiple is not meaningful, "" when it is
    peers_used: tuple[str, ...]  # symbols with a meaningful multiple
    peers_excluded: tuple[str, ...]  # symbols whose multiple is negative or undefined
    peer_median: float  # NaN with no peer used
    percentile: float  # 0..100: share of used peers with a lower multiple (ties half); NaN when not computable
    implied_value_per_share: float  # at the peer median multiple; NaN when not computable

    def to_dict(self) -> dict[str, Any]:
        return {
            "multiple": self.multiple,
            "label": self.label,
            "definition": self.definition,
            "target_multiple": _clean(self.target_multiple),
            "target_meaningful": self.target_meaningful,
            "note": self.note,
            "peers_used": list(self.peers_used),
            "peers_excluded": list(self.peers_excluded),
            "peer_median": _clean(self.peer_median),
            "percentile": _clean(self.percentile),
            "implied_value_per_share": _clean(self.implied_value_per_share),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RelativeValuation:
    target: str
    price: float
    comparisons: tuple[MultipleComparison, ...]

    def __getitem__(self, multiple: str) -> MultipleComparison:
        for comparison in self.comparisons:
            if comparison.multiple == multiple:
                return comparison
        raise KeyError(multiple)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "target_multiple": [c.target_multiple for c in self.comparisons],
                "peer_median": [c.peer_median for c in self.comparisons],
                "percentile": [c.percentile for c in self.comparisons],
                "implied_value_per_share": [c.implied_value_per_share for c in self.comparisons],
                "peers_used": [len(c.peers_used) for c in self.comparisons],
            },
            index=pd.Index([c.multiple for c in self.comparisons], name="multiple"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "price": self.price,
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def peer_multiples(companies: Sequence[CompanyFundamentals]) -> pd.DataFrame:
    """P/E, P/B, EV/EBITDA and P/S per company (rows by symbol, columns ``MULTIPLES``); NaN where a multiple
    is negative or undefined (see ``CompanyFundamentals.multiple``)."""
    symbols = [c.symbol for c in companies]
    duplicated = sorted({s for s in symbols if symbols.count(s) > 1})
    if duplicated:
        raise ConfigError(f"peer_multiples: expected one entry per symbol, found duplicates {duplicated}")
    return pd.DataFrame(
        [[c.multiple(m) for m in MULTIPLES] for c in companies],
        index=pd.Index(symbols, name="symbol"),
        columns=pd.Index(MULTIPLES, name="multiple"),
        dtype=np.float64,
    )


def _not_meaningful_note(target: CompanyFundamentals, name: str) -> str:
    label, _, field = _MULTIPLE_TEXT[name]
    den = getattr(target, field)
    if name == "pe" and target.eps_ttm is None:
        field, den = "earnings_ttm", target.earnings_ttm
    if den <= 0:
        return f"{label} not meaningful: {field} is {den:g} (not positive)"
    return f"{label} not meaningful: enterprise value is {target.enterprise_value:g} (not positive)"


def relative_valuation(target: CompanyFundamentals, peers: Sequence[CompanyFundamentals]) -> RelativeValuation:
    """The target against its peers on P/E, P/B, EV/EBITDA and P/S.

    For each multiple: peers whose multiple is negative or undefined are excluded from that multiple's peer
    set (and listed); the peer median is over the rest. ``percentile`` is 100 × (number of used peers with a
    lower multiple, a peer with an equal one counting half) / (number of used peers), the rule of the
    universe's sector percentiles, so a target cheaper than every peer is at 0 and dearer than every peer
    at 100. When the target's own multiple is not meaningful, its multiple and percentile are NaN and
    ``note`` says why. The implied value per share applies the peer median to the target's own denominator
    (for EV/EBITDA, less net debt, per share); NaN when that denominator is not positive or no peer is used.
    A peer with the target's symbol is skipped.
    """
    peers = [p for p in peers if p.symbol != target.symbol]
    table = peer_multiples(peers)
    comparisons: list[MultipleComparison] = []
    for name in MULTIPLES:
        label, definition, _ = _MULTIPLE_TEXT[name]
        column = table[name] if len(peers) else pd.Series(dtype=np.float64)
        used = column.dropna()
        values = used.to_numpy(np.float64)
        own = target.multiple(name)
        meaningful = not math.isnan(own)
        median = float(np.median(values)) if len(values) else float("nan")
        if meaningful and len(values):
            lower = np.count_nonzero(values < own) + 0.5 * np.count_nonzero(values == own)
            percentile = 100.0 * float(lower) / len(values)
        else:
            percentile = float("nan")
        comparisons.append(
            MultipleComparison(
                multiple=name,
                label=label,
                definition=definition,
                target_multiple=own,
                target_meaningful=meaningful,
                note="" if meaningful else _not_meaningful_note(target, name),
                peers_used=tuple(str(s) for s in used.index),
                peers_excluded=tuple(str(s) for s in column.index[column.isna()]),
                peer_median=median,
                percentile=percentile,
                implied_value_per_share=target.implied_price(name, median),
            )
        )
    return RelativeValuation(target=target.symbol, price=target.price, comparisons=tuple(comparisons))
