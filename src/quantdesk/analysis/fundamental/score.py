"""The composite ``fundamental_score`` of the plan (section 3.1), from one row of the universe table.

Each sub-score is in [0, 1], the mean of the parts that could be computed (None when none could):
- **valuation**: 1 - percentile / 100 of P/E, P/B, P/S and EV/EBITDA among the sector peers (cheaper
  than the peers scores higher);
- **quality**: the Piotroski F-Score / 9 (weight 0.6), not flagged by the Beneish M-Score (0.2: 1 when
  M <= -1.78, else 0), ROE / 25 % capped at 1 (0.2);
- **growth**: the universe percentile of TTM revenue and EPS growth / 100;
- **financial_health**: where the Altman Z sits between its distress and safe thresholds (0 at or below
  distress, 1 at or above safe, linear between), and 1 - debt/equity / 2 floored at 0.
``composite_value`` is the weighted mean of the available sub-scores, weights valuation 0.25, quality
0.30, growth 0.25, financial health 0.20.

``confidence`` = freshness x the weighted support of the sub-scores, sum of weight x support over the four
(the same weights, summing to 1), so a missing sub-score takes its whole weight off and one resting on a
thin peer group most of it. Each support is in [0, 1]:
- **valuation**: the mean over P/E, P/B, P/S and EV/EBITDA of peer depth min(1, n / ``PEER_DEPTH``) for a
  multiple with a percentile among n sector peers (``{multiple}_peers`` in the row; a percentile given
  without its count rests on one peer), 0 for one without; ``PEER_DEPTH`` = 5, below which a percentile
  moves in steps of 25 points or more;
- **quality**: the weighted share of its parts present (F-Score 0.6, Beneish 0.2, ROE 0.2);
- **growth**: the share of revenue and EPS growth known x the peer depth of the universe it is ranked in
  (``growth_peers``, the other companies ranked), 0 without a growth percentile;
- **financial_health**: the share of its two parts present (Altman Z, debt/equity).
Freshness is 1 while the latest fiscal period ended at most 135 days before (a 10-Q is due within 40-45
days of a quarter, a 10-K within 60-90 of a year), falling linearly to 0.5 at 400 days and staying there,
times 0.5 without a price. ``key_metrics``: ``pe_percentile``, ``pb_percentile`` (rounded), ``roe_trend`` and
``debt_trend`` from the last three fiscal years (the change per year of ROE beyond +-1 percentage point
is improving/deteriorating, of debt/equity beyond +-0.05 is rising/falling, else stable).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from quantdesk.analysis.fundamental.altman import ALTMAN_Z_1968, ALTMAN_Z_DOUBLE_PRIME

__all__ = ["PEER_DEPTH", "SUB_SCORE_WEIGHTS", "FundamentalScore", "fundamental_score"]

SUB_SCORE_WEIGHTS = {"valuation": 0.25, "quality": 0.30, "growth": 0.25, "financial_health": 0.20}
BENEISH_FLAG = -1.78
ROE_FULL_MARKS = 0.25
FRESH_DAYS = 135
STALE_DAYS = 400
PEER_DEPTH = 5  # peers at which a percentile counts fully in the confidence
_VALUATION_MULTIPLES = ("pe", "pb", "ps", "ev_ebitda")
ROE_TREND_PP = 0.01
DEBT_TREND = 0.05
_NS_PER_DAY = 86_400 * 10**9


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _weighted(parts: Sequence[tuple[float | None, float]]) -> float | None:
    known = [(v, w) for v, w in parts if v is not None]
    if not known:
        return None
    return sum(v * w for v, w in known) / sum(w for _, w in known)


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def _slope(values: Sequence[float]) -> float | None:
    known = [(i, v) for i, v in enumerate(values) if not math.isnan(v)]
    if len(known) < 2:
        return None
    (i0, v0), (i1, v1) = known[0], known[-1]
    return (v1 - v0) / (i1 - i0)


def _trend(values: Sequence[float], threshold: float, up: str, down: str) -> str:
    slope = _slope(values)
    if slope is None:
        return "unknown"
    return up if slope > threshold else down if slope < -threshold else "stable"


def _plain(value: Any) -> Any:
    """numpy scalars and tuples as JSON-ready Python values."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    return item() if callable(item) else value


@dataclass(frozen=True)
class FundamentalScore:
    symbol: str
    as_of: str
    composite_value: float | None
    confidence: float
    sub_scores: dict[str, float | None]
    key_metrics: dict[str, Any]
    inputs: dict[str, Any]  # the metrics each sub-score used
    freshness: float = 1.0
    support: dict[str, float] | None = None  # each sub-score's support in the confidence

    def to_dict(self) -> dict[str, Any]:
        """The plan's shape: ``{"fundamental_score": {...}}``, with the inputs beside it."""
        r = lambda v: None if v is None else round(v, 4)  # noqa: E731
        return {
            "fundamental_score": {
                "composite_value": r(self.composite_value),
                "confidence": r(self.confidence),
                "sub_scores": {k: r(v) for k, v in self.sub_scores.items()},
                "key_metrics": self.key_metrics,
            },
            "symbol": self.symbol,
            "as_of": self.as_of,
            "confidence_detail": {
                "freshness": r(self.freshness),
                "support": {k: r(v) for k, v in (self.support or {}).items()},
                "weights": dict(SUB_SCORE_WEIGHTS),
                "peer_depth": PEER_DEPTH,
            },
            "inputs": {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.inputs.items()},
        }


def fundamental_score(row: Mapping[Any, Any] | pd.Series, *, as_of: str = "") -> FundamentalScore:
    """The composite score of one row of ``fundamental_table``."""
    get = row.get
    valuation = _weighted([((1 - p / 100) if (p := _num(get(f"{m}_percentile"))) is not None else None, 1.0)
                           for m in ("pe", "pb", "ps", "ev_ebitda")])  # fmt: skip
    fscore = _num(get("fscore"))
    m_score = _num(get("beneish_m"))
    roe = _num(get("roe"))
    quality = _weighted([
        (fscore / 9 if fscore is not None else None, 0.6),
        ((1.0 if m_score <= BENEISH_FLAG else 0.0) if m_score is not None else None, 0.2),
        (_clip(roe / ROE_FULL_MARKS) if roe is not None else None, 0.2),
    ])  # fmt: skip
    growth_pct = _num(get("growth_percentile"))
    growth = growth_pct / 100 if growth_pct is not None else None
    z = _num(get("altman_z"))
    model = ALTMAN_Z_DOUBLE_PRIME if get("altman_model") == ALTMAN_Z_DOUBLE_PRIME.name else ALTMAN_Z_1968
    de = _num(get("debt_equity"))
    health = _weighted([
        (_clip((z - model.distress_below) / (model.safe_above - model.distress_below)) if z is not None else None, 1.0),
        (_clip(1 - de / 2) if de is not None else None, 1.0),
    ])  # fmt: skip
    subs = {"valuation": valuation, "quality": quality, "growth": growth, "financial_health": health}
    composite = _weighted([(subs[k], w) for k, w in SUB_SCORE_WEIGHTS.items()])

    freshness = 0.5
    as_of_ns = _num(get("as_of_ns"))
    period_end = get("latest_period_end")
    if period_end and as_of_ns is not None:
        age_days = (as_of_ns - pd.Timestamp(str(period_end), tz="UTC").value) / _NS_PER_DAY
        freshness = (
            1.0 if age_days <= FRESH_DAYS else max(0.5, 1 - 0.5 * (age_days - FRESH_DAYS) / (STALE_DAYS - FRESH_DAYS))
        )
    if _num(get("price")) is None:
        freshness *= 0.5
    support = _support(get)
    confidence = freshness * sum(SUB_SCORE_WEIGHTS[k] * support[k] for k in SUB_SCORE_WEIGHTS)

    pe_pct, pb_pct = _num(get("pe_percentile")), _num(get("pb_percentile"))
    key_metrics = {
        "pe_percentile": None if pe_pct is None else round(pe_pct),
        "pb_percentile": None if pb_pct is None else round(pb_pct),
        "roe_trend": _trend(list(get("roe_by_year") or ()), ROE_TREND_PP, "improving", "deteriorating"),
        "debt_trend": _trend(list(get("debt_equity_by_year") or ()), DEBT_TREND, "rising", "falling"),
    }
    inputs = {k: get(k) for k in ("price", "market_cap", "pe", "pb", "ps", "ev_ebitda", "roe", "debt_equity",
                                  "eps_growth", "revenue_growth", "fscore", "altman_z", "altman_zone", "altman_model",
                                  "beneish_m", "earnings_surprise", "latest_period_end", "completeness",
                                  "pe_percentile", "pb_percentile", "ps_percentile", "ev_ebitda_percentile",
                                  "growth_percentile", "pe_peers", "pb_peers", "ps_peers", "ev_ebitda_peers",
                                  "growth_peers")}  # fmt: skip
    return FundamentalScore(
        symbol=str(get("symbol", "")),
        as_of=as_of,
        composite_value=composite,
        confidence=confidence,
        sub_scores=subs,
        key_metrics=key_metrics,
        inputs={k: _plain(v) for k, v in inputs.items()},
        freshness=freshness,
        support=support,
    )


def _peer_depth(peers: float | None) -> float:
    return min(1.0, max(peers if peers is not None else 1.0, 0.0) / PEER_DEPTH)


def _support(get: Any) -> dict[str, float]:
    """Each sub-score's support in [0, 1] (the module docstring defines it)."""
    valuation = sum(
        _peer_depth(_num(get(f"{m}_peers"))) if _num(get(f"{m}_percentile")) is not None else 0.0
        for m in _VALUATION_MULTIPLES
    ) / len(_VALUATION_MULTIPLES)
    quality = sum(w for name, w in (("fscore", 0.6), ("beneish_m", 0.2), ("roe", 0.2)) if _num(get(name)) is not None)
    growth = 0.0
    if _num(get("growth_percentile")) is not None:
        known = sum(_num(get(name)) is not None for name in ("revenue_growth", "eps_growth"))
        growth = known / 2 * _peer_depth(_num(get("growth_peers")))
    health = sum(_num(get(name)) is not None for name in ("altman_z", "debt_equity")) / 2
    return {"valuation": valuation, "quality": quality, "growth": growth, "financial_health": health}
