"""The quality scores: each Piotroski signal and each Beneish variable on its own, Altman's zones, the worked
examples (Altman's from a textbook; the others constructed, with their arithmetic written out), Beneish's
indices against an independent published spreadsheet, missing data and bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from quantdesk.analysis.fundamental.altman import (
    ALTMAN_Z_1968,
    AltmanZone,
    altman_z,
    altman_z_double_prime,
)
from quantdesk.analysis.fundamental.beneish import (
    BENEISH_THRESHOLD_ALTERNATIVE,
    beneish_mscore,
)
from quantdesk.analysis.fundamental.piotroski import FScoreSignal, piotroski_fscore
from quantdesk.core.errors import ConfigError

# --- Piotroski F-Score -------------------------------------------------------------------------------

# A company that passes all nine signals (t-2 supplies beginning assets for the prior year).
F_PRIOR2 = {"total_assets": 900.0}
F_PRIOR = {
    "net_income": 40.0,
    "operating_cash_flow": 50.0,
    "total_assets": 1000.0,
    "long_term_debt": 300.0,
    "current_assets": 400.0,
    "current_liabilities": 250.0,
    "shares_outstanding": 100.0,
    "revenue": 1000.0,
    "gross_profit": 300.0,
}
F_CURRENT = {
    "net_income": 60.0,
    "operating_cash_flow": 90.0,
    "total_assets": 1100.0,
    "long_term_debt": 280.0,
    "current_assets": 450.0,
    "current_liabilities": 250.0,
    "shares_outstanding": 100.0,
    "revenue": 1150.0,
    "gross_profit": 368.0,
}


def fscore_with(
    *, current: dict[str, float] | None = None, prior: dict[str, float] | None = None, drop: tuple[str, ...] = ()
) -> Any:
    """F-Score of the all-pass company with some figures replaced and some dropped ("prior.revenue")."""
    years = {"current": {**F_CURRENT, **(current or {})}, "prior": {**F_PRIOR, **(prior or {})}}
    for key in drop:
        label, item = key.split(".")
        del years[label][item]
    return piotroski_fscore(years["current"], years["prior"], F_PRIOR2)


def test_the_all_pass_company_scores_nine_of_nine() -> None:
    score = fscore_with()
    assert (score.score, score.computable, len(score.tests)) == (9, 9, 9)
    assert score.approximations == ()


# (signal, a change that makes it fail, the score then, a figure whose absence makes it not computable).
# A loss also fails ΔROA, and a cash outflow also fails ACCRUAL: those two changes cost two points.
F_CASES = [
    (FScoreSignal.ROA, {"current": {"net_income": -10.0}}, 7, "current.net_income"),
    (FScoreSignal.CFO, {"current": {"operating_cash_flow": -5.0}}, 7, "current.operating_cash_flow"),
    (FScoreSignal.DELTA_ROA, {"current": {"net_income": 40.0}}, 8, "prior.net_income"),
    (FScoreSignal.ACCRUAL, {"current": {"operating_cash_flow": 55.0}}, 8, "current.operating_cash_flow"),
    (FScoreSignal.DELTA_LEVER, {"current": {"long_term_debt": 340.0}}, 8, "prior.long_term_debt"),
    (FScoreSignal.DELTA_LIQUID, {"current": {"current_assets": 380.0}}, 8, "current.current_liabilities"),
    (FScoreSignal.EQ_OFFER, {"current": {"shares_outstanding": 105.0}}, 8, "prior.shares_outstanding"),
    (FScoreSignal.DELTA_MARGIN, {"current": {"gross_profit": 340.0}}, 8, "current.revenue"),
    (FScoreSignal.DELTA_TURN, {"current": {"revenue": 1000.0, "gross_profit": 330.0}}, 8, "prior.revenue"),
]


@pytest.mark.parametrize(
    ("signal", "failing", "failed_score", "missing"), F_CASES, ids=[case[0].value for case in F_CASES]
)
def test_each_fscore_signal_passes_fails_and_reports_missing_data(
    signal: FScoreSignal, failing: dict[str, dict[str, float]], failed_score: int, missing: str
) -> None:
    assert fscore_with().test(signal).passed is True

    failed = fscore_with(**failing)
    assert failed.test(signal).passed is False
    assert failed.score == failed_score

    absent = fscore_with(drop=(missing,))
    test = absent.test(signal)
    assert test.passed is None
    assert not test.computable
    assert test.inputs[missing] is None
    assert absent.computable <= 8
    assert absent.score == absent.computable  # everything still computable still passes


def test_fscore_values_are_the_paper_ratios_scaled_by_beginning_assets() -> None:
    score = fscore_with()
    roa = score.test("DELTA_ROA").values
    assert roa["roa"] == pytest.approx(60 / 1000)  # NI_t / TA_t-1
    assert roa["prior_roa"] == pytest.approx(40 / 900)  # NI_t-1 / TA_t-2
    accrual = score.test("ACCRUAL").values
    assert accrual["accrual"] == pytest.approx(60 / 1000 - 90 / 1000)  # ROA - CFO / TA_t-1
    lever = score.test("DELTA_LEVER").values
    assert lever["leverage"] == pytest.approx(280 / ((1100 + 1000) / 2))
    assert lever["prior_leverage"] == pytest.approx(300 / ((1000 + 900) / 2))
    turn = score.test("DELTA_TURN").values
    assert turn["asset_turnover"] == pytest.approx(1150 / 1000)
    assert turn["prior_asset_turnover"] == pytest.approx(1000 / 900)
    assert score.test("DELTA_LIQUID").values["current_ratio"] == pytest.approx(1.8)
    assert score.test("DELTA_MARGIN").values["gross_margin"] == pytest.approx(0.32)


def test_fscore_without_t_minus_2_scales_the_prior_year_by_its_own_year_end_and_says_so() -> None:
    score = piotroski_fscore(F_CURRENT, F_PRIOR)
    delta_roa = score.test(FScoreSignal.DELTA_ROA)
    assert delta_roa.values["prior_roa"] == pytest.approx(40 / 1000)
    assert delta_roa.approximations and "end-of-year" in delta_roa.approximations[0]
    assert score.test(FScoreSignal.DELTA_TURN).values["prior_asset_turnover"] == pytest.approx(1.0)
    assert score.test(FScoreSignal.DELTA_LEVER).values["prior_leverage"] == pytest.approx(0.3)
    assert len(score.approximations) == 1  # one note, shared by the three tests that used it
    assert score.test(FScoreSignal.ROA).approximations == ()


def test_gross_margin_falls_back_to_revenue_less_cost_of_revenue() -> None:
    prior = {k: v for k, v in F_PRIOR.items() if k != "gross_profit"} | {"cost_of_revenue": 700.0}
    score = piotroski_fscore(F_CURRENT, prior, F_PRIOR2)
    margin = score.test(FScoreSignal.DELTA_MARGIN)
    assert margin.values["prior_gross_margin"] == pytest.approx(0.30)
    assert margin.inputs["prior.cost_of_revenue"] == 700.0
    assert margin.passed is True


def test_lever_unchanged_at_zero_debt_does_not_pass_because_leverage_did_not_fall() -> None:
    score = fscore_with(current={"long_term_debt": 0.0}, prior={"long_term_debt": 0.0})
    assert score.test(FScoreSignal.DELTA_LEVER).passed is False


def test_nan_reads_as_missing() -> None:
    score = fscore_with(current={"net_income": math.nan})
    assert score.test(FScoreSignal.ROA).passed is None
    assert score.test(FScoreSignal.ROA).inputs["current.net_income"] is None


def test_fscore_worked_example_constructed() -> None:
    """Constructed example (no published example with every input printed was at hand): year t-2 total
    assets 900; year t-1: NI 40, CFO 50, TA 1000, LTD 300, CA 400, CL 250, shares 100, sales 1000, GP 300;
    year t: NI 60, CFO 90, TA 1100, LTD 280, CA 450, CL 250, shares 105 (an issue), sales 1150, GP 368.
      ROA      60/1000 = 0.0600 > 0                                         pass
      CFO      90 > 0                                                       pass
      ΔROA     0.0600 - 40/900 = 0.0600 - 0.0444 = +0.0156                  pass
      ACCRUAL  90/1000 = 0.0900 > 0.0600                                    pass
      ΔLEVER   280/1050 = 0.2667 < 300/950 = 0.3158                         pass
      ΔLIQUID  450/250 = 1.80 > 400/250 = 1.60                              pass
      EQ_OFFER 105 > 100 shares                                             fail
      ΔMARGIN  368/1150 = 0.3200 > 300/1000 = 0.3000                        pass
      ΔTURN    1150/1000 = 1.150 > 1000/900 = 1.111                         pass
    F = 8 of 9.
    """
    score = fscore_with(current={"shares_outstanding": 105.0})
    assert score.score == 8
    assert [test.passed for test in score.tests] == [True] * 6 + [False] + [True] * 2
    assert round(score.test("DELTA_ROA").values["delta_roa"] or 0, 4) == 0.0156
    assert round(score.test("DELTA_LEVER").values["leverage"] or 0, 4) == 0.2667
    assert round(score.test("DELTA_LEVER").values["prior_leverage"] or 0, 4) == 0.3158
    assert round(score.test("DELTA_TURN").values["prior_asset_turnover"] or 0, 3) == 1.111


def test_fscore_to_dict_is_strict_json() -> None:
    score = fscore_with(current={"net_income": math.nan})
    payload = json.loads(json.dumps(score.to_dict(), allow_nan=False))
    assert payload["score"] == 6 and payload["computable"] == 6  # ROA, ΔROA, ACCRUAL need NI
    assert [test["name"] for test in payload["tests"]] == [signal.value for signal in FScoreSignal]
    assert payload["tests"][0] == {
        "name": "ROA",
        "rule": "net income / beginning total assets > 0",
        "inputs": {"current.net_income": None, "prior.total_assets": 1000.0},
        "values": {"roa": None},
        "passed": None,
        "approximations": [],
    }


# --- Altman Z ----------------------------------------------------------------------------------------

Z_YEAR = {
    "total_assets": 1000.0,
    "current_assets": 500.0,
    "current_liabilities": 300.0,
    "retained_earnings": 300.0,
    "operating_income": 100.0,
    "total_liabilities": 600.0,
    "shareholders_equity": 400.0,
    "revenue": 1500.0,
}


def test_altman_z_worked_example_constructed() -> None:
    """Constructed example: TA 1000, CA 500, CL 300, RE 300, EBIT 100, TL 600, sales 1500, market
    value of equity 1200.
      X1 = (500 - 300)/1000 = 0.20   1.2 x 0.20 = 0.24
      X2 = 300/1000        = 0.30   1.4 x 0.30 = 0.42
      X3 = 100/1000        = 0.10   3.3 x 0.10 = 0.33
      X4 = 1200/600        = 2.00   0.6 x 2.00 = 1.20
      X5 = 1500/1000       = 1.50   1.0 x 1.50 = 1.50
    Z = 3.69 > 2.99: safe.
    """
    result = altman_z(Z_YEAR, market_value_equity=1200.0)
    assert [r.value for r in result.ratios] == pytest.approx([0.2, 0.3, 0.1, 2.0, 1.5])
    assert [r.contribution for r in result.ratios] == pytest.approx([0.24, 0.42, 0.33, 1.2, 1.5])
    assert result.z == pytest.approx(3.69)
    assert result.zone is AltmanZone.SAFE
    x4 = result.ratio("X4")
    assert (x4.numerator, x4.denominator, x4.coefficient) == (1200.0, 600.0, 0.6)
    assert result.inputs["market_value_equity"] == 1200.0


def test_altman_z_reproduces_the_textbook_example_of_saunders_and_cornett() -> None:
    """Saunders and Cornett, *Financial Institutions Management: A Risk Management Approach*, the chapter on
    individual loan credit risk (linear discriminant models): a borrower with X1 = .2, X2 = 0, X3 = -.20,
    X4 = .10 and X5 = 2.0 has Z = 1.2(.2) + 1.4(0) + 3.3(-.20) + 0.6(.10) + 1.0(2.0) = 1.64, printed to two
    decimals, below 1.81: the high default risk class. Statements giving exactly those ratios: total assets
    100, working capital 20, retained earnings 0, EBIT -20, market value of equity 10 against total
    liabilities 100, sales 200."""
    year = {"current_assets": 50.0, "current_liabilities": 30.0, "total_assets": 100.0, "retained_earnings": 0.0,
            "operating_income": -20.0, "total_liabilities": 100.0, "revenue": 200.0}  # fmt: skip
    result = altman_z(year, market_value_equity=10.0)
    assert [round(r.value or 0.0, 10) for r in result.ratios] == [0.2, 0.0, -0.2, 0.1, 2.0]
    assert result.z is not None and round(result.z, 2) == 1.64
    assert result.zone is AltmanZone.DISTRESS


def test_altman_z_equals_the_percent_form_printed_in_the_1968_paper() -> None:
    """Altman (1968), Journal of Finance 23(4), equation (I): Z = .012 X1 + .014 X2 + .033 X3 + .006 X4
    + .999 X5 with X1..X4 in percent and X5 in times. On the example above that form gives
    .012 x 20 + .014 x 30 + .033 x 10 + .006 x 200 + .999 x 1.5 = 3.6885; the fraction form differs only
    through .999 vs 1.0 on X5 (1.5 x 0.001 = 0.0015)."""
    result = altman_z(Z_YEAR, market_value_equity=1200.0)
    percent_form = 0.012 * 20 + 0.014 * 30 + 0.033 * 10 + 0.006 * 200 + 0.999 * 1.5
    assert percent_form == pytest.approx(3.6885)
    assert result.z == pytest.approx(percent_form + 0.001 * 1.5)


@pytest.mark.parametrize(
    ("z", "zone"),
    [(3.0, AltmanZone.SAFE), (2.99, AltmanZone.GREY), (1.81, AltmanZone.GREY), (1.80, AltmanZone.DISTRESS)],
)
def test_altman_zone_bounds_belong_to_the_grey_zone(z: float, zone: AltmanZone) -> None:
    assert ALTMAN_Z_1968.zone(z) is zone


def test_altman_z_distress_case() -> None:
    """TA 1000, CA 300, CL 400, RE -100, EBIT -20, TL 900, sales 800, MVE 90:
    1.2(-0.1) + 1.4(-0.1) + 3.3(-0.02) + 0.6(0.1) + 1.0(0.8) = -0.12 - 0.14 - 0.066 + 0.06 + 0.8 = 0.534."""
    year = {
        "total_assets": 1000.0,
        "current_assets": 300.0,
        "current_liabilities": 400.0,
        "retained_earnings": -100.0,
        "operating_income": -20.0,
        "total_liabilities": 900.0,
        "revenue": 800.0,
    }
    result = altman_z(year, market_value_equity=90.0)
    assert result.z == pytest.approx(0.534)
    assert result.zone is AltmanZone.DISTRESS


def test_altman_z_double_prime_worked_example_constructed() -> None:
    """Constructed example, the same year as above with book equity 400:
    6.56 x 0.20 + 3.26 x 0.30 + 6.72 x 0.10 + 1.05 x (400/600)
    = 1.312 + 0.978 + 0.672 + 0.700 = 3.662 > 2.60: safe.
    """
    result = altman_z_double_prime(Z_YEAR)
    assert [r.name for r in result.ratios] == ["X1", "X2", "X3", "X4"]
    assert [r.contribution for r in result.ratios] == pytest.approx([1.312, 0.978, 0.672, 0.7])
    assert result.z == pytest.approx(3.662)
    assert result.zone is AltmanZone.SAFE
    assert result.inputs["current.shareholders_equity"] == 400.0
    assert result.model.safe_above == 2.60 and result.model.distress_below == 1.10


def test_altman_z_double_prime_grey_zone() -> None:
    year = Z_YEAR | {"retained_earnings": 0.0, "operating_income": 0.0, "shareholders_equity": 60.0}
    result = altman_z_double_prime(year)  # 1.312 + 0 + 0 + 1.05 x 0.1 = 1.417
    assert result.z == pytest.approx(1.417)
    assert result.zone is AltmanZone.GREY


def test_altman_missing_figure_leaves_its_ratio_and_z_not_computable() -> None:
    year = {k: v for k, v in Z_YEAR.items() if k != "retained_earnings"}
    result = altman_z(year, market_value_equity=1200.0)
    assert result.ratio("X2").value is None and result.ratio("X2").contribution is None
    assert result.ratio("X1").value == pytest.approx(0.2)
    assert result.z is None and result.zone is None
    unknown_mve = altman_z(Z_YEAR, market_value_equity=math.nan)
    assert unknown_mve.ratio("X4").value is None and unknown_mve.z is None
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["z"] is None and payload["zone"] is None
    assert payload["ratios"][1]["numerator"] is None


def test_altman_to_dict_keeps_model_coefficients_and_zone() -> None:
    payload = altman_z(Z_YEAR, market_value_equity=1200.0).to_dict()
    assert payload["coefficients"] == [1.2, 1.4, 3.3, 0.6, 1.0]
    assert payload["zone"] == "safe"
    assert payload["z"] == pytest.approx(3.69)


# --- Beneish M-Score ---------------------------------------------------------------------------------

M_PRIOR = {
    "revenue": 1000.0,
    "cost_of_revenue": 600.0,
    "receivables": 100.0,
    "current_assets": 400.0,
    "ppe_net": 400.0,
    "total_assets": 1000.0,
    "depreciation_amortization": 100.0,
    "sga_expense": 100.0,
    "current_liabilities": 200.0,
    "long_term_debt": 200.0,
    "net_income": 50.0,
    "operating_cash_flow": 60.0,
}
M_CURRENT = {
    "revenue": 1200.0,
    "cost_of_revenue": 780.0,
    "receivables": 180.0,
    "current_assets": 500.0,
    "ppe_net": 450.0,
    "total_assets": 1250.0,
    "depreciation_amortization": 90.0,
    "sga_expense": 132.0,
    "current_liabilities": 300.0,
    "long_term_debt": 300.0,
    "net_income": 100.0,
    "operating_cash_flow": 25.0,
}

# (variable, hand-computed value, a figure whose absence makes it not computable)
M_CASES = [
    ("DSRI", (180 / 1200) / (100 / 1000), "current.receivables"),  # 0.15 / 0.10 = 1.5
    ("GMI", 0.40 / 0.35, "prior.cost_of_revenue"),  # (400/1000) / (420/1200) = 1.142857
    ("AQI", (1 - 950 / 1250) / (1 - 800 / 1000), "current.ppe_net"),  # 0.24 / 0.20 = 1.2
    ("SGI", 1200 / 1000, "prior.revenue"),  # 1.2
    ("DEPI", (100 / 500) / (90 / 540), "prior.depreciation_amortization"),  # 0.2 / 0.16667 = 1.2
    ("SGAI", (132 / 1200) / (100 / 1000), "current.sga_expense"),  # 0.11 / 0.10 = 1.1
    ("LVGI", (600 / 1250) / (400 / 1000), "prior.long_term_debt"),  # 0.48 / 0.40 = 1.2
    ("TATA", (100 - 25) / 1250, "current.operating_cash_flow"),  # 75 / 1250 = 0.06
]
M_COEFFICIENTS = {
    "DSRI": 0.920,
    "GMI": 0.528,
    "AQI": 0.404,
    "SGI": 0.892,
    "DEPI": 0.115,
    "SGAI": -0.172,
    "LVGI": -0.327,
    "TATA": 4.679,
}


@pytest.mark.parametrize(("name", "expected", "missing"), M_CASES, ids=[case[0] for case in M_CASES])
def test_each_mscore_variable_matches_its_hand_computed_value(name: str, expected: float, missing: str) -> None:
    result = beneish_mscore(M_CURRENT, M_PRIOR)
    variable = result.variable(name)
    assert variable.value == pytest.approx(expected)
    assert variable.coefficient == M_COEFFICIENTS[name]
    assert variable.contribution == pytest.approx(M_COEFFICIENTS[name] * expected)
    assert missing in variable.inputs


@pytest.mark.parametrize(("name", "expected", "missing"), M_CASES, ids=[case[0] for case in M_CASES])
def test_a_missing_figure_makes_only_its_variable_and_m_not_computable(
    name: str, expected: float, missing: str
) -> None:
    label, item = missing.split(".")
    years = {"current": dict(M_CURRENT), "prior": dict(M_PRIOR)}
    del years[label][item]
    result = beneish_mscore(years["current"], years["prior"])
    variable = result.variable(name)
    assert variable.value is None and variable.contribution is None and not variable.computable
    assert variable.inputs[missing] is None
    assert result.m is None and result.likely_manipulator is None
    assert result.variable("TATA" if name != "TATA" else "SGI").computable


def test_mscore_worked_example_constructed() -> None:
    """Constructed example (the figures of M_PRIOR / M_CURRENT above):
    intercept                                  -4.840000
    DSRI 0.920 x 1.5                =          +1.380000
    GMI  0.528 x 0.40/0.35 = 0.528 x 1.142857  +0.603429
    AQI  0.404 x 1.2                =          +0.484800
    SGI  0.892 x 1.2                =          +1.070400
    DEPI 0.115 x 1.2                =          +0.138000
    SGAI -0.172 x 1.1               =          -0.189200
    TATA 4.679 x 0.06               =          +0.280740
    LVGI -0.327 x 1.2               =          -0.392400
    M                               =          -1.464231  > -1.78: likely manipulator
    """
    result = beneish_mscore(M_CURRENT, M_PRIOR)
    assert round(result.m or 0, 6) == -1.464231
    assert result.likely_manipulator is True
    assert result.threshold == -1.78
    assert result.computable == 8
    assert result.variable("DSRI").current_part == pytest.approx(0.15)
    assert result.variable("DSRI").prior_part == pytest.approx(0.10)


def test_mscore_indices_agree_with_an_independent_published_spreadsheet() -> None:
    """Cross-check against someone else's implementation, not the paper: ShookRun.com's ``MScore.XLS``,
    "The Full Beneish model for earnings manipulation detection (Based on Eight Variables)", applied to
    Jean Philippe Fragrances, fiscal 1996 against 1995 (the copy kept at docstoc.com, docs/100752066).
    Its figures are below as the sheet prints them (thousands); it prints the eight indices to three
    decimals, which ours reproduce. Its eight-variable M is cut off in that copy, so M itself is not
    compared here (the constructed example above holds the arithmetic of M)."""
    fiscal_1996 = {
        "revenue": 93281.0,
        "cost_of_revenue": 51355.0,
        "receivables": 1124.0,
        "current_assets": 72726.0,
        "ppe_net": 1734.0,
        "depreciation_amortization": 1597.0,
        "total_assets": 85585.0,
        "sga_expense": 32416.0,
        "net_income": 5658.0,
        "operating_cash_flow": 7975.0,
        "current_liabilities": 26158.0,
        "long_term_debt": 485.0,
    }
    fiscal_1995 = {
        "revenue": 93669.0,
        "cost_of_revenue": 48703.0,
        "receivables": 970.0,
        "current_assets": 67539.0,
        "ppe_net": 1970.0,
        "depreciation_amortization": 1322.0,
        "total_assets": 84001.0,
        "sga_expense": 32990.0,
        "net_income": 9038.0,
        "operating_cash_flow": 2836.0,
        "current_liabilities": 26176.0,
        "long_term_debt": 596.0,
    }
    printed = {
        "DSRI": 1.164,
        "GMI": 1.068,
        "AQI": 0.753,
        "SGI": 0.996,
        "DEPI": 0.838,
        "SGAI": 0.987,
        "TATA": -0.027,
        "LVGI": 0.977,
    }
    result = beneish_mscore(fiscal_1996, fiscal_1995)
    assert {name: round(result.variable(name).value or math.nan, 3) for name in printed} == printed


def test_mscore_flag_depends_on_the_threshold() -> None:
    # Sales flat, receivables and margins steady, accruals negative: an unremarkable year.
    steady = M_PRIOR | {"net_income": 50.0, "operating_cash_flow": 80.0}
    result = beneish_mscore(steady, M_PRIOR)
    # every index is 1, TATA = (50 - 80) / 1000 = -0.03:
    # M = -4.84 + 0.92 + 0.528 + 0.404 + 0.892 + 0.115 - 0.172 - 0.327 + 4.679 x (-0.03) = -2.48 - 0.14037
    assert result.m == pytest.approx(-2.62037)
    assert result.likely_manipulator is False
    assert beneish_mscore(steady, M_PRIOR, threshold=BENEISH_THRESHOLD_ALTERNATIVE).likely_manipulator is False
    assert beneish_mscore(steady, M_PRIOR, threshold=-2.7).likely_manipulator is True
    flagged_at_alt = beneish_mscore(M_CURRENT, M_PRIOR, threshold=BENEISH_THRESHOLD_ALTERNATIVE)
    assert flagged_at_alt.threshold == -2.22 and flagged_at_alt.likely_manipulator is True


def test_mscore_gross_profit_is_used_when_reported() -> None:
    current = M_CURRENT | {"gross_profit": 480.0}  # margin 0.40 instead of 0.35
    result = beneish_mscore(current, M_PRIOR)
    assert result.variable("GMI").value == pytest.approx(1.0)
    assert "current.gross_profit" in result.variable("GMI").inputs


def test_mscore_zero_denominator_is_not_computable() -> None:
    result = beneish_mscore(M_CURRENT | {"receivables": 0.0}, M_PRIOR | {"receivables": 0.0})
    assert result.variable("DSRI").value is None and result.m is None


def test_mscore_to_dict_is_strict_json() -> None:
    payload = json.loads(json.dumps(beneish_mscore(M_CURRENT, M_PRIOR).to_dict(), allow_nan=False))
    assert [v["name"] for v in payload["variables"]] == list(M_COEFFICIENTS)
    assert payload["likely_manipulator"] is True and payload["intercept"] == -4.84
    missing = beneish_mscore(M_CURRENT | {"receivables": math.nan}, M_PRIOR).to_dict()
    assert json.loads(json.dumps(missing, allow_nan=False))["m"] is None


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([("revenue", 1.0)], "expected a mapping"),
        ({"revenues": 1.0}, "unknown statement item 'revenues'"),
        ({"revenue": "1000"}, "expected a number, found str"),
        ({"revenue": True}, "expected a number, found bool"),
        ({"revenue": math.inf}, "finite number"),
    ],
)
def test_bad_input_is_a_config_error_naming_the_argument(bad: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as piotroski_error:
        piotroski_fscore(bad, F_PRIOR)  # type: ignore[arg-type]
    assert "current" in str(piotroski_error.value)
    with pytest.raises(ConfigError, match=message):
        beneish_mscore(M_CURRENT, bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        altman_z_double_prime(bad)  # type: ignore[arg-type]


def test_bad_scalar_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="market_value_equity"):
        altman_z(Z_YEAR, market_value_equity="1200")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="threshold"):
        beneish_mscore(M_CURRENT, M_PRIOR, threshold=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="prior2"):
        piotroski_fscore(F_CURRENT, F_PRIOR, {"total_assets": "900"})
