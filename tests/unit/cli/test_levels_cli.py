"""The level commands as a user runs them: sector rotation on the synthetic market, an alternative series imported
and scored for level 5, a calendar file with a bad row refused with its row and column."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.cli.runner import run_cli


def test_sector_rotation_alternative_import_and_a_bad_calendar(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = run_cli(home, "data", "synthetic", "--symbols", "12", "--days", "90", "--no-fundamentals")
    assert made.returncode == 0, made.stderr
    rotation = run_cli(home, "sectors", "rotation", "--json")
    assert rotation.returncode == 0, rotation.stderr
    doc = json.loads(rotation.stdout)
    assert doc["benchmark"] == "universe" and "synthetic" in doc["source"]
    ranks = [row["rank"] for row in doc["sectors"]]
    assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) >= 2
    strengths = [row["relative_strength"] for row in doc["sectors"]]
    assert strengths == sorted(strengths, reverse=True)

    days = [f"2024-02-{d:02d}" for d in range(1, 29)]
    (tmp_path / "buzz.csv").write_text(
        "date,value\n" + "".join(f"{d},{100 + (i % 5) * 3}\n" for i, d in enumerate(days))
    )
    alt = run_cli(home, "data", "import-series", str(tmp_path / "buzz.csv"), "--name", "BUZZ", "--frequency", "daily",
                  "--known-lag", "1d", "--kind", "alternative", "--symbol", "SYN001")  # fmt: skip
    assert alt.returncode == 0, alt.stderr
    assert "series BUZZ (daily, alternative, SYN001): stored" in alt.stdout and "level-5 score BUZZ_SCORE" in alt.stdout

    (tmp_path / "cal.csv").write_text(
        "event,period,release_time,consensus,actual\nCPI,2024-01-01,2024-02-13T08:30:00-05:00,3.0,abc\n"
    )
    bad = run_cli(home, "data", "import-calendar", str(tmp_path / "cal.csv"))
    assert bad.returncode == 2
    assert "cal.csv, row 1, column 'actual'" in " ".join(bad.stderr.split())
