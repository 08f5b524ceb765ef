"""``quantdesk opend-emulator``: the OpenD emulator over a data home, in the foreground (``opend_emulator.app``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from quantdesk.cli.common import app, out
from quantdesk.core.errors import ConfigError


@app.command("opend-emulator")
def opend_emulator(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port on 127.0.0.1 (0: any free)")] = 11111,
    data_home: Annotated[
        Path | None, typer.Option("--data-home", help="the data home whose catalog it serves (default QUANTDESK_HOME)")
    ] = None,
    timeframe: Annotated[str, typer.Option("--timeframe", help="the bars it replays, e.g. 1m or 1d")] = "1m",
    symbols: Annotated[str | None, typer.Option("--symbols", help="comma-separated; default every one stored")] = None,
    bars_per_s: Annotated[
        float, typer.Option("--bars-per-s", min=0.0, help="replay pace: bars a second (0: the market stays put)")
    ] = 1.0,
    cash: Annotated[float, typer.Option("--cash", min=0.0, help="the simulated account's starting cash, USD")] = 1e6,
    seed: Annotated[int, typer.Option("--seed", help="seed of the synthetic book and ticker")] = 0,
    matching: Annotated[
        str,
        typer.Option(
            "--matching",
            help="how orders fill: book = they walk the synthetic Level 2 book on arrival; bar = the backtest's "
            "optimistic fill rules at the bar's open and range (a paper session to compare with its backtest)",
        ),
    ] = "book",
    quote_pushes_per_s: Annotated[
        float,
        typer.Option(
            "--quote-pushes-per-s",
            min=0.0,
            help="also push the subscribed quotes again, about this many "
            "a second in all (a busy market's load; 0: only at each bar)",
        ),
    ] = 0.0,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="replay from this time (UTC, e.g. 2024-01-05T14:30): the bars up to it are "
            "history at once, the rest come one by one (default: from the first bar)",
        ),
    ] = None,
) -> None:
    """Serve a data home's bars over OpenD's protocol on loopback, with a synthetic Level 2 book and ticker and a
    simulated trading account (its REAL account refuses every order). Stop with Ctrl-C."""
    from quantdesk.core.paths import data_home as default_home
    from quantdesk.core.timestamps import to_utc_ns
    from quantdesk.opend_emulator.app import build_opend
    from quantdesk.opend_emulator.trading import MATCHING_MODES, Matching

    if matching not in MATCHING_MODES:
        raise ConfigError(f"--matching: expected one of {', '.join(MATCHING_MODES)}, found {matching!r}")
    mode: Matching = "bar" if matching == "bar" else "book"
    home = data_home if data_home is not None else default_home()
    chosen = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    start_ns = to_utc_ns(start, what="--start") if start is not None else None
    opend = build_opend(home, port=port, timeframe=timeframe, symbols=chosen, seed=seed, starting_cash_usd=cash,
                        matching=mode, start_ns=start_ns)  # fmt: skip
    with opend:
        codes = opend.market.codes
        shown = ", ".join(codes[:8]) + (" ..." if len(codes) > 8 else "")
        out.print(f"OpenD emulator on 127.0.0.1:{opend.port}: {len(codes)} codes ({escape(shown)}), "
                  f"{opend.market.timeframe.value} bars from {escape(str(home))}, {mode} matching; Ctrl-C to stop",
                  highlight=False, soft_wrap=True)  # fmt: skip
        if bars_per_s > 0:
            opend.play(bars_per_s, quote_pushes_per_s=quote_pushes_per_s)
        try:
            while True:
                time.sleep(0.5)
        except KeyboardInterrupt:
            out.print("stopped")
