"""The ``quantdesk`` command line (typer + rich).

Every command is a thin layer over the Python API: it parses options, calls the same functions a
notebook would, and renders the result. Exit codes: 0 success, 2 bad input (a ``ConfigError`` or
``DataError``, message printed), 1 an internal error (set ``QUANTDESK_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from quantdesk.analytics.report import metric_rows
from quantdesk.core.errors import ConfigError, DataError, QuantdeskError
from quantdesk.core.paths import data_home
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns
from quantdesk.data.catalog import Catalog, WriteReport
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours
from quantdesk.domain.timeframe import Timeframe

app = typer.Typer(
    help="quantdesk: systematic trading from data to backtest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Load, import, list and show market data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)

US_HOURS = {"pre_market": "04:00-09:30", "regular": "09:30-16:00", "after_hours": "16:00-20:00"}


@contextmanager
def _progress(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A transient rich progress bar on stderr; yields ``advance(step=1, description=None)``."""
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(step: int = 1, description: str | None = None) -> None:
            progress.update(task, advance=step, description=description or progress.tasks[0].description)

        yield advance


def _catalog() -> Catalog:
    return Catalog()


def _print_write(report: WriteReport, *, max_gaps: int = 5) -> None:
    verb = "stored" if report.changed else "unchanged"
    out.print(
        f"{report.symbol} {report.timeframe.value}: {verb} · {report.rows_in} rows in, {report.rows_added} added, "
        f"{report.rows_replaced} replaced, {report.rows_total} in store"
    )
    if report.gaps:
        out.print(f"  [yellow]{len(report.gaps)} gap(s) in the data (reported, not filled):[/yellow]")
        for gap in report.gaps[:max_gaps]:
            out.print(f"    {gap.describe()}")
        if len(report.gaps) > max_gaps:
            out.print(f"    ... and {len(report.gaps) - max_gaps} more")


# ---- data -------------------------------------------------------------------------------------------


@data_app.command("sample")
def data_sample() -> None:
    """Load the bundled real sample data (S&P 500, NASDAQ, macro series) into the store."""
    from quantdesk.data.sources.sample import SAMPLE_SERIES, SAMPLE_SYMBOLS, load_sample

    catalog = _catalog()
    with _progress("loading sample data", total=len(SAMPLE_SYMBOLS) + len(SAMPLE_SERIES)) as advance:
        report = load_sample(catalog, progress=lambda what: advance(description=f"loading {what}"))
    for write in report.bars:
        _print_write(write, max_gaps=3)
    out.print(
        f"macro series: {len(report.series_written)} written, {len(report.series_unchanged)} unchanged "
        f"({', '.join(report.series_written + report.series_unchanged)})"
    )
    out.print(f"store: {catalog.root}")


@data_app.command("synthetic")
def data_synthetic(
    symbols: Annotated[int, typer.Option("--symbols", help="number of instruments")] = 10,
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe, 1m ... 1M")] = "1d",
    days: Annotated[int, typer.Option("--days", help="trading sessions to generate")] = 250,
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same market)")] = 7,
    start: Annotated[str, typer.Option("--start", help="first session date")] = "2024-01-02",
) -> None:
    """Generate a seeded synthetic market (labelled synthetic) and store it."""
    from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market

    config = SyntheticConfig(n_symbols=symbols, days=days, timeframe=Timeframe.parse(timeframe), seed=seed, start=start)
    catalog = _catalog()
    with _progress(f"generating {symbols} synthetic instruments", total=symbols) as advance:
        reports = write_synthetic_market(catalog, config, progress=lambda done, total: advance())
    changed = sum(r.changed for r in reports)
    rows = sum(r.rows_total for r in reports)
    out.print(
        f"synthetic market (seed {seed}): {len(reports)} instruments, {rows} {config.timeframe.value} bars in store, "
        f"{changed} dataset(s) changed"
    )
    out.print(f"symbols: {', '.join(r.symbol for r in reports[:10])}{' ...' if len(reports) > 10 else ''}")


def _import_instrument(catalog: Catalog, symbol: str, asset_class: str, market: str, currency: str) -> Instrument:
    existing = catalog.find_instrument(symbol)
    if existing is not None:
        return existing
    try:
        hours = TradingHours.model_validate(US_HOURS) if market.upper().startswith("US") else TradingHours()
        return Instrument(
            symbol=symbol,
            asset_class=AssetClass(asset_class),
            market=market,
            currency=currency.upper(),
            trading_hours=hours,
            source="file import",
        )
    except ValueError as exc:
        raise ConfigError(f"instrument {symbol}: {exc}") from exc


@data_app.command("import")
def data_import(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of bars")],
    symbol: Annotated[str, typer.Option("--symbol", help="instrument symbol")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe of the file")],
    tz: Annotated[str | None, typer.Option("--tz", help="time zone of times written without an offset")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN, e.g. --map ts=Date")] = None,
    asset_class: Annotated[str, typer.Option("--asset-class", help="for a new instrument")] = "equity",
    market: Annotated[str, typer.Option("--market", help="for a new instrument, e.g. US_NYSE")] = "US",
    currency: Annotated[str, typer.Option("--currency", help="for a new instrument")] = "USD",
) -> None:
    """Import bars from a file; every row is checked and nothing is written if any is bad."""
    from quantdesk.data.sources.files import import_bars_file, parse_column_map

    if asset_class not in {a.value for a in AssetClass}:
        raise ConfigError(
            f"--asset-class: expected one of {', '.join(a.value for a in AssetClass)}, found {asset_class!r}"
        )
    catalog = _catalog()
    instrument = _import_instrument(catalog, symbol.upper(), asset_class, market, currency)
    report = import_bars_file(
        catalog,
        file,
        symbol=symbol,
        timeframe=timeframe,
        instrument=instrument,
        tz=tz,
        column_map=parse_column_map(mapping),
    )
    for note in report.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    _print_write(report.write)


@data_app.command("list")
def data_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List the stored datasets and macro series."""
    catalog = _catalog()
    datasets = catalog.datasets()
    series = catalog.series_names()
    if as_json:
        payload = {
            "bars": [
                {
                    "symbol": d.symbol,
                    "timeframe": d.timeframe.value,
                    "rows": d.rows,
                    "first": ns_to_iso(d.first_ns),
                    "last": ns_to_iso(d.last_ns),
                    "synthetic": d.synthetic,
                }
                for d in datasets
            ],
            "series": series,
        }
        typer.echo(json.dumps(payload, indent=1))
        return
    if not datasets and not series:
        out.print(f"the store at {catalog.root} is empty; try `quantdesk data sample`")
        return
    table = Table(title=f"bars in {catalog.root}")
    for col in ("symbol", "timeframe", "rows", "first", "last", "syn"):
        table.add_column(col, justify="right" if col == "rows" else "left", no_wrap=True)
    for d in datasets:
        table.add_row(
            d.symbol,
            d.timeframe.value,
            f"{d.rows:,}",
            ns_to_iso(d.first_ns),
            ns_to_iso(d.last_ns),
            "yes" if d.synthetic else "",
        )
    out.print(table)
    if series:
        out.print(f"macro series: {', '.join(series)}")


@data_app.command("show")
def data_show(
    symbol: Annotated[str, typer.Argument(help="instrument symbol")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe")] = "1d",
    tail: Annotated[int, typer.Option("--tail", help="last N bars")] = 10,
) -> None:
    """Show an instrument's record and its last bars."""
    if tail < 1:
        raise ConfigError(f"--tail: expected a number >= 1, found {tail}")
    catalog = _catalog()
    bars = catalog.read_bars(symbol, timeframe)
    inst = catalog.find_instrument(symbol)
    if inst is not None:
        label = " [yellow](synthetic)[/yellow]" if inst.synthetic else ""
        out.print(
            f"{inst.symbol}{label} {inst.name} · {inst.asset_class.value} · {inst.market} · "
            f"{inst.currency} · {inst.timezone}"
        )
    table = Table(title=f"{bars.symbol} {bars.timeframe.value}: last {min(tail, len(bars))} of {len(bars):,} bars")
    for col in ("ts", "open", "high", "low", "close", "volume"):
        table.add_column(col, justify="left" if col == "ts" else "right")
    view = bars[max(0, len(bars) - tail) :]
    for i in range(len(view)):
        table.add_row(
            ns_to_iso(int(view.ts[i])),
            f"{view.open[i]:.4f}",
            f"{view.high[i]:.4f}",
            f"{view.low[i]:.4f}",
            f"{view.close[i]:.4f}",
            f"{view.volume[i]:,.0f}",
        )
    out.print(table)


# ---- backtest ------------------------------------------------------------------------------------------


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
    catalog = _catalog()
    bars = catalog.read_bars(symbol, timeframe, start_ns, end_ns)
    instrument = catalog.find_instrument(symbol)
    with _progress(f"backtesting {strategy.strategy_meta.name} on {bars.symbol} {bars.timeframe.value}"):
        result = run_backtest(strategy, bars, instrument=instrument, initial_cash=capital)
    out.print(
        _summary_table(f"{strategy.strategy_meta.name} · {bars.symbol} {bars.timeframe.value}", {bars.symbol: result})
    )
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

    catalog = _catalog()
    with _progress("loading the bundled sample data"):
        load_sample(catalog)
    text = resources.files("quantdesk.strategy").joinpath("library/ema_cross.json").read_text(encoding="utf-8")
    strategy = parse_strategy(text, "ema_cross.json")
    results = {}
    with _progress("backtesting", total=len(SAMPLE_SYMBOLS)) as advance:
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


def main() -> None:
    """Entry point: run the app and map errors to exit codes."""
    try:
        app()  # standalone: usage errors (bad or missing options) print and exit 2
    except (ConfigError, DataError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        sys.exit(2)
    except QuantdeskError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)
    except Exception as exc:  # the last line of defence: an internal error, exit 1
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}", highlight=False)
        if os.environ.get("QUANTDESK_DEBUG"):
            traceback.print_exc()
        else:
            err.print("set QUANTDESK_DEBUG=1 to see the traceback")
        sys.exit(1)


if __name__ == "__main__":
    main()
