"""Harvest jobs and the runner that runs them: triggers, retries of transient failures, the run log, no double writes.

A ``Job`` is a name, a level, a trigger and an action (``JobRequest -> JobResult``). Triggers: ``DailyTrigger``
(a time of day in the market's time zone, on weekdays), ``RealTimeTrigger`` (each completed bar of a
subscription) and ``EventTrigger`` (each release an event calendar announces: the economic calendar, the
earnings calendar). A request carries the idempotency key: the job's name and the period of data it is for (the
market date of a daily run, the bar's time, the event's id). ``JobRunner.run`` looks the key up in the run log
first: a key that already succeeded is recorded ``skipped`` and the action is not called, so nothing is written
twice. Otherwise it calls the action, retrying a transient failure (``SourceUnavailableError`` and its
``BrokerUnavailableError``: a source or OpenD that did not answer) with exponential backoff, up to ``attempts``
tries; any other exception is not retried. Every run is logged and recorded (``persistence.harvest_log``) with
its status, attempts, times and what it wrote or the error it ended with; a failure is recorded and returned,
never raised, so one failing job does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quantdesk.core.errors import ConfigError, SourceUnavailableError
from quantdesk.harvest.levels import JobResult
from quantdesk.persistence.harvest_log import HarvestLog, HarvestRunRecord

__all__ = [
    "DailyTrigger",
    "EventTrigger",
    "Job",
    "JobRequest",
    "JobRunner",
    "ManualTrigger",
    "RealTimeTrigger",
    "Trigger",
]

log = logging.getLogger("quantdesk.harvest")
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (SourceUnavailableError,)


@dataclass(frozen=True, slots=True)
class DailyTrigger:
    """Weekdays (Monday-Friday) at ``at`` in ``timezone`` (the market's: America/New_York for US)."""

    at: dt.time
    timezone: str
    kind: str = "daily"

    def describe(self) -> str:
        return f"weekdays at {self.at:%H:%M} {self.timezone}"


@dataclass(frozen=True, slots=True)
class RealTimeTrigger:
    """Each completed bar of ``symbol`` at ``timeframe`` that the subscription source pushes."""

    symbol: str
    timeframe: str
    kind: str = "real_time"

    def describe(self) -> str:
        return f"each completed {self.timeframe} bar of {self.symbol}"


@dataclass(frozen=True, slots=True)
class EventTrigger:
    """Each event an event calendar of kind ``calendar`` (``economic``, ``earnings``) releases."""

    calendar: str
    kind: str = "event_driven"

    def describe(self) -> str:
        return f"each release on the {self.calendar} calendar"


@dataclass(frozen=True, slots=True)
class ManualTrigger:
    """Once, when asked: ``quantdesk harvest run``."""

    kind: str = "manual"

    def describe(self) -> str:
        return "when asked (quantdesk harvest run)"


Trigger = DailyTrigger | RealTimeTrigger | EventTrigger | ManualTrigger


@dataclass(frozen=True, slots=True)
class JobRequest:
    """One firing of a job: the period of data it is for (part of the idempotency key), when it fired (UTC ns),
    and what fired it (the bar or the event), if anything."""

    period: str
    fired_ns: int
    payload: Any = None


@dataclass(frozen=True)
class Job:
    name: str
    level: int
    trigger: Trigger
    action: Callable[[JobRequest], JobResult] = field(repr=False)

    def key(self, request: JobRequest) -> str:
        return f"{self.name}@{request.period}"


class JobRunner:
    """Runs jobs with retries and records each run (see the module docstring)."""

    def __init__(
        self,
        log_store: HarvestLog,
        *,
        attempts: int = 3,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if attempts < 1:
            raise ConfigError(f"harvest job attempts: expected at least 1, found {attempts!r}")
        self.log_store = log_store
        self.attempts = attempts
        self.backoff_s = float(backoff_s)
        self._sleep = sleep
        self._now = now_ns

    def run(self, job: Job, request: JobRequest) -> HarvestRunRecord:
        key = job.key(request)
        started = self._now()
        done = self.log_store.succeeded(key)
        if done is not None:
            log.info("harvest %s: skipped, %s already succeeded (run %s)", job.name, key, done.run_id)
            return self.log_store.record(HarvestRunRecord(job.name, job.level, key, job.trigger.kind, "skipped", 0,
                                                          started, self._now(), []))  # fmt: skip
        attempt = 0
        while True:
            attempt += 1
            try:
                result = job.action(request)
            except TRANSIENT_ERRORS as exc:
                if attempt < self.attempts:
                    wait = self.backoff_s * 2 ** (attempt - 1)
                    log.warning("harvest %s: attempt %d of %d failed (%s); retrying in %.1f s", job.name, attempt,
                                self.attempts, exc, wait)  # fmt: skip
                    self._sleep(wait)
                    continue
                return self._failed(job, key, attempt, started, exc)
            except Exception as exc:  # not transient: recorded, not retried, and the scheduler goes on
                return self._failed(job, key, attempt, started, exc)
            written = [w.to_dict() for w in result.written]
            log.info("harvest %s: succeeded for %s in %d attempt(s), %d rows added", job.name, request.period,
                     attempt, result.rows_added)  # fmt: skip
            return self.log_store.record(HarvestRunRecord(job.name, job.level, key, job.trigger.kind, "succeeded",
                                                          attempt, started, self._now(), written,
                                                          list(result.notes)))  # fmt: skip

    def _failed(self, job: Job, key: str, attempts: int, started: int, exc: BaseException) -> HarvestRunRecord:
        message = f"{type(exc).__name__}: {exc}"
        log.error("harvest %s: failed after %d attempt(s): %s", job.name, attempts, message)
        return self.log_store.record(HarvestRunRecord(job.name, job.level, key, job.trigger.kind, "failed", attempts,
                                                      started, self._now(), [], [], message))  # fmt: skip
