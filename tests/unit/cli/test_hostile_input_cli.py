"""Hostile input through the command line: each is exit 2 with a message naming the file, row or JSON path,
what was expected and what was found, and the store is left as it was."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from tests.unit.cli.runner import run_cli

STRATEGY = Path(__file__).resolve().parents[3] / "examples" / "strategies" / "ema_cross.json"
DAILY = "Date,Open,High,Low,Close,Volume\n" + "".join(
    f"2024-01-{d:02d},10,11,9,10.5,100\n" for d in (2, 3, 4, 5, 8, 9, 10, 11)
)


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args, columns=400)


def store_digest(home: Path) -> dict[str, str]:
    root = home / "catalog"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    good = tmp_path / "good.csv"
    good.write_text(DAILY)
    assert run(home, "data", "import", str(good), "--symbol", "ABC", "--timeframe", "1d").returncode == 0
    return home


def test_bad_symbols_years_and_a_directory_exit_2_and_leave_the_store_as_it_was(home: Path, tmp_path: Path) -> None:
    before = store_digest(home)
    good = tmp_path / "good.csv"
    future = tmp_path / "future.csv"
    future.write_text(DAILY.replace("2024-01-11", "9999-01-11"))
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    huge = tmp_path / "huge.json"
    huge.write_text(STRATEGY.read_text(encoding="utf-8").replace('"fast": 9', '"fast": ' + "9" * 5000, 1))
    cases = [
        (["data", "import", str(good), "--symbol", "../../x", "--timeframe", "1d"], "--symbol: expected a symbol of"),
        (
            ["data", "import", str(good), "--symbol", "abc", "--timeframe", "1d"],
            "--symbol: expected an upper-case symbol such as 'ABC', found 'abc'",
        ),
        (
            ["data", "import", str(future), "--symbol", "ABC", "--timeframe", "1d"],
            f"{future}, row 8, column 'Date': time outside the supported range; expected a time from 1800-01-01 up "
            "to 2200-01-01, found '9999-01-11'",
        ),
        (["data", "import", str(folder), "--symbol", "ABC", "--timeframe", "1d"], f"{folder}: is a directory"),
        (["data", "show", "abc"], "symbol: expected an upper-case symbol such as 'ABC', found 'abc'"),
        (
            ["backtest", str(huge), "--symbols", "ABC"],
            f"{huge}: 1 problem: - entry_conditions.technical_signals[0].params.fast: expected a finite number of at "
            "most 18 digits, found a number of 5000 digits",
        ),
        (
            ["backtest", str(STRATEGY), "--symbols", "ABC", "--start", "9999-01-01"],
            "--start: expected a time between 1677-09-21 and 2262-04-11, found '9999-01-01'",
        ),
        (["backtest", str(STRATEGY), "--symbols", "ABC,abc"], "--symbols: expected an upper-case symbol such as 'ABC'"),
        (["backtest", str(STRATEGY), "--symbols", "ABC", "--benchmark", "/abs/path"], "--benchmark: expected a symbol"),
    ]
    for args, message in cases:
        result = run(home, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in " ".join(result.stderr.split()), args
        assert "internal error" not in result.stderr
    assert store_digest(home) == before
