"""``quantdesk backtest`` and ``quantdesk demo``: run strategies on stored bars and report."""

from __future__ import annotations

import importlib
import itertools
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, out, progress
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import to_utc_ns
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe


def summary_table(title: str, result: Any) -> Table:
    """The metric table of one result beside its benchmark."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("strategy", justify="right")
    table.add_column(result.benchmark_name, justify="right", style="dim")
    for label, mine, bench in result.summary_rows():
        table.add_row(label, mine, bench)
    return table


def run_spec(strategy_file: Path, symbols: str | None, universe: str | None, benchmark: str | None,
             timeframe: str, start: str | None, end: str | None, capital: float,
             trade_from: str | None = None) -> Any:  # fmt: skip
    """The ``RunSpec`` of a command's options; a bad option is a ConfigError in the option's own spelling."""
    from quantdesk.runtime.spec import RunSpec
    from quantdesk.strategy.load import load_strategy

    load_strategy(strategy_file)  # the file's own problems first, with its JSON paths
    if symbols is None and universe is None:
        raise ConfigError(
            "give the instruments to run on: --symbols A,B,C or --universe (all, sector:NAME, @FILE, ...)"
        )
    chosen: tuple[str, ...] = ()
    if symbols is not None:
        chosen = tuple(check_symbol(s.strip(), where="--symbols") for s in symbols.split(",") if s.strip())
        if not chosen:
            raise ConfigError(f"--symbols: expected comma-separated symbols such as SPX,IXIC, found {symbols!r}")
    if benchmark is not None:
        check_symbol(benchmark, where="--benchmark")
    Timeframe.parse(timeframe)
    times = {"--start": start, "--trade-from": trade_from, "--end": end}
    known = [(name, value, to_utc_ns(value, what=name)) for name, value in times.items() if value]
    for (a, va, ta), (b, vb, tb) in itertools.pairwise(known):
        if ta > tb:
            raise ConfigError(f"{a} ({va}) is after {b} ({vb})")
    return RunSpec.from_file(strategy_file, symbols=tuple(dict.fromkeys(chosen)), universe=universe,
                             timeframe=timeframe, start=start, end=end, trade_from=trade_from, capital=capital,
                             benchmark=benchmark)  # fmt: skip


def prepared(spec: Any) -> Any:
    """The spec's data read by the service (``runtime.service.prepare``), its notes printed."""
    from quantdesk.runtime.service import prepare

    run = prepare(spec)
    for line in run.notes:
        out.print(f"[yellow]note[/yellow] {escape(line)}", highlight=False)
    return run


# the options of every command that runs a strategy over stored bars (backtest, strategy lookahead)
SymbolsOption = Annotated[
    str | None, typer.Option("--symbols", "--symbol", help="comma-separated symbols, one account")
]
UniverseOption = Annotated[
    str | None, typer.Option("--universe", help="all, synthetic, real, sector:NAME, market:NAME or @FILE")
]
BenchmarkOption = Annotated[str | None, typer.Option("--benchmark", help="symbol to compare against")]
TimeframeOption = Annotated[str, typer.Option("--timeframe", help="base timeframe")]
StartOption = Annotated[str | None, typer.Option("--start", help="first bar (date or ISO time, UTC)")]
EndOption = Annotated[str | None, typer.Option("--end", help="last bar (date or ISO time, UTC)")]
CapitalOption = Annotated[float, typer.Option("--capital", help="initial cash")]
TradeFromOption = Annotated[
    str | None, typer.Option("--trade-from", help="trade from this time; the bars before it only warm up (UTC)")
]


@app.command("backtest")
def backtest(
    strategy_file: Annotated[Path, typer.Argument(help="strategy JSON file")],
    symbols: SymbolsOption = None,
    universe: UniverseOption = None,
    benchmark: BenchmarkOption = None,
    timeframe: TimeframeOption = "1d",
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    trade_from: TradeFromOption = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON result here")] = None,
    report_out: Annotated[Path | None, typer.Option("--report", help="write the HTML report here")] = None,
    record: Annotated[
        bool,
        typer.Option("--record/--no-record", help="record the run in the database (quantdesk runs list shows it)"),
    ] = True,
) -> None:
    """Backtest a strategy file on stored bars: many instruments share one account; the run is recorded
    (quantdesk runs list) unless --no-record."""
    from quantdesk.runtime.service import backtest as run_backtest_spec

    if report_out is not None and report_out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--report: expected a file ending in .html, found {str(report_out)!r}")
    if record:
        # the database layer (SQLAlchemy) takes a quarter of a second to import: do it while the bars load and
        # the kernel runs (both let go of the interpreter much of the time), not after them
        threading.Thread(target=importlib.import_module, args=("quantdesk.persistence.runs",), daemon=True).start()
    spec = run_spec(strategy_file, symbols, universe, benchmark, timeframe, start, end, capital, trade_from)
    run = prepared(spec)
    strategy, names, tf = run.strategy, run.symbols, run.timeframe
    with progress(f"backtesting {run.label}", total=len(names) + 2) as advance:
        result = run_backtest_spec(run, progress=lambda step: advance(description=f"{run.label}: {step}")).result
        metrics = result.metrics
    out.print(summary_table(f"{strategy.strategy_meta.name} · {', '.join(names)} {tf.value}", result))
    events = result.risk_events
    if len(events):
        counts = events.groupby(["check", "action"]).size()
        listed = [f"{key[0]} {key[1]} {n}x" for key, n in counts.items() if isinstance(key, tuple)]
        out.print("risk checks: " + ", ".join(listed), highlight=False)
    for line in result.notes:
        out.print(f"[yellow]note[/yellow] {escape(line)}", highlight=False)
    out.print(f"{metrics.n_trades} closed trades, final equity {metrics.final_equity:,.2f}", highlight=False)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        result.to_json(json_out)
        out.print(f"JSON result: {escape(str(json_out))}")
    if report_out is not None:
        result.report(report_out)
        out.print(f"HTML report: {escape(str(report_out))}")
    if record:
        from quantdesk.persistence.runs import RunStore

        instance = RunStore().record(result, spec=spec)
        out.print(f"recorded as run {instance} (`quantdesk runs show {instance[:8]}`)", highlight=False)
