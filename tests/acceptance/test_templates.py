"""The template library end to end: every template validates and backtests on the data it is written
for (the bundled sample, the synthetic equity market with its fundamentals, the synthetic FX market),
producing trades where its market conditions occur; a template whose data is absent says what it needs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from quantdesk.backtest.engine import run_backtest
from quantdesk.backtest.settings import kernel_params
from quantdesk.core.errors import DataError
from quantdesk.data.catalog import Catalog
from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.data.sources.sample import load_sample
from quantdesk.data.sources.synthetic import SyntheticConfig
from quantdesk.data.sources.synthetic_fundamentals import write_synthetic_companies
from quantdesk.data.sources.synthetic_fx import SyntheticFxConfig, write_synthetic_fx
from quantdesk.domain.timeframe import Timeframe
from quantdesk.kernels.portfolio_layout import REASON_NAMES
from quantdesk.persistence.db import open_database
from quantdesk.strategy.compile import EvidenceSources
from quantdesk.strategy.load import parse_strategy
from quantdesk.strategy.templates import RUN_HINTS, list_templates, load_template

PLAN_ARCHETYPES = {"momentum_breakout", "mean_reversion", "trend_following", "earnings_play", "carry_trade"}


def _write_equities(catalog: Catalog, store: FundamentalStore, config: SyntheticConfig) -> list[str]:
    symbols = write_synthetic_companies(catalog, store, config)
    return symbols


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("templates_home")
    catalog = Catalog(root / "catalog")
    store = FundamentalStore(open_database(f"sqlite:///{root / 'quantdesk.db'}"))
    load_sample(catalog)
    daily = _write_equities(catalog, store, SyntheticConfig(n_symbols=12, days=1000, seed=7, start="2016-01-04"))
    write_synthetic_fx(catalog, SyntheticFxConfig(seed=7, pairs=("AUDUSD", "USDJPY")))
    intraday_root = root / "intraday"
    intraday = Catalog(intraday_root / "catalog")
    intraday_store = FundamentalStore(open_database(f"sqlite:///{intraday_root / 'quantdesk.db'}"))
    five_min = _write_equities(
        intraday, intraday_store,
        SyntheticConfig(n_symbols=12, days=300, timeframe=Timeframe.M5, seed=7, start="2018-01-02"),
    )  # fmt: skip
    load_sample(intraday)  # the macro level of the plan's drill-down
    return {
        "daily": (catalog, store, daily),
        "intraday": (intraday, intraday_store, five_min),
    }


def test_the_library_holds_the_plan_archetypes_and_its_example_each_valid_and_described() -> None:
    templates = {t.key: t for t in list_templates()}
    assert PLAN_ARCHETYPES | {"plan_example"} <= set(templates)
    for key in PLAN_ARCHETYPES | {"plan_example"}:
        t = templates[key]
        assert len(t.description) > 80, key
        assert t.required_data, key
        assert key in RUN_HINTS
    assert templates["carry_trade"].required_data == ("bars", "interest_rate_differentials")
    assert templates["earnings_play"].required_data == ("bars", "earnings_calendar")


def _runs(world: dict, key: str) -> list[tuple[str, int, float | None]]:
    """(symbol, trades, expectancy in R) of ``key`` over the data its run hint names."""
    strategy = load_template(key)
    timeframe, _ = RUN_HINTS[key]
    if key in ("trend_following", "ema_cross"):
        catalog, store, symbols = (*world["daily"][:2], ["SPX", "IXIC"])
    elif key == "carry_trade":
        catalog, store, symbols = (*world["daily"][:2], ["AUDUSD", "USDJPY"])
    elif key == "plan_example":
        catalog, store, symbols = world["intraday"]
    else:
        catalog, store, symbols = world["daily"]
    sources = EvidenceSources(catalog=catalog, fundamentals=store)
    out = []
    for symbol in symbols:
        bars = catalog.read_bars(symbol, timeframe)
        result = run_backtest(strategy, bars, instrument=catalog.find_instrument(symbol), sources=sources)
        assert np.isfinite(result.equity.to_numpy()).all()
        # the run records the resolved file, and that file alone gives the run's every kernel parameter
        recorded = json.loads(result.to_json())["strategy_file"]
        assert recorded == strategy.resolved_document() == result.strategy_file
        again = kernel_params(parse_strategy(json.dumps(recorded)), initial_cash=result.initial_cash)
        np.testing.assert_array_equal(again, result.params)
        out.append((symbol, len(result.trades), result.metrics.expectancy_r))
    return out


@pytest.mark.parametrize("key", sorted(PLAN_ARCHETYPES | {"plan_example"}))
def test_every_template_backtests_and_trades_where_its_conditions_occur(world: dict, key: str) -> None:
    runs = _runs(world, key)
    traded = [symbol for symbol, n, _ in runs if n > 0]
    assert traded, f"{key}: no trades on any of {[s for s, _, _ in runs]}"


@pytest.mark.parametrize("key", [t.key for t in list_templates()])
def test_every_template_shows_the_plans_risk_framework(world: dict, key: str) -> None:
    # a stop (so every trade has an R), risk-based sizing, the plan's sizing rules, limits for many instruments,
    # the realistic fill model, and a description that says what market it expects and how it fails
    strategy = load_template(key)
    risk = strategy.risk_management
    assert strategy.exit_conditions.stop_loss is not None, key
    assert risk.position_sizing.method in ("volatility_target", "kelly_criterion_modified"), key
    assert (risk.position_sizing.fixed_fraction_cap or 1.0) <= 0.5, key
    assert risk.loss_streak is not None and risk.volatility_expansion is not None, key
    assert risk.portfolio_limits is not None and risk.portfolio_limits.daily_loss_limit is not None, key
    assert strategy.execution_rules.mock_trading.fill_model == "realistic", key
    description = strategy.strategy_meta.description
    assert "fail" in description and "xpect" in description, key
    runs = _runs(world, key)
    expectancies = [r for _, n, r in runs if n > 0]
    assert expectancies and all(r is not None and np.isfinite(r) for r in expectancies), (key, runs)


def test_the_fundamental_gate_blocks_companies_that_fail_it(world: dict) -> None:
    """The plan's example trades only where its gate passes: some synthetic companies never pass it."""
    runs = {symbol: n for symbol, n, _ in _runs(world, "plan_example")}
    assert min(runs.values()) == 0 < max(runs.values())


def test_a_template_whose_data_is_absent_says_what_it_needs(world: dict, tmp_path: Path) -> None:
    catalog, store, _ = world["daily"]
    spx = catalog.read_bars("SPX", "1d")
    with pytest.raises(DataError, match="fundamental_gate needs point-in-time fundamentals for SPX"):
        run_backtest(load_template("mean_reversion"), spx, sources=EvidenceSources(catalog=catalog, fundamentals=store))
    bare = Catalog(tmp_path / "catalog")
    load_sample(bare)
    fx = catalog.read_bars("AUDUSD", "1d")
    bare.put_instruments([catalog.get_instrument("AUDUSD")], replace=False)
    with pytest.raises(DataError, match=r"needs the short-rate series RATE_AUD.*quantdesk data synthetic --fx"):
        run_backtest(load_template("carry_trade"), fx, sources=EvidenceSources(catalog=bare))


def test_trades_carry_the_regime_confluence_and_scores_known_at_their_decision(world: dict) -> None:
    catalog, store, _ = world["daily"]
    bars = catalog.read_bars("SYN011", "1d")
    strategy = load_template("mean_reversion")
    result = run_backtest(strategy, bars, sources=EvidenceSources(catalog=catalog, fundamentals=store))
    log = result.trade_log()
    assert log and len(log) == len(result.trades)
    frame = result.trades
    for record, decided in zip(log, frame["decided_time"], strict=True):
        bar = int(np.searchsorted(bars.known_ns(), decided.value))
        assert bars.known_ns()[bar] == decided.value  # decided at a bar's close
        context = record["context"]
        assert context["market_regime"] == result.regime("SYN011").name_at(bar)
        assert context["technical_confluence"] >= strategy.entry_conditions.confluence_threshold - 1e-9
        assert 0.0 <= context["fundamental_score"] <= 1.0
        assert set(record) >= {"trade_id", "strategy_instance_id", "instrument_id", "side", "quantity", "entry",
                               "exit", "risk_metrics", "context"}  # fmt: skip
        assert record["exit"]["reason"] in set(REASON_NAMES) - {"entry"}


def test_a_template_portfolio_shares_one_account_and_its_limits(world: dict) -> None:
    """momentum_breakout over the 12 synthetic companies as one account: positions never exceed the cash
    and the report's JSON carries the trades, fills and risk events."""
    catalog, store, symbols = world["daily"]
    bars = [catalog.read_bars(s, "1d") for s in symbols]
    result = run_backtest(load_template("momentum_breakout"), bars,
                          instruments={s: catalog.get_instrument(s) for s in symbols},
                          sources=EvidenceSources(catalog=catalog, fundamentals=store))  # fmt: skip
    assert result.symbols == symbols and len(result.trades) > 0
    gross = result.positions.abs().sum(axis=1)
    assert (gross <= result.equity * 1.0 + 1e-6).all()  # a cash account: margin rate 1
    assert result.trades["symbol"].nunique() > 1
    doc = json.loads(result.to_json())
    assert len(doc["trade_log"]) == len(result.trades) and len(doc["fills"]) == len(result.fills)
