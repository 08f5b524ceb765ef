"""The self-contained HTML report of a backtest.

One file with plotly's JavaScript inlined (it opens offline, and can be mailed): a header with the
run's context, the metric table (strategy beside buy-and-hold of the same instrument), an
interactive chart with three linked panels (price with entries and exits, equity against
buy-and-hold, drawdown), and the trade list. Synthetic instruments are labelled as such.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from quantdesk.analytics.metrics import compute_metrics, drawdown
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_index, ns_to_iso

if TYPE_CHECKING:
    from quantdesk.backtest.result import BacktestResult

_METRIC_LABELS = {
    "total_return": ("Total return", "pct"),
    "cagr": ("CAGR", "pct"),
    "volatility": ("Volatility (ann.)", "pct"),
    "sharpe": ("Sharpe", "num"),
    "max_drawdown": ("Max drawdown", "pct"),
    "n_trades": ("Trades (closed)", "int"),
    "win_rate": ("Win rate", "pct"),
    "exposure": ("Exposure", "pct"),
    "fees_paid": ("Fees paid", "money"),
    "final_equity": ("Final equity", "money"),
}


def format_metric(kind: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if kind == "pct":
        return f"{value * 100:.2f}%"
    if kind == "int":
        return f"{int(value)}"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:.3f}"


def metric_rows(result: BacktestResult) -> list[tuple[str, str, str]]:
    """(label, strategy value, buy-and-hold value) for every metric, formatted."""
    bench = None
    if result.benchmark_equity is not None:
        bench = compute_metrics(
            result.benchmark_equity,
            start_ns=int(result.bars.ts[0]),
            end_ns=int(result.bars.known_ns()[-1]),
            initial_cash=result.initial_cash,
            trade_pnl_closed=np.empty(0),
            fees_paid=float("nan"),
            in_market=np.ones(len(result.bars), dtype=bool),
        ).as_dict()
    rows = []
    for key, (label, kind) in _METRIC_LABELS.items():
        mine = result.metrics.as_dict()[key]
        other = "" if bench is None or key in ("n_trades", "win_rate", "fees_paid") else format_metric(kind, bench[key])
        rows.append((label, format_metric(kind, mine), other))
    return rows


def build_figure(result: BacktestResult) -> go.Figure:
    bars = result.bars
    x = ns_to_index(bars.ts)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        row_heights=[0.45, 0.35, 0.2],
        subplot_titles=(f"{bars.symbol} close", "Equity", "Drawdown"),
    )
    fig.add_trace(go.Scatter(x=x, y=bars.close, name="close", line={"color": "#555", "width": 1}), row=1, col=1)
    trades = result.trades
    if len(trades):
        entry_idx = trades["entry_idx"]
        closed = trades[trades["exit_idx"] >= 0]
        fig.add_trace(
            go.Scatter(
                x=x[entry_idx],
                y=trades["entry_price"],
                mode="markers",
                name="entry",
                marker={"symbol": "triangle-up", "color": "#1a9850", "size": 8},
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=x[closed["exit_idx"]],
                y=closed["exit_price"],
                mode="markers",
                name="exit",
                marker={"symbol": "triangle-down", "color": "#d73027", "size": 8},
            ),
            row=1,
            col=1,
        )
    fig.add_trace(go.Scatter(x=x, y=result.equity, name="strategy", line={"color": "#2c7fb8"}), row=2, col=1)
    if result.benchmark_equity is not None:
        fig.add_trace(
            go.Scatter(x=x, y=result.benchmark_equity, name="buy and hold", line={"color": "#999", "dash": "dot"}),
            row=2,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=drawdown(result.equity) * 100,
            name="drawdown %",
            fill="tozeroy",
            line={"color": "#d73027", "width": 1},
        ),
        row=3,
        col=1,
    )
    fig.update_yaxes(title_text="%", row=3, col=1)
    fig.update_layout(
        height=900,
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
        hovermode="x unified",
        template="plotly_white",
        legend={"orientation": "h", "y": 1.07, "x": 0},
    )
    return fig


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(result: BacktestResult) -> str:
    bars = result.bars
    known = bars.known_ns()
    title = f"{result.strategy_name}: {bars.symbol} {bars.timeframe.value}"
    if result.instrument is not None and result.instrument.synthetic:
        title += " (synthetic data)"
    context = (
        f"{ns_to_iso(int(bars.ts[0]))} to {ns_to_iso(int(known[-1]))} · {len(bars)} bars · "
        f"initial capital {result.initial_cash:,.2f} · decided at the close, filled at the next open"
    )
    metrics = _table(["Metric", "Strategy", "Buy and hold"], [list(r) for r in metric_rows(result)])
    trade_rows = [
        [
            r["status"],
            r["entry"]["timestamp"],
            f"{r['entry']['price']:.2f}",
            r["exit"]["timestamp"],
            f"{r['exit']['price']:.2f}",
            f"{r['quantity']:g}",
            f"{r['pnl']:,.2f}",
            f"{r['return_pct'] * 100:.2f}%",
        ]
        for r in result.trade_records()
    ]
    trades = _table(["Status", "Entry", "Entry price", "Exit", "Exit price", "Qty", "PnL", "Return"], trade_rows)
    chart = build_figure(result).to_html(full_html=False, include_plotlyjs=True)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; margin: 8px 0 24px; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.context {{ color: #666; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="context">{html.escape(context)}</p>
<h2>Metrics</h2>
{metrics}
<h2>Charts</h2>
{chart}
<h2>Trades ({len(trade_rows)})</h2>
{trades}
<p class="context">Generated by quantdesk.</p>
</body></html>
"""


def write_html_report(result: BacktestResult, path: Path) -> Path:
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--report: expected a file ending in .html, found {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render_html(result), encoding="utf-8")
    tmp.replace(path)
    return path
