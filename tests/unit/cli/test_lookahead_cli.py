"""``quantdesk strategy lookahead`` end to end: a template on the synthetic catalog shows no look-ahead and exits 0,
``--json`` writes the report, ``--recursive`` adds the warm-up table, and a planted leak exits 3 with its bars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.unit.cli.test_cli import run
from typer.testing import CliRunner

from quantdesk.analysis.technical.registry import all_indicators
from quantdesk.analysis.technical.spec import IndicatorSpec
from quantdesk.cli import app
from quantdesk.domain.bars import Bars
from quantdesk.strategy.templates import load_template


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("lookahead_cli")
    made = run(home, "data", "synthetic", "--symbols", "2", "--days", "400", "--start", "2017-01-03",
               "--no-fundamentals")  # fmt: skip
    assert made.returncode == 0, made.stderr
    return home


def test_a_template_shows_no_look_ahead_and_the_json_report_says_so(home: Path, tmp_path: Path) -> None:
    strategy = tmp_path / "ema.json"
    strategy.write_text(load_template("ema_cross").to_json())
    report = tmp_path / "out" / "lookahead.json"
    result = run(home, "strategy", "lookahead", str(strategy), "--symbols", "SYN001,SYN002", "--cuts", "3",
                 "--json", str(report))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no look-ahead found" in result.stdout and "3 cuts" in result.stdout
    doc = json.loads(report.read_text())
    look = doc["lookahead"]
    assert look["lookahead_found"] is False and look["differences"] == []
    assert look["symbols"] == ["SYN001", "SYN002"] and len(look["cuts"]) == 3
    assert look["checked"]["signal values"] > 0 and look["checked"]["trades"] > 0
    assert doc["warmup_sensitivity"] is None


def test_recursive_adds_the_warm_up_table_to_the_terminal_and_the_json(home: Path, tmp_path: Path) -> None:
    strategy = tmp_path / "ema.json"
    strategy.write_text(load_template("ema_cross").to_json())
    report = tmp_path / "warmup.json"
    result = run(home, "strategy", "lookahead", str(strategy), "--symbol", "SYN001", "--cuts", "2", "--recursive",
                 "--json", str(report))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "warm-up sensitivity" in result.stdout and "EMA_Cross(fast=9, slow=21)@1d.slow" in result.stdout
    warm = json.loads(report.read_text())["warmup_sensitivity"]
    assert warm["declared_warmup_bars"] == 21 and warm["histories"][-1] > 84
    slow = [r for r in warm["rows"] if r["name"] == "EMA_Cross(fast=9, slow=21)@1d.slow"]
    assert [r["history_bars"] for r in slow] == warm["histories"]
    assert slow[0]["max_rel_diff"] > 0 and slow[-1]["max_rel_diff"] == 0 and slow[-1]["full_history"]


def test_a_planted_leak_exits_3_and_lists_the_bars(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def next_close(bars: Bars, params: object) -> dict[str, np.ndarray]:
        return {"value": np.r_[bars.close[1:], np.nan].astype(np.float64)}

    leak = IndicatorSpec(name="Next_Close", category="other", description="reads the next close", params=(),
                         outputs=("value",), warmup=lambda p: 0, compute=next_close, source="numpy")  # fmt: skip
    monkeypatch.setitem(all_indicators(), "Next_Close", leak)  # type: ignore[index]
    monkeypatch.setenv("QUANTDESK_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    doc = {
        "strategy_meta": {"name": "leaky"},
        "entry_conditions": {
            "technical_signals": [{"indicator": "Next_Close", "condition": "price_below"}],
            "confluence_threshold": 1.0,
        },
        "exit_conditions": {
            "signal_exit": {
                "technical_signals": [{"indicator": "Next_Close", "condition": "price_above"}],
                "confluence_threshold": 1.0,
            }
        },
        "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.5}},
    }
    strategy = tmp_path / "leaky.json"
    strategy.write_text(json.dumps(doc))
    report = tmp_path / "leak.json"
    result = CliRunner().invoke(app, ["strategy", "lookahead", str(strategy), "--symbols", "SYN001", "--cuts", "6",
                                      "--json", str(report)])  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "look-ahead found" in result.output and "by what differs" in result.output
    look = json.loads(report.read_text())["lookahead"]
    # the terminal's table may wrap a cell at the console's width; the JSON names it whole
    assert any(d["what"] == "entry_vote[0]" for d in look["differences"])
    assert look["lookahead_found"] is True and any(d["what"] == "long_entry" for d in look["differences"])
    # every difference is on the last bar of its cut: the only bar whose next close the cut run lacks
    assert {d["kind"] for d in look["differences"]} == {"signal"}
    assert all(d["bar"][:10] == d["cut"][:10] for d in look["differences"])
