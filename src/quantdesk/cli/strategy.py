"""``quantdesk strategy validate|resolve|schema|templates|new|explain|lookahead``: writing and auditing strategies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.backtest import (
    BenchmarkOption,
    CapitalOption,
    EndOption,
    StartOption,
    SymbolsOption,
    TimeframeOption,
    UniverseOption,
)
from quantdesk.cli.common import app, err, open_catalog, out
from quantdesk.core.atomic import atomic_write
from quantdesk.core.errors import ConfigError

strategy_app = typer.Typer(
    help="Strategy files: validate, resolve, schema, templates, new, explain, lookahead.", no_args_is_help=True
)
app.add_typer(strategy_app, name="strategy")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, write)


@strategy_app.command("validate")
def strategy_validate(
    file: Annotated[Path, typer.Argument(help="strategy JSON file")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Check a strategy file: exit 0 when valid, 2 with every problem (JSON path, expected, found) when not."""
    from quantdesk.strategy.load import read_strategy_text, validate_text

    report = validate_text(read_strategy_text(file), str(file))
    if as_json:
        out.print_json(json.dumps({"file": str(file), **report.to_dict()}))
    else:
        if report.ok:
            assert report.strategy is not None
            out.print(f"[green]valid[/green]: {escape(str(file))} ({escape(report.strategy.strategy_meta.name)})")
        else:
            count = len(report.problems)
            plural = "s" if count != 1 else ""
            err.print(f"[red]invalid[/red]: {escape(str(file))}: {count} problem{plural}", highlight=False)
            for problem in report.problems:
                err.print(f"  - [bold]{escape(problem.path)}[/bold]: {escape(problem.message)}", highlight=False)
        for warning in report.warnings:
            err.print(f"  [yellow]warning[/yellow] {escape(warning.path)}: {escape(warning.message)}", highlight=False)
    if not report.ok:
        raise typer.Exit(2)


@strategy_app.command("resolve")
def strategy_resolve(
    file: Annotated[Path, typer.Argument(help="strategy JSON file")],
    out_file: Annotated[Path | None, typer.Option("--out", help="write the resolved file here instead")] = None,
) -> None:
    """Print the strategy file with every default filled in: what a run of it uses, and what its result records."""
    from quantdesk.strategy.load import load_strategy

    text = json.dumps(load_strategy(file).resolved_document(), indent=2)
    if out_file is None:
        print(text)
    else:
        _write(out_file, text + "\n")
        out.print(f"resolved strategy: {escape(str(out_file))}")


@strategy_app.command("schema")
def strategy_schema(
    out_file: Annotated[Path | None, typer.Option("--out", help="write the schema here instead of printing it")] = None,
) -> None:
    """Print the strategy format's JSON Schema (draft 2020-12), generated from the models."""
    from quantdesk.strategy.load import strategy_json_schema

    text = json.dumps(strategy_json_schema(), indent=2)
    if out_file is None:
        print(text)
    else:
        _write(out_file, text + "\n")
        out.print(f"JSON Schema: {escape(str(out_file))}")


@strategy_app.command("templates")
def strategy_templates(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List the template library: the plan's archetypes and its own example."""
    from quantdesk.strategy.templates import list_templates

    templates = list_templates()
    if as_json:
        out.print_json(json.dumps([t.to_dict() for t in templates]))
        return
    table = Table(title="strategy templates")
    for column in ("template", "strategy", "direction", "base timeframe", "needs"):
        table.add_column(column, overflow="fold")
    for t in templates:
        table.add_row(t.key, t.title, t.direction, t.base_timeframe, ", ".join(t.required_data))
    out.print(table)
    for t in templates:
        out.print(f"[bold]{t.key}[/bold]: {escape(t.description)}\n  run on: {escape(t.run_on)}", highlight=False)


@strategy_app.command("new")
def strategy_new(
    name: Annotated[str, typer.Argument(help="the new strategy's name (strategy_meta.name)")],
    template: Annotated[str, typer.Option("--template", help="template key (`quantdesk strategy templates`)")],
    out_file: Annotated[Path | None, typer.Option("--out", help="file to write (default: NAME.json here)")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a new strategy file from a template, to edit."""
    from quantdesk.strategy.templates import new_from_template

    strategy = new_from_template(template, name)
    path = out_file or Path(f"{name.strip().lower().replace(' ', '_')}.json")
    if path.exists() and not force:
        raise ConfigError(f"--out: {path} exists; pass --force to overwrite it")
    _write(path, strategy.to_json() + "\n")
    out.print(
        escape(f"wrote {path} from the template {template!r}; check it with `quantdesk strategy validate {path}`")
    )


@strategy_app.command("explain")
def strategy_explain(
    file: Annotated[Path, typer.Argument(help="strategy JSON file")],
    symbol: Annotated[str, typer.Option("--symbol", help="instrument symbol")],
    at: Annotated[
        str, typer.Option("--at", help="the bar to explain (date or ISO time, UTC; the last bar at or before)")
    ],
    timeframe: Annotated[str, typer.Option("--timeframe", help="base timeframe")] = "1d",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Why an entry would or would not fire on one bar: every signal, the confluence, the gate, the posterior."""
    from quantdesk.strategy.explain import explain_bar, render_explanation
    from quantdesk.strategy.load import load_strategy

    strategy = load_strategy(file)
    explanation = explain_bar(strategy, open_catalog(), symbol, timeframe, at)
    if as_json:
        out.print_json(json.dumps(explanation))
    else:
        render_explanation(explanation, out)


LOOKAHEAD_FOUND_EXIT = 3  # `strategy lookahead`: a difference before a cut (look-ahead); CI scripts test for it
_SHOWN_DIFFERENCES = 50  # groups of the summary
_SHOWN_DETAILS = 20


@strategy_app.command("lookahead")
def strategy_lookahead(
    file: Annotated[Path, typer.Argument(help="strategy JSON file")],
    symbols: SymbolsOption = None,
    universe: UniverseOption = None,
    benchmark: BenchmarkOption = None,
    timeframe: TimeframeOption = "1d",
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    cuts: Annotated[int, typer.Option("--cuts", help="cut points, spread over the run after its warm-up")] = 5,
    recursive: Annotated[
        bool, typer.Option("--recursive", help="also measure how results depend on the history before a window")
    ] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the report as JSON here")] = None,
) -> None:
    """Look for look-ahead: run on the full data and cut at N points; every signal, order, fill or trade before
    a cut that differs is listed. Exit 0: none found; 3: look-ahead found; 2: bad input."""
    from quantdesk.backtest.lookahead import lookahead_analysis, warmup_sensitivity
    from quantdesk.cli.backtest import prepared, run_spec
    from quantdesk.cli.common import progress

    run = prepared(run_spec(file, symbols, universe, benchmark, timeframe, start, end, capital))
    strategy, bars, label = run.strategy, list(run.bars), run.label
    options = {"instruments": run.instruments, "sources": run.sources, "benchmark": run.benchmark,
               "initial_cash": capital}  # fmt: skip
    with progress(f"look-ahead analysis of {label}"):
        report = lookahead_analysis(strategy, bars, cuts=cuts, **options)
        warmup = warmup_sensitivity(strategy, bars, **options) if recursive else None
    _print_lookahead(report)
    if warmup is not None:
        _print_warmup(warmup)
    if json_out is not None:
        doc = {"lookahead": report.to_dict(), "warmup_sensitivity": warmup.to_dict() if warmup else None}
        _write(json_out, json.dumps(doc, indent=2) + "\n")
        out.print(f"JSON report: {escape(str(json_out))}")
    if not report.ok:
        raise typer.Exit(LOOKAHEAD_FOUND_EXIT)


def _print_lookahead(report: Any) -> None:
    from quantdesk.core.timestamps import ns_to_iso

    checked = ", ".join(f"{n:,} {what}" for what, n in report.checked.items())
    cuts = ", ".join(ns_to_iso(c) for c in report.cut_ns)
    out.print(
        escape(f"{report.strategy_name} · {', '.join(report.symbols)} {report.timeframe}: {report.rows} rows, "
               f"{len(report.cut_ns)} cuts ({cuts}); compared {checked or 'nothing'}"),
        highlight=False,
    )  # fmt: skip
    for note in report.notes:
        out.print(f"[yellow]note[/yellow] {escape(note)}", highlight=False)
    if report.ok:
        out.print("[green]no look-ahead found[/green]: everything decided before each cut is the same on cut data")
        return
    total = sum(g.count for g in report.groups)
    summary = Table(title=f"look-ahead: {total} differences before a cut, by what differs")
    for column in ("cut", "kind", "symbol", "what", "bars", "first bar", "last bar"):
        summary.add_column(column, overflow="fold")
    for g in report.summary()[:_SHOWN_DIFFERENCES]:
        summary.add_row(
            *(escape(str(g[k])) for k in ("cut", "kind", "symbol", "what", "count", "first_bar", "last_bar"))
        )
    out.print(summary)
    table = Table(title="the first differences")
    for column in ("cut", "kind", "symbol", "what", "bar", "full run", "cut run"):
        table.add_column(column, overflow="fold")
    for d in report.differences[:_SHOWN_DETAILS]:
        row = d.to_dict()
        table.add_row(*(escape(str(row[k])) for k in ("cut", "kind", "symbol", "what", "bar", "full", "cut_run")))
    out.print(table)
    if total > _SHOWN_DETAILS:
        out.print(f"... and {total - _SHOWN_DETAILS} more (--json PATH lists them)")
    out.print("[red]look-ahead found[/red]: the strategy decided differently when later bars were absent")


def _print_warmup(report: Any) -> None:
    from quantdesk.core.timestamps import ns_to_iso

    table = Table(
        title=escape(
            f"warm-up sensitivity · window from {ns_to_iso(report.window_start_ns)}, declared warm-up "
            f"{report.declared_warmup_bars} bars, histories {', '.join(map(str, report.histories))} bars"
        )
    )
    columns = ("symbol", "kind", "series", "history", "compared", "differing", "missing", "max rel diff", "agrees from")
    for column in columns:
        table.add_column(column, overflow="fold")
    for r in report.rows:
        d = r.to_dict()
        history = f"{r.history_bars} (all)" if r.full_history else str(r.history_bars)
        rel = "n/a" if d["max_rel_diff"] is None else f"{d['max_rel_diff']:.3g}"
        table.add_row(escape(r.symbol), r.kind, escape(r.name), history, str(r.compared), str(r.differing),
                      str(r.missing), rel, d["agrees_from"] or "never")  # fmt: skip
    out.print(table)
