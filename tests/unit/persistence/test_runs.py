"""Recorded runs (``persistence.runs``): a backtest is written as the plan's strategy config, instance, risk
parameters and trade log, with its orders, fills and risk events, and read back whole, on SQLite and on the real
PostgreSQL server; migration 0004 carries 0003's documents into the typed columns and back; ``quantdesk backtest``
records by default (``--no-record`` writes nothing) and ``quantdesk runs list|show`` reads it, on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from tests.unit.backtest.test_engine import A_CLOSE, A_DAYS, B_CLOSE, B_DAYS, bars, strategy

from quantdesk.analytics.jsonable import frame_records
from quantdesk.backtest.engine import run_backtest
from quantdesk.core.errors import ConfigError, NotFoundError, StoreError
from quantdesk.domain.bars import Bars
from quantdesk.domain.calendar import TradingCalendar
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.timeframe import Timeframe
from quantdesk.persistence import db as db_module
from quantdesk.persistence.db import HEAD_REVISION, open_database
from quantdesk.persistence.runs import RunStore, config_id
from quantdesk.strategy.load import load_strategy

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RunStore:
    url = f"sqlite:///{tmp_path / 'runs.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return RunStore(open_database(url))


def result():
    return run_backtest(strategy(), [bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)], initial_cash=10_000.0)


def minute_result(n: int = 30_000):
    """The sma_cross example on a seeded random walk of one-minute bars of a 24/7 instrument, one unit lots: some
    hundreds of trades, thousands of orders and fills, and zero_size denials once the account is too small."""
    rng = np.random.default_rng(7)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0008, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    ts = pd.date_range("2020-01-01", periods=n, freq="min", tz="UTC").as_unit("ns").asi8
    arrays = {"ts": ts, "open": open_, "high": np.maximum(open_, close) * 1.0004,
              "low": np.minimum(open_, close) * 0.9996, "close": close, "volume": np.full(n, 1_000.0)}  # fmt: skip
    minute_bars = Bars.from_arrays("MINUSD", Timeframe.M1, arrays, TradingCalendar())
    instrument = Instrument(symbol="MINUSD", asset_class="crypto", market="CRYPTO", currency="USD", tick_size=1e-8,
                            lot_size=1.0)  # fmt: skip
    return run_backtest(load_strategy(REPO / "examples/strategies/sma_cross.json"), minute_bars, instrument=instrument,
                        initial_cash=150.0)  # fmt: skip


def test_a_backtest_is_recorded_and_read_back_whole(store: RunStore) -> None:
    r = result()
    instance = store.record(r)
    (summary,) = store.runs()
    assert summary.instance_id == instance and summary.mode == "backtest" and summary.symbols == ("AAA", "BBB")
    assert summary.n_trades == r.metrics.n_trades and summary.final_equity == pytest.approx(r.metrics.final_equity)
    back = store.run(instance[:8])
    assert back["trade_log"] == r.trade_log() and len(back["trade_log"]) == len(r.trades) > 0
    assert json.dumps(back["trade_log"]) == json.dumps(r.trade_log())  # key for key, in the plan's order
    for kind in ("orders", "fills", "risk_events"):
        assert back[kind] == frame_records(getattr(r, kind)), kind
    assert back["strategy_file"] == r.strategy_file and back["config_id"] == config_id(r.strategy_file)
    assert set(back["risk_parameters"]) == {"risk_management", "exit_conditions", "execution_rules"}
    assert back["metrics"]["n_trades"] == r.metrics.n_trades


def test_the_same_strategy_is_one_config_with_two_instances(store: RunStore) -> None:
    first, second = store.record(result()), store.record(result(), mode="paper")
    assert first != second
    runs = store.runs()
    assert [r.instance_id for r in runs] == [second, first] and {r.mode for r in runs} == {"backtest", "paper"}
    assert store.run(first)["config_id"] == store.run(second)["config_id"]


def test_a_minute_run_of_many_trades_reads_back_equal_to_its_result(store: RunStore) -> None:
    r = minute_result()
    assert len(r.trades) > 100 and len(r.risk_events) > 0 and len(r.orders) > 1_000
    back = store.run(store.record(r))
    assert back["trade_log"] == r.trade_log()
    assert {t["context"]["market_regime"] for t in back["trade_log"]} >= {"mean_reverting", "trending_up"}
    for kind in ("orders", "fills", "risk_events"):
        assert back[kind] == frame_records(getattr(r, kind)), kind


def test_a_paper_session_record_round_trips(store: RunStore) -> None:
    r = minute_result(8_000)
    instance = store.record(r, mode="paper")
    (summary,) = store.runs()
    back = store.run(instance)
    assert summary.mode == back["mode"] == "paper" and back["symbols"] == ["MINUSD"] and back["timeframe"] == "1m"
    assert back["trade_log"] == r.trade_log() and back["n_trades"] == r.metrics.n_trades
    assert back["fills"] == frame_records(r.fills)


def _at_0003(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(db_module._MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    return engine


def _write_0003_run(engine: sa.Engine, r, documents: list[dict]) -> str:  # type: ignore[no-untyped-def]
    """A run as 0003's RunStore wrote it: a JSON document per trade, a JSON array per kind of record."""
    canonical = {"sort_keys": True, "separators": (",", ":"), "allow_nan": False}
    instance = "0003aaaa-0000-5000-8000-000000000000"
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO strategy_configs VALUES ('c1', 'old', :doc, 1)"),
                     {"doc": json.dumps(r.strategy_file, **canonical)})  # fmt: skip
        conn.execute(sa.text("INSERT INTO risk_parameters VALUES ('c1', '{}')"))
        conn.execute(sa.text(
            "INSERT INTO strategy_instances (instance_id, config_id, mode, spec_id, symbols, timeframe, start_ns, "
            "end_ns, trade_from_ns, capital, synthetic, created_ns, n_trades, final_equity, total_return, metrics) "
            "VALUES (:i, 'c1', 'backtest', NULL, '[\"MINUSD\"]', '1m', 0, 1, NULL, 2000.0, :f, 5, 3, 1.0, NULL, '{}')"
        ), {"i": instance, "f": False})  # fmt: skip
        for seq, t in enumerate(documents):
            conn.execute(sa.text(
                "INSERT INTO trade_log VALUES (:i, :t, :seq, :sym, :side, :status, :qty, :entry, :exit, :reason, "
                ":r, :pnl, :doc)"
            ), {"i": instance, "t": t["trade_id"], "seq": seq, "sym": t["symbol"], "side": t["side"],
                "status": t["status"], "qty": t["quantity"], "entry": 0, "exit": None,
                "reason": t["exit"]["reason"] or "", "r": None, "pnl": t["pnl"],
                "doc": json.dumps(t, **canonical)})  # fmt: skip
        for kind in ("orders", "fills", "risk_events"):
            text = json.dumps(frame_records(getattr(r, kind)), **canonical)
            conn.execute(
                sa.text("INSERT INTO run_records VALUES (:i, :k, :doc)"), {"i": instance, "k": kind, "doc": text}
            )
    return instance


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_upgrading_0003_runs_fills_the_typed_columns_and_downgrading_writes_the_documents_back(
    empty_url: str,
) -> None:
    r = minute_result(8_000)
    documents = r.trade_log()
    engine = _at_0003(empty_url)
    instance = _write_0003_run(engine, r, documents)
    engine.dispose()
    assert HEAD_REVISION >= "0004"
    store = RunStore(open_database(empty_url))  # upgrades in place
    back = store.run(instance)
    assert back["trade_log"] == documents and len(documents) > 10
    for kind in ("orders", "fills", "risk_events"):
        assert back[kind] == frame_records(getattr(r, kind)), kind
    store.db.dispose()

    engine = sa.create_engine(empty_url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(db_module._MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with engine.begin() as conn:
        texts = conn.execute(sa.text("SELECT document FROM trade_log ORDER BY seq")).scalars().all()
        reasons = conn.execute(sa.text("SELECT exit_reason FROM trade_log ORDER BY seq")).scalars().all()
        fills = conn.execute(sa.text("SELECT document FROM run_records WHERE kind = 'fills'")).scalar_one()
    engine.dispose()
    assert [json.loads(t) for t in texts] == documents
    assert reasons == [t["exit"]["reason"] or "" for t in documents]
    assert json.loads(fills) == frame_records(r.fills)


def test_an_0003_trade_document_the_columns_cannot_hold_stops_the_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    r = minute_result(8_000)
    documents = r.trade_log()
    documents[3] = documents[3] | {"note": "written by hand"}
    engine = _at_0003(url)
    _write_0003_run(engine, r, documents)
    engine.dispose()
    with pytest.raises(StoreError, match=f"trade {documents[3]['trade_id']} of run 0003aaaa.* has fields"):
        open_database(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:  # nothing changed: still 0003, every document in place
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0003"
        assert conn.execute(sa.text("SELECT count(document) FROM trade_log")).scalar() == len(documents)
    engine.dispose()


def test_unknown_ids_and_modes_are_clear_errors(store: RunStore) -> None:
    with pytest.raises(NotFoundError, match="run 0000: no recorded run has this id"):
        store.run("0000")
    with pytest.raises(ConfigError, match="run id: expected an id or its first characters"):
        store.run("x'; drop")
    with pytest.raises(ConfigError, match="mode: expected one of backtest, paper, live, found 'replay'"):
        store.record(result(), mode="replay")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_cli_records_every_backtest_unless_told_not_to_and_lists_and_shows_it(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "QUANTDESK_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("QUANTDESK_DATABASE_URL", None)
    env.pop("QUANTDESK_REDIS_URL", None)
    if database == "postgresql":
        env["QUANTDESK_DATABASE_URL"] = request.getfixturevalue("postgres_url")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "quantdesk.cli", *args], env=env, capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip

    assert cli("runs", "list").stdout.startswith("no recorded run yet")
    assert cli("data", "synthetic", "--symbols", "2", "--days", "300").returncode == 0
    strategy_file = str(REPO / "examples/strategies/ema_cross.json")
    unrecorded = cli("backtest", strategy_file, "--symbols", "SYN001,SYN002", "--no-record")
    assert unrecorded.returncode == 0, unrecorded.stderr
    assert "closed trades" in unrecorded.stdout and "recorded as run" not in unrecorded.stdout
    assert json.loads(cli("runs", "list", "--json").stdout) == []
    ran = cli("backtest", strategy_file, "--symbols", "SYN001,SYN002")  # recorded by default
    assert ran.returncode == 0, ran.stderr
    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert len(listed) == 1 and listed[0]["symbols"] == ["SYN001", "SYN002"] and listed[0]["n_trades"] > 0
    assert f"recorded as run {listed[0]['instance_id']}" in ran.stdout
    assert (home / "quantdesk.db").exists() == (database == "sqlite")  # PostgreSQL: nothing in the home's SQLite
    shown = json.loads(cli("runs", "show", listed[0]["instance_id"][:8], "--json").stdout)
    assert len(shown["trade_log"]) >= listed[0]["n_trades"] and shown["strategy"] == "EMA Cross Trend"
    assert len(shown["fills"]) >= 2 * listed[0]["n_trades"] and set(shown["fills"][0]) >= {"time", "price", "side"}
    table = cli("runs", "show", listed[0]["instance_id"][:8])
    assert table.returncode == 0 and "trade log" in table.stdout
    missing = cli("runs", "show", "ffffffff")
    assert missing.returncode == 2 and "run ffffffff: no recorded run has this id" in missing.stderr
    bad = cli("runs", "show", "zz;")
    assert bad.returncode == 2 and "run id: expected an id or its first characters (hex), found 'zz;'" in bad.stderr
    # a paper session of the same strategy is recorded when it finishes, as mode paper, in the same database
    paper = cli("paper", "run", strategy_file, "--symbols", "SYN001,SYN002", "--no-view")
    assert paper.returncode == 0, paper.stderr
    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert [r["mode"] for r in listed] == ["paper", "backtest"]
    assert f"recorded as run {listed[0]['instance_id']}" in paper.stdout
    session = json.loads(cli("runs", "show", listed[0]["instance_id"][:8], "--json").stdout)
    assert session["mode"] == "paper" and len(session["trade_log"]) >= listed[0]["n_trades"] > 0
    assert {"entry", "exit", "risk_metrics", "context"} <= set(session["trade_log"][0])
