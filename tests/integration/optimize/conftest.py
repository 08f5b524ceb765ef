"""Fixtures for the Celery executor against the real RabbitMQ and Redis: a queue of each test's own (deleted, with
what is left in it, at the end), ``quantdesk worker`` processes started on it (each in a process group of its own,
all killed at the end), and the data homes the tasks read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import quantdesk
from quantdesk.data.catalog import Catalog
from quantdesk.data.sources.sample import load_sample

READY_TIMEOUT_S = 60.0


@dataclass
class CeleryQueue:
    broker_url: str
    result_url: str
    queue: str

    def queue_counts(self) -> tuple[int, int]:
        """(messages ready, consumers) of the queue, as RabbitMQ counts them now."""
        from kombu import Connection

        with Connection(self.broker_url, connect_timeout=5.0) as conn:
            _, messages, consumers = conn.default_channel.queue_declare(queue=self.queue, passive=True)
        return int(messages), int(consumers)


@pytest.fixture
def celery(rabbitmq_url: str, celery_result_url: str) -> Iterator[CeleryQueue]:
    """The servers' URLs and a queue no other test uses; the queue (and anything still in it) is deleted after."""
    from kombu import Connection

    setup = CeleryQueue(rabbitmq_url, celery_result_url, f"qd-test-{uuid.uuid4().hex[:12]}")
    try:
        yield setup
    finally:
        with Connection(rabbitmq_url, connect_timeout=5.0) as conn:
            channel = conn.default_channel
            channel.queue_delete(setup.queue)  # its messages go with it
            channel.exchange_delete(setup.queue)


@dataclass
class Worker:
    """A ``quantdesk worker`` process, the leader of its own process group (its pool children are in it)."""

    process: subprocess.Popen[bytes]
    log: Path
    killed: bool = field(default=False)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if " ready." in self.text():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.text()}")
            time.sleep(0.05)
        pytest.fail(f"the worker was not ready after {timeout_s:g} s:\n{self.text()}")

    def kill(self) -> None:
        """SIGKILL to the whole group: the worker and every pool child, at once, as a crash would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.killed = True


StartWorker = Callable[..., Worker]


def worker_env(celery: CeleryQueue, home: Path | None = None) -> dict[str, str]:
    """The environment of a worker subprocess: this checkout's quantdesk first on the path, the servers' URLs."""
    src = str(Path(quantdesk.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "QUANTDESK_CELERY_BROKER_URL": celery.broker_url,
           "QUANTDESK_CELERY_RESULT_URL": celery.result_url}  # fmt: skip
    env.pop("QUANTDESK_DATABASE_URL", None)
    if home is not None:
        env["QUANTDESK_HOME"] = str(home)
    return env


@pytest.fixture
def start_worker(celery: CeleryQueue, tmp_path: Path) -> Iterator[StartWorker]:
    """``start_worker(concurrency=N)``: a ready ``quantdesk worker`` on the test's queue; all are killed after."""
    started: list[Worker] = []

    def start(concurrency: int = 1) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "quantdesk.cli", "worker", "--concurrency", str(concurrency),
                 "--queue", celery.queue, "--loglevel", "info"],
                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=worker_env(celery, tmp_path),
                start_new_session=True,
            )  # fmt: skip
        worker = Worker(process, log)
        started.append(worker)
        worker.wait_ready()
        return worker

    try:
        yield start
    finally:
        for worker in started:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait(timeout=30)


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data home with the bundled sample (SPX and IXIC daily, 1999-2018)."""
    root = tmp_path_factory.mktemp("celery_sample_home")
    load_sample(Catalog(root / "catalog"))
    return root
