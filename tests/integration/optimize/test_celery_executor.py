"""The Celery executor against the real RabbitMQ and Redis with ``quantdesk worker`` processes: the same payloads
give the same results as the local pool, in the payloads' order, each read result deleted from Redis; a task's
error comes back as its own class; a server that cannot be reached is a clear error naming it without its password,
before anything is sent; no worker on the queue is an error after ``timeout_s``, not a wait forever, and the tasks
sent expire in the broker unrun."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from quantdesk.core.errors import ExecutorUnavailableError, NotFoundError
from quantdesk.optimize.executors import CeleryExecutor, LocalExecutor, open_executor
from quantdesk.runtime.spec import RunSpec
from quantdesk.strategy.templates import template_text
from tests.integration.optimize.conftest import CeleryQueue, StartWorker

pytestmark = pytest.mark.services

TEXT = template_text("ema_cross")


def payloads(home: Path) -> list[dict]:
    specs = [
        RunSpec(strategy_text=TEXT, symbols=("SPX",), data_home=str(home), capital=100_000.0),
        RunSpec(strategy_text=TEXT, symbols=("IXIC",), data_home=str(home), start="2005-01-03"),
        RunSpec(strategy_text=TEXT, symbols=("SPX", "IXIC"), data_home=str(home), capital=300_000.0,
                trade_from="2001-01-02"),
        RunSpec(strategy_text=TEXT, universe="all", data_home=str(home), benchmark="SPX", end="2015-12-31"),
        RunSpec(strategy_text=TEXT, symbols=("SPX",), data_home=str(home), capital=5_000.0, start="2012-01-03"),
    ]  # fmt: skip
    return [{"spec": s.to_payload()} for s in specs]


def test_celery_workers_give_the_results_of_the_local_pool(celery: CeleryQueue, start_worker: StartWorker,
                                                           sample_home: Path) -> None:  # fmt: skip
    sent = payloads(sample_home)
    with LocalExecutor(max_workers=1) as local:  # in this process (tests/unit/optimize: a pool of two gives the same)
        want = local.map("backtest", sent)
    assert all(r["n_trades"] > 0 for r in want) and len({r["final_equity"] for r in want}) == len(sent)
    start_worker(concurrency=2)
    done: list[int] = []
    with open_executor("celery", broker_url=celery.broker_url, result_url=celery.result_url, queue=celery.queue,
                       timeout_s=120.0) as ex:  # fmt: skip
        assert isinstance(ex, CeleryExecutor)
        ids = ex.submit("backtest", sent)
        got = ex.gather(ids, on_done=lambda i, r: done.append(i))
        keys = [ex.app.backend.get_key_for_task(i) for i in ids]
        again = ex.map("backtest", sent[::-1])
    assert got == want and again == want[::-1]
    assert sorted(done) == list(range(len(sent)))
    assert redis.Redis.from_url(celery.result_url).exists(*keys) == 0  # each result deleted once read


def test_a_task_error_in_a_worker_is_raised_as_its_own_class(celery: CeleryQueue, start_worker: StartWorker,
                                                             sample_home: Path) -> None:  # fmt: skip
    bad = RunSpec(strategy_text=TEXT, symbols=("NOPE",), data_home=str(sample_home))
    sent = [payloads(sample_home)[0], {"spec": bad.to_payload()}]
    with LocalExecutor(max_workers=1) as local, pytest.raises(NotFoundError) as local_error:
        local.map("backtest", sent)
    start_worker(concurrency=1)
    with (CeleryExecutor(celery.broker_url, celery.result_url, queue=celery.queue, timeout_s=120.0) as ex,
          pytest.raises(NotFoundError) as remote_error):  # fmt: skip
        ex.map("backtest", sent)
    assert str(remote_error.value) == str(local_error.value) and "NOPE" in str(remote_error.value)


def test_an_unreachable_result_backend_is_named_before_anything_is_sent(celery: CeleryQueue) -> None:
    with pytest.raises(ExecutorUnavailableError) as e:
        CeleryExecutor(celery.broker_url, "redis://:hunter22@127.0.0.1:1/1", queue=celery.queue, connect_timeout_s=2.0)
    text = str(e.value)
    assert "the Celery result backend at redis://***@127.0.0.1:1/1 cannot be reached" in text
    assert "hunter22" not in text
    with pytest.raises(ExecutorUnavailableError, match=r"the Celery broker at amqp://\*\*\*@127\.0\.0\.1:1// ") as b:
        CeleryExecutor("amqp://guest:topsecret@127.0.0.1:1//", celery.result_url, connect_timeout_s=2.0)
    assert "topsecret" not in str(b.value)
    wrong = celery.broker_url.replace("//guest:guest@", "//guest:not-the-password@")
    if wrong != celery.broker_url:  # the default local broker: a refused login is named too, its password not
        with pytest.raises(ExecutorUnavailableError, match="ACCESS_REFUSED") as refused:
            CeleryExecutor(wrong, celery.result_url, connect_timeout_s=2.0)
        assert "not-the-password" not in str(refused.value)


def test_no_worker_on_the_queue_is_an_error_after_the_timeout(celery: CeleryQueue, sample_home: Path) -> None:
    expected = rf"2 of 2 tasks on queue {celery.queue} not finished after 1\.5 s: is a worker running on it"
    with (CeleryExecutor(celery.broker_url, celery.result_url, queue=celery.queue, timeout_s=1.5) as ex,
          pytest.raises(ExecutorUnavailableError, match=expected)):  # fmt: skip
        ex.map("backtest", payloads(sample_home)[:2])
    deadline = time.monotonic() + 10.0
    while celery.queue_counts() != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert celery.queue_counts() == (0, 0)  # the messages expired in the broker (their TTL is timeout_s): none runs
