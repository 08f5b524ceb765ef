"""``quantdesk indicators list|compute`` and ``quantdesk analyze`` end to end on the sample data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib
from tests.unit.cli.test_cli import run

from quantdesk.core.timestamps import to_utc_ns
from quantdesk.data.sources.sample import sample_bars


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("technical_home")
    result = run(home, "data", "sample")
    assert result.returncode == 0, result.stderr
    return home


def test_indicators_list_json_describes_every_indicator(home: Path) -> None:
    result = run(home, "indicators", "list", "--json")
    assert result.returncode == 0, result.stderr
    listing = {d["name"]: d for d in json.loads(result.stdout)}
    assert listing["RSI"]["params"] == [
        {"name": "period", "type": "int", "default": 14, "minimum": 2, "maximum": 100000,
         "description": "Wilder smoothing window in bars"}
    ]  # fmt: skip
    assert listing["MACD"]["outputs"] == ["macd", "signal", "histogram"] and listing["MACD"]["category"] == "momentum"
    assert listing["Engulfing"]["alias_of"] == "CDLENGULFING" and "WILLR" in listing
    result = run(home, "indicators", "list", "--category", "volume")
    assert result.returncode == 0 and "Volume_Spike" in result.stdout and "RSI " not in result.stdout
    bad = run(home, "indicators", "list", "--category", "vibes")
    assert bad.returncode == 2 and "--category: expected one of trend, momentum" in bad.stderr


def test_indicators_compute_writes_timestamp_and_every_output(home: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "macd.csv"
    result = run(home, "indicators", "compute", "MACD", "--symbol", "SPX", "--param", "fast=8", "--out", str(out_file))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out_file)
    assert list(frame.columns) == ["ts", "macd", "signal", "histogram"]
    spx = sample_bars("SPX")
    expected = talib.MACD(spx.close, 8, 26, 9)
    assert len(frame) == len(spx) and frame["macd"].isna().sum() == np.isnan(expected[0]).sum()
    np.testing.assert_allclose(frame["histogram"].to_numpy(), expected[2], rtol=1e-9, equal_nan=True)
    assert frame["ts"].iloc[0].startswith("1999-01-04")


def test_indicators_compute_parquet_on_a_higher_timeframe(home: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "rsi_weekly.parquet"
    args = ["indicators", "compute", "RSI", "--symbol", "SPX", "--on", "1w", "--out", str(out_file)]
    result = run(home, *args)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(out_file)
    assert list(frame.columns) == ["ts", "value"] and len(frame) == len(sample_bars("SPX"))
    # a weekly value holds for the five daily bars that follow the week's close
    assert frame["value"].iloc[200:205].nunique() <= 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RSX", "--out", "x.csv"], "unknown indicator 'RSX' (did you mean RSI"),
        (["RSI", "--param", "period", "--out", "x.csv"], "--param: expected KEY=VALUE, found 'period'"),
        (["RSI", "--param", "period=1", "--out", "x.csv"], "--param.period: expected 2 <= period <= 100000, found 1"),
        (
            ["RSI", "--param", "length=3", "--out", "x.csv"],
            "unknown parameter 'length' for RSI; valid parameters: period",
        ),
        (["RSI", "--out", "x.xlsx"], "--out: expected a file ending in .csv or .parquet, found '"),
        (["RSI", "--on", "1h", "--out", "x.csv"], "1h is finer than the base timeframe 1d"),
    ],
)
def test_indicators_compute_bad_input_exits_2_and_writes_nothing(
    home: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a if a not in ("x.csv", "x.xlsx") else str(tmp_path / a) for a in args]
    result = run(home, "indicators", "compute", args[0], "--symbol", "SPX", *args[1:])
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []


def test_analyze_json_as_of_a_date_reports_values_patterns_and_divergences(home: Path) -> None:
    result = run(home, "analyze", "SPX", "--at", "2015-08-24", "--recent", "20", "--json")
    assert result.returncode == 0, result.stderr
    snap = json.loads(result.stdout)
    assert snap["as_of"] == "2015-08-24T00:00:00Z" and snap["close"] == pytest.approx(1893.21, abs=0.01)
    values = {row["indicator"]: row["values"] for row in snap["indicators"]}
    spx = sample_bars("SPX")
    k = int(np.searchsorted(spx.ts, to_utc_ns("2015-08-24"), "right"))
    assert values["RSI"]["value"] == pytest.approx(talib.RSI(spx.close[:k], 14)[-1], rel=1e-12)
    assert values["RSI"]["value"] < 20  # the August 2015 sell-off
    # the double top that broke on 2015-08-21, and nothing confirmed after the as-of date
    tops = [p for p in snap["chart_patterns"] if p["name"] == "double_top"]
    assert tops and tops[0]["confirmed_at"] == "2015-08-21T00:00:00Z" and tops[0]["target"] < tops[0]["breakout_level"]
    events = snap["candlesticks"] + snap["chart_patterns"] + snap["harmonic_patterns"] + snap["divergences"]
    assert all("2015-07-27" <= e["confirmed_at"][:10] <= "2015-08-24" for e in events)
    assert {d["kind"] for d in snap["divergences"]} <= {"regular", "hidden"}


def test_analyze_text_and_bad_input(home: Path) -> None:
    result = run(home, "analyze", "SPX", "--at", "2015-08-24")
    assert result.returncode == 0, result.stderr
    assert "SPX 1d as of 2015-08-24" in result.stdout and "RSI(14)" in result.stdout
    assert "chart patterns in the last 20 bars" in result.stdout
    bad = run(home, "analyze", "SPX", "--recent", "0")
    assert bad.returncode == 2 and "--recent: expected a number >= 1, found 0" in bad.stderr
    missing = run(home, "analyze", "NOPE")
    assert missing.returncode == 2 and "NOPE" in missing.stderr
