"""Piotroski's F-Score: nine binary signals of financial strength from two (ideally three) fiscal years.

Source: J. D. Piotroski (2000), "Value Investing: The Use of Historical Financial Statement Information
to Separate Winners from Losers", Journal of Accounting Research 38 (Supplement), pp. 1-41, section
2.2. Each signal is a ``FScoreTest`` carrying the figures it read, the ratios it computed and
``passed`` (``None`` when a figure it needs is missing); ``FScore.score`` counts the passes.

Conventions, as in the paper unless stated:
- ROA = net income / total assets at the beginning of the year (the prior year's end); CFO likewise.
  Piotroski uses income before extraordinary items; the item vocabulary has ``net_income``, used here.
- ROA > 0 and CFO > 0 pass on the sign of the figure (a positive scale does not change it), so they
  stay computable when beginning assets are missing; the scaled ratio is reported when it exists.
- ACCRUAL passes when CFO / beginning assets > ROA, i.e. when CFO > net income.
- ΔLEVER: long-term debt (non-current) / average total assets; passes when it fell (unchanged fails).
- ΔLIQUID: current ratio rose. EQ_OFFER: shares outstanding did not rise (no common equity issued).
- ΔMARGIN: gross margin rose; gross margin = gross_profit / revenue, or (revenue - cost_of_revenue) /
  revenue when gross profit is absent. ΔTURN: revenue / beginning total assets rose.
- The prior year's ROA, leverage and turnover need total assets at t-2 (``prior2``). Without them the
  prior year is scaled by its own end-of-year assets instead, and the test and the score list that
  approximation in ``approximations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from quantdesk.analysis.fundamental._inputs import FiscalYear, json_float, ratio, read_year

__all__ = ["FScore", "FScoreSignal", "FScoreTest", "piotroski_fscore"]


class FScoreSignal(StrEnum):
    ROA = "ROA"
    CFO = "CFO"
    DELTA_ROA = "DELTA_ROA"
    ACCRUAL = "ACCRUAL"
    DELTA_LEVER = "DELTA_LEVER"
    DELTA_LIQUID = "DELTA_LIQUID"
    EQ_OFFER = "EQ_OFFER"
    DELTA_MARGIN = "DELTA_MARGIN"
    DELTA_TURN = "DELTA_TURN"


@dataclass(frozen=True, slots=True, kw_only=True)
class FScoreTest:
    """One of the nine signals: what it read (``inputs``), what it computed (``values``) and the verdict."""

    name: FScoreSignal
    rule: str  # the pass condition in words
    inputs: dict[str, float | None]  # "current.net_income" -> figure, None when missing
    values: dict[str, float | None]  # computed ratios, None when not computable
    passed: bool | None  # None: a figure the rule needs is missing
    approximations: tuple[str, ...] = ()

    @property
    def computable(self) -> bool:
        return self.passed is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name.value,
            "rule": self.rule,
            "inputs": {key: json_float(value) for key, value in self.inputs.items()},
            "values": {key: json_float(value) for key, value in self.values.items()},
            "passed": self.passed,
            "approximations": list(self.approximations),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FScore:
    """The F-Score: ``score`` passed tests out of ``computable`` tests with data, out of nine."""

    score: int
    computable: int
    tests: tuple[FScoreTest, ...]
    approximations: tuple[str, ...] = field(default=())

    def test(self, name: FScoreSignal | str) -> FScoreTest:
        signal = FScoreSignal(name)
        return next(test for test in self.tests if test.name is signal)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "Piotroski (2000) F-Score",
            "score": self.score,
            "computable": self.computable,
            "tests": [test.to_dict() for test in self.tests],
            "approximations": list(self.approximations),
        }


def piotroski_fscore(
    current: Mapping[str, float], prior: Mapping[str, float], prior2: Mapping[str, float] | None = None
) -> FScore:
    """The nine F-Score signals of fiscal year t (``current``) against t-1 (``prior``).

    ``prior2`` (year t-2) only supplies total assets at the start of the prior year, so that the prior
    year's ROA, leverage and turnover are scaled as the current year's are. Each mapping is keyed by
    the item names of ``ITEMS``; flows are the year's totals, stocks the year-end values.
    """
    t = read_year(current, label="current")
    t1 = read_year(prior, label="prior")
    t2 = read_year(prior2, label="prior2") if prior2 is not None else None
    scale = _PriorScale.of(t1, t2)
    tests = (
        _roa(t, t1),
        _cfo(t, t1),
        _delta_roa(t, t1, scale),
        _accrual(t, t1),
        _delta_lever(t, t1, scale),
        _delta_liquid(t, t1),
        _eq_offer(t, t1),
        _delta_margin(t, t1),
        _delta_turn(t, t1, scale),
    )
    approximations = tuple(dict.fromkeys(note for test in tests for note in test.approximations))
    return FScore(
        score=sum(1 for test in tests if test.passed),
        computable=sum(1 for test in tests if test.computable),
        tests=tests,
        approximations=approximations,
    )


@dataclass(frozen=True, slots=True)
class _PriorScale:
    """Total assets at the start of the prior year: t-2's year end, or the prior year's end as a stand-in."""

    key: str
    total_assets: float | None
    approximation: str | None

    @classmethod
    def of(cls, prior: FiscalYear, prior2: FiscalYear | None) -> _PriorScale:
        if prior2 is not None and prior2.get("total_assets") is not None:
            return cls(prior2.key("total_assets"), prior2.get("total_assets"), None)
        note = (
            "prior-year ratio scaled by the prior year's end-of-year total assets "
            "(total assets at t-2 not given) instead of its beginning-of-year total assets"
        )
        return cls(prior.key("total_assets"), prior.get("total_assets"), note)

    def notes(self, *used: float | None) -> tuple[str, ...]:
        """The approximation note, when the stand-in was used and every figure it scaled exists."""
        if self.approximation is None or any(value is None for value in used):
            return ()
        return (self.approximation,)


def _greater(left: float | None, right: float | None) -> bool | None:
    if left is None or right is None:
        return None
    return left > right


def _roa(t: FiscalYear, t1: FiscalYear) -> FScoreTest:
    net_income, assets_begin = t.get("net_income"), t1.get("total_assets")
    return FScoreTest(
        name=FScoreSignal.ROA,
        rule="net income / beginning total assets > 0",
        inputs={t.key("net_income"): net_income, t1.key("total_assets"): assets_begin},
        values={"roa": ratio(net_income, assets_begin)},
        passed=_greater(net_income, 0.0),
    )


def _cfo(t: FiscalYear, t1: FiscalYear) -> FScoreTest:
    cash_flow, assets_begin = t.get("operating_cash_flow"), t1.get("total_assets")
    return FScoreTest(
        name=FScoreSignal.CFO,
        rule="operating cash flow / beginning total assets > 0",
        inputs={t.key("operating_cash_flow"): cash_flow, t1.key("total_assets"): assets_begin},
        values={"cfo_to_assets": ratio(cash_flow, assets_begin)},
        passed=_greater(cash_flow, 0.0),
    )


def _delta_roa(t: FiscalYear, t1: FiscalYear, scale: _PriorScale) -> FScoreTest:
    roa = ratio(t.get("net_income"), t1.get("total_assets"))
    prior_roa = ratio(t1.get("net_income"), scale.total_assets)
    delta = None if roa is None or prior_roa is None else roa - prior_roa
    return FScoreTest(
        name=FScoreSignal.DELTA_ROA,
        rule="ROA_t - ROA_t-1 > 0",
        inputs={
            t.key("net_income"): t.get("net_income"),
            t1.key("total_assets"): t1.get("total_assets"),
            t1.key("net_income"): t1.get("net_income"),
            scale.key: scale.total_assets,
        },
        values={"roa": roa, "prior_roa": prior_roa, "delta_roa": delta},
        passed=_greater(delta, 0.0),
        approximations=scale.notes(prior_roa),
    )


def _accrual(t: FiscalYear, t1: FiscalYear) -> FScoreTest:
    net_income, cash_flow, assets_begin = t.get("net_income"), t.get("operating_cash_flow"), t1.get("total_assets")
    roa, cfo_to_assets = ratio(net_income, assets_begin), ratio(cash_flow, assets_begin)
    accrual = None if roa is None or cfo_to_assets is None else roa - cfo_to_assets
    return FScoreTest(
        name=FScoreSignal.ACCRUAL,
        rule="operating cash flow / beginning total assets > ROA (cash flow exceeds net income)",
        inputs={
            t.key("net_income"): net_income,
            t.key("operating_cash_flow"): cash_flow,
            t1.key("total_assets"): assets_begin,
        },
        values={"roa": roa, "cfo_to_assets": cfo_to_assets, "accrual": accrual},
        passed=_greater(cash_flow, net_income),
    )


def _delta_lever(t: FiscalYear, t1: FiscalYear, scale: _PriorScale) -> FScoreTest:
    average_assets = _average(t.get("total_assets"), t1.get("total_assets"))
    prior_average_assets = _average(t1.get("total_assets"), scale.total_assets)
    leverage = ratio(t.get("long_term_debt"), average_assets)
    prior_leverage = ratio(t1.get("long_term_debt"), prior_average_assets)
    delta = None if leverage is None or prior_leverage is None else leverage - prior_leverage
    inputs = {
        t.key("long_term_debt"): t.get("long_term_debt"),
        t.key("total_assets"): t.get("total_assets"),
        t1.key("total_assets"): t1.get("total_assets"),
        t1.key("long_term_debt"): t1.get("long_term_debt"),
    }
    inputs[scale.key] = scale.total_assets
    return FScoreTest(
        name=FScoreSignal.DELTA_LEVER,
        rule="long-term debt / average total assets fell",
        inputs=inputs,
        values={"leverage": leverage, "prior_leverage": prior_leverage, "delta_leverage": delta},
        passed=_greater(0.0, delta),
        approximations=scale.notes(prior_leverage),
    )


def _average(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else (first + second) / 2.0


def _delta_liquid(t: FiscalYear, t1: FiscalYear) -> FScoreTest:
    current_ratio = ratio(t.get("current_assets"), t.get("current_liabilities"))
    prior_current_ratio = ratio(t1.get("current_assets"), t1.get("current_liabilities"))
    delta = None if current_ratio is None or prior_current_ratio is None else current_ratio - prior_current_ratio
    return FScoreTest(
        name=FScoreSignal.DELTA_LIQUID,
        rule="current ratio (current assets / current liabilities) rose",
        inputs={
            t.key("current_assets"): t.get("current_assets"),
            t.key("current_liabilities"): t.get("current_liabilities"),
            t1.key("current_assets"): t1.get("current_assets"),
            t1.key("current_liabilities"): t1.get("current_liabilities"),
        },
        values={
            "current_ratio": current_ratio,
            "prior_current_ratio": prior_current_ratio,
            "delta_current_ratio": delta,
        },
        passed=_greater(delta, 0.0),
    )


def _eq_offer(t: FiscalYear, t1: FiscalYear) -> FScoreTest:
    shares, prior_shares = t.get("shares_outstanding"), t1.get("shares_outstanding")
    change = None if shares is None or prior_shares is None else shares - prior_shares
    return FScoreTest(
        name=FScoreSignal.EQ_OFFER,
        rule="no common equity issued: shares outstanding did not rise",
        inputs={t.key("shares_outstanding"): shares, t1.key("shares_outstanding"): prior_shares},
        values={"shares_change": change},
        passed=None if change is None else change <= 0,
    )


def _delta_margin(t: FiscalYear, t1: FiscalYear) -> FScoreTest:
    margin, prior_margin = t.gross_margin(), t1.gross_margin()
    delta = None if margin is None or prior_margin is None else margin - prior_margin
    return FScoreTest(
        name=FScoreSignal.DELTA_MARGIN,
        rule="gross margin (gross profit / revenue) rose",
        inputs={**t.gross_margin_inputs(), **t1.gross_margin_inputs()},
        values={"gross_margin": margin, "prior_gross_margin": prior_margin, "delta_gross_margin": delta},
        passed=_greater(delta, 0.0),
    )


def _delta_turn(t: FiscalYear, t1: FiscalYear, scale: _PriorScale) -> FScoreTest:
    turnover = ratio(t.get("revenue"), t1.get("total_assets"))
    prior_turnover = ratio(t1.get("revenue"), scale.total_assets)
    delta = None if turnover is None or prior_turnover is None else turnover - prior_turnover
    inputs = {t.key("revenue"): t.get("revenue"), t1.key("total_assets"): t1.get("total_assets")}
    inputs[t1.key("revenue")] = t1.get("revenue")
    inputs[scale.key] = scale.total_assets
    return FScoreTest(
        name=FScoreSignal.DELTA_TURN,
        rule="asset turnover (revenue / beginning total assets) rose",
        inputs=inputs,
        values={"asset_turnover": turnover, "prior_asset_turnover": prior_turnover, "delta_asset_turnover": delta},
        passed=_greater(delta, 0.0),
        approximations=scale.notes(prior_turnover),
    )
