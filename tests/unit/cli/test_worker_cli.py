"""``quantdesk worker`` refuses to start on a broker or result backend it cannot reach, naming it without its
password (exit 1, before Celery would retry for minutes), and refuses a bad option (exit 2). A worker that runs
tasks is in tests/integration/optimize."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.cli.runner import run_cli


def test_a_worker_on_an_unreachable_broker_exits_naming_it_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_CELERY_BROKER_URL", "amqp://guest:sesame42@127.0.0.1:1//")
    monkeypatch.setenv("QUANTDESK_CELERY_RESULT_URL", "redis://127.0.0.1:1/1")
    result = run_cli(tmp_path, "worker", "--concurrency", "1", "--queue", "nowhere")
    assert result.returncode == 1, result.stderr
    assert "the Celery broker at amqp://***@127.0.0.1:1// cannot be reached" in result.stderr
    assert "sesame42" not in result.stderr + result.stdout


def test_a_worker_refuses_a_bad_option(tmp_path: Path) -> None:
    loud = run_cli(tmp_path, "worker", "--loglevel", "loud")
    assert loud.returncode == 2 and "--loglevel: expected one of debug, info, warning, error, critical" in loud.stderr
    none = run_cli(tmp_path, "worker", "--concurrency", "0")
    assert none.returncode == 2 and "--concurrency" in none.stderr
    queue = run_cli(tmp_path, "worker", "--queue", "a queue")
    assert queue.returncode == 2 and "queue: expected a name of letters" in queue.stderr
