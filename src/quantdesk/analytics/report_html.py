"""The self-contained HTML report of a portfolio backtest, and the same content as JSON-ready data.

``write_report`` writes one HTML file that opens offline: plotly's JavaScript is inlined once (with
the first chart), every later chart only carries its data. Contents: a header (strategy, symbols,
timeframe, time range, capital, a visible "Synthetic data" label for synthetic runs), the metric
table (strategy, and the benchmark's own metrics when there is one), interactive charts (price per
symbol with entries, exits and the stop line; equity against the benchmark rescaled to the initial
cash; underwater curve; monthly returns heatmap; R-multiple histogram; gross exposure by sector;
transaction costs; cumulative PnL attribution), then the attribution and cost totals, the trade list
and the denial list, and the resolved strategy file the run used. All text from the run is escaped with
``html.escape``.

Price charts: the first ``MAX_PRICE_CHARTS`` symbols by trade count (ties by name); the report says
when others were left out. A price chart draws candles up to ``MAX_CANDLES`` bars and a close line
beyond.

Downsampling: a series longer than ``MAX_CHART_POINTS`` is drawn from every k-th point, k =
ceil(n / MAX_CHART_POINTS), plus the first and last points, the points at or just before every
trade's entry and exit time and the max drawdown's trough, so the chart keeps every trade and the
worst point while the file stays small. ``report_json`` is not downsampled.

``report_json`` gives the same content as plain data: no NaN (None instead), times as ISO 8601 UTC
strings ending in ``Z``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from quantdesk.analytics.attribution import (
    Attribution,
    CostAnalysis,
    cost_analysis,
    exposure_by_sector,
    pnl_attribution,
)
from quantdesk.analytics.inputs import PerformanceInputs
from quantdesk.analytics.jsonable import TimeAxis, float_values, frame_records, iso, series_json, to_jsonable
from quantdesk.analytics.performance import (
    PerformanceMetrics,
    benchmark_metrics,
    drawdown_stats,
    equity_curve,
    monthly_returns,
    performance_metrics,
    r_distribution,
    rescaled_benchmark,
    underwater,
)
from quantdesk.core.atomic import atomic_write
from quantdesk.core.errors import ConfigError

MAX_CHART_POINTS = 20_000
MAX_CANDLES = 5_000
MAX_PRICE_CHARTS = 5

TITLE_EQUITY = "Equity vs benchmark"
TITLE_UNDERWATER = "Underwater (drawdown from peak)"
TITLE_MONTHLY = "Monthly returns"
TITLE_R = "R-multiple distribution"
TITLE_SECTORS = "Gross exposure by sector"
TITLE_COSTS = "Transaction costs"
TITLE_ATTRIBUTION = "PnL attribution (cumulative)"
CHART_TITLES = (TITLE_EQUITY, TITLE_UNDERWATER, TITLE_MONTHLY, TITLE_R, TITLE_SECTORS, TITLE_COSTS, TITLE_ATTRIBUTION)
SYNTHETIC_LABEL = "Synthetic data"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# field, label, kind (pct, num, int, money, days)
METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total_return", "Total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("volatility", "Volatility (ann.)", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_duration_days", "Longest drawdown (days)", "days"),
    ("max_drawdown_recovery_days", "Max drawdown recovery (days)", "days"),
    ("n_trades", "Trades (closed)", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "num"),
    ("expectancy", "Expectancy (per trade)", "money"),
    ("expectancy_r", "Expectancy (R)", "num"),
    ("avg_win_r", "Average win (R)", "num"),
    ("avg_loss_r", "Average loss (R)", "num"),
    ("sqn", "SQN", "num"),
    ("exposure", "Exposure", "pct"),
    ("turnover", "Turnover (× mean equity)", "num"),
    ("turnover_annual", "Turnover per year", "num"),
    ("fees", "Commission", "money"),
    ("costs", "All costs", "money"),
    ("final_equity", "Final equity", "money"),
    ("alpha", "Alpha (ann.)", "pct"),
    ("beta", "Beta", "num"),
    ("correlation", "Correlation", "num"),
    ("tracking_error", "Tracking error (ann.)", "pct"),
    ("information_ratio", "Information ratio", "num"),
)


# ---- formatting and JSON -------------------------------------------------------------------------


def format_metric(kind: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if kind == "pct":
        return f"{value * 100:.2f}%"
    if kind == "int":
        return f"{int(value)}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "days":
        return f"{value:.1f}"
    return f"{value:.3f}"


def _cell(value: Any) -> str:
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, pd.Timestamp | datetime | np.datetime64):
        return iso(value) or ""
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(float(value)) else f"{float(value):,.4g}"
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# ---- downsampling ----------------------------------------------------------------------------------


def thin_positions(
    index: pd.DatetimeIndex, keep_times: Iterable[pd.Timestamp] | pd.Index, max_points: int = MAX_CHART_POINTS
) -> np.ndarray:
    """Positions of ``index`` to draw: all when at most ``max_points``, else every k-th (k =
    ceil(n / max_points)), the first and the last, and the point at or just before each keep time."""
    n = len(index)
    if n <= max_points:
        return np.arange(n)
    k = math.ceil(n / max_points)
    if isinstance(keep_times, pd.Index):
        keep = _utc_index(keep_times)
    else:
        keep = _utc_index([t for t in keep_times if t is not None and t is not pd.NaT])
    extra = np.empty(0, dtype=np.int64)
    if len(keep):
        extra = np.clip(index.searchsorted(keep, side="right") - 1, 0, n - 1)
    return np.unique(np.concatenate([np.arange(0, n, k), [n - 1], extra]))


def _utc_index(times: list[pd.Timestamp] | pd.Index | pd.Series) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(times)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return index[index.notna()]


def _trade_times(trades: pd.DataFrame, symbol: str | None = None) -> pd.DatetimeIndex:
    rows = trades if symbol is None else trades[trades["symbol"] == symbol]
    return _utc_index(pd.concat([rows["entry_time"], rows["exit_time"]]))


def _plot_times(times: pd.Index | pd.Series) -> np.ndarray:
    """Times for a chart's axis as UTC wall-clock strings (plotly draws them as given; far faster than Timestamps)."""
    index = pd.DatetimeIndex(times)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    out: np.ndarray = np.datetime_as_string(index.to_numpy(dtype="datetime64[ns]"), unit="s")
    return out


def _thin(series: pd.Series, keep_times: pd.DatetimeIndex | list[pd.Timestamp]) -> pd.Series:
    return series.iloc[thin_positions(pd.DatetimeIndex(series.index), keep_times)]


# ---- charts ----------------------------------------------------------------------------------------


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": html.escape(title)},
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15, "x": 0},
    )
    return fig


def price_symbols(inputs: PerformanceInputs) -> list[str]:
    """Symbols with prices ordered by trade count (most first), then name."""
    counts = inputs.trades["symbol"].astype(str).value_counts()
    return sorted(inputs.prices, key=lambda s: (-int(counts.get(s, 0)), s))


def price_figure(inputs: PerformanceInputs, symbol: str) -> go.Figure:
    prices = inputs.prices[symbol]
    trades = inputs.trades[inputs.trades["symbol"] == symbol]
    keep = _trade_times(inputs.trades, symbol)
    shown = prices.iloc[thin_positions(pd.DatetimeIndex(prices.index), keep)]
    fig = go.Figure()
    if len(prices) <= MAX_CANDLES:
        fig.add_trace(
            go.Candlestick(
                x=_plot_times(shown.index),
                open=shown["open"],
                high=shown["high"],
                low=shown["low"],
                close=shown["close"],
                name=html.escape(symbol),
            )
        )
    else:
        fig.add_trace(
            go.Scatter(x=_plot_times(shown.index), y=shown["close"], name="close", line={"color": "#555", "width": 1})
        )
    stop = inputs.stop_levels.get(symbol)
    if stop is not None and len(stop):
        stop_shown = _thin(stop.astype(float), keep)
        fig.add_trace(
            go.Scatter(
                x=_plot_times(stop_shown.index),
                y=stop_shown.to_numpy(),
                name="stop",
                mode="lines",
                line={"color": "#d73027", "dash": "dot", "width": 1},
                connectgaps=False,
            )
        )
    if len(trades):
        long = (trades["side"] == "buy").to_numpy()
        fig.add_trace(
            go.Scatter(
                x=_plot_times(trades["entry_time"]),
                y=trades["entry_price"],
                mode="markers",
                name="entry",
                marker={
                    "symbol": np.where(long, "triangle-up", "triangle-down").tolist(),
                    "color": "#1a9850",
                    "size": 10,
                },
                hovertext=[
                    html.escape(f"{t} {s} entry {q:g}")
                    for t, s, q in zip(trades["trade_id"], trades["side"], trades["quantity"], strict=True)
                ],
                hoverinfo="text+x+y",
            )
        )
        closed = trades[trades["status"] == "closed"]
        fig.add_trace(
            go.Scatter(
                x=_plot_times(closed["exit_time"]),
                y=closed["exit_price"],
                mode="markers",
                name="exit",
                marker={"symbol": "x", "color": "#d73027", "size": 9},
                hovertext=[
                    html.escape(f"{t} exit: {r}")
                    for t, r in zip(closed["trade_id"], closed["exit_reason"], strict=True)
                ],
                hoverinfo="text+x+y",
            )
        )
    fig.update_layout(xaxis_rangeslider_visible=False)
    return _layout(fig, f"Price: {symbol}", height=420)


def equity_figure(
    inputs: PerformanceInputs, curve: pd.Series, keep: pd.DatetimeIndex | list[pd.Timestamp]
) -> go.Figure:
    fig = go.Figure()
    shown = _thin(curve, keep)
    fig.add_trace(
        go.Scatter(x=_plot_times(shown.index), y=shown.to_numpy(), name="strategy", line={"color": "#2c7fb8"})
    )
    bench = rescaled_benchmark(inputs)
    if bench is not None:
        b = _thin(bench, keep)
        fig.add_trace(
            go.Scatter(
                x=_plot_times(b.index),
                y=b.to_numpy(),
                name="benchmark (rescaled)",
                line={"color": "#999", "dash": "dot"},
            )
        )
    return _layout(fig, TITLE_EQUITY)


def underwater_figure(curve: pd.Series, keep: pd.DatetimeIndex | list[pd.Timestamp]) -> go.Figure:
    uw = _thin(underwater(curve) * 100.0, keep)
    fig = go.Figure(
        go.Scatter(
            x=_plot_times(uw.index), y=uw.to_numpy(), name="drawdown %", fill="tozeroy", line={"color": "#d73027"}
        )
    )
    fig.update_yaxes(title_text="%")
    return _layout(fig, TITLE_UNDERWATER, height=300)


def monthly_figure(table: pd.DataFrame) -> go.Figure:
    z = (table.to_numpy(dtype=float) * 100.0).round(2)
    fig = go.Figure(
        go.Heatmap(
            z=[[None if not math.isfinite(v) else float(v) for v in row] for row in z],
            x=list(_MONTHS),
            y=[str(y) for y in table.index],
            colorscale="RdYlGn",
            zmid=0,
            texttemplate="%{z:.1f}%",
            hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
        )
    )
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, TITLE_MONTHLY, height=max(250, 60 + 28 * len(table)))


def r_figure(r: pd.Series) -> go.Figure:
    fig = go.Figure(go.Histogram(x=r.to_numpy(), name="R", marker={"color": "#2c7fb8"}, nbinsx=30))
    if r.empty:
        fig.add_annotation(text="no closed trades with an initial risk", showarrow=False)
    fig.update_xaxes(title_text="R multiple")
    return _layout(fig, TITLE_R, height=320)


def sector_figure(exposure: pd.DataFrame, keep: pd.DatetimeIndex | list[pd.Timestamp]) -> go.Figure:
    fig = go.Figure()
    pos = thin_positions(pd.DatetimeIndex(exposure.index), keep)
    shown = exposure.iloc[pos]
    for sector in shown.columns:
        fig.add_trace(
            go.Scatter(
                x=_plot_times(shown.index),
                y=(shown[sector].to_numpy(dtype=float) * 100.0),
                name=html.escape(str(sector)),
                stackgroup="one",
                mode="lines",
            )
        )
    fig.update_yaxes(title_text="% of equity (gross)")
    return _layout(fig, TITLE_SECTORS, height=320)


def cost_figure(costs: CostAnalysis) -> go.Figure:
    t = costs.totals
    fig = go.Figure(
        go.Bar(
            x=["commission", "spread + slippage", "impact"],
            y=[t["commission"] or 0.0, t["spread_slippage"] or 0.0, t["impact"] or 0.0],
            marker={"color": ["#2c7fb8", "#fdae61", "#d73027"]},
        )
    )
    fig.update_yaxes(title_text="money")
    return _layout(fig, TITLE_COSTS, height=300)


def attribution_figure(attribution: Attribution, keep: pd.DatetimeIndex | list[pd.Timestamp]) -> go.Figure:
    cumulative = attribution.per_bar.cumsum()
    shown = cumulative.iloc[thin_positions(pd.DatetimeIndex(cumulative.index), keep)]
    fig = go.Figure()
    for column, color in (("pnl", "#222"), ("market", "#999"), ("sector", "#fdae61"), ("alpha", "#1a9850")):
        fig.add_trace(
            go.Scatter(x=_plot_times(shown.index), y=shown[column].to_numpy(), name=column, line={"color": color})
        )
    return _layout(fig, TITLE_ATTRIBUTION, height=320)


# ---- the report ------------------------------------------------------------------------------------


def _metric_table(metrics: PerformanceMetrics, bench: PerformanceMetrics | None) -> str:
    mine, other = metrics.as_dict(), bench.as_dict() if bench is not None else None
    headers = ["Metric", "Strategy"] + (["Benchmark"] if other is not None else [])
    rows = []
    for key, label, kind in METRIC_ROWS:
        row = [label, format_metric(kind, mine[key])]
        if other is not None:
            row.append(format_metric(kind, other[key]))
        rows.append(row)
    return _table(headers, rows, css="metrics")


_TRADE_HEADERS = (
    ("trade_id", "Trade"),
    ("symbol", "Symbol"),
    ("side", "Side"),
    ("status", "Status"),
    ("quantity", "Qty"),
    ("entry_time", "Entry"),
    ("entry_price", "Entry price"),
    ("exit_time", "Exit"),
    ("exit_price", "Exit price"),
    ("exit_reason", "Exit reason"),
    ("r_multiple", "R"),
    ("pnl", "PnL"),
    ("return_pct", "Return"),
    ("commission", "Commission"),
    ("spread_slippage", "Spread+slip."),
    ("impact", "Impact"),
    ("bars_held", "Bars"),
)


def _frame_table(frame: pd.DataFrame, headers: Sequence[tuple[str, str]]) -> str:
    rows = [[_cell(v) for v in row] for row in frame[[c for c, _ in headers]].itertuples(index=False)]
    return _table([h for _, h in headers], rows)


def _header(inputs: PerformanceInputs) -> str:
    symbols = inputs.symbols
    listed = ", ".join(symbols[:20]) + (f" and {len(symbols) - 20} more" if len(symbols) > 20 else "")
    title = f"{inputs.strategy_name or 'Backtest'} · {inputs.timeframe}"
    context = (
        f"{iso(inputs.start)} to {iso(inputs.equity.index[-1])} · {len(inputs.equity)} bars · "
        f"initial capital {inputs.initial_cash:,.2f} · final equity {float(inputs.equity.iloc[-1]):,.2f}"
    )
    badge = (
        f'<p class="badge">{SYNTHETIC_LABEL}: prices were generated, not observed in a market.</p>'
        if inputs.synthetic
        else ""
    )
    return (
        f"<h1>{html.escape(title)}</h1>\n{badge}\n"
        f'<p class="context">Symbols: {html.escape(listed or "none")}</p>\n'
        f'<p class="context">{html.escape(context)}</p>'
    )


def _strategy_section(inputs: PerformanceInputs) -> str:
    """The resolved strategy file the run used: every default filled in, so the report says what ran."""
    if inputs.strategy_file is None:
        return ""
    text = json.dumps(inputs.strategy_file, indent=2)
    return (
        "<h2>Strategy file (resolved)</h2>\n"
        '<p class="context">Every key at the value the run used; null: the rule or option is off.</p>\n'
        f"<details open><summary>strategy.json</summary><pre>{html.escape(text)}</pre></details>"
    )


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.context { color: #666; margin: 2px 0; }
.badge { display: inline-block; background: #fdae61; color: #000; font-weight: bold; padding: 4px 10px; }
"""


def render_report(inputs: PerformanceInputs, *, metrics: PerformanceMetrics | None = None) -> str:
    """The report's HTML text (see the module docstring)."""
    metrics = metrics if metrics is not None else performance_metrics(inputs)
    bench = benchmark_metrics(inputs)
    curve = equity_curve(inputs)
    keep = pd.DatetimeIndex(_trade_times(inputs.trades).append(_utc_index([drawdown_stats(curve).trough_time])))
    attribution = pnl_attribution(inputs)
    costs = cost_analysis(inputs.trades, inputs.fills)
    ordered = price_symbols(inputs)
    figures = [price_figure(inputs, s) for s in ordered[:MAX_PRICE_CHARTS]]
    figures += [
        equity_figure(inputs, curve, keep),
        underwater_figure(curve, keep),
        monthly_figure(monthly_returns(curve)),
        r_figure(r_distribution(inputs.trades)),
        sector_figure(exposure_by_sector(inputs.positions, inputs.sectors, inputs.equity), keep),
        cost_figure(costs),
        attribution_figure(attribution, keep),
    ]
    charts = "\n".join(
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figures)
    )
    omitted = ""
    if len(ordered) > MAX_PRICE_CHARTS:
        omitted = (
            f'<p class="context">Price charts for the {MAX_PRICE_CHARTS} symbols with the most trades; '
            f"{len(ordered) - MAX_PRICE_CHARTS} more are not drawn.</p>"
        )
    attribution_rows = [[k, format_metric("money", v)] for k, v in attribution.totals.items()]
    attribution_rows += [[f"sector: {k}", format_metric("money", v)] for k, v in attribution.sector_totals.items()]
    cost_kinds = {
        k: ("num" if k.endswith("_bps") else "pct" if k.startswith("share") else "money") for k in costs.totals
    }
    cost_rows = [[k, format_metric(cost_kinds[k], v)] for k, v in costs.totals.items()]
    trades, denials = inputs.trades, inputs.denials
    denial_headers = (("time", "Time"), ("symbol", "Symbol"), ("check", "Check"), ("reason", "Reason"))
    title = f"{inputs.strategy_name or 'Backtest'} report"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
{_header(inputs)}
<h2>Metrics</h2>
{_metric_table(metrics, bench)}
<h2>Charts</h2>
{omitted}
{charts}
<h2>PnL attribution</h2>
<p class="context">{html.escape(attribution.note)} (beta {attribution.beta:.3f})</p>
{_table(["Component", "PnL"], attribution_rows)}
<h2>Transaction costs</h2>
{_table(["Item", "Value"], cost_rows)}
<h2>Trades ({len(trades)})</h2>
{_frame_table(trades, _TRADE_HEADERS)}
<h2>Denials ({len(denials)})</h2>
{_frame_table(denials, denial_headers)}
{_strategy_section(inputs)}
<p class="context">Generated by quantdesk.</p>
</body></html>
"""


def write_report(inputs: PerformanceInputs, path: Path, *, metrics: PerformanceMetrics | None = None) -> Path:
    """Write the report to ``path`` (.html or .htm) in one step; returns the path."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"report path: expected a file ending in .html or .htm, found {str(path)!r}")
    text = render_report(inputs, metrics=metrics)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, write)
    return path


def report_json(inputs: PerformanceInputs, metrics: PerformanceMetrics) -> dict[str, Any]:
    """The report's content as JSON-ready data (no NaN, ISO 8601 UTC times); not downsampled."""
    curve = equity_curve(inputs)
    bench_metrics = benchmark_metrics(inputs)
    bench = rescaled_benchmark(inputs)
    table = monthly_returns(curve)
    r = r_distribution(inputs.trades)
    exposure = exposure_by_sector(inputs.positions, inputs.sectors, inputs.equity)
    attribution = pnl_attribution(inputs)
    costs = cost_analysis(inputs.trades, inputs.fills)
    axis = TimeAxis()
    data = {
        "meta": to_jsonable(
            {
                "strategy": inputs.strategy_name,
                "timeframe": inputs.timeframe,
                "symbols": inputs.symbols,
                "start": iso(inputs.start),
                "end": iso(inputs.equity.index[-1]),
                "bars": len(inputs.equity),
                "initial_cash": float(inputs.initial_cash),
                "synthetic": bool(inputs.synthetic),
            }
        ),
        "metrics": to_jsonable(metrics.as_dict()),
        "benchmark_metrics": to_jsonable(bench_metrics.as_dict()) if bench_metrics is not None else None,
        "equity": series_json(curve, axis),
        "benchmark": series_json(bench, axis) if bench is not None else None,
        "underwater": series_json(underwater(curve), axis),
        "monthly_returns": {
            "years": [int(y) for y in table.index],
            "months": list(range(1, 13)),
            "values": [float_values(row) for row in table.to_numpy(dtype=float)],
        },
        "r_distribution": {"trade_id": [str(t) for t in r.index], "r": float_values(r.to_numpy())},
        "sector_exposure": {
            "time": axis(exposure.index),
            "sectors": {str(c): float_values(exposure[c].to_numpy(dtype=float)) for c in exposure.columns},
        },
        "attribution": to_jsonable(
            {
                "totals": attribution.totals,
                "sector_totals": attribution.sector_totals,
                "beta": attribution.beta,
                "benchmark_used": attribution.benchmark_used,
                "note": attribution.note,
            }
        ),
        "costs": {"totals": to_jsonable(costs.totals), "per_trade": frame_records(costs.per_trade)},
        "trades": frame_records(inputs.trades),
        "denials": frame_records(inputs.denials),
        "strategy_file": inputs.strategy_file,
    }
    return data
