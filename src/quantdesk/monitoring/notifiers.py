"""Notifiers: where an ``Alert`` goes. A ``Notifier`` is one call, ``notify(alert)``, that never raises: an alert
is raised inside the trading loop, and a full disk or a dead webhook must not stop trading.

- ``LogNotifier``: Python logging (logger ``quantdesk.alerts``; info, warning and critical by the alert's severity,
  a resolved alert at info).
- ``JsonlNotifier(path)``: one alert a line (``Alert.to_dict``), appended and fsynced before ``notify`` returns, so
  an alert written survives a kill; the folder is made when missing.
- ``WebhookNotifier(url)``: an HTTP POST of the alert's JSON with httpx, a ``timeout_s`` per attempt and up to
  ``retries`` more attempts after a transport error, a timeout, a 429 or a 5xx, waiting ``backoff_s``, then twice
  that, and so on (a 4xx other than 429 is the receiver refusing the payload: not retried). A delivery that fails
  is logged, with the URL's scheme and host only (a webhook URL often carries its token in the path or query), and
  ``notify`` returns False. Each call blocks for at most about ``(retries + 1) * timeout_s`` plus the backoffs;
  ``QueuedNotifier`` moves any notifier onto a worker thread with a bounded queue, so the loop never waits.

Payloads are the alert and nothing else: rule, status, severity, value, threshold, message, time, subject and
session id; no credential, account number or header. Written here rather than taken from a logging handler or an
alerting client because each is a few lines over ``json``, ``os.fsync`` and httpx, and the never-raise contract is
the point.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from quantdesk.core.errors import ConfigError
from quantdesk.monitoring.alerts import Alert, AlertStatus, Severity

__all__ = ["JsonlNotifier", "LogNotifier", "Notifier", "QueuedNotifier", "WebhookNotifier"]

_log = logging.getLogger("quantdesk.monitoring")
_LEVELS = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING, Severity.CRITICAL: logging.CRITICAL}


@runtime_checkable
class Notifier(Protocol):
    def notify(self, alert: Alert) -> bool:
        """Deliver ``alert``; True when delivered. Never raises."""
        ...


def _line(alert: Alert) -> str:
    return json.dumps(alert.to_dict(), sort_keys=True, allow_nan=False, separators=(",", ":"))


class LogNotifier:
    """Alerts as log records of ``logger`` (default ``quantdesk.alerts``)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger("quantdesk.alerts")

    def notify(self, alert: Alert) -> bool:
        try:
            level = logging.INFO if alert.status is AlertStatus.RESOLVED else _LEVELS[alert.severity]
            subject = f" {alert.subject}" if alert.subject else ""
            self.logger.log(level, "alert %s %s%s: %s", alert.status.value, alert.rule.value, subject, alert.message)
            return True
        except Exception:
            return False


class JsonlNotifier:
    """Each alert appended to ``path`` as one JSON line, fsynced."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def notify(self, alert: Alert) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(_line(alert) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            return True
        except (OSError, ValueError) as exc:
            _log.error("alert %s not written to %s: %s", alert.rule.value, self.path, exc)
            return False


def _where(url: str) -> str:
    """The URL without its path, query or user: what may be logged."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


class WebhookNotifier:
    """Each alert POSTed as JSON to ``url`` (see the module docstring). ``headers`` are sent but never logged;
    ``client`` replaces the notifier's own ``httpx.Client`` (tests, proxies); ``sleep`` waits the backoff."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ConfigError(f"WebhookNotifier.url: expected an http or https URL, found {_where(url)!r}")
        if not (timeout_s > 0):
            raise ConfigError(f"WebhookNotifier.timeout_s: expected seconds > 0, found {timeout_s!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise ConfigError(f"WebhookNotifier.retries: expected an integer from 0 to 10, found {retries!r}")
        if not (backoff_s >= 0):
            raise ConfigError(f"WebhookNotifier.backoff_s: expected seconds >= 0, found {backoff_s!r}")
        self.url = url
        self.timeout_s = float(timeout_s)
        self.retries = retries
        self.backoff_s = float(backoff_s)
        self._headers = {"content-type": "application/json", **(headers or {})}
        self._client = client if client is not None else httpx.Client(timeout=self.timeout_s)
        self._sleep = sleep

    def notify(self, alert: Alert) -> bool:
        try:
            body = _line(alert).encode()
        except ValueError as exc:
            _log.error("alert %s not sent to %s: %s", alert.rule.value, _where(self.url), exc)
            return False
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._client.post(self.url, content=body, headers=self._headers, timeout=self.timeout_s)
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout_s:g} s"
                continue
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}"
                continue
            except Exception as exc:  # anything else from the client: logged, never raised into the loop
                problem = f"{type(exc).__name__}"
                break
            if response.status_code < 300:
                return True
            problem = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                break
        _log.error("alert %s not delivered to %s: %s (%d attempt(s))", alert.rule.value, _where(self.url), problem,
                   attempt + 1)  # fmt: skip
        return False

    def close(self) -> None:
        self._client.close()


class QueuedNotifier:
    """``inner`` run on a daemon worker thread: ``notify`` only queues (False when the queue of ``max_queued`` is
    full, the alert logged as dropped). ``close(timeout_s)`` delivers what is queued, then stops the worker."""

    def __init__(self, inner: Notifier, *, max_queued: int = 1000) -> None:
        self.inner = inner
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=max_queued)
        self._worker = threading.Thread(target=self._run, name="quantdesk-alerts", daemon=True)
        self._worker.start()

    def notify(self, alert: Alert) -> bool:
        try:
            self._queue.put_nowait(alert)
            return True
        except queue.Full:
            _log.error("alert %s dropped: the notifier's queue is full", alert.rule.value)
            return False

    def _run(self) -> None:
        while (alert := self._queue.get()) is not None:
            try:
                self.inner.notify(alert)
            except Exception:
                _log.exception("notifier %r failed", self.inner)

    def close(self, timeout_s: float = 10.0) -> None:
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._worker.join(timeout_s)
