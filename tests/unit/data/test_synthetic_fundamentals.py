"""Synthetic fundamentals: determinism, statements that add up, realistic filing times, restatements, earnings."""

from __future__ import annotations

import math
from collections import defaultdict
from functools import cache
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from quantdesk.data.sources.synthetic import SECTORS, SyntheticConfig, SyntheticMarket, generate_market
from quantdesk.data.sources.synthetic_fundamentals import (
    _SECTOR_MODELS,
    SyntheticFundamentals,
    generate_fundamentals,
)
from quantdesk.domain.fundamentals import ITEMS, FiscalPeriod, StatementFact, filing_known_ns

NEW_YORK = "America/New_York"
Key = tuple[str, int, FiscalPeriod]  # symbol, fiscal year, fiscal period


@cache
def _generated(n_symbols: int = 5, days: int = 500, seed: int = 7) -> tuple[SyntheticMarket, SyntheticFundamentals]:
    config = SyntheticConfig(n_symbols=n_symbols, days=days, seed=seed)
    market = generate_market(config)
    return market, generate_fundamentals(market, config)


def _filings(facts: list[StatementFact], version: int = 1) -> dict[Key, dict[str, float]]:
    """Each filing's items: the original (version 1), or with the amendments applied (the highest version)."""
    out: dict[Key, dict[str, float]] = defaultdict(dict)
    for fact in sorted(facts, key=lambda f: f.version):
        if fact.version <= version:
            out[(fact.symbol, fact.fiscal_year, fact.fiscal_period)][fact.item] = fact.value
    return out


@cache
def _filed_date(known_ns: int) -> pd.Timestamp:
    """The New York date a ``filing_known_ns`` time belongs to (it is the end of that day)."""
    return (pd.Timestamp(known_ns - 1, unit="ns", tz="UTC").tz_convert(NEW_YORK)).normalize().tz_localize(None)


def _last_known_ns(market: SyntheticMarket) -> int:
    return filing_known_ns(str(pd.Timestamp(int(market.session_dates[-1])).date()))


def _first_year(market: SyntheticMarket) -> int:
    return pd.Timestamp(int(market.session_dates[0])).year


# ---- determinism -----------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_output() -> None:
    _, a = _generated()
    config = SyntheticConfig(n_symbols=5, days=500, seed=7)
    b = generate_fundamentals(generate_market(config), config)
    assert a == b
    assert len(a.facts) > 0 and len(a.earnings) > 0 and len(a.insiders) > 0 and len(a.ratings) > 0


def test_a_different_seed_gives_different_figures() -> None:
    _, a = _generated()
    _, b = _generated(seed=8)
    revenue_a = [f.value for f in a.facts if f.item == "revenue"]
    revenue_b = [f.value for f in b.facts if f.item == "revenue"]
    assert revenue_a != revenue_b


def test_a_symbols_output_does_not_depend_on_the_universe_size() -> None:
    _, small = _generated(n_symbols=3)
    _, large = _generated(n_symbols=5)
    for symbol in ("SYN001", "SYN002", "SYN003"):
        for field in ("facts", "earnings", "insiders", "ratings"):
            mine_small = [x for x in getattr(small, field) if x.symbol == symbol]
            mine_large = [x for x in getattr(large, field) if x.symbol == symbol]
            assert mine_small == mine_large, (symbol, field)
            assert mine_small


# ---- the statements add up -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
def test_every_filing_balances_and_its_subtotals_add_up(version: int) -> None:
    _, fundamentals = _generated(n_symbols=30, days=750)
    filings = _filings(fundamentals.facts, version)
    assert len(filings) > 600
    for key, v in filings.items():
        assert v["total_assets"] == v["total_liabilities"] + v["shareholders_equity"], key
        other_current = v["current_assets"] - (
            v["cash"] + v["short_term_investments"] + v["receivables"] + v["inventory"]
        )
        assert other_current >= 0, key
        assert v["total_assets"] >= v["current_assets"] + v["ppe_net"], key
        assert v["current_liabilities"] >= v["short_term_debt"], key
        assert v["total_liabilities"] >= v["current_liabilities"] + v["long_term_debt"], key
        assert v["gross_profit"] == v["revenue"] - v["cost_of_revenue"], key
        assert v["operating_income"] == v["gross_profit"] - v["sga_expense"] - v["depreciation_amortization"], key
        assert v["pretax_income"] == v["operating_income"] - v["interest_expense"], key
        assert v["net_income"] == v["pretax_income"] - v["income_tax"], key
        assert v["eps_diluted"] == v["net_income"] / v["shares_diluted"], key
        for name in ("revenue", "cost_of_revenue", "sga_expense", "cash", "receivables", "ppe_net", "capex"):
            assert v[name] > 0, (key, name)
        assert v["shares_outstanding"] > 0 and v["shares_diluted"] >= 0.9 * v["shares_outstanding"], key


def test_equity_moves_only_with_income_dividends_and_share_trades() -> None:
    # clean surplus: retained earnings carry income less dividends, so paid-in capital (equity less retained
    # earnings) stays put while the share count only creeps up with stock compensation (no buyback or issue)
    _, fundamentals = _generated(n_symbols=30, days=750)
    filings = _filings(fundamentals.facts)
    order = {FiscalPeriod.Q1: 0, FiscalPeriod.Q2: 1, FiscalPeriod.Q3: 2, FiscalPeriod.FY: 3}
    series: dict[str, list[dict[str, float]]] = defaultdict(list)
    for (symbol, _, _), v in sorted(filings.items(), key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]])):
        series[symbol].append(v)
    creeping_only = 0
    for symbol, rows in series.items():
        paid_in = [v["shareholders_equity"] - v["retained_earnings"] for v in rows]
        ratios = [b["shares_outstanding"] / a["shares_outstanding"] for a, b in pairwise(rows)]
        if all(1.0009 < r < 1.0041 for r in ratios):
            creeping_only += 1
            assert len(set(paid_in)) == 1, symbol
    assert creeping_only >= 5


def test_every_filing_has_every_item_and_the_history_starts_three_years_before_the_bars() -> None:
    market, fundamentals = _generated()
    filings = _filings(fundamentals.facts)
    first_year = _first_year(market)
    for symbol in market.bars:
        mine = {(y, p): v for (s, y, p), v in filings.items() if s == symbol}
        for items in mine.values():
            assert set(items) == set(ITEMS)
        years = sorted({y for y, _ in mine})
        assert years[0] == first_year - 3
        # every fiscal year whose 10-K is due inside the history is there, with its three quarters
        for year in range(first_year - 3, first_year + 1):
            assert all((year, p) in mine for p in (FiscalPeriod.Q1, FiscalPeriod.Q2, FiscalPeriod.Q3, FiscalPeriod.FY))
    assert all(f.fiscal_period is not FiscalPeriod.Q4 for f in fundamentals.facts)  # Q4 is never filed on its own
    # at the first bar two fiscal years are known, so year-over-year scores work from the start
    first_bar_ns = int(market.bars["SYN001"].ts[0])
    known_years = {
        f.fiscal_year
        for f in fundamentals.facts
        if f.symbol == "SYN001" and f.fiscal_period is FiscalPeriod.FY and f.known_ns <= first_bar_ns
    }
    assert known_years == {first_year - 3, first_year - 2}


def test_the_implied_fourth_quarter_is_a_plausible_quarter() -> None:
    # FY = Q1 + Q2 + Q3 + Q4 for every currency flow, Q4 not filed: what is left for it must look like a quarter
    _, fundamentals = _generated(n_symbols=30, days=750)
    filings = _filings(fundamentals.facts)
    flows = [n for n, d in ITEMS.items() if d.kind == "flow" and d.unit == "currency"]
    checked = 0
    for (symbol, year, period), fy in filings.items():
        if period is not FiscalPeriod.FY:
            continue
        quarters = [filings[(symbol, year, p)] for p in (FiscalPeriod.Q1, FiscalPeriod.Q2, FiscalPeriod.Q3)]
        q4 = {n: fy[n] - quarters[0][n] - quarters[1][n] - quarters[2][n] for n in flows}
        assert q4["gross_profit"] == q4["revenue"] - q4["cost_of_revenue"]
        assert q4["net_income"] == q4["pretax_income"] - q4["income_tax"]
        for name in ("revenue", "cost_of_revenue", "sga_expense", "depreciation_amortization", "capex"):
            assert q4[name] > 0, (symbol, year, name)
        assert 0.6 < q4["revenue"] / quarters[2]["revenue"] < 1.8, (symbol, year)
        # the year's weighted share count is the mean of its quarters'; its EPS is the year's income over it
        assert min(q["shares_diluted"] for q in quarters) * 0.9 < fy["shares_diluted"]
        assert fy["shares_diluted"] < max(q["shares_diluted"] for q in quarters) * 1.1
        checked += 1
    assert checked >= 30 * 5


# ---- filing times ----------------------------------------------------------------------------------------------------


def test_every_fact_is_known_at_a_realistic_filing_date_after_its_period() -> None:
    market, fundamentals = _generated(n_symbols=30, days=750)
    filings: dict[tuple[Key, int], set[tuple[int, str, str, str]]] = defaultdict(set)
    for fact in fundamentals.facts:
        key = (fact.symbol, fact.fiscal_year, fact.fiscal_period)
        filings[(key, fact.version)].add((fact.known_ns, fact.period_end, fact.form, fact.source))
    for (key, version), stamps in filings.items():
        assert len(stamps) == 1, key  # one filing: one time, period end, form and source for all its facts
        ((known_ns, period_end, form, source),) = stamps
        filed = _filed_date(known_ns)
        assert filing_known_ns(str(filed.date())) == known_ns  # the end of a New York day
        assert filed.day_of_week < 5
        end = pd.Timestamp(period_end)
        assert end.month in (3, 6, 9, 12) and end == end + pd.offsets.MonthEnd(0)
        assert source == "synthetic(seed=7):statements"
        if version == 1:
            assert form == ("10-K" if key[2] is FiscalPeriod.FY else "10-Q")
            low, high = (25, 45) if form == "10-Q" else (45, 75)
            assert low <= (filed - end).days <= high, (key, form)
        else:
            assert form == "10-K/A" and version == 2
            ((original_ns, *_),) = filings[(key, 1)]
            assert 30 <= (filed - _filed_date(original_ns)).days <= 200
    assert max(f.known_ns for f in fundamentals.facts) <= _last_known_ns(market)


def test_nothing_is_known_after_the_last_session() -> None:
    market, fundamentals = _generated()
    last = _last_known_ns(market)
    assert max(f.known_ns for f in fundamentals.facts) <= last
    assert max(e.announced_ns for e in fundamentals.earnings) <= last
    assert max(t.filed_ns for t in fundamentals.insiders) <= last
    assert max(r.announced_ns for r in fundamentals.ratings) <= last


def test_some_annual_filings_are_amended_later_by_a_few_percent() -> None:
    _, fundamentals = _generated(n_symbols=30, days=750)
    originals = {(f.symbol, f.item, f.fiscal_year, f.fiscal_period): f for f in fundamentals.facts if f.version == 1}
    amended = [f for f in fundamentals.facts if f.version == 2]
    assert amended
    per_filing: dict[Key, list[float]] = defaultdict(list)
    for fact in amended:
        original = originals[(fact.symbol, fact.item, fact.fiscal_year, fact.fiscal_period)]
        assert fact.fiscal_period is FiscalPeriod.FY
        assert fact.known_ns > original.known_ns
        assert fact.period_end == original.period_end
        assert fact.value != original.value
        per_filing[(fact.symbol, fact.fiscal_year, fact.fiscal_period)].append(abs(fact.value / original.value - 1))
    for changes in per_filing.values():
        assert 1 <= len(changes) <= 3
        assert any(0.019 < change < 0.061 for change in changes)  # the reclassified item moves by 2-6 %
    assert len(per_filing) < 0.1 * sum(1 for f in originals.values() if f.item == "revenue" and f.form == "10-K")


# ---- earnings --------------------------------------------------------------------------------------------------------


def test_earnings_report_the_filed_eps_around_the_filing_with_mostly_small_surprises() -> None:
    _, fundamentals = _generated(n_symbols=30, days=750)
    eps = {
        (f.symbol, f.fiscal_year, f.fiscal_period): f
        for f in fundamentals.facts
        if f.item == "eps_diluted" and f.version == 1
    }
    assert len(fundamentals.earnings) == len(eps)
    surprises = []
    for event in fundamentals.earnings:
        filed = eps[(event.symbol, event.fiscal_year, event.fiscal_period)]
        assert event.eps_actual == filed.value
        assert event.announced_ns <= filed.known_ns
        assert (_filed_date(filed.known_ns) - _filed_date(event.announced_ns)).days <= 9
        assert _filed_date(event.announced_ns) > pd.Timestamp(filed.period_end)
        assert event.surprise == (event.eps_actual - event.eps_estimate) / abs(event.eps_estimate)
        assert math.copysign(1.0, event.eps_estimate) == math.copysign(1.0, event.eps_actual)
        surprises.append(event.surprise)
    s = np.asarray(surprises)
    assert np.median(np.abs(s)) < 0.05
    assert 0.5 < (s > 0).mean() < 0.85  # more beats than misses, as estimates run a little low
    assert (s < -0.05).sum() > 0 and (s > 0.10).sum() > 0


# ---- plausible figures -----------------------------------------------------------------------------------------------


def test_price_to_sales_at_the_start_and_margins_are_plausible_for_the_sector() -> None:
    market, fundamentals = _generated(n_symbols=30, days=750)
    filings = _filings(fundamentals.facts)
    anchor_year = _first_year(market) - 1  # the fiscal year ending just before the first bar
    for inst in market.instruments:
        fy = filings[(inst.symbol, anchor_year, FiscalPeriod.FY)]
        price_to_sales = market.bars[inst.symbol].close[0] * fy["shares_outstanding"] / fy["revenue"]
        low, high = _SECTOR_MODELS[inst.sector or ""].price_to_sales
        assert low * (1 - 1e-6) <= price_to_sales <= high * (1 + 1e-6), inst.symbol
        assert low >= 0.5 and high <= 8.0
    for key, v in filings.items():
        assert 0.0 < v["gross_profit"] / v["revenue"] < 1.0, key
        if v["pretax_income"] > 0.02 * v["revenue"]:
            assert 0.12 <= v["income_tax"] / v["pretax_income"] <= 0.30, key
        debt = v["short_term_debt"] + v["long_term_debt"]
        assert 0.0 <= debt / v["total_assets"] < 0.9, key
    leverage: dict[str, list[float]] = defaultdict(list)
    sector_of = {i.symbol: i.sector or "" for i in market.instruments}
    for (symbol, _, period), v in filings.items():
        if period is FiscalPeriod.FY:
            leverage[sector_of[symbol]].append((v["short_term_debt"] + v["long_term_debt"]) / v["total_assets"])
    assert np.median(leverage["Utilities"]) > np.median(leverage["Information Technology"]) + 0.15
    assert np.median(leverage["Financials"]) > np.median(leverage["Health Care"]) + 0.15
    assert set(sector_of.values()) == set(SECTORS)


def _m_score(now: dict[str, float], before: dict[str, float]) -> float:
    """Beneish's eight-variable M-score of one fiscal year against the year before."""

    def asset_quality(v: dict[str, float]) -> float:
        return 1.0 - (v["current_assets"] + v["ppe_net"]) / v["total_assets"]

    def depreciation(v: dict[str, float]) -> float:
        return v["depreciation_amortization"] / (v["depreciation_amortization"] + v["ppe_net"])

    def leverage(v: dict[str, float]) -> float:
        return (v["current_liabilities"] + v["long_term_debt"]) / v["total_assets"]

    dsri = (now["receivables"] / now["revenue"]) / (before["receivables"] / before["revenue"])
    gmi = (before["gross_profit"] / before["revenue"]) / (now["gross_profit"] / now["revenue"])
    aqi = asset_quality(now) / asset_quality(before)
    sgi = now["revenue"] / before["revenue"]
    depi = depreciation(before) / depreciation(now)
    sgai = (now["sga_expense"] / now["revenue"]) / (before["sga_expense"] / before["revenue"])
    tata = (now["net_income"] - now["operating_cash_flow"]) / now["total_assets"]
    lvgi = leverage(now) / leverage(before)
    return (
        -4.84
        + 0.92 * dsri
        + 0.528 * gmi
        + 0.404 * aqi
        + 0.892 * sgi
        + 0.115 * depi
        - 0.172 * sgai
        + 4.679 * tata
        - 0.327 * lvgi
    )


def test_net_income_mostly_trails_cash_flow_and_the_m_score_flags_a_few_companies() -> None:
    _, fundamentals = _generated(n_symbols=60, days=750)
    filings = _filings(fundamentals.facts)
    scores: dict[str, list[float]] = defaultdict(list)
    accruals = []
    for (symbol, year, period), now in filings.items():
        before = filings.get((symbol, year - 1, FiscalPeriod.FY))
        if period is FiscalPeriod.FY and before is not None:
            scores[symbol].append(_m_score(now, before))
            accruals.append((now["net_income"] - now["operating_cash_flow"]) / now["total_assets"])
    flagged = [s for s, m in scores.items() if max(m) > -1.78]
    assert 1 <= len(flagged) <= 0.15 * len(scores)
    assert np.median(accruals) < 0.0  # depreciation is added back: cash flow usually exceeds income
    assert max(accruals) > 0.03


# ---- insiders and ratings --------------------------------------------------------------------------------------------


def test_insider_trades_are_mostly_sales_of_realistic_size_near_the_market_price() -> None:
    market, fundamentals = _generated(n_symbols=30, days=750)
    trades = fundamentals.insiders
    years = (int(market.session_dates[-1]) - pd.Timestamp(f"{_first_year(market) - 3}-01-01").value) / 365.25 / 86400e9
    assert 1.5 <= len(trades) / (30 * years) <= 7.0
    assert 0.6 < np.mean([t.shares < 0 for t in trades]) < 0.95
    filings = _filings(fundamentals.facts)
    session_days = pd.DatetimeIndex(np.asarray(market.session_dates).view("datetime64[ns]"))
    most_shares: dict[str, float] = defaultdict(float)
    for (symbol, _, _), v in filings.items():
        most_shares[symbol] = max(most_shares[symbol], v["shares_outstanding"])
    for t in trades:
        filed = _filed_date(t.filed_ns)
        assert 100 <= abs(t.shares) <= 1e-3 * most_shares[t.symbol]
        assert t.shares == round(t.shares) and t.price > 0 and t.price == round(t.price, 2)
        assert t.role in ("CEO", "CFO", "COO", "Director", "General Counsel")
        assert t.source == "synthetic(seed=7):insiders"
        trade_day = filed - pd.offsets.BDay(2)
        if trade_day >= session_days[0]:  # inside the bars: near a close of the trading days before the filing
            window = (session_days >= trade_day) & (session_days < filed)
            closes = market.bars[t.symbol].close[window]
            assert closes.min() * 0.95 < t.price < closes.max() * 1.05


def test_rating_changes_step_between_the_five_ratings_with_targets_near_the_price() -> None:
    market, fundamentals = _generated(n_symbols=30, days=750)
    ratings = ("sell", "underperform", "hold", "outperform", "buy")
    last_to: dict[tuple[str, str], str] = {}
    session_days = pd.DatetimeIndex(np.asarray(market.session_dates).view("datetime64[ns]"))
    assert len(fundamentals.ratings) > 30 * 5
    for change in fundamentals.ratings:
        assert change.from_rating in ratings and change.to_rating in ratings
        assert 1 <= abs(ratings.index(change.to_rating) - ratings.index(change.from_rating)) <= 2
        previous = last_to.get((change.symbol, change.firm))
        assert previous is None or previous == change.from_rating
        last_to[(change.symbol, change.firm)] = change.to_rating
        day = _filed_date(change.announced_ns)
        if day >= session_days[0]:
            close = market.bars[change.symbol].close[session_days.get_loc(day)]
            assert 0.6 * close < change.price_target < 1.6 * close
    ups = sum(ratings.index(c.to_rating) > ratings.index(c.from_rating) for c in fundamentals.ratings)
    assert 0.3 < ups / len(fundamentals.ratings) < 0.7
