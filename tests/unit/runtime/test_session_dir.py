"""A paper session's folder (status, control file) and the durable session the service runs in it: a stop command
ends the run early and a rerun resumes it to the uninterrupted end; a halt cancels every resting order and lets no
entry out; a status whose process is gone reads as killed; the pacing keeps rows on their due times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from quantdesk.core.errors import ConfigError, NotFoundError, StoreError
from quantdesk.domain.ids import OrderKind
from quantdesk.domain.order_events import OrderSubmitted
from quantdesk.domain.trading_state import TradingState
from quantdesk.runtime import paper_driver
from quantdesk.runtime.paper import paper_replay
from quantdesk.runtime.paper_driver import check_speed, paper_session_id
from quantdesk.runtime.service import PreparedRun, paper, prepare, session_folder
from quantdesk.runtime.session import PaperSession
from quantdesk.runtime.session_dir import (
    KILLED,
    ActedCommand,
    SessionDir,
    SessionStatus,
    find_session,
    list_sessions,
    running_session,
)
from quantdesk.runtime.spec import RunSpec

STRATEGY = Path(__file__).resolve().parents[3] / "examples" / "strategies" / "ema_cross.json"


@pytest.fixture
def home(paper_home: Path) -> Path:
    return paper_home


def prepared(home: Path, capital: float = 100_000.0) -> PreparedRun:
    spec = RunSpec.from_file(STRATEGY, symbols=("SYN001", "SYN002"), capital=capital, data_home=str(home))
    return prepare(spec)


def status(session_id: str, *, pid: int, state: str = "running", updated: str = "2026-01-01T00:00:00.000Z",
           strategy: str = "EMA Cross Trend") -> SessionStatus:  # fmt: skip
    return SessionStatus(session_id=session_id, pid=pid, state=state, trading_state="ACTIVE", row=10, n=300,
                         last_bar="2024-01-16T21:00:00Z", equity=100_500.0, cash=90_000.0, capital=100_000.0,
                         positions={"SYN001": {"units": 10.0, "average_price": 50.0, "mark": 51.0}}, open_orders=1,
                         fills=2, strategy=strategy, symbols=("SYN001",), timeframe="1d", updated=updated)  # fmt: skip


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return int(proc.stdout)


def test_a_status_is_written_whole_and_read_back_field_for_field(tmp_path: Path) -> None:
    folder = SessionDir("s-1", tmp_path)
    written = status("s-1", pid=os.getpid())
    folder.write_status(written)
    assert folder.read_status() == written
    assert sorted(p.name for p in folder.path.iterdir()) == ["status.json"]  # no temporary file left
    doc = json.loads(folder.status_path.read_text())
    assert doc["positions"] == {"SYN001": {"units": 10.0, "average_price": 50.0, "mark": 51.0}}
    assert doc["symbols"] == ["SYN001"] and doc["state"] == "running"
    folder.status_path.write_text("{not json")
    with pytest.raises(StoreError, match=r"status\.json is not JSON"):
        folder.read_status()


def test_the_commands_journal_reads_back_in_order_without_a_line_torn_by_a_kill(tmp_path: Path) -> None:
    folder = SessionDir("s-j", tmp_path)
    halt = ActedCommand(row=61, command="halt", reason="desk", issued="t0", acted="t1")
    stop = ActedCommand(row=90, command="stop", reason=None, issued="t2", acted="t3")
    folder.journal(halt)
    folder.journal(stop)
    assert folder.journaled() == [halt, stop]
    with folder.commands_path.open("ab") as f:
        f.write(b'{"row": 95, "comm')  # a kill in the middle of the append
    assert folder.journaled() == [halt, stop]
    folder.commands_path.write_bytes(b'{"row": 1}\n' + folder.commands_path.read_bytes())
    with pytest.raises(StoreError, match=r"commands\.jsonl, line 1: not a command"):
        folder.journaled()


def test_fresh_starts_over_a_session_whose_status_is_damaged(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)
    folder.path.mkdir(parents=True)
    folder.status_path.write_text("{torn")
    with pytest.raises(StoreError, match=r"status\.json is not JSON.*--fresh"):
        paper(run)
    assert paper(run, fresh=True).status.state == "finished"


def test_a_running_status_whose_process_is_gone_reads_as_killed(tmp_path: Path, dead_pid: int) -> None:
    SessionDir("s-dead", tmp_path).write_status(status("s-dead", pid=dead_pid))
    ((_, found),) = list_sessions(tmp_path)
    assert found.shown_state == KILLED == "killed (restart with the same command to resume)"
    assert not found.running
    with pytest.raises(NotFoundError, match="no paper session is running"):
        running_session(tmp_path)


def test_the_running_session_is_the_one_with_a_live_pid_and_several_are_named(tmp_path: Path, dead_pid: int) -> None:
    SessionDir("s-dead", tmp_path).write_status(status("s-dead", pid=dead_pid))
    SessionDir("s-done", tmp_path).write_status(status("s-done", pid=os.getpid(), state="finished"))
    SessionDir("s-live", tmp_path).write_status(status("s-live", pid=os.getpid()))
    folder, found = running_session(tmp_path)
    assert folder.session_id == "s-live" and found.shown_state == "running"
    SessionDir("s-live2", tmp_path).write_status(status("s-live2", pid=os.getpid(), strategy="Other"))
    with pytest.raises(ConfigError, match=r"2 paper sessions are running: .*s-live .*s-live2 \(Other"):
        running_session(tmp_path)


def test_a_session_is_found_by_a_unique_prefix_of_its_id(tmp_path: Path) -> None:
    for sid in ("abc-1", "abc-2", "xyz-1"):
        SessionDir(sid, tmp_path).write_status(status(sid, pid=os.getpid(), state="stopped"))
    assert find_session("xy", tmp_path)[0].session_id == "xyz-1"
    with pytest.raises(ConfigError, match="several sessions start with it"):
        find_session("abc", tmp_path)
    with pytest.raises(NotFoundError, match="session q: no paper session has this id"):
        find_session("q", tmp_path)


def test_the_session_id_is_the_same_for_the_same_run_and_differs_with_the_capital(home: Path) -> None:
    run = prepared(home)
    assert paper_session_id(run) == paper_session_id(prepared(home))
    assert paper_session_id(prepared(home, capital=50_000.0)) != paper_session_id(run)
    assert session_folder(run).path == home / "sessions" / paper_session_id(run)


def test_a_session_status_after_a_run_says_what_it_holds(home: Path) -> None:
    run = prepared(home)
    outcome = paper(run, command="quantdesk paper run ema_cross.json --symbols SYN001,SYN002")
    got = json.loads(session_folder(run).status_path.read_text())
    metrics = outcome.result.metrics
    assert got["state"] == "finished" and got["trading_state"] == "ACTIVE"
    assert (got["row"], got["n"]) == (300, 300) and got["pid"] == os.getpid()
    assert got["equity"] == pytest.approx(metrics.final_equity) and got["capital"] == 100_000.0
    assert got["fills"] == len(outcome.result.fills) == 2 * metrics.n_trades
    assert got["open_orders"] == len(outcome.session.manager.open_orders())
    assert got["last_bar"] == outcome.result.equity.index[-1].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert got["symbols"] == ["SYN001", "SYN002"] and got["strategy"] == "EMA Cross Trend"
    assert got["command"].startswith("quantdesk paper run") and got["run_id"] is None
    assert (session_folder(run).path / "events.jsonl").stat().st_size > 0


def test_a_stop_command_ends_the_run_early_and_a_rerun_resumes_to_the_uninterrupted_end(home: Path) -> None:
    run = prepared(home)
    whole = paper_replay(run.strategy, list(run.bars), instruments=run.instruments, sources=run.sources)
    folder = session_folder(run)

    def stop_at_120(_session: PaperSession, t: int) -> None:
        if t == 120:
            folder.send("stop", "lunch")

    stopped = paper(run, on_row=stop_at_120, control_every_s=0.0)
    # the command is seen at the next row's look at the control file, and the run ends after that row
    assert stopped.status.state == "stopped" and stopped.status.row == 122 < stopped.status.n == 300
    assert not stopped.finished and stopped.resumed_from is None
    assert folder.read_status() == stopped.status
    starts: list[int | None] = []
    resumed = paper(run, session_for=lambda _s, row: starts.append(row))
    assert starts == [122] and resumed.resumed_from == 122
    assert resumed.status.state == "finished" and resumed.finished
    assert resumed.result.metrics.final_equity == whole.result.metrics.final_equity
    assert resumed.result.trades.equals(whole.result.trades)
    assert folder.pending_commands() == []  # the command was taken when acted on


def test_a_halt_command_cancels_every_resting_order_and_no_entry_goes_out_after_it(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)

    def halting(seen: dict[str, Any], stop_after: int | None = None) -> Callable[[PaperSession, int], None]:
        def on_row(session: PaperSession, t: int) -> None:
            if "sent" not in seen and t >= 60 and session.manager.open_orders():
                seen["sent"], seen["resting"] = t, len(session.manager.open_orders())
                folder.send("halt", "risk desk")
            elif "sent" in seen and "halted_at" not in seen and session.gate.state is TradingState.HALTED:
                seen["halted_at"], seen["open_after"] = t, list(session.manager.open_orders())
                seen["halt_ns"] = int(session.clock.known_ns[t])
            if stop_after is not None and "halted_at" in seen and t == seen["halted_at"] + stop_after:
                session.request_stop()

        return on_row

    seen: dict[str, Any] = {}
    whole = paper(run, on_row=halting(seen), control_every_s=0.0)
    assert seen["resting"] >= 1 and seen["halted_at"] == seen["sent"] + 1 and seen["open_after"] == []
    assert whole.status.state == "halted" and whole.status.trading_state == "HALTED"
    later = [e for e in whole.session.event_log.events() if isinstance(e, OrderSubmitted) and e.ts_ns > seen["halt_ns"]]
    assert all(e.kind not in (OrderKind.ENTRY, OrderKind.STOP, OrderKind.TARGET) for e in later)
    # halted, then stopped 30 rows later: the rerun pulls the halt again at its row and ends as the halted run did
    again: dict[str, Any] = {}
    stopped = paper(run, fresh=True, on_row=halting(again, stop_after=30), control_every_s=0.0)
    assert stopped.status.row == again["halted_at"] + 31 and stopped.status.state == "halted"
    assert [(c.row, c.command, c.reason) for c in folder.journaled()] == [(again["halted_at"] + 1, "halt", "risk desk")]
    resumed = paper(run)
    assert resumed.resumed_from == stopped.status.row and resumed.status.trading_state == "HALTED"
    assert resumed.status.row == 300 and resumed.result.metrics.final_equity == whole.result.metrics.final_equity
    assert resumed.result.trades.equals(whole.result.trades)


def test_a_stop_and_a_halt_sent_back_to_back_both_reach_the_session_in_order(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)

    def both_at_80(_session: PaperSession, t: int) -> None:
        if t == 80:
            folder.send("stop", "first")
            folder.send("halt", "second")  # must not replace the stop, nor be replaced

    out = paper(run, on_row=both_at_80, control_every_s=0.0)
    assert [(c.command, c.reason) for c in folder.journaled()] == [("stop", "first"), ("halt", "second")]
    assert out.status.trading_state == "HALTED" and out.status.row == 82 and folder.pending_commands() == []


def test_an_unhalt_command_lifts_the_halt_and_a_rerun_re_derives_both(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)

    def halt_then_lift(session: PaperSession, t: int) -> None:
        if t == 80:
            folder.send("halt", "desk")
        if t == 90:
            folder.send("unhalt", "desk again")
        if t == 150:
            session.request_stop()

    # each command is taken at the next row's look: after row 81, after row 91
    stopped = paper(run, on_row=halt_then_lift, control_every_s=0.0)
    assert [(c.row, c.command) for c in folder.journaled()] == [(82, "halt"), (92, "unhalt")]
    assert stopped.status.trading_state == "ACTIVE" and stopped.status.row == 151
    resumed = paper(run)
    assert resumed.status.state == "finished" and resumed.status.trading_state == "ACTIVE"
    # the same halt and lift made in-process at the same points, in one uninterrupted run
    same = paper(run, fresh=True, on_row=lambda s, t: s.halt("desk") if t == 81 else (
        s.resume_trading("desk again") if t == 91 else None))  # fmt: skip
    assert resumed.result.metrics.final_equity == same.result.metrics.final_equity
    assert resumed.result.trades.equals(same.result.trades) and len(same.result.trades) > 0


def test_a_new_process_drops_a_stop_left_for_an_earlier_one_but_takes_a_waiting_halt(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)
    paper(run, on_row=lambda s, t: s.request_stop() if t == 40 else None)
    folder.send("stop", "old")
    folder.send("halt", "sent as the process died")
    out = paper(run, control_every_s=0.0)
    assert out.status.row == 300 and out.status.trading_state == "HALTED"  # ran on (no stop), halted
    assert [(c.row, c.command) for c in folder.journaled()] == [(41, "halt")]  # once it had re-derived rows 0-40
    assert folder.pending_commands() == []


def test_the_control_file_is_looked_at_no_more_often_than_control_every_s(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)

    def stop_at_10(_session: PaperSession, t: int) -> None:
        if t == 10:
            folder.send("stop")

    outcome = paper(run, on_row=stop_at_10, control_every_s=3600.0)  # looked at on row 0 only
    assert outcome.status.state == "finished" and outcome.status.row == 300


def test_fresh_starts_a_stopped_session_over(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)
    paper(run, on_row=lambda s, t: s.request_stop() if t == 50 else None)
    assert folder.read_status().row == 51  # type: ignore[union-attr]
    starts: list[int | None] = []
    outcome = paper(run, fresh=True, session_for=lambda _s, row: starts.append(row))
    assert starts == [None] and outcome.resumed_from is None and outcome.status.row == 300


def test_a_session_running_in_another_process_is_not_run_twice_and_its_lock_goes_with_it(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)
    paper(run, on_row=lambda s, t: s.request_stop() if t == 50 else None)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from quantdesk.runtime.session_dir import SessionDir\n"
         "with SessionDir(sys.argv[1], Path(sys.argv[2])).held():\n    print('held', flush=True)\n    time.sleep(60)\n",
         folder.session_id, str(folder.root)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = rf"paper session {folder.session_id} is already running \(pid {holder.pid}\)"
        with pytest.raises(ConfigError, match=refused):
            paper(run)
        with pytest.raises(ConfigError, match=refused):
            paper(run, fresh=True)  # refused before anything is deleted
        assert folder.events_path.exists() and folder.read_status().row == 51  # type: ignore[union-attr]
    finally:
        holder.kill()  # SIGKILL: the system lets go of the lock
        holder.wait()
    assert paper(run).status.row == 300


class FakeTime:
    """``time.monotonic`` and ``time.sleep`` on a clock that moves only when slept on or advanced."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_speed_keeps_every_row_on_its_due_time_without_drift(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr(paper_driver, "time", fake)
    run = prepared(home)
    ends: list[float] = []

    def slow_rows(_session: PaperSession, t: int) -> None:
        ends.append(fake.now)
        fake.now += 0.003 * (t % 7)  # each row's own work: 0 to 18 ms, less than a row's 25 ms

    paper(run, on_row=slow_rows, speed=40.0)
    # row t's on_row comes once row t + 1 is due: start + (t + 1) / 40 s, whatever the rows before it took
    start = ends[0] - 1 / 40
    assert len(ends) == 300
    assert all(abs(end - (start + (t + 1) / 40)) < 1e-9 for t, end in enumerate(ends[:-1]))


def test_a_bad_speed_is_a_config_error_naming_the_option() -> None:
    assert check_speed(None) == 0.0 and check_speed(0) == 0.0 and check_speed(2.5) == 2.5
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ConfigError, match=r"--speed: expected bars per second >= 0 \(0: full speed\)"):
            check_speed(bad)


def test_a_live_state_without_its_event_log_is_refused_not_resumed(home: Path) -> None:
    run = prepared(home)
    folder = session_folder(run)
    paper(run, on_row=lambda s, t: s.request_stop() if t == 40 else None)
    folder.remove()  # the folder deleted by hand; the live state (as on a shared Redis) is still there
    with pytest.raises(ConfigError, match=rf"paper session {folder.session_id}: its live state holds bars up to .* "
                                          r"but it has no event log at .*; `--fresh` starts it over"):  # fmt: skip
        paper(run)
    assert paper(run, fresh=True).status.row == 300
