"""``quantdesk worker``: a Celery worker that runs the registered tasks (``optimize.tasks``) sent by a
``CeleryExecutor``, on the broker and result backend of ``QUANTDESK_CELERY_BROKER_URL`` and
``QUANTDESK_CELERY_RESULT_URL`` (``optimize.celery_app``), until it is stopped (Ctrl-C or SIGTERM: it finishes the
task it runs; a task of a worker killed outright goes back to the queue)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from quantdesk.cli.common import app

LOGLEVELS = ("debug", "info", "warning", "error", "critical")
CONCURRENCY_HELP = (
    "tasks at once (default: one per CPU); 1 runs them in the worker process (solo pool), more in forked children"
)


@app.command("worker")
def worker(
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", min=1, help=CONCURRENCY_HELP)] = None,
    queue: Annotated[str, typer.Option("--queue", "-Q", help="the queue to take tasks from")] = "quantdesk",
    loglevel: Annotated[str, typer.Option("--loglevel", "-l", help=f"one of {', '.join(LOGLEVELS)}")] = "info",
) -> None:
    """Run a Celery worker for distributed backtests and trials (RabbitMQ broker, Redis results)."""
    from quantdesk.core.errors import ConfigError
    from quantdesk.optimize.celery_app import CeleryConfig, run_worker

    if loglevel.lower() not in LOGLEVELS:
        raise ConfigError(f"--loglevel: expected one of {', '.join(LOGLEVELS)}, found {loglevel!r}")
    config = CeleryConfig.from_env(queue=queue)
    code = run_worker(config, concurrency=concurrency or os.cpu_count() or 1, loglevel=loglevel.lower())
    if code:
        raise typer.Exit(code)
