"""Executors: where the tasks of a sweep or a walk-forward run. ``Executor`` is the protocol (``map`` a registered task
over JSON payloads, results in the payloads' order, ``on_done(index, result)`` as each finishes; ``close``, or use it
as a context manager); ``LocalExecutor`` runs them in a local process pool (the default; in this process when
``max_workers`` is 1), ``CeleryExecutor`` on Celery workers (``quantdesk worker``) through RabbitMQ, its results
through Redis; ``open_executor(name, **options)`` opens one by name. Payloads and results cross a JSON round trip
with either, so a result is the same whichever executor ran it. A task that raises raises the same error class from
``map``; the tasks still waiting are cancelled (local) or expire unrun (Celery).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from quantdesk.core.errors import ConfigError, ExecutorUnavailableError
from quantdesk.optimize.tasks import check_task, json_data, run_task

if TYPE_CHECKING:
    from celery import Celery

    from quantdesk.optimize.celery_app import CeleryConfig

OnDone = Callable[[int, dict[str, Any]], None]

DEFAULT_TIMEOUT_S = 3600.0
DEFAULT_POLL_S = 0.05


class Executor(Protocol):
    """Runs a registered task (``optimize.tasks.TASKS``) over payloads."""

    def map(self, task: str, payloads: Sequence[dict[str, Any]],
            on_done: OnDone | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """The results of ``task`` on each payload, in the payloads' order; ``on_done(i, result)`` as each ends."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...  # fmt: skip


class _Closing(ABC):
    """``with executor:`` closes it."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _messages(task: str, payloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads as a worker receives them (a strict JSON round trip), after checking the task's name."""
    check_task(task)
    if isinstance(payloads, str | bytes | dict) or not isinstance(payloads, Sequence):
        raise ConfigError(f"task {task}: expected a sequence of payloads, found {type(payloads).__name__}")
    out = []
    for i, payload in enumerate(payloads):
        message = json_data(payload, f"task {task}, payload {i}")
        if not isinstance(message, dict):
            raise ConfigError(f"task {task}, payload {i}: expected an object, found {type(payload).__name__}")
        out.append(message)
    return out


class LocalExecutor(_Closing):
    """A pool of ``max_workers`` local processes (default: one per CPU), started on first use and kept until
    ``close``; with ``max_workers=1`` the tasks run one after another in this process. The pool starts its processes
    the platform's way (``concurrent.futures``' default): where that is not by fork (macOS, Windows, Python 3.14 on
    Linux) a script that uses it needs the ``if __name__ == "__main__":`` guard."""

    def __init__(self, max_workers: int | None = None) -> None:
        n = (os.cpu_count() or 1) if max_workers is None else max_workers
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"max_workers: expected an integer >= 1, found {max_workers!r}")
        self.max_workers = n
        self._pool: ProcessPoolExecutor | None = None

    def map(self, task: str, payloads: Sequence[dict[str, Any]],
            on_done: OnDone | None = None) -> list[dict[str, Any]]:  # fmt: skip
        messages = _messages(task, payloads)
        results: list[dict[str, Any]] = [{} for _ in messages]
        if self.max_workers == 1 or len(messages) <= 1:
            for i, message in enumerate(messages):
                results[i] = result = run_task(task, message)
                if on_done is not None:
                    on_done(i, result)
            return results
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.max_workers)
        index: dict[Future[dict[str, Any]], int] = {self._pool.submit(run_task, task, m): i
                                                     for i, m in enumerate(messages)}  # fmt: skip
        pending = set(index)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=index.__getitem__):
                    i = index[future]
                    results[i] = result = future.result()  # a task's error is raised here, as its own class
                    if on_done is not None:
                        on_done(i, result)
        finally:
            for future in pending:
                future.cancel()
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __repr__(self) -> str:
        return f"LocalExecutor(max_workers={self.max_workers})"


class CeleryExecutor(_Closing):
    """Tasks sent to Celery workers on ``queue`` through the broker (RabbitMQ), their results read back from the
    result backend (Redis) and deleted there. The URLs default to ``QUANTDESK_CELERY_BROKER_URL`` and
    ``QUANTDESK_CELERY_RESULT_URL`` (``optimize.celery_app``); both servers are checked when the executor opens, so an
    unreachable one is an ``ExecutorUnavailableError`` naming its URL (credentials masked) before anything is sent. A
    ``map`` whose tasks have not all finished within ``timeout_s`` raises the same error; its tasks not yet started
    expire unrun. ``poll_s`` is how often the result backend is asked for the tasks still running."""

    def __init__(self, broker_url: str | None = None, result_url: str | None = None, *, queue: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, connect_timeout_s: float | None = None,
                 poll_s: float = DEFAULT_POLL_S) -> None:  # fmt: skip
        from quantdesk.optimize.celery_app import (
            DEFAULT_CONNECT_TIMEOUT_S,
            DEFAULT_QUEUE,
            CeleryConfig,
            app_of,
            check_reachable,
        )

        for name, value in (("timeout_s", timeout_s), ("poll_s", poll_s)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"{name}: expected seconds > 0, found {value!r}")
        self.config: CeleryConfig = CeleryConfig.from_env(
            broker_url, result_url, queue=queue or DEFAULT_QUEUE,
            connect_timeout_s=DEFAULT_CONNECT_TIMEOUT_S if connect_timeout_s is None else connect_timeout_s,
        )  # fmt: skip
        self.timeout_s = float(timeout_s)
        self.poll_s = float(poll_s)
        check_reachable(self.config)
        self._app: Celery | None = app_of(self.config)

    @property
    def app(self) -> Celery:
        if self._app is None:
            raise ConfigError("this CeleryExecutor is closed")
        return self._app

    def submit(self, task: str, payloads: Sequence[dict[str, Any]]) -> list[str]:
        """Send one message per payload to the queue; the Celery task ids, in the payloads' order (``gather``
        reads their results). The messages expire after ``timeout_s``: a task no worker started by then never runs."""
        from quantdesk.optimize.celery_app import TASK_NAME, unavailable

        messages = _messages(task, payloads)
        ids = [str(uuid.uuid4()) for _ in messages]
        try:
            with self.app.producer_or_acquire() as producer:
                for task_id, message in zip(ids, messages, strict=True):
                    self.app.send_task(TASK_NAME, args=(task, message), task_id=task_id, queue=self.config.queue,
                                       expires=self.timeout_s, producer=producer, retry=True)  # fmt: skip
        except ExecutorUnavailableError:
            raise
        except Exception as exc:  # kombu's OperationalError and the socket errors under it
            raise unavailable("the Celery broker", self.config.broker_url, exc) from None
        return ids

    def gather(self, ids: Sequence[str], on_done: OnDone | None = None) -> list[dict[str, Any]]:
        """The results of the tasks ``ids`` (from ``submit``), in that order, each deleted from the result backend once
        read; ``on_done(i, result)`` as each arrives. A failed task's error is raised as its own class, and the tasks
        not yet finished are revoked."""
        from celery import states

        index = {task_id: i for i, task_id in enumerate(ids)}
        results: list[dict[str, Any]] = [{} for _ in ids]
        pending = set(ids)
        deadline = time.monotonic() + self.timeout_s
        while pending:
            for task_id, meta in self._finished(pending, index):
                pending.discard(task_id)
                if meta["status"] != states.SUCCESS:
                    self._revoke(pending)
                    error = meta["result"]
                    if isinstance(error, BaseException):
                        raise error
                    raise ExecutorUnavailableError(f"task {task_id} ended {meta['status']}: {error!r}")
                i = index[task_id]
                results[i] = meta["result"]
                if on_done is not None:
                    on_done(i, meta["result"])
            if pending:
                if time.monotonic() >= deadline:
                    self._revoke(pending)
                    raise ExecutorUnavailableError(
                        f"{len(pending)} of {len(ids)} tasks on queue {self.config.queue} not finished after "
                        f"{self.timeout_s:g} s: is a worker running on it (quantdesk worker --queue "
                        f"{self.config.queue}) with the broker {self.masked_broker_url}?"
                    )  # fmt: skip
                time.sleep(self.poll_s)
        return results

    def _finished(self, pending: set[str], index: dict[str, int]) -> list[tuple[str, dict[str, Any]]]:
        """The tasks of ``pending`` that have ended (succeeded or failed), with their decoded result records, in the
        payloads' order; each deleted from the backend (one ``MGET`` for all, then one delete each)."""
        import redis
        from celery import states

        from quantdesk.optimize.celery_app import unavailable

        backend = self.app.backend
        ids = sorted(pending, key=index.__getitem__)
        try:
            raw = backend.mget([backend.get_key_for_task(k) for k in ids])
            metas = [(k, backend.decode_result(v)) for k, v in zip(ids, raw, strict=True) if v is not None]
            done = [(k, m) for k, m in metas if m["status"] in states.READY_STATES]
            for k, _ in done:
                backend.forget(k)
        except redis.RedisError as exc:
            raise unavailable("the Celery result backend", self.config.result_url, exc) from None
        return done

    def map(self, task: str, payloads: Sequence[dict[str, Any]],
            on_done: OnDone | None = None) -> list[dict[str, Any]]:  # fmt: skip
        return self.gather(self.submit(task, payloads), on_done)

    def _revoke(self, ids: set[str]) -> None:
        """Tell the workers to skip ``ids`` (best effort: a message expires unrun after ``timeout_s`` anyway)."""
        if not ids:
            return
        with contextlib.suppress(Exception):  # the broker went away: the messages still expire
            self.app.control.revoke(sorted(ids))

    @property
    def masked_broker_url(self) -> str:
        from quantdesk.optimize.celery_app import mask_url

        return mask_url(self.config.broker_url)

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None

    def __repr__(self) -> str:
        return f"CeleryExecutor({self.config!r}, timeout_s={self.timeout_s:g})"


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor, "celery": CeleryExecutor}


def open_executor(name: str, **options: Any) -> Executor:
    """The executor called ``name`` ("local" or "celery") with ``options`` (its constructor's keyword arguments)."""
    factory = EXECUTORS.get(name) if isinstance(name, str) else None
    if factory is None:
        raise ConfigError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")
    accepted = [p.name for p in inspect.signature(factory).parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]  # fmt: skip
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(f"executor {name}: unknown option {unknown[0]!r}; expected one of {', '.join(accepted)}")
    return factory(**options)
