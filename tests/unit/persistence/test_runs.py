"""Recorded runs (``persistence.runs``): a backtest is written as the plan's strategy config, instance, risk
parameters and trade log, with its orders, fills and risk events, and read back whole, on SQLite and on the real
PostgreSQL server; ``quantdesk backtest --record`` and ``quantdesk runs list|show`` through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.backtest.test_engine import A_CLOSE, A_DAYS, B_CLOSE, B_DAYS, bars, strategy

from quantdesk.backtest.engine import run_backtest
from quantdesk.core.errors import ConfigError, NotFoundError
from quantdesk.persistence.db import open_database
from quantdesk.persistence.runs import RunStore, config_id


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RunStore:
    url = f"sqlite:///{tmp_path / 'runs.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return RunStore(open_database(url))


def result():
    return run_backtest(strategy(), [bars("AAA", A_DAYS, A_CLOSE), bars("BBB", B_DAYS, B_CLOSE)], initial_cash=10_000.0)


def test_a_backtest_is_recorded_and_read_back_whole(store: RunStore) -> None:
    r = result()
    instance = store.record(r)
    (summary,) = store.runs()
    assert summary.instance_id == instance and summary.mode == "backtest" and summary.symbols == ("AAA", "BBB")
    assert summary.n_trades == r.metrics.n_trades and summary.final_equity == pytest.approx(r.metrics.final_equity)
    back = store.run(instance[:8])
    assert back["trade_log"] == json.loads(json.dumps(r.trade_log()))  # the plan's shape, every trade
    assert len(back["fills"]) == len(r.fills) and len(back["orders"]) == len(r.orders)
    assert back["strategy_file"] == r.strategy_file and back["config_id"] == config_id(r.strategy_file)
    assert set(back["risk_parameters"]) == {"risk_management", "exit_conditions", "execution_rules"}
    assert back["metrics"]["n_trades"] == r.metrics.n_trades


def test_the_same_strategy_is_one_config_with_two_instances(store: RunStore) -> None:
    first, second = store.record(result()), store.record(result(), mode="paper")
    assert first != second
    runs = store.runs()
    assert [r.instance_id for r in runs] == [second, first] and {r.mode for r in runs} == {"backtest", "paper"}
    assert store.run(first)["config_id"] == store.run(second)["config_id"]


def test_unknown_ids_and_modes_are_clear_errors(store: RunStore) -> None:
    with pytest.raises(NotFoundError, match="run 0000: no recorded run has this id"):
        store.run("0000")
    with pytest.raises(ConfigError, match="run id: expected an id or its first characters"):
        store.run("x'; drop")
    with pytest.raises(ConfigError, match="mode: expected one of backtest, paper, live, found 'replay'"):
        store.record(result(), mode="replay")


def test_the_cli_records_a_backtest_and_lists_and_shows_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "QUANTDESK_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("QUANTDESK_DATABASE_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "quantdesk.cli", *args], env=env, capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip

    assert cli("runs", "list").stdout.startswith("no recorded run yet")
    assert cli("data", "synthetic", "--symbols", "2", "--days", "300").returncode == 0
    strategy_file = str(Path(__file__).resolve().parents[3] / "examples/strategies/ema_cross.json")
    ran = cli("backtest", strategy_file, "--symbols", "SYN001,SYN002", "--record")
    assert ran.returncode == 0, ran.stderr
    assert "recorded as run" in ran.stdout
    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert len(listed) == 1 and listed[0]["symbols"] == ["SYN001", "SYN002"] and listed[0]["n_trades"] > 0
    shown = json.loads(cli("runs", "show", listed[0]["instance_id"][:8], "--json").stdout)
    assert len(shown["trade_log"]) >= listed[0]["n_trades"] and shown["strategy"] == "EMA Cross Trend"
    table = cli("runs", "show", listed[0]["instance_id"][:8])
    assert table.returncode == 0 and "trade log" in table.stdout
    missing = cli("runs", "show", "ffffffff")
    assert missing.returncode == 2 and "run ffffffff: no recorded run has this id" in missing.stderr
