"""The ``quantdesk`` command line (typer + rich).

Every command is a thin layer over the Python API: it parses options, calls the same functions a
notebook would, and renders the result. Commands live by topic (``data``, ``backtest``,
``technical``) and register on the one ``app`` in ``common``. Exit codes: 0 success, 2 bad input (a
``ConfigError`` or ``DataError``, message printed), 1 an internal error (set ``QUANTDESK_DEBUG=1``
for the traceback), 3 look-ahead found by ``strategy lookahead``.
"""

from __future__ import annotations

import os
import sys
import traceback

from rich.markup import escape

import quantdesk.cli.moomoo  # noqa: F401  (registers ``quantdesk moomoo``)
from quantdesk.cli import (  # noqa: F401  (each registers its commands)
    backtest,
    book,
    data,
    demo,
    fundamentals,
    harvest,
    inference,
    opend,
    optimize,
    paper,
    runs,
    sectors,
    strategy,
    technical,
    worker,
)
from quantdesk.cli.common import app, err
from quantdesk.core.errors import ConfigError, DataError, QuantdeskError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app and map errors to exit codes."""
    try:
        app()  # standalone: usage errors (bad or missing options) print and exit 2
    except (ConfigError, DataError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)  # a message's [brackets] are text
        sys.exit(2)
    except QuantdeskError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except Exception as exc:  # the last line of defence: an internal error, exit 1
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))}", highlight=False)
        if os.environ.get("QUANTDESK_DEBUG"):
            traceback.print_exc()
        else:
            err.print("set QUANTDESK_DEBUG=1 to see the traceback")
        sys.exit(1)
