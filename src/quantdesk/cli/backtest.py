"""``quantdesk backtest`` and ``quantdesk demo``: run strategies on stored bars and report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, open_catalog, out, progress
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


def evidence_sources(catalog: Any) -> Any:
    """The catalog and the fundamentals store (SQLite by default, PostgreSQL by QUANTDESK_DATABASE_URL), opened
    only when the strategy reads fundamentals."""
    from quantdesk.strategy.compile import EvidenceSources

    def open_store() -> Any:
        from quantdesk.data.fundamentals.store import FundamentalStore

        return FundamentalStore()

    return EvidenceSources(catalog=catalog, open_fundamentals=open_store)


def _symbols(
    catalog: Any, symbols: str | None, universe: str | None, timeframe: str, asset_classes: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """The run's symbols, and notes on the universe members left out: those outside the strategy's
    ``asset_classes`` (a synthetic FX pair in an equity strategy's ``--universe synthetic``)."""
    from quantdesk.data.universe import resolve_universe

    if symbols is None and universe is None:
        raise ConfigError(
            "give the instruments to run on: --symbols A,B,C or --universe (all, sector:NAME, @FILE, ...)"
        )
    chosen: list[str] = []
    if symbols is not None:
        chosen = [check_symbol(s.strip(), where="--symbols") for s in symbols.split(",") if s.strip()]
        if not chosen:
            raise ConfigError(f"--symbols: expected comma-separated symbols such as SPX,IXIC, found {symbols!r}")
    notes: list[str] = []
    if universe is not None:
        members = [s for s in resolve_universe(catalog, universe, timeframe) if s not in chosen]
        if asset_classes:
            outside = {}
            for s in members:
                inst = catalog.find_instrument(s)
                if inst is not None and inst.asset_class not in asset_classes:
                    outside[s] = str(inst.asset_class)
            if outside and len(outside) == len(members) and not chosen:
                raise ConfigError(
                    f"--universe {universe}: none of its instruments is of the strategy's asset_classes "
                    f"({', '.join(asset_classes)}); found {', '.join(sorted(set(outside.values())))}"
                )
            for s, kind in outside.items():
                notes.append(f"{s} left out: a {kind} instrument, not one of the strategy's asset_classes "
                             f"({', '.join(asset_classes)})")  # fmt: skip
            members = [s for s in members if s not in outside]
        chosen += members
    return list(dict.fromkeys(chosen)), notes


def run_inputs(strategy: Any, symbols: str | None, universe: str | None, benchmark: str | None, timeframe: str,
               start: str | None, end: str | None
               ) -> tuple[list[str], Timeframe, list[Any], Any, dict[str, Any], Any]:  # fmt: skip
    """What a run of ``strategy`` with the options reads from the catalog: (symbols, timeframe, bars, benchmark
    bars, instruments, evidence sources); a universe's instruments outside its asset_classes are left out
    with a note."""
    tf = Timeframe.parse(timeframe)
    start_ns = to_utc_ns(start, what="--start") if start else None
    end_ns = to_utc_ns(end, what="--end") if end else None
    if start_ns is not None and end_ns is not None and start_ns > end_ns:
        raise ConfigError(f"--start ({start}) is after --end ({end})")
    catalog = open_catalog()
    names, left_out = _symbols(
        catalog, symbols, universe, tf.value, [str(a) for a in strategy.strategy_meta.asset_classes]
    )
    for line in left_out:
        out.print(f"[yellow]note[/yellow] {escape(line)}", highlight=False)
    bars = [catalog.read_bars(s, tf, start_ns, end_ns) for s in names]
    for b in bars:
        if len(b) == 0:
            raise ConfigError(f"{b.symbol} {tf.value}: no bars between --start and --end")
    bench = catalog.read_bars(check_symbol(benchmark, where="--benchmark"), tf, start_ns, end_ns) if benchmark else None
    instruments = {s: i for s in names if (i := catalog.find_instrument(s)) is not None}
    return names, tf, bars, bench, instruments, evidence_sources(catalog)


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
    json_out: Annotated[Path | None, typer.Option("--json", help="write the JSON result here")] = None,
    report_out: Annotated[Path | None, typer.Option("--report", help="write the HTML report here")] = None,
) -> None:
    """Backtest a strategy file on stored bars: many instruments share one account."""
    from quantdesk.backtest.engine import run_backtest
    from quantdesk.strategy.load import load_strategy

    strategy = load_strategy(strategy_file)
    if report_out is not None and report_out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--report: expected a file ending in .html, found {str(report_out)!r}")
    names, tf, bars, bench, instruments, sources = run_inputs(strategy, symbols, universe, benchmark, timeframe,
                                                              start, end)  # fmt: skip
    label = f"{strategy.strategy_meta.name} on {', '.join(names[:5])}{' ...' if len(names) > 5 else ''} {tf.value}"
    with progress(f"backtesting {label}", total=len(names) + 2) as advance:
        result = run_backtest(
            strategy, bars, instruments=instruments, initial_cash=capital, sources=sources, benchmark=bench,
            progress=lambda step: advance(description=f"{label}: {step}"),
        )  # fmt: skip
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
