"""Statements as known at a time: TTM and Q4 arithmetic, restatements, scores moving only at filings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from quantdesk.analysis.fundamental.metrics import company_metrics
from quantdesk.analysis.fundamental.score import fundamental_score
from quantdesk.analysis.fundamental.statements import FinancialHistory
from quantdesk.analysis.fundamental.universe import ScreenCriteria, screen
from quantdesk.core.errors import ConfigError
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.domain.fundamentals import FiscalPeriod, StatementFact, filing_known_ns
from quantdesk.persistence.db import open_database

# A healthy company's fiscal years: every F-Score test passes in 2023 against 2022; 2022 issued shares
YEARS: dict[int, dict[str, float]] = {
    2021: {"revenue": 900.0, "cost_of_revenue": 600.0, "net_income": 40.0, "operating_cash_flow": 60.0,
           "total_assets": 1000.0, "long_term_debt": 300.0, "current_assets": 400.0, "current_liabilities": 250.0,
           "shares_outstanding": 100.0, "shareholders_equity": 500.0},
    2022: {"revenue": 1000.0, "cost_of_revenue": 650.0, "net_income": 50.0, "operating_cash_flow": 70.0,
           "total_assets": 1050.0, "long_term_debt": 290.0, "current_assets": 420.0, "current_liabilities": 250.0,
           "shares_outstanding": 105.0, "shareholders_equity": 540.0},
    2023: {"revenue": 1150.0, "cost_of_revenue": 720.0, "net_income": 70.0, "operating_cash_flow": 95.0,
           "total_assets": 1100.0, "long_term_debt": 260.0, "current_assets": 460.0, "current_liabilities": 240.0,
           "shares_outstanding": 99.0, "shareholders_equity": 600.0},
}  # fmt: skip
FILED = {2021: "2022-02-20", 2022: "2023-02-20", 2023: "2024-02-20"}


def annual_facts(year: int, figures: dict[str, float], filed: str, form: str = "10-K") -> list[StatementFact]:
    return [
        StatementFact(symbol="ACME", item=item, fiscal_year=year, fiscal_period=FiscalPeriod.FY,
                      period_end=f"{year}-12-31", known_ns=filing_known_ns(filed), value=value, form=form)
        for item, value in figures.items()
    ]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> FundamentalStore:
    store = FundamentalStore(open_database(f"sqlite:///{tmp_path / 'f.db'}"))
    for year, figures in YEARS.items():
        store.put_facts(annual_facts(year, figures, FILED[year]))
    return store


def fscore_at(store: FundamentalStore, date: str) -> int | None:
    at = filing_known_ns(date)
    history = FinancialHistory.from_facts("ACME", store.facts_as_of(["ACME"], at))
    return company_metrics(history, price=10.0, as_of_ns=at).fscore


def test_a_score_before_a_filing_uses_the_previous_filing(store: FundamentalStore) -> None:
    at = filing_known_ns("2024-02-19")
    history = FinancialHistory.from_facts("ACME", store.facts_as_of(["ACME"], at))
    assert history.years() == [2021, 2022]
    assert fscore_at(store, "2024-02-19") == 8  # 2022 against 2021: shares were issued in 2022
    assert fscore_at(store, "2024-02-20") == 9


def test_a_restated_figure_changes_the_score_only_from_its_filing_date(store: FundamentalStore) -> None:
    # the 10-K/A of 2024-06-03 restates 2023's operating cash flow below net income: CFO > 0 still holds,
    # the accrual test (CFO / assets > ROA) now fails
    store.put_facts(annual_facts(2023, {"operating_cash_flow": 30.0}, "2024-06-03", form="10-K/A"))
    assert fscore_at(store, "2024-06-02") == 9
    assert fscore_at(store, "2024-06-03") == 8
    versions = store.all_versions(["ACME"])
    restated = versions[(versions["item"] == "operating_cash_flow") & (versions["fiscal_year"] == 2023)]
    assert list(restated["version"]) == [1, 2] and list(restated["form"]) == ["10-K", "10-K/A"]


def quarter_facts() -> list[StatementFact]:
    out = []
    for q, (revenue, income) in enumerate([(100.0, 10.0), (110.0, 11.0), (120.0, 12.0)], start=1):
        end = {1: "2023-03-31", 2: "2023-06-30", 3: "2023-09-30"}[q]
        for item, value in (("revenue", revenue), ("net_income", income), ("total_assets", 1000.0 + q)):
            out.append(StatementFact(symbol="ACME", item=item, fiscal_year=2023, fiscal_period=FiscalPeriod(f"Q{q}"),
                                     period_end=end, known_ns=filing_known_ns(end) + 30 * 86_400 * 10**9,
                                     value=value, form="10-Q"))  # fmt: skip
    return out


def test_fourth_quarter_is_the_year_less_three_quarters_and_ttm_sums_four(store: FundamentalStore) -> None:
    store.put_facts(quarter_facts())
    history = FinancialHistory.from_facts("ACME", store.facts_as_of(["ACME"]))
    q4 = history.quarterly.loc[(2023, 4)]
    assert q4["revenue"] == 1150.0 - 330.0 and q4["net_income"] == 70.0 - 33.0
    assert q4["total_assets"] == 1100.0  # a stock: the year-end value
    ttm = history.ttm()
    assert ttm["revenue"] == 1150.0 and ttm["total_assets"] == 1100.0
    # one quarter back: Q4 2022 is unknown (2022 has no quarters), so no TTM ending at Q3 2023
    assert "revenue" not in history.ttm(1)


def test_ttm_falls_back_to_the_fiscal_year_without_quarters(store: FundamentalStore) -> None:
    history = FinancialHistory.from_facts("ACME", store.facts_as_of(["ACME"]))
    assert history.ttm()["revenue"] == 1150.0
    assert history.ttm(4)["revenue"] == 1000.0


def test_metrics_and_the_plan_shape(store: FundamentalStore) -> None:
    at = filing_known_ns("2024-03-01")
    history = FinancialHistory.from_facts("ACME", store.facts_as_of(["ACME"], at))
    metrics = company_metrics(history, price=14.0, as_of_ns=at, sector="Industrials")
    assert metrics.market_cap == 14.0 * 99.0
    assert metrics.pe == pytest.approx(14.0 / (70.0 / 99.0))  # no EPS filed: net income / shares
    assert metrics.eps_growth == pytest.approx((70.0 / 99.0) / (50.0 / 105.0) - 1)
    assert metrics.pb == pytest.approx(14.0 * 99.0 / 600.0)
    assert metrics.debt_equity == pytest.approx(260.0 / 600.0)
    assert metrics.roe == pytest.approx(70.0 / 570.0)
    assert metrics.revenue_growth == pytest.approx(0.15)
    row = metrics.row() | {"pe_percentile": 20.0, "pb_percentile": 40.0, "ps_percentile": 30.0,
                           "ev_ebitda_percentile": None, "growth_percentile": 80.0}  # fmt: skip
    doc = fundamental_score(row, as_of="2024-03-01").to_dict()
    body = doc["fundamental_score"]
    assert set(body) == {"composite_value", "confidence", "sub_scores", "key_metrics"}
    assert set(body["sub_scores"]) == {"valuation", "quality", "growth", "financial_health"}
    assert set(body["key_metrics"]) == {"pe_percentile", "pb_percentile", "roe_trend", "debt_trend"}
    assert body["sub_scores"]["valuation"] == pytest.approx(1 - (20 + 40 + 30) / 300)
    assert body["sub_scores"]["growth"] == pytest.approx(0.8)
    assert body["key_metrics"]["roe_trend"] == "improving" and body["key_metrics"]["debt_trend"] == "falling"
    assert all(0.0 <= v <= 1.0 for v in body["sub_scores"].values() if v is not None)
    assert 0.0 < body["confidence"] <= 1.0


def test_screen_keeps_rows_passing_every_threshold_and_unknown_fails() -> None:
    table = pd.DataFrame(
        {"fscore": [8, 5, None], "pe": [12.0, 30.0, 10.0], "debt_equity": [0.3, 0.2, 0.1]},
        index=["A", "B", "C"],
    )
    assert list(screen(table, ScreenCriteria(min_fscore=6, pe_max=25)).index) == ["A"]
    assert list(screen(table, ScreenCriteria(debt_equity_max=0.25)).index) == ["B", "C"]
    with pytest.raises(ConfigError, match="pe_max"):
        ScreenCriteria(pe_max=float("nan"))
