"""``fundamental_score.confidence``: freshness x the weighted support of the sub-scores, falling with missing
sub-scores and thin peer groups."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from quantdesk.analysis.fundamental.score import PEER_DEPTH, fundamental_score

MULTIPLES = ("pe", "pb", "ps", "ev_ebitda")
AS_OF = pd.Timestamp("2024-03-01", tz="UTC").value


def full_row(**changes: Any) -> dict[str, Any]:
    """A fresh row with every input and every percentile resting on ten peers."""
    row: dict[str, Any] = {
        "symbol": "ACME", "as_of_ns": AS_OF, "latest_period_end": "2023-12-31", "price": 20.0, "completeness": 1.0,
        "fscore": 7, "beneish_m": -2.5, "roe": 0.15, "altman_z": 3.5, "debt_equity": 0.4,
        "revenue_growth": 0.1, "eps_growth": 0.12, "growth_percentile": 60.0, "growth_peers": 10,
    }  # fmt: skip
    for m in MULTIPLES:
        row[f"{m}_percentile"] = 50.0
        row[f"{m}_peers"] = 10
    row.update(changes)
    return row


def confidence(row: dict[str, Any]) -> float:
    return fundamental_score(row).confidence


def test_every_sub_score_on_enough_peers_is_full_confidence() -> None:
    assert PEER_DEPTH == 5
    assert confidence(full_row()) == pytest.approx(1.0)
    assert confidence(full_row(**{f"{m}_peers": PEER_DEPTH for m in MULTIPLES}, growth_peers=5)) == pytest.approx(1.0)


def test_a_missing_valuation_takes_its_whole_weight_off() -> None:
    row = full_row(**{f"{m}_percentile": None for m in MULTIPLES})
    result = fundamental_score(row)
    assert result.sub_scores["valuation"] is None and result.confidence == pytest.approx(0.75)


def test_a_valuation_resting_on_one_peer_counts_a_fifth() -> None:
    one_peer = full_row(**{f"{m}_peers": 1 for m in MULTIPLES})
    assert confidence(one_peer) == pytest.approx(0.75 + 0.25 * 1 / 5)
    two_of_four = full_row(pe_percentile=None, ps_percentile=None, pb_peers=5, ev_ebitda_peers=5)
    assert confidence(two_of_four) == pytest.approx(0.75 + 0.25 * 0.5)
    without_counts = {k: v for k, v in full_row().items() if not k.endswith("_peers") or k == "growth_peers"}
    assert confidence(without_counts) == pytest.approx(0.75 + 0.25 * 1 / 5)  # a bare percentile: one peer


def test_thin_growth_ranks_and_missing_parts_lower_confidence() -> None:
    assert confidence(full_row(growth_peers=2)) == pytest.approx(1 - 0.25 + 0.25 * 2 / 5)
    assert confidence(full_row(eps_growth=None)) == pytest.approx(1 - 0.25 * 0.5)
    assert confidence(full_row(growth_percentile=None)) == pytest.approx(0.75)
    assert confidence(full_row(beneish_m=None)) == pytest.approx(1 - 0.30 * 0.2)
    assert confidence(full_row(altman_z=None)) == pytest.approx(1 - 0.20 * 0.5)
    nothing = fundamental_score({"symbol": "ACME", "as_of_ns": AS_OF, "latest_period_end": "2023-12-31"})
    assert nothing.composite_value is None and nothing.confidence == 0.0


def test_stale_statements_and_no_price_scale_the_support() -> None:
    stale = full_row(latest_period_end="2022-12-31")  # 426 days: freshness floor 0.5
    assert confidence(stale) == pytest.approx(0.5)
    no_price = full_row(price=None, **{f"{m}_percentile": None for m in MULTIPLES})
    assert confidence(no_price) == pytest.approx(0.5 * 0.75)
    doc = fundamental_score(full_row(pe_peers=1)).to_dict()
    assert doc["confidence_detail"]["support"]["valuation"] == pytest.approx((0.2 + 1 + 1 + 1) / 4)
    assert doc["confidence_detail"]["freshness"] == 1.0 and doc["confidence_detail"]["peer_depth"] == 5
