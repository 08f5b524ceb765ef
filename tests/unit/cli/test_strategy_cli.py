"""``quantdesk strategy validate|schema|templates|new|explain`` end to end, in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from tests.unit.cli.test_cli import run
from tests.unit.strategy.test_format import FIVE_MISTAKES, SPEC, five_mistakes


def test_validate_accepts_the_plan_example_and_exits_0(tmp_path: Path) -> None:
    result = run(tmp_path, "strategy", "validate", str(SPEC))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout and "Multi-Timeframe Momentum with Fundamental Filter" in result.stdout


def test_validate_lists_all_five_mistakes_with_paths_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(five_mistakes()))
    result = run(tmp_path, "strategy", "validate", str(bad))
    assert result.returncode == 2
    assert "5 problems" in result.stderr
    for path in FIVE_MISTAKES:
        assert f"- {path}:" in result.stderr, path
    as_json = run(tmp_path, "strategy", "validate", str(bad), "--json")
    assert as_json.returncode == 2
    report = json.loads(as_json.stdout)
    assert report["valid"] is False
    assert sorted(p["path"] for p in report["problems"]) == sorted(FIVE_MISTAKES)


def test_validate_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "strategy", "validate", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and "no such strategy file" in result.stderr


def test_resolve_prints_every_default_and_the_rules_the_file_leaves_off(tmp_path: Path) -> None:
    result = run(tmp_path, "strategy", "resolve", str(SPEC))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    risk = doc["risk_management"]
    # the plan's example as written names no loss-streak or expansion rule: resolved, they are off (null)
    assert risk["loss_streak"] is None and risk["volatility_expansion"] is None
    assert risk["portfolio_limits"]["max_adv_fraction"] is None
    assert risk["portfolio_limits"]["correlation_window_bars"] == 60  # a default, written out
    assert risk["position_sizing"] == {
        "method": "kelly_criterion_modified", "max_kelly_fraction": 0.25, "fixed_fraction_cap": 0.1,
        "win_probability": "posterior",
    }  # fmt: skip
    assert doc["exit_conditions"]["stop_loss"]["swing_lookback_bars"] == 20
    assert doc["execution_rules"]["commission"]["type"] == "percent_of_value"
    # the live limits of paper and live sessions: named by no file here, so every one is off (null)
    assert doc["execution_rules"]["live_limits"] == {
        "max_order_notional": None, "max_orders_per_minute": None, "max_modifies_per_minute": None,
        "max_position_notional": None, "max_daily_loss": None, "market_hours_only": False, "max_quote_age_s": None,
    }  # fmt: skip
    # the resolved file is a strategy file, and resolves to itself
    resolved = tmp_path / "resolved.json"
    written = run(tmp_path, "strategy", "resolve", str(SPEC), "--out", str(resolved))
    assert written.returncode == 0 and json.loads(resolved.read_text()) == doc
    assert json.loads(run(tmp_path, "strategy", "resolve", str(resolved)).stdout) == doc


def test_validation_messages_keep_their_bracketed_text_in_the_terminal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    doc = json.loads(SPEC.read_text())
    del doc["entry_conditions"]["technical_signals"][1]["values"]  # RSI 'between' without its range
    bad.write_text(json.dumps(doc))
    as_json = json.loads(run(tmp_path, "strategy", "validate", str(bad), "--json").stdout)
    message = as_json["problems"][0]["message"]
    assert "[" in message  # the message names its values in brackets
    terminal = run(tmp_path, "strategy", "validate", str(bad))
    assert terminal.returncode == 2 and message in terminal.stderr


def test_schema_prints_a_draft_2020_12_schema_the_plan_example_validates_against(tmp_path: Path) -> None:
    result = run(tmp_path, "strategy", "schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(SPEC.read_text()), schema, cls=jsonschema.Draft202012Validator)


def test_templates_lists_the_library_and_new_writes_a_valid_renamed_copy(tmp_path: Path) -> None:
    listing = run(tmp_path, "strategy", "templates", "--json")
    assert listing.returncode == 0, listing.stderr
    keys = {t["key"] for t in json.loads(listing.stdout)}
    assert {"momentum_breakout", "mean_reversion", "trend_following", "earnings_play", "carry_trade",
            "plan_example"} <= keys  # fmt: skip
    out = tmp_path / "mine.json"
    made = run(tmp_path, "strategy", "new", "My Breakout", "--template", "momentum_breakout", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert json.loads(out.read_text())["strategy_meta"]["name"] == "My Breakout"
    assert run(tmp_path, "strategy", "validate", str(out)).returncode == 0
    again = run(tmp_path, "strategy", "new", "My Breakout", "--template", "momentum_breakout", "--out", str(out))
    assert again.returncode == 2 and "exists; pass --force" in again.stderr
    unknown = run(tmp_path, "strategy", "new", "X", "--template", "momentum")
    assert unknown.returncode == 2 and "did you mean momentum_breakout" in unknown.stderr


def test_explain_shows_votes_gate_and_why_no_entry(tmp_path: Path) -> None:
    assert (
        run(tmp_path, "data", "synthetic", "--symbols", "3", "--days", "400", "--start", "2017-01-03").returncode == 0
    )
    template = tmp_path / "mr.json"
    assert (
        run(tmp_path, "strategy", "new", "MR", "--template", "mean_reversion", "--out", str(template)).returncode == 0
    )
    result = run(tmp_path, "strategy", "explain", str(template), "--symbol", "SYN001", "--at", "2018-03-01", "--json")
    assert result.returncode == 0, result.stderr
    ex = json.loads(result.stdout)
    assert ex["bar"]["timestamp"].startswith("2018-03-01")
    assert [s["indicator"] for s in ex["signals"]] == ["RSI", "Bollinger", "Volume_Spike"]
    rsi = ex["signals"][0]
    assert rsi["vote"] == (rsi["lines"]["value"] < 35)
    expected = sum(s["weight"] for s in ex["signals"] if s["vote"])
    assert abs(ex["confluence"]["technical"] - expected) < 1e-9
    gate = ex["fundamental_gate"]
    assert gate["checks"]["min_fscore"]["passed"] == (
        gate["inputs"]["fscore"] is not None and gate["inputs"]["fscore"] >= 6
    )
    assert ex["entry"]["fires"] is False and ex["entry"]["why_not"]
    text = run(tmp_path, "strategy", "explain", str(template), "--symbol", "SYN001", "--at", "2018-03-01")
    assert text.returncode == 0 and "no entry" in text.stdout and "fundamental gate" in text.stdout


def test_regime_reports_the_regime_its_inputs_and_the_macro_score(tmp_path: Path) -> None:
    assert run(tmp_path, "data", "sample").returncode == 0
    result = run(tmp_path, "regime", "SPX", "--at", "2008-10-20", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["bar"].startswith("2008-10-20") and report["regime"] == "high_volatility"
    assert report["inputs"]["volatility_percentile"] >= 0.8
    assert report["macro"]["benchmark"] == 0.0 and report["macro"]["score"] < 0.15
    missing = run(tmp_path, "regime", "NOPE")
    assert missing.returncode == 2
