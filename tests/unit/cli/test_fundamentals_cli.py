"""``quantdesk fundamentals import|fetch-edgar|score|screen`` end to end on a synthetic universe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from tests.unit.cli.test_cli import run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fundamentals_home")
    result = run(home, "data", "synthetic", "--symbols", "12", "--days", "600", "--start", "2023-01-02")
    assert result.returncode == 0, result.stderr
    assert "fundamentals:" in result.stdout and "earnings" in result.stdout
    return home


def test_score_json_has_the_plan_shape_and_every_input(home: Path) -> None:
    result = run(home, "fundamentals", "score", "SYN001", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    body = doc["fundamental_score"]
    assert set(body) == {"composite_value", "confidence", "sub_scores", "key_metrics"}
    assert set(body["sub_scores"]) == {"valuation", "quality", "growth", "financial_health"}
    assert set(body["key_metrics"]) == {"pe_percentile", "pb_percentile", "roe_trend", "debt_trend"}
    assert 0.0 <= body["composite_value"] <= 1.0 and 0.0 < body["confidence"] <= 1.0
    assert body["key_metrics"]["roe_trend"] in {"improving", "stable", "deteriorating"}
    assert len(doc["audit"]["fscore"]["tests"]) == 9
    assert {v["name"] for v in doc["audit"]["beneish"]["variables"]} == {
        "DSRI", "GMI", "AQI", "SGI", "DEPI", "SGAI", "TATA", "LVGI"
    }  # fmt: skip
    assert doc["inputs"]["fscore"] == doc["audit"]["fscore"]["score"]
    insiders, ratings = doc["events"]["insiders"], doc["events"]["ratings"]
    assert insiders["days"] == 180 and insiders["buys"] + insiders["sells"] >= 0 and ratings["days"] == 90


def test_score_before_any_filing_and_of_an_unknown_symbol_are_clear_errors(home: Path) -> None:
    early = run(home, "fundamentals", "score", "SYN001", "--at", "2019-06-30")
    assert early.returncode == 2 and "no fundamentals known for SYN001 at 2019-06-30" in early.stderr
    unknown = run(home, "fundamentals", "score", "NOPE")
    assert unknown.returncode == 2 and "no fundamentals known for NOPE" in unknown.stderr


def test_screen_returns_only_companies_passing_every_threshold(home: Path) -> None:
    everything = json.loads(run(home, "fundamentals", "screen", "--json").stdout)
    assert everything["universe"] == 12 and len(everything["passed"]) == 12
    result = run(home, "fundamentals", "screen", "--min-fscore", "5", "--pe-max", "40", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["criteria"] == {"min_fscore": 5, "pe_max": 40.0}
    for row in doc["passed"]:
        assert row["fscore"] >= 5 and 0 < row["pe"] <= 40
    assert len(doc["passed"]) < 12
    table = run(home, "fundamentals", "screen", "--debt-equity-max", "0.5")
    assert table.returncode == 0 and "companies pass" in table.stdout


def test_import_stores_good_files_and_rejects_bad_rows_whole(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "acme.csv"
    good.write_text(
        "symbol,item,fiscal_year,fiscal_period,period_end,filed,value\n"
        "ACME,revenue,2023,FY,2023-12-31,2024-02-15,1000000\n"
        "ACME,net_income,2023,FY,2023-12-31,2024-02-15,80000\n"
    )
    result = run(home, "fundamentals", "import", str(good))
    assert result.returncode == 0 and "2 figures for 1 companies; 2 new versions stored" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "symbol,item,fiscal_year,fiscal_period,period_end,filed,value\n"
        "BADCO,revenue,2023,FY,2023-12-31,2024-02-15,1000000\n"
        "BADCO,net_income,2023,FY,2023-12-31,2024-02-15,lots\n"
    )
    result = run(home, "fundamentals", "import", str(bad))
    assert result.returncode == 2
    assert "bad.csv, row 2, column 'value'" in result.stderr and "expected a number, found 'lots'" in result.stderr
    screen = json.loads(run(home, "fundamentals", "screen", "--json").stdout)
    assert "BADCO" not in {row["symbol"] for row in screen["passed"]} and screen["universe"] == 13


def test_fetch_edgar_without_a_user_agent_says_how_to_set_one(home: Path) -> None:
    saved = os.environ.pop("QUANTDESK_EDGAR_USER_AGENT", None)
    try:
        result = run(home, "fundamentals", "fetch-edgar", "AAPL")
    finally:
        if saved is not None:
            os.environ["QUANTDESK_EDGAR_USER_AGENT"] = saved
    assert result.returncode == 2 and "QUANTDESK_EDGAR_USER_AGENT" in result.stderr


def test_value_json_holds_the_dcf_the_grid_and_the_peers(home: Path) -> None:
    result = run(home, "fundamentals", "value", "SYN001", "--wacc", "0.09", "--growth", "0.04", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["dcf"]["inputs"]["wacc"] == 0.09 and len(doc["dcf"]["years"]) == 5
    assert doc["dcf"]["inputs"]["growth_rates"] == [0.04] * 5
    grid = doc["sensitivity"]
    centre = grid["value_per_share"][grid["wacc"].index(0.09)][grid["terminal_growth"].index(0.025)]
    assert centre == pytest.approx(doc["dcf"]["value_per_share"])
    assert doc["upside"] == pytest.approx(doc["dcf"]["value_per_share"] / doc["price"] - 1)
    bad = run(home, "fundamentals", "value", "SYN001", "--wacc", "9")
    assert bad.returncode == 2 and "wacc: expected a fraction between 0 and 1" in bad.stderr


def test_factors_need_the_fama_french_series(home: Path) -> None:
    result = run(home, "fundamentals", "factors", "SYN001")
    assert result.returncode == 2 and "quantdesk data sample" in result.stderr


def test_factors_of_the_sample_index_as_known_at_a_date(tmp_path: Path) -> None:
    assert run(tmp_path, "data", "sample").returncode == 0
    result = run(tmp_path, "fundamentals", "factors", "SPX", "--at", "2010-12-31", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["end"] <= "2010-12-01" and doc["loadings"]["Mkt-RF"] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("at", [None, "2024-03-28"])
def test_score_and_value_report_the_same_pe(home: Path, at: str | None) -> None:
    when = [] if at is None else ["--at", at]
    scored = run(home, "fundamentals", "score", "SYN001", "--json", *when)
    valued = run(home, "fundamentals", "value", "SYN001", "--wacc", "0.09", "--json", *when)
    assert scored.returncode == 0 and valued.returncode == 0, scored.stderr + valued.stderr
    score_doc, value_doc = json.loads(scored.stdout), json.loads(valued.stdout)
    pe = next(c for c in value_doc["peers"]["comparisons"] if c["multiple"] == "pe")
    assert score_doc["inputs"]["pe"] is not None and pe["target_multiple"] == score_doc["inputs"]["pe"]
    assert score_doc["inputs"]["price"] == value_doc["price"]


def test_every_command_defaults_to_the_close_of_the_newest_stored_bar(home: Path) -> None:
    screened = json.loads(run(home, "fundamentals", "screen", "--json").stdout)
    scored = json.loads(run(home, "fundamentals", "score", "SYN001", "--json").stdout)
    bars = run(home, "data", "list", "--json")
    assert bars.returncode == 0, bars.stderr
    # synthetic US equities: the newest daily bar closes at 16:00 New York
    last_day = max(d["last"] for d in json.loads(bars.stdout)["bars"] if d["timeframe"] == "1d")[:10]
    close = pd.Timestamp(f"{last_day} 16:00", tz="America/New_York").tz_convert("UTC")
    assert pd.Timestamp(screened["as_of"]) == pd.Timestamp(scored["as_of"]) == close
    row = next(r for r in screened["passed"] if r["symbol"] == "SYN001")
    for name in ("pe", "pb", "roe", "debt_equity", "fscore", "eps_growth"):
        assert row[name] == scored["inputs"][name], name
    later = json.loads(run(home, "fundamentals", "screen", "--json", "--at", "2030-01-01").stdout)
    later_row = next(r for r in later["passed"] if r["symbol"] == "SYN001")
    assert later_row["roe"] == row["roe"] and later_row["eps_growth"] == row["eps_growth"]
