"""``quantdesk fundamentals import|fetch-edgar|score|screen``: the point-in-time fundamentals store and
the fundamental analysis module from the command line."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, open_catalog, out
from quantdesk.core.errors import NotFoundError
from quantdesk.core.paths import data_home
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns
from quantdesk.data.catalog import Catalog
from quantdesk.domain.symbols import check_symbol

fundamentals_app = typer.Typer(help="Point-in-time fundamentals: import, fetch, score, screen.", no_args_is_help=True)
app.add_typer(fundamentals_app, name="fundamentals")


AT_HELP = "as known at the end of this date (UTC); default: the close of the newest stored bar"


def _as_of_ns(at: str | None, catalog: Catalog) -> int:
    """``--at DATE``: as known at the end of that day (UTC). Omitted, for every fundamentals command:
    ``default_as_of_ns``, the close of the newest bar in the catalog (now when it stores none)."""
    if at is None:
        from quantdesk.analysis.fundamental.universe import default_as_of_ns

        return default_as_of_ns(catalog)
    start = to_utc_ns(at, what="--at")
    stamp = pd.Timestamp(at)
    return start + (86_400 * 10**9 - 1 if stamp == stamp.normalize() else 0)


def _store() -> Any:
    from quantdesk.data.fundamentals.store import FundamentalStore

    return FundamentalStore()


@fundamentals_app.command("import")
def import_file(file: Annotated[Path, typer.Argument(help="a CSV or Parquet file in the long format")]) -> None:
    """Import statements (one figure per row: symbol, item, fiscal_year, fiscal_period, period_end, filed, value)."""
    from quantdesk.data.fundamentals.imports import import_statements

    report = import_statements(file, _store())
    out.print(f"{escape(str(file))}: {report.received} figures for {report.symbols} companies; "
              f"{report.added} new versions stored, {report.unchanged} already known")  # fmt: skip


_EARNINGS_HELP = "CSV/Parquet: symbol, fiscal_year, fiscal_period, announced, eps_estimate, eps_actual"
_RATINGS_HELP = "CSV/Parquet: symbol, announced, firm, from_rating, to_rating [, price_target]"


def _import_events(kind: str, file: Path) -> None:
    from quantdesk.data.fundamentals.events_import import EVENT_IMPORTERS

    report = EVENT_IMPORTERS[kind](file, _store())
    out.print(f"{escape(str(file))}: {report.rows} {kind} rows for {report.symbols} companies stored")


@fundamentals_app.command("import-earnings")
def import_earnings(
    file: Annotated[
        Path,
        typer.Argument(help="CSV/Parquet: symbol, fiscal_year, fiscal_period, announced, eps_estimate, eps_actual"),
    ],
) -> None:
    """Import earnings announcements (consensus estimate and actual); an event replaces its stored period."""
    _import_events("earnings", file)


@fundamentals_app.command("import-insiders")
def import_insiders(
    file: Annotated[Path, typer.Argument(help="CSV/Parquet: symbol, filed, insider, role, shares, price")],
) -> None:
    """Import insider trades (shares > 0 bought, < 0 sold); they replace the stored trades of the file's symbols."""
    _import_events("insiders", file)


@fundamentals_app.command("import-ratings")
def import_ratings(
    file: Annotated[
        Path, typer.Argument(help="CSV/Parquet: symbol, announced, firm, from_rating, to_rating [, price_target]")
    ],
) -> None:
    """Import analyst rating changes; they replace the stored changes of the file's symbols."""
    _import_events("ratings", file)


@fundamentals_app.command("import-holdings")
def import_holdings(
    file: Annotated[Path, typer.Argument(help="CSV/Parquet: symbol, holder, report_date, filed, shares [, value]")],
) -> None:
    """Import 13F institutional holdings; stored per symbol as INST_HOLDINGS_<SYMBOL> (shares held per quarter)."""
    from quantdesk.data.fundamentals.holdings import holdings_series, read_holdings

    catalog = open_catalog()
    series = holdings_series(read_holdings(file), source=f"file import: {file.name}")
    written = [s.name for s in series if catalog.write_series(s)]
    out.print(f"{escape(str(file))}: holdings of {len(series)} companies ({', '.join(s.name for s in series)}); "
              f"{len(written)} series written")  # fmt: skip


@fundamentals_app.command("fetch-edgar")
def fetch_edgar(
    ticker: Annotated[str, typer.Argument(help="a US ticker, e.g. AAPL")],
    user_agent: Annotated[
        str | None, typer.Option("--user-agent", help="'Name email' for SEC (or QUANTDESK_EDGAR_USER_AGENT)")
    ] = None,
) -> None:
    """Download SEC EDGAR's XBRL company facts for TICKER and store its statements (needs network)."""
    from quantdesk.data.sources.edgar import fetch_companyfacts, parse_companyfacts

    check_symbol(ticker, where="TICKER")
    doc = fetch_companyfacts(ticker, cache_dir=data_home() / "cache" / "edgar", user_agent=user_agent)
    facts = parse_companyfacts(doc, symbol=ticker)
    report = _store().put_facts(facts, source_name=f"EDGAR companyfacts {ticker}")
    out.print(f"{ticker}: {report.received} figures from EDGAR; {report.added} new versions stored")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple | list):
        return [_clean(v) for v in value]
    item = getattr(value, "item", None)
    return _clean(item()) if callable(item) else value


@fundamentals_app.command("score")
def score(
    symbol: Annotated[str, typer.Argument(help="the company's symbol")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The composite fundamental score of SYMBOL and every sub-score with its inputs, as known at --at."""
    from quantdesk.analysis.fundamental.events import insider_activity, rating_activity
    from quantdesk.analysis.fundamental.metrics import company_metrics
    from quantdesk.analysis.fundamental.score import fundamental_score
    from quantdesk.analysis.fundamental.statements import FinancialHistory
    from quantdesk.analysis.fundamental.universe import fundamental_table, histories_as_of, last_closes

    symbol = check_symbol(symbol, where="SYMBOL")
    store = _store()
    catalog = open_catalog()
    as_of_ns = _as_of_ns(at, catalog)
    table = fundamental_table(store, catalog, as_of_ns)
    if table.empty or symbol not in table.index:
        raise NotFoundError(f"no fundamentals known for {symbol} at {ns_to_iso(as_of_ns)}; import them with "
                            "'quantdesk fundamentals import' or 'quantdesk data synthetic'")  # fmt: skip
    row = table.to_dict("index")[symbol]
    result = fundamental_score(row, as_of=ns_to_iso(as_of_ns))
    history = histories_as_of(store, [symbol], as_of_ns).get(symbol) or FinancialHistory.empty_for(symbol)
    price = last_closes(catalog, [symbol], as_of_ns).get(symbol, math.nan)
    sector = row["sector"] if isinstance(row["sector"], str) else None
    audit = company_metrics(history, price=price, as_of_ns=as_of_ns, sector=sector, audit=True,
                            earnings=store.earnings_as_of([symbol], as_of_ns)).detail  # fmt: skip
    insiders = insider_activity(store.insiders_as_of(symbol, as_of_ns), as_of_ns)
    ratings = rating_activity(store.ratings_as_of(symbol, as_of_ns), as_of_ns)
    if as_json:
        doc = result.to_dict()
        doc["audit"] = _clean_tree(audit)
        doc["events"] = {"insiders": insiders.to_dict(), "ratings": ratings.to_dict()}
        typer.echo(json.dumps(doc, indent=1, default=str))
        return
    doc = result.to_dict()["fundamental_score"]
    out.print(f"[bold]{symbol}[/bold] fundamental score as known at {result.as_of}")
    out.print(f"composite {doc['composite_value']}  confidence {doc['confidence']} (freshness "
              f"{result.freshness:.3f} x the weighted support of the sub-scores)")  # fmt: skip
    subs = Table(title="sub-scores (0..1)")
    subs.add_column("sub-score")
    subs.add_column("value", justify="right")
    subs.add_column("support", justify="right")
    for name, value in doc["sub_scores"].items():
        support = (result.support or {}).get(name, 0.0)
        subs.add_row(name, "n/a" if value is None else f"{value:.3f}", f"{support:.2f}")
    out.print(subs)
    inputs = Table(title="inputs")
    inputs.add_column("metric")
    inputs.add_column("value", justify="right")
    for name, value in result.inputs.items():
        inputs.add_row(name, _fmt(value))
    for name in ("roe_trend", "debt_trend"):
        inputs.add_row(name, _fmt(doc["key_metrics"][name]))
    out.print(inputs)
    out.print(f"insiders, last {insiders.days} days: {insiders.buys} buys, {insiders.sells} sells, net "
              f"{insiders.net_shares:,.0f} shares ({insiders.net_value:,.0f})")  # fmt: skip
    out.print(f"analysts, last {ratings.days} days: {ratings.upgrades} upgrades, {ratings.downgrades} downgrades, "
              f"median target {_fmt(ratings.median_price_target)}")  # fmt: skip
    fscore = audit.get("fscore")
    if fscore:
        tests = Table(title=f"Piotroski F-Score {fscore['score']} / 9")
        for col in ("test", "passed", "values"):
            tests.add_column(col, overflow="fold")
        for test in fscore["tests"]:
            tests.add_row(str(test["name"]), str(test["passed"]), _fmt(test.get("values")))
        out.print(tests)


def _fmt(value: Any) -> str:
    value = _clean(value)
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return str(value)


def _clean_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_tree(v) for v in value]
    return _clean(value)


@fundamentals_app.command("screen")
def screen_cmd(
    min_fscore: Annotated[int | None, typer.Option("--min-fscore", help="Piotroski F-Score at least")] = None,
    pe_max: Annotated[float | None, typer.Option("--pe-max", help="P/E at most")] = None,
    pb_max: Annotated[float | None, typer.Option("--pb-max", help="P/B at most")] = None,
    debt_equity_max: Annotated[float | None, typer.Option("--debt-equity-max", help="debt/equity at most")] = None,
    earnings_surprise_min: Annotated[
        float | None, typer.Option("--earnings-surprise-min", help="latest surprise at least (0.05 = 5 %)")
    ] = None,
    min_roe: Annotated[float | None, typer.Option("--min-roe", help="TTM ROE at least (0.15 = 15 %)")] = None,
    min_eps_growth: Annotated[float | None, typer.Option("--min-eps-growth", help="TTM EPS growth at least")] = None,
    pe_percentile_max: Annotated[float | None, typer.Option("--pe-percentile-max", help="sector P/E %ile max")] = None,
    pb_percentile_max: Annotated[float | None, typer.Option("--pb-percentile-max", help="sector P/B %ile max")] = None,
    min_composite: Annotated[float | None, typer.Option("--min-composite", help="composite score at least")] = None,
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Screen every company in the store on point-in-time fundamentals."""
    from quantdesk.analysis.fundamental.universe import ScreenCriteria, fundamental_table, screen

    criteria = ScreenCriteria(min_fscore=min_fscore, pe_max=pe_max, pb_max=pb_max, debt_equity_max=debt_equity_max,
                              earnings_surprise_min=earnings_surprise_min, min_roe=min_roe,
                              min_eps_growth=min_eps_growth, pe_percentile_max=pe_percentile_max,
                              pb_percentile_max=pb_percentile_max, min_composite=min_composite)  # fmt: skip
    catalog = open_catalog()
    as_of_ns = _as_of_ns(at, catalog)
    table = fundamental_table(_store(), catalog, as_of_ns)
    if table.empty:
        raise NotFoundError("no fundamentals in the store; import them with 'quantdesk fundamentals import' or "
                            "'quantdesk data synthetic'")  # fmt: skip
    passed = screen(table, criteria).sort_values("composite_value", ascending=False, na_position="last")
    columns = ["symbol", "sector", "fscore", "pe", "pb", "debt_equity", "roe", "eps_growth", "earnings_surprise",
               "composite_value"]  # fmt: skip
    if as_json:
        rows = [{c: _clean(r[c]) for c in columns} for r in passed.to_dict("records")]
        typer.echo(json.dumps({"as_of": ns_to_iso(as_of_ns), "criteria": criteria.applied(), "universe": len(table),
                               "passed": rows}, indent=1))  # fmt: skip
        return
    view = Table(title=f"{len(passed)} of {len(table)} companies pass, as known at {ns_to_iso(as_of_ns)}")
    for c in columns:
        view.add_column(c, justify="left" if c in ("symbol", "sector") else "right")
    for r in passed.to_dict("records"):
        view.add_row(*[_fmt(r[c]) for c in columns])
    out.print(view)


@fundamentals_app.command("value")
def value(
    symbol: Annotated[str, typer.Argument(help="the company's symbol")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
    years: Annotated[int, typer.Option("--years", help="explicit forecast years")] = 5,
    growth: Annotated[float, typer.Option("--growth", help="FCFF growth per forecast year (0.05 = 5 %)")] = 0.05,
    terminal_growth: Annotated[float, typer.Option("--terminal-growth", help="Gordon growth after them")] = 0.025,
    wacc: Annotated[float | None, typer.Option("--wacc", help="discount rate; default: CAPM from --beta")] = None,
    beta: Annotated[float, typer.Option("--beta", help="equity beta for CAPM")] = 1.0,
    risk_free: Annotated[float, typer.Option("--risk-free", help="risk-free rate for CAPM")] = 0.04,
    equity_risk_premium: Annotated[float, typer.Option("--erp", help="equity risk premium for CAPM")] = 0.05,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """DCF value of SYMBOL from its trailing figures, the WACC x growth sensitivity, and its sector peers."""
    from quantdesk.analysis.fundamental.company_valuation import ValuationAssumptions, value_company
    from quantdesk.analysis.fundamental.universe import histories_as_of, last_closes

    symbol = check_symbol(symbol, where="SYMBOL")
    assumptions = ValuationAssumptions(
        years=years, growth=growth, terminal_growth=terminal_growth, wacc=wacc, beta=beta, risk_free=risk_free,
        equity_risk_premium=equity_risk_premium,
    )  # fmt: skip
    store, catalog = _store(), open_catalog()
    as_of_ns = _as_of_ns(at, catalog)
    instruments = catalog.instruments()
    sector = {i.symbol: i.sector for i in instruments}
    same_sector = [s for s in store.symbols() if sector.get(s) == sector.get(symbol)]
    known = histories_as_of(store, same_sector or [symbol], as_of_ns)
    if symbol not in known:
        raise NotFoundError(f"no fundamentals known for {symbol} at {ns_to_iso(as_of_ns)}")
    prices = last_closes(catalog, list(known), as_of_ns, instruments)
    peers = {s: (h, prices.get(s, math.nan)) for s, h in known.items()}
    report = value_company(known[symbol], price=prices.get(symbol, math.nan), assumptions=assumptions, peers=peers)
    if as_json:
        typer.echo(json.dumps(_clean_tree(report.to_dict()), indent=1, default=str))
        return
    result = report.dcf
    out.print(f"[bold]{symbol}[/bold] DCF as known at {ns_to_iso(as_of_ns)}: {result.value_per_share:,.2f} per share "
              f"against a price of {report.price:,.2f} ({report.upside:+.1%})")  # fmt: skip
    out.print(f"WACC {result.wacc:.2%}, enterprise value {result.enterprise_value:,.0f}, equity value "
              f"{result.equity_value:,.0f}, terminal value {result.terminal_value_share:.0%} of it")  # fmt: skip
    grid = Table(title="value per share: WACC (rows) x terminal growth (columns)")
    grid.add_column("WACC")
    for g in report.sensitivity.columns:
        grid.add_column(f"{g:.1%}", justify="right")
    for w, row in zip(report.sensitivity.index, report.sensitivity.to_numpy(), strict=True):
        grid.add_row(f"{w:.1%}", *["n/a" if math.isnan(v) else f"{v:,.2f}" for v in row])
    out.print(grid)
    if report.peers is not None:
        peers_table = Table(title="against the sector peers")
        for col in ("multiple", "company", "percentile", "peer median", "implied price", "peers"):
            peers_table.add_column(col, justify="right")
        for c in report.peers.comparisons:
            peers_table.add_row(c.label, _fmt(c.target_multiple), _fmt(c.percentile), _fmt(c.peer_median),
                                _fmt(c.implied_value_per_share), str(len(c.peers_used)))  # fmt: skip
        out.print(peers_table)


FAMA_FRENCH_SERIES = ("FF_MKT_RF", "FF_SMB", "FF_HML", "FF_RF")


@fundamentals_app.command("factors")
def factors(
    symbol: Annotated[str, typer.Argument(help="a symbol with daily bars in the store")],
    window: Annotated[int | None, typer.Option("--window", help="rolling window in months")] = None,
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Monthly Fama-French exposure of SYMBOL (market, size, value) by OLS, with t-statistics."""
    from quantdesk.analysis.fundamental.factors import factor_exposure, fama_french_factors
    from quantdesk.domain.timeframe import Timeframe

    symbol = check_symbol(symbol, where="SYMBOL")
    catalog = open_catalog()
    missing = [name for name in FAMA_FRENCH_SERIES if name not in catalog.series_names()]
    if missing:
        raise NotFoundError(f"the Fama-French series {', '.join(missing)} are not in the store; load them with "
                            "'quantdesk data sample'")  # fmt: skip
    as_of_ns = _as_of_ns(at, catalog)
    series = [catalog.read_series(name) for name in FAMA_FRENCH_SERIES]
    # a month's factor returns count once published
    series = [
        dataclasses.replace(s, ts=s.ts[keep], known_ts=s.known_ts[keep], value=s.value[keep])
        for s in series
        if (keep := s.known_ts <= as_of_ns) is not None
    ]
    factor_frame = fama_french_factors(series)
    risk_free = factor_frame.pop("RF")
    bars = catalog.read_bars(symbol, Timeframe.D1, end_ns=as_of_ns)
    known_close = bars.known_ns() <= as_of_ns
    close = pd.Series(bars.close[known_close], index=bars.index[known_close])
    monthly = close.resample("MS").last().pct_change().dropna()  # labelled by the month it covers, as the factors
    result = factor_exposure(monthly, factor_frame, window=window, risk_free=risk_free)
    if as_json:
        typer.echo(json.dumps(_clean_tree(result.to_dict()), indent=1, default=str))
        return
    table = Table(title=f"{symbol}: monthly excess returns on Fama-French factors, {result.start} to {result.end}, "
                        f"n={result.n}, R²={result.r_squared:.3f}")  # fmt: skip
    for col in ("factor", "loading", "std error", "t-stat"):
        table.add_column(col, justify="right")
    table.add_row("alpha (per month)", f"{result.alpha:.5f}", f"{result.alpha_std_error:.5f}",
                  f"{result.alpha_t_stat:.2f}")  # fmt: skip
    for name in result.factors:
        table.add_row(name, f"{result.loadings[name]:.3f}", f"{result.std_errors[name]:.3f}",
                      f"{result.t_stats[name]:.2f}")  # fmt: skip
    out.print(table)
