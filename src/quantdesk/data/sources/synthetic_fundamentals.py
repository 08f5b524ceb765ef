"""Synthetic company fundamentals for the synthetic market: statements, earnings, insider trades, ratings.

Each company runs a small three-statement model, one quarter at a time, from its own seeded stream
(so the same seed gives the same figures and a symbol's figures do not depend on how many symbols
were generated). Every fiscal year ends on 31 December, and the statements start ``_HISTORY_YEARS``
fiscal years before the year of the first bar. Revenue is a log level whose growth rate starts away
from the company's long-run rate (drawn around its sector's) and converges to it, so some companies
accelerate and some decelerate, with AR(1) wobble, quarterly noise and a seasonal shape; inside the
bar history it also takes a share of the stock's quarterly excess return and is pulled slowly toward
the revenue the market cap implies at the starting price-to-sales ratio, so P/S stays plausible over
long histories. It is scaled so that the fiscal year before the first bar has the drawn revenue, and
shares outstanding are set so that the first close times the shares over that revenue is the drawn
price-to-sales ratio of the sector's band. Gross and operating margins start in sector bands and
drift as random walks; D&A is a rate on last quarter's PP&E, capex a multiple of the D&A share of
revenue; tax is about 21 % of pretax income; interest is a rate on last quarter's debt. Receivables,
inventory and payables are days of sales or of cost; accrued liabilities, other current assets and
other non-current items are shares of annualised revenue. A few companies (the "high accrual" ones)
let receivable days and other current assets swell over a spell of quarters while gross margin slips
and growth is pushed, so their net income runs ahead of operating cash flow and the Beneish M-score
flags them. Operating cash flow is net income plus D&A less the change in working capital; debt
moves toward a sector leverage target (debt / assets), with a revolver that keeps cash above a
floor; retained earnings add net income less dividends (a payout of smoothed income); buybacks
(capped at half the expected free cash flow), share issues (at the quarter-end price) and
stock-compensation creep move the share count. Cash is the plug of the cash flow, so the balance
sheet balances exactly; every currency leaf is rounded to whole dollars before the totals are
summed, so every identity (subtotals, total assets = total liabilities + equity, FY = Q1 + Q2 + Q3 +
Q4 for the currency flow items) holds exactly in floating point. The weighted diluted share count of
a fiscal year is the mean of its quarters' and its EPS is net income over that count. 10-Qs are
filed 25-45 days after a quarter end and 10-Ks 45-75 days after the year end (on weekdays); about 3
% of 10-Ks are amended 30-200 days later by a 10-K/A that reclassifies one to three items by 2-6 %
(the identities still hold), giving those facts version 2. Earnings are announced 0-5 weekdays
before the filing, the fiscal-year event reporting the fiscal year's EPS, against a consensus equal
to the true EPS times a noisy, slightly conservative bias. Insider trades (sales more common than
buys) and analyst rating changes arrive as Poisson events, priced near the day's close inside the
bar history and near a price implied by revenue per share before it. Nothing is dated after the
market's last session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.data.sources.synthetic import (
    SECTORS,
    SyntheticConfig,
    SyntheticMarket,
    _rng,
    _Stream,
    generate_market,
    write_synthetic_market,
)
from quantdesk.domain.fundamentals import (
    ITEMS,
    EarningsEvent,
    FiscalPeriod,
    InsiderTransaction,
    RatingChange,
    StatementFact,
)

if TYPE_CHECKING:  # the store is the caller's; importing it loads SQLAlchemy
    from quantdesk.data.catalog import Catalog
    from quantdesk.data.fundamentals.store import FactWriteReport, FundamentalStore

__all__ = ["SyntheticFundamentals", "generate_fundamentals"]

# ---- the model: money in USD, rates as fractions, days are calendar days unless named weekdays --------------------

_FILING_TIMEZONE = "America/New_York"  # a filing dated D is known at the end of D here
_HISTORY_YEARS = 3  # fiscal years of statements before the year of the first bar
_START_REVENUE_USD = (5e8, 4e10)  # revenue of the fiscal year before the first bar, log-uniform
_LONG_RUN_GROWTH_SD_PER_YEAR = 0.04  # a company's long-run growth around its sector's
_LONG_RUN_GROWTH_BOUNDS_PER_YEAR = (-0.03, 0.20)
_START_GROWTH_SD_PER_YEAR = 0.08  # its growth at the start around its long-run growth
_START_GROWTH_BOUNDS_PER_YEAR = (-0.10, 0.35)
_GROWTH_CONVERGENCE_YEARS = 3.0  # e-folding time from the start growth to the long-run one
_GROWTH_AR_SD_PER_YEAR = 0.04  # AR(1) wobble of the growth rate
_GROWTH_AR_PERSISTENCE_PER_QUARTER = 0.7
_GROWTH_BOUNDS_PER_YEAR = (-0.30, 0.60)
_REVENUE_NOISE_SD_PER_QUARTER = 0.02  # log
_RETURN_TO_REVENUE = 0.2  # share of a quarter's excess stock log return passed to revenue growth
_VALUATION_PULL_PER_QUARTER = 0.05  # inside the bars, share of the log gap to the starting P/S closed
_EXPECTED_RETURN_PER_QUARTER = 0.02  # log
_SEASON_SHAPE = (-1.0, -0.3, 0.1, 1.2)  # Q1..Q4, sums to 0; times the sector's amplitude
_MARGIN_WALK_SD_PER_QUARTER = 0.004
_GROSS_MARGIN_NOISE_SD = 0.006
_OPERATING_MARGIN_NOISE_SD = 0.008
_GROSS_MARGIN_BOUNDS = (0.05, 0.95)
_OPERATING_MARGIN_FLOOR = -0.25
_MIN_SGA_SHARE = 0.02  # of revenue
_SGA_HEADROOM = 0.04  # a starting operating margin stays this far below gross margin less D&A
_CAPEX_TO_DA = (1.0, 1.6)  # capex / D&A at the same revenue
_CAPEX_NOISE_SD = 0.15  # log, per quarter
_DA_NOISE_SD = 0.03
_TAX_RATE_MEAN, _TAX_RATE_SD, _TAX_RATE_NOISE_SD = 0.21, 0.025, 0.01
_TAX_RATE_BOUNDS = (0.12, 0.30)
_INTEREST_RATE_PER_YEAR = (0.035, 0.07)
_DAYS_NOISE_SD = 0.05  # log noise on receivable, inventory and payable days
_ACCRUED_TO_ANNUAL_REVENUE = (0.04, 0.10)
_OTHER_CURRENT_TO_ANNUAL_REVENUE = (0.02, 0.08)
_OTHER_LIABILITIES_TO_ANNUAL_REVENUE = (0.05, 0.20)  # deferred taxes, leases, pensions
_OTHER_ITEM_WALK_SD_PER_QUARTER = 0.03  # log random walk of the other non-current items
_LIQUID_TO_ANNUAL_REVENUE = (0.08, 0.35)  # cash + short-term investments at the start
_LIQUID_FLOOR_TO_ANNUAL_REVENUE = 0.03  # the revolver draws below this
_SHORT_TERM_INVESTMENT_SHARE = (0.0, 0.5)  # of cash + short-term investments
_SHORT_DEBT_SHARE = (0.05, 0.25)  # of debt
_DEBT_ADJUSTMENT_PER_QUARTER = 0.15  # share of the gap to the leverage target closed each quarter
_MIN_EQUITY_TO_ASSETS = 0.15  # at the start
_MAX_OTHER_LIABILITIES_TO_ASSETS = 0.3  # at the start
_RETAINED_TO_EQUITY = (0.3, 1.2)  # at the start
_DIVIDEND_PROBABILITY = 0.7  # a company pays at all
_PAYOUT_SCALE = (0.5, 1.5)  # times the sector's payout
_MAX_PAYOUT = 0.9
_INCOME_SMOOTHING = 0.3  # weight of this quarter's net income in the smoothed income paying dividends
_BUYBACK_PROBABILITY, _BUYBACK_ACTIVE_PROBABILITY = 0.45, 0.8  # has a programme; buys in a quarter
_BUYBACK_RATE_PER_QUARTER = (0.002, 0.012)  # of shares outstanding
_BUYBACK_SHARE_OF_FREE_CASH_FLOW = 0.5  # at most, at the starting margins and P/S
_ISSUE_PROBABILITY_PER_QUARTER = 0.02
_ISSUE_SIZE = (0.03, 0.10)  # of shares outstanding
_ISSUE_DISCOUNT = 0.04
_STOCK_COMP_CREEP_PER_QUARTER = (0.001, 0.004)  # non-cash growth of the share count
_DILUTION = (0.003, 0.03)  # diluted over basic weighted shares
_IMPLIED_PRICE_WALK_SD_PER_QUARTER = 0.08  # log; prices before the first bar
_HIGH_ACCRUAL_PROBABILITY = 0.12
_HIGH_ACCRUAL_QUARTERS = (3, 6)  # length of the spell
_HIGH_ACCRUAL_RECEIVABLE_DAYS = (1.6, 2.4)  # multiplier reached at the end of the spell
_HIGH_ACCRUAL_OTHER_CURRENT = (2.0, 3.5)
_HIGH_ACCRUAL_GROSS_MARGIN_SLIP = 0.03
_HIGH_ACCRUAL_GROWTH_PUSH_PER_YEAR = 0.08
_LAG_10Q_DAYS = (25, 45)  # filing date minus quarter end, after rolling to a weekday
_LAG_10K_DAYS = (45, 75)
_USUAL_LAG_10Q_DAYS = (25.0, 40.0)  # a company's usual lag, uniform
_USUAL_LAG_10K_DAYS = (45.0, 68.0)
_LAG_SD_DAYS = (2.0, 3.0)  # 10-Q, 10-K jitter around the company's usual lag
_WEEKEND_ROLL_DAYS = 2  # rolling forward to a weekday adds at most this
_RESTATEMENT_PROBABILITY = 0.03  # per 10-K
_RESTATEMENT_DELAY_DAYS = (30, 200)
_RESTATEMENT_SIZE = (0.02, 0.06)
_ANNOUNCE_SAME_DAY_PROBABILITY = 0.35
_ANNOUNCE_EARLY_WEEKDAYS = 5  # at most this many weekdays before the filing
_ESTIMATE_BIAS_MEAN, _ESTIMATE_BIAS_SD = -0.015, 0.015  # log; estimates a little under the truth
_ESTIMATE_NOISE_SD = (0.02, 0.06)  # log, per company
_BIG_SURPRISE_PROBABILITY, _BIG_SURPRISE_SCALE = 0.08, 4.0
_INSIDER_TRADES_PER_YEAR = (2.0, 6.0)
_INSIDER_SALE_PROBABILITY = (0.65, 0.9)
_INSIDER_SALE_FRACTION = (1e-5, 4e-4)  # of shares outstanding, log-uniform
_INSIDER_BUY_FRACTION = (3e-6, 1e-4)
_INSIDER_MIN_SHARES = 100
_INSIDER_FILING_WEEKDAYS = (1, 2)  # Form 4 after the trade
_INSIDER_ROLES = ("CEO", "CFO", "Director", "COO", "Director", "General Counsel", "Director")
_INSIDERS = (3, 7)  # per company
_PRICE_NOISE_SD_IN_BARS, _PRICE_NOISE_SD_IMPLIED = 0.006, 0.02  # log
_RATING_CHANGES_PER_YEAR = (2.0, 6.0)
_RATINGS = ("sell", "underperform", "hold", "outperform", "buy")
_RATING_WEIGHTS = (0.05, 0.10, 0.40, 0.25, 0.20)  # a firm's first rating
_RATING_UPSIDE = (-0.15, -0.05, 0.05, 0.15, 0.25)  # price target over price, per rating
_TARGET_NOISE_SD = 0.05  # log
_RATING_DOUBLE_STEP_PROBABILITY = 0.15
_RATING_MOMENTUM_DAYS, _RATING_MOMENTUM_SCALE = 91, 0.15  # up more likely after the stock rose: the
_RATING_MOMENTUM_TILT = 0.3  # chance of an upgrade is 0.5 + this x tanh(log return / the scale)
_RATING_FIRMS = (3, 8)  # per company


@dataclass(frozen=True, slots=True)
class _Sector:
    price_to_sales: tuple[float, float]
    gross_margin: tuple[float, float]
    operating_margin: tuple[float, float]
    debt_to_assets: tuple[float, float]
    da_share: float  # D&A / revenue
    ppe_to_revenue: float  # PP&E / annual revenue
    other_assets_to_revenue: tuple[float, float]  # goodwill, intangibles, investments, loans / annual revenue
    receivable_days: float  # of revenue
    inventory_days: float  # of cost of revenue
    payable_days: float  # of cost of revenue
    payout: float  # dividends / net income
    growth_per_year: float
    season_amplitude: float


# fmt: off
_SECTOR_MODELS: dict[str, _Sector] = {  # P/S, gross and operating margin, debt/assets bands, then the fields in order
    "Information Technology": _Sector((3.0, 8.0), (0.50, 0.75), (0.12, 0.30), (0.05, 0.20),
                                      0.04, 0.25, (0.3, 1.0), 55, 25, 40, 0.15, 0.10, 0.03),
    "Health Care": _Sector((2.0, 6.0), (0.45, 0.70), (0.08, 0.22), (0.10, 0.30),
                           0.04, 0.30, (0.4, 1.2), 55, 70, 45, 0.25, 0.07, 0.02),
    "Financials": _Sector((1.5, 4.0), (0.70, 0.90), (0.20, 0.35), (0.40, 0.60),
                          0.02, 0.10, (2.0, 5.0), 20, 0, 15, 0.35, 0.05, 0.01),
    "Consumer Discretionary": _Sector((0.5, 3.0), (0.25, 0.45), (0.05, 0.14), (0.15, 0.35),
                                      0.035, 0.35, (0.1, 0.5), 20, 60, 50, 0.20, 0.06, 0.10),
    "Communication Services": _Sector((1.5, 5.0), (0.40, 0.65), (0.10, 0.25), (0.20, 0.40),
                                      0.07, 0.60, (0.5, 1.5), 50, 10, 45, 0.25, 0.06, 0.03),
    "Industrials": _Sector((0.8, 3.0), (0.25, 0.40), (0.08, 0.16), (0.15, 0.35),
                           0.035, 0.35, (0.3, 0.8), 60, 70, 50, 0.30, 0.05, 0.03),
    "Consumer Staples": _Sector((0.5, 2.5), (0.25, 0.45), (0.06, 0.16), (0.20, 0.40),
                                0.03, 0.30, (0.3, 0.9), 25, 45, 55, 0.55, 0.03, 0.03),
    "Energy": _Sector((0.5, 2.0), (0.20, 0.40), (0.06, 0.20), (0.15, 0.35),
                      0.08, 1.20, (0.05, 0.3), 40, 25, 50, 0.40, 0.03, 0.02),
    "Utilities": _Sector((1.5, 3.5), (0.35, 0.55), (0.15, 0.25), (0.40, 0.60),
                         0.10, 2.50, (0.1, 0.4), 45, 20, 50, 0.65, 0.04, 0.05),
    "Real Estate": _Sector((4.0, 8.0), (0.55, 0.75), (0.25, 0.40), (0.35, 0.55),
                           0.15, 5.00, (0.1, 0.4), 15, 0, 20, 0.80, 0.05, 0.01),
    "Materials": _Sector((0.7, 2.5), (0.20, 0.35), (0.08, 0.18), (0.15, 0.35),
                         0.06, 0.90, (0.1, 0.5), 50, 60, 45, 0.35, 0.04, 0.03),
}
# fmt: on
_DIVIDEND_OPTIONAL_SECTORS = frozenset(
    {"Information Technology", "Health Care", "Consumer Discretionary", "Communication Services"}
)


class _U(IntEnum):
    """A company's scalar uniform draws."""

    REVENUE = 0
    PRICE_TO_SALES = 1
    GROSS_MARGIN = 2
    OPERATING_MARGIN = 3
    DEBT_TO_ASSETS = 4
    CAPEX = 5
    SEASON = 6
    ACCRUED = 7
    OTHER_CURRENT = 8
    OTHER_ASSETS = 9
    OTHER_LIABILITIES = 10
    LIQUID = 11
    STI_SHARE = 12
    SHORT_DEBT = 13
    INTEREST = 14
    PAYS_DIVIDEND = 15
    PAYOUT = 16
    BUYBACK = 17
    BUYBACK_RATE = 18
    DILUTION = 19
    STOCK_COMP = 20
    HIGH_ACCRUALS = 21
    ACCRUAL_START = 22
    ACCRUAL_LENGTH = 23
    ACCRUAL_RECEIVABLES = 24
    ACCRUAL_OTHER_CURRENT = 25
    RETAINED = 26
    LAG_10Q = 27
    LAG_10K = 28
    ESTIMATE_NOISE = 29


class _N(IntEnum):
    """A company's scalar standard normal draws."""

    LONG_RUN_GROWTH = 0
    START_GROWTH = 1
    TAX = 2
    ESTIMATE_BIAS = 3


class _Z(IntEnum):
    """A company's standard normal draws per quarter."""

    REVENUE = 0
    GROWTH = 1
    GROSS_WALK = 2
    GROSS_NOISE = 3
    OPERATING_WALK = 4
    OPERATING_NOISE = 5
    DA = 6
    CAPEX = 7
    TAX = 8
    RECEIVABLES = 9
    INVENTORY = 10
    PAYABLES = 11
    ACCRUED = 12
    OTHER_ASSETS = 13
    OTHER_LIABILITIES = 14
    PRICE = 15
    LAG = 16
    ESTIMATE = 17


class _V(IntEnum):
    """A company's uniform draws per quarter."""

    BUYBACK = 0
    ISSUE = 1
    ISSUE_SIZE = 2
    ANNOUNCE = 3
    BIG_SURPRISE = 4
    RESTATE = 5
    RESTATE_KIND = 6
    RESTATE_SIZE = 7
    RESTATE_DELAY = 8


# restatement kinds, each a reclassification that keeps every identity
_RECLASS_COST_SGA, _RECLASS_DEBT, _RECLASS_RECEIVABLES, _RECLASS_CASH_FLOW = 0, 1, 2, 3
_ITEM_NAMES: tuple[str, ...] = tuple(ITEMS)
_COLUMN = {name: j for j, name in enumerate(_ITEM_NAMES)}
_FLOW_CURRENCY = tuple(n for n, d in ITEMS.items() if d.kind == "flow" and d.unit == "currency")
_STOCKS = tuple(n for n, d in ITEMS.items() if d.kind == "stock")
_PERIODS = (FiscalPeriod.Q1, FiscalPeriod.Q2, FiscalPeriod.Q3, FiscalPeriod.FY)


@dataclass(frozen=True)
class SyntheticFundamentals:
    """The synthetic market's fundamentals, labelled synthetic in every ``source``."""

    facts: list[StatementFact]  # per symbol: each filing's items in ``ITEMS`` order, then the amendments
    earnings: list[EarningsEvent]  # per symbol, by announcement time
    insiders: list[InsiderTransaction]  # per symbol, by filing time
    ratings: list[RatingChange]  # per symbol, by announcement time


@dataclass(frozen=True, slots=True)
class _Calendar:
    first_year: int
    period_end: np.ndarray  # datetime64[D] of each quarter, Q1 of first_year on
    anchor: int  # the quarter ending the fiscal year before the first bar
    session_days: np.ndarray  # datetime64[D]
    first_day: np.datetime64  # the first session
    last_day: np.datetime64  # the last session
    table_start: np.datetime64  # 1 January of first_year
    known_ns: np.ndarray  # filing_known_ns of each day from table_start to last_day

    @property
    def quarters(self) -> int:
        return len(self.period_end)


@dataclass(frozen=True, slots=True)
class _Draws:
    """Every company's random numbers, stacked: u (n, |_U|), n (n, |_N|), z (n, |_Z|, T), v (n, |_V|, T)."""

    u: np.ndarray
    n: np.ndarray
    z: np.ndarray
    v: np.ndarray


@dataclass(frozen=True, slots=True)
class _Prices:
    """Per symbol: daily closes inside the bars and log prices implied before them (knots to interpolate)."""

    closes: np.ndarray  # (n, sessions)
    implied_days: np.ndarray  # (k,) datetime64[D] knots before the first session, then the first session
    implied_log: np.ndarray  # (n, k)


def generate_fundamentals(market: SyntheticMarket, config: SyntheticConfig) -> SyntheticFundamentals:
    """Statements, earnings, insider trades and rating changes for every instrument of ``market``.

    ``config`` must be the one that generated ``market``: its seed keys the random streams and its
    source labels the output. The same (market, config) always gives identical output.
    """
    cal = _calendar(market)
    symbols = [inst.symbol for inst in market.instruments]
    sector = np.array(
        [SECTORS.index(inst.sector or SECTORS[i % len(SECTORS)]) for i, inst in enumerate(market.instruments)]
    )
    draws = _draw(config.seed, len(symbols), cal.quarters)
    closes = np.stack([_session_closes(market.bars[s].ts, market.bars[s].close, market.session_dates) for s in symbols])
    statements, prices, shares = _simulate(draws, sector, cal, closes)
    source = config.source
    facts, earnings = _filings(symbols, draws, cal, statements, source)
    insiders = [t for i, s in enumerate(symbols) for t in _insiders(config.seed, i, s, cal, prices, shares, source)]
    ratings = [r for i, s in enumerate(symbols) for r in _ratings(config.seed, i, s, cal, prices, source)]
    return SyntheticFundamentals(facts=facts, earnings=earnings, insiders=insiders, ratings=ratings)


def store_fundamentals(
    store: FundamentalStore, market: SyntheticMarket, config: SyntheticConfig
) -> tuple[FactWriteReport, SyntheticFundamentals]:
    """Generate ``market``'s companies' fundamentals and write them to ``store``, labelled with the config's
    source; the store's report and what was generated."""
    data = generate_fundamentals(market, config)
    report = store.put_company_data([inst.symbol for inst in market.instruments], facts=data.facts,
                                    earnings=data.earnings, insiders=data.insiders, ratings=data.ratings,
                                    source_name=config.source)  # fmt: skip
    return report, data


def write_synthetic_companies(catalog: Catalog, store: FundamentalStore, config: SyntheticConfig) -> list[str]:
    """A synthetic market's bars in ``catalog`` and its companies' fundamentals in ``store``; its symbols."""
    market = generate_market(config)
    write_synthetic_market(catalog, config, market=market)
    store_fundamentals(store, market, config)
    return [inst.symbol for inst in market.instruments]


# ---- calendar, draws and prices ------------------------------------------------------------------------------------


def _calendar(market: SyntheticMarket) -> _Calendar:
    days = np.asarray(market.session_dates, dtype=np.int64).astype("datetime64[ns]").astype("datetime64[D]")
    first_year = int(str(days[0])[:4]) - _HISTORY_YEARS
    last_year = int(str(days[-1])[:4])
    quarters = 4 * (last_year - first_year + 1)
    months = np.datetime64(f"{first_year}-01", "M") + 3 * np.arange(1, quarters + 1)
    period_end = months.astype("datetime64[D]") - np.timedelta64(1, "D")
    table_start = np.datetime64(f"{first_year}-01-01", "D")
    table_days = np.arange(table_start, days[-1] + np.timedelta64(1, "D"))
    anchor = 4 * _HISTORY_YEARS - 1
    return _Calendar(first_year, period_end, anchor, days, days[0], days[-1], table_start, _end_of_day_ns(table_days))


def _end_of_day_ns(days: np.ndarray) -> np.ndarray:
    """``filing_known_ns`` of many dates at once: the end of each day in New York, as UTC nanoseconds."""
    midnight = pd.DatetimeIndex((days + np.timedelta64(1, "D")).astype("datetime64[ns]"))
    return np.asarray(midnight.tz_localize(_FILING_TIMEZONE).tz_convert("UTC").asi8, dtype=np.int64)


def _draw(seed: int, n_symbols: int, quarters: int) -> _Draws:
    u = np.empty((n_symbols, len(_U)))
    n = np.empty((n_symbols, len(_N)))
    z = np.empty((n_symbols, len(_Z), quarters))
    v = np.empty((n_symbols, len(_V), quarters))
    for i in range(n_symbols):
        rng = _rng(seed, _Stream.SYMBOL_FUNDAMENTALS, i, 0)
        u[i] = rng.random(len(_U))
        n[i] = rng.standard_normal(len(_N))
        z[i] = rng.standard_normal((len(_Z), quarters))
        v[i] = rng.random((len(_V), quarters))
    return _Draws(u=u, n=n, z=z, v=v)


def _session_closes(ts: np.ndarray, close: np.ndarray, session_dates: np.ndarray) -> np.ndarray:
    """The close of the last bar that opens before each session date's end (the day's close below 1d)."""
    index = np.searchsorted(ts, np.asarray(session_dates, dtype=np.int64) + NS_PER_DAY, side="left") - 1
    return np.asarray(close, dtype=np.float64)[np.clip(index, 0, len(close) - 1)]


def _between(
    u: np.ndarray | float, bounds: tuple[float, float] | tuple[np.ndarray, np.ndarray], log: bool = False
) -> np.ndarray:
    lo, hi = (np.asarray(b, dtype=np.float64) for b in bounds)
    if log:
        return np.asarray(np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * u))
    return np.asarray(lo + (hi - lo) * u)


def _sector_column(sector: np.ndarray, name: str) -> np.ndarray:
    """One field of ``_Sector`` per company: (n,) or (n, 2) for a band."""
    return np.array([getattr(_SECTOR_MODELS[SECTORS[k]], name) for k in sector], dtype=np.float64)


def _band(sector: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    column = _sector_column(sector, name)
    return column[:, 0], column[:, 1]


# ---- the three-statement model -------------------------------------------------------------------------------------


def _simulate(
    draws: _Draws, sector: np.ndarray, cal: _Calendar, closes: np.ndarray
) -> tuple[np.ndarray, _Prices, np.ndarray]:
    """Quarterly items (n, T, |ITEMS|), the prices, and shares outstanding (n, T + 1) from the quarter before."""
    u, zs, z, v = draws.u, draws.n, draws.z, draws.v
    n_sym, quarters = u.shape[0], cal.quarters
    t = np.arange(quarters)
    first_close = closes[:, 0]

    # where each quarter end falls in the bars
    in_bars = cal.period_end >= cal.first_day
    session_at_end = np.clip(np.searchsorted(cal.session_days, cal.period_end, side="right") - 1, 0, None)
    close_at_end = closes[:, session_at_end]  # (n, T), meaningful where in_bars
    previous_in_bars = np.concatenate([[False], in_bars[:-1]])
    previous_close = np.concatenate([first_close[:, None], close_at_end[:, :-1]], axis=1)
    start_close = np.where(previous_in_bars, previous_close, first_close[:, None])
    excess_return = np.where(in_bars, np.log(close_at_end / start_close) - _EXPECTED_RETURN_PER_QUARTER, 0.0)

    # the high-accrual spell
    high_accruals = u[:, _U.HIGH_ACCRUALS] < _HIGH_ACCRUAL_PROBABILITY
    spell_length = np.floor(
        _between(u[:, _U.ACCRUAL_LENGTH], (_HIGH_ACCRUAL_QUARTERS[0], _HIGH_ACCRUAL_QUARTERS[1] + 1))
    )
    spell_start = 4.0 + np.floor(u[:, _U.ACCRUAL_START] * max(quarters - 8, 1))  # with a prior year to compare
    ramp = np.clip((t[None, :] - spell_start[:, None] + 1.0) / spell_length[:, None], 0.0, 1.0)
    ramp *= high_accruals[:, None]
    in_spell = high_accruals[:, None] & (t >= spell_start[:, None]) & (t < (spell_start + spell_length)[:, None])
    receivable_multiplier = (
        1.0 + (_between(u[:, _U.ACCRUAL_RECEIVABLES], _HIGH_ACCRUAL_RECEIVABLE_DAYS)[:, None] - 1.0) * ramp
    )
    other_current_multiplier = (
        1.0 + (_between(u[:, _U.ACCRUAL_OTHER_CURRENT], _HIGH_ACCRUAL_OTHER_CURRENT)[:, None] - 1.0) * ramp
    )

    # margins
    da_share = _sector_column(sector, "da_share")
    gross0 = _between(u[:, _U.GROSS_MARGIN], _band(sector, "gross_margin"))
    operating0 = np.minimum(
        _between(u[:, _U.OPERATING_MARGIN], _band(sector, "operating_margin")), gross0 - da_share - _SGA_HEADROOM
    )
    gross = gross0[:, None] + np.cumsum(_MARGIN_WALK_SD_PER_QUARTER * z[:, _Z.GROSS_WALK], axis=1)
    gross += _GROSS_MARGIN_NOISE_SD * z[:, _Z.GROSS_NOISE] - _HIGH_ACCRUAL_GROSS_MARGIN_SLIP * ramp
    gross = np.clip(gross, *_GROSS_MARGIN_BOUNDS)
    operating = operating0[:, None] + np.cumsum(_MARGIN_WALK_SD_PER_QUARTER * z[:, _Z.OPERATING_WALK], axis=1)
    operating = np.clip(
        operating + _OPERATING_MARGIN_NOISE_SD * z[:, _Z.OPERATING_NOISE], _OPERATING_MARGIN_FLOOR, gross
    )

    # shares: buybacks, issues and stock-compensation creep, anchored so the first P/S is the drawn one
    price_to_sales = _between(u[:, _U.PRICE_TO_SALES], _band(sector, "price_to_sales"), log=True)
    start_revenue = _between(u[:, _U.REVENUE], _START_REVENUE_USD, log=True)
    capex_share = da_share * _between(u[:, _U.CAPEX], _CAPEX_TO_DA)
    free_cash_flow_margin = np.maximum(operating0 * (1.0 - _TAX_RATE_MEAN) + da_share - capex_share, 0.0)
    affordable = _BUYBACK_SHARE_OF_FREE_CASH_FLOW * free_cash_flow_margin / price_to_sales / 4.0
    buys = np.where(
        u[:, _U.BUYBACK] < _BUYBACK_PROBABILITY,
        np.minimum(_between(u[:, _U.BUYBACK_RATE], _BUYBACK_RATE_PER_QUARTER), affordable),
        0.0,
    )
    bought = buys[:, None] * (v[:, _V.BUYBACK] < _BUYBACK_ACTIVE_PROBABILITY)
    issued = (v[:, _V.ISSUE] < _ISSUE_PROBABILITY_PER_QUARTER) * _between(v[:, _V.ISSUE_SIZE], _ISSUE_SIZE)
    creep = _between(u[:, _U.STOCK_COMP], _STOCK_COMP_CREEP_PER_QUARTER)[:, None]
    relative = np.concatenate([np.ones((n_sym, 1)), np.cumprod(1.0 + creep - bought + issued, axis=1)], axis=1)
    anchor_shares = price_to_sales * start_revenue / first_close
    shares = np.rint(anchor_shares[:, None] * relative / relative[:, cal.anchor + 1 : cal.anchor + 2])  # (n, T+1)

    # revenue: a log level growing at a rate that converges from its start to its long-run value, with seasons
    long_run = np.clip(
        _sector_column(sector, "growth_per_year") + _LONG_RUN_GROWTH_SD_PER_YEAR * zs[:, _N.LONG_RUN_GROWTH],
        *_LONG_RUN_GROWTH_BOUNDS_PER_YEAR,
    )
    start = np.clip(long_run + _START_GROWTH_SD_PER_YEAR * zs[:, _N.START_GROWTH], *_START_GROWTH_BOUNDS_PER_YEAR)
    wobble = np.empty((n_sym, quarters))
    previous = np.zeros(n_sym)
    for q in range(quarters):
        previous = _GROWTH_AR_PERSISTENCE_PER_QUARTER * previous + _GROWTH_AR_SD_PER_YEAR * z[:, _Z.GROWTH, q]
        wobble[:, q] = previous
    convergence = np.exp(-t / (4.0 * _GROWTH_CONVERGENCE_YEARS))
    growth = long_run[:, None] + (start - long_run)[:, None] * convergence + wobble
    growth += _HIGH_ACCRUAL_GROWTH_PUSH_PER_YEAR * in_spell
    growth = np.clip(growth, *_GROWTH_BOUNDS_PER_YEAR)
    step = growth / 4.0 + _REVENUE_NOISE_SD_PER_QUARTER * z[:, _Z.REVENUE] + _RETURN_TO_REVENUE * excess_return
    amplitude = _sector_column(sector, "season_amplitude") * (0.5 + u[:, _U.SEASON])
    season = 1.0 + amplitude[:, None] * np.asarray(_SEASON_SHAPE)[t % 4]
    log_level = np.cumsum(step, axis=1)  # final before the bars (the anchor year among them)
    anchor_year = slice(cal.anchor - 3, cal.anchor + 1)
    scale = start_revenue / (np.exp(log_level) * season)[:, anchor_year].sum(axis=1)
    # inside the bars revenue is pulled toward what the market cap implies at the starting P/S, so P/S stays sane
    implied = np.log(close_at_end * shares[:, 1:] / price_to_sales[:, None] / (4.0 * scale[:, None]))
    for q in np.flatnonzero(in_bars).tolist():
        current = log_level[:, q - 1] + step[:, q]
        log_level[:, q] = current + _VALUATION_PULL_PER_QUARTER * (implied[:, q] - current)
    level = np.exp(log_level)
    revenue_path = level * season * scale[:, None]
    annual_level = 4.0 * level * scale[:, None]

    # prices at quarter ends: the close inside the bars, before them implied by revenue per share
    walk = np.cumsum(_IMPLIED_PRICE_WALK_SD_PER_QUARTER * z[:, _Z.PRICE], axis=1)
    implied_log = (
        np.log(first_close)[:, None]
        + np.log(level / level[:, cal.anchor : cal.anchor + 1])
        - np.log(shares[:, 1:] / shares[:, cal.anchor + 1 : cal.anchor + 2])
        + walk
        - walk[:, cal.anchor, None]
    )
    quarter_price = np.where(in_bars, close_at_end, np.exp(implied_log))
    before = ~in_bars
    prices = _Prices(
        closes=closes,
        implied_days=np.concatenate([cal.period_end[before], [cal.first_day]]),
        implied_log=np.concatenate([implied_log[:, before], np.log(first_close)[:, None]], axis=1),
    )

    # the company's fixed ratios
    annual0 = annual_level[:, 0]
    cost0 = annual0 * (1.0 - gross[:, 0])
    receivable_days = _sector_column(sector, "receivable_days")
    inventory_days = _sector_column(sector, "inventory_days")
    payable_days = _sector_column(sector, "payable_days")
    accrued_ratio = _between(u[:, _U.ACCRUED], _ACCRUED_TO_ANNUAL_REVENUE)
    other_current_ratio = _between(u[:, _U.OTHER_CURRENT], _OTHER_CURRENT_TO_ANNUAL_REVENUE)
    other_assets_ratio = _between(u[:, _U.OTHER_ASSETS], _band(sector, "other_assets_to_revenue"))
    other_liabilities_ratio = _between(u[:, _U.OTHER_LIABILITIES], _OTHER_LIABILITIES_TO_ANNUAL_REVENUE)
    ppe_ratio = _sector_column(sector, "ppe_to_revenue")
    depreciation_rate = da_share / ppe_ratio / 4.0  # of last quarter's PP&E
    sti_share = _between(u[:, _U.STI_SHARE], _SHORT_TERM_INVESTMENT_SHARE)
    short_debt_share = _between(u[:, _U.SHORT_DEBT], _SHORT_DEBT_SHARE)
    interest_rate = _between(u[:, _U.INTEREST], _INTEREST_RATE_PER_YEAR) / 4.0
    tax_rate = _TAX_RATE_MEAN + _TAX_RATE_SD * zs[:, _N.TAX]
    payout = np.minimum(_sector_column(sector, "payout") * _between(u[:, _U.PAYOUT], _PAYOUT_SCALE), _MAX_PAYOUT)
    optional = np.array([SECTORS[k] in _DIVIDEND_OPTIONAL_SECTORS for k in sector])
    payout = np.where(optional & (u[:, _U.PAYS_DIVIDEND] >= _DIVIDEND_PROBABILITY), 0.0, payout)
    dilution = _between(u[:, _U.DILUTION], _DILUTION)
    other_assets_walk = np.exp(np.cumsum(_OTHER_ITEM_WALK_SD_PER_QUARTER * z[:, _Z.OTHER_ASSETS], axis=1))
    other_liabilities_walk = np.exp(np.cumsum(_OTHER_ITEM_WALK_SD_PER_QUARTER * z[:, _Z.OTHER_LIABILITIES], axis=1))

    # the opening balance sheet
    receivables = np.rint(annual0 * receivable_days / 365.0)
    inventory = np.rint(cost0 * inventory_days / 365.0)
    payables = np.rint(cost0 * payable_days / 365.0)
    accrued = np.rint(annual0 * accrued_ratio)
    other_current = np.rint(annual0 * other_current_ratio)
    ppe = np.rint(annual0 * ppe_ratio)
    other_assets = np.rint(annual0 * other_assets_ratio)
    liquid = np.rint(annual0 * _between(u[:, _U.LIQUID], _LIQUID_TO_ANNUAL_REVENUE))
    assets = liquid + receivables + inventory + other_current + ppe + other_assets
    other_liabilities = np.rint(
        np.minimum(annual0 * other_liabilities_ratio, _MAX_OTHER_LIABILITIES_TO_ASSETS * assets)
    )
    operating_liabilities = payables + accrued + other_liabilities
    leverage = np.clip(
        _between(u[:, _U.DEBT_TO_ASSETS], _band(sector, "debt_to_assets")),
        0.0,
        1.0 - _MIN_EQUITY_TO_ASSETS - operating_liabilities / assets,
    )
    debt = np.rint(leverage * assets)
    retained = np.rint((assets - operating_liabilities - debt) * _between(u[:, _U.RETAINED], _RETAINED_TO_EQUITY))
    smoothed_income = (annual0 / 4.0 * operating0 - interest_rate * debt) * (1.0 - tax_rate)  # a quarter's

    out = np.empty((n_sym, quarters, len(_ITEM_NAMES)))
    col = _COLUMN
    for q in range(quarters):
        revenue = np.rint(revenue_path[:, q])
        cost = np.rint(revenue * (1.0 - gross[:, q]))
        da = np.rint(ppe * depreciation_rate * np.exp(_DA_NOISE_SD * z[:, _Z.DA, q]))
        sga = np.rint(np.maximum(revenue * (gross[:, q] - operating[:, q]) - da, _MIN_SGA_SHARE * revenue))
        gross_profit = revenue - cost
        operating_income = gross_profit - sga - da
        interest = np.rint(debt * interest_rate)
        pretax = operating_income - interest
        rate = np.clip(tax_rate + _TAX_RATE_NOISE_SD * z[:, _Z.TAX, q], *_TAX_RATE_BOUNDS)
        tax = np.rint(pretax * rate)
        net_income = pretax - tax

        annual = 4.0 * revenue
        new_receivables = np.rint(
            annual
            * receivable_days
            * receivable_multiplier[:, q]
            / 365.0
            * np.exp(_DAYS_NOISE_SD * z[:, _Z.RECEIVABLES, q])
        )
        new_inventory = np.rint(4.0 * cost * inventory_days / 365.0 * np.exp(_DAYS_NOISE_SD * z[:, _Z.INVENTORY, q]))
        new_payables = np.rint(4.0 * cost * payable_days / 365.0 * np.exp(_DAYS_NOISE_SD * z[:, _Z.PAYABLES, q]))
        new_accrued = np.rint(annual * accrued_ratio * np.exp(_DAYS_NOISE_SD * z[:, _Z.ACCRUED, q]))
        new_other_current = np.rint(annual * other_current_ratio * other_current_multiplier[:, q])
        new_other_liabilities = np.rint(annual_level[:, q] * other_liabilities_ratio * other_liabilities_walk[:, q])
        new_other_assets = np.rint(annual_level[:, q] * other_assets_ratio * other_assets_walk[:, q])
        capex = np.rint(capex_share * revenue * np.exp(_CAPEX_NOISE_SD * z[:, _Z.CAPEX, q]))
        ppe = ppe + capex - da
        operating_cash_flow = (
            net_income
            + da
            - (new_receivables - receivables)
            - (new_inventory - inventory)
            - (new_other_current - other_current)
            + (new_payables - payables)
            + (new_accrued - accrued)
            + (new_other_liabilities - other_liabilities)
        )
        smoothed_income = (1.0 - _INCOME_SMOOTHING) * smoothed_income + _INCOME_SMOOTHING * net_income
        dividends = np.rint(payout * np.maximum(smoothed_income, 0.0))
        buyback = np.rint(shares[:, q] * bought[:, q] * quarter_price[:, q])
        issue = np.rint(shares[:, q] * issued[:, q] * quarter_price[:, q] * (1.0 - _ISSUE_DISCOUNT))
        new_debt = np.rint(debt + _DEBT_ADJUSTMENT_PER_QUARTER * (leverage * assets - debt))
        liquid = (
            liquid
            + operating_cash_flow
            - capex
            - (new_other_assets - other_assets)
            - dividends
            + issue
            - buyback
            + (new_debt - debt)
        )
        draw = np.maximum(np.ceil(_LIQUID_FLOOR_TO_ANNUAL_REVENUE * annual) - liquid, 0.0)
        debt, liquid = new_debt + draw, liquid + draw
        receivables, inventory, payables, accrued = new_receivables, new_inventory, new_payables, new_accrued
        other_current, other_liabilities, other_assets = new_other_current, new_other_liabilities, new_other_assets
        retained = retained + net_income - dividends

        short_term_investments = np.rint(liquid * sti_share)
        cash = liquid - short_term_investments
        short_debt = np.rint(debt * short_debt_share)
        long_debt = debt - short_debt
        current_assets = cash + short_term_investments + receivables + inventory + other_current
        assets = current_assets + ppe + other_assets
        current_liabilities = payables + accrued + short_debt
        liabilities = current_liabilities + long_debt + other_liabilities
        diluted = np.rint(0.5 * (shares[:, q] + shares[:, q + 1]) * (1.0 + dilution))

        row = out[:, q]
        for name, value in (
            ("revenue", revenue),
            ("cost_of_revenue", cost),
            ("gross_profit", gross_profit),
            ("sga_expense", sga),
            ("depreciation_amortization", da),
            ("operating_income", operating_income),
            ("interest_expense", interest),
            ("pretax_income", pretax),
            ("income_tax", tax),
            ("net_income", net_income),
            ("eps_diluted", net_income / diluted),
            ("shares_diluted", diluted),
            ("cash", cash),
            ("short_term_investments", short_term_investments),
            ("receivables", receivables),
            ("inventory", inventory),
            ("current_assets", current_assets),
            ("ppe_net", ppe),
            ("total_assets", assets),
            ("current_liabilities", current_liabilities),
            ("short_term_debt", short_debt),
            ("long_term_debt", long_debt),
            ("total_liabilities", liabilities),
            ("retained_earnings", retained),
            ("shareholders_equity", assets - liabilities),
            ("shares_outstanding", shares[:, q + 1]),
            ("operating_cash_flow", operating_cash_flow),
            ("capex", capex),
            ("dividends_paid", dividends),
        ):
            row[:, col[name]] = value
    return out, prices, shares


def _fiscal_years(quarterly: np.ndarray) -> np.ndarray:
    """(n, Y, |ITEMS|) fiscal-year values: flows summed over the four quarters, stocks at Q4, shares averaged."""
    n_sym, quarters, width = quarterly.shape
    by_year = quarterly.reshape(n_sym, quarters // 4, 4, width)
    fy = by_year[:, :, 3].copy()
    for name in _FLOW_CURRENCY:
        j = _COLUMN[name]
        fy[:, :, j] = ((by_year[:, :, 0, j] + by_year[:, :, 1, j]) + by_year[:, :, 2, j]) + by_year[:, :, 3, j]
    diluted = np.rint(by_year[:, :, :, _COLUMN["shares_diluted"]].mean(axis=2))
    fy[:, :, _COLUMN["shares_diluted"]] = diluted
    fy[:, :, _COLUMN["eps_diluted"]] = fy[:, :, _COLUMN["net_income"]] / diluted
    return fy


# ---- filings, amendments and earnings ------------------------------------------------------------------------------


def _weekday(days: np.ndarray) -> np.ndarray:
    """Each date, or the next weekday when it falls on a weekend."""
    return np.busday_offset(days.astype("datetime64[D]"), 0, roll="forward")


def _known(days: np.ndarray, cal: _Calendar) -> np.ndarray:
    """``filing_known_ns`` of each date (from the table); -1 for a date after the last session (never emitted)."""
    index = (days.astype("datetime64[D]") - cal.table_start).astype(np.int64)
    inside = (index >= 0) & (index < len(cal.known_ns))
    return np.where(inside, cal.known_ns[np.clip(index, 0, len(cal.known_ns) - 1)], -1)


def _lags(u: np.ndarray, z: np.ndarray, usual: tuple[float, float], bounds: tuple[int, int], sd: float) -> np.ndarray:
    """Whole days from period end to filing: the company's usual lag plus jitter, leaving room for a weekend."""
    days = np.rint(_between(u, usual)[:, None] + sd * z)
    return np.clip(days, bounds[0], bounds[1] - _WEEKEND_ROLL_DAYS)


def _filings(
    symbols: list[str], draws: _Draws, cal: _Calendar, quarterly: np.ndarray, source: str
) -> tuple[list[StatementFact], list[EarningsEvent]]:
    u, zs, z, v = draws.u, draws.n, draws.z, draws.v
    quarters = cal.quarters
    is_year_end = (np.arange(quarters) % 4 == 3)[None, :]
    lag_q = _lags(u[:, _U.LAG_10Q], z[:, _Z.LAG], _USUAL_LAG_10Q_DAYS, _LAG_10Q_DAYS, _LAG_SD_DAYS[0])
    lag_k = _lags(u[:, _U.LAG_10K], z[:, _Z.LAG], _USUAL_LAG_10K_DAYS, _LAG_10K_DAYS, _LAG_SD_DAYS[1])
    lag = np.where(is_year_end, lag_k, lag_q).astype(np.int64)
    filed = _weekday(cal.period_end[None, :] + lag.astype("timedelta64[D]"))
    early = np.where(
        v[:, _V.ANNOUNCE] < _ANNOUNCE_SAME_DAY_PROBABILITY,
        0,
        np.floor(
            (v[:, _V.ANNOUNCE] - _ANNOUNCE_SAME_DAY_PROBABILITY)
            / (1.0 - _ANNOUNCE_SAME_DAY_PROBABILITY)
            * (_ANNOUNCE_EARLY_WEEKDAYS + 1)
        ),
    ).astype(np.int64)
    announced = np.busday_offset(filed, -np.minimum(early, _ANNOUNCE_EARLY_WEEKDAYS))
    restated = is_year_end & (v[:, _V.RESTATE] < _RESTATEMENT_PROBABILITY)
    delay = np.floor(
        _between(
            v[:, _V.RESTATE_DELAY], (_RESTATEMENT_DELAY_DAYS[0], _RESTATEMENT_DELAY_DAYS[1] - _WEEKEND_ROLL_DAYS + 1)
        )
    )
    amended = _weekday(filed + delay.astype(np.int64).astype("timedelta64[D]"))
    filed_known, announced_known, amended_known = _known(filed, cal), _known(announced, cal), _known(amended, cal)

    fiscal_years = _fiscal_years(quarterly)
    bias = _ESTIMATE_BIAS_MEAN + _ESTIMATE_BIAS_SD * zs[:, _N.ESTIMATE_BIAS]
    noise_sd = _between(u[:, _U.ESTIMATE_NOISE], _ESTIMATE_NOISE_SD)[:, None]
    noise_sd = noise_sd * np.where(v[:, _V.BIG_SURPRISE] < _BIG_SURPRISE_PROBABILITY, _BIG_SURPRISE_SCALE, 1.0)
    estimate_factor = np.exp(bias[:, None] + noise_sd * z[:, _Z.ESTIMATE])
    period_end = [str(d) for d in cal.period_end]
    statements_source, earnings_source = f"{source}:statements", f"{source}:earnings"

    facts: list[StatementFact] = []
    earnings: list[EarningsEvent] = []
    eps_col = _COLUMN["eps_diluted"]
    for i, symbol in enumerate(symbols):
        amendments: list[StatementFact] = []
        for q in np.flatnonzero(filed[i] <= cal.last_day).tolist():
            year, k = cal.first_year + q // 4, q % 4
            values = fiscal_years[i, q // 4] if k == 3 else quarterly[i, q]
            period, form, known = _PERIODS[k], ("10-K" if k == 3 else "10-Q"), int(filed_known[i, q])
            facts.extend(
                StatementFact(
                    symbol=symbol,
                    item=name,
                    fiscal_year=year,
                    fiscal_period=period,
                    period_end=period_end[q],
                    known_ns=known,
                    value=value,
                    source=statements_source,
                    form=form,
                )
                for name, value in zip(_ITEM_NAMES, values.tolist(), strict=True)
            )
            eps = float(values[eps_col])
            earnings.append(
                EarningsEvent(
                    symbol=symbol,
                    fiscal_year=year,
                    fiscal_period=period,
                    announced_ns=int(announced_known[i, q]),
                    eps_estimate=eps * float(estimate_factor[i, q]),
                    eps_actual=eps,
                    source=earnings_source,
                )
            )
            if restated[i, q] and amended[i, q] <= cal.last_day:
                size = _between(v[i, _V.RESTATE_SIZE, q], _RESTATEMENT_SIZE)
                kind = min(int(v[i, _V.RESTATE_KIND, q] * 4), 3)
                amendments.extend(
                    StatementFact(
                        symbol=symbol,
                        item=name,
                        fiscal_year=year,
                        fiscal_period=period,
                        period_end=period_end[q],
                        known_ns=int(amended_known[i, q]),
                        value=value,
                        source=statements_source,
                        form="10-K/A",
                        version=2,
                    )
                    for name, value in _reclassified(values.tolist(), kind, float(size))
                )
        facts.extend(amendments)
    return facts, earnings


def _reclassified(values: list[float], kind: int, size: float) -> list[tuple[str, float]]:
    """The items a 10-K/A changes, with their new values: a reclassification, so every identity still holds."""
    c = _COLUMN
    if kind == _RECLASS_COST_SGA:  # some SG&A was cost of revenue
        amount = float(round(size * values[c["sga_expense"]]))
        cost = values[c["cost_of_revenue"]] + amount
        return [
            ("cost_of_revenue", cost),
            ("gross_profit", values[c["revenue"]] - cost),
            ("sga_expense", values[c["sga_expense"]] - amount),
        ]
    if kind == _RECLASS_DEBT and values[c["long_term_debt"]] > 0:  # some long-term debt was due within a year
        amount = float(round(size * values[c["long_term_debt"]]))
        return [
            ("current_liabilities", values[c["current_liabilities"]] + amount),
            ("short_term_debt", values[c["short_term_debt"]] + amount),
            ("long_term_debt", values[c["long_term_debt"]] - amount),
        ]
    if kind == _RECLASS_CASH_FLOW:  # capitalised costs: investing, not operating
        amount = float(round(size * values[c["capex"]]))
        return [
            ("operating_cash_flow", values[c["operating_cash_flow"]] + amount),
            ("capex", values[c["capex"]] + amount),
        ]
    # receivables that were other current assets (total current assets unchanged)
    return [("receivables", values[c["receivables"]] - float(round(size * values[c["receivables"]])))]


# ---- insider trades and rating changes -----------------------------------------------------------------------------


def _price_on(i: int, days: np.ndarray, cal: _Calendar, prices: _Prices) -> np.ndarray:
    """Symbol ``i``'s price on each date: the session's close inside the bars, else the implied price."""
    session = np.clip(np.searchsorted(cal.session_days, days, side="right") - 1, 0, None)
    x = (days - cal.first_day).astype(np.int64).astype(np.float64)
    knots = (prices.implied_days - cal.first_day).astype(np.int64).astype(np.float64)
    implied = np.exp(np.interp(x, knots, prices.implied_log[i]))
    return np.where(days >= cal.first_day, prices.closes[i, session], implied)


def _event_days(rng: np.random.Generator, per_year: float, cal: _Calendar) -> np.ndarray:
    """Weekdays of a Poisson stream from the first statement's year to the last session, sorted."""
    start = np.datetime64(f"{cal.first_year}-01-01", "D")
    span = int((cal.last_day - start).astype(np.int64)) + 1
    count = int(rng.poisson(per_year * span / 365.25))
    offsets = np.sort(np.floor(rng.random(count) * span).astype(np.int64))
    days = _weekday(start + offsets.astype("timedelta64[D]"))
    return np.asarray(days[days <= cal.last_day])


def _insiders(
    seed: int, i: int, symbol: str, cal: _Calendar, prices: _Prices, shares: np.ndarray, source: str
) -> list[InsiderTransaction]:
    rng = _rng(seed, _Stream.SYMBOL_FUNDAMENTALS, i, 1)
    people = int(rng.integers(_INSIDERS[0], _INSIDERS[1] + 1))
    sale_probability = float(_between(rng.random(), _INSIDER_SALE_PROBABILITY))
    days = _event_days(rng, float(_between(rng.random(), _INSIDER_TRADES_PER_YEAR)), cal)
    count = len(days)
    who = rng.integers(0, people, count)
    sale = rng.random(count) < sale_probability
    fraction = np.where(
        sale,
        _between(rng.random(count), _INSIDER_SALE_FRACTION, log=True),
        _between(rng.random(count), _INSIDER_BUY_FRACTION, log=True),
    )
    filing_delay = rng.integers(_INSIDER_FILING_WEEKDAYS[0], _INSIDER_FILING_WEEKDAYS[1] + 1, count)
    noise = rng.standard_normal(count)
    filed = np.busday_offset(days, filing_delay)
    quarter = np.searchsorted(cal.period_end, days, side="right")  # shares index: the last quarter end before
    held = shares[i, quarter]
    size = np.maximum(np.rint(fraction * held), _INSIDER_MIN_SHARES) * np.where(sale, -1.0, 1.0)
    noise_sd = np.where(days >= cal.first_day, _PRICE_NOISE_SD_IN_BARS, _PRICE_NOISE_SD_IMPLIED)
    price = np.round(_price_on(i, days, cal, prices) * np.exp(noise_sd * noise), 2)
    keep = filed <= cal.last_day
    known = _known(filed[keep], cal).tolist()
    label = f"{source}:insiders"
    return [
        InsiderTransaction(
            symbol=symbol,
            filed_ns=k,
            insider=f"Synthetic Insider {chr(65 + w)}",
            role=_INSIDER_ROLES[w],
            shares=s,
            price=p,
            source=label,
        )
        for k, w, s, p in zip(known, who[keep].tolist(), size[keep].tolist(), price[keep].tolist(), strict=True)
    ]


def _ratings(seed: int, i: int, symbol: str, cal: _Calendar, prices: _Prices, source: str) -> list[RatingChange]:
    rng = _rng(seed, _Stream.SYMBOL_FUNDAMENTALS, i, 2)
    firms = int(rng.integers(_RATING_FIRMS[0], _RATING_FIRMS[1] + 1))
    current = rng.choice(len(_RATINGS), size=firms, p=np.asarray(_RATING_WEIGHTS)).tolist()
    days = _event_days(rng, float(_between(rng.random(), _RATING_CHANGES_PER_YEAR)), cal)
    count = len(days)
    firm = rng.integers(0, firms, count).tolist()
    direction_draw, step_draw, target_noise = rng.random(count), rng.random(count), rng.standard_normal(count)
    price = _price_on(i, days, cal, prices)
    momentum = np.log(price / _price_on(i, days - np.timedelta64(_RATING_MOMENTUM_DAYS, "D"), cal, prices))
    up_probability = 0.5 + _RATING_MOMENTUM_TILT * np.tanh(momentum / _RATING_MOMENTUM_SCALE)
    up = (direction_draw < up_probability).tolist()
    step = np.where(step_draw < _RATING_DOUBLE_STEP_PROBABILITY, 2, 1).tolist()
    known = _known(days, cal).tolist()
    label = f"{source}:ratings"
    changes: list[RatingChange] = []
    for e in range(count):
        before = current[firm[e]]
        after = before + (step[e] if up[e] else -step[e])
        if not 0 <= after < len(_RATINGS):  # at the end of the scale: the other way
            after = before - (step[e] if up[e] else -step[e])
        current[firm[e]] = after
        target = round(
            float(price[e]) * (1.0 + _RATING_UPSIDE[after]) * float(np.exp(_TARGET_NOISE_SD * target_noise[e])), 2
        )
        changes.append(
            RatingChange(
                symbol=symbol,
                announced_ns=known[e],
                firm=f"Synthetic Research {chr(65 + firm[e])}",
                from_rating=_RATINGS[before],
                to_rating=_RATINGS[after],
                price_target=target,
                source=label,
            )
        )
    return changes
