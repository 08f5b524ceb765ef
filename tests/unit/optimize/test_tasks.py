"""The task registry: a message names a registered task or is refused with the names; the backtest task gives the
run's id, trades, final equity and metrics as JSON data, equal to the service's backtest of the same spec; the
per-process cache of prepared runs is bounded and prepares again when a file it read has changed."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError, NotFoundError
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.sample import load_sample
from quantdesk.domain.timeframe import Timeframe
from quantdesk.optimize import tasks
from quantdesk.optimize.tasks import TASKS, PreparedRuns, check_task, run_task
from quantdesk.runtime.service import backtest
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.templates import template_text

TEXT = template_text("ema_cross")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tasks_home")
    load_sample(Catalog(root / "catalog"))
    return root


def spec(home: Path, **fields: object) -> RunSpec:
    base: dict[str, object] = {"strategy_text": TEXT, "symbols": ("SPX",), "data_home": str(home),
                               "start": "2010-01-04"}  # fmt: skip
    return RunSpec(**(base | fields))  # type: ignore[arg-type]


def test_an_unknown_task_is_refused_with_the_registered_names() -> None:
    assert "backtest" in TASKS
    with pytest.raises(ConfigError, match=r"unknown task 'walk_forwards'; expected one of backtest"):
        run_task("walk_forwards", {})
    with pytest.raises(ConfigError, match=r"unknown task 'os\.system'"):
        check_task("os.system")  # a path is a name like any other: not registered, not imported


def test_the_backtest_task_gives_the_service_result_as_json_data(home: Path) -> None:
    s = spec(home, symbols=("SPX", "IXIC"), capital=250_000.0)
    result = run_task("backtest", {"spec": s.to_payload()})
    want = backtest(s).result.metrics
    assert result["spec_id"] == s.spec_id
    assert result["n_trades"] == want.n_trades > 10
    assert result["final_equity"] == want.final_equity
    assert result["metrics"]["sharpe"] == want.sharpe and result["metrics"]["n_trades"] == want.n_trades
    assert set(result["metrics"]) == set(want.as_dict())
    assert json.loads(json.dumps(result, allow_nan=False)) == result  # strict JSON: no NaN, no tuple
    assert all(v is None or math.isfinite(v) for v in result["metrics"].values())


def test_a_bad_backtest_payload_is_a_config_error_naming_what_is_wrong(home: Path) -> None:
    needs = r"task backtest: the payload needs 'spec' \(a RunSpec payload\), found \['sp'\]"
    with pytest.raises(ConfigError, match=needs):
        run_task("backtest", {"sp": {}})
    with pytest.raises(ConfigError, match=r"spec\.capitol: not a RunSpec field"):
        run_task("backtest", {"spec": spec(home).to_payload() | {"capitol": 1.0}})
    with pytest.raises(NotFoundError, match="NOPE"):
        run_task("backtest", {"spec": spec(home, symbols=("NOPE",)).to_payload()})


def test_the_cache_keeps_the_newest_runs_and_prepares_again_when_a_file_changed(home: Path) -> None:
    cache = PreparedRuns(max_entries=2)
    a, b, c = (spec(home, capital=x) for x in (1e5, 2e5, 3e5))
    run_a = cache.get(a)
    assert cache.get(a) is run_a and len(cache) == 1
    cache.get(b)
    cache.get(a)  # a is now the newest
    cache.get(c)  # b, the oldest, goes
    assert len(cache) == 2 and cache.get(a) is run_a
    bars = Catalog(home / "catalog").bars_path("SPX", Timeframe.D1)
    st = bars.stat()
    os.utime(bars, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    again = cache.get(a)
    assert again is not run_a and again.spec == a
    assert cache.get(a) is again
    with pytest.raises(ConfigError, match="max_entries: expected an integer >= 1, found 0"):
        PreparedRuns(0)


def test_the_backtest_task_reuses_the_prepared_run_of_one_spec(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = PreparedRuns()
    monkeypatch.setattr(tasks, "PREPARED_RUNS", cache)
    payload = {"spec": spec(home, capital=123_456.0).to_payload()}
    first = run_task("backtest", payload)
    run = cache.get(RunSpec.from_payload(payload["spec"]))
    assert len(cache) == 1 and run_task("backtest", payload) == first and cache.get(run.spec) is run
