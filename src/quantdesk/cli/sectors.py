"""``quantdesk sectors rotation``: the drill-down's level 2 from the command line, the catalog's sectors ranked by
momentum relative to a benchmark as known at a time."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, open_catalog, out
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns

sectors_app = typer.Typer(help="Sector rotation (level 2 of the drill-down).", no_args_is_help=True)
app.add_typer(sectors_app, name="sectors")


@sectors_app.command("rotation")
def rotation(
    at: Annotated[
        str | None, typer.Option("--at", help="as known at this time (default: the newest stored bar)")
    ] = None,
    window: Annotated[int, typer.Option("--window", help="momentum window in sessions")] = 63,
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", help="a symbol (default: the equal-weighted universe)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Rank the sectors by momentum minus the benchmark's over the last --window sessions, as known at --at."""
    from quantdesk.analysis.fundamental.universe import default_as_of_ns
    from quantdesk.core.errors import ConfigError
    from quantdesk.data.levels.sectors import sector_rotation

    if window < 2:
        raise ConfigError(f"--window: expected at least 2 sessions, found {window}")
    catalog = open_catalog()
    at_ns = to_utc_ns(at, what="--at") if at else (default_as_of_ns(catalog) if catalog.datasets() else time.time_ns())
    result = sector_rotation(catalog, at_ns, window_sessions=window, benchmark=benchmark)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=1))
        return
    table = Table(title=f"sector rotation at {ns_to_iso(at_ns)}: {window}-session momentum vs {result.benchmark}")
    for column in ("rank", "sector", "momentum", "relative strength", "companies"):
        table.add_column(column, justify="left" if column == "sector" else "right")
    for row in result.rows:
        fmt = lambda v: "n/a" if v != v else f"{v:+.2%}"  # noqa: E731
        table.add_row(str(row.rank), row.sector, fmt(row.momentum), fmt(row.relative_strength), str(row.companies))
    out.print(table)
    out.print(f"source: {escape(result.source)}", highlight=False)
