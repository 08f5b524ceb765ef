"""``quantdesk regime SYMBOL``: the market regime and the macro score of an instrument (or the market) at a bar;
``quantdesk inference compare STRATEGY --symbol SYMBOL``: the learned layer against the rules and the posterior."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, open_catalog, out, progress
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


inference_app = typer.Typer(
    help="The learned layer: compare the HMM regime and the calibrated classifier out of sample.", no_args_is_help=True
)
app.add_typer(inference_app, name="inference")


def _cell(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


@inference_app.command("compare")
def inference_compare(
    file: Annotated[Path, typer.Argument(help="strategy JSON file (its entry signals are the evidence)")],
    symbol: Annotated[str, typer.Option("--symbol", help="instrument symbol")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="base timeframe")] = "1d",
    start: Annotated[str | None, typer.Option("--start", help="first bar (date or ISO time, UTC)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="last bar (date or ISO time, UTC)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The learned P(up) against the Bayesian posterior (log loss, Brier, reliability) and the HMM regime against
    the rules (forward returns per regime), out of sample, on one instrument's bars."""
    from quantdesk.strategy.learned import compare_strategy_inference
    from quantdesk.strategy.load import load_strategy

    strategy = load_strategy(file)
    start_ns = to_utc_ns(start, what="--start") if start else None
    end_ns = to_utc_ns(end, what="--end") if end else None
    bars = open_catalog().read_bars(symbol, timeframe, start_ns, end_ns)
    if len(bars) == 0:
        raise DataError(f"--start/--end: {symbol} has no {timeframe} bars between {start} and {end}")
    with progress(f"fitting the learned models on {len(bars):,} {symbol} bars"):
        report = compare_strategy_inference(strategy, bars).to_dict()
    if as_json:
        out.print_json(json.dumps(report))
        return
    _print_comparison(report)


def _print_comparison(report: dict[str, Any]) -> None:
    outcome = report["outcome"]
    out.print(
        escape(
            f"{report['symbol']} {report['timeframe']}: {report['bars']:,} bars, {report['first_bar']} to "
            f"{report['last_bar']}; up = return over {outcome['horizon_bars']} bars > {outcome['min_return']:g}"
        ),
        highlight=False,
    )
    scores = report["probabilities"]
    table = Table(title=f"P(up | evidence) out of sample, on the same {scores[0]['n']:,} bars (lower is better)")
    for column in ("model", "log loss", "Brier", "calibration error"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for s in scores:
        table.add_row(s["model"], _cell(s["log_loss"]), _cell(s["brier"]), _cell(s["expected_calibration_error"]))
    out.print(table)
    reliability = Table(title="reliability: mean predicted / observed frequency (bars) per probability bin")
    reliability.add_column("bin")
    for s in scores:
        reliability.add_column(s["model"], justify="right")
    for b, first in enumerate(scores[0]["reliability"]):
        cells = []
        for s in scores:
            row = s["reliability"][b]
            cells.append(
                "-" if row["count"] == 0 else
                f"{_cell(row['mean_predicted'], 3)} / {_cell(row['observed_frequency'], 3)} ({row['count']})"
            )  # fmt: skip
        reliability.add_row(f"{first['low']:.1f}-{first['high']:.1f}", *cells)
    out.print(reliability)
    for regime_model in report["regimes"]:
        regimes = Table(
            title=f"{regime_model['model']} regimes: the {outcome['horizon_bars']}-bar forward return, on the "
            f"{regime_model['n']:,} bars where both regimes are known"
        )
        for column in ("regime", "bars", "mean", "stdev", "hit rate"):
            regimes.add_column(column, justify="right" if column != "regime" else "left")
        for r in regime_model["regimes"]:
            regimes.add_row(
                r["regime"],
                f"{r['count']:,}",
                _cell(r["mean_return"]),
                _cell(r["stdev_return"]),
                _cell(r["hit_rate"], 3),
            )
        out.print(regimes)
    for name in ("classifier", "hmm"):
        fits = report[name]["fits"]
        last = fits[-1]["fitted_through"] if fits else "none"
        out.print(
            f"{name}: {len(fits)} walk-forward fits, every {report[name]['refit_every_bars']} bars; the last fitted "
            f"through {last}",
            highlight=False,
        )
