"""DCF against hand arithmetic (Gordon, exit multiple, mid-year, CAPM WACC), the sensitivity grid, and relative
valuation against a small peer set worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.analysis.fundamental.valuation import (
    MULTIPLES,
    CompanyFundamentals,
    FCFFComponents,
    WaccInputs,
    dcf,
    dcf_sensitivity,
    peer_multiples,
    relative_valuation,
)
from quantdesk.core.errors import ConfigError

CENT = 0.005  # "to the cent": the hand figures below are rounded to cents

# Base year from its pieces: EBIT 150 × (1 - 20 %) = 120 NOPAT, + 30 D&A - 40 capex - 10 more working capital = 100.
BASE = FCFFComponents(
    ebit=150.0, tax_rate=0.20, depreciation_amortization=30.0, capex=40.0, change_in_working_capital=10.0
)
GROWTH = (0.10, 0.08, 0.06, 0.05, 0.04)
FORECAST = {"base_fcff": BASE, "growth_rates": GROWTH, "net_debt": 250.0, "shares_outstanding": 50.0}


def test_fcff_components_build_the_base_year() -> None:
    assert BASE.nopat == pytest.approx(120.0)
    assert BASE.fcff == pytest.approx(100.0)


def test_gordon_dcf_matches_the_hand_computation_to_the_cent() -> None:
    # year  FCFF = previous × (1 + g)      discount factor 1 / 1.09^t     present value
    #  1    100     × 1.10 = 110.00         1 / 1.090000 = 0.917431        110.00 / 1.090000 = 100.92
    #  2    110     × 1.08 = 118.80         1 / 1.188100 = 0.841680        118.80 / 1.188100 =  99.99
    #  3    118.80  × 1.06 = 125.93         1 / 1.295029 = 0.772183        125.928 / 1.295029 = 97.24
    #  4    125.928 × 1.05 = 132.22         1 / 1.411582 = 0.708425        132.2244 / 1.411582 = 93.67
    #  5    132.2244 × 1.04 = 137.51        1 / 1.538624 = 0.649931        137.513376 / 1.538624 = 89.37
    # sum of PVs = 481.19
    # terminal value = 137.513376 × 1.025 / (0.09 - 0.025) = 140.951210 / 0.065 = 2168.48
    # PV of terminal = 2168.48016 / 1.538624 = 1409.36
    # EV = 481.19 + 1409.36 = 1890.56; equity = 1890.56 - 250 = 1640.56; per share = 1640.56 / 50 = 32.81
    result = dcf(wacc=0.09, terminal_growth=0.025, **FORECAST)
    assert result.fcff == pytest.approx((110.00, 118.80, 125.928, 132.2244, 137.513376), abs=1e-9)
    assert result.present_values == pytest.approx((100.92, 99.99, 97.24, 93.67, 89.37), abs=CENT)
    assert result.discount_factors[2] == pytest.approx(0.772183, abs=5e-7)
    assert result.sum_pv_fcff == pytest.approx(481.19, abs=CENT)
    assert result.terminal_value == pytest.approx(2168.48, abs=CENT)
    assert result.pv_terminal_value == pytest.approx(1409.36, abs=CENT)
    assert result.enterprise_value == pytest.approx(1890.56, abs=CENT)
    assert result.equity_value == pytest.approx(1640.56, abs=CENT)
    assert result.value_per_share == pytest.approx(32.81, abs=CENT)
    assert result.terminal_method == "gordon"
    assert result.base_fcff == pytest.approx(100.0)


def test_explicit_fcffs_give_the_same_value_as_the_growth_path() -> None:
    grown = dcf(wacc=0.09, terminal_growth=0.025, **FORECAST)
    explicit = dcf(
        wacc=0.09,
        terminal_growth=0.025,
        fcffs=grown.fcff,
        net_debt=250.0,
        shares_outstanding=50.0,
    )
    assert explicit.value_per_share == pytest.approx(grown.value_per_share, rel=1e-12)
    assert explicit.base_fcff is None and explicit.growth_rates is None


def test_exit_multiple_terminal_value() -> None:
    # terminal value = 10 × 220 EBITDA = 2200.00; PV = 2200 / 1.538624 = 1429.85
    # EV = 481.19 + 1429.85 = 1911.04; equity 1661.04; per share 33.22
    result = dcf(wacc=0.09, exit_multiple=10.0, final_year_ebitda=220.0, **FORECAST)
    assert result.terminal_method == "exit_multiple"
    assert result.terminal_value == pytest.approx(2200.00, abs=CENT)
    assert result.pv_terminal_value == pytest.approx(1429.85, abs=CENT)
    assert result.enterprise_value == pytest.approx(1911.04, abs=CENT)
    assert result.value_per_share == pytest.approx(33.22, abs=CENT)


def test_mid_year_convention_discounts_half_a_year_earlier() -> None:
    end = dcf(wacc=0.09, terminal_growth=0.025, **FORECAST)
    mid = dcf(wacc=0.09, terminal_growth=0.025, mid_year=True, **FORECAST)
    assert mid.discount_periods == (0.5, 1.5, 2.5, 3.5, 4.5)
    # every flow and the Gordon terminal value move half a year closer: × 1.09 ** 0.5
    assert mid.sum_pv_fcff == pytest.approx(end.sum_pv_fcff * 1.09**0.5, rel=1e-12)
    assert mid.pv_terminal_value == pytest.approx(end.pv_terminal_value * 1.09**0.5, rel=1e-12)
    # an exit-multiple terminal value is a price at the end of year 5: still discounted over 5 years
    exit_mid = dcf(wacc=0.09, exit_multiple=10.0, final_year_ebitda=220.0, mid_year=True, **FORECAST)
    assert exit_mid.terminal_discount_period == 5.0
    assert exit_mid.pv_terminal_value == pytest.approx(1429.85, abs=CENT)


def test_capm_wacc_is_built_from_its_inputs() -> None:
    # cost of equity = 4 % + 1.2 × 5 % = 10 %; after-tax debt = 6 % × (1 - 25 %) = 4.5 %
    # weights 800 / 1000 = 0.8 and 200 / 1000 = 0.2; WACC = 0.8 × 10 % + 0.2 × 4.5 % = 8.9 %
    inputs = WaccInputs(
        risk_free=0.04,
        beta=1.2,
        equity_risk_premium=0.05,
        pre_tax_cost_of_debt=0.06,
        tax_rate=0.25,
        market_value_equity=800.0,
        market_value_debt=200.0,
    )
    assert inputs.cost_of_equity == pytest.approx(0.10)
    assert inputs.after_tax_cost_of_debt == pytest.approx(0.045)
    assert inputs.equity_weight == pytest.approx(0.8)
    assert inputs.wacc == pytest.approx(0.089)
    result = dcf(wacc=inputs, terminal_growth=0.025, **FORECAST)
    assert result.wacc == pytest.approx(0.089)
    assert result.value_per_share == pytest.approx(dcf(wacc=0.089, terminal_growth=0.025, **FORECAST).value_per_share)
    assert result.to_dict()["inputs"]["wacc_inputs"]["cost_of_equity"] == pytest.approx(0.10)


@pytest.mark.parametrize("growth", [0.09, 0.10])
def test_terminal_growth_at_or_above_wacc_is_a_config_error(growth: float) -> None:
    with pytest.raises(ConfigError, match="terminal_growth: expected an annual fraction below wacc"):
        dcf(wacc=0.09, terminal_growth=growth, **FORECAST)


def test_bad_parameters_name_the_parameter() -> None:
    with pytest.raises(ConfigError, match="exactly one of terminal_growth"):
        dcf(wacc=0.09, terminal_growth=0.02, exit_multiple=8.0, final_year_ebitda=1.0, **FORECAST)
    with pytest.raises(ConfigError, match="final_year_ebitda"):
        dcf(wacc=0.09, exit_multiple=8.0, **FORECAST)
    with pytest.raises(ConfigError, match="shares_outstanding: expected a number > 0, found 0"):
        dcf(wacc=0.09, terminal_growth=0.02, base_fcff=100.0, growth_rates=[0.1], net_debt=0.0, shares_outstanding=0)
    with pytest.raises(ConfigError, match="exactly one of growth_rates"):
        dcf(wacc=0.09, terminal_growth=0.02, net_debt=0.0, shares_outstanding=1.0)
    with pytest.raises(ConfigError, match=r"FCFFComponents.tax_rate: expected a fraction in \[0, 1\)"):
        FCFFComponents(ebit=1.0, tax_rate=21.0, depreciation_amortization=0, capex=0, change_in_working_capital=0)
    with pytest.raises(ConfigError, match="wacc: expected an annual fraction > 0"):
        dcf(wacc=-0.01, terminal_growth=-0.05, **FORECAST)


def test_to_dict_keeps_every_year_and_maps_nan_to_none() -> None:
    data = dcf(wacc=0.09, terminal_growth=0.025, **FORECAST).to_dict()
    assert [row["year"] for row in data["years"]] == [1, 2, 3, 4, 5]
    assert data["years"][0]["present_value"] == pytest.approx(100.92, abs=CENT)
    assert data["inputs"]["fcff_components"]["fcff"] == pytest.approx(100.0)
    assert data["inputs"]["exit_multiple"] is None
    assert data["value_per_share"] == pytest.approx(32.81, abs=CENT)


def test_sensitivity_falls_with_wacc_and_rises_with_growth() -> None:
    waccs = [0.07, 0.08, 0.09, 0.10, 0.11]
    growths = [0.01, 0.02, 0.025, 0.03]
    table = dcf_sensitivity(wacc_values=waccs, terminal_growth_values=growths, **FORECAST)
    assert list(table.index) == waccs and list(table.columns) == growths
    values = table.to_numpy()
    assert np.all(np.diff(values, axis=0) < 0)  # strictly decreasing down each column (higher WACC)
    assert np.all(np.diff(values, axis=1) > 0)  # strictly increasing along each row (higher g)
    assert table.loc[0.09, 0.025] == pytest.approx(32.81, abs=CENT)


def test_sensitivity_cells_with_growth_at_or_above_wacc_are_nan() -> None:
    table = dcf_sensitivity(wacc_values=[0.03, 0.05], terminal_growth_values=[0.02, 0.03, 0.04], **FORECAST)
    assert math.isnan(table.loc[0.03, 0.03]) and math.isnan(table.loc[0.03, 0.04])
    assert not math.isnan(table.loc[0.03, 0.02])
    assert table.loc[0.05].notna().all()


# ---------------------------------------------------------------------------------------------------------
# relative valuation
#
#            price shares mcap  net debt   EV   earnings  P/E   book  P/B  EBITDA  EV/EBITDA  revenue  P/S
# target T     50    10    500     100     600     40    12.5   250   2.0    80       7.5      1000   0.50
# peer A       20    50   1000       0    1000    100    10.0   500   2.0   125       8.0      2000   0.50
# peer B       30    40   1200     300    1500     80    15.0   400   3.0   150      10.0      1500   0.80
# peer C       10    80    800    -200     600    -20     n/m   800   1.0   100       6.0      4000   0.20
# peer D       25    40   1000       0    1000     50    20.0   250   4.0   100      10.0      1000   1.00


def company(symbol: str, price: float, shares: float, net_debt: float, earnings: float, book: float, ebitda: float,
            revenue: float) -> CompanyFundamentals:  # fmt: skip
    return CompanyFundamentals(
        symbol=symbol,
        price=price,
        shares_outstanding=shares,
        net_debt=net_debt,
        earnings_ttm=earnings,
        book_equity=book,
        ebitda_ttm=ebitda,
        revenue_ttm=revenue,
    )


TARGET = company("T", 50, 10, 100, 40, 250, 80, 1000)
PEERS = [
    company("A", 20, 50, 0, 100, 500, 125, 2000),
    company("B", 30, 40, 300, 80, 400, 150, 1500),
    company("C", 10, 80, -200, -20, 800, 100, 4000),
    company("D", 25, 40, 0, 50, 250, 100, 1000),
]


def test_peer_multiples_table_marks_negative_earnings_not_meaningful() -> None:
    table = peer_multiples(PEERS)
    assert list(table.columns) == list(MULTIPLES)
    assert table.loc["B"].tolist() == pytest.approx([15.0, 3.0, 10.0, 0.8])
    assert math.isnan(table.loc["C", "pe"])
    assert table.loc["C", "ev_ebitda"] == pytest.approx(6.0)


def test_relative_valuation_by_hand() -> None:
    result = relative_valuation(TARGET, PEERS)
    pe = result["pe"]
    # P/E: C (negative earnings) excluded; peers 10, 15, 20 -> median 15; one of three (A) below 12.5
    assert pe.peers_excluded == ("C",) and pe.peers_used == ("A", "B", "D")
    assert pe.target_multiple == pytest.approx(12.5)
    assert pe.peer_median == pytest.approx(15.0)
    assert pe.percentile == pytest.approx(100 / 3)
    assert pe.implied_value_per_share == pytest.approx(15.0 * 40 / 10)  # 60.00
    # P/B: peers 2, 3, 1, 4 -> median 2.5; C (1.0) below 2.0, and the tie with A counts half: 1.5 of 4
    pb = result["pb"]
    assert pb.peer_median == pytest.approx(2.5)
    assert pb.percentile == pytest.approx(37.5)
    assert pb.implied_value_per_share == pytest.approx(2.5 * 250 / 10)  # 62.50
    # EV/EBITDA: peers 8, 10, 6, 10 -> median 9; implied (9 × 80 - 100 net debt) / 10 shares = 62.00
    ev = result["ev_ebitda"]
    assert ev.peer_median == pytest.approx(9.0)
    assert ev.percentile == pytest.approx(25.0)
    assert ev.implied_value_per_share == pytest.approx(62.0)
    # P/S: peers 0.5, 0.8, 0.2, 1.0 -> median 0.65; C below the target's 0.5, A equal (half): 1.5 of 4;
    # implied 0.65 × 1000 / 10 = 65.00
    ps = result["ps"]
    assert ps.peer_median == pytest.approx(0.65)
    assert ps.percentile == pytest.approx(37.5)
    assert ps.implied_value_per_share == pytest.approx(65.0)
    assert result.to_frame().loc["pe", "peers_used"] == 3


def test_target_with_negative_earnings_has_no_meaningful_pe() -> None:
    loss_maker = company("L", 50, 10, 100, -40, 250, 80, 1000)
    pe = relative_valuation(loss_maker, PEERS)["pe"]
    assert not pe.target_meaningful
    assert math.isnan(pe.target_multiple) and math.isnan(pe.percentile) and math.isnan(pe.implied_value_per_share)
    assert "earnings_ttm is -40" in pe.note
    assert pe.peer_median == pytest.approx(15.0)
    data = relative_valuation(loss_maker, PEERS).to_dict()
    assert data["comparisons"][0]["target_multiple"] is None
    assert data["comparisons"][1]["target_multiple"] == pytest.approx(2.0)


def test_percentile_extremes_and_self_is_skipped() -> None:
    cheap = company("T", 1, 10, 0, 40, 250, 80, 1000)  # P/E 0.25: below every peer
    assert relative_valuation(cheap, PEERS)["pe"].percentile == 0.0
    dear = company("T", 1000, 10, 0, 40, 250, 80, 1000)  # P/E 250: above every peer
    assert relative_valuation(dear, [*PEERS, dear])["pe"].percentile == 100.0
