"""The ``quantdesk`` command end to end, in a subprocess with a temporary QUANTDESK_HOME."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.unit.cli.runner import run_cli

REPO = Path(__file__).resolve().parents[3]
STRATEGY = REPO / "examples" / "strategies" / "ema_cross.json"

GOOD_CSV = """Date,Open,High,Low,Close,Volume
2024-01-02,10,11,9,10.5,100
2024-01-03,10.5,11.5,9.5,11,120
2024-01-04,11,12,10,11.5,130
2024-01-05,11.5,12.5,11,12,90
"""


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args)


def store_digest(home: Path) -> dict[str, str]:
    root = home / "catalog"
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sample_home")
    result = run(home, "data", "sample")
    assert result.returncode == 0, result.stderr
    return home


def test_data_sample_stores_spx_and_ixic_and_macro_series(sample_home: Path) -> None:
    result = run(sample_home, "data", "list", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    bars = {(d["symbol"], d["timeframe"]): d for d in listing["bars"]}
    assert bars[("SPX", "1d")]["rows"] == 5031
    assert bars[("IXIC", "1d")]["first"] == "1999-01-04T00:00:00Z"
    assert bars[("IXIC", "1d")]["last"] == "2018-12-31T00:00:00Z"
    assert {"VIX", "CORE_CPI", "AAA", "BAA", "FF_MKT_RF", "WTI"} <= set(listing["series"])


def test_data_sample_twice_changes_nothing(sample_home: Path) -> None:
    before = store_digest(sample_home)
    result = run(sample_home, "data", "sample")
    assert result.returncode == 0
    assert "SPX 1d: unchanged" in result.stdout
    assert store_digest(sample_home) == before


def test_backtest_spx_writes_json_result_with_metrics_equity_and_trades(sample_home: Path, tmp_path: Path) -> None:
    out1, out2 = tmp_path / "r1.json", tmp_path / "r2.json"
    report = tmp_path / "report.html"
    first = run(
        sample_home,
        "backtest",
        str(STRATEGY),
        "--symbol",
        "SPX",
        "--timeframe",
        "1d",
        "--json",
        str(out1),
        "--report",
        str(report),
    )
    assert first.returncode == 0, first.stderr
    second = run(sample_home, "backtest", str(STRATEGY), "--symbol", "SPX", "--timeframe", "1d", "--json", str(out2))
    assert second.returncode == 0, second.stderr
    doc = json.loads(out1.read_text())
    assert set(doc["metrics"]) >= {
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "max_drawdown",
        "n_trades",
        "win_rate",
    }
    assert doc["metrics"]["n_trades"] == sum(t["status"] == "closed" for t in doc["trade_log"]) > 50
    assert len(doc["equity"]["time"]) == 5032  # the capital at the first bar's open, then each close
    assert doc["equity"]["time"][1] == "1999-01-04T21:00:00Z"  # known at the New York close
    assert {"entry", "exit", "quantity", "risk_metrics", "context"} <= set(doc["trade_log"][0])
    assert doc["symbols"] == ["SPX"] and doc["benchmark_name"] == "SPX buy & hold"
    assert {f["reason"] for f in doc["fills"]} >= {"entry", "signal_exit"}
    assert json.dumps(doc["metrics"]).encode() == json.dumps(json.loads(out2.read_text())["metrics"]).encode()
    assert out1.read_bytes() == out2.read_bytes()
    html = report.read_text()
    assert (
        html.startswith("<!DOCTYPE html>")
        and "plotly" in html
        and "EMA Cross Trend · 1d" in html
        and "Symbols: SPX<" in html
    )


def test_backtest_start_end_restrict_the_bars(sample_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = run(
        sample_home,
        "backtest",
        str(STRATEGY),
        "--symbol",
        "SPX",
        "--start",
        "2010-01-01",
        "--end",
        "2010-12-31",
        "--capital",
        "5000",
        "--json",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["start"] == "2010-01-04T00:00:00Z" and doc["bars"] == 252 and doc["initial_capital"] == 5000.0


def test_backtest_many_symbols_share_one_account_against_a_benchmark(sample_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = run(sample_home, "backtest", str(STRATEGY), "--universe", "all", "--benchmark", "SPX", "--json", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["symbols"] == ["IXIC", "SPX"] and doc["benchmark_name"] == "SPX"
    assert {t["symbol"] for t in doc["trade_log"]} == {"IXIC", "SPX"}
    assert doc["benchmark_metrics"]["total_return"] == pytest.approx(
        2506.850098 / 1228.099976 - 1
    )  # SPX closes 1999-01-04, 2018-12-31
    assert "Information ratio" in result.stdout
    none = run(sample_home, "backtest", str(STRATEGY))
    assert none.returncode == 2 and "--symbols A,B,C or --universe" in none.stderr
    bad = run(sample_home, "backtest", str(STRATEGY), "--universe", "sector:Nothing")
    assert bad.returncode == 2 and "--universe sector:Nothing: no instrument with 1d bars matches" in bad.stderr


def test_backtest_unknown_symbol_exits_2_naming_it(sample_home: Path) -> None:
    result = run(sample_home, "backtest", str(STRATEGY), "--symbol", "NOPE")
    assert result.returncode == 2
    assert "no 1d bars stored for NOPE" in result.stderr


def test_backtest_bad_strategy_exits_2_with_json_path(sample_home: Path, tmp_path: Path) -> None:
    doc = json.loads(STRATEGY.read_text())
    doc["entry_conditions"]["confluence_threshold"] = 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = run(sample_home, "backtest", str(bad), "--symbol", "SPX")
    assert result.returncode == 2
    assert "entry_conditions.confluence_threshold" in result.stderr


def test_data_show_prints_last_bars(sample_home: Path) -> None:
    result = run(sample_home, "data", "show", "SPX", "--timeframe", "1d", "--tail", "3")
    assert result.returncode == 0, result.stderr
    assert "2018-12-31T00:00:00Z" in result.stdout and "2018-12-27T00:00:00Z" in result.stdout
    assert "2018-12-26T00:00:00Z" not in result.stdout


BAD_CSVS = {
    "duplicate": (
        GOOD_CSV + "2024-01-05,12,13,11,12.5,80\n",
        "row 5, column 'Date': duplicate time; expected unique times, "
        "found 2024-01-05T00:00:00Z, the same as the row before",
    ),
    "high_below_low": (
        GOOD_CSV.replace("2024-01-03,10.5,11.5,9.5,11,120", "2024-01-03,10.5,9,9.5,11,120"),
        "row 2, column 'High': high below low; expected high >= low = 9.5, found 9.0",
    ),
    "negative_volume": (
        GOOD_CSV.replace("2024-01-04,11,12,10,11.5,130", "2024-01-04,11,12,10,11.5,-130"),
        "row 3, column 'Volume': negative volume; expected volume >= 0, found -130.0",
    ),
    "nan_close": (
        GOOD_CSV.replace("2024-01-04,11,12,10,11.5,130", "2024-01-04,11,12,10,NaN,130"),
        "row 3, column 'Close': missing or non-finite price; expected a finite number, found NaN",
    ),
    "bad_date": (
        GOOD_CSV.replace("2024-01-04", "2024-13-04"),
        "row 3, column 'Date': unparseable time; expected a date or time written like row 1 ('2024-01-02'), "
        "found '2024-13-04'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_import_of_bad_csv_exits_2_naming_row_and_column_and_leaves_store_unchanged(case: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV)
    assert run(home, "data", "import", str(good), "--symbol", "ABC", "--timeframe", "1d").returncode == 0
    before = store_digest(home)
    text, message = BAD_CSVS[case]
    bad = tmp_path / f"{case}.csv"
    bad.write_text(text)
    result = run(home, "data", "import", str(bad), "--symbol", "ABC", "--timeframe", "1d")
    assert result.returncode == 2
    assert f"{bad}, {message}" in " ".join(result.stderr.split())
    assert store_digest(home) == before


def test_import_then_reimport_is_idempotent_and_overlap_replaces(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV)
    first = run(home, "data", "import", str(good), "--symbol", "ABC", "--timeframe", "daily")
    assert first.returncode == 0 and "4 added" in first.stdout
    again = run(home, "data", "import", str(good), "--symbol", "ABC", "--timeframe", "1d")
    assert "unchanged" in again.stdout
    update = tmp_path / "update.csv"
    update.write_text(
        "Date,Open,High,Low,Close,Volume\n2024-01-05,11.5,12.5,11,12.2,95\n2024-01-08,12,13,11.5,12.5,70\n"
    )
    third = run(home, "data", "import", str(update), "--symbol", "ABC", "--timeframe", "1d")
    assert "2 rows in, 1 added, 1 replaced, 5 in store" in third.stdout


def test_import_intraday_without_timezone_exits_2_and_with_tz_succeeds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    f = tmp_path / "m.csv"
    f.write_text("time,open,high,low,close,volume\n2024-03-08 09:30,10,11,9,10,5\n2024-03-08 09:31,10,11,9,10,5\n")
    naive = run(home, "data", "import", str(f), "--symbol", "M", "--timeframe", "1m")
    assert naive.returncode == 2 and "times have no time zone" in naive.stderr
    ok = run(home, "data", "import", str(f), "--symbol", "M", "--timeframe", "1m", "--tz", "America/New_York")
    assert ok.returncode == 0, ok.stderr
    shown = run(home, "data", "show", "M", "--timeframe", "1m")
    assert "2024-03-08T14:30:00Z" in shown.stdout


def test_import_with_column_map(tmp_path: Path) -> None:
    home = tmp_path / "home"
    f = tmp_path / "m.csv"
    f.write_text("Day,First,Max,Min,Last,Qty\n2024-01-02,10,11,9,10,5\n")
    result = run(
        home,
        "data",
        "import",
        str(f),
        "--symbol",
        "M",
        "--timeframe",
        "1d",
        "--map",
        "ts=Day,open=First,high=Max",
        "--map",
        "low=Min",
        "--map",
        "close=Last",
        "--map",
        "volume=Qty",
    )
    assert result.returncode == 0, result.stderr
    bad_map = run(home, "data", "import", str(f), "--symbol", "M", "--timeframe", "1d", "--map", "when=Day")
    assert bad_map.returncode == 2 and "unknown field 'when'" in bad_map.stderr


def test_unknown_timeframe_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, "data", "show", "SPX", "--timeframe", "2d")
    assert result.returncode == 2
    assert "unknown timeframe '2d'" in result.stderr


def test_demo_prints_summary_and_writes_report(tmp_path: Path) -> None:
    result = run(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    table = result.stdout
    for key in ("plan_example", "momentum_breakout", "mean_reversion", "trend_following", "earnings_play",
                "carry_trade", "ema_cross"):  # fmt: skip
        row = next(line for line in table.splitlines() if f" {key} " in line)
        trades = int(row.split("│")[3])
        assert trades > 0, row  # every template trades on the data it is written for
    report = tmp_path / "reports" / "demo_plan_example.html"
    assert str(report) in result.stdout.replace("\n", "")
    assert report.stat().st_size > 100_000 and "Synthetic data" in report.read_text()


def test_data_synthetic_then_backtest_on_synthetic_minutes_with_an_hourly_signal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = run(home, "data", "synthetic", "--symbols", "3", "--timeframe", "5m", "--days", "30", "--seed", "11")
    assert made.returncode == 0, made.stderr
    assert "3 instruments, 7020 5m bars in store" in " ".join(made.stdout.split())
    again = run(home, "data", "synthetic", "--symbols", "3", "--timeframe", "5m", "--days", "30", "--seed", "11")
    assert "0 dataset(s) changed" in " ".join(again.stdout.split())
    doc = json.loads(STRATEGY.read_text())
    doc["entry_conditions"]["technical_signals"].append(
        {
            "indicator": "SMA_Cross",
            "params": {"fast": 3, "slow": 6},
            "condition": "greater_than",
            "timeframe": "1h",
            "weight": 0.5,
        }
    )
    doc["entry_conditions"]["technical_signals"][0]["weight"] = 0.5
    mtf = tmp_path / "mtf.json"
    mtf.write_text(json.dumps(doc))
    out = tmp_path / "r.json"
    result = run(home, "backtest", str(mtf), "--symbol", "SYN002", "--timeframe", "5m", "--json", str(out))
    assert result.returncode == 0, result.stderr
    res = json.loads(out.read_text())
    assert res["synthetic"] is True and res["bars"] == 2340 and res["metrics"]["n_trades"] > 0
    bad = run(home, "data", "synthetic", "--symbols", "0")
    assert bad.returncode == 2 and "SyntheticConfig.n_symbols: expected an integer >= 1, found 0" in bad.stderr


def test_import_of_us_minutes_accepts_after_hours_and_refuses_the_middle_of_the_night(tmp_path: Path) -> None:
    home = tmp_path / "home"
    f = tmp_path / "m.csv"
    f.write_text("time,open,high,low,close,volume\n2024-03-08 16:30,10,11,9,10,5\n2024-03-08 19:59,10,11,9,10,5\n")
    ok = run(home, "data", "import", str(f), "--symbol", "EXT", "--timeframe", "1m", "--tz", "America/New_York")
    assert ok.returncode == 0, ok.stderr
    night = tmp_path / "n.csv"
    night.write_text("time,open,high,low,close,volume\n2024-03-11 09:31,10,11,9,10,5\n2024-03-11 02:00,10,11,9,10,5\n")
    before = store_digest(home)
    bad = run(home, "data", "import", str(night), "--symbol", "EXT", "--timeframe", "1m", "--tz", "America/New_York")
    assert bad.returncode == 2
    assert "time out of order" in bad.stderr  # the file's own order is checked first
    night.write_text("time,open,high,low,close,volume\n2024-03-11 02:00,10,11,9,10,5\n")
    bad = run(home, "data", "import", str(night), "--symbol", "EXT", "--timeframe", "1m", "--tz", "America/New_York")
    assert bad.returncode == 2
    assert "row 1, column 'time': bar outside the instrument's trading hours" in " ".join(bad.stderr.split())
    assert store_digest(home) == before


def test_universe_synthetic_leaves_out_instruments_outside_the_strategys_asset_classes(tmp_path: Path) -> None:
    # the synthetic FX pairs are in --universe synthetic; an equity strategy with a fundamental gate used to abort
    home = tmp_path / "home"
    made = run(home, "data", "synthetic", "--symbols", "3", "--days", "300", "--start", "2017-01-03", "--fx")
    assert made.returncode == 0, made.stderr
    out = tmp_path / "r.json"
    res = run(home, "strategy", "new", "m", "--template", "momentum_breakout", "--out", str(tmp_path / "m.json"))
    assert res.returncode == 0, res.stderr
    ran = run(home, "backtest", str(tmp_path / "m.json"), "--universe", "synthetic", "--json", str(out))
    assert ran.returncode == 0, ran.stderr
    for pair in ("AUDUSD", "EURUSD"):
        assert f"note {pair} left out: a forex instrument, not one of the strategy's asset_classes (equity)" in (
            ran.stdout
        )
    assert json.loads(out.read_text())["symbols"] == ["SYN001", "SYN002", "SYN003"]
    fx_only = run(home, "backtest", str(tmp_path / "m.json"), "--universe", "market:FX_SYN")
    assert fx_only.returncode == 2
    assert "none of its instruments is of the strategy's asset_classes (equity); found forex" in fx_only.stderr


def test_a_crypto_import_with_a_fractional_lot_trades_fractions_around_the_clock(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rng = np.random.default_rng(5)
    stamps = pd.date_range("2024-03-01 00:00", periods=3 * 24 * 60, freq="min", tz="UTC")  # Fri..Sun, 24/7
    close = 60_000.0 * np.exp(np.cumsum(rng.normal(0, 0.0008, len(stamps))))
    frame = pd.DataFrame({"ts": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "open": np.r_[close[0], close[:-1]],
                          "high": close * 1.0004, "low": close * 0.9996, "close": close, "volume": 3.0})  # fmt: skip
    frame["high"] = np.maximum(frame["high"], frame["open"])
    frame["low"] = np.minimum(frame["low"], frame["open"])
    csv = tmp_path / "btc.csv"
    frame.to_csv(csv, index=False)
    sizes = ("--asset-class", "crypto", "--market", "CRYPTO", "--lot-size", "0.001", "--tick-size", "0.01")
    imported = run(home, "data", "import", str(csv), "--symbol", "BTCUSD", "--timeframe", "1m", *sizes)
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "r.json"
    ran = run(home, "backtest", str(Path(__file__).resolve().parents[3] / "examples/strategies/sma_cross.json"),
              "--symbols", "BTCUSD", "--timeframe", "1m", "--json", str(out))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    trades = json.loads(out.read_text())["trades"]
    assert len(trades) > 20
    quantities = np.array([t["quantity"] for t in trades])
    assert np.allclose(quantities * 1000, np.round(quantities * 1000)) and (quantities % 1 != 0).all()
    weekend = [t for t in trades if pd.Timestamp(t["entry_time"]).day_of_week >= 5]
    assert weekend  # a 24/7 instrument trades on Saturday and Sunday
    again = run(home, "data", "import", str(csv), "--symbol", "BTCUSD", "--timeframe", "1m", "--lot-size", "1")
    assert again.returncode == 2
    assert "--lot-size: BTCUSD is stored with a lot size of 0.001, found 1" in again.stderr


def test_backtest_trade_from_warms_up_on_the_bars_before_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "data", "synthetic", "--symbols", "2", "--days", "300").returncode == 0
    strategy = str(Path(__file__).resolve().parents[3] / "examples/strategies/ema_cross.json")
    out = tmp_path / "r.json"
    ran = run(
        home, "backtest", strategy, "--symbols", "SYN001,SYN002", "--trade-from", "2024-07-01", "--json", str(out)
    )
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(out.read_text())
    assert doc["start"] >= "2024-07-01" and all(t["entry_time"] >= "2024-07-01" for t in doc["trades"])
    bad = run(home, "backtest", strategy, "--symbols", "SYN001", "--start", "2024-08-01", "--trade-from", "2024-07-01")
    assert bad.returncode == 2 and "--start (2024-08-01) is after --trade-from (2024-07-01)" in bad.stderr
