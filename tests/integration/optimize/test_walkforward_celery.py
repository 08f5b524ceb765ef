"""A walk-forward on Celery workers against the real RabbitMQ and Redis: the same report as the local pool, and a
worker SIGKILLed in the middle of a window loses no window: its task comes back from RabbitMQ to a new worker
and the run completes with the same report."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest

from quantdesk.data.catalog import Catalog
from quantdesk.domain.instrument import AssetClass, Instrument
from quantdesk.optimize.celery_app import TASK_NAME
from quantdesk.optimize.executors import CeleryExecutor, LocalExecutor
from quantdesk.optimize.run import walkforward
from quantdesk.runtime.spec import RunSpec
from tests.integration.optimize.conftest import CeleryQueue, StartWorker
from tests.unit.optimize.conftest import momentum_text, planted_bars

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> RunSpec:
    home = tmp_path_factory.mktemp("walkforward_celery")
    inst = Instrument(symbol="EDGE", asset_class=AssetClass.CRYPTO, market="CRYPTO", currency="USD", synthetic=True)
    Catalog(home / "catalog").write_bars(planted_bars("EDGE", 0.35, seed=1), instrument=inst)
    return RunSpec(momentum_text(sampler="tpe", trials=25), symbols=("EDGE",), data_home=str(home))


@pytest.fixture(scope="module")
def local(spec: RunSpec) -> dict[str, Any]:
    with LocalExecutor(max_workers=2) as pool:
        return walkforward(spec, executor=pool).document


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_a_walk_forward_on_celery_workers_is_the_local_pools(
    celery: CeleryQueue, start_worker: StartWorker, spec: RunSpec, local: dict[str, Any]
) -> None:
    start_worker(concurrency=1)
    start_worker(concurrency=1)
    with CeleryExecutor(celery.broker_url, celery.result_url, queue=celery.queue, timeout_s=300.0) as ex:
        remote = walkforward(spec, executor=ex).document
    assert len(remote["windows"]) == 7
    assert _same(remote["windows"], local["windows"]) and _same(remote["summary"], local["summary"])
    in_process = walkforward(spec).document
    assert _same(in_process["windows"], local["windows"])


def test_a_worker_killed_in_the_middle_of_a_window_loses_no_window(
    celery: CeleryQueue, start_worker: StartWorker, spec: RunSpec, local: dict[str, Any]
) -> None:
    first = start_worker(concurrency=1)
    out: dict[str, Any] = {}
    with CeleryExecutor(celery.broker_url, celery.result_url, queue=celery.queue, timeout_s=300.0) as ex:
        runner = threading.Thread(target=lambda: out.update(doc=walkforward(spec, executor=ex).document))
        runner.start()
        deadline = time.monotonic() + 120.0
        # kill once one window is done and the next one is running
        while first.text().count(" succeeded in ") < 1 or first.text().count(" received") < 2:
            assert time.monotonic() < deadline, first.text()
            assert runner.is_alive(), "the walk-forward ended before the worker was killed"
            time.sleep(0.02)
        first.kill()
        assert runner.is_alive()
        second = start_worker(concurrency=1)
        runner.join(timeout=240.0)
        assert not runner.is_alive()
    assert _same(out["doc"]["windows"], local["windows"]) and _same(out["doc"]["summary"], local["summary"])
    # the window the first worker was running came again to the second
    lost = _ids(first.text(), "received") - _ids(first.text(), "succeeded")
    assert len(lost) == 1, first.text()
    assert lost <= _ids(second.text(), "received"), second.text()


def _ids(log: str, what: str) -> set[str]:
    return set(re.findall(rf"Task {re.escape(TASK_NAME)}\[([0-9a-f-]+)\] {what}", log))
