"""``quantdesk backtest`` and ``quantdesk demo``: run strategies on stored bars and report."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quantdesk.analytics.report import metric_rows
from quantdesk.cli.common import app, open_catalog, out, progress
from quantdesk.core.errors import ConfigError
from quantdesk.core.paths import data_home
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns
from quantdesk.domain.timeframe import Timeframe


def _summary_table(title: str, results: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    rows = {name: metric_rows(result) for name, result in results.items()}
    for name in results:
        table.add_column(name, justify="right")
        table.add_column(f"{name} buy & hold", justify="right", style="dim")
    for i, (label, _mine, _bench) in enumerate(next(iter(rows.values()))):
        table.add_row(label, *(cell for per_result in rows.values() for cell in per_result[i][1:]))
    return table


def evidence_sources(catalog: Any) -> Any:
    """The catalog and the fundamentals store (SQLite by default, PostgreSQL by QUANTDESK_DATABASE_URL)."""
    from quantdesk.data.fundamentals.store import FundamentalStore
    from quantdesk.strategy.compile import EvidenceSources

    return EvidenceSources(catalog=catalog, fundamentals=FundamentalStore())


@app.command("backtest")
def backtest(
    strategy_file: Annotated[Path, typer.Argument(help="strategy JSON file")],
    symbol: Annotated[str, typer.Option("--symbol", help="instrument symbol")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="base timeframe")] = "1d",
    start: Annotated[str | None, typer.Option("--start", help="first bar (date or ISO time, UTC)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="last bar (date or ISO time, UTC)")] = None,
    capital: Annotated[float, typer.Option("--capital", help="initial cash")] = 100_000.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON result here")] = None,
    report_out: Annotated[Path | None, typer.Option("--report", help="write the HTML report here")] = None,
) -> None:
    """Backtest a strategy file on stored bars."""
    from quantdesk.backtest.engine import run_backtest
    from quantdesk.strategy.load import load_strategy

    strategy = load_strategy(strategy_file)
    if report_out is not None and report_out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--report: expected a file ending in .html, found {str(report_out)!r}")
    start_ns = to_utc_ns(start, what="--start") if start else None
    end_ns = to_utc_ns(end, what="--end") if end else None
    if start_ns is not None and end_ns is not None and start_ns > end_ns:
        raise ConfigError(f"--start ({start}) is after --end ({end})")
    catalog = open_catalog()
    bars = catalog.read_bars(symbol, timeframe, start_ns, end_ns)
    instrument = catalog.find_instrument(symbol)
    sources = evidence_sources(catalog)
    with progress(f"backtesting {strategy.strategy_meta.name} on {bars.symbol} {bars.timeframe.value}"):
        result = run_backtest(strategy, bars, instrument=instrument, initial_cash=capital, sources=sources)
    out.print(
        _summary_table(f"{strategy.strategy_meta.name} · {bars.symbol} {bars.timeframe.value}", {bars.symbol: result})
    )
    notes = list(result.signals.notes) if result.signals is not None else []
    for line in [*result.not_simulated, *notes]:
        out.print(f"[yellow]note[/yellow] {line}", highlight=False)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        result.to_json(json_out)
        out.print(f"JSON result: {json_out}")
    if report_out is not None:
        result.report(report_out)
        out.print(f"HTML report: {report_out}")


@app.command("demo")
def demo() -> None:
    """Load the sample data, backtest the EMA cross strategy on SPX and IXIC, write a report."""
    from quantdesk.backtest.engine import run_backtest
    from quantdesk.data.sources.sample import SAMPLE_SYMBOLS, load_sample
    from quantdesk.strategy.load import parse_strategy

    catalog = open_catalog()
    with progress("loading the bundled sample data"):
        load_sample(catalog)
    text = resources.files("quantdesk.strategy").joinpath("library/ema_cross.json").read_text(encoding="utf-8")
    strategy = parse_strategy(text, "ema_cross.json")
    results = {}
    with progress("backtesting", total=len(SAMPLE_SYMBOLS)) as advance:
        for symbol in SAMPLE_SYMBOLS:
            results[symbol] = run_backtest(
                strategy, catalog.read_bars(symbol, Timeframe.D1), instrument=catalog.find_instrument(symbol)
            )
            advance()
    first = results[SAMPLE_SYMBOLS[0]]
    out.print(f"[bold]{strategy.strategy_meta.name}[/bold]: {strategy.strategy_meta.description}")
    out.print(
        f"sample data: {', '.join(SAMPLE_SYMBOLS)} daily, {ns_to_iso(int(first.bars.ts[0]))[:10]} to "
        f"{ns_to_iso(int(first.bars.ts[-1]))[:10]}; commission "
        f"{strategy.execution_rules.commission.fee_bps:g} bps; fills at the next open"
    )
    out.print(_summary_table("EMA cross (9/21) vs buy and hold", results))
    report_dir = data_home() / "reports"
    for symbol, result in results.items():
        path = result.report(report_dir / f"demo_ema_cross_{symbol}.html")
        out.print(f"HTML report ({symbol}): {path}")
