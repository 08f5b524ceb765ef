"""The Celery side of the executors: ``CeleryConfig`` (the broker and result URLs, from the environment by default,
and the queue), ``make_celery_app`` (the app a worker and a ``CeleryExecutor`` share), ``check_reachable`` (the
broker and the result backend answer, or an ``ExecutorUnavailableError`` naming the URL with its credentials
masked) and ``run_worker`` (what ``quantdesk worker`` starts). RabbitMQ is the broker and Redis the result backend.
The app speaks JSON only and has one task, ``quantdesk.run_task``, which calls ``optimize.tasks.run_task`` (so a
message can only name a registered task). It is set up so that a worker killed mid-task loses nothing: a message is
acknowledged only after its task has returned (``acks_late``), a worker takes one message at a time
(``worker_prefetch_multiplier=1``), and a pool child that dies rejects its message back to the queue
(``task_reject_on_worker_lost``); a worker whose connection dies, SIGKILL included, leaves its unacknowledged message
to RabbitMQ, which delivers it again to the next worker. Tasks are pure functions of their payloads, so running one
twice gives the same result.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from typing import Any

from celery import Celery

from quantdesk.core.errors import ConfigError, ExecutorUnavailableError
from quantdesk.optimize.tasks import run_task

BROKER_URL_ENV = "QUANTDESK_CELERY_BROKER_URL"
RESULT_URL_ENV = "QUANTDESK_CELERY_RESULT_URL"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_RESULT_URL = "redis://127.0.0.1:6379/1"  # database 1: the paper sessions' live state uses database 0
DEFAULT_QUEUE = "quantdesk"
TASK_NAME = "quantdesk.run_task"
RESULT_EXPIRES_S = 24 * 3600  # a result is read (and deleted) as soon as it is stored; one nobody read goes in a day
DEFAULT_CONNECT_TIMEOUT_S = 5.0

_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp")
_RESULT_SCHEMES = ("redis", "rediss")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# a publish that cannot reach the broker is retried this often, then reported (never retried forever)
_PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0.0, "interval_step": 0.5, "interval_max": 1.0}


def mask_url(url: str) -> str:
    """``url`` with its user and password, if any, shown as ``***``: ``amqp://***@host:5672//``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    return f"{scheme}{sep}{netloc}{slash}{path}"


def _scrub(text: str, url: str) -> str:
    """``text`` with ``url`` and its credentials replaced by the masked form (for a library's error message)."""
    text = text.replace(url, mask_url(url))
    _, _, rest = url.partition("://")
    netloc = rest.partition("/")[0]
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        for secret in (userinfo, userinfo.partition(":")[2]):
            if len(secret) >= 3:
                text = text.replace(secret, "***")
    return text


def _scheme(url: str) -> str:
    return url.partition("://")[0].lower() if "://" in url else ""


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CeleryConfig:
    """Where the Celery executor and its workers meet: the broker (RabbitMQ), the result backend (Redis) and the
    queue. ``repr`` and every message show the URLs with their credentials masked."""

    broker_url: str
    result_url: str
    queue: str = DEFAULT_QUEUE
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S

    def __post_init__(self) -> None:
        for name, schemes, env in (("broker_url", _BROKER_SCHEMES, BROKER_URL_ENV),
                                   ("result_url", _RESULT_SCHEMES, RESULT_URL_ENV)):  # fmt: skip
            url = getattr(self, name)
            if not isinstance(url, str) or _scheme(url) not in schemes:
                shown = mask_url(url) if isinstance(url, str) else repr(url)
                raise ConfigError(f"{name} ({env}): expected a {' or '.join(f'{s}://' for s in schemes)} URL, "
                                  f"found {shown!r}")  # fmt: skip
        if not isinstance(self.queue, str) or not _QUEUE_NAME.fullmatch(self.queue):
            raise ConfigError(f"queue: expected a name of letters, digits, '.', '_' or '-', found {self.queue!r}")
        t = self.connect_timeout_s
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 600:
            raise ConfigError(f"connect_timeout_s: expected seconds in (0, 600], found {t!r}")

    @classmethod
    def from_env(cls, broker_url: str | None = None, result_url: str | None = None, **fields: Any) -> CeleryConfig:
        """The URLs given, else ``QUANTDESK_CELERY_BROKER_URL`` / ``QUANTDESK_CELERY_RESULT_URL``, else the local
        RabbitMQ (guest) and Redis (database 1)."""
        broker = broker_url or os.environ.get(BROKER_URL_ENV, "").strip() or DEFAULT_BROKER_URL
        result = result_url or os.environ.get(RESULT_URL_ENV, "").strip() or DEFAULT_RESULT_URL
        return cls(broker_url=broker, result_url=result, **fields)

    def __repr__(self) -> str:
        return (f"CeleryConfig(broker_url={mask_url(self.broker_url)!r}, result_url={mask_url(self.result_url)!r}, "
                f"queue={self.queue!r}, connect_timeout_s={self.connect_timeout_s!r})")  # fmt: skip


def make_celery_app(broker_url: str, result_url: str, *,
                    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> Celery:  # fmt: skip
    """The Celery app of the executors and ``quantdesk worker``: JSON only, one task (``quantdesk.run_task``),
    acknowledged late, one message per worker process at a time, results kept ``RESULT_EXPIRES_S``."""
    app = Celery("quantdesk", broker=broker_url, backend=result_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,  # the message is acknowledged when the task has returned, not when it is received
        task_reject_on_worker_lost=True,  # a pool child killed mid-task puts its message back on the queue
        worker_prefetch_multiplier=1,  # a worker process holds one unacknowledged message, the one it runs
        # a worker that lost its broker connection cannot acknowledge what it runs (the broker already gave it back
        # to the queue): it stops those tasks instead of computing them twice
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_track_started=True,  # a running task shows as STARTED in the result backend
        task_acks_on_failure_or_timeout=True,  # a task that raised (bad input) is not delivered again
        result_expires=RESULT_EXPIRES_S,
        task_default_queue=DEFAULT_QUEUE,
        task_publish_retry_policy=_PUBLISH_RETRY,
        broker_connection_timeout=connect_timeout_s,
        broker_connection_retry_on_startup=True,
        redis_socket_connect_timeout=connect_timeout_s,
        redis_socket_timeout=max(30.0, connect_timeout_s),
        enable_utc=True,
        timezone="UTC",
    )

    # shared=False: this app's own task (a shared one would be added to every app made after it, a duplicate there)
    app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, shared=False)(run_named_task)
    return app


def run_named_task(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The body of ``quantdesk.run_task``: the registered task ``name`` on ``payload`` (``optimize.tasks``)."""
    return run_task(name, payload)


def app_of(config: CeleryConfig) -> Celery:
    return make_celery_app(config.broker_url, config.result_url, connect_timeout_s=config.connect_timeout_s)


def check_reachable(config: CeleryConfig) -> None:
    """Connect to the broker and ping the result backend, each within ``connect_timeout_s``; an
    ``ExecutorUnavailableError`` naming the one that did not answer (its URL masked) otherwise."""
    import redis
    from kombu import Connection

    timeout_s = float(config.connect_timeout_s)
    conn = Connection(config.broker_url, connect_timeout=timeout_s)
    try:
        conn.ensure_connection(max_retries=0, timeout=timeout_s)  # one attempt
    except Exception as exc:  # kombu's OperationalError, amqp's AccessRefused, socket errors: one message for all
        raise unavailable("the Celery broker", config.broker_url, exc) from None
    finally:
        conn.release()
    client = redis.Redis.from_url(config.result_url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise unavailable("the Celery result backend", config.result_url, exc) from None
    finally:
        client.close()


def unavailable(what: str, url: str, exc: BaseException) -> ExecutorUnavailableError:
    """The error for a server that did not answer: what it is, its masked URL, the library's reason (scrubbed of
    the URL's credentials) and what to do."""
    reason = _scrub(str(exc) or type(exc).__name__, url)
    return ExecutorUnavailableError(f"{what} at {mask_url(url)} cannot be reached: {reason}; check that the server "
                                    f"runs and the URL ({BROKER_URL_ENV}, {RESULT_URL_ENV}), then retry")  # fmt: skip


def worker_hostname(queue: str) -> str:
    """A node name of its own for each worker process (two workers on one host must not share one)."""
    return f"quantdesk-{queue}-{os.getpid()}@{socket.gethostname()}"


def run_worker(config: CeleryConfig, *, concurrency: int, loglevel: str = "info") -> int:
    """Run a Celery worker on ``config``'s queue until it is stopped; its exit code. ``concurrency`` 1 runs tasks in
    the worker process itself (the solo pool), more in that many forked children (prefork)."""
    check_reachable(config)
    app = app_of(config)
    worker = app.Worker(
        hostname=worker_hostname(config.queue), pool="solo" if concurrency == 1 else "prefork", concurrency=concurrency,
        queues=[config.queue], loglevel=loglevel.upper(), without_gossip=True, without_mingle=True,
    )  # fmt: skip
    worker.start()
    code: int = worker.exitcode or 0
    return code
