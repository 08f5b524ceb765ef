"""``quantdesk indicators list|compute`` and ``quantdesk analyze``: the technical analysis module from
the command line, over the same registry strategies use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from quantdesk.cli.common import app, open_catalog, out
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import to_utc_ns

indicators_app = typer.Typer(help="List and compute technical indicators.", no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")


def parse_params(items: list[str] | None, what: str = "--param") -> dict[str, Any]:
    """``["period=14", "ma_type=EMA"]`` -> ``{"period": 14, "ma_type": "EMA"}`` (numbers parsed as numbers)."""
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise ConfigError(f"{what}: expected KEY=VALUE, found {item!r}")
        value: Any = text.strip()
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
        params[key.strip()] = value
    return params


@indicators_app.command("list")
def indicators_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    category: Annotated[str | None, typer.Option("--category", help="only this category, e.g. momentum")] = None,
) -> None:
    """List every indicator: name, category, parameters with defaults, outputs."""
    from quantdesk.analysis.technical.registry import INDICATORS
    from quantdesk.analysis.technical.spec import CATEGORIES

    if category is not None and category not in CATEGORIES:
        raise ConfigError(f"--category: expected one of {', '.join(CATEGORIES)}, found {category!r}")
    specs = [s for s in INDICATORS.values() if category is None or s.category == category]
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in specs], indent=1))
        return
    table = Table(title=f"{len(specs)} indicators")
    for col in ("name", "category", "params (default)", "outputs"):
        table.add_column(col, overflow="fold")
    for s in specs:
        params = ", ".join(f"{p.name}={p.default}" for p in s.params)
        table.add_row(s.name, s.category, params, ", ".join(s.outputs))
    out.print(table)


@indicators_app.command("compute")
def indicators_compute(
    name: Annotated[str, typer.Argument(help="indicator name (see `quantdesk indicators list`)")],
    symbol: Annotated[str, typer.Option("--symbol", help="instrument symbol")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.parquet")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe to read")] = "1d",
    param: Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE, repeatable")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="compute on this coarser timeframe, aligned to --timeframe by known time")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="first bar (date or ISO time, UTC)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="last bar (date or ISO time, UTC)")] = None,
) -> None:
    """Compute one indicator over stored bars and write the timestamp and every output column."""
    from quantdesk.analysis.technical.mtf import compute_on_timeframe
    from quantdesk.analysis.technical.registry import get_indicator, resolve_params
    from quantdesk.data.export import export_format, write_frame

    export_format(out_file)
    spec = get_indicator(name)
    params = resolve_params(spec, parse_params(param), "--param")
    bars = open_catalog().read_bars(
        symbol,
        timeframe,
        to_utc_ns(start, what="--start") if start else None,
        to_utc_ns(end, what="--end") if end else None,
    )
    outputs = compute_on_timeframe(name, bars, on or bars.timeframe, params)
    frame = pd.DataFrame({"ts": pd.DatetimeIndex(bars.ts.view("datetime64[ns]")).tz_localize("UTC")})
    for col in spec.outputs:
        frame[col] = outputs[col]
    write_frame(frame, out_file)
    first = next((i for i in range(len(frame)) if not frame.iloc[i, 1:].isna().any()), None)
    warm = f"first complete row {first + 1}" if first is not None else "no complete row (all warm-up)"
    out.print(
        f"{spec.name} {params} on {bars.symbol} {on or bars.timeframe.value}: {len(frame):,} rows, "
        f"{len(spec.outputs)} output(s), {warm} -> {out_file}"
    )


@app.command("analyze")
def analyze(
    symbol: Annotated[str, typer.Argument(help="instrument symbol")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe")] = "1d",
    at: Annotated[str | None, typer.Option("--at", help="as of this date or time (a date includes its day)")] = None,
    recent: Annotated[int, typer.Option("--recent", help="patterns and divergences in the last N bars")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Latest values of the default indicator set, recent patterns and current divergences."""
    from quantdesk.analysis.technical.snapshot import technical_snapshot

    if recent < 1:
        raise ConfigError(f"--recent: expected a number >= 1, found {recent}")
    end_ns = None
    if at is not None:
        end_ns = to_utc_ns(at, what="--at")
        if len(at.strip()) <= 10:  # a bare date: the whole of that day
            end_ns += 86_400 * 10**9 - 1
    bars = open_catalog().read_bars(symbol, timeframe, None, end_ns)
    snap = technical_snapshot(bars, recent_bars=recent)
    if as_json:
        typer.echo(json.dumps(snap.to_dict(), indent=1))
        return
    _print_snapshot(snap.to_dict())


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _print_snapshot(snap: dict[str, Any]) -> None:
    out.print(f"[bold]{snap['symbol']} {snap['timeframe']}[/bold] as of {snap['as_of']} · close {_fmt(snap['close'])}")
    table = Table(title="indicators (last bar)")
    table.add_column("indicator")
    table.add_column("values", overflow="fold")
    for row in snap["indicators"]:
        table.add_row(row["label"], ", ".join(f"{k} {_fmt(v)}" for k, v in row["values"].items()))
    out.print(table)
    for key, title in (
        ("candlesticks", "candlestick patterns"),
        ("chart_patterns", "chart patterns"),
        ("harmonic_patterns", "harmonic patterns"),
        ("divergences", "divergences"),
    ):
        events = snap[key]
        if not events:
            out.print(f"{title} in the last {snap['recent_bars']} bars: none")
            continue
        t = Table(title=f"{title} in the last {snap['recent_bars']} bars")
        for col in ("confirmed", "name", "direction", "details"):
            t.add_column(col, overflow="fold")
        for e in events:
            t.add_row(str(e["confirmed_at"]), str(e["name"]), str(e["direction"]), str(e.get("summary", "")))
        out.print(t)
    levels = snap.get("levels") or {}
    if levels:
        out.print("levels: " + ", ".join(f"{k} {_fmt(v)}" for k, v in levels.items()))


@indicators_app.command("precompute")
def indicators_precompute(
    symbol: Annotated[str, typer.Argument(help="instrument symbol")],
    indicator: Annotated[list[str], typer.Option("--indicator", help="NAME or NAME:KEY=VALUE,KEY=VALUE (repeatable)")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="the stored bars to read")] = "1d",
    on: Annotated[str, typer.Option("--on", help="comma-separated timeframes to compute on (current: the bars')")] = (
        "current"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Compute indicators on a symbol's stored bars at several timeframes and keep them in the data home
    (``<home>/indicators``), each valid for the data it was computed on: a backtest, an explain or a live
    session over the same bars reads them instead of computing; a change of the bars invalidates them."""
    from quantdesk.analysis.technical.precomputed import IndicatorCache, precompute
    from quantdesk.core.paths import data_home

    chosen = []
    for item in indicator:
        name, _, given = item.partition(":")
        if not name.strip():
            raise ConfigError(f"--indicator: expected NAME or NAME:KEY=VALUE,..., found {item!r}")
        chosen.append((name.strip(), parse_params([p for p in given.split(",") if p], f"--indicator {name}")))
    timeframes = [t.strip() for t in on.split(",") if t.strip()]
    if not timeframes:
        raise ConfigError(f"--on: expected comma-separated timeframes such as 5m,15m,1h,1d, found {on!r}")
    bars = open_catalog().read_bars(symbol, timeframe)
    cache = IndicatorCache(data_home() / "indicators")
    done = precompute(cache, bars, timeframes, chosen)
    if as_json:
        typer.echo(json.dumps([{"timeframe": tf, "indicator": n, "computed": c} for tf, n, c in done], indent=1))
        return
    for tf, name, computed in done:
        out.print(f"{bars.symbol} {tf} {name}: {'computed' if computed else 'already current'}", highlight=False)


@indicators_app.command("cached")
def indicators_cached(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The precomputed indicators in the data home, with the data version each was computed on."""
    from quantdesk.analysis.technical.precomputed import IndicatorCache
    from quantdesk.core.paths import data_home

    entries = IndicatorCache(data_home() / "indicators").entries()
    if as_json:
        typer.echo(json.dumps([{"symbol": e.symbol, "timeframe": e.timeframe, "indicator": e.name,
                                "params": json.loads(e.params or "{}"), "version": e.version, "rows": e.rows}
                               for e in entries], indent=1))  # fmt: skip
        return
    table = Table(title=f"{len(entries)} precomputed indicators")
    for col in ("symbol", "timeframe", "indicator", "params", "rows", "data version"):
        table.add_column(col)
    for e in entries:
        table.add_row(e.symbol, e.timeframe, e.name, e.params, f"{e.rows:,}", e.version[:12])
    out.print(table)
