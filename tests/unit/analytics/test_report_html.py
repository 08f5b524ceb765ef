"""The HTML report and its JSON twin."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.analytics.inputs import PerformanceInputs
from quantdesk.analytics.performance import equity_curve, performance_metrics
from quantdesk.analytics.report_html import (
    CHART_TITLES,
    MAX_CHART_POINTS,
    SYNTHETIC_LABEL,
    equity_figure,
    report_json,
    thin_positions,
    write_report,
)
from quantdesk.core.errors import ConfigError

Make = Callable[..., PerformanceInputs]
EVIL_REASON = 'trail <stop> & "gap"'


def _run(make_inputs: Make, make_trade: Callable[..., dict[str, Any]], *, n: int = 60, **overrides: Any) -> Any:
    rng = np.random.default_rng(1)
    times = pd.date_range("2021-01-04T21:00:00Z", periods=n, freq="D")
    opens = times.normalize()
    closes = 100 * np.cumprod(1 + rng.normal(0, 0.01, n))
    prices = pd.DataFrame({"open": closes, "high": closes * 1.01, "low": closes * 0.99, "close": closes}, index=opens)
    trades = [
        make_trade(
            trade_id="t1",
            entry_time=opens[5],
            entry_price=closes[4],
            exit_time=opens[9],
            exit_price=closes[8],
            exit_reason=EVIL_REASON,
            r_multiple=1.2,
            pnl=12.0,
            commission=1.0,
        ),
        make_trade(trade_id="t2", entry_time=opens[20], exit_time=pd.NaT, status="open", exit_price=np.nan),
    ]
    fields: dict[str, Any] = {
        "initial_cash": 10_000.0,
        "start": pd.Timestamp("2021-01-04T14:30Z"),
        "benchmark": pd.Series(closes, index=times),
        "positions": pd.DataFrame({"AAA": np.where(np.arange(n) > 20, 1000.0, 0.0)}, index=times),
        "sectors": {"AAA": "tech"},
        "trades": trades,
        "denials": pd.DataFrame(
            [{"time": times[3], "symbol": "AAA", "check": "max_exposure", "reason": "over <limit>"}],
        ),
        "stop_levels": {"AAA": pd.Series(np.where(np.arange(n) > 20, 95.0, np.nan), index=times)},
        "prices": {"AAA": prices},
        "synthetic": True,
        "strategy_name": "Demo & co",
    }
    fields.update(overrides)
    return make_inputs(10_000 * np.cumprod(1 + rng.normal(0.0005, 0.01, n)), times, **fields)


def test_html_report_is_self_contained_and_complete(
    tmp_path: Path, make_inputs: Make, make_trade: Callable[..., dict[str, Any]]
) -> None:
    inputs = _run(make_inputs, make_trade)
    path = write_report(inputs, tmp_path / "out" / "report.html")
    text = path.read_text(encoding="utf-8")
    assert text.count("plotly.js v") == 1  # the bundle's banner: inlined exactly once
    assert SYNTHETIC_LABEL in text
    for title in (*CHART_TITLES, "Price: AAA"):
        assert title in text, title
    assert "trail &lt;stop&gt; &amp; &quot;gap&quot;" in text  # the exit reason, escaped in the trade table
    assert EVIL_REASON not in text
    assert "over &lt;limit&gt;" in text and "Demo &amp; co" in text
    assert "<th>Benchmark</th>" in text  # the benchmark's own metrics column
    assert not list(path.parent.glob("*.tmp"))


def test_report_without_synthetic_data_has_no_label_and_no_benchmark_column(
    tmp_path: Path, make_inputs: Make, make_trade: Callable[..., dict[str, Any]]
) -> None:
    inputs = _run(make_inputs, make_trade, synthetic=False, benchmark=None)
    text = write_report(inputs, tmp_path / "r.htm").read_text(encoding="utf-8")
    assert SYNTHETIC_LABEL not in text
    assert "<th>Benchmark</th>" not in text
    assert "no benchmark: the market component is 0" in text


def test_report_path_must_be_html(tmp_path: Path, make_inputs: Make, make_trade: Callable[..., dict[str, Any]]) -> None:
    with pytest.raises(ConfigError, match=r"\.html.*report\.pdf"):
        write_report(_run(make_inputs, make_trade), tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_price_charts_are_limited_to_the_five_most_traded_symbols(
    tmp_path: Path, make_inputs: Make, make_trade: Callable[..., dict[str, Any]]
) -> None:
    base = _run(make_inputs, make_trade)
    prices = {f"S{i}": base.prices["AAA"] for i in range(7)}
    # S6 trades 3 times, S5 twice, the rest never: S6 and S5 come first, then S0..S2 by name
    trades = [make_trade(trade_id=f"x{i}", symbol=s) for i, s in enumerate(["S6", "S6", "S6", "S5", "S5"])]
    inputs = _run(make_inputs, make_trade, prices=prices, trades=trades)
    text = write_report(inputs, tmp_path / "r.html").read_text(encoding="utf-8")
    shown = {s for s in prices if f"Price: {s}" in text}
    assert shown == {"S6", "S5", "S0", "S1", "S2"}
    assert "2 more are not drawn" in text


def test_long_series_are_thinned_but_keep_trade_points() -> None:
    index = pd.date_range("2020-01-01", periods=100_000, freq="min", tz="UTC")
    keep = [index[12_346], index[99_998]]
    pos = thin_positions(index, keep)
    # k = ceil(100000 / 20000) = 5: 20000 regular points + 2 trade points (not multiples of 5) + the last
    assert len(pos) == 20_003
    assert {0, 12_346, 99_998, 99_999} <= set(pos.tolist())
    assert (np.diff(pos) > 0).all()
    assert len(thin_positions(index[:500], keep)) == 500  # short series are drawn whole


def test_equity_chart_of_a_long_run_stays_under_the_point_budget(
    make_inputs: Make, make_trade: Callable[..., dict[str, Any]]
) -> None:
    inputs = _run(make_inputs, make_trade, n=50_000)
    fig = equity_figure(inputs, equity_curve(inputs), [inputs.equity.index[777]])
    for trace in fig.data:
        assert len(trace.x) <= MAX_CHART_POINTS + 2
    assert inputs.equity.index[777] in set(pd.DatetimeIndex(fig.data[0].x).tz_localize("UTC"))  # UTC wall clock


def test_report_json_is_strict_json_with_iso_utc_times(
    make_inputs: Make, make_trade: Callable[..., dict[str, Any]]
) -> None:
    inputs = _run(make_inputs, make_trade)
    data = report_json(inputs, performance_metrics(inputs))
    text = json.dumps(data, allow_nan=False)  # raises on NaN or infinity
    assert set(data) >= {
        "meta",
        "metrics",
        "benchmark_metrics",
        "equity",
        "benchmark",
        "underwater",
        "monthly_returns",
        "r_distribution",
        "sector_exposure",
        "costs",
        "trades",
        "denials",
    }
    assert data["equity"]["time"][0] == "2021-01-04T14:30:00Z"  # the initial cash at the start
    assert len(data["equity"]["value"]) == len(inputs.equity) + 1
    assert data["meta"]["synthetic"] is True
    assert data["r_distribution"] == {"trade_id": ["t1"], "r": [1.2]}
    open_trade = next(t for t in data["trades"] if t["trade_id"] == "t2")
    assert open_trade["exit_time"] is None and open_trade["exit_price"] is None
    assert data["trades"][0]["exit_reason"] == EVIL_REASON  # data, not HTML: unescaped
    assert data["metrics"]["profit_factor"] is None  # no losing trade
    assert data["denials"][0]["time"].endswith("Z")
    assert "NaN" not in text
