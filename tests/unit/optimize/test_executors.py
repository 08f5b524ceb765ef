"""The local executor gives the same results in this process and in a pool of two, in the payloads' order, calls
``on_done`` once per payload and raises a task's error as its own class; ``open_executor`` knows "local" and
"celery" only; the Celery configuration never shows a password and is set for late acknowledgement. (The Celery
executor against real servers is in tests/integration/optimize.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError, ExecutorUnavailableError, NotFoundError
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.sample import load_sample
from quantdesk.optimize.celery_app import TASK_NAME, CeleryConfig, make_celery_app, mask_url
from quantdesk.optimize.executors import CeleryExecutor, LocalExecutor, open_executor
from quantdesk.optimize.tasks import run_task
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.templates import template_text

TEXT = template_text("ema_cross")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("executors_home")
    load_sample(Catalog(root / "catalog"))
    return root


def payloads(home: Path) -> list[dict]:
    specs = [
        RunSpec(strategy_text=TEXT, symbols=("SPX",), data_home=str(home), capital=100_000.0),
        RunSpec(strategy_text=TEXT, symbols=("IXIC",), data_home=str(home), start="2005-01-03"),
        RunSpec(strategy_text=TEXT, symbols=("SPX", "IXIC"), data_home=str(home), capital=300_000.0,
                trade_from="2001-01-02"),
        RunSpec(strategy_text=TEXT, universe="all", data_home=str(home),
                benchmark="SPX"),
    ]  # fmt: skip
    return [{"spec": s.to_payload()} for s in specs]


def test_one_process_and_a_pool_of_two_give_the_same_results_in_order(home: Path) -> None:
    sent = payloads(home)
    want = [run_task("backtest", p) for p in sent]
    assert len({r["spec_id"] for r in want}) == len(sent) and all(r["n_trades"] > 0 for r in want)
    for workers in (1, 2):
        done: list[tuple[int, str]] = []
        with LocalExecutor(max_workers=workers) as ex:
            got = ex.map("backtest", sent, on_done=lambda i, r, seen=done: seen.append((i, r["spec_id"])))
        assert got == want, workers
        assert sorted(done) == [(i, r["spec_id"]) for i, r in enumerate(want)], workers  # once per payload, its result


def test_a_task_error_is_raised_as_its_own_class_in_process_and_from_the_pool(home: Path) -> None:
    bad = RunSpec(strategy_text=TEXT, symbols=("NOPE",), data_home=str(home))
    sent = [payloads(home)[0], {"spec": bad.to_payload()}]
    for workers in (1, 2):
        with LocalExecutor(max_workers=workers) as ex, pytest.raises(NotFoundError, match="NOPE"):
            ex.map("backtest", sent)


def test_payloads_must_be_json_objects_and_the_task_registered(home: Path) -> None:
    ex = LocalExecutor(max_workers=1)
    with pytest.raises(ConfigError, match="unknown task 'backtests'; expected one of backtest"):
        ex.map("backtests", payloads(home))
    with pytest.raises(ConfigError, match=r"task backtest, payload 1: not JSON data"):
        ex.map("backtest", [{"spec": {}}, {"spec": float("nan")}])
    with pytest.raises(ConfigError, match=r"task backtest, payload 0: not JSON data \(.*Path"):
        ex.map("backtest", [{"spec": home}])
    with pytest.raises(ConfigError, match="task backtest, payload 0: expected an object, found list"):
        ex.map("backtest", [[1, 2]])  # type: ignore[list-item]
    assert ex.map("backtest", []) == []


def test_open_executor_knows_local_and_celery_and_their_options() -> None:
    with pytest.raises(ConfigError, match=r"unknown executor 'dask'; expected one of local, celery"):
        open_executor("dask")
    with pytest.raises(ConfigError, match=r"executor local: unknown option 'workers'; expected one of max_workers"):
        open_executor("local", workers=2)
    with open_executor("local", max_workers=3) as ex:
        assert isinstance(ex, LocalExecutor) and ex.max_workers == 3
    with pytest.raises(ConfigError, match="max_workers: expected an integer >= 1, found 0"):
        LocalExecutor(0)


def test_a_url_is_shown_without_its_user_and_password() -> None:
    assert mask_url("amqp://guest:s3cret@rabbit:5672//") == "amqp://***@rabbit:5672//"
    assert mask_url("redis://:p@ss@cache:6379/1") == "redis://***@cache:6379/1"  # an unescaped @ in the password
    assert mask_url("redis://127.0.0.1:6379/1") == "redis://127.0.0.1:6379/1"
    config = CeleryConfig(broker_url="amqp://admin:s3cret@rabbit//", result_url="redis://:hunter22@cache/1")
    assert "s3cret" not in repr(config) and "hunter22" not in repr(config) and "admin" not in repr(config)
    with pytest.raises(ConfigError, match=r"broker_url \(QUANTDESK_CELERY_BROKER_URL\): expected a amqp:// or") as e:
        CeleryConfig(broker_url="redis://u:s3cret@cache/0", result_url="redis://cache/1")
    assert "s3cret" not in str(e.value) and "redis://***@cache/0" in str(e.value)
    with pytest.raises(ConfigError, match=r"result_url \(QUANTDESK_CELERY_RESULT_URL\): expected a redis:// or"):
        CeleryConfig(broker_url="amqp://rabbit//", result_url="rpc://")
    with pytest.raises(ConfigError, match="queue: expected a name of letters"):
        CeleryConfig(broker_url="amqp://rabbit//", result_url="redis://cache/1", queue="a queue")


def test_the_urls_come_from_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUANTDESK_CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("QUANTDESK_CELERY_RESULT_URL", raising=False)
    config = CeleryConfig.from_env()
    assert (config.broker_url, config.result_url) == ("amqp://guest:guest@127.0.0.1:5672//", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("QUANTDESK_CELERY_BROKER_URL", "amqp://u:p@rabbit:5672/vhost")
    monkeypatch.setenv("QUANTDESK_CELERY_RESULT_URL", "rediss://cache:6380/3")
    config = CeleryConfig.from_env(queue="sweeps")
    assert (config.broker_url, config.result_url, config.queue) == ("amqp://u:p@rabbit:5672/vhost",
                                                                    "rediss://cache:6380/3", "sweeps")  # fmt: skip


def test_the_celery_app_speaks_json_acknowledges_late_and_takes_one_message_at_a_time() -> None:
    app = make_celery_app("amqp://guest:guest@127.0.0.1:1//", "redis://127.0.0.1:1/1")
    conf = app.conf
    assert conf.task_serializer == conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"] and list(conf.result_accept_content) == ["json"]
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1 and conf.result_expires == 24 * 3600
    task = app.tasks[TASK_NAME]
    assert task.acks_late is True and task.reject_on_worker_lost is True
    with pytest.raises(ConfigError, match="unknown task 'nope'"):
        task.run("nope", {})  # the task body is run_task: only registered names


def test_an_unreachable_broker_fails_at_once_without_the_password() -> None:
    began = time.monotonic()
    with pytest.raises(ExecutorUnavailableError) as e:
        CeleryExecutor("amqp://guest:topsecret@127.0.0.1:1//", "redis://127.0.0.1:1/1", connect_timeout_s=2.0)
    assert time.monotonic() - began < 15.0  # a guard against waiting on the broker forever, not a speed claim
    text = str(e.value)
    assert "the Celery broker at amqp://***@127.0.0.1:1// cannot be reached" in text and "refused" in text
    assert "topsecret" not in text and "guest" not in text
    assert e.value.__cause__ is None and e.value.__suppress_context__
