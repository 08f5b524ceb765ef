"""What every CLI command shares: the typer app, the consoles, progress bars and the store."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

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

from quantdesk.data.catalog import Catalog

app = typer.Typer(
    help="quantdesk: systematic trading from data to backtest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# written to a file or a pipe (a log, CI) rich would use 80 columns and cut the metric tables' headers;
# a terminal keeps its own width, and COLUMNS still wins
_PIPE_WIDTH = 160


def _console(stream: TextIO | None, *, stderr: bool = False) -> Console:
    terminal = stream is not None and hasattr(stream, "isatty") and stream.isatty()
    wide = not terminal and "COLUMNS" not in os.environ
    return Console(stderr=stderr, width=_PIPE_WIDTH if wide else None)


out = _console(sys.stdout)
err = _console(sys.stderr, stderr=True)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
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


def open_catalog() -> Catalog:
    """The data home's catalog, its bars in the store ``QUANTDESK_BAR_STORE_URL`` selects."""
    from quantdesk.data.bar_store import open_catalog as open_configured

    return open_configured()
