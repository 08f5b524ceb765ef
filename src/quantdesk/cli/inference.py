"""``quantdesk regime SYMBOL``: the market regime and the macro score of an instrument (or the market) at a bar."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import typer

from quantdesk.cli.common import app, open_catalog, out
from quantdesk.core.errors import DataError, NotFoundError
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns


def _num(x: float) -> float | None:
    return None if math.isnan(float(x)) else round(float(x), 4)


@app.command("regime")
def regime(
    symbol: Annotated[str, typer.Argument(help="instrument symbol (the benchmark itself for the market's regime)")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe")] = "1d",
    at: Annotated[str | None, typer.Option("--at", help="the bar (date or ISO time, UTC); default the last")] = None,
    benchmark: Annotated[
        str, typer.Option("--benchmark", help="benchmark symbol for the trend veto and macro")
    ] = "SPX",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The regime (trending up/down, mean-reverting, high volatility) with its inputs, and the macro score."""
    from quantdesk.analysis.inference import Regime, classify_regime, load_macro_inputs, macro_score

    catalog = open_catalog()
    end_ns = to_utc_ns(at, what="--at") if at else None
    bars = catalog.read_bars(symbol, timeframe, None, end_ns)
    if len(bars) == 0:
        raise DataError(f"--at {at}: {symbol} has no {timeframe} bar at or before it")
    inputs = load_macro_inputs(catalog, benchmark_symbol=benchmark)
    bench = inputs.benchmark if inputs.benchmark is not None and benchmark != bars.symbol else None
    series = classify_regime(bars, benchmark=bench)
    i = len(bars) - 1
    try:
        macro = macro_score(bars, benchmark=inputs.benchmark, vix=inputs.vix, baa=inputs.baa, aaa=inputs.aaa)
        macro_out: dict[str, Any] | None = {
            "score": _num(macro.score[i]),
            "coverage": _num(macro.coverage[i]),
            **{name: _num(values[i]) for name, values in macro.components().items()},
            "vix_level": _num(macro.vix_level[i]),
            "credit_spread": _num(macro.credit_spread[i]),
            "stale": macro.stale_notes(i),
        }
    except NotFoundError:
        macro_out = None
    inputs_out = {
        "adx": _num(series.adx[i]),
        "volatility": _num(series.vol[i]),
        "volatility_percentile": _num(series.vol_percentile[i]),
        "trend_slope": _num(series.trend_slope[i]),
        "benchmark_trend": _num(series.benchmark_trend[i]),
    }
    shares = {r.name.lower(): round(series.share(r), 4) for r in Regime}
    result: dict[str, Any] = {
        "symbol": bars.symbol,
        "timeframe": bars.timeframe.value,
        "bar": ns_to_iso(int(bars.ts[i])),
        "regime": series.name_at(i),
        "inputs": inputs_out,
        "share_of_bars": shares,
        "macro": macro_out,
    }
    if as_json:
        out.print_json(json.dumps(result))
        return
    out.print(
        f"[bold]{bars.symbol}[/bold] {bars.timeframe.value} bar {result['bar']}: regime [bold]{result['regime']}[/bold]"
    )
    out.print("inputs: " + ", ".join(f"{k}={v}" for k, v in inputs_out.items()), highlight=False)
    out.print("share of bars: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))
    if macro_out is not None:
        out.print("macro: " + ", ".join(f"{k}={v}" for k, v in macro_out.items() if k != "stale"), highlight=False)
        for component, why in macro_out["stale"].items():
            out.print(f"macro {component} missing: {why}", highlight=False, markup=False)
