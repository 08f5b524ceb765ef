"""A worker killed with SIGKILL in the middle of a task loses nothing: the task it was running is still unfinished,
RabbitMQ holds its message again (the message is acknowledged only when a task returns, and a worker holds one at a
time), a new worker runs it, and every task ends with the result the local pool gives. The same when only the pool
child running the task is killed: the worker puts the message back itself and runs it again. The tasks are real
backtests over a synthetic minute-bar market (about a second each), so the kill lands while one is running."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.synthetic import SyntheticConfig, write_synthetic_market
from quantdesk.domain.timeframe import Timeframe
from quantdesk.optimize.celery_app import TASK_NAME
from quantdesk.optimize.executors import CeleryExecutor, LocalExecutor
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.templates import template_text
from tests.integration.optimize.conftest import CeleryQueue, StartWorker

pytestmark = pytest.mark.services

TASKS = 5
STATE_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def minute_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten synthetic stocks' minute bars over 300 sessions (1.2 million bars): a backtest of them takes a moment."""
    root = tmp_path_factory.mktemp("minute_home")
    write_synthetic_market(Catalog(root / "catalog"), SyntheticConfig(n_symbols=10, days=300, timeframe=Timeframe.M1,
                                                                      seed=3))  # fmt: skip
    return root


@pytest.fixture(scope="module")
def sent(minute_home: Path) -> list[dict[str, Any]]:
    text = template_text("ema_cross")
    specs = [RunSpec(strategy_text=text, universe="all", timeframe="1m", data_home=str(minute_home),
                     capital=100_000.0 * (k + 1)) for k in range(TASKS)]  # fmt: skip
    return [{"spec": s.to_payload()} for s in specs]


@pytest.fixture(scope="module")
def want(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The local pool's results (run in this process, which also leaves the compiled kernels cached for workers)."""
    with LocalExecutor(max_workers=1) as local:
        results = local.map("backtest", sent)
    assert len({r["spec_id"] for r in results}) == TASKS and all(r["n_trades"] > 100 for r in results)
    return results


def states(ex: CeleryExecutor, ids: list[str]) -> list[str]:
    return [ex.app.AsyncResult(i).state for i in ids]


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = STATE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {timeout_s:g} s: {what}")
        time.sleep(0.02)


Payloads = list[dict[str, Any]]


def test_a_worker_killed_mid_task_loses_nothing(celery: CeleryQueue, start_worker: StartWorker, sent: Payloads,
                                                want: Payloads) -> None:  # fmt: skip
    first = start_worker(concurrency=1)
    with CeleryExecutor(celery.broker_url, celery.result_url, queue=celery.queue, timeout_s=120.0) as ex:
        ids = ex.submit("backtest", sent)
        # kill while the second task runs: one result stored, one task half done, the rest not yet delivered
        wait_for(lambda: states(ex, ids)[:2] == ["SUCCESS", "STARTED"], "task 0 done and task 1 running")
        first.kill()
        seen = states(ex, ids)
        assert seen[0] == "SUCCESS" and seen[1] == "STARTED"  # task 1 never finished: its worker is gone
        assert seen[2:] == ["PENDING"] * (TASKS - 2)
        # RabbitMQ has task 1's message back (it was never acknowledged), with the ones not yet delivered
        wait_for(lambda: celery.queue_counts() == (TASKS - 1, 0), f"{TASKS - 1} messages ready, no consumer", 15.0)
        second = start_worker(concurrency=1)
        done: list[int] = []
        got = ex.gather(ids, on_done=lambda i, r: done.append(i))
    assert got == want
    assert sorted(done) == list(range(TASKS))
    killed = f"Task {TASK_NAME}[{ids[1]}]"
    wait_for(lambda: f"{killed} succeeded" in second.text(), "the success logged", 10.0)
    assert f"{killed} received" in first.text() and f"{killed} succeeded" not in first.text()
    assert f"{killed} received" in second.text()  # the same message, delivered again to the new worker
    assert celery.queue_counts() == (0, 1)  # nothing left; the one consumer is the new worker


def test_a_pool_child_killed_mid_task_has_its_task_run_again(celery: CeleryQueue, start_worker: StartWorker,
                                                             sent: list[dict[str, Any]],
                                                             want: list[dict[str, Any]]) -> None:  # fmt: skip
    worker = start_worker(concurrency=2)
    with CeleryExecutor(celery.broker_url, celery.result_url, queue=celery.queue, timeout_s=120.0) as ex:
        ids = ex.submit("backtest", sent)
        started: list[tuple[str, int]] = []

        def one_started() -> bool:  # a started task records the process running it
            metas = [(i, ex.app.backend.get_task_meta(i)) for i in ids]
            started[:] = [(i, int(m["result"]["pid"])) for i, m in metas if m["status"] == "STARTED"]
            return bool(started)

        wait_for(one_started, "a task running")
        running, child = started[0]
        assert child != worker.process.pid
        os.kill(child, signal.SIGKILL)
        got = ex.gather(ids)
    assert got == want
    assert worker.process.poll() is None  # the worker lived on, and started a new child
    # the worker logs a task's success just after storing its result
    wait_for(lambda: f"Task {TASK_NAME}[{running}] succeeded" in worker.text(), "the success logged", 10.0)
    log = worker.text()
    assert f"pid:{child} exited with 'signal 9 (SIGKILL)'" in log
    assert log.count(f"Task {TASK_NAME}[{running}] received") == 2  # delivered again after the child died
    assert log.count(f"Task {TASK_NAME}[{running}] succeeded") == 1
