"""``quantdesk data book``, ``data book-stats``, ``data book-list``, ``data synthetic-book`` and ``moomoo record-book``.

Thin over ``data.book_store``, ``data.book_stats``, ``data.sources.synthetic_book`` and
``execution.moomoo.book_feed``: ``data book SYMBOL --at T`` prints the snapshot in force at ``T`` (the last taken at
or before it; a snapshot is known when taken) as a bid/ask ladder, ``data book-stats`` the spread (ticks, bps),
depth and trade-side figures of a period, ``data synthetic-book`` writes synthetic books and ticks for the stored
bars of each symbol, and ``moomoo record-book`` records OpenD's book and ticker pushes for a while and stores them.
Synthetic data is labelled so wherever it is shown.
"""

from __future__ import annotations

import json
import math
import time
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.cli.common import open_catalog, out
from quantdesk.cli.data import data_app
from quantdesk.cli.moomoo import moomoo_app
from quantdesk.core.errors import ConfigError, NotFoundError
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns
from quantdesk.domain.symbols import check_symbol

__all__: list[str] = []


def _levels(value: int | None, name: str = "--levels") -> int | None:
    if value is not None and value < 1:
        raise ConfigError(f"{name}: expected a number >= 1, found {value}")
    return value


def _number(value: float, digits: int = 4) -> float | None:
    return None if math.isnan(value) else round(value, digits)


@data_app.command("book")
def data_book(
    symbol: Annotated[str, typer.Argument(help="instrument symbol")],
    at: Annotated[str, typer.Option("--at", help="the time (ISO 8601, UTC when no offset): the book in force then")],
    levels: Annotated[int, typer.Option("--levels", help="levels a side to show")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show the order book snapshot in force at --at: the last one taken at or before it."""
    from quantdesk.data.book_store import BookStore

    check_symbol(symbol)
    _levels(levels)
    at_ns = to_utc_ns(at, what="--at")
    store = BookStore(open_catalog())
    book = store.book_at(symbol, at_ns, levels=levels)
    if book is None:
        first = store.read_books(symbol, levels=1)
        raise NotFoundError(f"no book snapshot of {symbol} known at {ns_to_iso(at_ns)}: the first stored one is at "
                            f"{ns_to_iso(int(first.ts[0]))}")  # fmt: skip
    taken = int(book.ts[0])
    rows = [
        (float(book.bid_px[0, i]), float(book.bid_sz[0, i]), float(book.ask_px[0, i]), float(book.ask_sz[0, i]))
        for i in range(book.levels)
    ]
    if as_json:
        payload = {"symbol": symbol, "at": ns_to_iso(at_ns), "ts": ns_to_iso(taken), "synthetic": book.synthetic,
                   "bids": [[p, s] for p, s, _, _ in rows if not math.isnan(p)],
                   "asks": [[p, s] for _, _, p, s in rows if not math.isnan(p)]}  # fmt: skip
        typer.echo(json.dumps(payload, indent=1))
        return
    label = " (synthetic)" if book.synthetic else ""
    spread = float(book.spread[0])
    table = Table(title=f"{symbol}{label} book at {ns_to_iso(taken)} (in force at {ns_to_iso(at_ns)})")
    for col in ("level", "bid size", "bid", "ask", "ask size"):
        table.add_column(col, justify="right")
    for i, (bp, bs, ap, az) in enumerate(rows):
        table.add_row(str(i + 1), "" if math.isnan(bp) else f"{bs:,.0f}", "" if math.isnan(bp) else f"{bp:.4f}",
                      "" if math.isnan(ap) else f"{ap:.4f}", "" if math.isnan(ap) else f"{az:,.0f}")  # fmt: skip
    out.print(table)
    if not math.isnan(spread):
        out.print(f"spread {spread:.4f} · mid {float(book.mid[0]):.4f}", highlight=False)


@data_app.command("book-stats")
def data_book_stats(
    symbol: Annotated[str, typer.Argument(help="instrument symbol")],
    start: Annotated[str | None, typer.Option("--start", help="first time (ISO 8601)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="last time (ISO 8601), inclusive")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Spread (ticks and bps: mean, median, p95), depth within 1/5/10 levels, trade counts and buy/sell imbalance."""
    from quantdesk.data.book_stats import DEPTH_LEVELS, book_stats
    from quantdesk.data.book_store import BookStore

    check_symbol(symbol)
    start_ns = to_utc_ns(start, what="--start") if start else None
    end_ns = to_utc_ns(end, what="--end") if end else None
    catalog = open_catalog()
    store = BookStore(catalog)
    tick_size = catalog.get_instrument(symbol).tick_size
    has_books = catalog.books_path(symbol).exists()
    has_ticks = catalog.ticks_path(symbol).exists()
    if not has_books and not has_ticks:
        store.read_books(symbol)  # raises the NotFoundError that says how to get some
    books = store.read_books(symbol, start_ns, end_ns, levels=max(DEPTH_LEVELS)) if has_books else None
    ticks = store.read_ticks(symbol, start_ns, end_ns) if has_ticks else None
    stats = book_stats(books, ticks, tick_size)
    synthetic = bool((books is not None and books.synthetic) or (ticks is not None and ticks.synthetic))
    if as_json:
        payload = {
            "symbol": symbol, "synthetic": synthetic, "start": start, "end": end, "snapshots": stats.snapshots,
            "spread_ticks": {"mean": _number(stats.spread_ticks_mean), "median": _number(stats.spread_ticks_median),
                             "p95": _number(stats.spread_ticks_p95)},
            "spread_bps": {"mean": _number(stats.spread_bps_mean), "median": _number(stats.spread_bps_median),
                           "p95": _number(stats.spread_bps_p95)},
            "depth": {str(k): {"bid": _number(stats.depth_bid[k], 2), "ask": _number(stats.depth_ask[k], 2)}
                      for k in DEPTH_LEVELS},
            "ticks": stats.ticks, "buy_ticks": stats.buy_ticks, "sell_ticks": stats.sell_ticks,
            "buy_volume": stats.buy_volume, "sell_volume": stats.sell_volume, "imbalance": _number(stats.imbalance),
        }  # fmt: skip
        typer.echo(json.dumps(payload, indent=1))
        return
    label = " (synthetic)" if synthetic else ""
    table = Table(title=f"{symbol}{label}: {stats.snapshots:,} snapshots, {stats.ticks:,} trades")
    for col in ("figure", "mean", "median", "p95"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    table.add_row("spread (ticks)", f"{stats.spread_ticks_mean:.2f}", f"{stats.spread_ticks_median:.2f}",
                  f"{stats.spread_ticks_p95:.2f}")  # fmt: skip
    table.add_row("spread (bps)", f"{stats.spread_bps_mean:.2f}", f"{stats.spread_bps_median:.2f}",
                  f"{stats.spread_bps_p95:.2f}")  # fmt: skip
    for k in DEPTH_LEVELS:
        table.add_row(f"depth {k} level{'s' if k > 1 else ''} (bid / ask)",
                      f"{stats.depth_bid[k]:,.0f} / {stats.depth_ask[k]:,.0f}", "", "")  # fmt: skip
    out.print(table)
    out.print(f"trades: {stats.buy_ticks:,} buys ({stats.buy_volume:,.0f}), {stats.sell_ticks:,} sells "
              f"({stats.sell_volume:,.0f}), volume imbalance {stats.imbalance:+.4f}", highlight=False)  # fmt: skip


@data_app.command("book-list")
def data_book_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List the stored order book and tick datasets."""
    from quantdesk.data.book_store import BookStore

    catalog = open_catalog()
    datasets = BookStore(catalog).datasets()
    if as_json:
        typer.echo(json.dumps([{"kind": d.kind, "symbol": d.symbol, "rows": d.rows, "levels": d.levels,
                                "first": ns_to_iso(d.first_ns), "last": ns_to_iso(d.last_ns),
                                "synthetic": d.synthetic} for d in datasets], indent=1))  # fmt: skip
        return
    if not datasets:
        out.print("no books or ticks stored; try `quantdesk data synthetic-book SYMBOL`")
        return
    table = Table(title=f"books and ticks in {catalog.root}")
    for col in ("kind", "symbol", "rows", "levels", "first", "last", "syn"):
        table.add_column(col, justify="right" if col in ("rows", "levels") else "left", no_wrap=True)
    for d in datasets:
        table.add_row(d.kind, d.symbol, f"{d.rows:,}", str(d.levels or ""), ns_to_iso(d.first_ns),
                      ns_to_iso(d.last_ns), "yes" if d.synthetic else "")  # fmt: skip
    out.print(table)


@data_app.command("synthetic-book")
def data_synthetic_book(
    symbols: Annotated[list[str], typer.Argument(help="instrument symbols with stored bars")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="the stored bars to follow")] = "1m",
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same books)")] = 7,
    snapshot_every: Annotated[
        int, typer.Option("--snapshot-every", help="a snapshot every N trades (0: one per bar, after its last)")
    ] = 0,
    max_ticks: Annotated[int, typer.Option("--max-ticks", help="most trades per bar (at least 4)")] = 50,
    start: Annotated[str | None, typer.Option("--start", help="first bar time (ISO 8601)")] = None,
    end: Annotated[str | None, typer.Option("--end", help="last bar time (ISO 8601)")] = None,
) -> None:
    """Write synthetic order books (60 levels for equities, 40 for futures) and ticks consistent with stored bars:
    every trade inside its bar's range, the first at the open, the last at the close, sizes adding up to its
    volume. Labelled synthetic."""
    from quantdesk.data.book_store import BookStore
    from quantdesk.data.sources.synthetic_book import generate_book

    catalog = open_catalog()
    store = BookStore(catalog)
    start_ns = to_utc_ns(start, what="--start") if start else None
    end_ns = to_utc_ns(end, what="--end") if end else None
    for symbol in symbols:
        check_symbol(symbol)
        bars = catalog.read_bars(symbol, timeframe, start_ns, end_ns)
        made = generate_book(bars, catalog.get_instrument(symbol), seed=seed, snapshot_every=snapshot_every,
                             max_ticks_per_bar=max_ticks)  # fmt: skip
        source = f"synthetic(seed={seed}) from {bars.timeframe.value} bars"
        books = store.write_books(made.books, source=source)
        ticks = store.write_ticks(made.ticks, source=source)
        out.print(f"{symbol} (synthetic): {books.rows_in:,} snapshots of {made.books.levels} levels and "
                  f"{ticks.rows_in:,} trades from {len(bars):,} {bars.timeframe.value} bars · "
                  f"{books.rows_total:,} snapshots, {ticks.rows_total:,} trades in store", highlight=False)  # fmt: skip


@moomoo_app.command("record-book")
def record_book(
    symbols: Annotated[str, typer.Option("--symbols", help="comma-separated moomoo codes, e.g. US.AAPL,US.MSFT")],
    seconds: Annotated[float, typer.Option("--seconds", help="how long to record")] = 60.0,
    flush_every: Annotated[float, typer.Option("--flush-every", help="store what arrived every this many s")] = 10.0,
    opend_host: Annotated[str, typer.Option("--opend-host", help="where OpenD listens")] = "127.0.0.1",
    opend_port: Annotated[int, typer.Option("--opend-port", help="OpenD's TCP port")] = 11111,
) -> None:
    """Subscribe to OpenD's order book and ticker for --seconds and store the snapshots and trades (each symbol
    must be in the instrument master: `quantdesk moomoo fetch` puts it there)."""
    from quantdesk.cli.moomoo import _codes
    from quantdesk.data.book_store import BookStore
    from quantdesk.execution.moomoo.book_feed import BookRecorder
    from quantdesk.execution.moomoo.gateway import Gateway
    from quantdesk.execution.moomoo.market_data import split_code

    if seconds <= 0 or flush_every <= 0:
        raise ConfigError(f"--seconds and --flush-every: expected numbers > 0, found {seconds} and {flush_every}")
    codes = _codes(symbols)
    catalog = open_catalog()
    for code in codes:
        catalog.get_instrument(split_code(code)[1])
    store = BookStore(catalog)
    totals: dict[tuple[str, str], int] = {}
    with Gateway(opend_host, opend_port) as gateway, BookRecorder(gateway, codes) as recorder:
        deadline = time.monotonic() + seconds
        while True:
            time.sleep(max(0.0, min(flush_every, deadline - time.monotonic())))
            for report in recorder.flush(store):
                key = (report.symbol, report.kind)
                totals[key] = totals.get(key, 0) + report.rows_in
            if time.monotonic() >= deadline:
                break
    for code in codes:
        symbol = split_code(code)[1]
        out.print(f"{symbol}: {totals.get((symbol, 'books'), 0):,} snapshots, {totals.get((symbol, 'ticks'), 0):,} "
                  "trades recorded", highlight=False)  # fmt: skip
