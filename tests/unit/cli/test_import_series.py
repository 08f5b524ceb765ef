"""``quantdesk data import-series`` end to end: rate files imported by the CLI feed a carry backtest run by the
CLI (no Python touches the rates), and bad files exit 2 naming file, row and column with nothing written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.unit.cli.runner import run_cli

DAYS = 400


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args)


def series_files(home: Path) -> dict[str, bytes]:
    folder = home / "catalog" / "series"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.is_dir() else {}


def carry_strategy(path: Path) -> Path:
    signal = {"indicator": "EMA_Cross", "params": {"fast": 5, "slow": 20}, "timeframe": "current", "weight": 1.0}
    doc = {
        "strategy_meta": {"name": "carry test", "asset_classes": ["forex"]},
        "harvesting_rules": {"required_data": ["bars", "interest_rate_differentials"]},
        "entry_conditions": {
            "direction": "both",
            "carry_gate": {"min_differential_pct": 1.0},
            "technical_signals": [{**signal, "condition": "greater_than"}],
            "confluence_threshold": 1.0,
        },
        "exit_conditions": {
            "signal_exit": {"technical_signals": [{**signal, "condition": "less_than"}], "confluence_threshold": 1.0}
        },
        "risk_management": {"position_sizing": {"method": "fixed_fraction", "fraction": 0.5}},
        "execution_rules": {"order_type": "market"},
    }
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def fx_home(tmp_path: Path) -> Path:
    """A store holding AUDJPY daily bars (a wave, so EMAs cross) imported through the CLI, and no rates."""
    home = tmp_path / "home"
    dates = pd.bdate_range("2021-01-04", periods=DAYS)
    close = 80.0 + 5.0 * np.sin(np.arange(DAYS) * 2 * np.pi / 60)
    bars = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "open": np.concatenate([[close[0]], close[:-1]]),
            "high": close + 0.3,
            "low": close - 0.3,
            "close": close,
            "volume": 1000.0,
        }
    )
    bars["high"] = np.maximum(bars["high"], bars["open"] + 0.1)
    bars["low"] = np.minimum(bars["low"], bars["open"] - 0.1)
    csv = tmp_path / "audjpy.csv"
    bars.to_csv(csv, index=False)
    result = run(home, "data", "import", str(csv), "--symbol", "AUDJPY", "--timeframe", "1d",
                 "--asset-class", "forex", "--market", "FX", "--currency", "JPY")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return home


def write_rate(path: Path, value: float, periods: int = DAYS, known: bool = False) -> Path:
    dates = pd.bdate_range("2021-01-04", periods=periods)
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "rate": value})
    if known:
        frame["known_time"] = (dates + pd.Timedelta(hours=22)).strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(path, index=False)
    return path


def test_rates_imported_by_the_cli_let_a_carry_backtest_trade(fx_home: Path, tmp_path: Path) -> None:
    strategy = carry_strategy(tmp_path / "carry.json")
    # without the rates the run names the missing series and the command that imports it
    missing = run(fx_home, "backtest", str(strategy), "--symbols", "AUDJPY")
    assert missing.returncode == 2
    assert "RATE_AUD" in missing.stderr and "quantdesk data import-series" in " ".join(missing.stderr.split())
    aud = run(fx_home, "data", "import-series", str(write_rate(tmp_path / "aud.csv", 4.0)), "--name", "RATE_AUD",
              "--frequency", "daily", "--known-lag", "1d", "--unit", "percent per year")  # fmt: skip
    assert aud.returncode == 0, aud.stderr
    assert "series RATE_AUD (daily): stored · 400 observations, 2021-01-04T00:00:00Z to 2022-07-15T00:00:00Z" in (
        aud.stdout
    )
    jpy = run(fx_home, "data", "import-series", str(write_rate(tmp_path / "jpy.csv", 0.1, known=True)),
              "--name", "RATE_JPY", "--frequency", "daily")  # fmt: skip
    assert jpy.returncode == 0, jpy.stderr
    listed = json.loads(run(fx_home, "data", "list", "--json").stdout)
    assert listed["series"] == ["RATE_AUD", "RATE_JPY"]
    out = tmp_path / "result.json"
    result = run(fx_home, "backtest", str(strategy), "--symbols", "AUDJPY", "--json", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    trades = doc["trades"]
    assert len(trades) >= 3  # the wave's upswings, long only: AUD yields 3.9 points more than JPY
    assert {t["side"] for t in trades} == {"buy"}
    # the same import again changes nothing
    again = run(fx_home, "data", "import-series", str(tmp_path / "aud.csv"), "--name", "RATE_AUD",
                "--frequency", "daily", "--known-lag", "1d", "--unit", "percent per year")  # fmt: skip
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_rates_that_stop_are_stale_and_the_carry_gate_closes_with_a_note(fx_home: Path, tmp_path: Path) -> None:
    strategy = carry_strategy(tmp_path / "carry.json")
    for ccy, value, periods in (("AUD", 4.0, 100), ("JPY", 0.1, DAYS)):
        path = write_rate(tmp_path / f"{ccy}.csv", value, periods)
        done = run(fx_home, "data", "import-series", str(path), "--name", f"RATE_{ccy}", "--frequency", "daily",
                   "--known-lag", "1d")  # fmt: skip
        assert done.returncode == 0, done.stderr
    out = tmp_path / "result.json"
    result = run(fx_home, "backtest", str(strategy), "--symbols", "AUDJPY", "--json", str(out))
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert (
        "RATE_AUD is stale: its latest value became known 2021-05-22T00:00:00Z and is too old from "
        "2021-05-29T00:00:00Z on (a daily series is used at most 7 days after it is known)" in text
    )
    doc = json.loads(out.read_text())
    entries = [t["entry"]["timestamp"] for t in doc["trade_log"]]
    assert entries and max(entries) < "2021-05-29"  # no entry once the AUD rate is 7 days old


BAD = {
    "no_known_time": ("date,rate\n2024-01-02,1.0\n", [], "no known time: when each value became known is needed"),
    "bad_value": (
        "date,rate\n2024-01-02,1.0\n2024-01-03,abc\n",
        ["--known-lag", "1d"],
        "row 2, column 'rate': not a usable value; expected a finite number of magnitude <= 1e+12, found 'abc'",
    ),
    "huge_value": (
        "date,rate\n2024-01-02,1.0\n2024-01-03,1e308\n",
        ["--known-lag", "1d"],
        "row 2, column 'rate': not a usable value",
    ),
    "duplicate": (
        "date,rate\n2024-01-02,1.0\n2024-01-02,1.1\n",
        ["--known-lag", "1d"],
        "row 2, column 'date': duplicate period; expected periods in strictly increasing order, "
        "found 2024-01-02T00:00:00Z after 2024-01-02T00:00:00Z",
    ),
    "known_early": (
        "date,rate,known_time\n2024-01-02,1.0,2024-01-03T00:00:00Z\n2024-01-03,1.1,2024-01-02T12:00:00Z\n",
        [],
        "row 2, column 'known_time': known before its period starts; expected a known time at or after "
        "2024-01-03T00:00:00Z, found 2024-01-02T12:00:00Z",
    ),
    "future": (
        "date,rate\n2024-01-02,1.0\n2199-01-03,1.1\n",
        ["--known-lag", "1d"],
        "row 2, column 'date': known in the future",
    ),
    "far_future": (
        "date,rate\n2024-01-02,1.0\n2999-01-03,1.1\n",
        ["--known-lag", "1d"],
        "row 2, column 'date': time out of range; expected a time from 1800 to 2200, found '2999-01-03'",
    ),
    "far_past": (
        "date,rate\n1066-10-14,1.0\n2024-01-03,1.1\n",
        ["--known-lag", "1d"],
        "row 1, column 'date': time out of range",
    ),
    "monthly_as_daily": (
        "date,rate\n2024-01-01,1.0\n2024-02-01,1.1\n2024-03-01,1.2\n2024-04-01,1.3\n",
        ["--known-lag", "1d"],
        "column 'date': the spacing of the periods contradicts --frequency daily; expected a median gap of 0.5 to "
        "4 days for daily observations, found a median gap of 31 days (monthly)",
    ),
    "two_value_columns": (
        "date,rate,Rate\n2024-01-02,1.0,1.0\n",
        ["--known-lag", "1d"],
        "the file has 2 columns named 'rate'",
    ),
    "bad_date": (
        "date,rate\n2024-01-02,1.0\n2024-13-03,1.1\n",
        ["--known-lag", "1d"],
        "row 2, column 'date': unparseable time",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_series_file_exits_2_naming_the_problem_and_writes_nothing(case: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = write_rate(tmp_path / "good.csv", 2.0, periods=10)
    assert run(home, "data", "import-series", str(good), "--name", "RATE_USD", "--frequency", "daily",
               "--known-lag", "1d").returncode == 0  # fmt: skip
    before = series_files(home)
    text, options, message = BAD[case]
    bad = tmp_path / f"{case}.csv"
    bad.write_text(text)
    result = run(home, "data", "import-series", str(bad), "--name", "RATE_USD", "--frequency", "daily", "--replace",
                 *options)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split())
    assert str(bad) in " ".join(result.stderr.split())
    assert series_files(home) == before


def test_options_are_checked_and_a_different_stored_series_needs_replace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = write_rate(tmp_path / "good.csv", 2.0, periods=10)
    base = ["data", "import-series", str(good), "--known-lag", "1d"]
    lower = run(home, *base, "--name", "rate_usd", "--frequency", "daily")
    assert lower.returncode == 2 and "--name: expected a series name of upper-case letters" in lower.stderr
    path_like = run(home, *base, "--name", "../X", "--frequency", "daily")
    assert path_like.returncode == 2 and "found '../X'" in path_like.stderr
    hourly = run(home, *base, "--name", "RATE_USD", "--frequency", "hourly")
    assert hourly.returncode == 2 and "--frequency: expected one of daily, weekly" in hourly.stderr
    lag = run(home, "data", "import-series", str(good), "--name", "RATE_USD", "--frequency", "daily",
              "--known-lag", "-1d")  # fmt: skip
    assert lag.returncode == 2 and "--known-lag: expected a duration of 0 or more such as 1d" in lag.stderr
    folder = run(home, "data", "import-series", str(tmp_path), "--name", "RATE_USD", "--frequency", "daily",
                 "--known-lag", "1d")  # fmt: skip
    assert folder.returncode == 2 and "is a directory" in folder.stderr
    assert series_files(home) == {}
    assert run(home, *base, "--name", "RATE_USD", "--frequency", "daily").returncode == 0
    stored = series_files(home)
    other = write_rate(tmp_path / "other.csv", 3.0, periods=10)
    refused = run(home, "data", "import-series", str(other), "--name", "RATE_USD", "--frequency", "daily",
                  "--known-lag", "1d")  # fmt: skip
    assert refused.returncode == 2 and "pass --replace to replace it" in refused.stderr
    assert series_files(home) == stored
    replaced = run(home, "data", "import-series", str(other), "--name", "RATE_USD", "--frequency", "daily",
                   "--known-lag", "1d", "--replace")  # fmt: skip
    assert replaced.returncode == 0 and "replaced" in replaced.stdout


def test_a_parquet_series_with_known_dates_is_known_at_the_end_of_each_date(tmp_path: Path) -> None:
    from quantdesk.data.sources.series_files import read_series_file

    months = pd.date_range("2023-01-01", periods=6, freq="MS")
    frame = pd.DataFrame(
        {"period": months, "CPI": np.arange(6, dtype=float), "release_date": months + pd.Timedelta(days=44)}
    )
    path = tmp_path / "cpi.parquet"
    frame.to_parquet(path)
    series = read_series_file(path, name="CPI", frequency="monthly")
    assert series.ts[0] == pd.Timestamp("2023-01-01", tz="UTC").value
    # released some time on 2023-02-14: usable from the end of that date, not its start
    assert series.known_ts[0] == pd.Timestamp("2023-02-15", tz="UTC").value
    assert series.value.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and series.frequency == "monthly"
    strings = pd.DataFrame({"date": ["2024-01-02"], "rate": ["x"]})
    strings.to_parquet(tmp_path / "s.parquet")
    with pytest.raises(Exception, match=r"row 1, column 'rate': not a usable value"):
        read_series_file(tmp_path / "s.parquet", name="R", frequency="daily", known_lag="1d")
