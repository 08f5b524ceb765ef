"""Fundamental analysis: point-in-time statements to ratios, quality scores (Piotroski F, Altman Z,
Beneish M), valuation (DCF, comparables), growth, factor exposure, and the composite score.

The public names are re-exported here; ``docs/fundamentals.md`` describes each method.
"""

from quantdesk.analysis.fundamental.altman import altman_z, altman_z_double_prime
from quantdesk.analysis.fundamental.beneish import beneish_mscore
from quantdesk.analysis.fundamental.factors import beta, factor_exposure
from quantdesk.analysis.fundamental.gate import GATE_COLUMNS, fundamental_gate_table
from quantdesk.analysis.fundamental.growth import cagr, growth_trajectory, surprise_history
from quantdesk.analysis.fundamental.metrics import CompanyMetrics, company_metrics
from quantdesk.analysis.fundamental.piotroski import piotroski_fscore
from quantdesk.analysis.fundamental.score import FundamentalScore, fundamental_score
from quantdesk.analysis.fundamental.statements import FinancialHistory
from quantdesk.analysis.fundamental.universe import ScreenCriteria, default_as_of_ns, fundamental_table, screen
from quantdesk.analysis.fundamental.valuation import dcf, dcf_sensitivity, price_earnings, relative_valuation

__all__ = [
    "GATE_COLUMNS",
    "CompanyMetrics",
    "FinancialHistory",
    "FundamentalScore",
    "ScreenCriteria",
    "altman_z",
    "altman_z_double_prime",
    "beneish_mscore",
    "beta",
    "cagr",
    "company_metrics",
    "dcf",
    "dcf_sensitivity",
    "default_as_of_ns",
    "factor_exposure",
    "fundamental_gate_table",
    "fundamental_score",
    "fundamental_table",
    "growth_trajectory",
    "piotroski_fscore",
    "price_earnings",
    "relative_valuation",
    "screen",
    "surprise_history",
]
