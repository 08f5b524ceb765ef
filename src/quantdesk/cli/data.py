"""``quantdesk data``: load the sample, generate a synthetic market, import files, list and show bars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, open_catalog, out, progress
from quantdesk.core.errors import ConfigError
from quantdesk.core.timestamps import ns_to_iso
from quantdesk.data.catalog import Catalog, WriteReport
from quantdesk.domain.instrument import AssetClass, Instrument, TradingHours
from quantdesk.domain.symbols import check_symbol
from quantdesk.domain.timeframe import Timeframe

data_app = typer.Typer(help="Load, import, list and show market data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

US_HOURS = {"pre_market": "04:00-09:30", "regular": "09:30-16:00", "after_hours": "16:00-20:00"}


def _print_write(report: WriteReport, *, max_gaps: int = 5) -> None:
    verb = "stored" if report.changed else "unchanged"
    out.print(
        f"{report.symbol} {report.timeframe.value}: {verb} · {report.rows_in} rows in, {report.rows_added} added, "
        f"{report.rows_replaced} replaced, {report.rows_total} in store"
    )
    if report.gaps:
        out.print(f"  [yellow]{len(report.gaps)} gap(s) in the data (reported, not filled):[/yellow]")
        for gap in report.gaps[:max_gaps]:
            out.print(f"    {escape(gap.describe())}")
        if len(report.gaps) > max_gaps:
            out.print(f"    ... and {len(report.gaps) - max_gaps} more")


@data_app.command("sample")
def data_sample() -> None:
    """Load the bundled real sample data (S&P 500, NASDAQ, macro series) into the store."""
    from quantdesk.data.sources.sample import SAMPLE_SERIES, SAMPLE_SYMBOLS, load_sample

    catalog = open_catalog()
    with progress("loading sample data", total=len(SAMPLE_SYMBOLS) + len(SAMPLE_SERIES)) as advance:
        report = load_sample(catalog, progress=lambda what: advance(description=f"loading {what}"))
    for write in report.bars:
        _print_write(write, max_gaps=3)
    out.print(
        f"macro series: {len(report.series_written)} written, {len(report.series_unchanged)} unchanged "
        f"({', '.join(report.series_written + report.series_unchanged)})"
    )
    out.print(f"store: {escape(str(catalog.root))}")


@data_app.command("synthetic")
def data_synthetic(
    symbols: Annotated[int, typer.Option("--symbols", help="number of instruments")] = 10,
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe, 1m ... 1M")] = "1d",
    days: Annotated[int, typer.Option("--days", help="trading sessions to generate")] = 250,
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same market)")] = 7,
    start: Annotated[str, typer.Option("--start", help="first session date")] = "2024-01-02",
    fundamentals: Annotated[
        bool, typer.Option("--fundamentals/--no-fundamentals", help="also write statements, earnings and events")
    ] = True,
    fx: Annotated[
        bool,
        typer.Option(
            "--fx/--no-fx", help="also write synthetic FX pairs (daily, 2010-2019) and RATE_<CCY> short rates"
        ),
    ] = False,
) -> None:
    """Generate a seeded synthetic market (labelled synthetic) and store it, with its companies' fundamentals."""
    from quantdesk.data.sources.synthetic import SyntheticConfig, generate_market, write_synthetic_market

    config = SyntheticConfig(n_symbols=symbols, days=days, timeframe=Timeframe.parse(timeframe), seed=seed, start=start)
    catalog = open_catalog()
    with progress(f"generating {symbols} synthetic instruments", total=symbols) as advance:
        market = generate_market(config)
        reports = write_synthetic_market(catalog, config, progress=lambda done, total: advance(), market=market)
    if fundamentals:
        from quantdesk.data.fundamentals.store import FundamentalStore
        from quantdesk.data.sources.synthetic_fundamentals import store_fundamentals

        store = FundamentalStore()
        report, data = store_fundamentals(store, market, config)
        out.print(
            f"fundamentals: {report.received} statement figures ({report.added} new versions), "
            f"{len(data.earnings)} earnings, {len(data.insiders)} insider trades, {len(data.ratings)} rating changes "
            f"in {store.db.url}"
        )
    changed = sum(r.changed for r in reports)
    rows = sum(r.rows_total for r in reports)
    out.print(
        f"synthetic market (seed {seed}): {len(reports)} instruments, {rows} {config.timeframe.value} bars in store, "
        f"{changed} dataset(s) changed"
    )
    out.print(f"symbols: {', '.join(r.symbol for r in reports[:10])}{' ...' if len(reports) > 10 else ''}")
    if fx:
        _write_synthetic_fx(catalog, seed)


def _write_synthetic_fx(catalog: Catalog, seed: int) -> None:
    from quantdesk.data.sources.synthetic_fx import SyntheticFxConfig, generate_fx_market, write_synthetic_fx

    config = SyntheticFxConfig(seed=seed)
    market = generate_fx_market(config)
    reports = write_synthetic_fx(catalog, config, market=market)
    out.print(
        f"synthetic FX (seed {seed}): {', '.join(r.symbol for r in reports)} daily bars "
        f"{config.start} to {config.end}, short rates {', '.join('RATE_' + c for c in config.currencies)}"
    )
    for report in reports:  # FX closes at the weekend, so only a missing weekday is a gap
        if report.gaps:
            _print_write(report)


def _import_instrument(
    catalog: Catalog, symbol: str, asset_class: str, market: str, currency: str, sizes: dict[str, float | None]
) -> Instrument:
    existing = catalog.find_instrument(symbol)
    if existing is not None:
        for field, given in sizes.items():
            stored = getattr(existing, field)
            if given is not None and given != stored:
                option = "--" + field.replace("_", "-")
                raise ConfigError(
                    f"{option}: {symbol} is stored with a {field.replace('_', ' ')} of {stored:g}, found {given:g}; "
                    "the instrument's sizes are set when it is first imported"
                )
        return existing
    try:
        us_session = market.upper().startswith("US") and asset_class != AssetClass.CRYPTO
        hours = TradingHours.model_validate(US_HOURS) if us_session else TradingHours()
        return Instrument(
            symbol=symbol,
            asset_class=AssetClass(asset_class),
            market=market,
            currency=currency.upper(),
            trading_hours=hours,
            source="file import",
            **{field: value for field, value in sizes.items() if value is not None},
        )
    except ValueError as exc:
        raise ConfigError(f"instrument {symbol}: {exc}") from exc


@data_app.command("import")
def data_import(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of bars")],
    symbol: Annotated[str, typer.Option("--symbol", help="instrument symbol")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe of the file")],
    tz: Annotated[str | None, typer.Option("--tz", help="time zone of times written without an offset")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN, e.g. --map ts=Date")] = None,
    asset_class: Annotated[str, typer.Option("--asset-class", help="for a new instrument")] = "equity",
    market: Annotated[str, typer.Option("--market", help="for a new instrument, e.g. US_NYSE")] = "US",
    currency: Annotated[str, typer.Option("--currency", help="for a new instrument")] = "USD",
    lot_size: Annotated[
        float | None, typer.Option("--lot-size", help="for a new instrument: the smallest quantity (default 1)")
    ] = None,
    tick_size: Annotated[
        float | None, typer.Option("--tick-size", help="for a new instrument: the price step (default 0.01)")
    ] = None,
) -> None:
    """Import bars from a file; every row is checked and nothing is written if any is bad. A crypto instrument
    trades around the clock; --lot-size 0.001 lets sizes use fractions of a unit."""
    from quantdesk.data.sources.files import import_bars_file, parse_column_map

    if asset_class not in {a.value for a in AssetClass}:
        raise ConfigError(
            f"--asset-class: expected one of {', '.join(a.value for a in AssetClass)}, found {asset_class!r}"
        )
    check_symbol(symbol, where="--symbol")
    catalog = open_catalog()
    instrument = _import_instrument(
        catalog, symbol, asset_class, market, currency, {"lot_size": lot_size, "tick_size": tick_size}
    )
    report = import_bars_file(
        catalog,
        file,
        symbol=symbol,
        timeframe=timeframe,
        instrument=instrument,
        tz=tz,
        column_map=parse_column_map(mapping),
    )
    for note in report.notes:
        out.print(f"[yellow]note:[/yellow] {escape(note)}")
    _print_write(report.write)


@data_app.command("import-series")
def data_import_series(
    file: Annotated[
        Path, typer.Argument(help="CSV or Parquet file: a period column, a value column, optionally known times")
    ],
    name: Annotated[str, typer.Option("--name", help="series name, e.g. RATE_USD (a carry gate reads RATE_<CCY>)")],
    frequency: Annotated[
        str, typer.Option("--frequency", help="daily, weekly, monthly, quarterly, semiannual or annual")
    ],
    known_lag: Annotated[
        str | None,
        typer.Option(
            "--known-lag", help="delay from each period start to when it was known, e.g. 1d (no known column)"
        ),
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="time zone of clock times written without an offset")] = None,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="FIELD=COLUMN for ts, value, known_ts, e.g. --map value=DGS3MO")
    ] = None,
    description: Annotated[str, typer.Option("--description", help="what the series is")] = "",
    unit: Annotated[str, typer.Option("--unit", help="its unit, e.g. 'percent per year'")] = "",
    replace: Annotated[bool, typer.Option("--replace", help="replace a stored series of that name")] = False,
    kind: Annotated[
        str, typer.Option("--kind", help="macro, market, calendar, sentiment, flow or alternative (level 5)")
    ] = "macro",
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="the instrument the series belongs to (default: market-wide)")
    ] = None,
) -> None:
    """Import a macro or alternative series (a short rate, a yield, an index level, social sentiment, satellite
    counts) with its known times; every row is checked and nothing is written if any is bad. An alternative
    series (--kind alternative) is also scored for the drill-down's level 5 (stored as NAME_SCORE)."""
    from quantdesk.data.sources.series_files import SERIES_FIELDS, import_series_file

    column_map: dict[str, str] = {}
    for item in mapping or []:
        key, sep, value = item.partition("=")
        if not sep or key.strip().lower() not in SERIES_FIELDS or not value.strip():
            raise ConfigError(
                f"--map: expected FIELD=COLUMN with FIELD one of {', '.join(SERIES_FIELDS)}, found {item!r}"
            )
        column_map[key.strip().lower()] = value.strip()
    from quantdesk.domain.series import SERIES_KINDS

    importable = tuple(k for k in SERIES_KINDS if k not in ("derived", "alternative_score"))
    if kind not in importable:
        raise ConfigError(f"--kind: expected one of {', '.join(importable)}, found {kind!r}")
    if symbol is not None:
        check_symbol(symbol, where="--symbol")
    catalog = open_catalog()
    report = import_series_file(catalog, file, name=name, frequency=frequency, known_lag=known_lag, tz=tz,
                                column_map=column_map, description=description, unit=unit, replace=replace,
                                kind=kind, symbol=symbol or "")  # fmt: skip
    verb = ("replaced" if report.replaced else "stored") if report.changed else "unchanged"
    out.print(
        f"series {report.name} ({frequency}{'' if kind == 'macro' else ', ' + kind}{', ' + symbol if symbol else ''}): "
        f"{verb} · {report.rows} "
        f"observations, {ns_to_iso(report.first_ns)} to {ns_to_iso(report.last_ns)}",
        markup=False,
        highlight=False,
    )
    if kind == "alternative":
        from quantdesk.data.levels.alternative import score_alternative

        score = score_alternative(catalog.read_series(report.name))
        catalog.write_series(score)
        out.print(f"level-5 score {score.name}: {len(score)} observations", markup=False, highlight=False)


def _write_all(catalog: Catalog, series: list, what: str) -> None:
    written = [s.name for s in series if catalog.write_series(s)]
    out.print(f"{what}: {len(series)} series, {len(written)} written ({', '.join(s.name for s in series)})",
              markup=False, highlight=False)  # fmt: skip


@data_app.command("import-calendar")
def data_import_calendar(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="CSV: event, period, release_time, consensus, actual [, country, unit]; omitted: the "
            "offline calendar generated from statsmodels macrodata (consensus synthetic)"
        ),
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="time zone of release times without an offset")] = None,
) -> None:
    """Store an economic calendar (rate decisions, GDP, employment, CPI) as ECON_<COUNTRY>_<EVENT>_ACTUAL,
    _CONSENSUS and _SURPRISE series, each known at its release time."""
    from quantdesk.data.levels.calendar import (
        MACRODATA_CALENDAR_SOURCE,
        calendar_series,
        macrodata_calendar,
        read_calendar_file,
    )

    if file is None:
        series = calendar_series(macrodata_calendar(), source=MACRODATA_CALENDAR_SOURCE, synthetic_consensus=True)
        label = "offline calendar (statsmodels macrodata; consensus synthetic)"
    else:
        series = calendar_series(read_calendar_file(file, tz=tz), source=f"file import: {file.name}")
        label = f"calendar {file.name}"
    _write_all(open_catalog(), series, label)


@data_app.command("import-news")
def data_import_news(
    file: Annotated[Path, typer.Argument(help="JSONL or CSV of headlines: time, headline [, symbol]")],
    name: Annotated[str, typer.Option("--name", help="the series to store")] = "NEWS_SENTIMENT",
    symbol: Annotated[str | None, typer.Option("--symbol", help="only this instrument's headlines")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="time zone of times without an offset")] = None,
) -> None:
    """Score headlines offline with VADER and store their daily mean sentiment, known at each day's last headline."""
    from quantdesk.data.levels.news import HeadlineFile, daily_sentiment
    from quantdesk.data.sources.series_files import check_series_name

    check_series_name(name)
    if symbol is not None:
        check_symbol(symbol, where="--symbol")
    series = daily_sentiment(HeadlineFile(file, tz=tz).headlines(), name=name, symbol=symbol or "",
                             source=f"file import: {file.name}")  # fmt: skip
    _write_all(open_catalog(), [series], f"news sentiment from {file.name} ({len(series)} days)")


@data_app.command("import-etf-flows")
def data_import_etf_flows(
    file: Annotated[Path, typer.Argument(help="CSV: date, shares_outstanding, nav [, known_time]")],
    symbol: Annotated[str, typer.Option("--symbol", help="the ETF")],
) -> None:
    """Store an ETF's daily flows, (shares_t - shares_t-1) x NAV_t, as FLOW_<SYMBOL>."""
    from quantdesk.data.levels.etf_flows import read_etf_file

    _write_all(open_catalog(), [read_etf_file(file, symbol=symbol)], f"ETF flows of {symbol}")


@data_app.command("correlations")
def data_correlations(
    names: Annotated[str | None, typer.Option("--names", help="comma-separated series or symbols")] = None,
    at: Annotated[str | None, typer.Option("--at", help="as known at this time (default: now)")] = None,
    window: Annotated[int, typer.Option("--window", help="grid observations in the window")] = 63,
    grid: Annotated[str, typer.Option("--grid", help="daily or monthly")] = "daily",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The cross-asset correlation matrix (equities, bonds, commodities, currencies) as known at --at."""
    import time

    from quantdesk.core.timestamps import to_utc_ns
    from quantdesk.data.levels.cross_asset import DEFAULT_ASSETS, catalog_correlation_matrix

    catalog = open_catalog()
    chosen = [n.strip() for n in names.split(",")] if names else [
        n for n in DEFAULT_ASSETS.values() if n in catalog.series_names() or catalog.find_instrument(n)]  # fmt: skip
    at_ns = to_utc_ns(at, what="--at") if at else time.time_ns()
    matrix = catalog_correlation_matrix(catalog, chosen, at_ns, window_obs=window, grid=grid)
    if as_json:
        typer.echo(json.dumps(matrix.to_dict(), indent=1))
        return
    table = Table(title=f"correlations of {grid} changes, {window} observations to {ns_to_iso(matrix.at_ns)}")
    table.add_column("")
    for name in matrix.names:
        table.add_column(name, justify="right")
    for name, row in zip(matrix.names, matrix.matrix, strict=True):
        table.add_row(name, *("n/a" if v != v else f"{v:+.2f}" for v in row))
    out.print(table)
    for name, source in matrix.sources.items():
        out.print(f"{name}: {escape(source)}" + (f" [yellow]{escape(matrix.stale[name])}[/yellow]"
                                                  if name in matrix.stale else ""))  # fmt: skip


@data_app.command("list")
def data_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List the stored datasets and macro series."""
    catalog = open_catalog()
    datasets = catalog.datasets()
    series = catalog.series_names()
    if as_json:
        payload = {
            "bars": [
                {
                    "symbol": d.symbol,
                    "timeframe": d.timeframe.value,
                    "rows": d.rows,
                    "first": ns_to_iso(d.first_ns),
                    "last": ns_to_iso(d.last_ns),
                    "synthetic": d.synthetic,
                }
                for d in datasets
            ],
            "series": series,
        }
        typer.echo(json.dumps(payload, indent=1))
        return
    if not datasets and not series:
        out.print(f"the store at {escape(str(catalog.root))} is empty; try `quantdesk data sample`")
        return
    table = Table(title=f"bars in {catalog.root}")
    for col in ("symbol", "timeframe", "rows", "first", "last", "syn"):
        table.add_column(col, justify="right" if col == "rows" else "left", no_wrap=True)
    for d in datasets:
        table.add_row(
            d.symbol,
            d.timeframe.value,
            f"{d.rows:,}",
            ns_to_iso(d.first_ns),
            ns_to_iso(d.last_ns),
            "yes" if d.synthetic else "",
        )
    out.print(table)
    if series:
        out.print(f"macro series: {', '.join(series)}")


@data_app.command("show")
def data_show(
    symbol: Annotated[str, typer.Argument(help="instrument symbol")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="bar timeframe")] = "1d",
    tail: Annotated[int, typer.Option("--tail", help="last N bars")] = 10,
) -> None:
    """Show an instrument's record and its last bars."""
    if tail < 1:
        raise ConfigError(f"--tail: expected a number >= 1, found {tail}")
    catalog = open_catalog()
    bars = catalog.read_bars(symbol, timeframe)
    inst = catalog.find_instrument(symbol)
    if inst is not None:
        label = " [yellow](synthetic)[/yellow]" if inst.synthetic else ""
        out.print(
            f"{inst.symbol}{label} {inst.name} · {inst.asset_class.value} · {inst.market} · "
            f"{inst.currency} · {inst.timezone}"
        )
    table = Table(title=f"{bars.symbol} {bars.timeframe.value}: last {min(tail, len(bars))} of {len(bars):,} bars")
    for col in ("ts", "open", "high", "low", "close", "volume"):
        table.add_column(col, justify="left" if col == "ts" else "right")
    view = bars[max(0, len(bars) - tail) :]
    for i in range(len(view)):
        table.add_row(
            ns_to_iso(int(view.ts[i])),
            f"{view.open[i]:.4f}",
            f"{view.high[i]:.4f}",
            f"{view.low[i]:.4f}",
            f"{view.close[i]:.4f}",
            f"{view.volume[i]:,.0f}",
        )
    out.print(table)


# ---- backtest ------------------------------------------------------------------------------------------
