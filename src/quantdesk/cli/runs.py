"""``quantdesk runs list|show``: the recorded runs (``persistence.runs``), newest first, and one run whole."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, out

runs_app = typer.Typer(
    help="Recorded runs: every backtest (quantdesk backtest, unless --no-record) and session.", no_args_is_help=True
)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many, newest first")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The recorded runs, newest first."""
    from quantdesk.persistence.runs import RunStore

    runs = RunStore().runs(limit)
    if as_json:
        out.print_json(json.dumps([r.to_dict() for r in runs]))
        return
    if not runs:
        out.print("no recorded run yet; `quantdesk backtest FILE --symbols ...` records one")
        return
    table = Table(title="recorded runs")
    for name in ("id", "created", "mode", "strategy", "symbols", "tf", "trades", "return", "final equity"):
        table.add_column(name, justify="right" if name in ("trades", "return", "final equity") else "left")
    for r in runs:
        symbols = ", ".join(r.symbols[:4]) + (" ..." if len(r.symbols) > 4 else "")
        ret = "n/a" if r.total_return is None else f"{r.total_return * 100:.1f}%"
        table.add_row(r.instance_id[:8], r.created[:19], r.mode, escape(r.strategy), escape(symbols), r.timeframe,
                      str(r.n_trades), ret, f"{r.final_equity:,.2f}")  # fmt: skip
    out.print(table)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="the run's id or its first characters")],
    as_json: Annotated[bool, typer.Option("--json", help="print the whole record as JSON")] = False,
) -> None:
    """One recorded run: its summary, strategy file, risk parameters and trade log (all of it with --json)."""
    from quantdesk.persistence.runs import RunStore

    run = RunStore().run(run_id)
    if as_json:
        out.print_json(json.dumps(run))
        return
    out.print(f"[bold]run {run['instance_id']}[/bold] ({run['mode']}, recorded {run['created']})", highlight=False)
    out.print(f"{escape(run['strategy'])} on {escape(', '.join(run['symbols']))} {run['timeframe']}, "
              f"{run['start']} to {run['end']}; capital {run['capital']:,.2f}", highlight=False)  # fmt: skip
    m = run["metrics"]
    ret = "n/a" if m.get("total_return") is None else f"{m['total_return'] * 100:.2f}%"
    out.print(f"{m['n_trades']} closed trades, return {ret}, final equity {m['final_equity']:,.2f}; "
              f"{len(run['orders'])} orders, {len(run['fills'])} fills, {len(run['risk_events'])} risk events",
              highlight=False)  # fmt: skip
    table = Table(title="trade log (first 20)")
    for name in ("symbol", "side", "qty", "entry", "price", "exit", "price", "reason", "R"):
        table.add_column(name)
    for t in run["trade_log"][:20]:
        r = t["risk_metrics"]["r_multiple"]
        table.add_row(t["symbol"], t["side"], f"{t['quantity']:g}", str(t["entry"]["timestamp"])[:19],
                      f"{t['entry']['price']:.4f}", str(t["exit"]["timestamp"] or "")[:19],
                      f"{t['exit']['price']:.4f}" if t["exit"]["price"] is not None else "",
                      str(t["exit"]["reason"] or ""), "n/a" if r is None else f"{r:.2f}")  # fmt: skip
    out.print(table)
