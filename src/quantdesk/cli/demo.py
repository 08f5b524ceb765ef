"""``quantdesk demo``: the plan's example strategy and every template, each over the data it is written for.

The demo keeps its data apart from the user's store, under ``<data home>/demo``: a daily workspace
(the bundled sample, a seeded synthetic equity market with its fundamentals, synthetic FX pairs with
their short rates) and an intraday one (the same kind of synthetic market on 5-minute bars, for the
plan's example, plus the sample's macro series). Each strategy runs as one account over its whole
universe; one table compares them, and each run writes its HTML report under ``<data home>/reports``.
A second run reuses the generated data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from quantdesk.cli.common import app, out, progress
from quantdesk.core.paths import data_home
from quantdesk.domain.timeframe import Timeframe

DAILY = {"n_symbols": 12, "days": 1000, "seed": 7, "start": "2016-01-04"}
INTRADAY = {"n_symbols": 12, "days": 300, "seed": 7, "start": "2018-01-02"}
FX_PAIRS = ("AUDUSD", "USDJPY")


@dataclass(frozen=True, slots=True)
class Workspace:
    root: Path  # a data home: its catalog and its SQLite fundamentals
    catalog: Any
    store: Any
    synthetic: list[str]


def _workspace(root: Path, config: dict[str, Any], timeframe: Timeframe, *, fx: bool) -> Workspace:
    from quantdesk.data.bar_store import open_catalog
    from quantdesk.data.fundamentals.store import FundamentalStore
    from quantdesk.data.sources.sample import load_sample
    from quantdesk.data.sources.synthetic import SyntheticConfig
    from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
    from quantdesk.data.sources.synthetic_fx import SyntheticFxConfig, write_synthetic_fx
    from quantdesk.persistence.db import open_database

    root.mkdir(parents=True, exist_ok=True)
    catalog = open_catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'quantdesk.db'}"))
    synthetic = SyntheticConfig(timeframe=timeframe, **config)

    def stored() -> list[str]:
        listed = [i for i in catalog.instruments() if i.synthetic and i.symbol not in FX_PAIRS]
        return sorted(i.symbol for i in listed if catalog.has_bars(i.symbol, timeframe))

    symbols = stored()
    if len(symbols) < synthetic.n_symbols:
        load_sample(catalog)
        write_synthetic_companies(catalog, store, synthetic)
        symbols = stored()
        if fx:
            write_synthetic_fx(catalog, SyntheticFxConfig(seed=synthetic.seed, pairs=FX_PAIRS))
    return Workspace(root, catalog, store, symbols)


def _runs() -> list[tuple[str, str, str]]:
    """(template key, workspace, universe label) in the table's order: the plan's example first."""
    from quantdesk.strategy.templates import list_templates

    keys = [t.key for t in list_templates()]
    order = ["plan_example", *sorted(k for k in keys if k != "plan_example")]
    where = {"plan_example": ("intraday", "SYN 5m"), "trend_following": ("daily", "sample"),
             "ema_cross": ("daily", "sample"), "carry_trade": ("daily", "FX")}  # fmt: skip
    return [(k, *where.get(k, ("daily", "SYN 1d"))) for k in order if k in keys]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


@app.command("demo")
def demo() -> None:
    """Run the plan's example strategy and every template over the sample and synthetic data; compare them."""
    from quantdesk.data.sources.sample import SAMPLE_SYMBOLS
    from quantdesk.runtime.service import backtest as run_backtest_spec
    from quantdesk.runtime.spec import RunSpec
    from quantdesk.strategy.templates import RUN_HINTS, template_text

    home = data_home()
    with progress("preparing the demo data (sample, synthetic equities and FX)"):
        spaces = {
            "daily": _workspace(home / "demo" / "daily", DAILY, Timeframe.D1, fx=True),
            "intraday": _workspace(home / "demo" / "intraday", INTRADAY, Timeframe.M5, fx=False),
        }
    runs = _runs()
    table = Table(title="quantdesk demo: one account per strategy, decided at the close, filled at a later bar")
    for name in ("template", "universe", "trades", "return", "CAGR", "Sharpe", "max DD", "win rate", "exp. R",
                 "costs", "bench."):  # fmt: skip
        table.add_column(name, justify="left" if name in ("template", "universe") else "right", no_wrap=True)
    reports = []
    with progress("backtesting", total=len(runs)) as advance:
        for key, space_name, universe in runs:
            space = spaces[space_name]
            advance(0, description=f"backtesting {key} on {universe}")
            symbols = (
                list(SAMPLE_SYMBOLS)
                if universe == "sample"
                else list(FX_PAIRS)
                if universe == "FX"
                else space.synthetic
            )
            spec = RunSpec(strategy_text=template_text(key), symbols=tuple(symbols), timeframe=RUN_HINTS[key][0],
                           data_home=str(space.root), fundamentals_in_home=True,
                           strategy_source=f"template {key}")  # fmt: skip
            result = run_backtest_spec(spec).result
            m, b = result.metrics, result.benchmark_metrics
            table.add_row(key, f"{universe} ({len(symbols)})", str(m.n_trades),
                          _pct(m.total_return), _pct(m.cagr), _num(m.sharpe), _pct(m.max_drawdown), _pct(m.win_rate),
                          _num(m.expectancy_r), f"{m.costs or 0:,.0f}",
                          _pct(b.total_return) if b is not None else "n/a")  # fmt: skip
            reports.append(result.report(home / "reports" / f"demo_{key}.html"))
            advance()
    out.print(table)
    out.print(
        "Costs are commission plus spread, slippage and impact under each strategy's fill model; "
        "benchmark: the universe's equal-weight buy and hold (one instrument: its own). Synthetic data is labelled "
        "synthetic in every report."
    )
    for path in reports:
        out.print(f"HTML report: {escape(str(path))}")
