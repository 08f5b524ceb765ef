"""The optimisation and walk-forward reports as HTML (plotly charts, tables) and JSON, written whole or not at all.

An optimisation report shows the settings, the overfitting statistics of the search (trials run, PSR and DSR of
the best trial, PBO, and why any is missing), the best trial, the best 20 trials, the objective trial by trial,
and a heatmap of the objective over the first two parameters (the mean of the trials at each pair). A
walk-forward report shows every window's in-sample and out-of-sample figures side by side, the stitched
out-of-sample equity (each CPCV path), the parameters each window chose and their stability, the out-of-sample
trades by market regime, the stitched returns' PSR, each window's DSR and PBO, and the heatmap over every
window's trials. Every name that came from a file is escaped: a strategy called ``<b>x</b>`` is shown as text.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from quantdesk.analytics.jsonable import dumps
from quantdesk.analytics.report_html import SYNTHETIC_LABEL, format_metric
from quantdesk.core.atomic import atomic_write
from quantdesk.core.errors import ConfigError

TOP_TRIALS = 20
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.context { color: #666; margin: 2px 0; }
.badge { display: inline-block; background: #fdae61; color: #000; font-weight: bold; padding: 4px 10px; }
"""
_METRIC_KINDS = {"sharpe": "num", "sortino": "num", "calmar": "num", "expectancy_r": "num", "total_return": "pct",
                 "profit_factor": "num", "cagr": "pct", "max_drawdown": "pct", "n_trades": "int",
                 "win_rate": "pct"}  # fmt: skip


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_text(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    return str(value)


def _metric(name: str, value: Any) -> str:
    return format_metric(_METRIC_KINDS.get(name, "num"), value)


def _header(doc: Mapping[str, Any], title: str) -> str:
    badge = f'<p><span class="badge">{SYNTHETIC_LABEL}</span></p>' if doc.get("synthetic") else ""
    symbols = ", ".join(doc["symbols"][:12]) + (" ..." if len(doc["symbols"]) > 12 else "")
    notes = "".join(f'<p class="context">{html.escape(n)}</p>' for n in doc.get("notes", []))
    return (f"<h1>{html.escape(title)}: {html.escape(doc['strategy'])}</h1>{badge}"
            f'<p class="context">{html.escape(symbols)} · {html.escape(doc["timeframe"])} · capital '
            f"{doc['capital']:,.0f}</p>{notes}")  # fmt: skip


def _statistics(stats: Mapping[str, Any]) -> str:
    rows = [
        ["trials run (N)", stats["n_trials"]],
        ["variance of the trials' daily Sharpe ratios", stats["sharpe_variance"]],
        ["best trial's daily Sharpe ratio", stats["best_daily_sharpe"]],
        ["PSR (true Sharpe > 0)", stats["psr"]],
        ["DSR (true Sharpe > the best of N by luck)", stats["dsr"]],
        ["PBO (CSCV, %s blocks)" % (stats["pbo_blocks"] or "-"), stats["pbo"]],
    ]
    notes = "".join(f'<p class="context">{html.escape(n)}</p>' for n in stats.get("notes", []))
    return _table(["Statistic", "Value"], rows) + notes


def _trials_frame(trials: Sequence[Mapping[str, Any]], names: Sequence[str]) -> pd.DataFrame:
    rows = []
    for t in trials:
        row = {n: t["values"].get(n) for n in names}
        row["objective"] = t["objective"][0] if t["objective"] else None
        row["number"] = t["number"]
        row["state"] = t["state"]
        rows.append(row)
    return pd.DataFrame(rows)


def heatmap_figure(frame: pd.DataFrame, names: Sequence[str], objective: str) -> go.Figure | None:
    """The mean objective of the complete trials at each pair of the first two parameters' values."""
    if len(names) < 2 or frame.empty:
        return None
    done = frame[frame["state"] == "complete"].dropna(subset=["objective"])
    if done.empty:
        return None
    x, y = names[0], names[1]
    pivot = done.pivot_table(index=y, columns=x, values="objective", aggfunc="mean").sort_index()
    fig = go.Figure(go.Heatmap(z=pivot.to_numpy(), x=[str(c) for c in pivot.columns],
                               y=[str(i) for i in pivot.index], colorscale="RdYlGn",
                               colorbar={"title": objective}))  # fmt: skip
    fig.update_layout(title=f"Mean {objective} by {x} and {y}", xaxis_title=x, yaxis_title=y, height=420,
                      margin={"l": 60, "r": 20, "t": 50, "b": 50})  # fmt: skip
    return fig


def _trial_figure(frame: pd.DataFrame, objective: str) -> go.Figure:
    done = frame.dropna(subset=["objective"])
    fig = go.Figure(go.Scatter(x=done["number"], y=done["objective"], mode="markers", name=objective))
    fig.update_layout(title=f"{objective} trial by trial", xaxis_title="trial", yaxis_title=objective, height=340,
                      margin={"l": 60, "r": 20, "t": 50, "b": 50})  # fmt: skip
    return fig


def _charts(figures: Sequence[go.Figure | None]) -> str:
    shown = [f for f in figures if f is not None]
    return "\n".join(f.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
                     for i, f in enumerate(shown))  # fmt: skip


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n{body}\n"
            '<p class="context">Generated by quantdesk.</p></body></html>\n')  # fmt: skip


def render_optimization(doc: Mapping[str, Any]) -> str:
    names = doc["parameters"]
    objective = doc["objectives"][0]
    frame = _trials_frame(doc["trials"], names)
    settings = [[k, v] for k, v in doc["settings"].items()] + [["objectives", ", ".join(doc["objectives"])]]
    best = doc["best"]
    best_html = "<p>No trial completed.</p>"
    if best is not None:
        metrics = best["metrics"] or {}
        best_html = _table(["Parameter", "Value"], [[k, v] for k, v in best["values"].items()])
        best_html += _table(["Metric (in sample)", "Value"], [[k, _metric(k, v)] for k, v in metrics.items()])
    done = frame[frame["state"] == "complete"].sort_values("objective", ascending=False).head(TOP_TRIALS)
    top = _table(["trial", *names, objective], [[r["number"], *[r[n] for n in names], r["objective"]]
                                                for _, r in done.iterrows()])  # fmt: skip
    states = frame["state"].value_counts().to_dict() if not frame.empty else {}
    body = f"""{_header(doc, "Optimisation")}
<h2>Settings</h2>{_table(["Setting", "Value"], settings)}
<h2>Overfitting statistics</h2>{_statistics(doc["statistics"])}
<p class="context">Trials by state: {html.escape(", ".join(f"{k} {v}" for k, v in states.items()))};
points skipped for breaking a constraint: {doc["skipped"]}.</p>
<h2>Best trial</h2>{best_html}
<h2>Best {TOP_TRIALS} trials</h2>{top}
<h2>Charts</h2>{_charts([heatmap_figure(frame, names, objective), _trial_figure(frame, objective)])}"""
    return _page(f"{doc['strategy']} optimisation", body)


def _stitched_figure(stitched: Mapping[str, Any]) -> go.Figure:
    fig = go.Figure()
    for i, path in enumerate(stitched["paths"]):
        times = pd.to_datetime(path["time_ns"], utc=True)
        fig.add_trace(go.Scatter(x=times, y=path["value"], mode="lines", name=f"path {i + 1}"))
    fig.update_layout(title="Stitched out-of-sample equity", yaxis_title="equity", height=380,
                      margin={"l": 60, "r": 20, "t": 50, "b": 40})  # fmt: skip
    return fig


def render_walkforward(doc: Mapping[str, Any]) -> str:
    names = doc["parameters"]
    summary = doc["summary"]
    objective = doc["windows"][0]["search"]["objectives"][0] if doc["windows"] else "objective"
    rows = []
    for w in summary["windows"]:
        ins, oos = w["in_sample"] or {}, w["out_of_sample"] or {}
        rows.append([w["index"], w["test_start"][:10], w["test_end"][:10], _text(w["values"]),
                     _metric("sharpe", ins.get("sharpe")), _metric("sharpe", oos.get("sharpe")),
                     _metric("total_return", ins.get("total_return")),
                     _metric("total_return", oos.get("total_return")), _metric("n_trades", oos.get("n_trades")),
                     w["n_trials"], w["dsr"], w["pbo"]])  # fmt: skip
    windows = _table(["window", "test from", "test to", "chosen", "IS Sharpe", "OOS Sharpe", "IS return",
                      "OOS return", "OOS trades", "trials", "DSR", "PBO"], rows)  # fmt: skip
    stability = _table(["parameter", "chosen per window", "mean", "stdev", "cv", "modal share"],
                       [[s["name"], ", ".join(str(v) for v in s["values"]), s.get("mean"), s.get("stdev"),
                         s.get("cv"), s.get("modal_share")] for s in summary["stability"]])  # fmt: skip
    regimes = _table(["regime", "trades", "win rate", "mean R", "PnL"],
                     [[r["regime"], r["n_trades"], _metric("win_rate", r["win_rate"]), r["mean_r"],
                       format_metric("money", r["pnl"])] for r in summary["regimes"]])  # fmt: skip
    oos = summary["out_of_sample_statistics"]
    oos_rows = [["days out of sample", oos["days"]], ["daily Sharpe", oos["daily_sharpe"]],
                ["annualised Sharpe (252 days)", oos.get("annual_sharpe")], ["PSR (true Sharpe > 0)", oos["psr"]],
                ["trials run over every window", oos["n_trials"]]]  # fmt: skip
    every = [t for w in doc["windows"] for t in w["search"]["trials"]]
    frame = _trials_frame(every, names)
    settings = [[k, v] for k, v in doc["settings"].items()]
    overlap = ('<p class="context">The test windows overlap (the step is shorter than the test): the stitched '
               "equity counts the overlap twice.</p>") if summary["stitched"].get("overlapping") else ""  # fmt: skip
    body = f"""{_header(doc, "Walk-forward")}
<h2>Settings</h2>{_table(["Setting", "Value"], settings)}
<h2>In sample against out of sample</h2>{windows}
<h2>Out of sample, stitched</h2>{_table(["Statistic", "Value"], oos_rows)}{overlap}
<h2>Parameter stability</h2>{stability}
<h2>Out-of-sample trades by market regime (as known at each decision)</h2>{regimes}
<h2>Charts</h2>{_charts([_stitched_figure(summary["stitched"]), heatmap_figure(frame, names, objective)])}
{_learned(doc.get("learned"))}"""
    return _page(f"{doc['strategy']} walk-forward", body)


def _learned(comparisons: Sequence[Mapping[str, Any]] | None) -> str:
    """The learned layer against the rules and the Bayesian posterior, out of sample, per instrument."""
    if not comparisons:
        return ""
    parts = ["<h2>The learned layer out of sample</h2><p class=\"context\">Every model fitted walk-forward on the "
             "bars before the ones it scores.</p>"]  # fmt: skip
    for c in comparisons:
        parts.append(f"<h3>{html.escape(str(c['symbol']))} ({c['bars']} bars)</h3>")
        parts.append(_table(["P(up) from", "bars scored", "log loss", "Brier", "calibration error"],
                            [[p["model"], p["n"], p["log_loss"], p["brier"], p["expected_calibration_error"]]
                             for p in c["probabilities"]]))  # fmt: skip
        rows = [[r["model"], g["regime"], g["count"], g["mean_return"], g["stdev_return"], g["hit_rate"]]
                for r in c["regimes"] for g in r["regimes"]]  # fmt: skip
        parts.append(_table(["regime model", "regime", "bars", "mean forward return", "stdev", "hit rate"], rows))
    return "".join(parts)


def render(doc: Mapping[str, Any]) -> str:
    if doc["kind"] == "optimization":
        return render_optimization(doc)
    if doc["kind"] == "walkforward":
        return render_walkforward(doc)
    raise ConfigError(f"report: expected an optimization or walkforward document, found kind {doc.get('kind')!r}")


def write_report(doc: Mapping[str, Any], path: Path | str) -> Path:
    """``doc`` as HTML (a path ending .html or .htm) or JSON (.json), written in one step."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = render(doc)
    elif suffix == ".json":
        text = dumps(doc) + "\n"
    else:
        raise ConfigError(f"report path: expected a file ending in .html, .htm or .json, found {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, write)
    return path


def write_strategy(document: Mapping[str, Any], path: Path | str) -> Path:
    """A strategy file (``--write-best``), written in one step."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise ConfigError(f"--write-best: expected a file ending in .json, found {str(path)!r}")
    text = json.dumps(document, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, write)
    return path
