"""The company DCF built from statements known at a time: its inputs by hand, its grid, its peers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.analysis.fundamental.company_valuation import ValuationAssumptions, value_company
from quantdesk.analysis.fundamental.statements import FinancialHistory
from quantdesk.core.errors import ConfigError, DataError

ITEMS_2022 = {"revenue": 900.0, "operating_income": 90.0, "current_assets": 300.0, "cash": 50.0,
              "current_liabilities": 150.0, "short_term_debt": 20.0, "shares_outstanding": 10.0}  # fmt: skip
ITEMS_2023 = {"revenue": 1000.0, "operating_income": 100.0, "pretax_income": 90.0, "income_tax": 18.0,
              "net_income": 72.0, "depreciation_amortization": 30.0, "capex": 40.0, "interest_expense": 10.0,
              "current_assets": 330.0, "cash": 60.0, "short_term_investments": 10.0, "current_liabilities": 160.0,
              "short_term_debt": 20.0, "long_term_debt": 180.0, "shareholders_equity": 400.0,
              "shares_outstanding": 10.0}  # fmt: skip


def history(symbol: str = "ACME", scale: float = 1.0) -> FinancialHistory:
    rows = []
    for year, items in ((2022, ITEMS_2022), (2023, ITEMS_2023)):
        for item, value in items.items():
            value = value * scale if item != "shares_outstanding" else value
            rows.append({"symbol": symbol, "item": item, "fiscal_year": year, "fiscal_period": "FY", "version": 1,
                         "period_end": f"{year}-12-31", "known_ns": year, "value": value})  # fmt: skip
    return FinancialHistory.from_facts(symbol, pd.DataFrame(rows))


def test_fcff_inputs_by_hand_and_the_gordon_value() -> None:
    report = value_company(history(), price=50.0, assumptions=ValuationAssumptions(wacc=0.09, growth=0.0, years=1,
                                                                                   terminal_growth=0.0))  # fmt: skip
    # tax 18/90 = 20 %; working capital 2023 (330-60-10)-(160-20) = 120, 2022 (300-50)-(150-20) = 120: no change
    assert report.inputs["tax_rate"] == pytest.approx(0.2) and report.inputs["change_in_working_capital"] == 0.0
    fcff = 100 * 0.8 + 30 - 40  # 70
    assert report.dcf.fcff[0] == pytest.approx(fcff)
    enterprise = fcff / 1.09 + (fcff / 0.09) / 1.09  # year 1 plus the terminal value at year 1, discounted
    net_debt = 200 - 60 - 10
    assert report.dcf.enterprise_value == pytest.approx(enterprise)
    assert report.dcf.value_per_share == pytest.approx((enterprise - net_debt) / 10)
    assert report.upside == pytest.approx(report.dcf.value_per_share / 50 - 1)


def test_the_grid_falls_with_wacc_and_rises_with_growth_and_holds_the_base_case() -> None:
    report = value_company(history(), price=50.0, assumptions=ValuationAssumptions(wacc=0.09))
    grid = report.sensitivity.to_numpy()
    assert (np.diff(grid, axis=0) < 0).all() and (np.diff(grid, axis=1) > 0).all()
    assert report.sensitivity.loc[0.09, 0.025] == pytest.approx(report.dcf.value_per_share)


def test_capm_wacc_uses_the_cost_of_debt_from_interest() -> None:
    report = value_company(history(), price=50.0, assumptions=ValuationAssumptions(beta=1.2))
    equity, debt = 500.0, 200.0
    expected = equity / 700 * (0.04 + 1.2 * 0.05) + debt / 700 * (10 / 200) * (1 - 0.2)
    assert report.dcf.wacc == pytest.approx(expected)


def test_peers_and_missing_inputs() -> None:
    peers = {"PEER": (history("PEER", scale=2.0), 50.0), "ACME": (history(), 50.0)}
    report = value_company(history(), price=50.0, assumptions=ValuationAssumptions(wacc=0.09), peers=peers)
    assert report.peers is not None
    pe = report.peers["pe"]
    assert pe.target_multiple == pytest.approx(50 / 7.2) and pe.peer_median == pytest.approx(50 / 14.4)
    with pytest.raises(DataError, match="without a price"):
        value_company(history(), price=float("nan"), assumptions=ValuationAssumptions())
    with pytest.raises(ConfigError, match="wacc"):
        ValuationAssumptions(wacc=9.0)


def test_pe_is_price_over_diluted_eps_in_the_metrics_and_the_peer_comparison() -> None:
    # diluted EPS as filed (7.0) is not net income / shares outstanding (72 / 10 = 7.2): the two P/E paths used
    # to give 50 / 7.2 (market cap / earnings) in the comparison and 50 / 7.0 in the metrics
    from quantdesk.analysis.fundamental.metrics import company_metrics

    def with_eps(symbol: str, eps: float) -> FinancialHistory:
        frame = pd.DataFrame([{"symbol": symbol, "item": item, "fiscal_year": 2023, "fiscal_period": "FY",
                               "version": 1, "period_end": "2023-12-31", "known_ns": 2023, "value": value}
                              for item, value in (ITEMS_2023 | {"eps_diluted": eps}).items()])  # fmt: skip
        return FinancialHistory.from_facts(symbol, frame)

    target, peer = with_eps("ACME", 7.0), with_eps("PEER", 5.0)
    report = value_company(target, price=50.0, assumptions=ValuationAssumptions(wacc=0.09),
                           peers={"PEER": (peer, 40.0)})  # fmt: skip
    assert report.peers is not None
    comparison = report.peers["pe"]
    metrics = company_metrics(target, price=50.0, as_of_ns=2024)
    assert comparison.target_multiple == metrics.pe == 50.0 / 7.0
    assert comparison.peer_median == company_metrics(peer, price=40.0, as_of_ns=2024).pe == 8.0
    assert comparison.implied_value_per_share == pytest.approx(8.0 * 7.0)
    assert comparison.definition == "price / TTM diluted EPS"
