"""Every command the README's "Using it" block shows runs as written, in its order, on an empty data home, and does
something visible (exit 0 with output, or the file it names written). The user's own files the commands name
(``prices.csv``, ``ticks.csv``, ``us3m.csv``, ``statements.csv``) are written here first, in the formats of
``docs/data.md`` and ``docs/fundamentals.md``. Optional parts written ``[--json]`` are run without them. The one
command that needs the internet (``fetch-edgar``, sec.gov) is checked to be the only one skipped."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
ONLINE = ("fundamentals fetch-edgar",)
SERVERS = ("opend-emulator",)  # serve until stopped: started, seen serving, then stopped


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Using it") :]
    block = section[section.index("```\n") + 4 : section.index("\n```", section.index("```\n") + 4)]
    commands: list[str] = []
    for line in block.splitlines():
        code = line.split("  #", 1)[0].rstrip()  # comments follow two or more spaces
        if not code.strip():
            continue
        if commands and commands[-1].endswith("\\"):
            commands[-1] = commands[-1][:-1].rstrip() + " " + code.strip()
        else:
            assert code.startswith("quantdesk "), f"README line is not a quantdesk command: {line!r}"
            commands.append(code)
    return commands


def write_user_files(cwd: Path) -> None:
    days = pd.bdate_range("2023-01-02", periods=60)
    close = 100.0 + np.cumsum(np.random.default_rng(1).normal(0, 1, len(days)))
    daily = {"date": days.strftime("%Y-%m-%d"), "open": close - 0.2, "high": close + 1.0, "low": close - 1.0}
    pd.DataFrame(daily | {"close": close, "volume": 1_000_000}).to_csv(cwd / "prices.csv", index=False)
    # 5-minute futures bars in Chicago time, 08:30-14:55, with the columns named Time and Last
    sessions = [
        pd.date_range(f"{d.date()} 08:30", periods=78, freq="5min") for d in pd.bdate_range("2024-03-04", periods=3)
    ]
    stamps = sessions[0].append(sessions[1:])
    last = 5000.0 + np.cumsum(np.random.default_rng(2).normal(0, 2, len(stamps)))
    ticks = {"Time": stamps.strftime("%Y-%m-%d %H:%M:%S"), "open": last - 0.5, "high": last + 1.5, "low": last - 1.5}
    pd.DataFrame(ticks | {"Last": last, "volume": 500}).to_csv(cwd / "ticks.csv", index=False)
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "value": 4.5}).to_csv(cwd / "us3m.csv", index=False)
    (cwd / "statements.csv").write_text(
        "symbol,item,fiscal_year,fiscal_period,period_end,filed,value,form\n"
        "AAPL,revenue,2022,FY,2022-12-31,2023-02-15,1000000,10-K\n"
        "AAPL,net_income,2022,FY,2022-12-31,2023-02-15,80000,10-K\n"
    )


def test_the_readme_block_lists_the_commands_a_user_needs() -> None:
    shown = " ".join(readme_commands())
    for command in ("data import-series", "regime", "fundamentals value", "fundamentals factors",
                    "strategy resolve", "backtest", "optimize", "walkforward", "demo"):  # fmt: skip
        assert f"quantdesk {command}" in shown, command


def test_every_readme_command_runs_as_shown(tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    write_user_files(cwd)
    shutil.copytree(ROOT / "examples", cwd / "examples")  # the README's commands run in a checkout
    env = {**os.environ, "QUANTDESK_HOME": str(tmp_path / "home"), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("QUANTDESK_DATABASE_URL", None)  # the backtests record into the temporary home, never a user's database
    skipped = []
    for command in readme_commands():
        if any(online in command for online in ONLINE):
            skipped.append(command)
            continue
        shown = re.sub(r"\s*\[[^\]]*\]", "", command)  # optional parts left out
        args = shlex.split(shown)
        target = None
        if ">" in args:
            at = args.index(">")
            args, target = args[:at], cwd / args[at + 1]
        if any(server in command for server in SERVERS):
            served = subprocess.Popen([sys.executable, "-m", "quantdesk.cli", *args[1:]], cwd=cwd, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
            try:
                assert served.stdout is not None
                first = served.stdout.readline()
                assert "OpenD emulator on 127.0.0.1:" in first and "Ctrl-C to stop" in first, (command, first)
            finally:
                served.terminate()
                served.communicate(timeout=30)
            continue
        done = subprocess.run([sys.executable, "-m", "quantdesk.cli", *args[1:]], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        if target is not None:
            target.write_text(done.stdout)
        assert done.stdout.strip(), f"{command}: printed nothing"
        if "backtest" in args:  # every backtest the README shows makes trades
            trades = re.search(r"(\d+) closed trades", done.stdout)
            assert trades and int(trades.group(1)) > 0, f"{command}: no trade\n{done.stdout[-1500:]}"
    assert [c.split()[1:3] for c in skipped] == [["fundamentals", "fetch-edgar"]]
    for written in ("macd.csv", "my.json", "strategy.schema.json", "result.json", "report.html", "opt.html",
                    "best.json", "wf.html"):  # fmt: skip
        assert (cwd / written).stat().st_size > 0, written


@pytest.mark.parametrize("line", ["quantdesk data list [--json]", 'quantdesk strategy new "My breakout" --out m.json'])
def test_the_parser_keeps_quotes_and_drops_optional_parts(line: str) -> None:
    args = shlex.split(re.sub(r"\s*\[[^\]]*\]", "", line))
    assert "[--json]" not in args and ("My breakout" in args or args[-1] == "list")
