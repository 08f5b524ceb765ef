"""Notifiers: the log, the JSONL file (one fsynced line an alert) and the webhook against a real HTTP receiver on
127.0.0.1 (a delivery that fails first and succeeds on retry, one that times out, one refused), none raising."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from quantdesk.core.errors import ConfigError
from quantdesk.monitoring import (
    Alert,
    AlertRule,
    AlertStatus,
    JsonlNotifier,
    LogNotifier,
    Notifier,
    QueuedNotifier,
    Severity,
    WebhookNotifier,
)

T0 = 1_704_229_200_000_000_000


def _alert(rule: AlertRule = AlertRule.DRAWDOWN, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    return Alert(rule=rule, status=status, severity=Severity.CRITICAL, value=-0.12, threshold=-0.1,
                 message="drawdown -12.00% from the peak, the backtest's worst is -10.00%", ts_ns=T0,
                 session_id="sess-1")  # fmt: skip


class _Receiver(BaseHTTPRequestHandler):
    """``/ok`` answers 200; ``/flaky`` 503 the first time, then 200; ``/slow`` waits 1 s; ``/bad`` answers 400."""

    def do_POST(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        body = self.rfile.read(int(self.headers["content-length"]))
        with server.lock:
            server.requests.append((self.path, body))
            calls = sum(1 for p, _ in server.requests if p == self.path)
        if self.path.startswith("/slow"):
            time.sleep(1.0)
            code = 200
        elif self.path.startswith("/flaky"):
            code = 503 if calls == 1 else 200
        elif self.path.startswith("/bad"):
            code = 400
        else:
            code = 200
        try:
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()
        except OSError:  # the client gave up (the timeout test)
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, bytes]] = []


@pytest.fixture
def receiver() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _url(server: _Server, path: str) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}{path}"


def test_the_webhook_posts_the_alerts_json_and_nothing_else(receiver: _Server) -> None:
    notifier = WebhookNotifier(_url(receiver, "/ok"), timeout_s=2.0)
    assert notifier.notify(_alert()) is True
    ((path, body),) = receiver.requests
    assert path == "/ok"
    assert json.loads(body) == {
        "rule": "drawdown", "status": "firing", "severity": "critical", "value": -0.12, "threshold": -0.1,
        "message": "drawdown -12.00% from the peak, the backtest's worst is -10.00%", "ts_ns": T0,
        "ts_time": "2024-01-02T21:00:00Z", "subject": "", "session_id": "sess-1",
    }  # fmt: skip
    notifier.close()


def test_a_delivery_that_fails_first_succeeds_on_the_retry_after_the_backoff(receiver: _Server) -> None:
    waits: list[float] = []
    notifier = WebhookNotifier(_url(receiver, "/flaky"), timeout_s=2.0, retries=2, backoff_s=0.25, sleep=waits.append)
    assert notifier.notify(_alert()) is True
    assert [p for p, _ in receiver.requests] == ["/flaky", "/flaky"]
    assert receiver.requests[0][1] == receiver.requests[1][1]
    assert waits == [0.25]


def test_a_delivery_that_times_out_returns_false_logs_without_the_url_path_and_never_raises(
    receiver: _Server, caplog: pytest.LogCaptureFixture
) -> None:
    waits: list[float] = []
    notifier = WebhookNotifier(_url(receiver, "/slow/token-s3cr3t?key=k3y"), timeout_s=0.2, retries=1,
                               backoff_s=0.1, sleep=waits.append)  # fmt: skip
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="quantdesk.monitoring"):
        assert notifier.notify(_alert()) is False
    assert time.monotonic() - started < 1.5  # two attempts of 0.2 s, not the receiver's 1 s each
    assert len(receiver.requests) == 2 and waits == [0.1]
    (record,) = [r for r in caplog.records if r.name == "quantdesk.monitoring"]
    text = record.getMessage()
    assert "timed out after 0.2 s (2 attempt(s))" in text and f"127.0.0.1:{receiver.server_address[1]}" in text
    assert "s3cr3t" not in text and "k3y" not in text


def test_a_refusal_is_not_retried_and_nothing_listening_is_not_raised(receiver: _Server) -> None:
    waits: list[float] = []
    assert WebhookNotifier(_url(receiver, "/bad"), retries=3, sleep=waits.append).notify(_alert()) is False
    assert len(receiver.requests) == 1 and waits == []
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = WebhookNotifier(f"http://127.0.0.1:{port}/hook", timeout_s=0.5, retries=2, sleep=waits.append)
    assert closed.notify(_alert()) is False
    assert waits == [0.5, 1.0]


def test_the_webhook_refuses_a_bad_setting_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"WebhookNotifier\.url: expected an http or https URL"):
        WebhookNotifier("ftp://example.com/x")
    with pytest.raises(ConfigError, match=r"WebhookNotifier\.retries: expected an integer from 0 to 10, found 11"):
        WebhookNotifier("https://example.com/x", retries=11)
    with pytest.raises(ConfigError, match=r"WebhookNotifier\.timeout_s"):
        WebhookNotifier("https://example.com/x", timeout_s=0)


def test_the_jsonl_file_holds_one_fsynced_line_per_alert_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import quantdesk.monitoring.notifiers as notifiers

    synced: list[int] = []
    real_fsync = notifiers.os.fsync
    monkeypatch.setattr(notifiers.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    path = tmp_path / "alerts" / "sess-1.jsonl"
    first, second = _alert(), _alert(AlertRule.STALE_FEED, AlertStatus.RESOLVED)
    assert JsonlNotifier(path).notify(first) is True
    assert JsonlNotifier(path).notify(second) is True  # another notifier on the same file appends
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [first.to_dict(), second.to_dict()]
    assert lines[0].startswith('{"message":"drawdown') and len(synced) == 2


def test_an_unwritable_jsonl_file_returns_false_and_never_raises(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    assert JsonlNotifier(tmp_path / "a-file" / "alerts.jsonl").notify(_alert()) is False


def test_the_log_notifier_logs_at_the_alerts_severity(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="quantdesk.alerts"):
        LogNotifier().notify(_alert())
        LogNotifier().notify(_alert(status=AlertStatus.RESOLVED))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.CRITICAL, "alert firing drawdown: drawdown -12.00% from the peak, the backtest's worst is -10.00%"),
        (logging.INFO, "alert resolved drawdown: drawdown -12.00% from the peak, the backtest's worst is -10.00%"),
    ]


def test_the_queued_notifier_returns_at_once_and_delivers_on_its_worker() -> None:
    got: list[Alert] = []
    gate = threading.Event()

    class Slow:
        def notify(self, alert: Alert) -> bool:
            gate.wait(2.0)
            got.append(alert)
            return True

    queued = QueuedNotifier(Slow(), max_queued=1)
    assert isinstance(queued, Notifier)
    assert queued.notify(_alert()) is True
    started = time.monotonic()
    while queued._queue.qsize() and time.monotonic() - started < 2.0:  # the worker takes the first alert, waits
        time.sleep(0.01)
    assert queued.notify(_alert(AlertRule.SLIPPAGE)) is True
    assert queued.notify(_alert(AlertRule.WIN_RATE)) is False  # the queue of one is full: dropped, logged
    assert time.monotonic() - started < 1.0
    gate.set()
    queued.close()
    assert [a.rule for a in got] == [AlertRule.DRAWDOWN, AlertRule.SLIPPAGE]
