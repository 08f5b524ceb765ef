"""``quantdesk moomoo fetch``: bars, instruments, statements and earnings from a moomoo OpenD into the data home.

A thin layer over the adapter (``execution.moomoo``): the ``Gateway`` opens the quote context (nothing listening
on ``--opend-host:--opend-port`` is the gateway's ``BrokerUnavailableError``, exit 1), ``market_data.instruments``
checks every code first (a code OpenD refuses is a ``ConfigError`` naming ``--symbols`` and the SDK's message,
exit 2) and gives the instrument records with OpenD's lot and tick sizes, ``market_data.history_bars`` reads every
page of klines, and ``fundamentals.fetch_fundamentals`` the statements dated by their earnings announcements.
Everything is fetched before anything is written, so a failure half-way leaves the store as it was; then each
symbol's bars go into the catalog (``Catalog.write_bars`` with its instrument, merged with a stored record's own
fields) and its facts and reported earnings into the home's fundamentals store, and one line per symbol says
what was written and what was left out.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from quantdesk.cli.common import app, open_catalog, out, progress
from quantdesk.core.errors import ConfigError
from quantdesk.data.catalog import Catalog, WriteReport
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.execution.moomoo.errors import BrokerCallError

if TYPE_CHECKING:
    from quantdesk.data.fundamentals.store import FundamentalStore
    from quantdesk.domain.bars import Bars
    from quantdesk.execution.moomoo.fundamentals import FundamentalsFetch

moomoo_app = typer.Typer(help="Fetch market data and fundamentals from a moomoo OpenD.", no_args_is_help=True)
app.add_typer(moomoo_app, name="moomoo")

DEFAULT_DAYS = 365  # --start defaults to this many days before --end


def _date(text: str | None, option: str, default: dt.date) -> dt.date:
    if text is None:
        return default
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"{option}: expected a date YYYY-MM-DD, found {text!r}") from None


def _codes(text: str) -> list[str]:
    from quantdesk.domain.symbols import check_symbol
    from quantdesk.execution.moomoo.market_data import split_code

    codes = list(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    if not codes:
        raise ConfigError(f"--symbols: expected moomoo codes such as US.AAPL,US.MSFT, found {text!r}")
    for code in codes:
        try:
            _, symbol = split_code(code)
        except ConfigError as exc:
            raise ConfigError(f"--symbols: {exc}") from None
        check_symbol(symbol, where=f"--symbols ({code})")
    return codes


def _instrument(catalog: Catalog, fetched: Instrument) -> Instrument:
    """``fetched`` (OpenD's lot, tick, name), keeping what a stored record of the symbol says beyond that."""
    stored = catalog.find_instrument(fetched.symbol)
    if stored is None:
        return fetched
    update = {"lot_size": fetched.lot_size, "tick_size": fetched.tick_size, "name": fetched.name or stored.name}
    if stored.trading_hours.regular is None:
        update["trading_hours"] = fetched.trading_hours
    return stored.model_copy(update=update)


def _bars_line(report: WriteReport) -> str:
    verb = "stored" if report.changed else "unchanged"
    return (f"{report.symbol} {report.timeframe.value}: {verb} · {report.rows_in} bars in, {report.rows_added} added, "
            f"{report.rows_replaced} replaced, {report.rows_total} in store")  # fmt: skip


@moomoo_app.command("fetch")
def fetch(
    symbols: Annotated[str, typer.Option("--symbols", help="comma-separated moomoo codes, e.g. US.AAPL,US.MSFT")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe: 1m 5m 15m 30m 1h 1d 1w 1M")] = "1d",
    start: Annotated[
        str | None, typer.Option("--start", help=f"first date YYYY-MM-DD (default {DEFAULT_DAYS} days before --end)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="last date YYYY-MM-DD, inclusive (default today, UTC)")
    ] = None,
    fundamentals: Annotated[
        bool, typer.Option("--fundamentals/--no-fundamentals", help="also fetch statements and earnings")
    ] = True,
    opend_host: Annotated[str, typer.Option("--opend-host", help="where OpenD listens")] = "127.0.0.1",
    opend_port: Annotated[int, typer.Option("--opend-port", help="OpenD's TCP port")] = 11111,
) -> None:
    """Fetch bars (every page), instruments (lot and tick sizes) and, by default, statements dated by their earnings
    announcements, and store them in the data home. A statement whose announcement is not in OpenD's earnings
    calendar is left out and listed, never stored under a guessed time."""
    from quantdesk.execution.moomoo.gateway import Gateway
    from quantdesk.execution.moomoo.market_data import KTYPES

    codes = _codes(symbols)
    try:
        tf = Timeframe.parse(timeframe)
    except ConfigError as exc:
        raise ConfigError(f"--timeframe: {exc}") from None
    if tf not in KTYPES:
        raise ConfigError(
            f"--timeframe: OpenD has no klines of {tf.value}; one of {', '.join(t.value for t in KTYPES)}"
        )
    last = _date(end, "--end", dt.datetime.now(dt.UTC).date())
    first = _date(start, "--start", last - dt.timedelta(days=DEFAULT_DAYS))
    if first > last:
        raise ConfigError(f"--start: expected a date on or before --end {last}, found {first}")
    catalog = open_catalog()
    with Gateway(opend_host, opend_port) as gateway:
        logging.getLogger("FTConsoleLog").setLevel(logging.WARNING)  # the SDK's chatter off stdout (its file keeps it)
        quote = gateway.quote()
        records, bars, fetched = _fetch(quote, codes, tf, first, last, fundamentals=fundamentals)
    fetched_ns = time.time_ns()
    store = None
    if fetched:
        from quantdesk.data.fundamentals.store import FundamentalStore

        store = FundamentalStore()  # the home's store: $QUANTDESK_HOME/quantdesk.db or QUANTDESK_DATABASE_URL
    for code in codes:
        inst = _instrument(catalog, records[code])
        sizes = f"lot {inst.lot_size:g}, tick {inst.tick_size:g} {inst.currency}"
        if len(bars[code]) == 0:  # the instrument alone: no timeframe listed without its bars
            catalog.put_instruments([inst])
            out.print(f"{inst.symbol} {tf.value}: no bars from OpenD from {first} to {last} · {sizes}", highlight=False)
        else:
            report = catalog.write_bars(bars[code], instrument=inst, source=f"moomoo {code} {tf.value}")
            out.print(f"{_bars_line(report)} · {sizes}", highlight=False)
        if store is not None:
            _store_line(store, fetched[code], fetched_ns)
    out.print(f"catalog: {escape(str(catalog.root))}" + (f"; fundamentals: {store.db.url}" if store else ""),
              highlight=False)  # fmt: skip


def _fetch(quote: Any, codes: list[str], tf: Timeframe, first: dt.date, last: dt.date, *, fundamentals: bool
           ) -> tuple[dict[str, Instrument], dict[str, Bars], dict[str, FundamentalsFetch]]:  # fmt: skip
    """Everything from OpenD, nothing written yet: instruments (every code checked first), bars, fundamentals."""
    from quantdesk.execution.moomoo import fundamentals as fund
    from quantdesk.execution.moomoo import market_data

    try:
        found = market_data.instruments(quote, codes)
    except BrokerCallError as exc:  # which codes? each alone: a refusal names its code, but may list others too
        refused = {}
        for code in codes:
            try:
                market_data.instruments(quote, [code])
            except BrokerCallError as alone:
                refused[code] = str(alone)
        if refused:
            raise ConfigError(
                f"--symbols: moomoo refused {', '.join(refused)}: {'; '.join(refused.values())}"
            ) from None
        raise exc from None
    records = {f"{i.market}.{i.symbol}": i for i in found}
    missing = [c for c in codes if c not in records]
    if missing:
        raise ConfigError(f"--symbols: moomoo has no static info for {', '.join(missing)}")
    bars: dict[str, Bars] = {}
    with progress(f"fetching {tf.value} bars", total=len(codes)) as advance:
        for code in codes:
            advance(0, description=f"fetching {tf.value} bars of {code}")
            bars[code] = market_data.history_bars(quote, code, tf, start=first.isoformat(), end=last.isoformat(),
                                                  timezone=records[code].timezone)  # fmt: skip
            advance()
    fetched: dict[str, FundamentalsFetch] = {}
    if fundamentals:
        with progress("fetching fundamentals") as advance:
            try:
                got = fund.fetch_fundamentals(quote, codes, on_progress=lambda what: advance(0, description=what))
            except BrokerCallError as exc:
                raise BrokerCallError(f"{exc} (pass --no-fundamentals to fetch bars and instruments only)") from None
        fetched = {f.code: f for f in got}
    return records, bars, fetched


def _store_line(store: FundamentalStore, fetched: FundamentalsFetch, fetched_ns: int) -> None:
    from quantdesk.execution.moomoo.fundamentals import store_fundamentals

    written = store_fundamentals(store, fetched, fetched_ns=fetched_ns)
    span = f" ({fetched.periods[0]} .. {fetched.periods[-1]})" if fetched.periods else ""
    line = (f"{fetched.symbol} fundamentals: {len(fetched.facts)} statement figures over {len(fetched.periods)} "
            f"periods{span}, {written.facts.added} new versions; {written.earnings} earnings"
            f"{f', {fetched.upcoming} upcoming not stored' if fetched.upcoming else ''}"
            f"{f', {fetched.unestimated} without an estimate not stored' if fetched.unestimated else ''}")  # fmt: skip
    if written.restated:
        line += f"; {written.restated} restated figures known from now"
    out.print(line, highlight=False)
    if fetched.unannounced:
        out.print(f"  [yellow]{len(fetched.unannounced)} statement(s) left out, no announcement in the earnings "
                  f"calendar:[/yellow] {escape(', '.join(fetched.unannounced))}", highlight=False)  # fmt: skip
    if fetched.unmapped_fields:
        shown = ", ".join(fetched.unmapped_fields[:10]) + (" ..." if len(fetched.unmapped_fields) > 10 else "")
        out.print(f"  [yellow]{len(fetched.unmapped_fields)} field(s) with no statement item, not stored:[/yellow] "
                  f"{escape(shown)}", highlight=False)  # fmt: skip
